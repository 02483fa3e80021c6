/*
 * dict.c — loading data/dictionary.csv (and data/organs.csv for the organ
 * code list, data/rt/chemo_agents.csv for the chemotherapy agents) and checking that the dictionary itself is coherent, since
 * everything downstream (validation, schema test, codebook) trusts it.
 */
#include "registry_int.h"

#include <stdlib.h>
#include <string.h>

struct hm_dict {
    hm_dict_table *tables;
    size_t         ntables;
};

static const char *type_names[] = {
    "text", "int", "real", "date", "datetime", "code", "uid", "pseudonym", "bool", "blob"
};

const char *hm_field_type_name(hm_field_type t)
{
    return (unsigned)t < sizeof type_names / sizeof *type_names ? type_names[t] : "?";
}

size_t hm_dict_ntables(const hm_dict *d) { return d->ntables; }
const hm_dict_table *hm_dict_table_at(const hm_dict *d, size_t i)
{
    return i < d->ntables ? &d->tables[i] : NULL;
}

const hm_dict_table *hm_dict_find_table(const hm_dict *d, const char *name)
{
    for (size_t i = 0; i < d->ntables; i++)
        if (!strcmp(d->tables[i].name, name))
            return &d->tables[i];
    return NULL;
}

int hm_dict_field_index(const hm_dict_table *t, const char *name)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (!strcmp(t->fields[i].name, name))
            return (int)i;
    return -1;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_field(hm_dict_field *f)
{
    free(f->table); free(f->name); free(f->unit); free(f->description);
    free(f->min); free(f->max); free(f->codes);
    free_list(f->code_list, f->ncodes);
    free_list(f->missing, f->nmissing);
}

void hm_dict_free(hm_dict *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ntables; i++) {
        for (size_t j = 0; j < d->tables[i].nfields; j++)
            free_field(&d->tables[i].fields[j]);
        free(d->tables[i].fields);
        free(d->tables[i].name);
    }
    free(d->tables);
    free(d);
}

/* Splits "a;b;c" into a new array (empty string: none). */
static int split(const char *s, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s[0])
        return HM_OK;
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ';';
    char **v = calloc(cap, sizeof *v);
    if (!v)
        return HM_ENOMEM;
    const char *start = s;
    for (;;) {
        const char *end = strchr(start, ';');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        if (!(v[*n] = strndup(start, len))) {
            free_list(v, *n);
            return HM_ENOMEM;
        }
        (*n)++;
        if (!end)
            break;
        start = end + 1;
    }
    *out = v;
    return HM_OK;
}

/* The first column of a data file whose header starts with `col0`: the ids
 * of data/organs.csv (the controlled organ list) or the agents of
 * data/rt/chemo_agents.csv. */
static int load_ids(const char *relative, const char *col0, char ***ids, size_t *n,
                    hm_error *err)
{
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open(relative, path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf, cap = 0;
    *ids = NULL;
    *n = 0;
    int first = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        if (first) {                      /* header */
            first = 0;
            if (nf < 1 || strcmp(f[0], col0)) {
                rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), col0,
                                  "expected a header starting with '%s'", col0);
                break;
            }
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **v = realloc(*ids, cap * sizeof *v);
            if (!v) { rc = HM_ENOMEM; break; }
            *ids = v;
        }
        if (!((*ids)[(*n)++] = strdup(f[0]))) { rc = HM_ENOMEM; (*n)--; break; }
    }
    hm_csv_close(csv);
    if (rc < 0) {
        free_list(*ids, *n);
        *ids = NULL;
        *n = 0;
        return rc;
    }
    return HM_OK;
}

static const char *columns[] = {
    "table", "field", "type", "unit", "required", "min", "max",
    "codes", "missing_codes", "key", "description", "origin"
};
enum { C_TABLE, C_FIELD, C_TYPE, C_UNIT, C_REQ, C_MIN, C_MAX, C_CODES, C_MISSING, C_KEY, C_DESC,
       C_ORIGIN, NCOL };
/* Columns a dictionary may leave out (older dictionaries have no origin). */
#define NREQUIRED_COL C_ORIGIN

static int parse_bound(hm_dict_field *f, const char *s, double *v, const char *what,
                       const char *path, long line, hm_error *err)
{
    int ok;
    if (f->type == HM_FT_DATE) {
        long days;
        ok = hm__parse_date(s, &days) == 0;
        *v = (double)days;
    } else {
        ok = hm__parse_real(s, v) == 0;
    }
    if (!ok)
        return hm_error_set(err, HM_EPARSE, path, line, what, "bad %s '%s' for %s.%s",
                            what, s, f->table, f->name);
    return HM_OK;
}

const char *hm__code_list_file(const char *codes)
{
    return !strcmp(codes, "@chemo_agents") ? "data/rt/chemo_agents.csv" : "data/organs.csv";
}

