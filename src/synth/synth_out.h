/* synth_out.h — private: the per-centre CSV writers of output.c. */
#ifndef HM_SYNTH_OUT_H
#define HM_SYNTH_OUT_H

#include "synth_int.h"

enum { SY_T_PATIENT, SY_T_PROCEDURE, SY_T_EVENT, SY_T_DOSE, SY_T_OUTCOME, SY_T_FOLLOWUP,
       SY_NTABLES };

typedef struct sy_out {
    int   hospital, ncentres;
    int   doses_to_truth;          /* organ doses in truth_organ_dose.csv */
    char  dir[4096];
    FILE *fp[SY_MAX_CENTRES][SY_NTABLES];
    hm_pseudo_filter *filter[SY_MAX_CENTRES][SY_NTABLES];
    long  lines[SY_MAX_CENTRES][SY_NTABLES];
} sy_out;

/* Creates centres.csv, a folder per centre with centre.csv and the table
 * files with their headers.  key is used unless hospital. */
int  sy_out_open(sy_out *o, const sy_params *p, const char *dir, int hospital,
                 int doses_to_truth, const hm_pseudo_key *key, hm_error *err);
/* values in the hospital column order of the table (see output.c). */
int  sy_out_row(sy_out *o, int centre, int table, const char *const *values, hm_error *err);
int  sy_out_close(sy_out *o, hm_error *err);
const char *sy_table_name(int table);

/* events.c: the irradiation events of tier-1 procedure k. */
int sy_write_events(sy_out *out, const sy_params *p, uint64_t seed, const sy_patient *pt, int k,
                    const char *centre, const char *acc, const char *birth, const char *study_uid,
                    long *rows, hm_error *err);

#endif
