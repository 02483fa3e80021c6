/* simulate.c — one synthetic patient: demography, catheterizations with
 * KAP and organ doses, transplant, follow-up, and first cancers of each
 * outcome group.  The model is described step by step in docs/synth.md;
 * every number comes from data/synth/ (sources there). */
#include "synth_int.h"

#include <math.h>
#include <string.h>

#define DAYS_PER_YEAR 365.25

const char *const sy_syndrome_codes[5] = { "none", "down", "22q11", "williams", "noonan" };

static double band_value(const sy_band *b, int n, long age_days)
{
    for (int i = 0; i < n; i++)
        if (age_days < b[i].to_days)
            return b[i].value;
    return b[n - 1].value;
}

int sy_age_class(const sy_params *p, long age_days)
{
    for (int i = 0; i < p->nepk; i++)
        if (age_days < p->epk[i].to_days)
            return i;
    return p->nepk - 1;
}

static int era_of(const sy_params *p, int year)
{
    for (int i = 0; i < p->neras; i++)
        if (year >= p->eras[i].from && year <= p->eras[i].to)
            return i;
    return year < p->eras[0].from ? 0 : p->neras - 1;
}

static int year_of(long days)
{
    int y, m, d;
    hm_date_to_ymd(days, &y, &m, &d);
    return y;
}

/* Linear interpolation in the growth table (median weight and height). */
static void growth_at(const sy_params *p, double age_years, double *w, double *h)
{
    const sy_growth *g = p->growth;
    int n = p->ngrowth;
    if (age_years <= g[0].age_years) {
        *w = g[0].weight_kg;
        *h = g[0].height_cm;
        return;
    }
    for (int i = 1; i < n; i++)
        if (age_years <= g[i].age_years) {
            double f = (age_years - g[i - 1].age_years) / (g[i].age_years - g[i - 1].age_years);
            *w = g[i - 1].weight_kg + f * (g[i].weight_kg - g[i - 1].weight_kg);
            *h = g[i - 1].height_cm + f * (g[i].height_cm - g[i - 1].height_cm);
            return;
        }
    *w = g[n - 1].weight_kg;
    *h = g[n - 1].height_cm;
}

/* Exponential with mean m truncated to [0, max]: inverse CDF. */
static double trunc_exp(sy_rng *r, double mean, double max)
{
    double u = sy_u01(r);
    return -mean * log(1.0 - u * (1.0 - exp(-max / mean)));
}

/* Date of the first procedure: density ∝ 1 + trend·(t − t0) over
 * [1 Jan y0, study end], inverse CDF of the quadratic. */
static long first_procedure_date(const sy_params *p, int y0, sy_rng *r)
{
    long t0 = hm_date_from_ymd(y0, 1, 1);
    double len = (double)(p->study_end - t0) / DAYS_PER_YEAR;
    double a = 1.0, b = p->year_trend;
    double total = a * len + 0.5 * b * len * len;
    double u = sy_u01(r) * total;
    double x = b > 0 ? (-a + sqrt(a * a + 2.0 * b * u)) / b : u / a;
    return t0 + (long)(x * DAYS_PER_YEAR);
}

static int pick_exam(const sy_params *p, int interventional, sy_rng *r)
{
    double total = 0;
    for (int i = 0; i < p->nexams; i++)
        if (p->exams[i].interventional == interventional)
            total += p->exams[i].weight;
    double u = sy_u01(r) * total;
    int last = 0;
    for (int i = 0; i < p->nexams; i++) {
        if (p->exams[i].interventional != interventional || p->exams[i].weight <= 0)
            continue;
        last = i;
        if ((u -= p->exams[i].weight) <= 0)
            return i;
    }
    return last;
}

static int exam_index(const sy_params *p, const char *name)
{
    for (int i = 0; i < p->nexams; i++)
        if (!strcmp(p->exams[i].exam, name))
            return i;
    return -1;
}

