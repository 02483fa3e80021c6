/*
 * geometry.c — ray intersections with the convex analytic solids (box,
 * elliptic cylinder, ellipsoid) and region masses.
 *
 * Every solid is convex, so a ray meets it in one interval [t0, t1): the
 * transport walks the sorted interval end points and, with the painter's
 * rule, the medium at distance t is that of the last solid whose interval
 * contains t.
 */
#include "mc_internal.h"

#include <math.h>
#include <stdlib.h>

/* Slab method for an axis-aligned box (Kay & Kajiya 1986). */
static int box_interval(const double lo[3], const double hi[3], const double p[3],
                        const double d[3], double *t0, double *t1)
{
    double a = -INFINITY, b = INFINITY;
    for (int k = 0; k < 3; k++) {
        if (d[k] != 0.0) {
            double inv = 1.0 / d[k];
            double ta = (lo[k] - p[k]) * inv, tb = (hi[k] - p[k]) * inv;
            if (ta > tb) { double t = ta; ta = tb; tb = t; }
            if (ta > a) a = ta;
            if (tb < b) b = tb;
        } else if (p[k] < lo[k] || p[k] >= hi[k]) {
            return 0;
        }
    }
    if (b <= a || b <= 0) return 0;
    *t0 = a > 0 ? a : 0;
    *t1 = b;
    return 1;
}

/* Roots of a t^2 + 2 b t + c = 0 as an interval (quadric solids). */
static int quad_interval(double a, double b, double c, double *t0, double *t1)
{
    if (a <= 0) {           /* ray parallel to a cylinder's axis */
        if (c < 0) { *t0 = -INFINITY; *t1 = INFINITY; return 1; }
        return 0;
    }
    double disc = b * b - a * c;
    if (disc <= 0) return 0;
    double s = sqrt(disc);
    /* numerically stable form (Press et al., Numerical Recipes §5.6) */
    double qq = -(b + (b >= 0 ? s : -s));
    double r0 = qq / a, r1 = (qq != 0) ? c / qq : r0;
    if (r0 > r1) { double t = r0; r0 = r1; r1 = t; }
    *t0 = r0;
    *t1 = r1;
    return 1;
}

int mc_ray_interval(const mc_element *e, const double p[3], const double d[3],
                    double *t0, double *t1)
{
    const hm_mc_solid *s = &e->s;
    if (e->kind == MC_EL_VOXELS || s->kind == HM_MC_BOX)
        return box_interval(e->lo, e->hi, p, d, t0, t1);
    double a = 0, b = 0, c = -1;
    double r0 = -INFINITY, r1 = INFINITY;
    for (int k = 0; k < 3; k++) {
        if (s->kind == HM_MC_CYLINDER && k == s->axis) {
            /* the two end planes */
            double lo = s->center_cm[k] - s->half_cm[k], hi = s->center_cm[k] + s->half_cm[k];
            if (d[k] != 0) {
                double ta = (lo - p[k]) / d[k], tb = (hi - p[k]) / d[k];
                if (ta > tb) { double t = ta; ta = tb; tb = t; }
                r0 = ta; r1 = tb;
            } else if (p[k] < lo || p[k] >= hi) {
                return 0;
            }
            continue;
        }
        double inv = 1.0 / s->half_cm[k];
        double x = (p[k] - s->center_cm[k]) * inv, u = d[k] * inv;
        a += u * u;
        b += x * u;
        c += x * x;
    }
    double q0, q1;
    if (!quad_interval(a, b, c, &q0, &q1)) return 0;
    if (q0 < r0) q0 = r0;
    if (q1 > r1) q1 = r1;
    if (q1 <= q0 || q1 <= 0) return 0;
    *t0 = q0 > 0 ? q0 : 0;
    *t1 = q1;
    return 1;
}

int mc_inside(const mc_element *e, const double p[3])
{
    for (int k = 0; k < 3; k++)
        if (p[k] < e->lo[k] || p[k] >= e->hi[k]) return 0;
    if (e->kind == MC_EL_VOXELS || e->s.kind == HM_MC_BOX) return 1;
    double r = 0;
    for (int k = 0; k < 3; k++) {
        if (e->s.kind == HM_MC_CYLINDER && k == e->s.axis) continue;
        double x = (p[k] - e->s.center_cm[k]) / e->s.half_cm[k];
        r += x * x;
    }
    return r < 1.0;
}

/* Density and region of the medium at p (painter's rule), or -1 outside all. */
static int medium_at(const hm_mc_scene *s, const double p[3], double *rho, int *region)
{
    for (int i = s->nel - 1; i >= 0; i--) {
        const mc_element *e = &s->el[i];
        if (!mc_inside(e, p)) continue;
        if (e->kind == MC_EL_VOXELS) {
            const mc_voxgrid *g = e->vox;
            int ix = (int)((p[0] - g->origin[0]) * g->inv_d[0]);
            int iy = (int)((p[1] - g->origin[1]) * g->inv_d[1]);
            int iz = (int)((p[2] - g->origin[2]) * g->inv_d[2]);
            if (ix >= g->nx) ix = g->nx - 1;
            if (iy >= g->ny) iy = g->ny - 1;
            if (iz >= g->nz) iz = g->nz - 1;
            size_t v = (size_t)ix + (size_t)g->nx * ((size_t)iy + (size_t)g->ny * iz);
            int m = g->mat[v] - 1;
            *rho = m < 0 ? 0 : g->density ? g->density[v] : s->mat[m].density_g_cm3;
            *region = g->region ? g->region[v] : g->region_default;
        } else {
            int m = e->s.material;
            *rho = m < 0 ? 0 : s->mat[m].density_g_cm3;
            *region = e->s.region;
        }
        return i;
    }
    return -1;
}

