/*
 * outcomes.c — outcome groups as ICD-O-3 code ranges (data/epi/outcomes.csv).
 * Morphology "9823/3" is histology 9823, behaviour 3; topography "C71.9" is
 * coded 719 so that "C70-C72" is the range 700..729 and "C75.1" is 751..751.
 */
#include "hm_epi.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAXR 32
typedef struct range { int lo, hi; } range;

struct hm_epi_outcome_def {
    char  name[64], description[160];
    range morph_in[MAXR], morph_out[MAXR], topo_in[MAXR], topo_out[MAXR];
    int   nmi, nmo, nti, nto;
    int   behaviour[10];          /* behaviour[b] = 1 if allowed */
    double lag_years, exclusion_years;
};

struct hm_epi_outcomes {
    int n;
    struct hm_epi_outcome_def *d;
};

/* Topography "C71.9", "C719", "C71" -> 719, 719, 710 (or 719 as an upper
 * bound).  Returns -1 when malformed. */
static int topo_code(const char *s, int upper)
{
    while (*s == ' ')
        s++;
    if (toupper((unsigned char)*s) != 'C')
        return -1;
    s++;
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
        return -1;
    int site = (s[0] - '0') * 10 + (s[1] - '0');
    s += 2;
    if (*s == '.')
        s++;
    int sub = upper ? 9 : 0;
    if (isdigit((unsigned char)*s))
        sub = *s++ - '0';
    while (*s == ' ')
        s++;
    return *s ? -1 : site * 10 + sub;
}

/* Morphology "9823/3" or "9823": histology and behaviour (3 when absent). */
static int morph_code(const char *s, int *behaviour)
{
    while (*s == ' ')
        s++;
    int h = 0, n = 0;
    while (isdigit((unsigned char)*s) && n < 5)
        h = h * 10 + (*s++ - '0'), n++;
    if (n != 4)
        return -1;
    *behaviour = 3;
    if (*s == '/') {
        s++;
        if (!isdigit((unsigned char)*s))
            return -1;
        *behaviour = *s++ - '0';
    }
    while (*s == ' ')
        s++;
    return *s ? -1 : h;
}

/* "a;b-c" into ranges; topo selects the code parser. */
static int parse_ranges(const char *s, range *r, int *n, int topo)
{
    *n = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ";"); tok; tok = strtok(NULL, ";")) {
        if (*n >= MAXR)
            return -1;
        char *dash = strchr(tok, '-');
        char *lo = tok, *hi = dash ? dash + 1 : tok;
        if (dash)
            *dash = '\0';
        int b, a1, a2;
        if (topo) {
            a1 = topo_code(lo, 0);
            a2 = topo_code(hi, 1);
        } else {
            a1 = morph_code(lo, &b);
            a2 = morph_code(hi, &b);
        }
        if (a1 < 0 || a2 < 0 || a2 < a1)
            return -1;
        r[(*n)++] = (range){ a1, a2 };
    }
    return 0;
}

static int in_ranges(const range *r, int n, int v)
{
    for (int i = 0; i < n; i++)
        if (v >= r[i].lo && v <= r[i].hi)
            return 1;
    return 0;
}

static const char *NAMES[] = { "group", "description", "morphology_include", "morphology_exclude",
                               "behaviour", "topography_include", "topography_exclude", "lag_years",
                               "exclusion_years" };

int hm_epi_outcomes_load(const char *path, hm_epi_outcomes **out, hm_error *err)
{
    return hm_epi_outcomes_load_dialect(path, NULL, out, err);
}

