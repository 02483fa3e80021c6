/*
 * items_csv.c — item responses from a CSV file laid out as the qol_item
 * import file, for `harmonic qol score --items` (scoring without a
 * registry): every row checked as the import checks it, then grouped by
 * assessment and instrument and scored.
 */
#include "qol_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { C_CENTRE, C_ASSESS, C_ITEM, C_PSEUDO, C_INSTR, C_FORM, C_RESP_WHO, C_DATE, C_DAY,
       C_RESPONSE, NCOLS };
static const char *col_names[NCOLS] = {
    "centre_code", "assessment_id", "item_id", "pseudonym", "instrument", "form",
    "respondent", "assessment_date", "assessment_day", "response"
};
static const int col_required[NCOLS] = { 0, 1, 1, 0, 1, 1, 0, 0, 0, 1 };

struct hm_qol_itemset {
    hm_qol_item *items;
    size_t       n, cap;
};

size_t hm_qol_itemset_size(const hm_qol_itemset *set) { return set ? set->n : 0; }

void hm_qol__item_free(hm_qol_item *it)
{
    free((char *)it->centre);
    free((char *)it->assessment_id);
    free((char *)it->item_id);
    free((char *)it->pseudonym);
    free((char *)it->instrument);
    free((char *)it->form);
    free((char *)it->respondent);
    free((char *)it->assessment_date);
}

void hm_qol_itemset_free(hm_qol_itemset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        hm_qol__item_free(&set->items[i]);
    free(set->items);
    free(set);
}

/* "" and NA are missing, as the dictionary's missing code for qol_item. */
static const char *present(const char *s)
{
    return s && s[0] && strcmp(s, "NA") ? s : NULL;
}

typedef struct line_ctx {
    hm_qol_line_issue_fn fn;
    void *arg;
    long line;
    long *n_errors;
} line_ctx;

static void on_issue(void *arg, const char *field, const char *msg)
{
    line_ctx *c = arg;
    (*c->n_errors)++;
    if (c->fn)
        c->fn(c->arg, c->line, field, msg);
}

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *p = strdup(s);
    if (!p)
        *oom = 1;
    return p;
}

