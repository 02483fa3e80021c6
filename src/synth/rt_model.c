/* rt_model.c — the synthetic radiotherapy patients: parameters from
 * data/synth/rt_*.csv (each value checked, problems name file:line:field)
 * and the simulation of one patient's diagnosis, course and other
 * treatments (docs/synth.md, "Radiotherapy patients"). */
#include "rt_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const rt_tech_names[RT_NTECH] = { "3dcrt", "imrt", "vmat", "proton_pbs",
                                              "proton_ds" };

/* ---- the parameter files, read by datatab.c ---------------------------- */

typedef sy_tab rtab;
#define rtab_open  sy_tab_open
#define rtab_next  sy_tab_next
#define rtab_close sy_tab_close
#define num        sy_tab_num
#define inum       sy_tab_int
#define too_many   sy_tab_too_many

static int str(rtab *t, const char *name, char *out, size_t size, hm_error *err)
{
    return sy_tab_text(t, name, 1, out, size, err);
}

static int load_centres(rt_params *p, hm_error *err)
{
    rtab t;
    int rc = rtab_open(&t, "rt_centres.csv", err);
    double sum = 0;
    while (rc == HM_OK && (rc = rtab_next(&t, err)) == 1) {
        if (p->ncentres == RT_MAX_CENTRES) {
            rc = too_many(&t, RT_MAX_CENTRES, err);
            break;
        }
        rt_centre *c = &p->centres[p->ncentres++];
        rc = str(&t, "centre_code", c->code, sizeof c->code, err);
        if (!rc) rc = str(&t, "country", c->country, sizeof c->country, err);
        if (!rc) rc = str(&t, "name", c->name, sizeof c->name, err);
        if (!rc) rc = str(&t, "language", c->language, sizeof c->language, err);
        if (!rc) rc = num(&t, "share", 0, 1, &c->share, err);
        if (!rc) rc = inum(&t, "first_year", 1950, 2022, &c->first_year, err);
        if (!rc) rc = inum(&t, "proton_year", 0, 2100, &c->proton_year, err);
        sum += c->share;
    }
    if (rc == 0 && fabs(sum - 1) > 1e-6)
        rc = hm_error_set(err, HM_EPARSE, t.path, 0, "share", "shares add up to %g, not 1", sum);
    rtab_close(&t);
    return rc;
}

