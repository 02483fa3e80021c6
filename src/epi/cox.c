/*
 * cox.c — Cox proportional hazards with a linear excess relative risk,
 * as R's linERR (Hoffmann et al.) and Epicure PECAN:
 *   h_i(t) = h_0s(t) exp(gamma . z_i(t)) (1 + beta d_i(t)),
 * time scale attained age, baseline h_0s per stratum left unspecified.
 * Partial log-likelihood with Breslow's handling of ties (Cox, JRSS B
 * 34:187, 1972; Breslow, Biometrics 30:89, 1974):
 *   l = sum_k [ gamma . z_k + ln(1 + beta d_k) - ln S_k ],
 *   S_k = sum_{j in R(t_k)} exp(gamma . z_j(t_k)) (1 + beta d_j(t_k)),
 * R(t_k) = persons of the event's stratum with entry < t_k <= exit (left
 * truncation at entry = first exposure + exclusion).  d_j(t) is the
 * cumulative dose of procedures received at least `lag` years before t;
 * z_j(t) are 0/1 covariates (transplant: time-dependent, syndrome).
 * Because z takes 2^nz patterns and S_k is linear in the doses, each risk
 * set is reduced once to (count, dose sum) per pattern; every likelihood
 * evaluation then costs O(events x patterns).
 */
#include "cohort.h"
#include "epi_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NPAT 4

typedef struct cox_event {
    int    zpat;                  /* covariate pattern of the case */
    double d;                     /* its lagged dose */
    double n[NPAT], D[NPAT];      /* risk set: members and dose sum per pattern */
    double dmax;                  /* largest dose in the risk set */
} cox_event;

typedef struct cox_data {
    int nz;                       /* 0..2 covariates */
    size_t nev;
    cox_event *ev;
} cox_data;

typedef struct member {
    size_t person;
    int    stratum;
    double entry, exit;           /* days since birth */
    int    is_case;
} member;

/* Lagged cumulative dose of person p at day `day` (prefix sums). */
static double dose_at(const hm_epi_cohort *c, const epi_person *p, const double *cum, double day,
                      double lagd)
{
    size_t lo = 0, hi = p->nproc;  /* count procedures with proc_day + lag <= day */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->proc_day[p->proc0 + mid] + lagd <= day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? cum[p->proc0 + lo - 1] : 0;
}

static int pattern(const hm_epi_cox_options *o, const epi_person *p, double day, int *z)
{
    int k = 0, pat = 0;
    if (o->use_transplant) {
        z[k] = isfinite(p->transplant_day) && day >= p->transplant_day;
        pat |= z[k] << k;
        k++;
    }
    if (o->use_syndrome) {
        z[k] = p->syndrome;
        pat |= z[k] << k;
        k++;
    }
    return pat;
}

static int cox_eval(void *ctx, const double *th, double *ll, double *g, double *H)
{
    const cox_data *cd = ctx;
    int nz = cd->nz, p = nz + 1;
    double beta = th[nz], w[NPAT];
    for (int q = 0; q < (1 << nz); q++) {
        double e = 0;
        for (int a = 0; a < nz; a++)
            e += th[a] * ((q >> a) & 1);
        w[q] = exp(e);
    }
    double total = 0;
    if (g)
        memset(g, 0, p * sizeof *g);
    if (H)
        memset(H, 0, (size_t)p * p * sizeof *H);
    for (size_t k = 0; k < cd->nev; k++) {
        const cox_event *e = &cd->ev[k];
        double rr = 1 + beta * e->d;
        if (!(rr > 0) || !(1 + beta * e->dmax > 0))
            return 1;
        double S = 0, Sa[2] = { 0, 0 }, Sb = 0, Sab[2][2] = { { 0, 0 }, { 0, 0 } }, Sab_b[2] = { 0, 0 };
        for (int q = 0; q < (1 << nz); q++) {
            double A = w[q] * (e->n[q] + beta * e->D[q]), B = w[q] * e->D[q];
            S += A;
            Sb += B;
            for (int a = 0; a < nz; a++) {
                int za = (q >> a) & 1;
                Sa[a] += za * A;
                Sab_b[a] += za * B;
                for (int b = 0; b < nz; b++)
                    Sab[a][b] += za * ((q >> b) & 1) * A;
            }
        }
        if (!(S > 0))
            return 1;
        double zk[2] = { (e->zpat >> 0) & 1, (e->zpat >> 1) & 1 };
        for (int a = 0; a < nz; a++)
            total += th[a] * zk[a];
        total += log(rr) - log(S);
        if (!g)
            continue;
        for (int a = 0; a < nz; a++)
            g[a] += zk[a] - Sa[a] / S;
        g[nz] += e->d / rr - Sb / S;
        if (!H)
            continue;
        for (int a = 0; a < nz; a++) {
            for (int b = 0; b < nz; b++)
                H[a * p + b] -= Sab[a][b] / S - Sa[a] * Sa[b] / (S * S);
            double hab = -(Sab_b[a] / S - Sa[a] * Sb / (S * S));
            H[a * p + nz] += hab;
            H[nz * p + a] += hab;
        }
        H[nz * p + nz] += -e->d * e->d / (rr * rr) + Sb * Sb / (S * S);
    }
    *ll = total;
    return 0;
}