/* Checks one record (values by column, NULL absent) and appends it to set. */
static int add_row(const hm_qol_defs *d, const char *const *v, line_ctx *c,
                   hm_qol_itemset *set, hm_error *err)
{
    long before = *c->n_errors;
    for (int k = 0; k < NCOLS; k++)
        if (col_required[k] && k != C_RESPONSE && !present(v[k]))
            on_issue(c, col_names[k], "required: this column may not be empty");
    long day = -1;
    if (present(v[C_DAY])) {
        char *end;
        errno = 0;
        day = strtol(v[C_DAY], &end, 10);
        if (*end || errno || day < 0 || day > 40000) {
            on_issue(c, "assessment_day", "expected the days since birth, 0 to 40000");
            day = -1;
        }
    }
    if (*c->n_errors > before)
        return HM_OK;
    const char *resp = present(v[C_RESPONSE]);
    hm_qol_check_item(d, v[C_INSTR], v[C_FORM], present(v[C_RESP_WHO]), v[C_ITEM], resp,
                      hm_qol_age_years(NULL, NULL, day), on_issue, c);
    if (*c->n_errors > before)
        return HM_OK;
    if (set->n == set->cap) {
        size_t nc = set->cap ? set->cap * 2 : 256;
        hm_qol_item *p = realloc(set->items, nc * sizeof *p);
        if (!p)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        set->items = p;
        set->cap = nc;
    }
    hm_qol_item *it = &set->items[set->n];
    int oom = 0;
    memset(it, 0, sizeof *it);
    it->centre = dup_or_null(present(v[C_CENTRE]), &oom);
    it->assessment_id = dup_or_null(v[C_ASSESS], &oom);
    it->item_id = dup_or_null(v[C_ITEM], &oom);
    it->pseudonym = dup_or_null(present(v[C_PSEUDO]), &oom);
    it->instrument = dup_or_null(v[C_INSTR], &oom);
    it->form = dup_or_null(v[C_FORM], &oom);
    it->respondent = dup_or_null(present(v[C_RESP_WHO]), &oom);
    it->assessment_date = dup_or_null(present(v[C_DATE]), &oom);
    it->assessment_day = day;
    it->response = resp ? hm__qol_parse_response(resp) : -1;
    it->line = c->line;
    if (oom) {
        hm_qol__item_free(it);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    set->n++;
    return HM_OK;
}

int hm_qol_read_items(const hm_qol_defs *d, const char *path, const hm_csv_dialect *dialect,
                      hm_qol_line_issue_fn fn, void *arg, long *n_errors,
                      hm_qol_itemset **out, hm_error *err)
{
    *out = NULL;
    *n_errors = 0;
    hm_csv *csv = hm_csv_open_dialect(path, 1, dialect, err);
    if (!csv)
        return err ? err->code : HM_EIO;
    hm_qol_itemset *set = calloc(1, sizeof *set);
    if (!set) {
        hm_csv_close(csv);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    char **f;
    size_t nf;
    int col[NCOLS], rc = hm_csv_next(csv, &f, &nf, err);
    if (rc == 0)
        rc = hm_error_set(err, HM_EPARSE, path, 1, NULL, "empty file: expected a header row "
                          "(harmonic dictionary --template qol_item)");
    if (rc > 0)
        rc = hm_csv_header_check(csv, f, nf, err);
    line_ctx c = { fn, arg, rc == 0 ? hm_csv_line(csv) : 0, n_errors };
    if (rc == 0) {
        for (int k = 0; k < NCOLS; k++)
            col[k] = -1;
        for (size_t i = 0; i < nf; i++) {
            int k = 0;
            while (k < NCOLS && strcmp(f[i], col_names[k]))
                k++;
            if (k == NCOLS)
                on_issue(&c, f[i], "not a column of qol_item (harmonic dictionary --template "
                         "qol_item lists them)");
            else if (col[k] >= 0)
                on_issue(&c, f[i], "column given twice");
            else
                col[k] = (int)i;
        }
        for (int k = 0; k < NCOLS; k++)
            if (col_required[k] && col[k] < 0)
                on_issue(&c, col_names[k], "required column missing from the header");
        if (*n_errors)
            rc = HM_EVALIDATE;    /* the rows cannot be read right: stop at the header */
    }
    while (rc == 0 && (rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        c.line = hm_csv_line(csv);
        const char *v[NCOLS];
        for (int k = 0; k < NCOLS; k++)
            v[k] = col[k] >= 0 && (size_t)col[k] < nf ? f[col[k]] : NULL;
        rc = add_row(d, v, &c, set, err);
    }
    hm_csv_close(csv);
    if (rc == HM_EVALIDATE)
        rc = HM_OK;               /* reported as issues; *n_errors says so */
    if (rc < 0) {
        hm_qol_itemset_free(set);
        return rc;
    }
    *out = set;
    return HM_OK;
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int cmp_item(const void *pa, const void *pb)
{
    const hm_qol_item *a = pa, *b = pb;
    int c = cmp_str(a->centre, b->centre);
    if (!c)
        c = cmp_str(a->assessment_id, b->assessment_id);
    if (!c)
        c = cmp_str(a->instrument, b->instrument);
    if (!c)
        c = (a->line > b->line) - (a->line < b->line);
    return c;
}

int hm_qol_itemset_score(const hm_qol_defs *d, hm_qol_itemset *set, hm_qol_scored_fn fn,
                         void *arg, hm_error *err)
{
    if (set->n)
        qsort(set->items, set->n, sizeof *set->items, cmp_item);
    for (size_t i = 0; i < set->n;) {
        size_t j = i + 1;
        while (j < set->n && !cmp_str(set->items[j].centre, set->items[i].centre) &&
               !cmp_str(set->items[j].assessment_id, set->items[i].assessment_id) &&
               !cmp_str(set->items[j].instrument, set->items[i].instrument))
            j++;
        hm_qol_score scores[HM_QOL_MAX_SCALES];
        size_t ns;
        int rc = hm_qol_score_assessment(d, &set->items[i], j - i, scores, HM_QOL_MAX_SCALES,
                                         &ns, err);
        if (rc == HM_OK && fn)
            rc = fn(arg, &set->items[i], scores, ns);
        if (rc)
            return rc;
        i = j;
    }
    return HM_OK;
}
