/*
 * fit.c — a Poisson fit end to end: design, maximum likelihood, Wald SEs,
 * deviance and AIC, likelihood-ratio test of the dose trend, profile CIs,
 * and refits over dose realizations.
 */
#include "epi_internal.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int design_eval(void *ctx, const double *th, double *ll, double *g, double *H)
{
    return epi_eval(ctx, th, ll, g, H);
}

static void name_params(const hm_epi_table *t, const hm_epi_model *m, hm_epi_fit *fit)
{
    int k = 0;
    const char *ex = m->form == HM_EPI_EAR ? "ear" : "beta";
    for (int a = 0; a < m->nz; a++, k++) {
        snprintf(fit->p[k].name, sizeof fit->p[k].name, "gamma:%s", m->z[a]);
        fit->p[k].kind = HM_EPI_P_LOGLIN;
    }
    for (int a = 0; a < m->nx; a++, k++) {
        hm_epi_param *q = &fit->p[k];
        q->kind = HM_EPI_P_EXCESS;
        if (m->xlevel[a]) {
            int c = t ? hm_epi_table_col(t, m->x[a]) : -1;
            size_t lv = (size_t)m->xval[a];
            if (c >= 0 && t->levels && t->levels[c] && lv < t->nlevels[c])
                snprintf(q->name, sizeof q->name, "%s:%s=%s", ex, m->x[a], t->levels[c][lv]);
            else
                snprintf(q->name, sizeof q->name, "%s:%s=%g", ex, m->x[a], m->xval[a]);
        } else {
            snprintf(q->name, sizeof q->name, "%s:%s%s", ex, m->x[a], m->xpow[a] == 2 ? "^2" : "");
        }
    }
    for (int a = 0; a < m->ne; a++, k++) {
        snprintf(fit->p[k].name, sizeof fit->p[k].name, "tau:%s", m->e[a]);
        fit->p[k].kind = HM_EPI_P_MODIFIER;
    }
    fit->np = k;
}

double epi_chi2_crit(double level)
{
    /* Critical value of chi-square with 1 df: 3.841 (95%), 2.706 (90%). */
    return gsl_cdf_chisq_Pinv(level, 1.0);
}

double epi_chi2_q(double x, int df)
{
    return gsl_cdf_chisq_Q(x, df);
}

static int fit_design(const epi_design *d, const hm_epi_fit_options *o, hm_epi_fit *fit,
                      double *th, hm_error *err)
{
    int p = d->p;
    int max_iter = o && o->max_iter > 0 ? o->max_iter : 100;
    memset(th, 0, p * sizeof *th);
    double ll;
    int iters = 0;
    int rc = epi_maximize(d, th, NULL, max_iter, &ll, &iters);
    if (rc == 1)
        return hm_error_set(err, HM_ENUMERIC, NULL, 0, NULL, "the null model is not feasible");
    if (rc < 0 && rc != HM_ENUMERIC)
        return hm_error_set(err, rc, NULL, 0, NULL, "fit failed: %s", hm_strstatus(rc));
    fit->converged = rc == HM_OK;
    fit->iterations = iters;
    fit->loglik = ll;
    fit->deviance = 2 * ((d->ylogy - d->lfact) - ll);
    if (fit->deviance < 0 && fit->deviance > -1e-9)
        fit->deviance = 0;
    fit->nobs = d->n;
    fit->nstrata = (int)d->nstrata_cases;
    fit->cases = d->cases;
    fit->pyr = d->pyr;
    fit->aic = -2 * ll + 2 * (p + (double)d->nstrata_cases);
    double g[3 * HM_EPI_MAXTERMS], H[9 * HM_EPI_MAXTERMS * HM_EPI_MAXTERMS];
    double cov[9 * HM_EPI_MAXTERMS * HM_EPI_MAXTERMS];
    int have_cov = p > 0 && epi_eval(d, th, &ll, g, H) == 0 && epi_invert_neg(H, p, cov) == 0;
    for (int a = 0; a < p; a++) {
        fit->p[a].est = th[a];
        fit->p[a].se = have_cov && cov[a * p + a] >= 0 ? sqrt(cov[a * p + a]) : NAN;
        fit->p[a].lo = fit->p[a].hi = NAN;
        fit->p[a].lo_status = fit->p[a].hi_status = HM_EPI_B_NONE;
    }
    return HM_OK;
}

