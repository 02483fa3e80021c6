/*
 * mc_source.h — the prepared source (private).
 */
#ifndef HM_MC_SOURCE_H
#define HM_MC_SOURCE_H

#include "mc_internal.h"

#include <math.h>
#include "mc_rng.h"

/* One column of the alias table: below prob the column's own bin, above it
 * the alias; inv[] rescales the fraction to a uniform within the bin chosen. */
typedef struct mc_alias_col {
    double prob;
    double inv[2];               /* 1/prob, 1/(1-prob) (0 where undefined) */
    int    bin[2];               /* own bin, alias bin */
} mc_alias_col;

typedef struct mc_source {
    int    kind;
    double pos[3], u[3], v[3], w[3];
    double u0, u1, v0, v1;       /* field rectangle (cm) */
    double x0, x1, y0, y1, r0;   /* RECT: tangents on the unit plane, min 1+x^2+y^2 */
    double cos_max;              /* CONE */
    double omega_sr, area_cm2;
    size_t n;
    double *e;                   /* bin start energies */
    mc_alias_col *col;           /* alias table, one column per bin */
    double width;                /* bin width (0 for lines) */
    double emuen_kev_cm2_g;      /* <E mu_en/rho(air)> per photon */
    double mean_kev;
    double kap_gy_cm2;           /* per history */
} mc_source;

/* After a photoabsorption at e_kev in m: the energy of the K x-ray emitted
 * (0 if none or if every x-ray of the element drawn lies below the cutoff;
 * transport.c).  ne = mc_k_reaching(m, cutoff_kev): how many of m's elements
 * (the first in mc_material.k_order) have an x-ray at or above the cutoff. */
int    mc_k_reaching(const mc_material *m, double cutoff_kev);
double mc_k_fluorescence(const mc_material *m, double e_kev, int ne, mc_rng *rng);

int    mc_source_init(mc_source *ms, const hm_mc_source *src, const hm_mc_spectrum *spec,
                      hm_error *err);
void   mc_source_free(mc_source *ms);
double mc_source_point_kerma(const mc_source *ms, const double p[3]);

/* Energy from the alias table (Walker 1977).  One uniform serves both the
 * bin and the position in it: x = u n picks column i, and its fraction
 * f = x - i, uniform in (0, 1), picks i (f < prob) or its alias; f / prob or
 * (f - prob) / (1 - prob) is again uniform and places the energy in the bin.
 * A 32-bit u leaves ~25 bits for that with n <= 200 bins, far below the
 * resolution that matters.  The choice indexes the column's two entries
 * rather than branching, as it is random and a branch would be mispredicted. */
static inline double mc_source_energy(const mc_source *ms, mc_rng *r)
{
    double x = mc_rng_u(r) * ms->n;
    size_t i = (size_t)x;
    if (i >= ms->n) i = ms->n - 1;
    const mc_alias_col *c = &ms->col[i];
    double f = x - i;
    int alt = f >= c->prob;       /* 0: own bin, 1: alias (an index, not a branch) */
    double v = (f - alt * c->prob) * c->inv[alt];
    return ms->e[c->bin[alt]] + v * ms->width;
}

/* Position and direction of a new photon.  RECT: (x, y) uniform on the
 * rectangle of tangents, accepted with probability (r0/r)^{3/2} since
 * dOmega = dx dy / (1 + x^2 + y^2)^{3/2}; the acceptance is >= cos^3 of the
 * widest angle (field limited to +-71 degrees), so the loop is short. */
static inline void mc_source_emit(const mc_source *ms, mc_rng *r, double p[3], double d[3])
{
    if (ms->kind == HM_MC_SRC_RECT) {
        double x, y, q;
        for (;;) {
            x = ms->x0 + mc_rng_u(r) * (ms->x1 - ms->x0);
            y = ms->y0 + mc_rng_u(r) * (ms->y1 - ms->y0);
            q = 1.0 + x * x + y * y;
            double a = ms->r0 / q;
            if (mc_rng_u(r) < a * sqrt(a)) break;
        }
        double inv = 1.0 / sqrt(q);
        for (int k = 0; k < 3; k++) {
            d[k] = (x * ms->u[k] + y * ms->v[k] + ms->w[k]) * inv;
            p[k] = ms->pos[k];
        }
    } else if (ms->kind == HM_MC_SRC_CONE) {
        double c = 1.0 - mc_rng_u(r) * (1.0 - ms->cos_max);
        double s = sqrt(fmax(0.0, 1.0 - c * c));
        double phi = 2.0 * MC_PI * mc_rng_u(r);
        double cp = cos(phi) * s, sp = sin(phi) * s;
        for (int k = 0; k < 3; k++) {
            d[k] = cp * ms->u[k] + sp * ms->v[k] + c * ms->w[k];
            p[k] = ms->pos[k];
        }
    } else {
        double a = ms->u0 + mc_rng_u(r) * (ms->u1 - ms->u0);
        double b = ms->v0 + mc_rng_u(r) * (ms->v1 - ms->v0);
        for (int k = 0; k < 3; k++) {
            p[k] = ms->pos[k] + a * ms->u[k] + b * ms->v[k];
            d[k] = ms->w[k];
        }
    }
}

#endif