static int load_sites(rt_params *p, hm_error *err)
{
    rtab t;
    int rc = rtab_open(&t, "rt_sites.csv", err);
    while (rc == HM_OK && (rc = rtab_next(&t, err)) == 1) {
        if (p->nsites == RT_MAX_SITES) {
            rc = too_many(&t, RT_MAX_SITES, err);
            break;
        }
        rt_site *s = &p->sites[p->nsites++];
        static const char *const off[3] = { "dx_cm", "dy_cm", "dz_cm" };
        static const char *const gtv[3] = { "gtv_x_cm", "gtv_y_cm", "gtv_z_cm" };
        rc = str(&t, "site", s->site, sizeof s->site, err);
        if (!rc) rc = str(&t, "label", s->label, sizeof s->label, err);
        if (!rc) rc = str(&t, "topography", s->topo, sizeof s->topo, err);
        if (!rc) rc = str(&t, "morphology", s->morph, sizeof s->morph, err);
        if (!rc) rc = str(&t, "ref_regions", s->ref_regions, sizeof s->ref_regions, err);
        if (!rc) rc = str(&t, "side", s->side, sizeof s->side, err);
        if (!rc) rc = str(&t, "chemo", s->chemo, sizeof s->chemo, err);
        if (!rc) rc = str(&t, "surgery_kind", s->surgery_kind, sizeof s->surgery_kind, err);
        if (!rc) rc = str(&t, "sct_type", s->sct_type, sizeof s->sct_type, err);
        if (!rc) rc = str(&t, "source", s->source, sizeof s->source, err);
        if (!rc) rc = num(&t, "weight", 0, 1e6, &s->weight, err);
        if (!rc) rc = num(&t, "p_male", 0, 1, &s->p_male, err);
        if (!rc) rc = num(&t, "age_min", 0, 22, &s->age_min, err);
        if (!rc) rc = num(&t, "age_mode", s->age_min, 22, &s->age_mode, err);
        if (!rc) rc = num(&t, "age_max", s->age_mode, 22, &s->age_max, err);
        for (int k = 0; k < 3 && !rc; k++) {
            rc = num(&t, off[k], -30, 30, &s->offset_cm[k], err);
            if (!rc) rc = num(&t, gtv[k], 0.3, 20, &s->gtv_cm[k], err);
        }
        if (!rc) rc = num(&t, "ctv_margin_cm", 0, 5, &s->ctv_margin_cm, err);
        if (!rc) rc = num(&t, "ptv_margin_cm", 0, 3, &s->ptv_margin_cm, err);
        if (!rc) rc = num(&t, "rx_gy", 0.1, 100, &s->rx_gy, err);
        if (!rc) rc = inum(&t, "fractions", 1, 60, &s->fractions, err);
        if (!rc) rc = num(&t, "p_proton", 0, 1, &s->p_proton, err);
        if (!rc) rc = num(&t, "p_surgery", 0, 1, &s->p_surgery, err);
        if (!rc) rc = num(&t, "p_gross_total", 0, 1, &s->p_gross_total, err);
        if (!rc) rc = num(&t, "p_sct", 0, 1, &s->p_sct, err);
        if (!rc) rc = num(&t, "survival_5y", 0.01, 1, &s->survival_5y, err);
        if (!rc) rc = inum(&t, "rt_delay_days", 0, 3650, &s->rt_delay_days, err);
        if (!rc && strcmp(s->side, "L") && strcmp(s->side, "R") && strcmp(s->side, "LR")
            && strcmp(s->side, "-"))
            rc = hm_error_set(err, HM_EPARSE, t.path, hm_csv_line(t.csv), "side",
                              "'%s': expected L, R, LR or -", s->side);
    }
    rtab_close(&t);
    return rc;
}

static int load_chemo(rt_params *p, hm_error *err)
{
    rtab t;
    int rc = rtab_open(&t, "rt_chemo.csv", err);
    while (rc == HM_OK && (rc = rtab_next(&t, err)) == 1) {
        if (p->nchemo == RT_MAX_CHEMO) {
            rc = too_many(&t, RT_MAX_CHEMO, err);
            break;
        }
        rt_chemo *c = &p->chemo[p->nchemo++];
        rc = str(&t, "protocol", c->protocol, sizeof c->protocol, err);
        if (!rc) rc = str(&t, "agent", c->agent, sizeof c->agent, err);
        if (!rc) rc = str(&t, "route", c->route, sizeof c->route, err);
        if (!rc) rc = num(&t, "cumulative_dose_mg_m2", 0.001, 100000, &c->dose_mg_m2, err);
    }
    rtab_close(&t);
    /* Every protocol named by a site exists, with at most RT_MAX_AGENTS agents. */
    for (int s = 0; rc == 0 && s < p->nsites; s++) {
        int n = 0;
        for (int k = 0; k < p->nchemo; k++)
            n += !strcmp(p->chemo[k].protocol, p->sites[s].chemo);
        if ((n == 0 && strcmp(p->sites[s].chemo, "-")) || n > RT_MAX_AGENTS)
            rc = hm_error_set(err, HM_EPARSE, "data/synth/rt_sites.csv", 0, "chemo",
                              "site %s: protocol '%s' has %d agents in rt_chemo.csv "
                              "(expected 1..%d)", p->sites[s].site, p->sites[s].chemo, n,
                              RT_MAX_AGENTS);
    }
    return rc;
}

