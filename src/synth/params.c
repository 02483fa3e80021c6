/* params.c — loading the cohort parameters from the CSV files of data/synth/.
 * The files are read by datatab.c (columns by name; every value checked, a
 * problem names file:line:field). */
#include "synth_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const sy_type_names[SY_NTYPES] = { "leukaemia", "lymphoma", "cns", "solid" };

/* The reader of datatab.c under the short names this file has always used. */
typedef sy_tab table;
#define table_open  sy_tab_open
#define table_next  sy_tab_next
#define table_close sy_tab_close
#define col         sy_tab_col
#define num         sy_tab_num

static int str(table *t, const char *name, char *out, size_t size, hm_error *err)
{
    return sy_tab_text(t, name, 0, out, size, err);
}

static int too_many(table *t, hm_error *err)
{
    return hm_error_set(err, HM_EPARSE, t->path, t->line, NULL, "too many rows");
}

static int load_centres(sy_params *p, hm_error *err)
{
    table t;
    int rc = table_open(&t, "centres.csv", err);
    double total = 0;
    while (rc == HM_OK && (rc = table_next(&t, err)) == 1) {
        if (p->ncentres == SY_MAX_CENTRES) { rc = too_many(&t, err); break; }
        sy_centre *c = &p->centres[p->ncentres];
        double fy, off;
        if ((rc = str(&t, "centre_code", c->code, sizeof c->code, err))
            || (rc = str(&t, "country", c->country, sizeof c->country, err))
            || (rc = str(&t, "name", c->name, sizeof c->name, err))
            || (rc = num(&t, "share", 0, 1, &c->share, err))
            || (rc = num(&t, "first_year", 1950, 2022, &fy, err))
            || (rc = num(&t, "day_offsets", 0, 1, &off, err))
            || (rc = num(&t, "dose_missing", 0, 1, &c->dose_missing, err)))
            break;
        c->first_year = (int)fy;
        c->day_offsets = off > 0.5;
        total += c->share;
        p->ncentres++;
    }
    if (rc == HM_OK && (p->ncentres == 0 || fabs(total - 1) > 1e-6))
        rc = hm_error_set(err, HM_EPARSE, t.path, 0, "share",
                          "centre shares sum to %g, expected 1", total);
    table_close(&t);
    return rc;
}

/* age_from_days,age_to_days,<value column>: contiguous bands from 0. */
static int load_bands(const char *file, const char *value, const char *label, sy_band *b,
                      int *n, hm_error *err)
{
    table t;
    int rc = table_open(&t, file, err);
    while (rc == HM_OK && (rc = table_next(&t, err)) == 1) {
        if (*n == SY_MAX_BANDS) { rc = too_many(&t, err); break; }
        double from, to;
        if ((rc = num(&t, "age_from_days", 0, 9000, &from, err))
            || (rc = num(&t, "age_to_days", 1, 9000, &to, err))
            || (rc = num(&t, value, 1e-6, 1e6, &b[*n].value, err)))
            break;
        if (label && (rc = str(&t, label, b[*n].label, sizeof b[*n].label, err)))
            break;
        if (from != (*n ? (double)b[*n - 1].to_days : 0) || to <= from) {
            rc = hm_error_set(err, HM_EPARSE, t.path, t.line, "age_from_days",
                              "bands must be contiguous from 0 and increasing");
            break;
        }
        b[*n].from_days = (long)from;
        b[*n].to_days = (long)to;
        (*n)++;
    }
    if (rc == HM_OK && *n == 0)
        rc = hm_error_set(err, HM_EPARSE, t.path, 0, NULL, "no rows");
    table_close(&t);
    return rc;
}

