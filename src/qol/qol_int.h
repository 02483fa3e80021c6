/*
 * qol_int.h — private to src/qol: the scoring rules as loaded from data/qol.
 */
#ifndef HM_QOL_INT_H
#define HM_QOL_INT_H

#include "hm_qol.h"

#include <stdint.h>

/* Responses are small integers (PedsQL: 0-4); a form's allowed set and a
 * transform's defined responses are bit masks over 0..HM__QOL_MAX_RESP-1. */
#define HM__QOL_MAX_RESP 64

typedef struct qol_instrument {
    char  id[HM_QOL_ID_MAX];
    char  version[32];
    char *source;
} qol_instrument;

typedef struct qol_transform {
    char     id[HM_QOL_ID_MAX];
    uint64_t defined;
    double   points[HM__QOL_MAX_RESP];
} qol_transform;

typedef struct qol_scale {
    char   id[HM_QOL_ID_MAX];
    int    instrument;
    int    summary;
    int    members[HM_QOL_MAX_SCALES];   /* summaries: indices of their scales */
    int    nmembers;
    double max_missing_fraction;
} qol_scale;

typedef struct qol_form_item {
    char id[HM_QOL_ID_MAX];
    int  scale, transform;
} qol_form_item;

typedef struct qol_form {
    char           id[HM_QOL_ID_MAX];
    int            instrument;
    char           respondents[64];     /* ';'-separated */
    int            age_min_years, age_max_years;
    char           response_scale[32];
    char           responses_text[96];  /* as written, for messages */
    uint64_t       allowed;
    qol_form_item *items;
    size_t         nitems, cap;
} qol_form;

struct hm_qol_defs {
    qol_instrument *ins;
    size_t          nins;
    qol_form       *forms;
    size_t          nforms;
    qol_scale      *scales;
    size_t          nscales;
    qol_transform  *tr;
    size_t          ntr;
};

int  hm__qol_find_instrument(const hm_qol_defs *d, const char *id);
int  hm__qol_find_form(const hm_qol_defs *d, const char *id);
/* Index of item id on form f, or -1. */
int  hm__qol_form_item(const qol_form *f, const char *id);
/* Parses a response "0".."63"; returns it or -1. */
int  hm__qol_parse_response(const char *s);

/* items_csv.c: frees the strings of one item (the item itself is not freed). */
void hm_qol__item_free(hm_qol_item *it);

#endif
