/*
 * routes_overview.c — GET /api/v1/pooled/overview: the pooled cohort at a
 * glance for analysts and admins (the web pages' charts).
 *
 *   centres[]  per centre: patients, patients with follow-up, person-years
 *   dose       per organ, a histogram of the best-estimate organ dose of each
 *              procedure (organ_dose, source_type procedure, realization 0)
 *   followup   a histogram of each patient's follow-up in years
 *
 * Follow-up runs from the patient's first procedure (cardiac catheterization)
 * to the end of follow-up (followup.end_*), both as days since birth: the
 * *_day columns where given, else the date minus birth_date.  A patient with
 * no procedure, no follow-up row, dates without a birth date, or an end before
 * the first procedure has no person-years.  A year is 365.25 days, as in
 * src/epi (EPI_DAYS_PER_YEAR).
 */
#include "srv_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The organs charted: those a cardiac catheterization irradiates most and
 * whose cancers the cohort studies (data/organs.csv ids). */
static const char *const ORGANS[] = { "red_marrow", "heart", "lung", "breast", "thyroid" };
/* (load_doses names the same organs in its WHERE, so the other rows stay in the database.) */
#define NORGANS (sizeof ORGANS / sizeof *ORGANS)
/* Bin i counts EDGES[i] <= dose < EDGES[i+1]; the last bin dose >= its edge. */
static const double DOSE_EDGES_MGY[] = { 0, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500,
                                         1000 };
#define NDOSE (sizeof DOSE_EDGES_MGY / sizeof *DOSE_EDGES_MGY)
#define FU_BIN_YEARS 1.0
#define NFU 26                         /* 0-1, 1-2, ... 24-25, >= 25 years */
#define DAYS_PER_YEAR 365.25

/* Days since 1970-01-01 of a YYYY-MM-DD date (H. Hinnant, "chrono-Compatible
 * Low-Level Date Algorithms", days_from_civil); 0 when s is not a date. */
static int civil_days(const char *s, double *day)
{
    int y, m, d, n = 0;
    if (!s || strlen(s) < 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        m < 1 || m > 12 || d < 1 || d > 31)
        return 0;
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *day = (double)(era * 146097 + doe - 719468);
    return 1;
}

/* Days since birth from a *_day column or a date and the birth date. */
static int since_birth(hm_stmt *st, int day_col, int date_col, int birth_col, double *out)
{
    if (!hm_stmt_column_isnull(st, day_col)) {
        *out = hm_stmt_column_double(st, day_col);
        return 1;
    }
    double d, b;
    if (civil_days(hm_stmt_column_text(st, date_col), &d) &&
        civil_days(hm_stmt_column_text(st, birth_col), &b)) {
        *out = d - b;
        return 1;
    }
    return 0;
}

typedef struct centre_row {
    char   code[64];
    long   patients, followed;
    double person_years;
} centre_row;

static int load_centres(hm_db *db, centre_row **out, size_t *n, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT c.centre_code, (SELECT COUNT(*) FROM patient p WHERE "
                               "p.centre_code = c.centre_code) FROM centre c ORDER BY "
                               "c.centre_code", &st, err);
    if (rc)
        return rc;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            centre_row *p = realloc(*out, cap * sizeof *p);
            if (!p) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            *out = p;
        }
        centre_row *c = &(*out)[(*n)++];
        memset(c, 0, sizeof *c);
        snprintf(c->code, sizeof c->code, "%s", hm_stmt_column_text(st, 0));
        c->patients = (long)hm_stmt_column_int64(st, 1);
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