static int load_eras(rt_params *p, hm_error *err)
{
    rtab t;
    int rc = rtab_open(&t, "rt_era.csv", err);
    while (rc == HM_OK && (rc = rtab_next(&t, err)) == 1) {
        if (p->neras == RT_MAX_ERAS) {
            rc = too_many(&t, RT_MAX_ERAS, err);
            break;
        }
        rt_era *e = &p->eras[p->neras++];
        rc = inum(&t, "from_year", 1950, 2100, &e->from, err);
        if (!rc) rc = inum(&t, "to_year", e->from, 2100, &e->to, err);
        if (!rc) rc = num(&t, "p_3dcrt", 0, 1, &e->p_photon[0], err);
        if (!rc) rc = num(&t, "p_imrt", 0, 1, &e->p_photon[1], err);
        if (!rc) rc = num(&t, "p_vmat", 0, 1, &e->p_photon[2], err);
        if (!rc) rc = num(&t, "p_pbs", 0, 1, &e->p_pbs, err);
        if (!rc && fabs(e->p_photon[0] + e->p_photon[1] + e->p_photon[2] - 1) > 1e-6)
            rc = hm_error_set(err, HM_EPARSE, t.path, hm_csv_line(t.csv), "p_3dcrt",
                              "p_3dcrt + p_imrt + p_vmat must be 1");
    }
    rtab_close(&t);
    return rc;
}

static int load_tech(rt_params *p, hm_error *err)
{
    rtab t;
    int rc = rtab_open(&t, "rt_technique.csv", err), seen[RT_NTECH] = { 0 };
    while (rc == HM_OK && (rc = rtab_next(&t, err)) == 1) {
        char name[32];
        int k = -1;
        if ((rc = str(&t, "technique", name, sizeof name, err)))
            break;
        for (int i = 0; i < RT_NTECH; i++)
            if (!strcmp(name, rt_tech_names[i]))
                k = i;
        if (k < 0) {
            rc = hm_error_set(err, HM_EPARSE, t.path, hm_csv_line(t.csv), "technique",
                              "'%s': expected 3dcrt, imrt, vmat, proton_pbs or proton_ds", name);
            break;
        }
        rt_tech *e = &p->tech[k];
        seen[k] = 1;
        rc = num(&t, "sigma_mm", 0.5, 20, &e->sigma_mm, err);
        if (!rc) rc = num(&t, "edge_fraction", 0, 1, &e->edge_fraction, err);
        if (!rc) rc = num(&t, "falloff_mm", 1, 200, &e->falloff_mm, err);
        if (!rc) rc = num(&t, "grid_margin_mm", 5, 200, &e->grid_margin_mm, err);
        if (!rc) rc = inum(&t, "beams_min", 1, 20, &e->beams_min, err);
        if (!rc) rc = inum(&t, "beams_max", e->beams_min, 20, &e->beams_max, err);
    }
    for (int k = 0; rc == 0 && k < RT_NTECH; k++)
        if (!seen[k])
            rc = hm_error_set(err, HM_EPARSE, t.path, 0, "technique", "no row for %s",
                              rt_tech_names[k]);
    rtab_close(&t);
    return rc;
}

static int load_hu(rt_params *p, hm_error *err)
{
    rtab t;
    int rc = rtab_open(&t, "rt_hu.csv", err), seen = 0;
    while (rc == HM_OK && (rc = rtab_next(&t, err)) == 1) {
        char m[32];
        double hu;
        if ((rc = str(&t, "medium", m, sizeof m, err)) || (rc = num(&t, "hu", -1024, 3000, &hu, err)))
            break;
        double *dst = !strcmp(m, "soft") ? &p->hu_soft : !strcmp(m, "lung") ? &p->hu_lung
                    : !strcmp(m, "skeleton") ? &p->hu_bone : !strcmp(m, "air") ? &p->hu_air
                    : NULL;
        if (!dst) {
            rc = hm_error_set(err, HM_EPARSE, t.path, hm_csv_line(t.csv), "medium",
                              "'%s': expected soft, lung, skeleton or air", m);
            break;
        }
        *dst = hu;
        seen++;
    }
    if (rc == 0 && seen != 4)
        rc = hm_error_set(err, HM_EPARSE, t.path, 0, "medium", "expected the 4 media once each");
    rtab_close(&t);
    return rc;
}