/* Code lists read from data files (@name -> ids). */
typedef struct id_list { const char *name; char **ids; size_t n; } id_list;
enum { L_ORGANS, L_AGENTS, NLISTS };

static int add_field(hm_dict *d, char **c, const char *path, long line,
                     const id_list *lists, hm_error *err)
{
    hm_dict_table *t = (hm_dict_table *)hm_dict_find_table(d, c[C_TABLE]);
    if (!t) {
        hm_dict_table *v = realloc(d->tables, (d->ntables + 1) * sizeof *v);
        if (!v)
            return HM_ENOMEM;
        d->tables = v;
        t = &d->tables[d->ntables++];
        memset(t, 0, sizeof *t);
        if (!(t->name = strdup(c[C_TABLE])))
            return HM_ENOMEM;
        t->computed = !strcmp(c[C_ORIGIN], "computed");
    }
    if (strcmp(c[C_ORIGIN], "") && strcmp(c[C_ORIGIN], "computed"))
        return hm_error_set(err, HM_EPARSE, path, line, "origin",
                            "expected empty (imported) or computed, got '%s'", c[C_ORIGIN]);
    /* The origin is the table's: every field row of it must say the same. */
    if (t->computed != !strcmp(c[C_ORIGIN], "computed"))
        return hm_error_set(err, HM_EPARSE, path, line, "origin",
                            "%s.%s: origin '%s' differs from the table's first field", c[C_TABLE],
                            c[C_FIELD], c[C_ORIGIN]);
    if (hm_dict_field_index(t, c[C_FIELD]) >= 0)
        return hm_error_set(err, HM_EPARSE, path, line, "field", "duplicate field %s.%s",
                            c[C_TABLE], c[C_FIELD]);
    hm_dict_field *v = realloc(t->fields, (t->nfields + 1) * sizeof *v);
    if (!v)
        return HM_ENOMEM;
    t->fields = v;
    hm_dict_field *f = &t->fields[t->nfields++];
    memset(f, 0, sizeof *f);
    f->pair = -1;
    f->table = strdup(c[C_TABLE]);
    f->name = strdup(c[C_FIELD]);
    f->unit = strdup(c[C_UNIT]);
    f->description = strdup(c[C_DESC]);
    f->min = strdup(c[C_MIN]);
    f->max = strdup(c[C_MAX]);
    f->codes = strdup(c[C_CODES]);
    if (!f->table || !f->name || !f->unit || !f->description || !f->min || !f->max || !f->codes)
        return HM_ENOMEM;
    size_t k;
    for (k = 0; k < sizeof type_names / sizeof *type_names; k++)
        if (!strcmp(c[C_TYPE], type_names[k]))
            break;
    if (k == sizeof type_names / sizeof *type_names)
        return hm_error_set(err, HM_EPARSE, path, line, "type", "unknown type '%s'", c[C_TYPE]);
    f->type = (hm_field_type)k;
    if (!strcmp(c[C_REQ], "1")) f->required = HM_REQ_YES;
    else if (!strcmp(c[C_REQ], "0")) f->required = HM_REQ_NO;
    else if (!strcmp(c[C_REQ], "pair")) f->required = HM_REQ_PAIR;
    else return hm_error_set(err, HM_EPARSE, path, line, "required",
                             "expected 1, 0 or pair, got '%s'", c[C_REQ]);
    if (strcmp(c[C_KEY], "0") && strcmp(c[C_KEY], "1"))
        return hm_error_set(err, HM_EPARSE, path, line, "key", "expected 0 or 1, got '%s'", c[C_KEY]);
    f->key = c[C_KEY][0] == '1';
    if (f->type == HM_FT_BLOB && (f->key || !t->computed))
        return hm_error_set(err, HM_EPARSE, path, line, "type",
                            "blob field %s.%s must be a non-key field of a computed table",
                            f->table, f->name);
    if (f->key && f->required != HM_REQ_YES)
        return hm_error_set(err, HM_EPARSE, path, line, "key", "key field %s.%s must be required",
                            f->table, f->name);
    t->nkeys += (size_t)f->key;
    int rc;
    if ((f->has_min = c[C_MIN][0] != 0) &&
        (rc = parse_bound(f, c[C_MIN], &f->min_num, "min", path, line, err)))
        return rc;
    if ((f->has_max = c[C_MAX][0] != 0) &&
        (rc = parse_bound(f, c[C_MAX], &f->max_num, "max", path, line, err)))
        return rc;
    if (f->type == HM_FT_CODE) {
        const id_list *l = NULL;
        for (int k = 0; k < NLISTS; k++)
            if (!strcmp(f->codes, lists[k].name))
                l = &lists[k];
        if (l) {
            f->code_list = calloc(l->n ? l->n : 1, sizeof *f->code_list);
            if (!f->code_list)
                return HM_ENOMEM;
            for (size_t i = 0; i < l->n; i++)
                if (!(f->code_list[f->ncodes++] = strdup(l->ids[i])))
                    return HM_ENOMEM;
        } else if (f->codes[0] == '@') {
            if (strcmp(f->codes, "@icdo3_topography") && strcmp(f->codes, "@icdo3_morphology") &&
                strcmp(f->codes, "@icd10"))
                return hm_error_set(err, HM_EPARSE, path, line, "codes", "unknown code list '%s'",
                                    f->codes);
        } else if ((rc = split(f->codes, &f->code_list, &f->ncodes))) {
            return rc;
        } else if (!f->ncodes) {
            return hm_error_set(err, HM_EPARSE, path, line, "codes",
                                "code field %s.%s has no codes", f->table, f->name);
        }
    }
    return split(c[C_MISSING], &f->missing, &f->nmissing);
}

