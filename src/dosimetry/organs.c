/*
 * organs.c — region doses to organ doses, and ICRP 103 effective dose.
 *
 * Organ dose = energy imparted in the regions carrying the organ / their mass
 * (mass-weighted mean of region doses).  Active (red) marrow, when the phantom
 * has no explicit marrow regions, is the marrow-share-weighted mean of the
 * doses in the homogeneous skeletal sites (Cristy 1981; the method of PCXMC,
 * Tapiovaara & Siiskonen 2008, STUK-A231); bone surface likewise, weighted by
 * the sites' masses (endosteum spread through the skeleton).  Both are then
 * converted from the skeleton medium to soft tissue by marrow_factor
 * (marrow.c); approximations stated in docs/phantoms.md.
 */
#include "hm_dosimetry.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct tissue {
    char   id[32];
    double wt;
    int    remainder;
    char   sex;        /* 'M', 'F' or 0 */
} tissue;

static int read_tissues(tissue **out, size_t *n, hm_error *err)
{
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("organs.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf, cap = 0;
    int ci = -1, cw = -1, cr = -1, cs = -1;
    tissue *t = NULL;
    *n = 0;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        if (ci < 0) {
            for (size_t i = 0; i < nf; i++) {
                if (!strcmp(f[i], "id")) ci = (int)i;
                if (!strcmp(f[i], "wt_icrp103")) cw = (int)i;
                if (!strcmp(f[i], "remainder")) cr = (int)i;
                if (!strcmp(f[i], "sex")) cs = (int)i;
            }
            if (ci < 0 || cw < 0 || cr < 0 || cs < 0) {
                rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), NULL,
                                  "expected columns id, wt_icrp103, remainder, sex");
                break;
            }
            continue;
        }
        size_t need = (size_t)(ci > cw ? ci : cw);
        need = need > (size_t)cr ? need : (size_t)cr;
        need = need > (size_t)cs ? need : (size_t)cs;
        if (nf <= need) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), NULL, "too few fields");
            break;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            tissue *nt = realloc(t, cap * sizeof *nt);
            if (!nt) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            t = nt;
        }
        tissue *x = &t[*n];
        memset(x, 0, sizeof *x);
        snprintf(x->id, sizeof x->id, "%s", f[ci]);
        char *end;
        x->wt = strtod(f[cw], &end);
        if (end == f[cw] || *end || x->wt < 0 || x->wt > 1) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), "wt_icrp103", "'%s' is not a weight in 0..1", f[cw]);
            break;
        }
        if (strcmp(f[cr], "0") && strcmp(f[cr], "1")) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), "remainder", "expected 0 or 1");
            break;
        }
        x->remainder = f[cr][0] == '1';
        x->sex = (f[cs][0] == 'M' || f[cs][0] == 'F') ? f[cs][0] : 0;
        (*n)++;
    }
    hm_csv_close(csv);
    if (rc < 0) {
        free(t);
        return rc;
    }
    *out = t;
    return HM_OK;
}

/* The tissue table, read once per process: the cohort run asks for an
 * effective dose per event (half a million for the cardiac cohort), and
 * reading data/organs.csv each time cost more than the dose itself. */
static pthread_once_t tissues_once = PTHREAD_ONCE_INIT;
static tissue *tissues_t;
static size_t tissues_n;
static hm_error tissues_err;
static int tissues_rc;

static void tissues_load(void)
{
    tissues_rc = read_tissues(&tissues_t, &tissues_n, &tissues_err);
}

static int load_tissues(const tissue **t, size_t *n, hm_error *err)
{
    pthread_once(&tissues_once, tissues_load);
    if (tissues_rc) {
        if (err)
            *err = tissues_err;
        return tissues_rc;
    }
    *t = tissues_t;
    *n = tissues_n;
    return HM_OK;
}

const hm_organ_dose *hm_dosimetry_find(const hm_dosimetry_result *r, const char *organ)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->organs[i].organ, organ))
            return &r->organs[i];
    return NULL;
}