static int load_eras(sy_params *p, hm_error *err)
{
    table t;
    int rc = table_open(&t, "era.csv", err);
    while (rc == HM_OK && (rc = table_next(&t, err)) == 1) {
        if (p->neras == SY_MAX_ERAS) { rc = too_many(&t, err); break; }
        sy_era *e = &p->eras[p->neras];
        double from, to;
        if ((rc = num(&t, "year_from", 1900, 2100, &from, err))
            || (rc = num(&t, "year_to", 1900, 2100, &to, err))
            || (rc = num(&t, "kap_factor", 0.01, 100, &e->kap_factor, err))
            || (rc = num(&t, "p_tier1", 0, 1, &e->p_tier[0], err))
            || (rc = num(&t, "p_tier2", 0, 1, &e->p_tier[1], err))
            || (rc = num(&t, "p_tier3", 0, 1, &e->p_tier[2], err))
            || (rc = num(&t, "p_interventional", 0, 1, &e->p_interventional, err)))
            break;
        if (fabs(e->p_tier[0] + e->p_tier[1] + e->p_tier[2] - 1) > 1e-6) {
            rc = hm_error_set(err, HM_EPARSE, t.path, t.line, "p_tier3",
                              "tier probabilities must sum to 1");
            break;
        }
        e->from = (int)from;
        e->to = (int)to;
        p->neras++;
    }
    table_close(&t);
    return rc;
}

static int load_exams(sy_params *p, hm_error *err)
{
    table t;
    int rc = table_open(&t, "exam_types.csv", err);
    while (rc == HM_OK && (rc = table_next(&t, err)) == 1) {
        if (p->nexams == SY_MAX_EXAMS) { rc = too_many(&t, err); break; }
        sy_exam *e = &p->exams[p->nexams];
        char cat[32];
        if ((rc = str(&t, "exam_type", e->exam, sizeof e->exam, err))
            || (rc = str(&t, "category", cat, sizeof cat, err))
            || (rc = num(&t, "weight", 0, 100, &e->weight, err))
            || (rc = num(&t, "kap_factor", 0.01, 100, &e->kap_factor, err)))
            break;
        e->interventional = !strcmp(cat, "interventional");
        p->nexams++;
    }
    table_close(&t);
    return rc;
}

/* Is `name` in the comma-separated list? */
static int load_organs(sy_params *p, hm_error *err)
{
    table t;
    int rc = table_open(&t, "organ_ratios.csv", err);
    while (rc == HM_OK && (rc = table_next(&t, err)) == 1) {
        sy_organ o;
        if ((rc = str(&t, "organ", o.organ, sizeof o.organ, err))
            || (rc = num(&t, "ratio_mgy_per_msv", 0, 100, &o.ratio, err)))
            break;
        if (p->norgans == HM_SYNTH_MAX_ORGANS) { rc = too_many(&t, err); break; }
        p->organs[p->norgans++] = o;
    }
    if (rc == HM_OK && !p->norgans)
        rc = hm_error_set(err, HM_EPARSE, t.path, 0, "organ", "no organs listed");
    table_close(&t);
    return rc;
}

static int load_growth(sy_params *p, hm_error *err)
{
    table t;
    int rc = table_open(&t, "growth.csv", err);
    while (rc == HM_OK && (rc = table_next(&t, err)) == 1) {
        if (p->ngrowth == SY_MAX_GROWTH) { rc = too_many(&t, err); break; }
        sy_growth *g = &p->growth[p->ngrowth];
        if ((rc = num(&t, "age_years", 0, 30, &g->age_years, err))
            || (rc = num(&t, "weight_kg", 0.5, 200, &g->weight_kg, err))
            || (rc = num(&t, "height_cm", 20, 230, &g->height_cm, err)))
            break;
        p->ngrowth++;
    }
    table_close(&t);
    return rc;
}

static int type_of(const char *s)
{
    for (int i = 0; i < SY_NTYPES; i++)
        if (!strcmp(s, sy_type_names[i]))
            return i;
    return -1;
}

