/*
 * hm_qol.h — health-related quality of life: questionnaire item responses
 * checked against their instrument's form and scored into scale and summary
 * scores by rules held as data (data/qol/, docs/qol.md): PedsQL 4.0 Generic
 * Core Scales and the PedsQL Multidimensional Fatigue Scale ship; another
 * instrument is a few more rows in those files, no code.
 *
 * Scoring (Varni, http://www.pedsql.org/score.html): each answer is mapped
 * to points (reverse-scored, 0=100 ... 4=0); a scale score is the mean of the
 * answered items' points, not computed when more than half of the scale's
 * items are missing; a summary score is the mean of all the answered items of
 * its scales (not the mean of the scale scores), with the same rule.
 *
 * hm_qol depends on hm_core only (the registry calls hm_qol_check_item when
 * it imports qol_item rows); hm_qol_db (score_db.c) reads qol_item from the
 * registry and writes qol_score.
 */
#ifndef HM_QOL_H
#define HM_QOL_H

#include "hm_core.h"

#include <stddef.h>
#include <stdio.h>

/* ------------------------------------------------------------------ */
/* Scoring rules (the CSV files of data/qol).                         */

typedef struct hm_qol_defs hm_qol_defs;

/* dir NULL: data/qol found with hm_data_path.  Every file is checked (a
 * form's responses all have points, summaries name scales of the same
 * instrument, ids unique...): a bad file is HM_EPARSE naming file:line:field. */
int  hm_qol_defs_load(const char *dir, hm_qol_defs **defs, hm_error *err);
void hm_qol_defs_free(hm_qol_defs *defs);
/* The default rules, loaded once per process (thread-safe) and kept. */
int  hm_qol_defs_shared(const hm_qol_defs **defs, hm_error *err);

/* ------------------------------------------------------------------ */
/* Checking one item response (import and --items).                   */

/* Completed years at the assessment: from the two ISO dates when both are
 * valid (calendar age), else from age_days (days since birth, >= 0) as
 * floor(days / 365.25); -1 when neither is known. */
int hm_qol_age_years(const char *birth_date, const char *assessment_date, long age_days);

/* Receives each problem found: the field it concerns and the message
 * (what was found, what was expected, what to do). */
typedef void (*hm_qol_issue_fn)(void *arg, const char *field, const char *msg);

/* One item response against the rules: the instrument and form exist and
 * belong together, the item is on the form, the respondent may answer the
 * form, the response (NULL = missing, always allowed) is one the form
 * offers, and age_years (-1 = unknown, not checked) is in the form's range.
 * Returns the number of problems (each also given to fn, which may be NULL). */
int hm_qol_check_item(const hm_qol_defs *d, const char *instrument, const char *form,
                      const char *respondent, const char *item_id, const char *response,
                      int age_years, hm_qol_issue_fn fn, void *arg);

/* ------------------------------------------------------------------ */
/* Scoring one assessment.                                             */

/* One stored or read item response (strings owned by the caller). */
typedef struct hm_qol_item {
    const char *centre, *assessment_id, *item_id, *pseudonym, *instrument, *form;
    const char *respondent;        /* NULL: the form's respondent */
    const char *assessment_date;   /* NULL when unknown */
    long        assessment_day;    /* days since birth, -1 when unknown */
    int         response;          /* -1 = missing */
    long        line;              /* where it was read (messages), 0 if none */
} hm_qol_item;

#define HM_QOL_ID_MAX 48

/* One scale or summary score of an assessment. */
typedef struct hm_qol_score {
    char   scale[HM_QOL_ID_MAX];
    int    summary;                /* 1: pools the items of several scales */
    int    n_items, n_answered;    /* on this form */
    int    computed;               /* 0: too many items missing, score is NAN */
    double score;                  /* 0-100 points */
} hm_qol_score;

/* Scores items[0..n): the responses of ONE assessment to ONE instrument
 * (same centre, assessment_id, instrument).  They must agree on form,
 * respondent, pseudonym, date and day, and name each item once; each item
 * must pass hm_qol_check_item (age not checked here).  Writes one score per
 * scale and summary of the instrument that has items on the form, in
 * scales.csv order, into out[0..cap) and their number to *nout.  Problems
 * are HM_EVALIDATE naming the item's line and field. */
int hm_qol_score_assessment(const hm_qol_defs *d, const hm_qol_item *items, size_t n,
                            hm_qol_score *out, size_t cap, size_t *nout, hm_error *err);
/* Most scales and summaries one instrument may have. */
#define HM_QOL_MAX_SCALES 32

/* ------------------------------------------------------------------ */
/* Item responses from a CSV file (harmonic qol score --items).       */

/* The columns of the qol_item import file: assessment_id, item_id,
 * instrument, form and response are required; centre_code, pseudonym,
 * respondent, assessment_date and assessment_day optional (age is checked
 * when assessment_day is given).  Responses "" or NA are missing. */
typedef struct hm_qol_itemset hm_qol_itemset;

/* Reads and checks every row (every problem to fn as "file:line:field:
 * message"-ready parts; *n_errors counts them).  Returns HM_OK with *set
 * (even when rows had problems: check *n_errors), or an I/O or parse error
 * of the file itself. */
typedef void (*hm_qol_line_issue_fn)(void *arg, long line, const char *field, const char *msg);
int  hm_qol_read_items(const hm_qol_defs *d, const char *path, const hm_csv_dialect *dialect,
                       hm_qol_line_issue_fn fn, void *arg, long *n_errors,
                       hm_qol_itemset **set, hm_error *err);
void hm_qol_itemset_free(hm_qol_itemset *set);
size_t hm_qol_itemset_size(const hm_qol_itemset *set);

/* Called once per scored assessment and instrument, in (centre,
 * assessment_id, instrument) byte order; first is one of its items (ids and
 * context).  Returns 0 to go on. */
typedef int (*hm_qol_scored_fn)(void *arg, const hm_qol_item *first,
                                const hm_qol_score *scores, size_t nscores);
/* Groups the set by assessment and instrument and scores each group. */
int  hm_qol_itemset_score(const hm_qol_defs *d, hm_qol_itemset *set, hm_qol_scored_fn fn,
                          void *arg, hm_error *err);

/* ------------------------------------------------------------------ */
/* The registry (hm_qol_db, score_db.c).                              */

typedef struct hm_db hm_db;

typedef struct hm_qol_db_result {
    long assessments;      /* (assessment, instrument) groups scored */
    long items;            /* qol_item rows read */
    long scores_written;   /* qol_score rows upserted */
    long scores_missing;   /* scales not computed (their old rows deleted) */
} hm_qol_db_result;

/* Scores every assessment in qol_item (centre NULL: every centre) and
 * upserts the scores into qol_score (instrument, respondent, dates as the
 * items give them); a scale not computed has its qol_score row removed.
 * One transaction: any problem leaves qol_score unchanged. */
int hm_qol_score_db(hm_db *db, const char *centre, hm_qol_db_result *res, hm_error *err);

#endif
