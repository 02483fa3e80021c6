/*
 * voxel_dda.c — exact (regular) tracking through voxel grids: the mode
 * switch, the per-grid attenuation table and the choice between exact
 * tracking and Woodcock tracking.
 *
 * In a stretch of a flight where a grid is the topmost element, the photon
 * walks voxel by voxel (3-D DDA: Amanatides & Woo 1987, "A fast voxel
 * traversal algorithm for ray tracing", Eurographics 87:3), summing the
 * radiological path mu_voxel x chord (Siddon 1985, Med Phys 12:252) until the
 * optical depth tau = -ln u drawn once is used up; the collision lies in the
 * last voxel at the remainder / mu.  Every collision is real: no rejections.
 * The walk itself is mc_dda_walk (mc_internal.h), inlined in transport.c.
 *
 * The attenuation of a voxel comes from a table per grid, energy-major: for
 * energy bin k and the voxel's local material id c (the grid's materials
 * renumbered, 0 = vacuum), the pair (mu_k, mu_{k+1} - mu_k), so that a flight at one energy
 * reads one row (the grid's materials side by side) and interpolates with
 * one multiply-add, as mc_mu_tot does.  mu is the linear coefficient
 * (material density x mu/rho) or, for grids with per-voxel densities, mu/rho
 * to be multiplied by the voxel's density.
 */
#include "mc_internal.h"

#include <stdint.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int mc_grid_mode(void)
{
    const char *m = getenv("HM_MC_GRID_MODE");
    if (m && *m) {
        if (!strcmp(m, "woodcock")) return MC_GRID_WOODCOCK;
        if (!strcmp(m, "tree")) return MC_GRID_TREE;
        if (!strcmp(m, "dda")) return MC_GRID_DDA;
        if (!strcmp(m, "delta")) return MC_GRID_DELTA;
        return MC_GRID_AUTO;
    }
    /* the older switch: HM_MC_GRID_TREE=0 is the single majorant, =1 the tree */
    const char *e = getenv("HM_MC_GRID_TREE");
    if (e && *e) return strcmp(e, "0") ? MC_GRID_TREE : MC_GRID_WOODCOCK;
    return MC_GRID_AUTO;
}

double mc_dda_step_cost(void)
{
    const char *e = getenv("HM_MC_GRID_DDA_COST");
    return e && atof(e) > 0 ? atof(e) : MC_DDA_STEP_COST;
}

void mc_dda_free(mc_dda *d)
{
    if (!d) return;
    free(d->mu); free(d->cell); free(d->id); free(d->glob);
    free(d);
}

/* The same medium: material id, and density where the grid has its own. */
static inline int same(const mc_voxgrid *g, size_t a, size_t b)
{
    return g->mat[a] == g->mat[b] && (!g->density || g->density[a] == g->density[b]);
}

/*
 * k per voxel: the chessboard distance to the nearest "border" voxel, one
 * with a neighbour (of its 26, inside the grid) of another medium; border
 * voxels get 0.  Every voxel within chessboard distance k of a voxel then has
 * its medium (from the voxel outward, each ring touches only non-border
 * voxels of the inner ring).  Two raster passes of the chessboard chamfer
 * distance (Rosenfeld & Pfaltz 1966, J ACM 13:471; in 3-D with the 26
 * neighbours it is exact for the chessboard metric), capped at 255.
 */
static void chessboard(const mc_voxgrid *g, uint8_t *k)
{
    int n[3] = { g->nx, g->ny, g->nz };
    size_t sy = (size_t)n[0], sz = (size_t)n[0] * n[1];
    for (int z = 0; z < n[2]; z++)
        for (int y = 0; y < n[1]; y++)
            for (int x = 0; x < n[0]; x++) {
                size_t v = x + sy * y + sz * z;
                int border = 0;
                for (int dz = -1; dz <= 1 && !border; dz++)
                    for (int dy = -1; dy <= 1 && !border; dy++)
                        for (int dx = -1; dx <= 1 && !border; dx++) {
                            int X = x + dx, Y = y + dy, Z = z + dz;
                            if (X < 0 || Y < 0 || Z < 0 || X >= n[0] || Y >= n[1] || Z >= n[2]) continue;
                            border = !same(g, v, X + sy * Y + sz * Z);
                        }
                k[v] = border ? 0 : 255;
            }
    for (int pass = 0; pass < 2; pass++) {
        int st = pass ? -1 : 1;
        for (int z = pass ? n[2] - 1 : 0; z >= 0 && z < n[2]; z += st)
            for (int y = pass ? n[1] - 1 : 0; y >= 0 && y < n[1]; y += st)
                for (int x = pass ? n[0] - 1 : 0; x >= 0 && x < n[0]; x += st) {
                    size_t v = x + sy * y + sz * z;
                    int best = k[v];
                    /* the 13 neighbours already visited in this pass */
                    for (int dz = -1; dz <= 0; dz++)
                        for (int dy = -1; dy <= 1; dy++)
                            for (int dx = -1; dx <= 1; dx++) {
                                if (dz == 0 && (dy > 0 || (dy == 0 && dx >= 0))) continue;
                                int X = x + st * dx, Y = y + st * dy, Z = z + st * dz;
                                if (X < 0 || Y < 0 || Z < 0 || X >= n[0] || Y >= n[1] || Z >= n[2]) continue;
                                int c = k[X + sy * Y + sz * Z] + 1;
                                if (c < best) best = c;
                            }
                    k[v] = (uint8_t)best;
                }
    }
}

