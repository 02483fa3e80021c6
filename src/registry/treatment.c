/*
 * treatment.c — the per-patient summary exposures of the treatment tables
 * (docs/registry.md "Treatment tables"):
 *
 *   cyclophosphamide-equivalent dose  CED = sum_agents ced_factor x dose (mg/m2)
 *     (Green et al., Pediatr Blood Cancer 61:53-67, 2014: the CED formula over
 *     ten alkylating agents);
 *   doxorubicin isotoxic equivalent   DIE = sum_agents die_factor x dose (mg/m2)
 *     (COG Long-Term Follow-Up Guidelines v6.0, 2023, from Feijen et al., JAMA
 *     Oncol 5:864-871, 2019).
 *
 * The factors are the columns of data/rt/chemo_agents.csv; an agent with an
 * empty factor enters neither sum.  Counted here, not stored: a corrected
 * factor applies to every patient at the next read.
 */
#include "registry_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct chemo_agent {
    char  *agent;
    double ced, die;         /* per mg/m2 of the agent; NAN: none */
} chemo_agent;

struct hm_chemo_factors {
    chemo_agent *a;
    size_t       n;
};

void hm_chemo_factors_free(hm_chemo_factors *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->a[i].agent);
    free(f->a);
    free(f);
}

/* An empty cell is no factor; anything else must be a number >= 0. */
static int factor(const char *s, double *v, const char *path, long line, const char *what,
                  hm_error *err)
{
    if (!s[0]) {
        *v = NAN;
        return HM_OK;
    }
    if (hm__parse_real(s, v) || *v < 0)
        return hm_error_set(err, HM_EPARSE, path, line, what,
                            "'%s' is not a factor (a number >= 0, or empty for none)", s);
    return HM_OK;
}

int hm_chemo_factors_load(const char *path_in, hm_chemo_factors **out, hm_error *err)
{
    *out = NULL;
    char path[1024];
    hm_csv *csv;
    int rc;
    if (path_in) {
        snprintf(path, sizeof path, "%s", path_in);
        csv = hm_csv_open(path, 1, err);
        rc = csv ? HM_OK : HM_EIO;
    } else {
        rc = hm_data_csv_open("rt/chemo_agents.csv", path, sizeof path, &csv, err);
    }
    if (rc)
        return rc;
    hm_chemo_factors *f = calloc(1, sizeof *f);
    if (!f) {
        hm_csv_close(csv);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    char **c;
    size_t nc, cap = 0;
    int ca = -1, cc = -1, cd = -1, first = 1;
    while ((rc = hm_csv_next(csv, &c, &nc, err)) == 1) {
        long line = hm_csv_line(csv);
        rc = HM_OK;
        if (first) {
            first = 0;
            for (size_t i = 0; i < nc; i++) {
                if (!strcmp(c[i], "agent")) ca = (int)i;
                if (!strcmp(c[i], "ced_factor")) cc = (int)i;
                if (!strcmp(c[i], "die_factor")) cd = (int)i;
            }
            if (ca != 0 || cc < 0 || cd < 0) {
                rc = hm_error_set(err, HM_EPARSE, path, line, "agent",
                                  "expected a header agent,...,ced_factor,die_factor,...");
                break;
            }
            continue;
        }
        if ((size_t)cc >= nc || (size_t)cd >= nc) {
            rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "row has %zu fields", nc);
            break;
        }
        for (size_t i = 0; i < f->n; i++)
            if (!strcmp(f->a[i].agent, c[ca]))
                rc = hm_error_set(err, HM_EPARSE, path, line, "agent", "agent '%s' listed twice",
                                  c[ca]);
        if (rc)
            break;
        if (f->n == cap) {
            cap = cap ? 2 * cap : 64;
            chemo_agent *v = realloc(f->a, cap * sizeof *v);
            if (!v) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            f->a = v;
        }
        chemo_agent *a = &f->a[f->n];
        if ((rc = factor(c[cc], &a->ced, path, line, "ced_factor", err)) ||
            (rc = factor(c[cd], &a->die, path, line, "die_factor", err)))
            break;
        if (!(a->agent = strdup(c[ca]))) {
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
            break;
        }
        f->n++;
    }
    hm_csv_close(csv);
    if (rc < 0) {
        hm_chemo_factors_free(f);
        return rc;
    }
    *out = f;
    return HM_OK;
}

int hm_chemo_factors_get(const hm_chemo_factors *f, const char *agent, double *ced_per_mg_m2,
                         double *die_per_mg_m2)
{
    *ced_per_mg_m2 = *die_per_mg_m2 = NAN;
    for (size_t i = 0; agent && i < f->n; i++)
        if (!strcmp(f->a[i].agent, agent)) {
            *ced_per_mg_m2 = f->a[i].ced;
            *die_per_mg_m2 = f->a[i].die;
            return 1;
        }
    return 0;
}