static int load_rates(sy_params *p, hm_error *err)
{
    table t;
    int rc = table_open(&t, "cancer_incidence.csv", err);
    while (rc == HM_OK && (rc = table_next(&t, err)) == 1) {
        char ty[32];
        sy_rate r;
        if ((rc = str(&t, "type", ty, sizeof ty, err))
            || (rc = num(&t, "age_from_years", 0, 150, &r.from_years, err))
            || (rc = num(&t, "age_to_years", 0, 150, &r.to_years, err))
            || (rc = num(&t, "rate_per_million_py", 0, 1e6, &r.per_million, err)))
            break;
        int k = type_of(ty);
        if (k < 0) {
            rc = hm_error_set(err, HM_EPARSE, t.path, t.line, "type",
                              "'%s': expected leukaemia, lymphoma, cns or solid", ty);
            break;
        }
        if (p->nrates[k] == SY_MAX_RATES) { rc = too_many(&t, err); break; }
        p->rates[k][p->nrates[k]++] = r;
    }
    table_close(&t);
    return rc;
}

static int load_codes(sy_params *p, hm_error *err)
{
    table t;
    int rc = table_open(&t, "cancer_codes.csv", err);
    while (rc == HM_OK && (rc = table_next(&t, err)) == 1) {
        if (p->ncodes == SY_MAX_CODES) { rc = too_many(&t, err); break; }
        sy_code *c = &p->codes[p->ncodes];
        char ty[32];
        const char *sex;
        if ((rc = str(&t, "type", ty, sizeof ty, err))
            || (rc = str(&t, "topography", c->topo, sizeof c->topo, err))
            || (rc = str(&t, "morphology", c->morph, sizeof c->morph, err))
            || (rc = str(&t, "icd10", c->icd10, sizeof c->icd10, err))
            || (rc = num(&t, "weight", 0, 100, &c->weight, err))
            || (rc = col(&t, "sex", &sex, err)))
            break;
        if ((c->type = type_of(ty)) < 0 || (sex[0] && strcmp(sex, "M") && strcmp(sex, "F"))) {
            rc = hm_error_set(err, HM_EPARSE, t.path, t.line, c->type < 0 ? "type" : "sex",
                              "unknown value");
            break;
        }
        c->sex = sex[0];
        p->ncodes++;
    }
    table_close(&t);
    return rc;
}