static int load_rois(rt_params *p, hm_error *err)
{
    rtab t;
    int rc = rtab_open(&t, "rt_roi_names.csv", err);
    static const char *const lang[4] = { "en", "fr", "de", "nl" };
    while (rc == HM_OK && (rc = rtab_next(&t, err)) == 1) {
        if (p->nrois == RT_MAX_ROIS) {
            rc = too_many(&t, RT_MAX_ROIS, err);
            break;
        }
        rt_roi_name *r = &p->rois[p->nrois++];
        char side[4];
        rc = str(&t, "roi", r->roi, sizeof r->roi, err);
        if (!rc) rc = str(&t, "regions", r->regions, sizeof r->regions, err);
        if (!rc) rc = str(&t, "organ", r->organ, sizeof r->organ, err);
        if (!rc) rc = str(&t, "side", side, sizeof side, err);
        for (int k = 0; k < 4 && !rc; k++)
            rc = str(&t, lang[k], r->names[k], sizeof r->names[k], err);
        if (!rc && strcmp(side, "L") && strcmp(side, "R") && strcmp(side, "-"))
            rc = hm_error_set(err, HM_EPARSE, t.path, hm_csv_line(t.csv), "side",
                              "'%s': expected L, R or -", side);
        r->side = side[0];
    }
    rtab_close(&t);
    return rc;
}

int rt_params_load(rt_params *p, hm_error *err)
{
    memset(p, 0, sizeof *p);
    int rc = load_centres(p, err);
    if (!rc) rc = load_sites(p, err);
    if (!rc) rc = load_chemo(p, err);
    if (!rc) rc = load_eras(p, err);
    if (!rc) rc = load_tech(p, err);
    if (!rc) rc = load_hu(p, err);
    if (!rc) rc = load_rois(p, err);
    if (rc == HM_OK && (p->ncentres == 0 || p->nsites == 0 || p->neras == 0 || p->nrois == 0))
        rc = hm_error_set(err, HM_EPARSE, "data/synth/rt_*.csv", 0, NULL,
                          "a radiotherapy parameter file has no rows");
    return rc;
}

/* ---- one patient -------------------------------------------------------- */

/* Triangular(a, c, b) by inversion of its CDF. */
static double triangular(double a, double c, double b, double u)
{
    if (b <= a)
        return a;
    double fc = (c - a) / (b - a);
    return u < fc ? a + sqrt(u * (b - a) * (c - a)) : b - sqrt((1 - u) * (b - a) * (b - c));
}

static int pick(const double *w, int n, size_t stride, double u)
{
    double sum = 0, acc = 0;
    for (int i = 0; i < n; i++)
        sum += *(const double *)((const char *)w + (size_t)i * stride);
    for (int i = 0; i < n; i++) {
        acc += *(const double *)((const char *)w + (size_t)i * stride);
        if (u * sum < acc)
            return i;
    }
    return n - 1;
}

