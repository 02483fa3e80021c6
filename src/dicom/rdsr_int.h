/*
 * rdsr_int.h — private to src/dicom: the loaded concept and unit tables and
 * the one unit converter.
 */
#ifndef RDSR_INT_H
#define RDSR_INT_H

#include "hm_dicom.h"
#include "hm_rdsr.h"

enum rdsr_context { RC_REPORT, RC_ACCUM, RC_EVENT, RC_FILTER, RC_REJECT, RC_NONE };
enum rdsr_kind { RK_NUM, RK_CODE, RK_TEXT, RK_UID, RK_DATETIME, RK_REJECT_CT,
                 RK_REJECT_MAMMO };
enum rdsr_target { RT_REPORT, RT_ACCUM, RT_EVENT, RT_FILTER };

typedef struct rdsr_unit {
    char   code[24];
    char   dimension[16];
    double to_base;
    int    ucum;
    char   note[96];
} rdsr_unit;

typedef struct rdsr_concept {
    int    context;            /* enum rdsr_context */
    char   code[24];
    char   scheme[12];
    int    kind;               /* enum rdsr_kind */
    char   field[48];
    int    unit;               /* index into units, -1 for non-numeric */
    int    std_unit;           /* index into units, -1 for non-numeric */
    /* where the value goes */
    int    target;             /* enum rdsr_target */
    size_t offset;
    size_t size;               /* string buffer size; 0 for a double */
} rdsr_concept;

struct hm_rdsr_ctx {
    rdsr_unit    *units;
    size_t        nunits;
    rdsr_concept *concepts;
    size_t        nconcepts;
};

const rdsr_concept *rdsr_find_concept(const hm_rdsr_ctx *ctx, int context,
                                      const hm_dcm_code *code);
const rdsr_unit *rdsr_find_unit(const hm_rdsr_ctx *ctx, const char *code, int *exact);

/* Adds (or counts again) a note on the report; fails only when out of memory. */
int rdsr_note(hm_rdsr_report *rep, int kind, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Converts a NUM item to the concept's unit.  Returns 0 with *out set, or
 * -1 when the value cannot be used (empty, unknown or wrong unit); every
 * conversion, repair and refusal is recorded as a note. */
int rdsr_convert(const hm_rdsr_ctx *ctx, const rdsr_concept *c, const hm_dcm_item *it,
                 hm_rdsr_report *rep, double *out);

#endif
