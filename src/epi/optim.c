/*
 * optim.c — Newton-Raphson maximisation of a log-likelihood with step
 * halving (never downhill, never outside the feasible region RR > 0), and
 * profile-likelihood confidence limits.
 */
#include "epi_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------- maximisation */

/* Cholesky factorisation of the n x n matrix A (row-major) in place; 0 if
 * positive definite (Golub & Van Loan, Matrix Computations, 4th ed., alg. 4.2.1). */
static int cholesky(double *A, int n)
{
    for (int j = 0; j < n; j++) {
        double s = A[j * n + j];
        for (int k = 0; k < j; k++)
            s -= A[j * n + k] * A[j * n + k];
        if (!(s > 0))
            return -1;
        A[j * n + j] = sqrt(s);
        for (int i = j + 1; i < n; i++) {
            double t = A[i * n + j];
            for (int k = 0; k < j; k++)
                t -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = t / A[j * n + j];
        }
    }
    return 0;
}

static void chol_solve(const double *L, int n, const double *b, double *x)
{
    for (int i = 0; i < n; i++) {
        double s = b[i];
        for (int k = 0; k < i; k++)
            s -= L[i * n + k] * x[k];
        x[i] = s / L[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = x[i];
        for (int k = i + 1; k < n; k++)
            s -= L[k * n + i] * x[k];
        x[i] = s / L[i * n + i];
    }
}

int epi_invert_neg(const double *H, int n, double *cov)
{
    double A[9 * HM_EPI_MAXTERMS * HM_EPI_MAXTERMS], e[3 * HM_EPI_MAXTERMS], col[3 * HM_EPI_MAXTERMS];
    for (int i = 0; i < n * n; i++)
        A[i] = -H[i];
    if (cholesky(A, n) < 0)
        return -1;
    for (int j = 0; j < n; j++) {
        memset(e, 0, n * sizeof *e);
        e[j] = 1;
        chol_solve(A, n, e, col);
        for (int i = 0; i < n; i++)
            cov[i * n + j] = col[i];
    }
    return 0;
}

int epi_maximize_obj(const epi_objective *ob, double *th, const char *fixed, int max_iter,
                     double *ll_out, int *iters)
{
    int p = ob->p, nf = 0, F[3 * HM_EPI_MAXTERMS];
    for (int a = 0; a < p; a++)
        if (!fixed || !fixed[a])
            F[nf++] = a;
    double g[3 * HM_EPI_MAXTERMS], H[9 * HM_EPI_MAXTERMS * HM_EPI_MAXTERMS];
    double A[9 * HM_EPI_MAXTERMS * HM_EPI_MAXTERMS], gf[3 * HM_EPI_MAXTERMS], step[3 * HM_EPI_MAXTERMS];
    double trial[3 * HM_EPI_MAXTERMS], ll;
    int st = ob->eval(ob->ctx, th, &ll, nf ? g : NULL, nf ? H : NULL);
    if (st != 0)
        return st < 0 ? HM_ENOMEM : 1;
    int it = 0, converged = nf == 0;
    for (; it < max_iter && !converged; it++) {
        for (int a = 0; a < nf; a++) {
            gf[a] = g[F[a]];
            for (int b = 0; b < nf; b++)
                A[a * nf + b] = -H[F[a] * p + F[b]];
        }
        /* Levenberg ridge when -H is not positive definite (far from the optimum;
         * Levenberg, Q Appl Math 2:164, 1944). */
        double ridge = 0, maxdiag = 0;
        for (int a = 0; a < nf; a++)
            maxdiag = fmax(maxdiag, fabs(A[a * nf + a]));
        double B[9 * HM_EPI_MAXTERMS * HM_EPI_MAXTERMS];
        for (;;) {
            memcpy(B, A, (size_t)nf * nf * sizeof *B);
            for (int a = 0; a < nf; a++)
                B[a * nf + a] += ridge;
            if (cholesky(B, nf) == 0)
                break;
            ridge = ridge ? ridge * 10 : 1e-8 * (maxdiag + 1);
            if (ridge > 1e20)
                return HM_ENUMERIC;
        }
        chol_solve(B, nf, gf, step);
        double dec = 0;
        for (int a = 0; a < nf; a++)
            dec += gf[a] * step[a];
        if (dec < 1e-11 && ridge == 0) {
            converged = 1;
            break;
        }
        /* The full step usually succeeds: evaluate it with derivatives so an
         * accepted step needs no second pass over the data. */
        double t = 1, ll_new = ll, g2[3 * HM_EPI_MAXTERMS], H2[9 * HM_EPI_MAXTERMS * HM_EPI_MAXTERMS];
        int ok = 0, have_d = 0;
        for (int h = 0; h < 60; h++, t *= 0.5) {
            memcpy(trial, th, p * sizeof *trial);
            for (int a = 0; a < nf; a++)
                trial[F[a]] += t * step[a];
            if (ob->eval(ob->ctx, trial, &ll_new, h == 0 ? g2 : NULL, h == 0 ? H2 : NULL) == 0 &&
                ll_new >= ll - 1e-12 * fabs(ll)) {
                ok = 1;
                have_d = h == 0;
                break;
            }
        }
        if (!ok) {
            converged = dec < 1e-6;  /* no uphill step left: at the optimum to rounding */
            break;
        }
        memcpy(th, trial, p * sizeof *th);
        double improve = ll_new - ll;
        if (have_d) {
            ll = ll_new;
            memcpy(g, g2, p * sizeof *g);
            memcpy(H, H2, (size_t)p * p * sizeof *H);
        } else if (ob->eval(ob->ctx, th, &ll, g, H) != 0) {
            return HM_ENUMERIC;
        }
        if (improve >= 0 && improve < 1e-13 * (1 + fabs(ll)) && dec < 1e-9)
            converged = 1;
    }
    *ll_out = ll;
    if (iters)
        *iters = it;
    return converged ? HM_OK : HM_ENUMERIC;
}

/* ------------------------------------------------------- profile intervals */

typedef struct prof_ctx {
    const epi_objective *ob;
    const double *th_hat;
    double ll_hat, crit;
    int j;
    const char *resettable;   /* params that may be set to 0 to find a feasible start */
    double work[3 * HM_EPI_MAXTERMS];  /* last feasible profile optimum (warm start) */
} prof_ctx;

/* f(b) = 2[l^ - max l | theta_j = b] - crit.  0 ok, 1 no feasible point. */
static int prof_eval(prof_ctx *c, double b, double *f)
{
    int p = c->ob->p;
    char fixed[3 * HM_EPI_MAXTERMS] = { 0 };
    fixed[c->j] = 1;
    double th[3 * HM_EPI_MAXTERMS], ll;
    int rc = 1;
    for (int attempt = 0; attempt < 3 && rc != 0; attempt++) {
        memcpy(th, attempt == 0 ? c->work : c->th_hat, p * sizeof *th);
        if (attempt == 2)
            for (int a = 0; a < p; a++)
                if (c->resettable && c->resettable[a])
                    th[a] = 0;
        th[c->j] = b;
        rc = c->ob->eval(c->ob->ctx, th, &ll, NULL, NULL);
    }
    if (rc != 0)
        return 1;
    rc = epi_maximize_obj(c->ob, th, fixed, 200, &ll, NULL);
    if (rc == 1 || (rc < 0 && rc != HM_ENUMERIC))
        return 1;
    memcpy(c->work, th, p * sizeof *th);
    *f = 2 * (c->ll_hat - ll) - c->crit;
    return 0;
}

/* Illinois regula falsi on [a, b] with fa < 0 <= fb (Dowell & Jarratt,
 * BIT 11:168, 1971): the secant of the bracket, halving the retained end's
 * value when the same end is kept twice, converges superlinearly. */
static double root(prof_ctx *c, double a, double fa, double b, double fb)
{
    int side = 0;
    for (int it = 0; it < 100; it++) {
        double m = (a * fb - b * fa) / (fb - fa);
        if (!(m > fmin(a, b) && m < fmax(a, b)))
            m = 0.5 * (a + b);
        double fm;
        if (prof_eval(c, m, &fm) != 0)
            return m;
        if (fabs(fm) < 1e-10 || fabs(b - a) < 1e-12 * (1 + fabs(m)))
            return m;
        if ((fm < 0) == (fa < 0)) {
            a = m, fa = fm;
            if (side == -1)
                fb *= 0.5;
            side = -1;
        } else {
            b = m, fb = fm;
            if (side == 1)
                fa *= 0.5;
            side = 1;
        }
    }
    return 0.5 * (a + b);
}

/* One side (dir = +1 upper, -1 lower) of the interval. */
static void one_side(prof_ctx *c, int dir, double se, double *limit, int *status)
{
    int p = c->ob->p;
    double b0 = c->th_hat[c->j];
    double h = (se > 0 && isfinite(se)) ? se : 0.1 * (fabs(b0) + 0.1);
    double last_b = b0, last_f = -c->crit;
    memcpy(c->work, c->th_hat, p * sizeof *c->work);
    for (int k = 0; k < 80; k++) {
        double b = b0 + dir * h, f;
        if (prof_eval(c, b, &f) != 0) {
            /* Outside the region where every RR > 0: find its edge. */
            double lo = last_b, hi = b;
            for (int it = 0; it < 60; it++) {
                double mid = 0.5 * (lo + hi), fm;
                if (prof_eval(c, mid, &fm) != 0) {
                    hi = mid;
                } else if (fm >= 0) {
                    *limit = root(c, last_b, last_f, mid, fm);
                    *status = HM_EPI_B_OK;
                    return;
                } else {
                    lo = mid, last_b = mid, last_f = fm;
                }
            }
            *limit = lo;
            *status = HM_EPI_B_BOUNDARY;
            return;
        }
        if (f >= 0) {
            *limit = root(c, last_b, last_f, b, f);
            *status = HM_EPI_B_OK;
            return;
        }
        last_b = b, last_f = f;
        h *= 2;
        if (h > 1e8 * (1 + fabs(b0)))
            break;
    }
    *limit = dir > 0 ? INFINITY : -INFINITY;
    *status = HM_EPI_B_NONE;
}

void epi_profile_ci(const epi_objective *ob, const double *th_hat, double ll_hat, int j, double se,
                    double crit, const char *resettable, hm_epi_param *out)
{
    prof_ctx c = { .ob = ob, .th_hat = th_hat, .ll_hat = ll_hat, .crit = crit, .j = j,
                   .resettable = resettable };
    one_side(&c, -1, se, &out->lo, &out->lo_status);
    one_side(&c, +1, se, &out->hi, &out->hi_status);
}
