/*
 * params.c — reading the built-in phantoms' data files (data/phantoms/):
 * ages.csv (exterior per age), layout.csv (organ solids), targets.csv
 * (reference masses), media.csv (compositions).  Every value is checked and a
 * bad one reported with file, line and column.
 */
#include "ph_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t ph_fnv1a(uint64_t h, const void *data, size_t n)
{
    /* FNV-1a 64-bit (Fowler, Noll, Vo): a fast hash for cache keys, not security. */
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int ph_file_hash(const char *path, uint64_t *h, hm_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot open: %s", strerror(errno));
    unsigned char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        *h = ph_fnv1a(*h, buf, n);
    fclose(fp);
    return HM_OK;
}

/* Column lookup in a header record. */
typedef struct cols {
    char   names[32][40];
    size_t n;
} cols;

static void cols_set(cols *c, char **f, size_t n)
{
    c->n = n < 32 ? n : 32;
    for (size_t i = 0; i < c->n; i++)
        snprintf(c->names[i], sizeof c->names[i], "%s", f[i]);
}

static int col(const cols *c, const char *name, const char *file, hm_error *err)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->names[i], name))
            return (int)i;
    return hm_error_set(err, HM_EPARSE, file, 1, name, "missing column '%s'", name);
}

static int get_num(char **f, size_t nf, int ci, const hm_csv *csv, const char *name,
                   double *out, hm_error *err)
{
    if (ci < 0 || (size_t)ci >= nf)
        return hm_error_set(err, HM_EPARSE, hm_csv_name(csv), hm_csv_line(csv), name,
                            "missing value (expected a number)");
    char *end;
    errno = 0;
    double v = strtod(f[ci], &end);
    if (end == f[ci] || *end || errno || !isfinite(v))
        return hm_error_set(err, HM_EPARSE, hm_csv_name(csv), hm_csv_line(csv), name,
                            "'%s' is not a number", f[ci]);
    *out = v;
    return HM_OK;
}

static int open_data(const char *rel, hm_csv **csv, hm_phantom *p, hm_error *err)
{
    char path[1024];
    int rc = hm_data_path(rel, path, sizeof path, err);
    if (rc)
        return rc;
    if (p && (rc = ph_file_hash(path, &p->param_hash, err)))
        return rc;
    *csv = hm_csv_open(path, 1, err);
    return *csv ? HM_OK : (err ? err->code : HM_EIO);
}

/* open_data, then the header record into *c: every table in data/phantoms
 * that is read by column name starts this way. */
