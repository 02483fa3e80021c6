/*
 * transport.c — the photon history loop, threads and tallies.
 *
 * Tracking: along each flight the ray meets every (convex) element in one
 * interval; between interval end points the majorant is the largest linear
 * attenuation coefficient of the elements covering that stretch (a voxel
 * grid contributes its own majorant table).  Distances are sampled with that
 * piecewise-constant majorant and a tentative collision is real with
 * probability mu(r)/majorant (Woodcock et al. 1965; delta tracking as in
 * MC-GPU, Badal & Badano, Med Phys 36:4878, 2009).  Inside a uniform solid
 * on top, mu = majorant and every collision is real: exact tracking.
 * A voxel grid with a majorant tree (majorant_tree.c) contributes the
 * majorant of the leaf the flight is in, changing at each leaf face, where
 * the optical depth left is carried over; HM_MC_GRID_TREE=0 gives the single
 * grid majorant and the engine exactly as it was before the tree.
 * By default (HM_MC_GRID_MODE=auto, mc_internal.h) a stretch where a grid is
 * the topmost element goes to a loop over that grid alone (voxel_dda.c):
 * exact tracking (mc_dda_walk) or Woodcock tracking with the grid's majorant
 * (grid_delta), chosen per grid.
 *
 * Interactions: photoelectric absorption (energy deposited locally),
 * Compton (Klein–Nishina × S, E' = E / (1 + E/mc^2 (1 - cos theta)), or with
 * the "doppler" option E' from the shell Compton profiles, mc_doppler.h;
 * E - E' deposited locally), Rayleigh (Thomson × F^2, no energy change).
 * Photons below the cutoff deposit their energy where they are.
 */
#include "mc_source.h"
#include "mc_doppler.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct mc_run {
    hm_mc_scene *s;
    mc_source    src;
    int          nreg;
    int          nbatches;
    long long    histories;
    uint64_t     seed;
    int          threads;
    double      *batch_edep;     /* nbatches x nreg, keV */
    double      *batch_disc;     /* nbatches x ndiscs, keV cm2/g (E muen) counts */
    double      *batch_dflu;     /* nbatches x ndiscs, crossings */
    float       *emuen_air;      /* MC_NE: E * mu_en/rho(air), keV cm2/g */
    int          vox_el;         /* element index of the scored voxel grid, -1 none */
    size_t       nvox;
    double     **thread_vox;     /* per thread per voxel keV */
    atomic_llong done;
    atomic_int   finished;
    mc_sbindex   sbi;            /* score-box lookup */
    int         *solid_mats;     /* materials of the world and the solids (not voxels) */
    int          nsolid_mats;
    int          carry_tau;      /* a grid has local majorants: carry the optical depth */
    int          status;
} mc_run;

/* Per-thread scratch: the intervals of the current flight. */
typedef struct mc_walk {
    int    n;
    int   *idx;
    double *t0, *t1;
    double *tl;               /* where the interval's majorant next changes: t1 for
                               * a solid or a grid without a tree; for a grid with
                               * one, the exit of the current leaf (t0 until the
                               * flight first reaches the grid: locate on entry) */
    const mc_mtree **tree;
    const mc_voxgrid **dda;   /* the grid when it is tracked exactly, else NULL */
    float  *gmaj;             /* the grid's single majorant at this energy */
    float  *maj;
    float  *mu_mat;           /* nmat + 1: linear attenuation (1/cm) of the solids'
                               * materials at the current energy; [nmat] = 0 */
    const mc_material *first_m;   /* where the previous photon first interacted */
    double *edep, *dk, *df;   /* the current batch's tallies */
    long long n_tent, n_real, n_locate, n_steps;   /* counts for hm_mc_stats */
} mc_walk;

/* Process-wide counts, summed by the workers when they finish (the bench
 * reads them through hm_mc_stats_get). */
static atomic_llong g_stat_hist, g_stat_tent, g_stat_real, g_stat_locate, g_stat_tree_ns, g_stat_cpu_ns;
static atomic_llong g_stat_steps, g_stat_dda_ppm;
static atomic_int g_stat_leaves, g_stat_classes, g_stat_dda;
static atomic_llong g_stat_cost_ppm;   /* model cost of the last tree / grid as one leaf, x 1e6 */

void hm_mc_stats_get(hm_mc_stats *out)
{
    out->histories = atomic_load(&g_stat_hist);
    out->tentative = atomic_load(&g_stat_tent);
    out->real = atomic_load(&g_stat_real);
    out->leaf_locates = atomic_load(&g_stat_locate);
    out->grid_leaves = atomic_load(&g_stat_leaves);
    out->grid_classes = atomic_load(&g_stat_classes);
    out->grid_tree_seconds = 1e-9 * (double)atomic_load(&g_stat_tree_ns);
    out->cpu_seconds = 1e-9 * (double)atomic_load(&g_stat_cpu_ns);
    out->grid_tree_cost_ratio = 1e-6 * (double)atomic_load(&g_stat_cost_ppm);
    out->voxel_steps = atomic_load(&g_stat_steps);
    out->grid_dda = atomic_load(&g_stat_dda);
    out->grid_dda_cost_ratio = 1e-6 * (double)atomic_load(&g_stat_dda_ppm);
}

void hm_mc_stats_reset(void)
{
    atomic_store(&g_stat_hist, 0);
    atomic_store(&g_stat_tent, 0);
    atomic_store(&g_stat_real, 0);
    atomic_store(&g_stat_locate, 0);
    atomic_store(&g_stat_leaves, 0);
    atomic_store(&g_stat_classes, 0);
    atomic_store(&g_stat_tree_ns, 0);
    atomic_store(&g_stat_cpu_ns, 0);
    atomic_store(&g_stat_cost_ppm, 0);
    atomic_store(&g_stat_steps, 0);
    atomic_store(&g_stat_dda, 0);
    atomic_store(&g_stat_dda_ppm, 0);
}

