/* sim.h — small deterministic simulators for the epi tests (header only). */
#ifndef HM_EPI_TEST_SIM_H
#define HM_EPI_TEST_SIM_H

#include <math.h>
#include <stdint.h>

#include "hm_epi.h"

/* splitmix64 (Steele, Lea & Flood, OOPSLA 2014): one 64-bit state. */
typedef struct sim_rng { uint64_t s; } sim_rng;

static inline uint64_t sim_next(sim_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline double sim_unif(sim_rng *r)
{
    return ((sim_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Poisson variate: Knuth's product method for small means, normal
 * approximation rounded for large ones (means here stay below 30). */
static inline double sim_poisson(sim_rng *r, double mu)
{
    if (mu > 60) {
        double u1 = sim_unif(r), u2 = sim_unif(r);
        double z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
        double v = floor(mu + sqrt(mu) * z + 0.5);
        return v < 0 ? 0 : v;
    }
    double L = exp(-mu), p = 1;
    int k = 0;
    do {
        k++;
        p *= sim_unif(r);
    } while (p > L);
    return k - 1;
}

/* Grouped data: nstrata strata x ndose dose levels (0 .. dmax mGy), one
 * log-linear covariate z (0/1) with effect gamma, rate
 * lambda_s exp(gamma z) (1 + beta d exp(tau e)), e = z - 0.5.
 * Columns: stratum, dose, z, e, pyr, cases. */
static inline int sim_grouped(hm_epi_table *t, uint64_t seed, int nstrata, int ndose, double dmax,
                              double beta, double gamma, double tau, double py_scale)
{
    sim_rng r = { seed };
    hm_error err;
    hm_epi_table_init(t);
    const char *names[] = { "stratum", "dose", "z", "e", "pyr", "cases" };
    for (int c = 0; c < 6; c++)
        if (hm_epi_table_add_col(t, names[c], &err) < 0)
            return -1;
    size_t n = (size_t)nstrata * ndose * 2;
    if (hm_epi_table_resize(t, n, &err) < 0)
        return -1;
    size_t i = 0;
    for (int s = 0; s < nstrata; s++) {
        double lambda = 1e-3 * (0.5 + 1.5 * s / (nstrata > 1 ? nstrata - 1 : 1));
        for (int k = 0; k < ndose; k++)
            for (int z = 0; z < 2; z++, i++) {
                double d = dmax * k / (ndose > 1 ? ndose - 1 : 1);
                double py = py_scale * (0.5 + sim_unif(&r)) * (k == 0 ? 3 : 1);
                double mu = py * lambda * exp(gamma * z) * (1 + beta * d * exp(tau * (z - 0.5)));
                t->cols[0][i] = s;
                t->cols[1][i] = d;
                t->cols[2][i] = z;
                t->cols[3][i] = z - 0.5;
                t->cols[4][i] = py;
                t->cols[5][i] = sim_poisson(&r, mu);
            }
    }
    return 0;
}

#endif