/* Links X_date with X_day and checks what the rest of the code assumes. */
static int finish(hm_dict *d, const char *path, hm_error *err)
{
    for (size_t i = 0; i < d->ntables; i++) {
        hm_dict_table *t = &d->tables[i];
        if (hm_dict_field_index(t, "centre_code") != 0 || !t->fields[0].key)
            return hm_error_set(err, HM_EPARSE, path, 0, t->name,
                                "table %s must start with the key field centre_code", t->name);
        for (size_t j = 0; j < t->nfields; j++) {
            hm_dict_field *f = &t->fields[j];
            size_t len = strlen(f->name);
            if (len > 5 && !strcmp(f->name + len - 5, "_date")) {
                char sib[80];
                snprintf(sib, sizeof sib, "%.*s_day", (int)(len - 5), f->name);
                int k = hm_dict_field_index(t, sib);
                if (k >= 0) {
                    f->pair = k;
                    t->fields[k].pair = (int)j;
                }
            }
        }
        for (size_t j = 0; j < t->nfields; j++)
            if (t->fields[j].required == HM_REQ_PAIR && t->fields[j].pair < 0)
                return hm_error_set(err, HM_EPARSE, path, 0, t->fields[j].name,
                                    "required=pair but %s.%s has no X_date/X_day sibling",
                                    t->name, t->fields[j].name);
    }
    return HM_OK;
}

int hm_dict_load(const char *path_in, hm_dict **out, hm_error *err)
{
    *out = NULL;
    char path[1024];
    int rc = HM_OK;
    if (path_in)
        snprintf(path, sizeof path, "%s", path_in);
    else if ((rc = hm_data_path("dictionary.csv", path, sizeof path, err)))
        return rc;
    id_list lists[NLISTS] = { { "@organs", NULL, 0 }, { "@chemo_agents", NULL, 0 } };
    if ((rc = load_ids("organs.csv", "id", &lists[L_ORGANS].ids, &lists[L_ORGANS].n, err)))
        return rc;
    if ((rc = load_ids("rt/chemo_agents.csv", "agent", &lists[L_AGENTS].ids, &lists[L_AGENTS].n,
                       err))) {
        free_list(lists[L_ORGANS].ids, lists[L_ORGANS].n);
        return rc;
    }
    hm_dict *d = calloc(1, sizeof *d);
    hm_csv *csv = d ? hm_csv_open(path, 1, err) : NULL;
    if (!csv) {
        free(d);
        for (int k = 0; k < NLISTS; k++)
            free_list(lists[k].ids, lists[k].n);
        return d ? HM_EIO : HM_ENOMEM;
    }
    char **f;
    size_t nf;
    int col[NCOL];
    int header = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        long line = hm_csv_line(csv);
        if (header) {
            header = 0;
            for (int k = 0; k < NCOL; k++) {
                col[k] = -1;
                for (size_t j = 0; j < nf; j++)
                    if (!strcmp(f[j], columns[k]))
                        col[k] = (int)j;
                if (col[k] < 0 && k >= NREQUIRED_COL)
                    continue;
                if (col[k] < 0) {
                    rc = hm_error_set(err, HM_EPARSE, path, line, columns[k],
                                      "dictionary header lacks column '%s'", columns[k]);
                    break;
                }
            }
            if (rc < 0)
                break;
            continue;
        }
        char *c[NCOL];
        for (int k = 0; k < NCOL; k++)
            c[k] = col[k] >= 0 && (size_t)col[k] < nf ? f[col[k]] : "";
        if ((rc = add_field(d, c, path, line, lists, err)) < 0) {
            if (rc == HM_ENOMEM)
                hm_error_set(err, rc, path, line, NULL, "out of memory");
            break;
        }
    }
    hm_csv_close(csv);
    for (int k = 0; k < NLISTS; k++)
        free_list(lists[k].ids, lists[k].n);
    if (rc == 0)
        rc = finish(d, path, err);
    if (rc < 0) {
        hm_dict_free(d);
        return rc;
    }
    *out = d;
    return HM_OK;
}
