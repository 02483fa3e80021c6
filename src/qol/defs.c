/*
 * defs.c — loads the scoring rules of data/qol (instruments, forms,
 * transforms, scales, items) and checks that they hold together, so that a
 * mistake in a data file is an error naming its line, not a wrong score.
 */
#include "qol_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 8

/* One data file being read: its path and the column index of each wanted name. */
typedef struct reader {
    hm_csv *csv;
    char    path[1024];
    int     col[MAX_COLS];
    size_t  ncols;
} reader;

static int open_file(const char *dir, const char *name, const char *const *cols, size_t ncols,
                     reader *r, hm_error *err)
{
    memset(r, 0, sizeof *r);
    r->ncols = ncols;
    int rc;
    if (dir) {
        snprintf(r->path, sizeof r->path, "%s/%s", dir, name);
        r->csv = hm_csv_open(r->path, 1, err);
        rc = r->csv ? HM_OK : (err ? err->code : HM_EIO);
    } else {
        char rel[64];
        snprintf(rel, sizeof rel, "qol/%s", name);
        rc = hm_data_csv_open(rel, r->path, sizeof r->path, &r->csv, err);
    }
    if (rc)
        return rc;
    char **f;
    size_t nf;
    rc = hm_csv_next(r->csv, &f, &nf, err);
    if (rc <= 0) {
        hm_csv_close(r->csv);
        return rc < 0 ? rc : hm_error_set(err, HM_EPARSE, r->path, 1, NULL, "no header row");
    }
    for (size_t c = 0; c < ncols; c++) {
        r->col[c] = -1;
        for (size_t i = 0; i < nf; i++)
            if (!strcmp(f[i], cols[c]))
                r->col[c] = (int)i;
        if (r->col[c] < 0) {
            long line = hm_csv_line(r->csv);
            hm_csv_close(r->csv);
            return hm_error_set(err, HM_EPARSE, r->path, line, cols[c],
                                "column missing from the header");
        }
    }
    return HM_OK;
}

/* Next row's wanted fields into v[0..ncols); 1 row, 0 end, <0 error. */
static int next_row(reader *r, const char **v, hm_error *err)
{
    char **f;
    size_t nf;
    int rc = hm_csv_next(r->csv, &f, &nf, err);
    if (rc <= 0)
        return rc;
    for (size_t c = 0; c < r->ncols; c++)
        v[c] = (size_t)r->col[c] < nf ? f[r->col[c]] : "";
    return 1;
}

static int bad(reader *r, const char *field, const char *what, const char *value, hm_error *err)
{
    int rc = hm_error_set(err, HM_EPARSE, r->path, hm_csv_line(r->csv), field, "'%.80s' %s",
                          value, what);
    hm_csv_close(r->csv);
    r->csv = NULL;
    return rc;
}

static int copy_id(char *dst, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= size)
        return -1;
    memcpy(dst, s, n + 1);
    return 0;
}

/* Grows *arr (element size el) to hold n + 1 elements. */
static int grow(void *arr, size_t *cap, size_t n, size_t el, hm_error *err)
{
    void **p = arr;
    if (n < *cap)
        return HM_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, nc * el);
    if (!q)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    memset((char *)q + *cap * el, 0, (nc - *cap) * el);
    *p = q;
    *cap = nc;
    return HM_OK;
}

static int parse_long(const char *s, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (!*s || *end || errno || x < lo || x > hi)
        return -1;
    *v = x;
    return 0;
}

int hm__qol_parse_response(const char *s)
{
    long v;
    return s && parse_long(s, 0, HM__QOL_MAX_RESP - 1, &v) == 0 ? (int)v : -1;
}

int hm__qol_find_instrument(const hm_qol_defs *d, const char *id)
{
    for (size_t i = 0; id && i < d->nins; i++)
        if (!strcmp(d->ins[i].id, id))
            return (int)i;
    return -1;
}