int hm_chemo_row_exposure(const hm_chemo_factors *f, const char *agent, double dose_mg_m2,
                          double *ced_mg_m2, double *die_mg_m2, hm_error *err)
{
    double ced, die;
    *ced_mg_m2 = *die_mg_m2 = 0;
    if (!hm_chemo_factors_get(f, agent, &ced, &die))
        return hm_error_set(err, HM_EVALIDATE, "data/rt/chemo_agents.csv", 0, "agent",
                            "agent '%s' is not in the factors file (was it edited after the import?)",
                            agent ? agent : "");
    if (!isfinite(dose_mg_m2) || dose_mg_m2 < 0)
        return hm_error_set(err, HM_EVALIDATE, "chemotherapy", 0, "cumulative_dose_mg_m2",
                            "%g is not a dose in mg/m2", dose_mg_m2);
    if (isfinite(ced))
        *ced_mg_m2 = ced * dose_mg_m2;
    if (isfinite(die))
        *die_mg_m2 = die * dose_mg_m2;
    return HM_OK;
}

/* ---------------------------------------------------------------- */

/* One treatment row reduced to what the summary needs. */
typedef struct trow {
    char  *centre, *pseudonym;
    int    kind;                 /* 0 chemotherapy, 1 stem-cell transplant, 2 surgery */
    double ced, die;
} trow;

static int cmp_trow(const void *a, const void *b)
{
    const trow *x = a, *y = b;
    int c = strcmp(x->centre, y->centre);
    return c ? c : strcmp(x->pseudonym, y->pseudonym);
}

static int collect(hm_db *db, const char *sql, const char *centre, int kind,
                   const hm_chemo_factors *f, trow **rows, size_t *n, size_t *cap, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(db, sql, &st, err);
    if (rc)
        return rc;
    if (centre)
        hm_stmt_bind_text(st, 1, centre);
    long line = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        line++;
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 256;
            trow *v = realloc(*rows, *cap * sizeof *v);
            if (!v) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            *rows = v;
        }
        trow *r = &(*rows)[*n];
        memset(r, 0, sizeof *r);
        r->kind = kind;
        if (kind == 0 && (rc = hm_chemo_row_exposure(f, hm_stmt_column_text(st, 2),
                                                     hm_stmt_column_double(st, 3), &r->ced,
                                                     &r->die, err)) < 0) {
            if (err) {                    /* the row of the query, for the message */
                snprintf(err->file, sizeof err->file, "chemotherapy");
                err->line = line;
            }
            break;
        }
        r->centre = strdup(hm_stmt_column_text(st, 0));
        r->pseudonym = strdup(hm_stmt_column_text(st, 1));
        (*n)++;
        if (!r->centre || !r->pseudonym) {
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
            break;
        }
    }
    hm_stmt_finalize(st);
    return rc < 0 ? rc : HM_OK;
}

int hm_registry_treatment_exposures(hm_db *db, const char *centre, const hm_chemo_factors *f,
                                    hm_treatment_exposure **out, size_t *nout, hm_error *err)
{
    *out = NULL;
    *nout = 0;
    static const char *sql[3][2] = {
        { "SELECT centre_code, pseudonym, agent, cumulative_dose_mg_m2 FROM chemotherapy",
          "SELECT centre_code, pseudonym, agent, cumulative_dose_mg_m2 FROM chemotherapy "
          "WHERE centre_code = ?" },
        { "SELECT centre_code, pseudonym FROM stem_cell_transplant",
          "SELECT centre_code, pseudonym FROM stem_cell_transplant WHERE centre_code = ?" },
        { "SELECT centre_code, pseudonym FROM surgery",
          "SELECT centre_code, pseudonym FROM surgery WHERE centre_code = ?" },
    };
    trow *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = HM_OK;
    for (int k = 0; k < 3 && rc == HM_OK; k++)
        rc = collect(db, sql[k][centre != NULL], centre, k, f, &rows, &n, &cap, err);
    /* Byte order in C: the back ends' collations differ. */
    if (rc == HM_OK && n)
        qsort(rows, n, sizeof *rows, cmp_trow);
    hm_treatment_exposure *e = NULL;
    size_t ne = 0;
    if (rc == HM_OK && n && !(e = calloc(n, sizeof *e)))
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t i = 0; i < n && rc == HM_OK; i++) {
        if (!ne || strcmp(e[ne - 1].centre, rows[i].centre) ||
            strcmp(e[ne - 1].pseudonym, rows[i].pseudonym)) {
            hm_treatment_exposure *x = &e[ne++];
            snprintf(x->centre, sizeof x->centre, "%s", rows[i].centre);
            snprintf(x->pseudonym, sizeof x->pseudonym, "%s", rows[i].pseudonym);
        }
        hm_treatment_exposure *x = &e[ne - 1];
        if (rows[i].kind == 0) {
            x->chemo_rows++;
            x->ced_mg_m2 += rows[i].ced;
            x->die_mg_m2 += rows[i].die;
        } else if (rows[i].kind == 1) {
            x->sct_rows++;
        } else {
            x->surgery_rows++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(rows[i].centre);
        free(rows[i].pseudonym);
    }
    free(rows);
    if (rc) {
        free(e);
        return rc;
    }
    *out = e;
    *nout = ne;
    return HM_OK;
}