void rt_simulate(const rt_params *p, const sy_params *sp, uint64_t seed, long index,
                 rt_patient *pt)
{
    memset(pt, 0, sizeof *pt);
    pt->index = index;
    sy_rng r;
    sy_rng_init(&r, seed, (uint32_t)index, SY_S_RT_DEMOG, 0);
    pt->centre = pick(&p->centres[0].share, p->ncentres, sizeof(rt_centre), sy_u01(&r));
    pt->site = pick(&p->sites[0].weight, p->nsites, sizeof(rt_site), sy_u01(&r));
    const rt_centre *c = &p->centres[pt->centre];
    const rt_site *s = &p->sites[pt->site];
    pt->male = sy_u01(&r) < s->p_male;
    pt->side = !strcmp(s->side, "L") ? 1 : !strcmp(s->side, "R") ? -1
             : !strcmp(s->side, "LR") ? (sy_u01(&r) < 0.5 ? 1 : -1) : 0;
    /* Diagnosis uniform over the centre's years up to the end of 2021 (a
     * year before the study end, so every course is complete). */
    long first = hm_date_from_ymd(c->first_year, 1, 1), last = hm_date_from_ymd(2021, 12, 31);
    pt->diag = first + (long)(sy_u01(&r) * (double)(last - first));
    double age_diag = triangular(s->age_min, s->age_mode, s->age_max, sy_u01(&r));
    pt->birth = pt->diag - (long)(age_diag * 365.25);
    /* Surgery first (days 3-20 after diagnosis), chemotherapy from day 7;
     * radiotherapy rt_delay_days after diagnosis (+- 25 %). */
    sy_rng tr;
    sy_rng_init(&tr, seed, (uint32_t)index, SY_S_RT_TREAT, 0);
    pt->surgery = sy_u01(&tr) < s->p_surgery;
    pt->gross_total = sy_u01(&tr) < s->p_gross_total;
    pt->surgery_date = pt->diag + 3 + (long)(sy_u01(&tr) * 17);
    pt->sct = sy_u01(&tr) < s->p_sct;
    pt->rt_start = pt->diag + (long)(s->rt_delay_days * (0.75 + 0.5 * sy_u01(&tr)));
    if (pt->rt_start <= pt->surgery_date)
        pt->rt_start = pt->surgery_date + 10;
    pt->sct_date = pt->rt_start - 30 - (long)(sy_u01(&tr) * 30);
    if (pt->sct_date <= pt->diag)
        pt->sct_date = pt->diag + 1;
    pt->chemo_start = pt->diag + 7;
    pt->chemo_end = pt->rt_start + 90 + (long)(sy_u01(&tr) * 120);
    for (int k = 0; k < RT_MAX_AGENTS; k++)
        pt->chemo_factor[k] = 0.80 + 0.20 * sy_u01(&tr);
    pt->rx_gy = s->rx_gy;
    pt->fractions = s->fractions;
    /* Five fractions a week: the last fraction (fractions - 1) weekdays later. */
    pt->rt_end = pt->rt_start + (pt->fractions - 1) / 5 * 7 + (pt->fractions - 1) % 5;
    pt->age_years = (double)(pt->rt_start - pt->birth) / 365.25;

    /* Technique: protons when the centre has them that year and the site's
     * indication draws them; else the photon technique of the era. */
    int y, m, d;
    hm_date_to_ymd(pt->rt_start, &y, &m, &d);
    int e = 0;
    while (e + 1 < p->neras && y > p->eras[e].to)
        e++;
    double u_proton = sy_u01(&r), u_tech = sy_u01(&r);
    if (c->proton_year > 0 && y >= c->proton_year && u_proton < s->p_proton)
        pt->technique = u_tech < p->eras[e].p_pbs ? RT_T_PBS : RT_T_DS;
    else
        pt->technique = u_tech < p->eras[e].p_photon[0] ? RT_T_3DCRT
                      : u_tech < p->eras[e].p_photon[0] + p->eras[e].p_photon[1] ? RT_T_IMRT
                      : RT_T_VMAT;

    /* Follow-up from the first fraction: death hazard -ln(S5)/5 per year,
     * loss as in the cardiac cohort (params.csv `loss`), end 2022-12-31. */
    double h_death = -log(s->survival_5y) / 5.0, h_loss = sp->loss;
    double t_death = sy_exp1(&r) / h_death * 365.25, t_loss = sy_exp1(&r) / h_loss * 365.25;
    long end = sp->study_end;
    pt->exit = end;
    pt->exit_reason = 0;
    if (pt->rt_end + (long)t_death < pt->exit) {
        pt->exit = pt->rt_end + (long)t_death;
        pt->exit_reason = 1;
    }
    if (pt->rt_end + (long)t_loss < pt->exit) {
        pt->exit = pt->rt_end + (long)t_loss;
        pt->exit_reason = 3;
    }
    if (pt->chemo_end > pt->exit)
        pt->chemo_end = pt->exit;
}