/* Fills one procedure; the true KAP exists for every tier (tier 3 only hides it). */
static void make_procedure(const sy_params *p, const sy_patient *pt, long date, int forced_exam,
                           sy_rng *r, sy_proc *pr)
{
    memset(pr, 0, sizeof *pr);
    pr->date = date;
    pr->age_days = date - pt->birth;
    pr->era = era_of(p, year_of(date));
    const sy_era *era = &p->eras[pr->era];
    if (forced_exam >= 0) {
        pr->exam = forced_exam;
    } else {
        int interventional = sy_u01(r) < era->p_interventional;
        pr->exam = pick_exam(p, interventional, r);
    }
    pr->interventional = p->exams[pr->exam].interventional;
    /* KAP: lognormal around median(age) × era factor × exam factor
     * (Kottou 2018 medians; Afroz 2024 era ratio; data/synth/). */
    double median = band_value(p->kap, p->nkap, pr->age_days) * era->kap_factor
                    * p->exams[pr->exam].kap_factor;
    pr->kap_gy_cm2 = median * exp(p->kap_sigma * sy_normal(r));
    /* The lognormal's far tail (1 in ~10^5 procedures beyond 500 Gy cm2) is
     * not seen in paediatric series (Kottou 2018 medians 2-14 Gy cm2) and
     * would break the registry's range (data/dictionary.csv: up to 1000). */
    if (pr->kap_gy_cm2 > 500)
        pr->kap_gy_cm2 = 500;
    double age_y = (double)pr->age_days / DAYS_PER_YEAR, w, h;
    growth_at(p, age_y, &w, &h);
    /* Children with heart disease are lighter (params.csv weight_factor_chd);
     * ±12% (weight) and ±4% (height) individual spread. */
    pr->weight_kg = p->weight_factor * w * exp(0.12 * sy_normal(r));
    pr->height_cm = h * exp(0.04 * sy_normal(r));
    if (pr->weight_kg < 0.5)
        pr->weight_kg = 0.5;
    pr->fluoro_s = p->fluoro_median_s * pow(pr->kap_gy_cm2 / median, p->fluoro_exponent)
                   * exp(p->fluoro_sigma * sy_normal(r));
    if (pr->fluoro_s > 18000)            /* 5 hours: the dictionary allows 10 */
        pr->fluoro_s = 18000;
    pr->cine_frames = (long)(p->cine_per_kap * pr->kap_gy_cm2 * exp(0.3 * sy_normal(r))) + 1;
    pr->air_kerma_mgy = p->air_kerma_per_kap * pr->kap_gy_cm2 * exp(0.2 * sy_normal(r));
    double u = sy_u01(r);
    pr->tier = u < era->p_tier[0] ? 1 : u < era->p_tier[0] + era->p_tier[1] ? 2 : 3;
    /* Centres whose records carry no dose (German insurance claims). */
    if (sy_u01(r) < p->centres[pt->centre].dose_missing)
        pr->tier = 3;
    pr->uid_rand = ((uint64_t)(sy_u01(r) * 4294967296.0) << 20) ^ (uint64_t)(sy_u01(r) * 1048576.0);
    /* Organ dose = KAP × E/KAP(age class) × organ/E ratio
     * (Karambatsakidou 2009; Ubeda 2017; data/synth/organ_ratios.csv). */
    pr->age_class = sy_age_class(p, pr->age_days);
    double e_msv = pr->kap_gy_cm2 * p->epk[pr->age_class].value;
    for (int o = 0; o < p->norgans; o++)
        pr->dose_mgy[o] = e_msv * p->organs[o].ratio;
}

/* Exit from follow-up: first of death, emigration/loss, study end. */
static void follow_up(const sy_params *p, sy_patient *pt, sy_rng *r)
{
    /* Death: hazard death_first during the first year after entry, then
     * death_later; inverse of the piecewise-linear cumulative hazard. */
    double e = sy_exp1(r), t_death;
    t_death = e < p->death_first ? e / p->death_first
                                 : 1.0 + (e - p->death_first) / p->death_later;
    int norway = p->centres[pt->centre].day_offsets;
    double loss = norway ? p->loss_no : p->loss;
    double t_loss = loss > 0 ? sy_exp1(r) / loss : 1e9;
    int emigrated = sy_u01(r) < 0.5;
    pt->exit = p->study_end;
    pt->exit_reason = 0;
    double t_end = (double)(p->study_end - pt->entry) / DAYS_PER_YEAR;
    if (t_death < t_end && t_death <= t_loss) {
        pt->exit = pt->entry + 1 + (long)(t_death * DAYS_PER_YEAR);
        pt->exit_reason = 1;
    } else if (t_loss < t_end) {
        pt->exit = pt->entry + 1 + (long)(t_loss * DAYS_PER_YEAR);
        pt->exit_reason = emigrated ? 2 : 3;
    }
    if (pt->exit > p->study_end) {
        pt->exit = p->study_end;
        pt->exit_reason = 0;
    }
}

