/*
 * oof.c — analytical out-of-field dose per technique: dose per prescribed Gy
 * against the distance d from the field edge as a sum of components
 *   D(d) = sum_i A_i exp(-d / l_i)   (l_i = 0: the component is flat)
 * the form of the models reviewed by AAPM TG-158 (Kry et al. 2017, Med Phys
 * 44:e391): patient scatter, collimator scatter and head leakage for photons,
 * head leakage multiplied by the modulation factor M (MU per Gy relative to
 * 3D-CRT; leakage scales with MU); secondary photons and neutrons for protons.
 * Parameters and their sources: data/rt/out_of_field.csv.
 */
#include "hm_rt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMPONENTS 8

enum { KIND_PHOTON = 0, KIND_NEUTRON = 1 };

typedef struct component {
    int    kind;
    double amplitude;       /* mGy/Gy (photon) or mSv/Gy (neutron) */
    double length_cm;       /* 0 = flat */
    int    mu_scaled;
} component;

typedef struct tech {
    int       n;
    component c[MAX_COMPONENTS];
    double    modulation;   /* default M */
    double    neutron_wr;   /* H -> absorbed dose */
} tech;

struct hm_rt_oof_params {
    tech t[HM_RT_NTECHNIQUES];
};

static const char *const tech_names[HM_RT_NTECHNIQUES] = {
    "photon_3dcrt", "photon_imrt", "photon_vmat", "proton_ps", "proton_pbs",
};

const char *hm_rt_technique_name(int t)
{
    return t >= 0 && t < HM_RT_NTECHNIQUES ? tech_names[t] : "unknown";
}

int hm_rt_technique_parse(const char *name)
{
    for (int t = 0; name && t < HM_RT_NTECHNIQUES; t++)
        if (!strcmp(name, tech_names[t]))
            return t;
    return -1;
}

/* A finite number >= 0 from the whole field, else -1. */
static int parse_nonneg(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return (end == s || *end || !isfinite(*v) || *v < 0) ? -1 : 0;
}

static int parse_row(hm_rt_oof_params *p, char **f, const char *path, long line, hm_error *err)
{
    int t = hm_rt_technique_parse(f[0]);
    if (t < 0)
        return hm_error_set(err, HM_EVALIDATE, path, line, "technique",
                            "'%s': expected photon_3dcrt, photon_imrt, photon_vmat, proton_ps "
                            "or proton_pbs", f[0]);
    double amp, len;
    if (parse_nonneg(f[3], &amp) || parse_nonneg(f[4], &len))
        return hm_error_set(err, HM_EPARSE, path, line, "amplitude",
                            "amplitude '%s' and length_cm '%s' must be numbers >= 0", f[3], f[4]);
    if (strcmp(f[5], "0") && strcmp(f[5], "1"))
        return hm_error_set(err, HM_EPARSE, path, line, "mu_scaled", "'%s': expected 0 or 1", f[5]);
    tech *T = &p->t[t];
    if (!strcmp(f[2], "param")) {
        if (!strcmp(f[1], "modulation") && amp > 0)
            T->modulation = amp;
        else if (!strcmp(f[1], "neutron_wr") && amp >= 1)
            T->neutron_wr = amp;
        else
            return hm_error_set(err, HM_EVALIDATE, path, line, "component",
                                "param '%s' = %g: expected modulation > 0 or neutron_wr >= 1",
                                f[1], amp);
        return HM_OK;
    }
    int kind = !strcmp(f[2], "photon") ? KIND_PHOTON : !strcmp(f[2], "neutron") ? KIND_NEUTRON : -1;
    if (kind < 0)
        return hm_error_set(err, HM_EVALIDATE, path, line, "kind",
                            "'%s': expected photon, neutron or param", f[2]);
    if (T->n == MAX_COMPONENTS)
        return hm_error_set(err, HM_EVALIDATE, path, line, "component",
                            "more than %d components for %s", MAX_COMPONENTS, f[0]);
    T->c[T->n++] = (component){ kind, amp, len, f[5][0] == '1' };
    return HM_OK;
}

int hm_rt_oof_load(const char *path, hm_rt_oof_params **out, hm_error *err)
{
    *out = NULL;
    char full[4096];
    hm_csv *csv = NULL;
    int rc;
    if (path) {
        snprintf(full, sizeof full, "%s", path);
        if (!(csv = hm_csv_open(path, 1, err)))
            return err ? err->code : HM_EIO;
    } else if ((rc = hm_data_csv_open("rt/out_of_field.csv", full, sizeof full, &csv, err))) {
        return rc;
    }
    hm_rt_oof_params *p = calloc(1, sizeof *p);
    if (!p) {
        hm_csv_close(csv);
        return hm_error_set(err, HM_ENOMEM, full, 0, NULL, "out of memory");
    }
    for (int t = 0; t < HM_RT_NTECHNIQUES; t++)
        p->t[t].modulation = 1, p->t[t].neutron_wr = 10;
    char **f;
    size_t nf;
    int header = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        long line = hm_csv_line(csv);
        if (header) {
            header = 0;
            if (nf != 6 || strcmp(f[0], "technique") || strcmp(f[5], "mu_scaled")) {
                rc = hm_error_set(err, HM_EPARSE, full, line, NULL, "expected the header "
                                  "technique,component,kind,amplitude,length_cm,mu_scaled");
                break;
            }
            continue;
        }
        if (nf != 6) {
            rc = hm_error_set(err, HM_EPARSE, full, line, NULL, "expected 6 fields, got %zu", nf);
            break;
        }
        if ((rc = parse_row(p, f, full, line, err)))
            break;
    }
    hm_csv_close(csv);
    for (int t = 0; rc >= 0 && t < HM_RT_NTECHNIQUES; t++)
        if (p->t[t].n == 0)
            rc = hm_error_set(err, HM_EVALIDATE, full, 0, "technique",
                              "no component for %s: every technique needs its rows", tech_names[t]);
    if (rc < 0) {
        free(p);
        return rc;
    }
    *out = p;
    return HM_OK;
}

void hm_rt_oof_free(hm_rt_oof_params *p)
{
    free(p);
}

double hm_rt_oof_default_modulation(const hm_rt_oof_params *p, int t)
{
    return p && t >= 0 && t < HM_RT_NTECHNIQUES ? p->t[t].modulation : 1;
}

int hm_rt_oof_dose_at(const hm_rt_oof_params *p, int t, double modulation, double d_cm,
                      hm_rt_oof_dose *out, hm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!p || t < 0 || t >= HM_RT_NTECHNIQUES)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "technique", "unknown technique %d", t);
    if (!isfinite(d_cm) || d_cm < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "distance_cm",
                            "%g: expected a distance >= 0 from the field edge", d_cm);
    const tech *T = &p->t[t];
    double m = modulation > 0 ? modulation : T->modulation;
    for (int i = 0; i < T->n; i++) {
        const component *c = &T->c[i];
        double v = c->amplitude * (c->length_cm > 0 ? exp(-d_cm / c->length_cm) : 1.0);
        if (c->mu_scaled)
            v *= m;
        if (c->kind == KIND_PHOTON)
            out->photon_mgy_per_gy += v;
        else
            out->neutron_msv_per_gy += v;
    }
    out->neutron_mgy_per_gy = out->neutron_msv_per_gy / T->neutron_wr;
    out->total_mgy_per_gy = out->photon_mgy_per_gy + out->neutron_mgy_per_gy;
    return HM_OK;
}
