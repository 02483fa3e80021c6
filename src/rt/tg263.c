/*
 * tg263.c — ROI names to TG-263 names and harmonic organ codes
 * (data/rt/tg263_map.csv; AAPM Report 263, Mayo et al. 2018, IJROBP 100:1057).
 *
 * Matching (docs/rt.md):
 *  1. fold: UTF-8 Latin letters lose their accents (é -> e, ö -> o,
 *     œ -> oe, ß -> ss), letters go to lower case, and the name is split
 *     into tokens at every other character (blank, '_', '-', '.', ...);
 *  2. prefixes, TG-263's own rules: a first token starting with ptv, ctv,
 *     gtv or itv is a target; a name starting with "z" followed by a
 *     separator, "zz", "_", "x_", or a first token starting with opt (not
 *     optic), ring or avoid, or any token "prv", is a planning helper;
 *  3. the tokens joined without separators are looked up among the
 *     synonyms (folded the same way);
 *  4. else a laterality word as last (or first) token is taken off (left:
 *     l, lt, left, g, gauche, li, links, linke, linker, linkes; right: r,
 *     rt, right, d, droit, droite, re, rechts, rechte, rechter, rechtes) and
 *     the rest looked up: a paired organ then gets its "_L"/"_R" name.
 */
#include "rt_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char key[64];          /* folded synonym */
    int  row;
} entry;

typedef struct row {
    char tg263[48];
    char organ[32];
    int  lateral;
} row;

struct hm_rt_tg263 {
    row   *rows;
    int    nrows;
    entry *entries;
    int    nentries, cap;
};

/* Latin-1 supplement and Latin Extended-A letters used in French, German and
 * Dutch, to their unaccented lower-case ASCII spelling. */
static const char *fold_cp(unsigned cp)
{
    static const char *l1[64] = {
        /* U+00C0 */ "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        /* U+00D0 */ "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
        /* U+00E0 */ "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        /* U+00F0 */ "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
    };
    if (cp >= 0xC0 && cp <= 0xFF)
        return l1[cp - 0xC0];
    if (cp == 0x152 || cp == 0x153)
        return "oe";
    if (cp == 0x178)
        return "y";
    return NULL;
}

/* Folds name into space-separated lower-case ASCII tokens. */
static void fold(const char *name, char *out, size_t size)
{
    size_t n = 0;
    int sep = 1;
    const unsigned char *p = (const unsigned char *)name;
    while (*p && n + 4 < size) {
        const char *rep = NULL;
        char one[2] = { 0, 0 };
        unsigned cp = *p;
        int len = 1;
        if (cp >= 0xC0 && cp < 0xE0 && (p[1] & 0xC0) == 0x80) {
            cp = ((cp & 0x1F) << 6) | (p[1] & 0x3F);
            len = 2;
        } else if (cp >= 0xE0 && cp < 0xF0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
            cp = ((cp & 0x0F) << 12) | ((unsigned)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
            len = 3;
        }
        p += len;
        if (cp < 0x80 && isalnum((int)cp)) {
            one[0] = (char)tolower((int)cp);
            rep = one;
        } else {
            rep = fold_cp(cp);   /* NULL: a separator */
        }
        if (!rep || !*rep) {
            sep = 1;
            continue;
        }
        if (sep && n > 0)
            out[n++] = ' ';
        sep = 0;
        for (; *rep && n + 1 < size; rep++)
            out[n++] = *rep;
    }
    out[n] = 0;
}

/* Tokens [a, b) of the folded string joined without blanks. */
static void join(char **tok, int a, int b, char *out, size_t size)
{
    size_t n = 0;
    out[0] = 0;
    for (int t = a; t < b; t++)
        for (const char *c = tok[t]; *c && n + 1 < size; c++)
            out[n++] = *c;
    out[n] = 0;
}

static int laterality(const char *t)
{
    static const char *left[] = { "l", "lt", "left", "g", "gauche", "li", "links", "linke",
                                  "linker", "linkes", NULL };
    static const char *right[] = { "r", "rt", "right", "d", "droit", "droite", "re", "rechts",
                                   "rechte", "rechter", "rechtes", NULL };
    for (int i = 0; left[i]; i++)
        if (!strcmp(t, left[i]))
            return 'L';
    for (int i = 0; right[i]; i++)
        if (!strcmp(t, right[i]))
            return 'R';
    return 0;
}

static const entry *lookup(const hm_rt_tg263 *m, const char *key)
{
    for (int e = 0; e < m->nentries; e++)
        if (!strcmp(m->entries[e].key, key))
            return &m->entries[e];
    return NULL;
}

void hm_rt_tg263_free(hm_rt_tg263 *m)
{
    if (!m)
        return;
    free(m->rows);
    free(m->entries);
    free(m);
}

/* 1 when id is an organ id of data/organs.csv. */
static int organ_known(char ids[][32], int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(ids[i], id))
            return 1;
    return 0;
}