int hm__qol_find_form(const hm_qol_defs *d, const char *id)
{
    for (size_t i = 0; id && i < d->nforms; i++)
        if (!strcmp(d->forms[i].id, id))
            return (int)i;
    return -1;
}

int hm__qol_form_item(const qol_form *f, const char *id)
{
    for (size_t i = 0; id && i < f->nitems; i++)
        if (!strcmp(f->items[i].id, id))
            return (int)i;
    return -1;
}

static int find_scale(const hm_qol_defs *d, const char *id)
{
    for (size_t i = 0; i < d->nscales; i++)
        if (!strcmp(d->scales[i].id, id))
            return (int)i;
    return -1;
}

static int find_transform(const hm_qol_defs *d, const char *id)
{
    for (size_t i = 0; i < d->ntr; i++)
        if (!strcmp(d->tr[i].id, id))
            return (int)i;
    return -1;
}

static int load_instruments(hm_qol_defs *d, const char *dir, hm_error *err)
{
    static const char *cols[] = { "instrument", "version", "source" };
    reader r;
    const char *v[MAX_COLS];
    size_t cap = 0;
    int rc = open_file(dir, "instruments.csv", cols, 3, &r, err);
    while (rc == HM_OK && (rc = next_row(&r, v, err)) == 1) {
        rc = HM_OK;
        if ((rc = grow(&d->ins, &cap, d->nins, sizeof *d->ins, err)))
            break;
        qol_instrument *in = &d->ins[d->nins];
        if (hm__qol_find_instrument(d, v[0]) >= 0 || copy_id(in->id, sizeof in->id, v[0]))
            return bad(&r, "instrument", "is empty, too long or repeated", v[0], err);
        snprintf(in->version, sizeof in->version, "%s", v[1]);
        if (!(in->source = strdup(v[2]))) {
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
            break;
        }
        d->nins++;
    }
    if (r.csv)
        hm_csv_close(r.csv);
    return rc;
}

static int load_transforms(hm_qol_defs *d, const char *dir, hm_error *err)
{
    static const char *cols[] = { "transform", "response", "points" };
    reader r;
    const char *v[MAX_COLS];
    size_t cap = 0;
    int rc = open_file(dir, "transforms.csv", cols, 3, &r, err);
    while (rc == HM_OK && (rc = next_row(&r, v, err)) == 1) {
        rc = HM_OK;
        int t = find_transform(d, v[0]);
        if (t < 0) {
            if ((rc = grow(&d->tr, &cap, d->ntr, sizeof *d->tr, err)))
                break;
            if (copy_id(d->tr[d->ntr].id, HM_QOL_ID_MAX, v[0]))
                return bad(&r, "transform", "is empty or too long", v[0], err);
            t = (int)d->ntr++;
        }
        int resp = hm__qol_parse_response(v[1]);
        char *end;
        double pts = strtod(v[2], &end);
        if (resp < 0 || (d->tr[t].defined >> resp & 1))
            return bad(&r, "response", "is not a response 0-63 or is repeated", v[1], err);
        if (!*v[2] || *end || !(pts >= 0 && pts <= 100))
            return bad(&r, "points", "is not a number from 0 to 100", v[2], err);
        d->tr[t].defined |= (uint64_t)1 << resp;
        d->tr[t].points[resp] = pts;
    }
    if (r.csv)
        hm_csv_close(r.csv);
    return rc;
}