static void procedures(const sy_params *p, sy_patient *pt, sy_rng *r)
{
    /* Number of procedures 1 + Geometric(q), mean extra q/(1−q). */
    double q = p->repeat_extra_mean / (1.0 + p->repeat_extra_mean);
    int extra = (int)floor(log(sy_u01(r)) / log(q));
    long dates[SY_MAX_PROCS];
    int forced[SY_MAX_PROCS], n = 0;
    long last_day = pt->birth + p->max_age_days;
    if (last_day > pt->exit)
        last_day = pt->exit;
    long d = pt->entry;
    for (int k = 0; k <= extra && n < SY_MAX_PROCS && d <= last_day; k++) {
        dates[n] = d;
        forced[n++] = -1;
        d += 1 + (long)(sy_exp1(r) * p->repeat_gap_days);
    }
    /* Yearly surveillance biopsies after a heart transplant (Harbron 2015:
     * transplant patients have the most procedures). */
    int biopsy = exam_index(p, "biopsy");
    if (pt->transplant >= 0 && biopsy >= 0)
        for (long b = pt->transplant + (long)p->biopsy_interval_days;
             b <= last_day && n < SY_MAX_PROCS; b += (long)p->biopsy_interval_days) {
            dates[n] = b;
            forced[n++] = biopsy;
        }
    /* Date order (insertion sort: n is small). */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && dates[j] < dates[j - 1]; j--) {
            long td = dates[j]; dates[j] = dates[j - 1]; dates[j - 1] = td;
            int tf = forced[j]; forced[j] = forced[j - 1]; forced[j - 1] = tf;
        }
    pt->nprocs = n;
    for (int i = 0; i < n; i++)
        make_procedure(p, pt, dates[i], forced[i], r, &pt->procs[i]);
}

static double base_rate_per_year(const sy_params *p, int type, double age_years)
{
    for (int i = 0; i < p->nrates[type]; i++)
        if (age_years >= p->rates[type][i].from_years && age_years < p->rates[type][i].to_years)
            return p->rates[type][i].per_million * 1e-6;
    return 0;
}

/* Background relative risks: Down syndrome (Hasle 2000), transplant
 * (Engels 2011) as a time-dependent factor from the transplant date. */