int hm_rt__organ_ids(char ids[][32], int max, int *n, hm_error *err)
{
    char path[4096];
    hm_csv *csv;
    int rc = hm_data_csv_open("organs.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    *n = 0;
    int first = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        if (first) {   /* header */
            first = 0;
            continue;
        }
        if (nf > 0 && *n < max)
            snprintf(ids[(*n)++], 32, "%s", f[0]);
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : HM_OK;
}

/* The sex an organ of data/organs.csv belongs to (its "sex" column): 'M',
 * 'F', or 0 for both; 0 too for an id not in the list. */
int hm_rt__organ_sex(const char *organ, char *sex, hm_error *err)
{
    char path[4096];
    hm_csv *csv;
    *sex = 0;
    int rc = hm_data_csv_open("organs.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf, col = (size_t)-1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        if (col == (size_t)-1) {   /* header */
            for (col = 0; col < nf && strcmp(f[col], "sex"); col++)
                ;
            continue;
        }
        if (nf > col && !strcmp(f[0], organ)) {
            *sex = f[col][0] == 'M' || f[col][0] == 'F' ? f[col][0] : 0;
            break;
        }
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : HM_OK;
}

int hm_rt_tg263_load(const char *path, hm_rt_tg263 **out, hm_error *err)
{
    *out = NULL;
    char ids[HM_RT_MAX_ORGANS][32];
    int nids = 0, rc = hm_rt__organ_ids(ids, HM_RT_MAX_ORGANS, &nids, err);
    if (rc)
        return rc;
    char full[4096];
    hm_csv *csv = NULL;
    if (path) {
        snprintf(full, sizeof full, "%s", path);
        csv = hm_csv_open(path, 1, err);
        if (!csv)
            return err ? err->code : HM_EIO;
    } else if ((rc = hm_data_csv_open("rt/tg263_map.csv", full, sizeof full, &csv, err))) {
        return rc;
    }
    hm_rt_tg263 *m = calloc(1, sizeof *m);
    if (!m) {
        hm_csv_close(csv);
        return hm_error_set(err, HM_ENOMEM, full, 0, NULL, "out of memory");
    }
    char **f;
    size_t nf;
    int header = 1, rcap = 0;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        long line = hm_csv_line(csv);
        if (header) {
            header = 0;
            if (nf != 4 || strcmp(f[0], "tg263") || strcmp(f[3], "synonyms")) {
                rc = hm_error_set(err, HM_EPARSE, full, line, NULL,
                                  "expected the header tg263,organ,lateral,synonyms");
                break;
            }
            continue;
        }
        if (nf != 4 || !f[0][0] || strlen(f[0]) >= sizeof m->rows->tg263) {
            rc = hm_error_set(err, HM_EPARSE, full, line, "tg263",
                              "expected 4 fields and a TG-263 name under 48 characters");
            break;
        }
        if (strcmp(f[1], "other") && !organ_known(ids, nids, f[1])) {
            rc = hm_error_set(err, HM_EVALIDATE, full, line, "organ",
                              "'%s' is neither an id of data/organs.csv nor 'other'", f[1]);
            break;
        }
        if (strcmp(f[2], "0") && strcmp(f[2], "1")) {
            rc = hm_error_set(err, HM_EPARSE, full, line, "lateral", "'%s': expected 0 or 1",
                              f[2]);
            break;
        }
        if (m->nrows == rcap) {
            rcap = rcap ? 2 * rcap : 64;
            row *r = realloc(m->rows, sizeof *r * (size_t)rcap);
            if (!r) {
                rc = hm_error_set(err, HM_ENOMEM, full, line, NULL, "out of memory");
                break;
            }
            m->rows = r;
        }
        row *r = &m->rows[m->nrows];
        snprintf(r->tg263, sizeof r->tg263, "%s", f[0]);
        snprintf(r->organ, sizeof r->organ, "%s", f[1]);
        r->lateral = f[2][0] == '1';
        /* Synonyms, folded and joined; the TG-263 name is one of them too. */
        char *syn = f[3];
        for (char *s = syn; s && rc >= 0;) {
            char *bar = strchr(s, '|');
            if (bar)
                *bar = 0;
            char folded[128], key[64], *tok[32];
            fold(s, folded, sizeof folded);
            int nt = 0;
            for (char *t = strtok(folded, " "); t && nt < 32; t = strtok(NULL, " "))
                tok[nt++] = t;
            join(tok, 0, nt, key, sizeof key);
            if (!key[0]) {
                rc = hm_error_set(err, HM_EPARSE, full, line, "synonyms",
                                  "an empty synonym in '%s'", r->tg263);
                break;
            }
            /* The same folded key twice in one row ("Spinal cord", "SpinalCord")
             * is harmless; in two rows it would make the map ambiguous. */
            const entry *dup = lookup(m, key);
            if (dup && dup->row == m->nrows) {
                s = bar ? bar + 1 : NULL;
                continue;
            }
            if (dup) {
                rc = hm_error_set(err, HM_EVALIDATE, full, line, "synonyms",
                                  "'%s' (as '%s') is already a synonym of %s: each synonym "
                                  "must map to one name", s, key, m->rows[dup->row].tg263);
                break;
            }
            if (m->nentries == m->cap) {
                m->cap = m->cap ? 2 * m->cap : 256;
                entry *e = realloc(m->entries, sizeof *e * (size_t)m->cap);
                if (!e) {
                    rc = hm_error_set(err, HM_ENOMEM, full, line, NULL, "out of memory");
                    break;
                }
                m->entries = e;
            }
            snprintf(m->entries[m->nentries].key, sizeof m->entries->key, "%s", key);
            m->entries[m->nentries++].row = m->nrows;
            s = bar ? bar + 1 : NULL;
        }
        if (rc < 0)
            break;
        m->nrows++;
    }
    hm_csv_close(csv);
    if (rc < 0) {
        hm_rt_tg263_free(m);
        return rc;
    }
    *out = m;
    return HM_OK;
}