static int cmp_member(const void *a, const void *b)
{
    const member *x = a, *y = b;
    if (x->stratum != y->stratum)
        return x->stratum - y->stratum;
    return (x->exit > y->exit) - (x->exit < y->exit);
}

int hm_epi_fit_cox(const hm_epi_cohort *c, const hm_epi_outcomes *oc, const hm_epi_cox_options *o,
                   hm_epi_fit *fit, hm_error *err)
{
    memset(fit, 0, sizeof *fit);
    if (!c->finished)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "cohort not finished");
    if (o->group < 0 || o->group >= hm_epi_outcomes_count(oc))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "outcome", "unknown outcome group");
    if (o->realization >= c->nreal || (o->realization >= 0 && c->nreal == 1 && o->realization > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "realization", "the cohort has %d realization(s)", c->nreal);
    const double Y = EPI_DAYS_PER_YEAR, lagd = o->lag_years * Y;
    /* Prefix sums of the chosen dose per person. */
    double *cum = malloc((c->nd + 1) * sizeof *cum);
    member *m = malloc((c->np + 1) * sizeof *m);
    if (!cum || !m) {
        free(cum);
        free(m);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    for (size_t i = 0; i < c->np; i++) {
        const epi_person *p = &c->p[i];
        double s = 0;
        for (size_t q = p->proc0; q < p->proc0 + p->nproc; q++) {
            s += o->realization >= 0 && c->nreal > 1 ? c->proc_dose[q * c->nreal + o->realization] : c->proc_mean[q];
            cum[q] = s;
        }
    }
    size_t nm = 0, nev = 0;
    int rc = HM_OK;
    for (size_t i = 0; i < c->np; i++) {
        epi_fu fu;
        int st = epi_followup(c, oc, &o->group, 1, i, o->exclusion_years, NAN, &fu, err);
        if (st < 0) {
            rc = st;
            break;
        }
        if (st != EPI_FU_OK)
            continue;
        const epi_person *p = &c->p[i];
        int stratum = (o->strata_sex ? p->sex : 0) * (o->strata_country ? c->ncountry : 1) +
                      (o->strata_country ? p->country : 0);
        m[nm++] = (member){ i, stratum, fu.start_day - p->birth_day, fu.exit_day - p->birth_day, fu.is_case };
        nev += fu.is_case;
    }
    if (rc == HM_OK && nev == 0)
        rc = hm_error_set(err, HM_EVALIDATE, NULL, 0, "outcome", "no cases of %s during follow-up",
                          hm_epi_outcomes_name(oc, o->group));
    cox_data cd = { (o->use_transplant != 0) + (o->use_syndrome != 0), 0, NULL };
    if (rc == HM_OK && !(cd.ev = calloc(nev, sizeof *cd.ev)))
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    if (rc < 0) {
        free(cum);
        free(m);
        return rc;
    }
    qsort(m, nm, sizeof *m, cmp_member);
    /* Risk sets, stratum by stratum. */
    int z[2];
    for (size_t a = 0; a < nm;) {
        size_t b = a;
        while (b < nm && m[b].stratum == m[a].stratum)
            b++;
        for (size_t k = a; k < b; k++) {
            if (!m[k].is_case)
                continue;
            cox_event *e = &cd.ev[cd.nev++];
            const epi_person *pk = &c->p[m[k].person];
            double t = m[k].exit;
            e->d = dose_at(c, pk, cum, pk->birth_day + t, lagd);
            e->zpat = pattern(o, pk, pk->birth_day + t, z);
            /* Members sorted by exit: those with exit >= t start at the first such. */
            size_t lo = a, hi = b;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (m[mid].exit < t)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (size_t j = lo; j < b; j++) {
                if (!(m[j].entry < t))
                    continue;
                const epi_person *pj = &c->p[m[j].person];
                double dj = dose_at(c, pj, cum, pj->birth_day + t, lagd);
                int q = pattern(o, pj, pj->birth_day + t, z);
                e->n[q] += 1;
                e->D[q] += dj;
                e->dmax = fmax(e->dmax, dj);
            }
        }
        a = b;
    }
    free(cum);
    free(m);

    int p = cd.nz + 1, k = 0;
    if (o->use_transplant) {
        snprintf(fit->p[k].name, sizeof fit->p[k].name, "gamma:transplant");
        fit->p[k++].kind = HM_EPI_P_LOGLIN;
    }
    if (o->use_syndrome) {
        snprintf(fit->p[k].name, sizeof fit->p[k].name, "gamma:syndrome");
        fit->p[k++].kind = HM_EPI_P_LOGLIN;
    }
    snprintf(fit->p[k].name, sizeof fit->p[k].name, "beta:dose_mgy");
    fit->p[k].kind = HM_EPI_P_EXCESS;
    fit->np = p;
    fit->ci_level = o->fit.ci_level > 0 && o->fit.ci_level < 1 ? o->fit.ci_level : 0.95;
    epi_objective ob = { p, cox_eval, &cd };
    double th[3] = { 0, 0, 0 }, ll;
    int iters = 0;
    rc = epi_maximize_obj(&ob, th, NULL, o->fit.max_iter > 0 ? o->fit.max_iter : 100, &ll, &iters);
    if (rc == 1 || (rc < 0 && rc != HM_ENUMERIC)) {
        free(cd.ev);
        return hm_error_set(err, HM_ENUMERIC, NULL, 0, NULL, "Cox fit failed");
    }
    fit->converged = rc == HM_OK;
    fit->iterations = iters;
    fit->loglik = ll;
    fit->deviance = NAN;
    fit->aic = -2 * ll + 2 * p;
    fit->nobs = nm;
    fit->cases = (double)nev;
    fit->nstrata = 0;
    double g[3], H[9], cov[9];
    int have = cox_eval(&cd, th, &ll, g, H) == 0 && epi_invert_neg(H, p, cov) == 0;
    for (int a = 0; a < p; a++) {
        fit->p[a].est = th[a];
        fit->p[a].se = have ? sqrt(cov[a * p + a]) : NAN;
        fit->p[a].lo = fit->p[a].hi = NAN;
    }
    /* Trend test: beta = 0 with the covariates refitted. */
    char fixed[3] = { 0, 0, 0 };
    fixed[cd.nz] = 1;
    double th0[3] = { 0, 0, 0 }, ll0;
    if (epi_maximize_obj(&ob, th0, fixed, 100, &ll0, NULL) >= 0) {
        fit->lrt_chi2 = fmax(0, 2 * (fit->loglik - ll0));
        fit->lrt_df = 1;
        fit->lrt_p = epi_chi2_q(fit->lrt_chi2, 1);
    }
    if (o->fit.profile_ci) {
        char resettable[3] = { 0, 0, 0 };
        double crit = epi_chi2_crit(fit->ci_level);
        for (int a = 0; a < p; a++)
            if (o->fit.profile_all || a == cd.nz)
                epi_profile_ci(&ob, th, fit->loglik, a, fit->p[a].se, crit, resettable, &fit->p[a]);
    }
    free(cd.ev);
    return HM_OK;
}
