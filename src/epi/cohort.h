/* cohort.h — the in-memory individual records (private to src/epi). */
#ifndef HM_EPI_COHORT_H
#define HM_EPI_COHORT_H

#include "hm_epi.h"

typedef struct epi_person {
    char   id[128];          /* "centre:pseudonym" from the registry */
    int    sex, country, syndrome;
    double birth_day, end_day, transplant_day;  /* since 1970-01-01; transplant NaN if none */
    size_t proc0, nproc;             /* procedures proc0 .. proc0+nproc-1, by day */
    size_t event0, nevent;           /* events, by day */
    size_t treat0, ntreat;           /* treatments (chemotherapy, SCT), by day */
} epi_person;

typedef struct epi_dose { size_t person; double day; int real; double dose; } epi_dose;
typedef struct epi_event { size_t person; double day; char morph[16], topo[16]; } epi_event;
/* A treatment counted from `day` on (-INFINITY: day not known, counted from
 * the start of follow-up): CED and DIE in mg/m2, sct 1 for a stem-cell
 * transplant. */
typedef struct epi_treat { size_t person; double day, ced, die; int sct; } epi_treat;

struct hm_epi_cohort {
    epi_person *p;
    size_t np, capp;
    long  *hash;
    size_t hcap;
    epi_dose *doses;
    size_t nd, capd;
    epi_event *events;
    size_t ne, cape;
    epi_treat *treats;
    size_t nt, capt;
    /* After hm_epi_cohort_finish: procedures. */
    int     nreal;
    double *proc_day, *proc_mean, *proc_dose;  /* proc_dose[q * nreal + r] */
    char  **sex_levels, **country_levels;
    int     nsex, ncountry;
    int     finished;
};

/* Follow-up of one person: start = first exposure + exclusion, exit = the
 * earliest of end of follow-up, first outcome in any of the groups, end of
 * study; mask = groups of that outcome when it ends follow-up. */
typedef struct epi_fu { double first_day, start_day, exit_day; int is_case; unsigned mask; } epi_fu;
enum { EPI_FU_OK = 0, EPI_FU_UNEXPOSED = 1, EPI_FU_PREVALENT = 2, EPI_FU_NONE = 3 };
int epi_followup(const hm_epi_cohort *c, const hm_epi_outcomes *oc, const int *groups, int ng,
                 size_t person, double exclusion_years, double study_end_day, epi_fu *fu, hm_error *err);

long epi_cohort_find(const hm_epi_cohort *c, const char *id);

#define EPI_DAYS_PER_YEAR 365.25

#endif
