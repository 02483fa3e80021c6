/*
 * poisson.c — Poisson regression for grouped or individual person-year data
 * with a stratified baseline profiled out analytically.
 *
 * Model (Epicure AMFIT; Preston et al., Epicure User's Guide, 1993):
 *   y_i ~ Poisson(mu_i),  mu_i = exp(alpha_s) r_i,
 *   r_i = PY_i exp(gamma . z_i) RR_i,  RR_i = 1 + (beta . x_i) exp(tau . e_i).
 * For fixed (gamma, beta, tau) the stratum baselines maximise the likelihood
 * at exp(alpha_s) = O_s / R_s, R_s = sum_{i in s} r_i (Breslow & Day, Statistical
 * Methods in Cancer Research II, IARC 1987, ch. 4), which leaves the profile
 *   l_p = sum_i y_i ln r_i - sum_s O_s ln R_s + const,
 * i.e. the multinomial likelihood of the cases within each stratum.  Its
 * gradient and Hessian are computed exactly with g_i = d ln r_i and
 * h_i = d^2 ln r_i:
 *   grad = sum_i y_i g_i - sum_s O_s m_s,       m_s = sum_{i in s} r_i g_i / R_s
 *   H    = sum_i y_i h_i - sum_s O_s [ sum_{i in s} r_i (g_i g_i' + h_i) / R_s - m_s m_s' ].
 * The EAR form mu_i = PY_i [exp(alpha_s + gamma . z_i) + (beta . x_i) exp(tau . e_i)]
 * has no closed-form baseline; it is profiled by a Newton step per stratum
 * (see ear.c).  Maximisation: Newton-Raphson with step halving that keeps
 * every RR_i > 0 (mu_i > 0 for EAR) and never lowers the likelihood.
 * Confidence intervals by profile likelihood: {b : 2[l^ - l_p(b)] <= chi2_1(level)}
 * (3.841 at 95%, 2.706 at 90%; Venzon & Moolgavkar, Appl Stat 37:87, 1988).
 */
#include "hm_epi.h"
#include "epi_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hm_epi_fit_options_default(hm_epi_fit_options *o)
{
    memset(o, 0, sizeof *o);
    o->ci_level = 0.95;
    o->profile_ci = 1;
    o->max_iter = 100;
}

/* ------------------------------------------------------------ likelihood */

/* Profile log-likelihood (full Poisson scale) with gradient and Hessian
 * (when g/H are not NULL).  Returns 0, or 1 when some RR_i <= 0. */
static int eval_err(const epi_design *d, const double *th, double *ll, double *g, double *H)
{
    int p = d->p, nz = d->nz, nx = d->nx, ne = d->ne;
    const double *gam = th, *bet = th + nz, *tau = th + nz + nx;
    double gi[3 * HM_EPI_MAXTERMS], S1[3 * HM_EPI_MAXTERMS];
    double *S2 = H ? calloc((size_t)p * p, sizeof *S2) : NULL;
    double *hi = H ? calloc((size_t)p * p, sizeof *hi) : NULL;
    if (H && (!S2 || !hi)) {
        free(S2);
        free(hi);
        return -1;
    }
    double L_total = 0;
    if (g)
        memset(g, 0, p * sizeof *g);
    if (H)
        memset(H, 0, (size_t)p * p * sizeof *H);
    int infeasible = 0;
    for (size_t s = 0; s < d->nstrata && !infeasible; s++) {
        double O = d->O[s], R = 0;
        if (g)
            memset(S1, 0, p * sizeof *S1);
        if (H)
            memset(S2, 0, (size_t)p * p * sizeof *S2);
        for (size_t i = d->sbeg[s]; i < d->sbeg[s + 1]; i++) {
            const double *z = d->z + i * nz, *x = d->x + i * nx, *e = d->e + i * ne;
            double eta = 0, L = 0, te = 0;
            for (int k = 0; k < nx; k++)
                L += bet[k] * x[k];
            for (int k = 0; k < ne; k++)
                te += tau[k] * e[k];
            /* exp() and log() only where they are needed: they dominate the cost. */
            double M = ne ? exp(te) : 1, RR = 1 + L * M;
            if (!(RR > 0) || !isfinite(RR)) {
                infeasible = 1;
                break;
            }
            if (O <= 0)
                continue;
            for (int k = 0; k < nz; k++)
                eta += gam[k] * z[k];
            double r = d->py[i] * (nz ? exp(eta) : 1) * RR;
            double y = d->y[i];
            if (y > 0)
                L_total += y * (d->lpy[i] + eta + log(RR));
            R += r;
            if (!g)
                continue;
            for (int k = 0; k < nz; k++)
                gi[k] = z[k];
            for (int k = 0; k < nx; k++)
                gi[nz + k] = x[k] * M / RR;
            for (int k = 0; k < ne; k++)
                gi[nz + nx + k] = L * M * e[k] / RR;
            for (int a = 0; a < p; a++) {
                g[a] += y * gi[a];
                S1[a] += r * gi[a];
            }
            if (!H)
                continue;
            /* h = d2 ln RR = d2 RR / RR - g g' on the excess block; d2 RR is
             * x_j M e_k for (beta_j, tau_k) and L M e_k e_l for (tau_k, tau_l). */
            int o = nz;  /* hi is zero outside the excess block (calloc) */
            for (int a = o; a < p; a++)
                for (int b = o; b < p; b++) {
                    double d2 = 0;
                    int ja = a - o, jb = b - o;
                    if (ja < nx && jb >= nx)
                        d2 = x[ja] * M * e[jb - nx];
                    else if (ja >= nx && jb < nx)
                        d2 = x[jb] * M * e[ja - nx];
                    else if (ja >= nx && jb >= nx)
                        d2 = L * M * e[ja - nx] * e[jb - nx];
                    hi[a * p + b] = d2 / RR - gi[a] * gi[b];
                }
            for (int a = 0; a < p; a++)
                for (int b = 0; b < p; b++) {
                    H[a * p + b] += y * hi[a * p + b];
                    S2[a * p + b] += r * (gi[a] * gi[b] + hi[a * p + b]);
                }
        }
        if (infeasible || O <= 0)
            continue;
        if (!(R > 0) || !isfinite(R)) {
            infeasible = 1;
            continue;
        }
        /* l = sum y ln r + O ln(O/R) - O. */
        L_total += O * log(O) - O - O * log(R);
        if (!g)
            continue;
        double mvec[3 * HM_EPI_MAXTERMS];
        for (int a = 0; a < p; a++) {
            mvec[a] = S1[a] / R;
            g[a] -= O * mvec[a];
        }
        if (H)
            for (int a = 0; a < p; a++)
                for (int b = 0; b < p; b++)
                    H[a * p + b] -= O * (S2[a * p + b] / R - mvec[a] * mvec[b]);
    }
    free(S2);
    free(hi);
    *ll = L_total - d->lfact;
    return infeasible;
}

int epi_eval(const epi_design *d, const double *th, double *ll, double *g, double *H)
{
    if (d->form == HM_EPI_EAR)
        return epi_eval_ear(d, th, ll, g, H);
    return eval_err(d, th, ll, g, H);
}

static int design_eval(void *ctx, const double *th, double *ll, double *g, double *H)
{
    return epi_eval(ctx, th, ll, g, H);
}

int epi_maximize(const epi_design *d, double *th, const char *fixed, int max_iter, double *ll,
                 int *iters)
{
    epi_objective ob = { d->p, design_eval, (void *)d };
    return epi_maximize_obj(&ob, th, fixed, max_iter, ll, iters);
}