/*
 * The cost model (auto mode).  Per cm of track in the grid, in a uniform
 * isotropic flux (every voxel weighted alike) and averaged over the source
 * spectrum:
 *   Woodcock tracking with the grid's majorant M rejects M - mean(mu)
 *   tentative collisions;
 *   exact tracking takes one step per cube crossed: from a voxel of radius
 *   k, a cube of side (2k + 1) voxels, left after about 1 / (1.5 / side) of
 *   track (a voxel alone: the mean of sum_j |d_j| / dx_j over isotropic
 *   directions, 1.5 / dx for cubes), so mean(1.5 / ((2k + 1) dx)) steps,
 *   dx the harmonic mean voxel size.
 * A cube step costs about one rejection of grid_delta (callgrind, 1y phantom
 * and slab in both loops: ~58 estimated cycles each; docs/mc.md), so exact
 * tracking is chosen when
 *     steps x c_step < rejections,   c_step = MC_DDA_STEP_COST.
 * k comes from 4096 voxels on a lattice (capped at 4) or, with kfull, from
 * every voxel.  Returns the ratio left side / right side.
 */
/* k of voxel (x, y, z) as chessboard() defines it, capped at `cap`: the
 * first shell (chessboard distance r) holding another medium is at r = k + 1. */
static int sample_k(const mc_voxgrid *g, int x, int y, int z, int cap)
{
    int n[3] = { g->nx, g->ny, g->nz };
    size_t sy = (size_t)n[0], sz = (size_t)n[0] * n[1], v = x + sy * y + sz * z;
    for (int r = 1; r <= cap + 1; r++)
        for (int Z = z - r; Z <= z + r; Z++)
            for (int Y = y - r; Y <= y + r; Y++)
                for (int X = x - r; X <= x + r; X++) {
                    if (X < 0 || Y < 0 || Z < 0 || X >= n[0] || Y >= n[1] || Z >= n[2]) continue;
                    int on = abs(X - x) == r || abs(Y - y) == r || abs(Z - z) == r;
                    if (on && !same(g, v, X + sy * Y + sz * Z)) return r - 1;
                }
    return cap;
}

static double model_ratio(const hm_mc_scene *s, const mc_voxgrid *g, const uint8_t *kfull)
{
    size_t n = (size_t)g->nx * g->ny * g->nz;
    double *cnt = calloc((size_t)s->nmat + 1, sizeof(double));
    if (!cnt) return INFINITY;
    /* voxels per material (with densities: the summed density) */
    for (size_t v = 0; v < n; v++) cnt[g->mat[v]] += g->density ? g->density[v] : 1.0;
    /* steps per cm from k at up to 4096 voxels on a regular lattice, k capped
     * at 4 (a few ms on the phantoms; the cap overestimates the steps in
     * large uniform regions, so the choice errs towards Woodcock) */
    double steps = 0, dx = 3.0 / (g->inv_d[0] + g->inv_d[1] + g->inv_d[2]);
    if (kfull) {
        for (size_t v = 0; v < n; v++) steps += 1.5 / ((2.0 * kfull[v] + 1.0) * dx);
        steps /= (double)n;
    } else {
        int m[3] = { g->nx, g->ny, g->nz }, ns = 0;
        int st[3];
        for (int k = 0; k < 3; k++) st[k] = m[k] / 16 > 1 ? m[k] / 16 : 1;
        for (int z = st[2] / 2; z < m[2]; z += st[2])
            for (int y = st[1] / 2; y < m[1]; y += st[1])
                for (int x = st[0] / 2; x < m[0]; x += st[0]) {
                    steps += 1.5 / ((2.0 * sample_k(g, x, y, z, 4) + 1.0) * dx);
                    ns++;
                }
        steps /= ns > 0 ? ns : 1;
    }
    double fsum = 0, rej = 0;
    for (size_t i = 0; i < s->spec.n; i++) {
        double e = s->spec.energy_kev[i], w = s->spec.fluence[i];
        if (!(w > 0)) continue;
        int ke = (int)(e * (1.0 / MC_DE_KEV));
        if (ke >= MC_NE - 1) ke = MC_NE - 2;
        double mean = 0;
        for (int c = 1; c <= s->nmat; c++) {
            if (cnt[c] == 0) continue;
            double rho = g->density ? 1.0 : s->mat[c - 1].density_g_cm3;
            mean += cnt[c] * rho * mc_mu_tot(s->mat[c - 1].xs, e);
        }
        mean /= (double)n;
        double maj = g->maj[ke] > g->maj[ke + 1] ? g->maj[ke] : g->maj[ke + 1];
        rej += w * (maj - mean);
        fsum += w;
    }
    free(cnt);
    if (!(fsum > 0) || !(rej > 0)) return INFINITY;
    return steps * mc_dda_step_cost() / (rej / fsum);
}