int hm_dosimetry_gather(const hm_voxel_phantom *v, const double *dose, const double *sigma,
                        double marrow_factor, hm_dosimetry_result *out, hm_error *err)
{
    const tissue *t;
    size_t nt;
    int rc = load_tissues(&t, &nt, err);
    if (rc)
        return rc;
    out->organs = calloc(nt, sizeof *out->organs);
    if (!out->organs) {
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    out->n = nt;
    const char *age = v->age[0] ? v->age : "adult";
    for (size_t i = 0; i < nt; i++) {
        hm_organ_dose *o = &out->organs[i];
        snprintf(o->organ, sizeof o->organ, "%s", t[i].id);
        double e = 0, m = 0, s2 = 0;
        for (int r = 1; r <= v->nregions; r++)
            if (hm_list_has(v->regions[r].organs, '|', t[i].id) && v->regions[r].mass_g > 0) {
                e += dose[r] * v->regions[r].mass_g;
                s2 += pow(sigma[r] * v->regions[r].mass_g, 2);
                m += v->regions[r].mass_g;
            }
        if (m > 0) {
            o->dose_mgy_per_gy_cm2 = e / m;
            o->sigma_mgy_per_gy_cm2 = sqrt(s2) / m;
            o->mass_g = m;
            o->present = 1;
            continue;
        }
        int marrow = !strcmp(t[i].id, "red_marrow"), surface = !strcmp(t[i].id, "bone_surface");
        if (!marrow && !surface)
            continue;
        /* Skeletal sites: per-site dose, then shares (marrow) or masses (surface). */
        double wsum = 0, d = 0, sd2 = 0;
        for (int r = 1; r <= v->nregions; r++) {
            if (!v->regions[r].site[0] || v->regions[r].mass_g <= 0)
                continue;
            /* Regions of the same site share its weight in proportion to mass. */
            double site_mass = 0;
            for (int q = 1; q <= v->nregions; q++)
                if (!strcmp(v->regions[q].site, v->regions[r].site))
                    site_mass += v->regions[q].mass_g;
            double w;
            if (marrow) {
                double share;
                if ((rc = hm_phantom_marrow_share(age, v->regions[r].site, &share, err)))
                    return rc;
                w = share * v->regions[r].mass_g / site_mass;
            } else {
                w = v->regions[r].mass_g;
            }
            d += w * dose[r];
            sd2 += pow(w * sigma[r], 2);
            wsum += w;
        }
        if (wsum > 0) {
            o->dose_mgy_per_gy_cm2 = marrow_factor * d / wsum;
            o->sigma_mgy_per_gy_cm2 = marrow_factor * sqrt(sd2) / wsum;
            o->present = 1;
        }
    }
    return HM_OK;
}

int hm_dosimetry_effective_dose(const hm_dosimetry_result *male, const hm_dosimetry_result *female,
                                double *e, hm_error *err)
{
    const tissue *t;
    size_t nt;
    int rc = load_tissues(&t, &nt, err);
    if (rc)
        return rc;
    const hm_dosimetry_result *res[2] = { male, female };
    const char sexes[2] = { 'M', 'F' };
    double sum = 0, rem[2] = { 0, 0 };
    int nrem[2] = { 0, 0 };
    for (size_t i = 0; i < nt && !rc; i++) {
        for (int s = 0; s < 2 && !rc; s++) {
            const char *id = t[i].id;
            if (!strcmp(id, "gonads"))
                id = s == 0 ? "testes" : "ovaries";
            if (t[i].wt > 0) {
                const hm_organ_dose *o = hm_dosimetry_find(res[s], id);
                if (!o || !o->present) {
                    rc = hm_error_set(err, HM_ENOTFOUND, NULL, 0, id,
                                      "no dose for '%s' (%s phantom): effective dose needs every weighted tissue",
                                      id, s ? "female" : "male");
                    break;
                }
                sum += t[i].wt * 0.5 * o->dose_mgy_per_gy_cm2;
            }
            if (t[i].remainder && (!t[i].sex || t[i].sex == sexes[s])) {
                const hm_organ_dose *o = hm_dosimetry_find(res[s], id);
                if (o && o->present) {
                    rem[s] += o->dose_mgy_per_gy_cm2;
                    nrem[s]++;
                }
            }
        }
    }
    if (rc)
        return rc;
    if (!nrem[0] || !nrem[1])
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "remainder", "no remainder tissue has a dose");
    /* ICRP 103 Table 3: w_remainder = 0.12 on the mean of the remainder tissues. */
    sum += 0.12 * 0.5 * (rem[0] / nrem[0] + rem[1] / nrem[1]);
    *e = sum;
    return HM_OK;
}
