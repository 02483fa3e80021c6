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
#include <stdlib.h>
#include <string.h>

int mc_grid_mode(void)
{
    const char *m = getenv("HM_MC_GRID_MODE");
    if (m && *m) {
        if (!strcmp(m, "woodcock")) return MC_GRID_WOODCOCK;
        if (!strcmp(m, "tree")) return MC_GRID_TREE;
        if (!strcmp(m, "dda")) return MC_GRID_DDA;
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
    free(d->mu); free(d->id); free(d->dens); free(d->off);
    free(d);
}

int mc_dda_build(const hm_mc_scene *s, mc_voxgrid *g, hm_error *err)
{
    mc_dda_free(g->dda);
    g->dda = NULL;
    size_t nv = (size_t)g->nx * g->ny * g->nz;
    /* the grid's own material numbering: local id per stored id (0 vacuum) */
    int *loc = calloc((size_t)s->nmat + 1, sizeof(int)), ncol = 1;
    if (!loc) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t v = 0; v < nv; v++)
        if (g->mat[v] && !loc[g->mat[v]]) loc[g->mat[v]] = ncol++;
    if (ncol > 256) { free(loc); return 0; }
    mc_dda *D = calloc(1, sizeof *D);
    int n[3] = { g->nx, g->ny, g->nz }, nb[3];
    for (int k = 0; k < 3; k++) nb[k] = (n[k] + 2 + 3) / 4;   /* bricks over the bordered grid */
    size_t nbytes = (size_t)64 * nb[0] * nb[1] * nb[2];
    if (D) {
        D->ncol = ncol;
        D->mu = malloc((size_t)(MC_NE - 1) * (size_t)ncol * 2 * sizeof(float));
        D->id = calloc(nbytes, 1);
        D->dens = g->density ? calloc(nbytes, sizeof(float)) : NULL;
        D->off = malloc((size_t)(n[0] + n[1] + n[2] + 6) * sizeof(int32_t));
    }
    if (!D || !D->mu || !D->id || (g->density && !D->dens) || !D->off) {
        free(loc);
        mc_dda_free(D);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    /* per axis, the byte offset of coordinate i = -1 .. n (bordered j = i + 1):
     * brick (j / 4) times the brick stride, plus the place in the brick */
    int64_t bstride[3] = { 64, (int64_t)64 * nb[0], (int64_t)64 * nb[0] * nb[1] }, inner[3] = { 1, 4, 16 };
    D->base[0] = 0; D->base[1] = n[0] + 2; D->base[2] = n[0] + n[1] + 4;
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < n[k] + 2; j++)
            D->off[D->base[k] + j] = (int32_t)((j >> 2) * bstride[k] + (j & 3) * inner[k]);
    for (int z = 0; z < n[2]; z++)
        for (int y = 0; y < n[1]; y++)
            for (int x = 0; x < n[0]; x++) {
                size_t v = (size_t)x + (size_t)n[0] * ((size_t)y + (size_t)n[1] * z);
                int32_t b = D->off[D->base[0] + x + 1] + D->off[D->base[1] + y + 1] + D->off[D->base[2] + z + 1];
                D->id[b] = (uint8_t)loc[g->mat[v]];
                if (D->dens) D->dens[b] = g->density[v];
            }
    /* the table: per energy bin, per local id, (mu_k, mu_k+1 - mu_k) */
    int *glob = malloc((size_t)ncol * sizeof(int));
    if (!glob) { free(loc); mc_dda_free(D); return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory"); }
    for (int m = 1; m <= s->nmat; m++)
        if (loc[m]) glob[loc[m]] = m - 1;
    free(loc);
    for (int k = 0; k < MC_NE - 1; k++) {
        float *row = D->mu + (size_t)k * ncol * 2;
        row[0] = row[1] = 0.0f;                   /* vacuum */
        for (int c = 1; c < ncol; c++) {
            const mc_material *m = &s->mat[glob[c]];
            /* with per-voxel densities the voxel's density multiplies mu/rho;
             * otherwise the material's own density is folded in */
            double rho = g->density ? 1.0 : m->density_g_cm3;
            float a = (float)(rho * m->xs[k].mu_tot), b = (float)(rho * m->xs[k + 1].mu_tot);
            row[2 * c] = a;
            row[2 * c + 1] = b - a;
        }
    }
    free(glob);
    g->dda = D;
    return 0;
}

/*
 * Exact tracking or Woodcock tracking for this grid (MC_GRID_AUTO).  Per cm of
 * track, Woodcock tracking with the single grid majorant M rejects M - mu
 * tentative collisions; exact tracking crosses sum_k |d_k| / dx_k voxel faces,
 * (1/2) sum_k 1/dx_k on average over isotropic directions (the mean |cos| is
 * 1/2).  Both are weighted over the grid's voxels (a uniform flux) and over
 * the source spectrum, mu at each energy.  Exact tracking is chosen when
 *     crossings x c_step < rejections,
 * c_step being one voxel step in units of one rejected tentative collision,
 * measured (docs/mc.md; HM_MC_GRID_DDA_COST overrides it).  *ratio gets the
 * left side over the right.
 */
int mc_dda_worth(const hm_mc_scene *s, const mc_voxgrid *g, double *ratio)
{
    size_t n = (size_t)g->nx * g->ny * g->nz;
    /* voxel counts per material id, and with densities the summed density */
    double *cnt = calloc((size_t)s->nmat + 1, sizeof(double));
    if (!cnt) { *ratio = 1; return 0; }
    for (size_t v = 0; v < n; v++) cnt[g->mat[v]] += g->density ? g->density[v] : 1.0;
    double fsum = 0, rej = 0;
    for (size_t i = 0; i < s->spec.n; i++) {
        double e = s->spec.energy_kev[i], w = s->spec.fluence[i];
        if (!(w > 0)) continue;
        int k = (int)(e * (1.0 / MC_DE_KEV));
        if (k >= MC_NE - 1) k = MC_NE - 2;
        double mean = 0;
        for (int c = 1; c <= s->nmat; c++) {
            if (cnt[c] == 0) continue;
            double rho = g->density ? 1.0 : s->mat[c - 1].density_g_cm3;
            mean += cnt[c] * rho * mc_mu_tot(s->mat[c - 1].xs, e);
        }
        mean /= (double)n;
        double maj = g->maj[k] > g->maj[k + 1] ? g->maj[k] : g->maj[k + 1];
        rej += w * (maj - mean);
        fsum += w;
    }
    free(cnt);
    double cross = 0.5 * (g->inv_d[0] + g->inv_d[1] + g->inv_d[2]);
    if (!(fsum > 0) || !(rej > 0)) { *ratio = INFINITY; return 0; }
    rej /= fsum;
    *ratio = cross * mc_dda_step_cost() / rej;
    return *ratio < 1.0;
}