/* Person-years per centre and the follow-up histogram. */
static int load_followup(hm_db *db, centre_row *cs, size_t nc, long fu_bins[NFU], hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db,
        "SELECT p.centre_code, p.birth_date, f.end_day, f.end_date, MIN(r.proc_day), "
        "MIN(r.proc_date) FROM patient p "
        "JOIN followup f ON f.centre_code = p.centre_code AND f.pseudonym = p.pseudonym "
        "JOIN procedure r ON r.centre_code = p.centre_code AND r.pseudonym = p.pseudonym "
        "GROUP BY p.centre_code, p.pseudonym, p.birth_date, f.end_day, f.end_date", &st, err);
    if (rc)
        return rc;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        double end, first = INFINITY, d, b;
        if (!since_birth(st, 2, 3, 1, &end))
            continue;
        /* The earliest procedure, by day or by date (a centre may send either). */
        if (!hm_stmt_column_isnull(st, 4))
            first = hm_stmt_column_double(st, 4);
        if (civil_days(hm_stmt_column_text(st, 5), &d) &&
            civil_days(hm_stmt_column_text(st, 1), &b) && d - b < first)
            first = d - b;
        if (!isfinite(first) || end < first)
            continue;
        double years = (end - first) / DAYS_PER_YEAR;
        const char *code = hm_stmt_column_text(st, 0);
        for (size_t i = 0; i < nc; i++)
            if (!strcmp(cs[i].code, code)) {
                cs[i].followed++;
                cs[i].person_years += years;
            }
        int bin = (int)floor(years / FU_BIN_YEARS);
        fu_bins[bin >= NFU ? NFU - 1 : bin]++;
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

static int load_doses(hm_db *db, long bins[NORGANS][NDOSE], hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, "SELECT organ, dose_mgy FROM organ_dose WHERE realization = 0 "
                               "AND source_type = 'procedure' AND organ IN ('red_marrow', "
                               "'heart', 'lung', 'breast', 'thyroid')", &st, err);
    if (rc)
        return rc;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        const char *organ = hm_stmt_column_text(st, 0);
        double d = hm_stmt_column_double(st, 1);
        for (size_t o = 0; o < NORGANS; o++) {
            if (strcmp(organ, ORGANS[o]))
                continue;
            size_t b = 0;
            while (b + 1 < NDOSE && d >= DOSE_EDGES_MGY[b + 1])
                b++;
            bins[o][b]++;
        }
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

void srv_route_overview(hm_db *db, const srv_request *q, srv_reply *r)
{
    (void)q;
    centre_row *cs = NULL;
    size_t nc = 0;
    long fu[NFU] = { 0 }, dose[NORGANS][NDOSE];
    memset(dose, 0, sizeof dose);
    hm_error err;
    int rc = load_centres(db, &cs, &nc, &err);
    if (rc == HM_OK)
        rc = load_followup(db, cs, nc, fu, &err);
    if (rc == HM_OK)
        rc = load_doses(db, dose, &err);
    if (rc) {
        free(cs);
        srv_reply_error(r, 500, "overview failed: %s", err.msg);
        return;
    }
    json_t *o = json_object(), *jc = json_array();
    long tp = 0, tf = 0;
    double tpy = 0;
    for (size_t i = 0; i < nc; i++) {
        json_array_append_new(jc, json_pack("{s:s, s:I, s:I, s:f}", "centre_code", cs[i].code,
                                            "patients", (json_int_t)cs[i].patients,
                                            "patients_followed", (json_int_t)cs[i].followed,
                                            "person_years", cs[i].person_years));
        tp += cs[i].patients;
        tf += cs[i].followed;
        tpy += cs[i].person_years;
    }
    free(cs);
    json_object_set_new(o, "centres", jc);
    json_object_set_new(o, "totals", json_pack("{s:I, s:I, s:f}", "patients", (json_int_t)tp,
                                               "patients_followed", (json_int_t)tf,
                                               "person_years", tpy));
    json_t *edges = json_array(), *organs = json_object();
    for (size_t b = 0; b < NDOSE; b++)
        json_array_append_new(edges, json_real(DOSE_EDGES_MGY[b]));
    for (size_t k = 0; k < NORGANS; k++) {
        json_t *a = json_array();
        for (size_t b = 0; b < NDOSE; b++)
            json_array_append_new(a, json_integer(dose[k][b]));
        json_object_set_new(organs, ORGANS[k], a);
    }
    json_object_set_new(o, "dose", json_pack("{s:s, s:o, s:o}", "what",
                                             "best-estimate organ dose per procedure (mGy)",
                                             "edges_mgy", edges, "counts", organs));
    json_t *fe = json_array(), *fc = json_array();
    for (int b = 0; b < NFU; b++) {
        json_array_append_new(fe, json_real(b * FU_BIN_YEARS));
        json_array_append_new(fc, json_integer(fu[b]));
    }
    json_object_set_new(o, "followup", json_pack("{s:s, s:o, s:o}", "what",
                                                 "years from first procedure to end of "
                                                 "follow-up, per patient",
                                                 "edges_years", fe, "counts", fc));
    r->status = 200;
    r->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
}