static int load_technique(sy_params *p, hm_error *err)
{
    static const char *const want[4][2] = { { "fluoroscopy", "A" }, { "fluoroscopy", "B" },
                                            { "stationary_acquisition", "A" },
                                            { "stationary_acquisition", "B" } };
    int seen[4] = { 0 };
    table t;
    int rc = table_open(&t, "event_technique.csv", err);
    while (rc == HM_OK && (rc = table_next(&t, err)) == 1) {
        sy_technique x;
        if ((rc = str(&t, "event_type", x.event_type, sizeof x.event_type, err))
            || (rc = str(&t, "plane", x.plane, sizeof x.plane, err))
            || (rc = str(&t, "protocol", x.protocol, sizeof x.protocol, err))
            || (rc = num(&t, "kvp_base", 20, 150, &x.kvp_base, err))
            || (rc = num(&t, "kvp_per_kg", 0, 5, &x.kvp_per_kg, err))
            || (rc = num(&t, "ma_min", 0, 2000, &x.ma_min, err))
            || (rc = num(&t, "ma_max", 0, 2000, &x.ma_max, err))
            || (rc = num(&t, "pulse_width_ms", 0, 1000, &x.pulse_ms, err))
            || (rc = num(&t, "pulse_rate_per_s", 0.1, 100, &x.pulse_rate, err))
            || (rc = num(&t, "filter_cu_mm", 0, 10, &x.cu_mm, err))
            || (rc = num(&t, "filter_al_mm", 0, 50, &x.al_mm, err))
            || (rc = num(&t, "primary_deg", -180, 180, &x.primary_deg, err))
            || (rc = num(&t, "primary_sd_deg", 0, 90, &x.primary_sd, err))
            || (rc = num(&t, "secondary_deg", -90, 90, &x.secondary_deg, err))
            || (rc = num(&t, "secondary_sd_deg", 0, 90, &x.secondary_sd, err)))
            break;
        int k = 0;
        while (k < 4 && (strcmp(want[k][0], x.event_type) || strcmp(want[k][1], x.plane)))
            k++;
        if (k == 4) {
            rc = hm_error_set(err, HM_EPARSE, t.path, t.line, "event_type",
                              "expected fluoroscopy or stationary_acquisition on plane A or B");
            break;
        }
        p->tech[k] = x;
        seen[k] = 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s", t.path);
    table_close(&t);
    for (int k = 0; rc == HM_OK && k < 4; k++)
        if (!seen[k])
            rc = hm_error_set(err, HM_EPARSE, path, 0, "event_type", "no row for %s plane %s",
                              want[k][0], want[k][1]);
    return rc;
}

static int country_index(sy_params *p, const char *country)
{
    for (int i = 0; i < p->ncountries; i++)
        if (!strcmp(p->countries[i], country))
            return i;
    return -1;
}

static int load_names(sy_params *p, hm_error *err)
{
    for (int i = 0; i < p->ncentres; i++)
        if (country_index(p, p->centres[i].country) < 0)
            snprintf(p->countries[p->ncountries++], 4, "%s", p->centres[i].country);
    table t;
    int rc = table_open(&t, "names.csv", err);
    while (rc == HM_OK && (rc = table_next(&t, err)) == 1) {
        char country[8], kind[16], name[48];
        if ((rc = str(&t, "country", country, sizeof country, err))
            || (rc = str(&t, "kind", kind, sizeof kind, err))
            || (rc = str(&t, "name", name, sizeof name, err)))
            break;
        int c = country_index(p, country);
        if (c < 0)
            continue;
        int given = !strcmp(kind, "given");
        int *n = given ? &p->ngiven[c] : &p->nfamily[c];
        if (*n == SY_MAX_NAMES) { rc = too_many(&t, err); break; }
        memcpy(given ? p->given[c][*n] : p->family[c][*n], name, sizeof name);
        (*n)++;
    }
    table_close(&t);
    for (int c = 0; rc == HM_OK && c < p->ncountries; c++)
        if (!p->ngiven[c] || !p->nfamily[c])
            rc = hm_error_set(err, HM_EPARSE, "synth/names.csv", 0, "country",
                              "no given or family names for %s", p->countries[c]);
    return rc;
}

/* params.csv: name -> field. */
struct scalar { const char *name; double *dst; double lo, hi; };

static int load_scalars(sy_params *p, hm_error *err)
{
    double start_year = 0, max_age = 0;
    struct scalar s[] = {
        { "p_male", &p->p_male, 0, 1 },
        { "study_start_year", &start_year, 1950, 2022 },
        { "max_age_days", &max_age, 1, 9000 },
        { "year_trend_per_year", &p->year_trend, 0, 10 },
        { "p_age_neonate", &p->p_neonate, 0, 1 },
        { "neonate_mean_age_days", &p->neonate_mean_days, 1, 121 },
        { "p_age_infant", &p->p_infant, 0, 1 },
        { "older_mean_age_years", &p->older_mean_years, 0.1, 50 },
        { "repeat_extra_mean", &p->repeat_extra_mean, 0, 50 },
        { "repeat_gap_mean_days", &p->repeat_gap_days, 1, 10000 },
        { "kap_sigma_ln", &p->kap_sigma, 0, 5 },
        { "fluoro_median_s", &p->fluoro_median_s, 1, 36000 },
        { "fluoro_kap_exponent", &p->fluoro_exponent, 0, 2 },
        { "fluoro_sigma_ln", &p->fluoro_sigma, 0, 5 },
        { "cine_frames_per_gy_cm2", &p->cine_per_kap, 0, 10000 },
        { "air_kerma_per_kap", &p->air_kerma_per_kap, 0, 1000 },
        { "p_down", &p->p_down, 0, 1 },
        { "p_22q11", &p->p_22q11, 0, 1 },
        { "p_williams", &p->p_williams, 0, 1 },
        { "p_noonan", &p->p_noonan, 0, 1 },
        { "down_leuk_rr_0_4", &p->down_leuk_0_4, 0, 1000 },
        { "down_leuk_rr_5_29", &p->down_leuk_5_29, 0, 1000 },
        { "down_solid_rr", &p->down_solid, 0, 100 },
        { "p_transplant", &p->p_transplant, 0, 1 },
        { "transplant_all_rr", &p->tx_all_rr, 0, 100 },
        { "transplant_lymphoma_rr", &p->tx_lymphoma_rr, 0, 1000 },
        { "biopsy_interval_days", &p->biopsy_interval_days, 30, 10000 },
        { "death_hazard_first_year", &p->death_first, 0, 10 },
        { "death_hazard_later", &p->death_later, 0, 10 },
        { "loss_hazard", &p->loss, 0, 10 },
        { "loss_hazard_no", &p->loss_no, 0, 10 },
        { "sigma_shared_coeff", &p->sigma_shared_coeff, 0, 5 },
        { "sigma_shared_kap", &p->sigma_shared_kap, 0, 5 },
        { "sigma_unshared_tier1", &p->sigma_unshared[0], 0, 5 },
        { "sigma_unshared_tier2", &p->sigma_unshared[1], 0, 5 },
        { "sigma_unshared_tier3", &p->sigma_unshared[2], 0, 5 },
        { "lag_leukaemia_years", &p->lag_years[SY_LEUKAEMIA], 0, 50 },
        { "lag_lymphoma_years", &p->lag_years[SY_LYMPHOMA], 0, 50 },
        { "lag_cns_years", &p->lag_years[SY_CNS], 0, 50 },
        { "lag_solid_years", &p->lag_years[SY_SOLID], 0, 50 },
        { "fluoro_kap_fraction", &p->fluoro_kap_fraction, 0, 1 },
        { "events_acq_min", &p->acq_min, 0, 50 },
        { "events_acq_max", &p->acq_max, 0, 50 },
        { "weight_factor_chd", &p->weight_factor, 0.3, 2 },
    };
    size_t ns = sizeof s / sizeof s[0];
    int seen[sizeof s / sizeof s[0]] = { 0 };
    int have_end = 0;
    table t;
    int rc = table_open(&t, "params.csv", err);
    while (rc == HM_OK && (rc = table_next(&t, err)) == 1) {
        const char *name, *value;
        if ((rc = col(&t, "name", &name, err)) || (rc = col(&t, "value", &value, err)))
            break;
        if (!strcmp(name, "study_end_date")) {
            if (hm_date_parse(value, &p->study_end)) {
                rc = hm_error_set(err, HM_EPARSE, t.path, t.line, "value",
                                  "'%s': expected a date YYYY-MM-DD", value);
                break;
            }
            have_end = 1;
            continue;
        }
        size_t i = 0;
        while (i < ns && strcmp(s[i].name, name))
            i++;
        if (i == ns) {
            rc = hm_error_set(err, HM_EPARSE, t.path, t.line, "name",
                              "unknown parameter '%s'", name);
            break;
        }
        if ((rc = num(&t, "value", s[i].lo, s[i].hi, s[i].dst, err)))
            break;
        seen[i] = 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s", t.path);
    table_close(&t);
    for (size_t i = 0; rc == HM_OK && i < ns; i++)
        if (!seen[i])
            rc = hm_error_set(err, HM_EPARSE, path, 0, s[i].name, "parameter missing");
    if (rc == HM_OK && !have_end)
        rc = hm_error_set(err, HM_EPARSE, path, 0, "study_end_date", "parameter missing");
    p->start_year = (int)start_year;
    p->max_age_days = (int)max_age;
    return rc;
}

int sy_params_load(sy_params *p, hm_error *err)
{
    memset(p, 0, sizeof *p);
    int rc;
    if ((rc = load_scalars(p, err)) || (rc = load_centres(p, err))
        || (rc = load_bands("kap_by_age.csv", "median_kap_gy_cm2", NULL, p->kap, &p->nkap, err))
        || (rc = load_bands("e_per_kap.csv", "e_per_kap_msv_per_gy_cm2", "phantom", p->epk,
                            &p->nepk, err))
        || (rc = load_eras(p, err)) || (rc = load_exams(p, err))
        || (rc = load_organs(p, err)) || (rc = load_growth(p, err))
        || (rc = load_rates(p, err)) || (rc = load_codes(p, err)) || (rc = load_names(p, err))
        || (rc = load_technique(p, err)))
        return rc;
    return HM_OK;
}
