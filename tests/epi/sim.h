/* sim.h — small deterministic simulators for the epi tests (header only). */
#ifndef HM_EPI_TEST_SIM_H
#define HM_EPI_TEST_SIM_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

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

#define SIM_Y 365.25
/* n persons born 1990-1999, 1-3 procedures before age 5, follow-up to
 * 2020; leukaemia hazard 0.004/y x exp(0.7 tx(t)) x (1 + 0.05 d(t - 2 y)),
 * simulated month by month from the first procedure.  doses2 holds
 * every dose doubled. */
static inline int sim_cohort_files(const char *persons, const char *doses, const char *doses2,
                                   const char *events, int n, uint64_t seed)
{
    sim_rng r = { seed };
    FILE *fp = fopen(persons, "w"), *fd = fopen(doses, "w"), *fd2 = fopen(doses2, "w"), *fe = fopen(events, "w");
    if (!fp || !fd || !fd2 || !fe) {
        if (fp) fclose(fp);
        if (fd) fclose(fd);
        if (fd2) fclose(fd2);
        if (fe) fclose(fe);
        return -1;
    }
    fprintf(fp, "id,sex,birth,end,transplant\n");
    fprintf(fd, "id,date,dose_mgy\n");
    fprintf(fd2, "id,date,dose_mgy\n");
    fprintf(fe, "id,date,morphology,topography\n");
    double end = hm_epi_day_from_civil(2020, 1, 1);
    for (int i = 0; i < n; i++) {
        double birth = floor(hm_epi_day_from_civil(1990, 1, 1) + 3650 * sim_unif(&r));
        int np = 1 + (int)(3 * sim_unif(&r));
        double day[3], dose[3];
        for (int k = 0; k < np; k++) {
            day[k] = floor(birth + 5 * SIM_Y * sim_unif(&r));
            double u = sim_unif(&r);
            dose[k] = floor(1000 * 60 * u * u) / 1000;
        }
        for (int a = 1; a < np; a++)   /* sort by day */
            for (int b = a; b > 0 && day[b] < day[b - 1]; b--) {
                double t = day[b]; day[b] = day[b - 1]; day[b - 1] = t;
                t = dose[b]; dose[b] = dose[b - 1]; dose[b - 1] = t;
            }
        double tx = sim_unif(&r) < 0.15 ? floor(day[0] + 15 * SIM_Y * sim_unif(&r)) : NAN;
        const char *sex = sim_unif(&r) < 0.5 ? "M" : "F";
        if (isnan(tx))
            fprintf(fp, "P%d,%s,%.0f,%.0f,\n", i, sex, birth, end);
        else
            fprintf(fp, "P%d,%s,%.0f,%.0f,%.0f\n", i, sex, birth, end, tx);
        for (int k = 0; k < np; k++) {
            fprintf(fd, "P%d,%.0f,%.3f\n", i, day[k], dose[k]);
            fprintf(fd2, "P%d,%.0f,%.3f\n", i, day[k], 2 * dose[k]);
        }
        for (double t = day[0]; t < end; t += 30) {
            double dl = 0;
            for (int k = 0; k < np; k++)
                dl += day[k] + 2 * SIM_Y <= t ? dose[k] : 0;
            double h = 0.004 / SIM_Y * exp(0.7 * (!isnan(tx) && t >= tx)) * (1 + 0.05 * dl);
            if (sim_unif(&r) < h * 30) {
                fprintf(fe, "P%d,%.0f,9861/3,C42.1\n", i, floor(t + 30 * sim_unif(&r)));
                break;
            }
        }
    }
    fclose(fp);
    fclose(fd);
    fclose(fd2);
    fclose(fe);
    return 0;
}


#endif