static long long thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)) return 0;
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void rotate(double d[3], double mu, double phi)
{
    /* direction after scattering by polar cosine mu and azimuth phi
     * (e.g. PENELOPE 2008 manual, eq. 1.131) */
    double st = sqrt(mc_max(1.0 - mu * mu, 0.0));
    /* single precision suffices for the azimuth (and is much cheaper) */
    double cp = cosf((float)phi), sp = sinf((float)phi);
    double u = d[0], v = d[1], w = d[2];
    if (fabs(w) > 0.99999) {
        d[0] = st * cp;
        d[1] = st * sp;
        d[2] = (w > 0 ? 1.0 : -1.0) * mu;
    } else {
        double t = sqrt(1.0 - w * w), it = 1.0 / t;
        d[0] = u * mu + st * (u * w * cp - v * sp) * it;
        d[1] = v * mu + st * (v * w * cp + u * sp) * it;
        d[2] = w * mu - st * cp * t;
    }
    /* renormalise against rounding drift: |d|^2 = 1 + eps with |eps| < 1e-6
     * (single-precision azimuth), so one Newton step for 1/sqrt about 1,
     * (3 - |d|^2) / 2, leaves an error of 3/8 eps^2 < 1e-12 and needs no sqrt
     * or division */
    double n = 1.5 - 0.5 * (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    d[0] *= n; d[1] *= n; d[2] *= n;
}

static inline void deposit(const mc_run *R, double *edep, double *vox, const double p[3],
                           int region, int el, size_t voxel, double e_kev)
{
    edep[region] += e_kev;
    const hm_mc_scene *s = R->s;
    if (s->nsb) mc_sbindex_score(&R->sbi, s->sb, p, e_kev, edep);
    if (vox && el == R->vox_el) vox[voxel] += e_kev;
}

static inline void score_discs(const mc_run *R, double *dk, double *df, const double p[3],
                               const double d[3], double len, double e_kev)
{
    const hm_mc_scene *s = R->s;
    for (size_t i = 0; i < s->ndiscs; i++) {
        const mc_disc *c = &s->discs[i];
        double dn = d[0] * c->n[0] + d[1] * c->n[1] + d[2] * c->n[2];
        if (dn == 0) continue;
        double t = ((c->c[0] - p[0]) * c->n[0] + (c->c[1] - p[1]) * c->n[1] +
                    (c->c[2] - p[2]) * c->n[2]) / dn;
        if (!(t > 0 && t <= len)) continue;
        double x = p[0] + t * d[0] - c->c[0], y = p[1] + t * d[1] - c->c[1],
               z = p[2] + t * d[2] - c->c[2];
        if (x * x + y * y + z * z < c->r * c->r) {
            double xi = e_kev * (1.0 / MC_DE_KEV);
            int k = (int)xi;
            if (k >= MC_NE - 1) k = MC_NE - 2;
            double f = xi - k;
            dk[i] += R->emuen_air[k] + f * (R->emuen_air[k + 1] - R->emuen_air[k]);
            df[i] += 1.0;
        }
    }
}

/* After a photoabsorption at e_kev in material m: the energy of the K x-ray
 * emitted (0 if none), of which only those at or above cutoff_kev matter
 * (the caller deposits anything below on the spot, with or without an
 * x-ray).  The absorbing element is drawn in proportion to its share of the
 * photoelectric cross section: u tot against the running sums of the shares
 * (mc_material.el_photo), the elements ordered by decreasing K x-ray energy.
 * Those whose x-rays all fall below the cutoff come last, and choosing any
 * of them yields nothing that leaves, so one comparison with the running sum
 * up to the last element that reaches the cutoff settles most draws (in soft
 * tissue nearly all: oxygen, carbon and nitrogen absorb).  The running sums
 * are interpolated in energy like the total; the interpolation being linear,
 * the sum of interpolated shares is the interpolated sum. */
int mc_k_reaching(const mc_material *m, double cutoff_kev)
{
    int ne = 0;
    while (ne < m->nel && m->k_lmax_ord[ne] >= cutoff_kev) ne++;
    return ne;
}

double mc_k_fluorescence(const mc_material *m, double e_kev, int ne, mc_rng *rng)
{
    if (ne <= 0) return 0.0;
    double x = e_kev * (1.0 / MC_DE_KEV);
    int i = (int)x;
    if (i >= MC_NE - 1) i = MC_NE - 2;
    const int w = m->nel + 1;
    const float *ta = m->el_photo + (size_t)i * w, *tb = ta + w;
    float f = (float)(x - i);
    float u = (float)mc_rng_u(rng) * (ta[0] + f * (tb[0] - ta[0]));
    if (u >= ta[ne] + f * (tb[ne] - ta[ne])) return 0.0;
    int j = 0;
    while (j < ne - 1 && u >= ta[1 + j] + f * (tb[1 + j] - ta[1 + j])) j++;
    const mc_kshell *ks = &m->k[m->k_order[j]];
    if (e_kev <= ks->edge_kev || mc_rng_u(rng) >= ks->p_emit) return 0.0;
    double r = mc_rng_u(rng);
    for (int l = 0; l < MC_KLINES; l++)
        if (r < ks->line_cum[l] && ks->line_kev[l] > 0) return ks->line_kev[l] < e_kev ? ks->line_kev[l] : 0.0;
    return 0.0;
}

/* Woodcock tracking with the grid's single majorant M over a stretch [t, tb)
 * where grid g is the topmost element, in a loop of its own: no interval
 * bookkeeping, the grid's local material ids one byte each, mu from the
 * energy row of the grid's table (mc_dda.mu).  Returns 1 on a real collision
 * (*tc, *voxel), else 0 with the optical depth left in *tau (carried over:
 * exact, the path to a tentative collision being exponential in optical
 * depth). */
static inline int grid_delta(const mc_voxgrid *g, const float *row, float f, float M, const double p[3],
                             const double d[3], double t, double tb, float *tau, mc_rng *rng,
                             double *tc, size_t *voxel, int *cid, long long *ntent)
{
    if (!(M > 0)) return 0;             /* an empty grid: nothing to meet */
    const uint8_t *id = g->dda->id;
    const float *dens = g->density;
    /* in local variables (the stores to the generator's state would make
     * the compiler reload them from memory each step): the coordinate of
     * p + t d along axis k in the bordered grid of ids (mc_dda.id: voxel i at
     * i + 1) is a[k] + t b[k] */
    const double a0 = (p[0] - g->origin[0]) * g->inv_d[0] + 1.0, b0 = d[0] * g->inv_d[0];
    const double a1 = (p[1] - g->origin[1]) * g->inv_d[1] + 1.0, b1 = d[1] * g->inv_d[1];
    const double a2 = (p[2] - g->origin[2]) * g->inv_d[2] + 1.0, b2 = d[2] * g->inv_d[2];
    const size_t nx = (size_t)g->nx, ny = (size_t)g->ny;
    const size_t sy = nx + 2, sz = (nx + 2) * (ny + 2);
    double tt = *tau, iM = 1.0 / M;
    long long n = 0;

    /* the voxel's index in the grid itself (no border), needed only for a
     * real collision or per-voxel densities */
#define VOXEL_OF(x, y, z) ((size_t)((x) - 1) + nx * ((size_t)((y) - 1) + ny * (size_t)((z) - 1)))
    for (;;) {
        double step = tt * iM;
        if (t + step >= tb) {
            *tau = (float)(tt - (tb - t) * M);
            *ntent += n;
            return 0;
        }
        t += step;
        n++;
        /* the voxel by truncation; the point lies in the grid's box up to
         * rounding, so no clamp is needed: a point a rounding outside lands
         * in the border, vacuum, and is rejected */
        /* (int, not size_t: the coordinates are above -1, where truncation
         * to int gives the same, and x86-64 converts to a signed integer in
         * one instruction but to an unsigned 64-bit one in about eight) */
        int ix = (int)(a0 + t * b0), iy = (int)(a1 + t * b1), iz = (int)(a2 + t * b2);
        size_t w = (size_t)ix + sy * (size_t)iy + sz * (size_t)iz;
        int c = id[w];
        float mu = row[2 * c] + f * row[2 * c + 1];
        if (dens) mu *= c ? dens[VOXEL_OF(ix, iy, iz)] : 0.0f;
        if (mc_rng_u(rng) * M < mu) {
            *tc = t;
            *voxel = VOXEL_OF(ix, iy, iz);   /* in the grid (c > 0) */
            *cid = c;
            *ntent += n;
            return 1;
        }
        tt = mc_rng_exp(rng);
    }
#undef VOXEL_OF
}

/* One history. */
static void history(const mc_run *R, mc_walk *W, mc_rng *rng, double *edep, double *dk,
                    double *df, double *vox)
{
    const hm_mc_scene *s = R->s;
    const hm_mc_physics *ph = &s->phys;
    double p[3], d[3];
    double e = mc_source_energy(&R->src, rng);
    mc_source_emit(&R->src, rng, p, d);
    const mc_material *wm = s->world_mat >= 0 ? &s->mat[s->world_mat] : NULL;
    /* The two uniforms of the next angular sample are drawn ahead, at the
     * start of the flight, so that the table rows they select can be
     * prefetched while the flight is tracked (the tables do not fit in L2).
     * They are used by nothing else, so they stay independent of the step and
     * interaction choices; unused ones (photoabsorption) carry over. */
    double su1 = 0, su2 = 0;
    int have_u = 0;
    /* material of the last interaction, the guess for the next; for a new
     * photon, that of the previous photon's first interaction */
    const mc_material *pm = W->first_m;
    /* the first interaction's material goes to W->first_m, later ones to a
     * dummy: a store through a pointer switched after the first, not a
     * branch on "first" (mispredicted once per history) */
    const mc_material *first_sink, **first_to = &W->first_m;
    for (;;) {
        if (!have_u) { su1 = mc_rng_u(rng); su2 = mc_rng_u(rng); have_u = 1; }
        /* world exit.  Axis-parallel flights get 1e300 for 1/d (not inf):
         * then 0 * inv is 0, not NaN, when p lies on a face, and the slab
         * arithmetic below needs no special case.  The min/max are mc_min/mc_max:
         * no branches. */
        double inv[3];
        for (int k = 0; k < 3; k++) inv[k] = d[k] != 0.0 ? 1.0 / d[k] : 1e300;
        if (p[0] < s->world_lo[0] || p[0] > s->world_hi[0] || p[1] < s->world_lo[1] ||
            p[1] > s->world_hi[1] || p[2] < s->world_lo[2] || p[2] > s->world_hi[2])
            return;
        double tw = INFINITY;
        for (int k = 0; k < 3; k++) {
            double ta = (s->world_lo[k] - p[k]) * inv[k], tb = (s->world_hi[k] - p[k]) * inv[k];
            tw = mc_min(mc_max(ta, tb), tw);
        }
        if (!(tw > 0)) return;
        /* linear attenuation of the solids' materials at e, once per flight
         * (index nmat: vacuum, 0) */
        for (int i = 0; i < R->nsolid_mats; i++) {
            const mc_material *sm = &s->mat[R->solid_mats[i]];
            W->mu_mat[R->solid_mats[i]] = (float)(sm->density_g_cm3 * mc_mu_tot(sm->xs, e));
        }
        float mu_w = W->mu_mat[s->world_mat >= 0 ? s->world_mat : s->nmat];
        /* intervals of this flight; boxes are entered without a branch on
         * hit or miss (n advances by the outcome) */
        int n = 0;
        int ke = (int)(e * (1.0 / MC_DE_KEV));
        if (ke >= MC_NE - 1) ke = MC_NE - 2;
        float fe = (float)(e * (1.0 / MC_DE_KEV) - ke);   /* exact tracking's interpolation */
        for (int i = 0; i < s->nel; i++) {
            double a, b;
            const mc_element *ei = &s->el[i];
            float maj;
            const mc_mtree *tree = NULL;
            const mc_voxgrid *dda = NULL;
            if (ei->kind == MC_EL_VOXELS) {
                const float *mj = ei->vox->maj;
                maj = mj[ke] > mj[ke + 1] ? mj[ke] : mj[ke + 1];
                tree = ei->vox->tree;
                dda = ei->vox->dda ? ei->vox : NULL;
            } else {
                maj = W->mu_mat[ei->s.material >= 0 ? ei->s.material : s->nmat];
            }
            if (ei->kind == MC_EL_VOXELS || ei->s.kind == HM_MC_BOX) {
                /* slab method (Kay & Kajiya 1986) on the half-open box
                 * [lo, hi): a point on a lo face is inside, on a hi face outside */
                a = 0.0; b = tw;
                for (int k = 0; k < 3; k++) {
                    double ta = (ei->lo[k] - p[k]) * inv[k], tb = (ei->hi[k] - p[k]) * inv[k];
                    a = mc_max(mc_min(ta, tb), a);
                    b = mc_min(mc_max(ta, tb), b);
                }
                W->idx[n] = i; W->t0[n] = a; W->t1[n] = b; W->maj[n] = maj;
                W->tree[n] = tree; W->tl[n] = tree ? a : b; W->gmaj[n] = maj;
                W->dda[n] = dda;
                n += b > a;
                continue;
            }
            if (!mc_ray_interval(ei, p, d, &a, &b) || a >= tw) continue;
            W->idx[n] = i; W->t0[n] = a; W->t1[n] = b; W->maj[n] = maj;
            W->tree[n] = NULL; W->tl[n] = b; W->dda[n] = NULL;
            n++;
        }
        {
            const mc_material *g = pm;
            if (g) {
                double r;
                /* and the cross sections the interaction is chosen by */
                __builtin_prefetch(g->xs + ke);
                const float *rc = mc_sample_row(g->compt_q, e, su1, su2, &r);
                __builtin_prefetch(rc);
                __builtin_prefetch(rc + 3);
                if (ph->rayleigh) {
                    const float *rr = mc_sample_row(g->rayl_q, e, su1, su2, &r);
                    __builtin_prefetch(rr);
                    __builtin_prefetch(rr + 3);
                }
            }
        }
        double t = 0;
        float tau = -1.0f;
        int top = -1;
        const mc_material *m = wm;
        double rho = wm ? wm->density_g_cm3 : 0;
        int region = 0;
        int el_hit = -1;
        size_t voxel = 0;
        double q[3];
        for (;;) {
            float M = mu_w;
            double tb = tw;
            top = -1;
            for (int k = 0; k < n; k++) {
                if (W->t0[k] <= t && t < W->t1[k]) {
                    if (t >= W->tl[k]) {     /* a grid leaf face (or the grid's entry) */
                        mc_mtree_locate(W->tree[k], p, d, inv, t, W->t1[k], ke, W->gmaj[k], &W->tl[k],
                                        &W->maj[k]);
                        W->n_locate++;
                    }
                    if (W->maj[k] > M) M = W->maj[k];
                    if (W->tl[k] < tb) tb = W->tl[k];
                    top = k;
                } else if (W->t0[k] > t && W->t0[k] < tb) {
                    tb = W->t0[k];
                }
            }
            /* tau: the optical depth left to the next tentative collision.  With
             * local grid majorants it is carried across every majorant boundary
             * (exact: the path to a collision is exponential in optical depth),
             * which saves a logarithm and a uniform per leaf face; without, a
             * fresh one is drawn at each boundary, as before the tree (tau < 0:
             * draw), so that HM_MC_GRID_TREE=0 reproduces that engine. */
            if (tau < 0) tau = (float)mc_rng_exp(rng);
            if (top >= 0 && W->dda[top]) {
                /* a grid tracked exactly is the topmost element up to tb:
                 * voxel by voxel, every collision real (voxel_dda.c) */
                const mc_voxgrid *g = W->dda[top];
                const float *row = g->dda->mu + (size_t)ke * g->dda->ncol * 2;
                double tc;
                int cid = -1;   /* the collision voxel's local id (delta), so that the
                                 * material needs no load from the full-size grid */
                if (!(g->dda->exact ? mc_dda_walk(g, row, fe, p, d, inv, t, tb, &tau, &tc, &voxel, &W->n_steps)
                                    : grid_delta(g, row, fe, W->gmaj[top], p, d, t, tb, &tau, rng, &tc, &voxel,
                                                 &cid, &W->n_tent))) {
                    t = tb;
                    if (tb >= tw) {
                        if (s->ndiscs) score_discs(R, dk, df, p, d, tw, e);
                        return;
                    }
                    continue;
                }
                t = tc;
                tau = -1.0f;
                W->n_tent += g->dda->exact;
                q[0] = p[0] + t * d[0]; q[1] = p[1] + t * d[1]; q[2] = p[2] + t * d[2];
                el_hit = W->idx[top];
                m = &s->mat[cid >= 0 ? g->dda->glob[cid] : g->mat[voxel] - 1];   /* mu > 0: not vacuum */
                rho = g->density ? g->density[voxel] : m->density_g_cm3;
                region = g->region ? g->region[voxel] : g->region_default;
                break;
            }
            double step = M > 0 ? tau / M : INFINITY;
            if (t + step >= tb) {
                tau = R->carry_tau ? tau - (float)((tb - t) * M) : -1.0f;
                t = tb;
                if (tb >= tw) {   /* leaves the world */
                    if (s->ndiscs) score_discs(R, dk, df, p, d, tw, e);
                    return;
                }
                continue;
            }
            t += step;
            tau = -1.0f;
            W->n_tent++;
            q[0] = p[0] + t * d[0]; q[1] = p[1] + t * d[1]; q[2] = p[2] + t * d[2];
            /* the medium at q: the topmost element covering t, else the world */
            float mu;
            el_hit = -1;
            if (top < 0) {
                m = wm; rho = m ? m->density_g_cm3 : 0; region = 0; mu = mu_w;
            } else {
                const mc_element *el = &s->el[W->idx[top]];
                el_hit = W->idx[top];
                if (el->kind == MC_EL_VOXELS) {
                    const mc_voxgrid *g = el->vox;
                    int ix = (int)((q[0] - g->origin[0]) * g->inv_d[0]);
                    int iy = (int)((q[1] - g->origin[1]) * g->inv_d[1]);
                    int iz = (int)((q[2] - g->origin[2]) * g->inv_d[2]);
                    ix = ix < 0 ? 0 : ix >= g->nx ? g->nx - 1 : ix;
                    iy = iy < 0 ? 0 : iy >= g->ny ? g->ny - 1 : iy;
                    iz = iz < 0 ? 0 : iz >= g->nz ? g->nz - 1 : iz;
                    voxel = (size_t)ix + (size_t)g->nx * ((size_t)iy + (size_t)g->ny * iz);
                    int mi = g->mat[voxel] - 1;
                    region = g->region ? g->region[voxel] : g->region_default;
                    if (mi < 0) { m = NULL; rho = 0; mu = 0; }
                    else {
                        m = &s->mat[mi];
                        rho = g->density ? g->density[voxel] : m->density_g_cm3;
                        mu = (float)(rho * mc_mu_tot(m->xs, e));
                    }
                } else {
                    int mi = el->s.material;
                    region = el->s.region;
                    if (mi < 0) { m = NULL; rho = 0; mu = 0; }
                    else { m = &s->mat[mi]; rho = m->density_g_cm3; mu = W->maj[top]; }
                }
            }
            if (mu >= M) break;                    /* certainly real */
            if (mc_rng_u(rng) * M < mu) break;     /* real collision */
        }
        /* a real interaction at q in material m */
        W->n_real++;
        if (s->ndiscs) score_discs(R, dk, df, p, d, t, e);
        p[0] = q[0]; p[1] = q[1]; p[2] = q[2];
        *first_to = m;
        first_to = &first_sink;
        pm = m;
        float tot, mph, mpc;
        mc_xs_at(m->xs, e, &tot, &mph, &mpc);
        double x = mc_rng_u(rng) * tot;
        if (x < mph) {
            /* a material whose K x-rays all fall below the cutoff (soft tissue:
             * oxygen's 0.5 keV) would deposit them on the spot anyway */
            double ef = ph->fluorescence && m->k_ncut ? mc_k_fluorescence(m, e, m->k_ncut, rng) : 0.0;
            deposit(R, edep, vox, p, region, el_hit, voxel, e - ef);
            if (ef < ph->cutoff_kev) {
                if (ef > 0) deposit(R, edep, vox, p, region, el_hit, voxel, ef);
                return;
            }
            /* the K x-ray leaves isotropically */
            e = ef;
            double cz = 2.0 * mc_rng_u(rng) - 1.0, sz = sqrt(fmax(0.0, 1.0 - cz * cz));
            double phi = 2.0 * MC_PI * mc_rng_u(rng);
            d[0] = sz * cosf((float)phi);
            d[1] = sz * sinf((float)phi);
            d[2] = cz;
            continue;
        }
        if (x < mpc) {
            double v = mc_sample_v(m->compt_q, e, su1, su2);
            have_u = 0;
            double mu = 1.0 - 2.0 * v, e2;
            if (ph->doppler) {
                /* impulse approximation: E' from the shell profiles at this angle;
                 * E - E' (binding energy included) is deposited here */
                double u1 = mc_rng_u(rng), u2 = mc_rng_u(rng), u3 = mc_rng_u(rng);
                e2 = mc_doppler_energy(m->doppler, e, mu, u1, u2, u3);
            } else {
                e2 = e / (1.0 + e * (1.0 / MC_ELECTRON_KEV) * (1.0 - mu));
            }
            deposit(R, edep, vox, p, region, el_hit, voxel, e - e2);
            e = e2;
            if (e < ph->cutoff_kev) {
                deposit(R, edep, vox, p, region, el_hit, voxel, e);
                return;
            }
            rotate(d, mu, 2.0 * MC_PI * mc_rng_u(rng));
        } else {
            double v = mc_sample_v(m->rayl_q, e, su1, su2);
            have_u = 0;
            rotate(d, 1.0 - 2.0 * v, 2.0 * MC_PI * mc_rng_u(rng));
        }
    }
}

typedef struct worker_arg {
    mc_run *R;
    int     tid;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *a = arg;
    mc_run *R = a->R;
    const hm_mc_scene *s = R->s;
    mc_walk W;
    int cap = s->nel > 0 ? s->nel : 1;
    W.idx = malloc(cap * sizeof(int));
    W.t0 = malloc(cap * sizeof(double));
    W.t1 = malloc(cap * sizeof(double));
    W.maj = malloc(cap * sizeof(float));
    W.tl = malloc(cap * sizeof(double));
    W.tree = malloc(cap * sizeof(*W.tree));
    W.dda = malloc(cap * sizeof(*W.dda));
    W.gmaj = malloc(cap * sizeof(float));
    W.n_tent = W.n_real = W.n_locate = W.n_steps = 0;
    long long nhist = 0, cpu0 = thread_cpu_ns();
    W.mu_mat = calloc((size_t)s->nmat + 1, sizeof(float));
    W.first_m = NULL;
    size_t nd = s->ndiscs ? s->ndiscs : 1;
    W.edep = malloc((size_t)R->nreg * sizeof(double));
    W.dk = malloc(nd * sizeof(double));
    W.df = malloc(nd * sizeof(double));
    double *vox = R->thread_vox ? R->thread_vox[a->tid] : NULL;
    if (!W.idx || !W.t0 || !W.t1 || !W.maj || !W.tl || !W.tree || !W.dda || !W.gmaj || !W.mu_mat || !W.edep || !W.dk || !W.df) {
        R->status = HM_ENOMEM;
    } else {
        long long per = R->histories / R->nbatches, rem = R->histories % R->nbatches;
        for (int b = a->tid; b < R->nbatches; b += R->threads) {
            long long nb = per + (b < rem), h0 = b * per + (b < rem ? b : rem);
            /* accumulate in thread-local rows (no false sharing with the other
             * threads' batches), then store the batch's totals */
            memset(W.edep, 0, (size_t)R->nreg * sizeof(double));
            memset(W.dk, 0, nd * sizeof(double));
            memset(W.df, 0, nd * sizeof(double));
            /* each history's generator is keyed one history ahead: the
             * Philox rounds (a chain of ten dependent products) then run
             * beside the history before, not at the start of their own */
            mc_rng rng, next;
            mc_rng_init(&next, R->seed, (uint64_t)h0, 0);
            for (long long h = 0; h < nb; h++) {
                rng = next;
                mc_rng_init(&next, R->seed, (uint64_t)(h0 + h + 1), 0);
                history(R, &W, &rng, W.edep, W.dk, W.df, vox);
                nhist++;
                if ((h & 4095) == 4095) atomic_fetch_add(&R->done, 4096);
            }
            memcpy(R->batch_edep + (size_t)b * R->nreg, W.edep, (size_t)R->nreg * sizeof(double));
            memcpy(R->batch_disc + (size_t)b * s->ndiscs, W.dk, s->ndiscs * sizeof(double));
            memcpy(R->batch_dflu + (size_t)b * s->ndiscs, W.df, s->ndiscs * sizeof(double));
            atomic_fetch_add(&R->done, nb & 4095);
        }
    }
    atomic_fetch_add(&g_stat_hist, nhist);
    atomic_fetch_add(&g_stat_cpu_ns, thread_cpu_ns() - cpu0);
    atomic_fetch_add(&g_stat_tent, W.n_tent);
    atomic_fetch_add(&g_stat_real, W.n_real);
    atomic_fetch_add(&g_stat_locate, W.n_locate);
    atomic_fetch_add(&g_stat_steps, W.n_steps);
    free(W.idx); free(W.t0); free(W.t1); free(W.maj); free(W.mu_mat); free(W.tl); free(W.tree); free(W.gmaj);
    free(W.dda);
    free(W.edep); free(W.dk); free(W.df);
    atomic_fetch_add(&R->finished, 1);
    return NULL;
}

int mc_scene_prepare(hm_mc_scene *s, hm_error *err)
{
    for (int i = 0; i < s->nmat; i++) {
        int rc = mc_material_build(&s->mat[i], s->phys.compton_sf, s->phys.rayleigh, err);
        if (rc) return rc;
        s->mat[i].k_ncut = mc_k_reaching(&s->mat[i], s->phys.cutoff_kev);
        if (s->phys.doppler && !s->mat[i].doppler &&
            (rc = mc_doppler_build(&s->mat[i], &s->mat[i].doppler, err)))
            return rc;
    }
    for (int i = 0; i < s->nel; i++) {
        mc_voxgrid *g = s->el[i].vox;
        if (!g) continue;
        /* majorant: max over voxels of rho * (mu/rho)_m(E), per material the
         * largest density present */
        double *rmax = calloc((size_t)s->nmat + 1, sizeof(double));
        if (!rmax) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        size_t n = (size_t)g->nx * g->ny * g->nz;
        for (size_t v = 0; v < n; v++) {
            int m = g->mat[v];
            double rho = m == 0 ? 0 : g->density ? g->density[v] : s->mat[m - 1].density_g_cm3;
            if (rho > rmax[m]) rmax[m] = rho;
        }
        free(g->maj);
        g->maj = malloc(MC_NE * sizeof(float));
        if (!g->maj) { free(rmax); return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory"); }
        for (int k = 0; k < MC_NE; k++) {
            double mx = 0;
            for (int m = 1; m <= s->nmat; m++)
                if (rmax[m] > 0) {
                    double mu = rmax[m] * s->mat[m - 1].xs[k].mu_tot;
                    if (mu > mx) mx = mu;
                }
            g->maj[k] = (float)(mx * (1.0 + 1e-6));
        }
        free(rmax);
        /* exact tracking or the grid's own Woodcock loop (voxel_dda.c), else
         * local majorants (majorant_tree.c) unless the mode is woodcock */
        mc_mtree_free(g->tree);
        g->tree = NULL;
        mc_dda_free(g->dda);
        g->dda = NULL;
        int mode = mc_grid_mode();
        double dratio = 0;
        if (mode == MC_GRID_DDA || mode == MC_GRID_DELTA || mode == MC_GRID_AUTO) {
            int rc = mc_dda_build(s, g, mode, &dratio, err);
            if (rc) return rc;
        }
        atomic_store(&g_stat_dda, g->dda ? (g->dda->exact ? 1 : 2) : 0);
        atomic_store(&g_stat_dda_ppm, (long long)(1e6 * dratio));
        if (!g->dda && mode != MC_GRID_WOODCOCK) {
            mc_mtree_params prm;
            mc_mtree_params_default(&prm);
            double t0 = hm_now_s(), ratio;
            int rc = mc_mtree_build(s, &s->el[i], &prm, &g->tree, &ratio, err);
            if (rc) return rc;
            /* g->tree stays NULL when no partition is worth its crossings:
             * the single majorant, as before */
            atomic_store(&g_stat_tree_ns, (long long)(1e9 * (hm_now_s() - t0)));
            atomic_store(&g_stat_leaves, g->tree ? g->tree->nleaf : 0);
            atomic_store(&g_stat_classes, g->tree ? g->tree->ncls : 0);
            atomic_store(&g_stat_cost_ppm, (long long)(1e6 * ratio));
        }
    }
    return 0;
}

static void results_zero(hm_mc_results *r)
{
    memset(r, 0, sizeof *r);
}

void hm_mc_results_free(hm_mc_results *r)
{
    if (!r) return;
    free(r->edep_ev); free(r->edep_ev_sigma); free(r->mass_g); free(r->dose_gy);
    free(r->dose_gy_sigma); free(r->kerma_point_gy); free(r->kerma_disc_gy);
    free(r->kerma_disc_gy_sigma); free(r->disc_fluence_cm2); free(r->voxel_edep_ev);
    results_zero(r);
}

/* mean and 1-sigma of the mean from batch totals (unequal sizes differ by 1) */
static void batch_stats(const double *x, size_t stride, int nb, long long n, long long per,
                        long long rem, double *mean, double *sigma)
{
    double tot = 0;
    for (int b = 0; b < nb; b++) tot += x[(size_t)b * stride];
    double m = tot / (double)n, ss = 0;
    for (int b = 0; b < nb; b++) {
        double nbh = (double)(per + (b < rem));
        double xb = nbh > 0 ? x[(size_t)b * stride] / nbh : m;
        ss += (xb - m) * (xb - m);
    }
    *mean = m;
    *sigma = nb > 1 ? sqrt(ss / ((double)nb * (nb - 1))) : 0.0;
}

int hm_mc_run(hm_mc_scene *s, const hm_mc_run_params *p, hm_mc_results *out, hm_error *err)
{
    results_zero(out);
    if (!s->src_set)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "source", "the scene has no source");
    if (p->histories < 1 || p->threads < 1 || p->threads > 256 || p->batches < 2)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "run",
                            "need histories >= 1, threads 1..256, batches >= 2");
    if (!s->world_set) {
        /* default world: a vacuum box enclosing everything with 1 m margin */
        double lo[3], hi[3];
        for (int k = 0; k < 3; k++) { lo[k] = s->src.position_cm[k]; hi[k] = lo[k]; }
        for (int i = 0; i < s->nel; i++)
            for (int k = 0; k < 3; k++) {
                if (s->el[i].lo[k] < lo[k]) lo[k] = s->el[i].lo[k];
                if (s->el[i].hi[k] > hi[k]) hi[k] = s->el[i].hi[k];
            }
        for (int k = 0; k < 3; k++) { s->world_lo[k] = lo[k] - 100; s->world_hi[k] = hi[k] + 100; }
        s->world_mat = -1;
    }
    for (int k = 0; k < 3; k++)
        if (s->src.position_cm[k] < s->world_lo[k] || s->src.position_cm[k] > s->world_hi[k])
            return hm_error_set(err, HM_EVALIDATE, s->path[0] ? s->path : NULL, 0, "world",
                                "the source position lies outside the world box");
    int rc = mc_scene_prepare(s, err);
    if (rc) return rc;
    mc_rng_tables_init();
    mc_run *R = calloc(1, sizeof *R);
    if (!R) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    R->s = s;
    rc = mc_source_init(&R->src, &s->src, &s->spec, err);
    if (rc) { free(R); return rc; }
    R->nreg = s->max_region + 1;
    if (s->nregion_names > R->nreg) R->nreg = s->nregion_names;
    R->nbatches = p->batches;
    if (R->nbatches > p->histories) R->nbatches = (int)p->histories < 2 ? 2 : (int)p->histories;
    R->histories = p->histories;
    R->seed = p->seed;
    R->threads = p->threads;
    R->vox_el = -1;
    rc = mc_sbindex_build(&R->sbi, s->sb, s->nsb, err);
    if (rc) { mc_source_free(&R->src); free(R); return rc; }
    R->solid_mats = malloc(((size_t)s->nmat + 1) * sizeof(int));
    if (!R->solid_mats) {
        mc_sbindex_free(&R->sbi); mc_source_free(&R->src); free(R);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    for (int m = 0; m < s->nmat; m++) {
        int used = m == s->world_mat;
        for (int i = 0; i < s->nel && !used; i++)
            used = s->el[i].kind != MC_EL_VOXELS && s->el[i].s.material == m;
        if (used) R->solid_mats[R->nsolid_mats++] = m;
    }
    for (int i = 0; i < s->nel; i++)
        if (s->el[i].vox && (s->el[i].vox->tree || s->el[i].vox->dda)) R->carry_tau = 1;
    for (int i = 0; i < s->nel; i++)
        if (s->el[i].vox && s->el[i].vox->score) {
            R->vox_el = i;
            R->nvox = (size_t)s->el[i].vox->nx * s->el[i].vox->ny * s->el[i].vox->nz;
            break;
        }
    size_t nd = s->ndiscs ? s->ndiscs : 1;
    R->batch_edep = calloc((size_t)R->nbatches * R->nreg, sizeof(double));
    R->batch_disc = calloc((size_t)R->nbatches * nd, sizeof(double));
    R->batch_dflu = calloc((size_t)R->nbatches * nd, sizeof(double));
    R->emuen_air = malloc(MC_NE * sizeof(float));
    if (R->vox_el >= 0) {
        R->thread_vox = calloc((size_t)R->threads, sizeof(double *));
        if (R->thread_vox)
            for (int t = 0; t < R->threads; t++) {
                R->thread_vox[t] = calloc(R->nvox, sizeof(double));
                if (!R->thread_vox[t]) { rc = HM_ENOMEM; break; }
            }
        else rc = HM_ENOMEM;
    }
    out->edep_ev = calloc((size_t)R->nreg, sizeof(double));
    out->edep_ev_sigma = calloc((size_t)R->nreg, sizeof(double));
    out->mass_g = calloc((size_t)R->nreg, sizeof(double));
    out->dose_gy = calloc((size_t)R->nreg, sizeof(double));
    out->dose_gy_sigma = calloc((size_t)R->nreg, sizeof(double));
    out->kerma_point_gy = calloc(s->nkpoints + 1, sizeof(double));
    out->kerma_disc_gy = calloc(nd, sizeof(double));
    out->kerma_disc_gy_sigma = calloc(nd, sizeof(double));
    out->disc_fluence_cm2 = calloc(nd, sizeof(double));
    if (rc || !R->batch_edep || !R->batch_disc || !R->batch_dflu || !R->emuen_air ||
        !out->edep_ev || !out->edep_ev_sigma || !out->mass_g || !out->dose_gy ||
        !out->dose_gy_sigma || !out->kerma_point_gy || !out->kerma_disc_gy ||
        !out->kerma_disc_gy_sigma || !out->disc_fluence_cm2) {
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory for the tallies");
        goto done;
    }
    for (int k = 0; k < MC_NE; k++) {
        double e = k ? k * MC_DE_KEV : 0.5 * MC_DE_KEV, muen;
        rc = hm_mc_muen_air(e < 1.0 ? 1.0 : e, &muen, err);
        if (rc) goto done;
        R->emuen_air[k] = (float)(e * muen);
    }
    double t_start = hm_now_s();
    pthread_t *th = malloc(sizeof(pthread_t) * R->threads);
    worker_arg *wa = malloc(sizeof(worker_arg) * R->threads);
    if (!th || !wa) {
        free(th); free(wa);
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        goto done;
    }
    int started = 0;
    for (int t = 0; t < R->threads; t++) {
        wa[t].R = R;
        wa[t].tid = t;
        if (pthread_create(&th[t], NULL, worker, &wa[t])) break;
        started++;
    }
    if (started < R->threads) {
        /* run the remaining share on this thread */
        for (int t = started; t < R->threads; t++) worker(&wa[t]);
    }
    if (p->progress) {
        while (atomic_load(&R->finished) < R->threads) {
            p->progress((double)atomic_load(&R->done) / (double)R->histories, p->progress_user);
            struct timespec ts = { 0, 200 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        p->progress(1.0, p->progress_user);
    }
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    free(th);
    free(wa);
    if (R->status) {
        rc = hm_error_set(err, R->status, NULL, 0, NULL, "a worker thread ran out of memory");
        goto done;
    }
    out->seconds = hm_now_s() - t_start;
    out->histories = p->histories;
    out->threads = p->threads;
    out->nregions = R->nreg;
    long long per = R->histories / R->nbatches, rem = R->histories % R->nbatches;
    mc_region_masses(s, R->nreg, out->mass_g);
    for (int r = 0; r < R->nreg; r++) {
        double m, sg;
        batch_stats(R->batch_edep + r, (size_t)R->nreg, R->nbatches, R->histories, per, rem, &m, &sg);
        out->edep_ev[r] = m * 1000.0;
        out->edep_ev_sigma[r] = sg * 1000.0;
        if (out->mass_g[r] > 0) {
            double f = MC_KEV_TO_J / (out->mass_g[r] * 1e-3);
            out->dose_gy[r] = m * f;
            out->dose_gy_sigma[r] = sg * f;
        }
    }
    out->nkerma_discs = s->ndiscs;
    for (size_t i = 0; i < s->ndiscs; i++) {
        double area = MC_PI * s->discs[i].r * s->discs[i].r, m, sg;
        batch_stats(R->batch_disc + i, s->ndiscs, R->nbatches, R->histories, per, rem, &m, &sg);
        out->kerma_disc_gy[i] = m / area * MC_KEV_TO_J * 1000.0;
        out->kerma_disc_gy_sigma[i] = sg / area * MC_KEV_TO_J * 1000.0;
        batch_stats(R->batch_dflu + i, s->ndiscs, R->nbatches, R->histories, per, rem, &m, &sg);
        out->disc_fluence_cm2[i] = m / area;
    }
    out->nkerma_points = s->nkpoints;
    for (size_t i = 0; i < s->nkpoints; i++)
        out->kerma_point_gy[i] = mc_source_point_kerma(&R->src, s->kpoints + 3 * i);
    out->kap_gy_cm2 = R->src.kap_gy_cm2;
    if (R->vox_el >= 0) {
        out->voxel_edep_ev = calloc(R->nvox, sizeof(double));
        if (!out->voxel_edep_ev) {
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
            goto done;
        }
        out->nvoxels = R->nvox;
        for (int t = 0; t < R->threads; t++)
            for (size_t v = 0; v < R->nvox; v++)
                out->voxel_edep_ev[v] += R->thread_vox[t][v] * 1000.0 / (double)R->histories;
    }
done:
    if (R->thread_vox) {
        for (int t = 0; t < R->threads; t++) free(R->thread_vox[t]);
        free(R->thread_vox);
    }
    mc_sbindex_free(&R->sbi);
    free(R->solid_mats);
    free(R->batch_edep); free(R->batch_disc); free(R->batch_dflu); free(R->emuen_air);
    mc_source_free(&R->src);
    free(R);
    if (rc) hm_mc_results_free(out);
    return rc;
}