static double background_rr(const sy_params *p, const sy_patient *pt, int type, double age_years,
                            long day)
{
    double rr = 1.0;
    if (pt->syndrome == 1) {
        if (type == SY_LEUKAEMIA)
            rr *= age_years < 5 ? p->down_leuk_0_4 : age_years < 30 ? p->down_leuk_5_29 : 1.0;
        else if (type == SY_SOLID || type == SY_CNS)
            rr *= p->down_solid;
    }
    if (pt->transplant >= 0 && day >= pt->transplant)
        rr *= type == SY_LYMPHOMA ? p->tx_lymphoma_rr : p->tx_all_rr;
    return rr;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int pick_code(const sy_params *p, int type, int male, sy_rng *r)
{
    double total = 0;
    char sex = male ? 'M' : 'F';
    for (int i = 0; i < p->ncodes; i++)
        if (p->codes[i].type == type && (!p->codes[i].sex || p->codes[i].sex == sex))
            total += p->codes[i].weight;
    double u = sy_u01(r) * total;
    int last = -1;
    for (int i = 0; i < p->ncodes; i++) {
        if (p->codes[i].type != type || (p->codes[i].sex && p->codes[i].sex != sex))
            continue;
        last = i;
        if ((u -= p->codes[i].weight) <= 0)
            return i;
    }
    return last;
}

/*
 * First cancer of one outcome group: hazard
 *   h(t) = base(age) · RR_background(t) · (1 + β·D_lag(t)/100 mGy)
 * constant between breakpoints (age-band edges, syndrome age edges, the
 * transplant date, each procedure date + lag), so the event time is exact:
 * draw E ~ Exp(1) and find where the cumulative hazard reaches E
 * (inversion of the cumulative hazard, e.g. Bender, Augustin & Blettner,
 * Stat Med 24:1713, 2005).  Person-time runs from entry to exit.
 */
static void cancer_of_type(const sy_params *p, const sy_truth *t, sy_patient *pt, int type,
                           sy_rng *r)
{
    long bp[SY_MAX_RATES * 2 + SY_MAX_PROCS + 8];
    int nb = 0;
    bp[nb++] = pt->entry;
    bp[nb++] = pt->exit;
    for (int i = 0; i < p->nrates[type]; i++) {
        bp[nb++] = pt->birth + (long)ceil(p->rates[type][i].from_years * DAYS_PER_YEAR);
        bp[nb++] = pt->birth + (long)ceil(p->rates[type][i].to_years * DAYS_PER_YEAR);
    }
    bp[nb++] = pt->birth + (long)ceil(5 * DAYS_PER_YEAR);
    bp[nb++] = pt->birth + (long)ceil(30 * DAYS_PER_YEAR);
    if (pt->transplant >= 0)
        bp[nb++] = pt->transplant;
    int dose_effect = t->err_applies[type] && t->err_per_100mgy != 0;
    long lag_days = (long)llround(p->lag_years[type] * DAYS_PER_YEAR);
    if (dose_effect)
        for (int k = 0; k < pt->nprocs; k++)
            bp[nb++] = pt->procs[k].date + lag_days;
    qsort(bp, (size_t)nb, sizeof bp[0], cmp_long);

    double target = sy_exp1(r), cum = 0;
    long prev = pt->entry;
    for (int i = 0; i < nb; i++) {
        long next = bp[i];
        if (next <= prev)
            continue;
        if (next > pt->exit)
            next = pt->exit;
        if (next <= prev)
            break;
        /* the hazard in [prev, next): evaluated at the start (piecewise constant) */
        double age_y = (double)(prev - pt->birth) / DAYS_PER_YEAR;
        double h = base_rate_per_year(p, type, age_y) * background_rr(p, pt, type, age_y, prev);
        if (dose_effect) {
            double d = 0;
            for (int k = 0; k < pt->nprocs; k++)
                if (pt->procs[k].date + lag_days <= prev)
                    d += pt->procs[k].dose_mgy[t->err_organ];
            h *= 1.0 + t->err_per_100mgy * d / 100.0;
            if (h < 0)
                h = 0;
        }
        double dt = (double)(next - prev) / DAYS_PER_YEAR;
        if (cum + h * dt >= target) {
            long when = prev + (long)((target - cum) / h * DAYS_PER_YEAR);
            if (when >= pt->exit)
                return;
            sy_cancer *c = &pt->cancers[pt->ncancers++];
            c->type = type;
            c->date = when;
            c->code = pick_code(p, type, pt->male, r);
            return;
        }
        cum += h * dt;
        prev = next;
        if (prev >= pt->exit)
            break;
    }
}

void sy_simulate(const sy_params *p, const sy_truth *t, uint64_t seed, long index,
                 sy_patient *pt)
{
    memset(pt, 0, sizeof *pt);
    pt->index = index;
    sy_rng r;
    sy_rng_init(&r, seed, (uint32_t)index, SY_S_DEMOG, 0);
    /* centre by share */
    double u = sy_u01(&r);
    pt->centre = p->ncentres - 1;
    for (int i = 0; i < p->ncentres; i++)
        if ((u -= p->centres[i].share) <= 0) {
            pt->centre = i;
            break;
        }
    pt->male = sy_u01(&r) < p->p_male;
    int y0 = p->centres[pt->centre].first_year;
    if (y0 < p->start_year)
        y0 = p->start_year;
    pt->entry = first_procedure_date(p, y0, &r);
    /* Age at the first procedure, skewed to infants: a mixture of neonates
     * (< 4 months), infants (4-12 months) and an exponential tail. */
    double v = sy_u01(&r), age_days;
    if (v < p->p_neonate)
        age_days = trunc_exp(&r, p->neonate_mean_days, 121);
    else if (v < p->p_neonate + p->p_infant)
        age_days = 122 + sy_u01(&r) * (365 - 122);
    else
        age_days = 365 + trunc_exp(&r, p->older_mean_years * DAYS_PER_YEAR,
                                   p->max_age_days - 365);
    pt->birth = pt->entry - (long)age_days;
    double s = sy_u01(&r);
    const double ps[4] = { p->p_down, p->p_22q11, p->p_williams, p->p_noonan };
    for (int k = 0; k < 4 && !pt->syndrome; k++) {
        if (s < ps[k])
            pt->syndrome = k + 1;
        s -= ps[k];
    }
    follow_up(p, pt, &r);
    pt->transplant = -1;
    if (sy_u01(&r) < p->p_transplant && pt->exit - pt->entry > 30)
        pt->transplant = pt->entry + 1 + (long)(sy_u01(&r) * (double)(pt->exit - pt->entry - 1));

    sy_rng rp;
    sy_rng_init(&rp, seed, (uint32_t)index, SY_S_PROC, 0);
    procedures(p, pt, &rp);

    for (int type = 0; type < SY_NTYPES; type++) {
        sy_rng ro;
        sy_rng_init(&ro, seed, (uint32_t)index, SY_S_OUTCOME, (uint32_t)type);
        cancer_of_type(p, t, pt, type, &ro);
    }
}