static int open_table(const char *rel, hm_csv **csv, cols *c, hm_phantom *p, hm_error *err)
{
    int rc = open_data(rel, csv, p, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    if ((rc = hm_csv_next(*csv, &f, &nf, err)) <= 0) {
        hm_csv_close(*csv);
        return rc < 0 ? rc : hm_error_set(err, HM_EPARSE, rel, 0, NULL, "empty file");
    }
    cols_set(c, f, nf);
    return HM_OK;
}

/* Sex column matches: "both" always; M/F rows for that sex; H takes both. */
static int sex_matches(const char *col_sex, char sex)
{
    if (!strcmp(col_sex, "both"))
        return 1;
    if (sex == 'H')
        return !strcmp(col_sex, "M") || !strcmp(col_sex, "F");
    return col_sex[0] == sex && !col_sex[1];
}

static int load_ages(hm_phantom *p, hm_error *err)
{
    hm_csv *csv;
    cols c;
    int rc = open_table("phantoms/ages.csv", &csv, &c, p, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    int found = 0;
    static const char *names[] = { "height_cm", "trunk_cm", "legs_cm", "head_cm", "head_cap_frac",
                                   "head_a_cm", "head_b_cm", "trunk_b_over_a", "leg_foot_frac",
                                   "rho_soft", "rho_lung", "rho_skeleton", "a_t_start_cm" };
    int idx[13], ia, is;
    for (int i = 0; i < 13; i++)
        if ((idx[i] = col(&c, names[i], hm_csv_name(csv), err)) < 0) {
            hm_csv_close(csv);
            return idx[i];
        }
    if ((ia = col(&c, "age", hm_csv_name(csv), err)) < 0 || (is = col(&c, "sex", hm_csv_name(csv), err)) < 0) {
        hm_csv_close(csv);
        return HM_EPARSE;
    }
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        if ((size_t)ia >= nf || (size_t)is >= nf || strcmp(f[ia], p->age))
            continue;
        int both = !strcmp(f[is], "both");
        if (!both && !(f[is][0] == p->sex && !f[is][1]))
            continue;
        double v[13];
        for (int i = 0; i < 13; i++)
            if ((rc = get_num(f, nf, idx[i], csv, names[i], &v[i], err))) {
                hm_csv_close(csv);
                return rc;
            }
        for (int i = 0; i < 13; i++)
            if (v[i] <= 0) {
                rc = hm_error_set(err, HM_EVALIDATE, hm_csv_name(csv), hm_csv_line(csv), names[i],
                                  "must be > 0");
                hm_csv_close(csv);
                return rc;
            }
        ph_exterior *e = &p->ex;
        e->height_cm = v[0]; e->c_t = v[1]; e->c_l = v[2]; e->head_h = v[3];
        e->cap_frac = v[4]; e->a_h = v[5]; e->b_h = v[6]; e->b_over_a = v[7];
        e->foot_frac = v[8]; e->rho_soft = v[9]; e->rho_lung = v[10]; e->rho_skel = v[11];
        e->a_t = v[12];
        e->b_t = e->a_t * e->b_over_a;
        e->skin_cm = 0.15;
        found = 1;
        break;
    }
    hm_csv_close(csv);
    if (rc < 0)
        return rc;
    if (!found)
        return hm_error_set(err, HM_ENOTFOUND, "phantoms/ages.csv", 0, "age",
                            "no exterior for age %s sex %c%s", p->age, p->sex,
                            p->sex == 'H' ? " (this age has sex-specific data: use M or F)" : "");
    return HM_OK;
}

static int find_group(hm_phantom *p, const char *name)
{
    for (int i = 0; i < p->ngroups; i++)
        if (!strcmp(p->groups[i].name, name))
            return i;
    return -1;
}

static int find_region(hm_phantom *p, const char *name)
{
    for (int i = 1; i <= p->nregions; i++)
        if (!strcmp(p->regions[i].name, name))
            return i;
    return 0;
}

static int add_region(hm_phantom *p, const char *name, const char *organs, const char *site,
                      int medium, hm_error *err)
{
    hm_phantom_region *r = realloc(p->regions, sizeof *r * (size_t)(p->nregions + 2));
    if (!r)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    p->regions = r;
    if (p->nregions == 0)
        memset(&r[0], 0, sizeof r[0]), snprintf(r[0].name, sizeof r[0].name, "outside"),
        r[0].medium = -1;
    int id = ++p->nregions;
    memset(&r[id], 0, sizeof r[id]);
    snprintf(r[id].name, sizeof r[id].name, "%s", name);
    snprintf(r[id].organs, sizeof r[id].organs, "%s", organs);
    snprintf(r[id].site, sizeof r[id].site, "%s", site);
    r[id].medium = medium;
    return id;
}

static int add_group(hm_phantom *p, const char *name, hm_error *err)
{
    ph_group *ng = realloc(p->groups, sizeof *ng * (size_t)(p->ngroups + 1));
    if (!ng)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    p->groups = ng;
    int g = p->ngroups++;
    memset(&ng[g], 0, sizeof ng[g]);
    snprintf(ng[g].name, sizeof ng[g].name, "%s", name);
    ng[g].k = 1.0;
    return g;
}

static int medium_index(const char *s)
{
    return !strcmp(s, "soft") ? 0 : !strcmp(s, "lung") ? 1 : !strcmp(s, "skeleton") ? 2 : -1;
}

static int load_layout(hm_phantom *p, hm_error *err)
{
    hm_csv *csv;
    cols c;
    int rc = open_table("phantoms/layout.csv", &csv, &c, p, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    static const char *sn[] = { "region", "organ", "site", "group", "material", "sex", "frame", "shape" };
    static const char *nn[] = { "cx", "cy", "cz", "ax", "ay", "az", "ylo", "yhi", "zlo", "zhi", "thick", "ext" };
    int is[8], in[12];
    for (int i = 0; i < 8; i++)
        if ((is[i] = col(&c, sn[i], hm_csv_name(csv), err)) < 0)
            goto fail_parse;
    for (int i = 0; i < 12; i++)
        if ((in[i] = col(&c, nn[i], hm_csv_name(csv), err)) < 0)
            goto fail_parse;
    /* Fixed regions first: skin and residual soft tissue of the three body parts. */
    p->r_skin = add_region(p, "skin", "skin", "", 0, err);
    p->r_soft_trunk = add_region(p, "soft_tissue_trunk", "muscle|lymph_nodes", "", 0, err);
    p->r_soft_head = add_region(p, "soft_tissue_head", "muscle", "", 0, err);
    p->r_soft_legs = add_region(p, "soft_tissue_legs", "muscle", "", 0, err);
    /* The skin is fitted by its thickness, not by a solid (fit.c). */
    if (p->r_soft_legs < 0 || (rc = add_group(p, "skin", err)) < 0) {
        hm_csv_close(csv);
        return p->r_soft_legs < 0 ? p->r_soft_legs : rc;
    }
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        rc = 0;
        const char *file = hm_csv_name(csv);
        long line = hm_csv_line(csv);
        if (nf < 20) {
            rc = hm_error_set(err, HM_EPARSE, file, line, NULL, "expected 20 fields, got %zu", nf);
            break;
        }
        if (!sex_matches(f[is[5]], p->sex)) {
            if (strcmp(f[is[5]], "M") && strcmp(f[is[5]], "F")) {
                rc = hm_error_set(err, HM_EPARSE, file, line, "sex", "expected both, M or F, got '%s'", f[is[5]]);
                break;
            }
            continue;
        }
        ph_solid s;
        memset(&s, 0, sizeof s);
        int med = medium_index(f[is[4]]);
        if (med < 0) {
            rc = hm_error_set(err, HM_EPARSE, file, line, "material", "expected soft, lung or skeleton, got '%s'", f[is[4]]);
            break;
        }
        const char *fr = f[is[6]], *sh = f[is[7]];
        s.frame = !strcmp(fr, "trunk") ? FR_TRUNK : !strcmp(fr, "head") ? FR_HEAD : !strcmp(fr, "legs") ? FR_LEGS : -1;
        s.shape = !strcmp(sh, "ellipsoid") ? SH_ELLIPSOID : !strcmp(sh, "ecyl") ? SH_ECYL :
                  !strcmp(sh, "ecylx") ? SH_ECYLX : !strcmp(sh, "ellshell") ? SH_ELLSHELL :
                  !strcmp(sh, "ecylshell") ? SH_ECYLSHELL : -1;
        if (s.frame < 0) {
            rc = hm_error_set(err, HM_EPARSE, file, line, "frame", "expected trunk, head or legs, got '%s'", fr);
            break;
        }
        if (s.shape < 0) {
            rc = hm_error_set(err, HM_EPARSE, file, line, "shape",
                              "expected ellipsoid, ecyl, ecylx, ellshell or ecylshell, got '%s'", sh);
            break;
        }
        double v[12];
        for (int i = 0; i < 12 && !rc; i++)
            rc = get_num(f, nf, in[i], csv, nn[i], &v[i], err);
        if (rc)
            break;
        for (int i = 0; i < 3; i++) {
            s.c0[i] = v[i];
            s.a0[i] = v[3 + i];
            if (v[3 + i] <= 0) {
                rc = hm_error_set(err, HM_EVALIDATE, file, line, nn[3 + i], "semi-axis must be > 0");
                break;
            }
        }
        if (rc)
            break;
        for (int i = 0; i < 4; i++)
            s.clip[i] = v[6 + i];
        s.f0 = v[10];
        s.ext = v[11] != 0;
        if ((s.shape == SH_ELLSHELL || s.shape == SH_ECYLSHELL) && !(s.f0 > 0 && s.f0 < 1)) {
            rc = hm_error_set(err, HM_EVALIDATE, file, line, "thick", "a shell needs 0 < thick < 1");
            break;
        }
        int r = find_region(p, f[is[0]]);
        if (!r && (r = add_region(p, f[is[0]], f[is[1]], f[is[2]], med, err)) < 0) {
            rc = r;
            break;
        }
        s.region = r;
        if (strcmp(f[is[3]], "-")) {
            int g = find_group(p, f[is[3]]);
            if (g < 0 && (g = add_group(p, f[is[3]], err)) < 0) {
                rc = g;
                break;
            }
            s.group = g;
        } else {
            s.group = -1;
        }
        ph_solid *ns = realloc(p->solids, sizeof *ns * (size_t)(p->nsolids + 1));
        if (!ns) {
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
            break;
        }
        p->solids = ns;
        ns[p->nsolids++] = s;
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : HM_OK;
fail_parse:
    hm_csv_close(csv);
    return HM_EPARSE;
}

/* Reference masses: exact sex row, else "both"; H needs "both" rows. */
static int load_targets(hm_phantom *p, hm_error *err)
{
    hm_csv *csv;
    cols c;
    int rc = open_table("phantoms/targets.csv", &csv, &c, p, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    int ig, ia, is, im, ik, isrc;
    if ((ig = col(&c, "group", hm_csv_name(csv), err)) < 0 || (ia = col(&c, "age", hm_csv_name(csv), err)) < 0 ||
        (is = col(&c, "sex", hm_csv_name(csv), err)) < 0 || (im = col(&c, "mass_g", hm_csv_name(csv), err)) < 0 ||
        (ik = col(&c, "kind", hm_csv_name(csv), err)) < 0 || (isrc = col(&c, "source", hm_csv_name(csv), err)) < 0) {
        hm_csv_close(csv);
        return HM_EPARSE;
    }
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        if (nf < 6) {
            rc = hm_error_set(err, HM_EPARSE, hm_csv_name(csv), hm_csv_line(csv), NULL, "expected 6 fields");
            break;
        }
        if (strcmp(f[ia], p->age))
            continue;
        int both = !strcmp(f[is], "both");
        if (!both && !(f[is][0] == p->sex && !f[is][1]))
            continue;
        double m;
        if ((rc = get_num(f, nf, im, csv, "mass_g", &m, err)))
            break;
        if (m <= 0) {
            rc = hm_error_set(err, HM_EVALIDATE, hm_csv_name(csv), hm_csv_line(csv), "mass_g", "must be > 0");
            break;
        }
        if (!strcmp(f[ig], "total_body")) {
            p->total_target_g = m;
            continue;
        }
        int g = find_group(p, f[ig]);
        if (g < 0)
            continue;   /* e.g. uterus for a male phantom */
        ph_group *gr = &p->groups[g];
        if (gr->has_target && both)
            continue;   /* a sex-specific row wins over "both" */
        gr->target_g = m;
        gr->has_target = 1;
        snprintf(gr->kind, sizeof gr->kind, "%s", f[ik]);
        snprintf(gr->source, sizeof gr->source, "%s", f[isrc]);
    }
    hm_csv_close(csv);
    if (rc < 0)
        return rc;
    if (p->total_target_g <= 0)
        return hm_error_set(err, HM_ENOTFOUND, "phantoms/targets.csv", 0, "total_body",
                            "no total body mass for age %s sex %c", p->age, p->sex);
    for (int g = 0; g < p->ngroups; g++)
        if (!p->groups[g].has_target)
            return hm_error_set(err, HM_ENOTFOUND, "phantoms/targets.csv", 0, p->groups[g].name,
                                "no reference mass for group '%s' at age %s sex %c",
                                p->groups[g].name, p->age, p->sex);
    return HM_OK;
}

int ph_media_load(hm_phantom_medium *media, int nmax, int *n, hm_error *err)
{
    static const char *names[3] = { "soft", "lung", "skeleton" };
    hm_csv *csv;
    int rc = open_data("phantoms/media.csv", &csv, NULL, err);
    if (rc)
        return rc;
    *n = nmax < 3 ? nmax : 3;
    for (int i = 0; i < *n; i++) {
        memset(&media[i], 0, sizeof media[i]);
        snprintf(media[i].name, sizeof media[i].name, "%s", names[i]);
    }
    char **f;
    size_t nf;
    int header = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        if (header) {
            header = 0;
            continue;
        }
        if (nf < 3) {
            rc = hm_error_set(err, HM_EPARSE, hm_csv_name(csv), hm_csv_line(csv), NULL, "expected medium,Z,mass_fraction");
            break;
        }
        int m = medium_index(f[0]);
        double z, w;
        if (m < 0 || m >= *n) {
            rc = hm_error_set(err, HM_EPARSE, hm_csv_name(csv), hm_csv_line(csv), "medium", "unknown medium '%s'", f[0]);
            break;
        }
        if ((rc = get_num(f, nf, 1, csv, "Z", &z, err)) || (rc = get_num(f, nf, 2, csv, "mass_fraction", &w, err)))
            break;
        if (z < 1 || z > 99 || w < 0 || media[m].nelements >= HM_PHANTOM_MAX_ELEMENTS) {
            rc = hm_error_set(err, HM_EVALIDATE, hm_csv_name(csv), hm_csv_line(csv), "Z",
                              "expected 1 <= Z <= 99, fraction >= 0, at most %d elements", HM_PHANTOM_MAX_ELEMENTS);
            break;
        }
        media[m].z[media[m].nelements] = (int)z;
        media[m].mass_fraction[media[m].nelements++] = w;
    }
    hm_csv_close(csv);
    if (rc < 0)
        return rc;
    for (int i = 0; i < *n; i++) {
        double s = 0;
        for (int k = 0; k < media[i].nelements; k++)
            s += media[i].mass_fraction[k];
        if (s <= 0)
            return hm_error_set(err, HM_EVALIDATE, "phantoms/media.csv", 0, names[i], "medium '%s' has no elements", names[i]);
        for (int k = 0; k < media[i].nelements; k++)
            media[i].mass_fraction[k] /= s;
    }
    return HM_OK;
}

int ph_load(hm_phantom *p, hm_error *err)
{
    int rc;
    p->param_hash = ph_fnv1a(1469598103934665603ULL, p->age, strlen(p->age));
    p->param_hash = ph_fnv1a(p->param_hash, &p->sex, 1);
    if ((rc = load_ages(p, err)) || (rc = load_layout(p, err)) || (rc = load_targets(p, err)))
        return rc;
    if ((rc = ph_media_load(p->media, 3, &p->nmedia, err)))
        return rc;
    double rho[3] = { p->ex.rho_soft, p->ex.rho_lung, p->ex.rho_skel };
    for (int i = 1; i <= p->nregions; i++)
        p->regions[i].density_g_cm3 = rho[p->regions[i].medium];
    return HM_OK;
}
