/*
 * ear.c — the excess-absolute-rate form with a stratified baseline:
 *   mu_i = PY_i [B_s b_i + A_i],  b_i = exp(gamma . z_i),  A_i = (beta . x_i) exp(tau . e_i)
 * (Preston et al., Epicure User's Guide, 1993; Breslow & Day vol. II, ch. 4.5).
 * B_s has no closed form: for fixed (gamma, beta, tau) each stratum's
 *   f(B) = sum_i y_i ln(B b_i + A_i) - B sum_i PY_i b_i
 * is concave in B and is maximised by a safeguarded Newton iteration on
 * B >= B_min = max(0, max_i -A_i/b_i) (rates must not be negative).  The
 * profile gradient is the partial gradient at B^ (envelope theorem); the
 * profile Hessian is the Schur complement H_pp - H_pB H_Bp / H_BB.
 */
#include "epi_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Row quantities at parameters th. */
static void row_terms(const epi_design *d, size_t i, const double *th, double *b, double *L,
                      double *M)
{
    int nz = d->nz, nx = d->nx, ne = d->ne;
    double eta = 0, l = 0, te = 0;
    for (int k = 0; k < nz; k++)
        eta += th[k] * d->z[i * nz + k];
    for (int k = 0; k < nx; k++)
        l += th[nz + k] * d->x[i * nx + k];
    for (int k = 0; k < ne; k++)
        te += th[nz + nx + k] * d->e[i * ne + k];
    *b = exp(eta);
    *L = l;
    *M = exp(te);
}

/* Maximises f(B) for stratum s; returns B^ (or NAN when infeasible). */
static double stratum_baseline(const epi_design *d, size_t s, const double *th, int *interior)
{
    double Bmin = 0, SPb = 0;
    *interior = 0;
    for (size_t i = d->sbeg[s]; i < d->sbeg[s + 1]; i++) {
        double b, L, M;
        row_terms(d, i, th, &b, &L, &M);
        double A = L * M;
        if (!isfinite(A) || !isfinite(b))
            return NAN;
        if (A < 0)
            Bmin = fmax(Bmin, -A / b);
        SPb += exp(d->lpy[i]) * b;
    }
    double O = d->O[s];
    if (O <= 0)
        return Bmin;
    double B = fmax(O / SPb, Bmin * (1 + 1e-6) + 1e-300);
    for (int it = 0; it < 200; it++) {
        double f1 = -SPb, f2 = 0;
        for (size_t i = d->sbeg[s]; i < d->sbeg[s + 1]; i++) {
            if (d->y[i] <= 0)
                continue;
            double b, L, M;
            row_terms(d, i, th, &b, &L, &M);
            double rate = B * b + L * M;
            f1 += d->y[i] * b / rate;
            f2 -= d->y[i] * b * b / (rate * rate);
        }
        if (f2 == 0) {
            /* No case depends on B: the optimum is at its lower limit. */
            return Bmin;
        }
        double Bn = B - f1 / f2;
        if (!(Bn > Bmin))
            Bn = 0.5 * (B + Bmin);
        if (fabs(Bn - B) <= 1e-14 * B) {
            B = Bn;
            break;
        }
        B = Bn;
    }
    /* At the lower limit with a negative slope the optimum is B_min. */
    *interior = B > Bmin * (1 + 1e-9);
    return B;
}

int epi_eval_ear(const epi_design *d, const double *th, double *ll, double *g, double *H)
{
    int p = d->p, nz = d->nz, nx = d->nx, ne = d->ne;
    double dm[3 * HM_EPI_MAXTERMS], hpB[3 * HM_EPI_MAXTERMS];
    double total = 0;
    if (g)
        memset(g, 0, p * sizeof *g);
    if (H)
        memset(H, 0, (size_t)p * p * sizeof *H);
    for (size_t s = 0; s < d->nstrata; s++) {
        int interior;
        double B = stratum_baseline(d, s, th, &interior);
        if (!isfinite(B))
            return 1;
        double hBB = 0;
        memset(hpB, 0, p * sizeof *hpB);
        for (size_t i = d->sbeg[s]; i < d->sbeg[s + 1]; i++) {
            double b, L, M, py = exp(d->lpy[i]), y = d->y[i];
            row_terms(d, i, th, &b, &L, &M);
            double mu = py * (B * b + L * M);
            if (mu < 0 || (y > 0 && !(mu > 0)))
                return 1;
            total += (y > 0 ? y * log(mu) : 0) - mu;
            if (!g)
                continue;
            const double *z = d->z + i * nz, *x = d->x + i * nx, *e = d->e + i * ne;
            for (int k = 0; k < nz; k++)
                dm[k] = py * B * b * z[k];
            for (int k = 0; k < nx; k++)
                dm[nz + k] = py * x[k] * M;
            for (int k = 0; k < ne; k++)
                dm[nz + nx + k] = py * L * M * e[k];
            double w = y > 0 ? y / mu : 0, w2 = y > 0 ? y / (mu * mu) : 0;
            for (int a = 0; a < p; a++)
                g[a] += (w - 1) * dm[a];
            if (!H)
                continue;
            double dB = py * b;
            for (int a = 0; a < p; a++) {
                for (int c = 0; c < p; c++) {
                    double d2 = 0;
                    if (a < nz && c < nz)
                        d2 = py * B * b * z[a] * z[c];
                    else if (a >= nz && c >= nz) {
                        int ja = a - nz, jc = c - nz;
                        if (ja < nx && jc >= nx)
                            d2 = py * x[ja] * M * e[jc - nx];
                        else if (ja >= nx && jc < nx)
                            d2 = py * x[jc] * M * e[ja - nx];
                        else if (ja >= nx && jc >= nx)
                            d2 = py * L * M * e[ja - nx] * e[jc - nx];
                    }
                    H[a * p + c] += (w - 1) * d2 - w2 * dm[a] * dm[c];
                }
                double d2B = a < nz ? py * b * z[a] : 0;
                hpB[a] += (w - 1) * d2B - w2 * dm[a] * dB;
            }
            hBB -= w2 * dB * dB;
        }
        if (H && interior && hBB < 0)
            for (int a = 0; a < p; a++)
                for (int c = 0; c < p; c++)
                    H[a * p + c] -= hpB[a] * hpB[c] / hBB;
    }
    *ll = total - d->lfact;
    return 0;
}