const char *hm_rt_map_kind_name(int kind)
{
    switch (kind) {
    case HM_RT_MAP_ORGAN:  return "organ";
    case HM_RT_MAP_TARGET: return "target";
    case HM_RT_MAP_HELPER: return "helper";
    case HM_RT_MAP_OTHER:  return "other";
    default:               return "unmapped";
    }
}

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static int found(const row *r, int side, char *code, size_t cs, char *tg, size_t ts)
{
    snprintf(code, cs, "%s", r->organ);
    if (r->lateral && side)
        snprintf(tg, ts, "%s_%c", r->tg263, side);
    else
        snprintf(tg, ts, "%s", r->tg263);
    return strcmp(r->organ, "other") ? HM_RT_MAP_ORGAN : HM_RT_MAP_OTHER;
}

int hm_rt_map_roi(const hm_rt_tg263 *m, const char *name, char *out_code, size_t code_size,
                  char *out_tg263, size_t tg263_size, hm_error *err)
{
    out_code[0] = 0;
    out_tg263[0] = 0;
    if (!m || !name)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "name", "no map or no ROI name");
    char folded[256], key[256], *tok[32];
    fold(name, folded, sizeof folded);
    int nt = 0;
    for (char *t = strtok(folded, " "); t && nt < 32; t = strtok(NULL, " "))
        tok[nt++] = t;
    if (nt == 0)
        return HM_RT_MAP_UNMAPPED;

    /* Prefix rules on the raw name (its separators matter) and the tokens. */
    char lower[8] = { 0 };
    for (int c = 0; c < 7 && name[c]; c++)
        lower[c] = (char)tolower((unsigned char)name[c]);
    int helper = lower[0] == '_' || starts(lower, "zz") || starts(lower, "x_") ||
                 (lower[0] == 'z' && (lower[1] == '_' || lower[1] == '-' || lower[1] == ' ')) ||
                 (starts(tok[0], "opt") && !starts(tok[0], "optic")) ||
                 starts(tok[0], "ring") || starts(tok[0], "avoid");
    for (int t = 0; t < nt; t++)
        if (starts(tok[t], "prv"))
            helper = 1;
    if (helper) {
        snprintf(out_code, code_size, "other");
        return HM_RT_MAP_HELPER;
    }
    static const char *targets[] = { "ptv", "ctv", "gtv", "itv" };
    for (int t = 0; t < 4; t++)
        if (starts(tok[0], targets[t])) {
            snprintf(out_code, code_size, "target");
            for (int c = 0; c < 3; c++)
                key[c] = (char)toupper((unsigned char)targets[t][c]);
            key[3] = 0;
            snprintf(out_tg263, tg263_size, "%s", key);
            return HM_RT_MAP_TARGET;
        }

    join(tok, 0, nt, key, sizeof key);
    const entry *e = lookup(m, key);
    if (e)
        return found(&m->rows[e->row], 0, out_code, code_size, out_tg263, tg263_size);
    if (nt >= 2) {
        int side = laterality(tok[nt - 1]);
        if (side) {
            join(tok, 0, nt - 1, key, sizeof key);
        } else if ((side = laterality(tok[0]))) {
            join(tok, 1, nt, key, sizeof key);
        }
        if (side && (e = lookup(m, key)))
            return found(&m->rows[e->row], side, out_code, code_size, out_tg263, tg263_size);
    }
    return HM_RT_MAP_UNMAPPED;
}