static int load_scales(hm_qol_defs *d, const char *dir, hm_error *err)
{
    static const char *cols[] = { "instrument", "scale", "type", "of", "max_missing_fraction" };
    reader r;
    const char *v[MAX_COLS];
    size_t cap = 0;
    int rc = open_file(dir, "scales.csv", cols, 5, &r, err);
    while (rc == HM_OK && (rc = next_row(&r, v, err)) == 1) {
        rc = HM_OK;
        if ((rc = grow(&d->scales, &cap, d->nscales, sizeof *d->scales, err)))
            break;
        qol_scale *s = &d->scales[d->nscales];
        if ((s->instrument = hm__qol_find_instrument(d, v[0])) < 0)
            return bad(&r, "instrument", "is not in instruments.csv", v[0], err);
        /* Unique across instruments: qol_score's key is (assessment, scale). */
        if (find_scale(d, v[1]) >= 0 || copy_id(s->id, sizeof s->id, v[1]))
            return bad(&r, "scale", "is empty, too long or used already", v[1], err);
        if (strcmp(v[2], "scale") && strcmp(v[2], "summary"))
            return bad(&r, "type", "is not 'scale' or 'summary'", v[2], err);
        s->summary = !strcmp(v[2], "summary");
        char *end;
        s->max_missing_fraction = strtod(v[4], &end);
        if (!*v[4] || *end || !(s->max_missing_fraction >= 0 && s->max_missing_fraction < 1))
            return bad(&r, "max_missing_fraction", "is not a fraction in [0, 1)", v[4], err);
        if (s->summary != (v[3][0] != 0))
            return bad(&r, "of", "must list the scales of a summary (and only of a summary)",
                       v[3], err);
        char buf[512];
        snprintf(buf, sizeof buf, "%s", v[3]);
        for (char *tok = strtok(buf, ";"); tok; tok = strtok(NULL, ";")) {
            int m = find_scale(d, tok);
            if (m < 0 || d->scales[m].summary || d->scales[m].instrument != s->instrument ||
                s->nmembers >= HM_QOL_MAX_SCALES)
                return bad(&r, "of", "is not a scale of this instrument listed above", tok, err);
            s->members[s->nmembers++] = m;
        }
        d->nscales++;
    }
    if (r.csv)
        hm_csv_close(r.csv);
    return rc;
}

static int load_forms(hm_qol_defs *d, const char *dir, hm_error *err)
{
    static const char *cols[] = { "instrument", "form", "respondent", "age_min_years",
                                  "age_max_years", "response_scale", "responses" };
    reader r;
    const char *v[MAX_COLS];
    size_t cap = 0;
    int rc = open_file(dir, "forms.csv", cols, 7, &r, err);
    while (rc == HM_OK && (rc = next_row(&r, v, err)) == 1) {
        rc = HM_OK;
        if ((rc = grow(&d->forms, &cap, d->nforms, sizeof *d->forms, err)))
            break;
        qol_form *f = &d->forms[d->nforms];
        if ((f->instrument = hm__qol_find_instrument(d, v[0])) < 0)
            return bad(&r, "instrument", "is not in instruments.csv", v[0], err);
        if (hm__qol_find_form(d, v[1]) >= 0 || copy_id(f->id, sizeof f->id, v[1]))
            return bad(&r, "form", "is empty, too long or repeated", v[1], err);
        for (const char *p = v[2];; p++) {        /* child and/or parent */
            size_t n = strcspn(p, ";");
            if (!((n == 5 && !strncmp(p, "child", 5)) || (n == 6 && !strncmp(p, "parent", 6))))
                return bad(&r, "respondent", "is not child, parent or child;parent", v[2], err);
            p += n;
            if (!*p)
                break;
        }
        snprintf(f->respondents, sizeof f->respondents, "%s", v[2]);
        long lo, hi;
        if (parse_long(v[3], 0, 120, &lo))
            return bad(&r, "age_min_years", "is not an age 0-120", v[3], err);
        if (parse_long(v[4], lo, 120, &hi))
            return bad(&r, "age_max_years", "is not an age from age_min_years to 120", v[4], err);
        f->age_min_years = (int)lo;
        f->age_max_years = (int)hi;
        snprintf(f->response_scale, sizeof f->response_scale, "%s", v[5]);
        snprintf(f->responses_text, sizeof f->responses_text, "%s", v[6]);
        char buf[256];
        snprintf(buf, sizeof buf, "%s", v[6]);
        for (char *tok = strtok(buf, ";"); tok; tok = strtok(NULL, ";")) {
            int x = hm__qol_parse_response(tok);
            if (x < 0)
                return bad(&r, "responses", "is not a ';' list of responses 0-63", v[6], err);
            f->allowed |= (uint64_t)1 << x;
        }
        if (!f->allowed)
            return bad(&r, "responses", "lists no response", v[6], err);
        d->nforms++;
    }
    if (r.csv)
        hm_csv_close(r.csv);
    return rc;
}