int mc_dda_build(const hm_mc_scene *s, mc_voxgrid *g, int how, double *ratio, hm_error *err)
{
    mc_dda_free(g->dda);
    g->dda = NULL;
    *ratio = 0;
    size_t nv = (size_t)g->nx * g->ny * g->nz;
    /* the grid's own material numbering: local id per stored id (0 vacuum) */
    int *loc = calloc((size_t)s->nmat + 1, sizeof(int)), ncol = 1;
    if (!loc) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t v = 0; v < nv; v++)
        if (g->mat[v] && !loc[g->mat[v]]) loc[g->mat[v]] = ncol++;
    if (ncol > 256) { free(loc); return 0; }
    mc_dda *D = calloc(1, sizeof *D);
    /* auto: the model from sampled k first; where exact tracking may pay
     * (ratio < 2), again from every voxel's k, which the walk needs anyway */
    if (how == MC_GRID_AUTO) *ratio = model_ratio(s, g, NULL);
    int need_k = how == MC_GRID_DDA || (how == MC_GRID_AUTO && *ratio < 2.0);
    uint8_t *k = need_k ? malloc(nv) : NULL;
    int *glob = malloc((size_t)ncol * sizeof(int));
    if (D) D->mu = malloc((size_t)(MC_NE - 1) * (size_t)ncol * 2 * sizeof(float));
    if (!D || !D->mu || (need_k && !k) || !glob) {
        free(loc); free(k); free(glob);
        mc_dda_free(D);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    if (k) chessboard(g, k);
    if (k && how == MC_GRID_AUTO) *ratio = model_ratio(s, g, k);
    int exact = how == MC_GRID_DDA || (how == MC_GRID_AUTO && *ratio < 1.0);
    D->ncol = ncol;
    D->exact = exact;
    size_t bx = (size_t)g->nx + 2, by = (size_t)g->ny + 2, bz = (size_t)g->nz + 2;
    if (D->exact) D->cell = malloc(nv * sizeof(uint16_t));
    else D->id = calloc(bx * by * bz, 1);
    if (!D->cell && !D->id) {
        free(loc); free(k); free(glob);
        mc_dda_free(D);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    if (D->exact)
        for (size_t v = 0; v < nv; v++) D->cell[v] = (uint16_t)(loc[g->mat[v]] | k[v] << 8);
    else
        for (size_t z = 0; z < (size_t)g->nz; z++)
            for (size_t y = 0; y < (size_t)g->ny; y++)
                for (size_t x = 0; x < (size_t)g->nx; x++)
                    D->id[(x + 1) + bx * ((y + 1) + by * (z + 1))] =
                        (uint8_t)loc[g->mat[x + (size_t)g->nx * (y + (size_t)g->ny * z)]];
    free(k);
    k = NULL;
    /* the table: per energy bin, per local id, (mu_k, mu_k+1 - mu_k) */
    glob[0] = -1;                                 /* vacuum */
    for (int m = 1; m <= s->nmat; m++)
        if (loc[m]) glob[loc[m]] = m - 1;
    free(loc);
    for (int e = 0; e < MC_NE - 1; e++) {
        float *row = D->mu + (size_t)e * ncol * 2;
        row[0] = row[1] = 0.0f;                   /* vacuum */
        for (int c = 1; c < ncol; c++) {
            const mc_material *m = &s->mat[glob[c]];
            /* with per-voxel densities the voxel's density multiplies mu/rho;
             * otherwise the material's own density is folded in */
            double rho = g->density ? 1.0 : m->density_g_cm3;
            float a = (float)(rho * m->xs[e].mu_tot), b = (float)(rho * m->xs[e + 1].mu_tot);
            row[2 * c] = a;
            row[2 * c + 1] = b - a;
        }
    }
    D->glob = glob;
    g->dda = D;
    return 0;
}