int hm_epi_outcomes_load_dialect(const char *path, const hm_csv_dialect *dialect,
                                 hm_epi_outcomes **out, hm_error *err)
{
    char buf[1024];
    *out = NULL;
    if (!path) {
        int rc = hm_data_path("epi/outcomes.csv", buf, sizeof buf, err);
        if (rc < 0)
            return rc;
        path = buf;
    }
    hm_csv *csv = hm_csv_open_dialect(path, 1, dialect, err);
    if (!csv)
        return err ? err->code : HM_EIO;
    hm_epi_outcomes *o = calloc(1, sizeof *o);
    char **f;
    size_t nf;
    int idx[9], rc = hm_csv_next(csv, &f, &nf, err);
    if (rc == 1 && hm_csv_header_check(csv, f, nf, err))
        rc = HM_EPARSE;
    if (rc == 1) {
        for (int k = 0; k < 9; k++) {
            idx[k] = -1;
            for (size_t c = 0; c < nf; c++)
                if (!strcmp(f[c], NAMES[k]))
                    idx[k] = (int)c;
            if (idx[k] < 0)
                rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), NAMES[k], "missing column");
        }
    } else if (rc == 0) {
        rc = hm_error_set(err, HM_EPARSE, path, 0, NULL, "empty file");
    }
    while (rc >= 0 && o && (rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        long line = hm_csv_line(csv);
        if (nf < 9) {
            rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "expected 9 fields, found %zu", nf);
            break;
        }
        struct hm_epi_outcome_def *d = realloc(o->d, (o->n + 1) * sizeof *d);
        if (!d) {
            rc = hm_error_set(err, HM_ENOMEM, path, line, NULL, "out of memory");
            break;
        }
        o->d = d;
        d = &o->d[o->n];
        memset(d, 0, sizeof *d);
        snprintf(d->name, sizeof d->name, "%s", f[idx[0]]);
        snprintf(d->description, sizeof d->description, "%s", f[idx[1]]);
        const char *field = NULL;
        if (parse_ranges(f[idx[2]], d->morph_in, &d->nmi, 0) < 0)
            field = NAMES[2];
        else if (parse_ranges(f[idx[3]], d->morph_out, &d->nmo, 0) < 0)
            field = NAMES[3];
        else if (parse_ranges(f[idx[5]], d->topo_in, &d->nti, 1) < 0)
            field = NAMES[5];
        else if (parse_ranges(f[idx[6]], d->topo_out, &d->nto, 1) < 0)
            field = NAMES[6];
        if (field) {
            rc = hm_error_set(err, HM_EPARSE, path, line, field,
                              "expected ICD-O-3 codes or ranges separated by ';' (9800-9948, C70-C72)");
            break;
        }
        char bb[64];
        snprintf(bb, sizeof bb, "%s", f[idx[4]]);
        for (char *tok = strtok(bb, ";"); tok; tok = strtok(NULL, ";")) {
            if (!isdigit((unsigned char)tok[0]) || tok[1]) {
                field = NAMES[4];
                break;
            }
            d->behaviour[tok[0] - '0'] = 1;
        }
        char *e1, *e2;
        d->lag_years = strtod(f[idx[7]], &e1);
        d->exclusion_years = strtod(f[idx[8]], &e2);
        if (field || !d->name[0] || *e1 || *e2 || !f[idx[7]][0] || !f[idx[8]][0] || d->lag_years < 0 ||
            d->exclusion_years < 0) {
            rc = hm_error_set(err, HM_EPARSE, path, line, field ? field : !d->name[0] ? "group" : "lag_years",
                              field ? "expected behaviour digits separated by ';'"
                                    : "expected a group name and non-negative lag/exclusion years");
            break;
        }
        o->n++;
    }
    hm_csv_close(csv);
    if (!o)
        return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
    if (rc < 0) {
        hm_epi_outcomes_free(o);
        return rc;
    }
    *out = o;
    return HM_OK;
}

void hm_epi_outcomes_free(hm_epi_outcomes *o)
{
    if (o) {
        free(o->d);
        free(o);
    }
}

int hm_epi_outcomes_count(const hm_epi_outcomes *o) { return o->n; }
const char *hm_epi_outcomes_name(const hm_epi_outcomes *o, int i) { return o->d[i].name; }
double hm_epi_outcomes_lag(const hm_epi_outcomes *o, int i) { return o->d[i].lag_years; }
double hm_epi_outcomes_exclusion(const hm_epi_outcomes *o, int i) { return o->d[i].exclusion_years; }

int hm_epi_outcomes_find(const hm_epi_outcomes *o, const char *name)
{
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->d[i].name, name))
            return i;
    return -1;
}

int hm_epi_outcomes_match(const hm_epi_outcomes *o, int i, const char *morphology,
                          const char *topography, hm_error *err)
{
    const struct hm_epi_outcome_def *d = &o->d[i];
    int beh, m = morph_code(morphology ? morphology : "", &beh);
    if (m < 0)
        return hm_error_set(err, HM_EPARSE, NULL, 0, "morphology",
                            "'%s': expected an ICD-O-3 morphology such as 9823/3", morphology ? morphology : "");
    int t = -1;
    if (topography && *topography && (t = topo_code(topography, 0)) < 0)
        return hm_error_set(err, HM_EPARSE, NULL, 0, "topography",
                            "'%s': expected an ICD-O-3 topography such as C71.9", topography);
    if (!d->behaviour[beh])
        return 0;
    if (d->nmi && !in_ranges(d->morph_in, d->nmi, m))
        return 0;
    if (in_ranges(d->morph_out, d->nmo, m))
        return 0;
    if (d->nti && (t < 0 || !in_ranges(d->topo_in, d->nti, t)))
        return 0;
    if (t >= 0 && in_ranges(d->topo_out, d->nto, t))
        return 0;
    return 1;
}