int hm_epi_fit_poisson(const hm_epi_table *t, const hm_epi_model *m, const hm_epi_fit_options *o,
                       hm_epi_fit *fit, hm_error *err)
{
    hm_epi_fit_options def;
    if (!o) {
        hm_epi_fit_options_default(&def);
        o = &def;
    }
    memset(fit, 0, sizeof *fit);
    fit->ci_level = o->ci_level > 0 && o->ci_level < 1 ? o->ci_level : 0.95;
    epi_design d;
    int rc = epi_design_build(t, m, &d, err);
    if (rc < 0)
        return rc;
    name_params(t, m, fit);
    double th[3 * HM_EPI_MAXTERMS];
    if ((rc = fit_design(&d, o, fit, th, err)) < 0) {
        epi_design_free(&d);
        return rc;
    }
    int p = d.p;
    /* Dose trend: excess and modifier parameters at 0, background refitted. */
    if (m->nx > 0) {
        char fixed[3 * HM_EPI_MAXTERMS] = { 0 };
        double th0[3 * HM_EPI_MAXTERMS] = { 0 }, ll0;
        for (int a = m->nz; a < p; a++)
            fixed[a] = 1;
        if (epi_maximize(&d, th0, fixed, 100, &ll0, NULL) >= 0) {
            fit->lrt_chi2 = fmax(0, 2 * (fit->loglik - ll0));
            fit->lrt_df = m->nx;
            fit->lrt_p = gsl_cdf_chisq_Q(fit->lrt_chi2, fit->lrt_df);
        }
    }
    if (o->profile_ci) {
        epi_objective ob = { p, design_eval, &d };
        char resettable[3 * HM_EPI_MAXTERMS] = { 0 };
        for (int a = m->nz; a < p; a++)
            resettable[a] = 1;
        double crit = epi_chi2_crit(fit->ci_level);
        for (int a = 0; a < p; a++)
            if (o->profile_all || fit->p[a].kind != HM_EPI_P_LOGLIN)
                epi_profile_ci(&ob, th, fit->loglik, a, fit->p[a].se, crit, resettable, &fit->p[a]);
    }
    epi_design_free(&d);
    return HM_OK;
}

int hm_epi_fit_text(const hm_epi_table *t, const char *model, const hm_epi_fit_options *o,
                    hm_epi_fit *fit, hm_error *err)
{
    hm_epi_model m;
    int rc = hm_epi_model_parse(model, t, &m, err);
    return rc < 0 ? rc : hm_epi_fit_poisson(t, &m, o, fit, err);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile by linear interpolation between order statistics (R type 7;
 * Hyndman & Fan, Am Stat 50:361, 1996). */
static double quantile(const double *s, int n, double q)
{
    double h = (n - 1) * q;
    int lo = (int)floor(h);
    int hi = lo + 1 < n ? lo + 1 : lo;
    return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

int hm_epi_fit_realizations(const hm_epi_table *t, const hm_epi_model *m, const char *dose_col,
                            char **real_cols, int nreal, double *beta,
                            hm_epi_realization_summary *sum, hm_error *err)
{
    memset(sum, 0, sizeof *sum);
    int c = hm_epi_table_col(t, dose_col);
    if (c < 0)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, dose_col, "dose column not found");
    if (m->nx == 0)
        return hm_error_set(err, HM_EINVAL, "model", 0, NULL, "the model has no excess-risk term");
    hm_epi_table view = *t;
    double **cols = malloc(t->ncols * sizeof *cols);
    double *ok = malloc((nreal ? nreal : 1) * sizeof *ok);
    if (!cols || !ok) {
        free(cols);
        free(ok);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    memcpy(cols, t->cols, t->ncols * sizeof *cols);
    view.cols = cols;
    hm_epi_fit_options o;
    hm_epi_fit_options_default(&o);
    o.profile_ci = 0;
    int rc = HM_OK, n = 0;
    for (int k = 0; k < nreal; k++) {
        int rcol = hm_epi_table_col(t, real_cols[k]);
        if (rcol < 0) {
            rc = hm_error_set(err, HM_ENOTFOUND, NULL, 0, real_cols[k], "realization column not found");
            break;
        }
        cols[c] = t->cols[rcol];
        hm_epi_fit fit;
        hm_error e2;
        beta[k] = NAN;
        if (hm_epi_fit_poisson(&view, m, &o, &fit, &e2) == 0 && fit.converged) {
            beta[k] = fit.p[m->nz].est;
            ok[n++] = beta[k];
        } else {
            sum->nfailed++;
        }
    }
    if (rc == HM_OK && n > 0) {
        qsort(ok, n, sizeof *ok, cmp_d);
        double s1 = 0, s2 = 0;
        for (int k = 0; k < n; k++)
            s1 += ok[k];
        sum->mean = s1 / n;
        for (int k = 0; k < n; k++)
            s2 += (ok[k] - sum->mean) * (ok[k] - sum->mean);
        sum->sd = n > 1 ? sqrt(s2 / (n - 1)) : 0;
        sum->median = quantile(ok, n, 0.5);
        sum->p025 = quantile(ok, n, 0.025);
        sum->p975 = quantile(ok, n, 0.975);
    }
    sum->n = n;
    free(cols);
    free(ok);
    if (rc == HM_OK && n == 0)
        rc = hm_error_set(err, HM_ENUMERIC, NULL, 0, dose_col, "no realization could be fitted");
    return rc;
}