static int load_items(hm_qol_defs *d, const char *dir, hm_error *err)
{
    static const char *cols[] = { "instrument", "form", "item", "scale", "transform" };
    reader r;
    const char *v[MAX_COLS];
    int rc = open_file(dir, "items.csv", cols, 5, &r, err);
    while (rc == HM_OK && (rc = next_row(&r, v, err)) == 1) {
        rc = HM_OK;
        int fi = hm__qol_find_form(d, v[1]);
        if (fi < 0 || d->forms[fi].instrument != hm__qol_find_instrument(d, v[0]))
            return bad(&r, "form", "is not a form of this instrument in forms.csv", v[1], err);
        qol_form *f = &d->forms[fi];
        if ((rc = grow(&f->items, &f->cap, f->nitems, sizeof *f->items, err)))
            break;
        qol_form_item *it = &f->items[f->nitems];
        if (hm__qol_form_item(f, v[2]) >= 0 || copy_id(it->id, sizeof it->id, v[2]))
            return bad(&r, "item", "is empty, too long or repeated on its form", v[2], err);
        it->scale = find_scale(d, v[3]);
        if (it->scale < 0 || d->scales[it->scale].summary ||
            d->scales[it->scale].instrument != f->instrument)
            return bad(&r, "scale", "is not a scale (not a summary) of this instrument", v[3], err);
        it->transform = find_transform(d, v[4]);
        if (it->transform < 0)
            return bad(&r, "transform", "is not in transforms.csv", v[4], err);
        /* Every answer the form offers must have points, or it could not be scored. */
        if ((f->allowed & ~d->tr[it->transform].defined) != 0)
            return bad(&r, "transform", "gives no points to some response of the form", v[4],
                       err);
        f->nitems++;
    }
    if (r.csv)
        hm_csv_close(r.csv);
    return rc;
}

void hm_qol_defs_free(hm_qol_defs *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nins; i++)
        free(d->ins[i].source);
    for (size_t i = 0; i < d->nforms; i++)
        free(d->forms[i].items);
    free(d->ins);
    free(d->forms);
    free(d->scales);
    free(d->tr);
    free(d);
}

int hm_qol_defs_load(const char *dir, hm_qol_defs **out, hm_error *err)
{
    *out = NULL;
    hm_qol_defs *d = calloc(1, sizeof *d);
    if (!d)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    /* Order matters: each file refers to ids of the ones before. */
    int rc = load_instruments(d, dir, err);
    if (rc == HM_OK)
        rc = load_transforms(d, dir, err);
    if (rc == HM_OK)
        rc = load_scales(d, dir, err);
    if (rc == HM_OK)
        rc = load_forms(d, dir, err);
    if (rc == HM_OK)
        rc = load_items(d, dir, err);
    for (size_t i = 0; rc == HM_OK && i < d->nforms; i++)
        if (d->forms[i].nitems == 0)
            rc = hm_error_set(err, HM_EPARSE, "items.csv", 0, "form",
                              "form %s has no items", d->forms[i].id);
    if (rc) {
        hm_qol_defs_free(d);
        return rc;
    }
    *out = d;
    return HM_OK;
}

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static hm_qol_defs *shared_defs;

int hm_qol_defs_shared(const hm_qol_defs **defs, hm_error *err)
{
    int rc = HM_OK;
    pthread_mutex_lock(&shared_lock);
    if (!shared_defs)
        rc = hm_qol_defs_load(NULL, &shared_defs, err);
    *defs = shared_defs;
    pthread_mutex_unlock(&shared_lock);
    return rc;
}