/* A point jittered uniformly inside grid cell (a, b, c): stratified sampling
 * is unbiased where the midpoint rule shifts every boundary by up to half a
 * cell.  The jitter comes from a fixed hash (splitmix64, Steele et al. 2014)
 * so masses are reproducible. */
static double jitter(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* Region masses.  Voxel grids: exact sums over voxels (where on top).
 * Solids nothing covers: density x analytic volume.  Otherwise, and for score
 * boxes: stratified sampling on a G^3 grid over the bounding box, with the
 * painter's rule deciding each point (set explicit masses with
 * hm_mc_set_region_mass when more precision matters). */
int mc_region_masses(const hm_mc_scene *s, int nregions, double *mass_g)
{
    const int G = s->nel > 40 ? 32 : s->nel > 8 ? 64 : 96, GB = 32;
    uint64_t seed = 12345;
    for (int r = 0; r < nregions; r++) mass_g[r] = 0;
    for (int i = 0; i < s->nel; i++) {
        const mc_element *e = &s->el[i];
        if (e->kind == MC_EL_VOXELS) {
            const mc_voxgrid *g = e->vox;
            double dv = g->d[0] * g->d[1] * g->d[2];
            double p[3];
            for (int iz = 0; iz < g->nz; iz++)
                for (int iy = 0; iy < g->ny; iy++)
                    for (int ix = 0; ix < g->nx; ix++) {
                        size_t v = (size_t)ix + (size_t)g->nx * ((size_t)iy + (size_t)g->ny * iz);
                        int m = g->mat[v] - 1;
                        if (m < 0) continue;
                        p[0] = g->origin[0] + (ix + 0.5) * g->d[0];
                        p[1] = g->origin[1] + (iy + 0.5) * g->d[1];
                        p[2] = g->origin[2] + (iz + 0.5) * g->d[2];
                        double rho;
                        int reg;
                        if (medium_at(s, p, &rho, &reg) != i) continue;
                        if (reg >= 0 && reg < nregions) mass_g[reg] += rho * dv;
                    }
            continue;
        }
        /* exact when no later element can cover part of this one */
        int covered = 0;
        for (int j = i + 1; j < s->nel && !covered; j++) {
            const mc_element *o = &s->el[j];
            covered = o->lo[0] < e->hi[0] && o->hi[0] > e->lo[0] && o->lo[1] < e->hi[1] &&
                      o->hi[1] > e->lo[1] && o->lo[2] < e->hi[2] && o->hi[2] > e->lo[2];
        }
        if (!covered) {
            const double *hh = e->s.half_cm;
            double vol = e->s.kind == HM_MC_BOX ? 8 * hh[0] * hh[1] * hh[2]
                       : e->s.kind == HM_MC_ELLIPSOID ? 4.0 / 3.0 * MC_PI * hh[0] * hh[1] * hh[2]
                       : 2 * MC_PI * hh[0] * hh[1] * hh[2];   /* cylinder: pi a b x 2 h */
            int m = e->s.material, reg = e->s.region;
            if (m >= 0 && reg >= 0 && reg < nregions) mass_g[reg] += s->mat[m].density_g_cm3 * vol;
            continue;
        }
        double h[3], p[3];
        for (int k = 0; k < 3; k++) h[k] = (e->hi[k] - e->lo[k]) / G;
        double dv = h[0] * h[1] * h[2];
        for (int a = 0; a < G; a++)
            for (int b = 0; b < G; b++)
                for (int c = 0; c < G; c++) {
                    p[0] = e->lo[0] + (a + jitter(&seed)) * h[0];
                    p[1] = e->lo[1] + (b + jitter(&seed)) * h[1];
                    p[2] = e->lo[2] + (c + jitter(&seed)) * h[2];
                    double rho;
                    int reg;
                    if (medium_at(s, p, &rho, &reg) != i) continue;
                    if (reg >= 0 && reg < nregions) mass_g[reg] += rho * dv;
                }
    }
    for (int b = 0; b < s->nsb; b++) {
        const mc_scorebox *sb = &s->sb[b];
        double h[3], p[3];
        for (int k = 0; k < 3; k++) h[k] = (sb->hi[k] - sb->lo[k]) / GB;
        double dv = h[0] * h[1] * h[2];
        for (int a = 0; a < GB; a++)
            for (int bb = 0; bb < GB; bb++)
                for (int c = 0; c < GB; c++) {
                    p[0] = sb->lo[0] + (a + jitter(&seed)) * h[0];
                    p[1] = sb->lo[1] + (bb + jitter(&seed)) * h[1];
                    p[2] = sb->lo[2] + (c + jitter(&seed)) * h[2];
                    double rho = 0;
                    int reg;
                    if (medium_at(s, p, &rho, &reg) < 0) {
                        rho = s->world_mat >= 0 ? s->mat[s->world_mat].density_g_cm3 : 0;
                    }
                    if (sb->region < nregions) mass_g[sb->region] += rho * dv;
                }
    }
    /* the world region: no meaningful mass */
    mass_g[0] = 0;
    for (int r = 0; r < nregions && r < s->nregion_names; r++)
        if (s->region_mass && s->region_mass[r] >= 0) mass_g[r] = s->region_mass[r];
    return 0;
}
