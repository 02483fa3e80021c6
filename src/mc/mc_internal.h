/*
 * mc_internal.h — private structures of the Monte Carlo engine (src/mc only).
 */
#ifndef HM_MC_INTERNAL_H
#define HM_MC_INTERNAL_H

#include "hm_mc.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Branch-free min and max for the photon loop, where the outcome of the
 * comparison is random and a branch would be mispredicted half the time.
 * fmin/fmax are library calls (NaN rules), and compilers do not always turn
 * a conditional expression into minsd/maxsd, so on x86-64 the instruction is
 * asked for directly.  mc_max(a, b) = a > b ? a : b (maxsd returns its
 * source operand, b, when the comparison is false). */
#if defined(__x86_64__) && defined(__GNUC__)
/* one instruction each (the intrinsics add moves that clear the upper lane) */
static inline double mc_max(double a, double b)
{
#if defined(__AVX__)
    __asm__("vmaxsd %2, %1, %0" : "=x"(a) : "x"(a), "x"(b));
#else
    __asm__("maxsd %1, %0" : "+x"(a) : "x"(b));
#endif
    return a;
}
static inline double mc_min(double a, double b)
{
#if defined(__AVX__)
    __asm__("vminsd %2, %1, %0" : "=x"(a) : "x"(a), "x"(b));
#else
    __asm__("minsd %1, %0" : "+x"(a) : "x"(b));
#endif
    return a;
}
#else
static inline double mc_max(double a, double b) { return a > b ? a : b; }
static inline double mc_min(double a, double b) { return a < b ? a : b; }
#endif

/* Uniform energy grid of the attenuation tables: index = E / MC_DE. A fine
 * uniform grid makes the lookup one multiply (no log) and linear
 * interpolation accurate to < 0.1 % above 1 keV. */
#define MC_DE_KEV      0.025
#define MC_EMAX_KEV    160.0
#define MC_NE          6402         /* covers 0 .. MC_EMAX_KEV + 1 bin */

/* Angular sampling tables: energies k*MC_SDE_KEV, MC_NQ+1 quantiles of
 * v = (1 - cos theta)/2 per energy with the pdf there (see mc_sample_v). */
#define MC_SDE_KEV     0.5
#define MC_NSE         322
#define MC_NQ          512
#define MC_NR          64
#define MC_ROW         (2 * (MC_NQ + 1) + 4 * (MC_NR + 1))   /* floats per energy */

#define MC_ELECTRON_KEV 510.99895    /* m_e c^2, CODATA 2018 */
#define MC_HC_KEV_A     12.398419843 /* h c in keV·Angstrom, CODATA 2018 */
#define MC_KEV_TO_J     1.602176634e-16
#define MC_MAXEL        16
#define MC_PI           3.14159265358979323846

/* Per-energy attenuation entry: mass coefficients (cm2/g). */
typedef struct mc_xs {
    float mu_tot;        /* photo + Compton + Rayleigh */
    float mu_photo;
    float mu_photo_compt;
} mc_xs;

/* K-shell fluorescence data of one element (xraylib): after a photoabsorption
 * above the K edge, a K x-ray is emitted with probability
 * (1 - 1/J_K) * omega_K (jump ratio J_K, fluorescence yield omega_K). */
#define MC_KLINES 6
typedef struct mc_kshell {
    float edge_kev;
    float p_emit;
    float line_kev[MC_KLINES];
    float line_cum[MC_KLINES];      /* cumulative radiative rates, normalised */
    float line_max_kev;             /* the most energetic line (0: none emitted) */
} mc_kshell;

typedef struct mc_material {
    char    name[64];
    double  density_g_cm3;
    int     nel;
    int     z[MC_MAXEL];
    double  w[MC_MAXEL];           /* mass fractions, normalised */
    int     built;
    mc_xs  *xs;                    /* MC_NE entries, built by mc_material_build */
    float  *compt_q;               /* MC_NSE x (MC_NQ+1) x (v, pdf) */
    float  *rayl_q;
    mc_kshell k[MC_MAXEL];
    const float *el_xs[MC_MAXEL];  /* element tables (photo, compt, rayl per grid point) */
    struct mc_doppler *doppler;    /* shell Compton profiles (mc_doppler.h), built when
                                    * the scene asks for Doppler broadening */
    float  *el_photo;              /* MC_NE x (nel + 1): per energy the photoelectric mass
                                    * coefficient (sum over the elements) then the running
                                    * sums of the elements' shares w * (tau/rho), in the
                                    * order k_order (one cache line per K x-ray draw) */
    int     k_order[MC_MAXEL];     /* elements by decreasing mc_kshell.line_max_kev */
    float   k_lmax_ord[MC_MAXEL];  /* their line_max_kev in that order */
    int     k_ncut;                /* how many of them reach the scene's cutoff (set by
                                    * mc_scene_prepare; 0: fluorescence changes nothing) */
} mc_material;

/* Composition lookup in data/materials/compositions.csv (or xraylib's NIST
 * list as a fallback).  Fills name, density, elements. */
int  mc_material_lookup(const char *name, mc_material *m, hm_error *err);
int  mc_material_set(mc_material *m, const char *name, double density, size_t n,
                     const int *z, const double *w, hm_error *err);
/* Builds the cross-section and angular tables (physics switches apply at
 * sampling time, except compton_sf which shapes the Compton tables). */
int  mc_material_build(mc_material *m, int compton_sf, int rayleigh, hm_error *err);
void mc_material_free(mc_material *m);
/* Mass cross sections at energy (cm2/g), straight from xraylib, for tests. */
void mc_material_cs(const mc_material *m, double e_kev, double *photo, double *compt,
                    double *rayl);
/* Mixed F^2 and S of the material (per gram scale), q in 1/Angstrom. */
double mc_material_ff2(const mc_material *m, double q);
double mc_material_sf(const mc_material *m, double q);

static inline void mc_xs_at(const mc_xs *t, double e_kev, float *tot, float *ph, float *pc)
{
    double x = e_kev * (1.0 / MC_DE_KEV);
    int i = (int)x;
    if (i >= MC_NE - 1) i = MC_NE - 2;
    float f = (float)(x - i);
    const mc_xs *a = t + i, *b = a + 1;
    *tot = a->mu_tot + f * (b->mu_tot - a->mu_tot);
    *ph  = a->mu_photo + f * (b->mu_photo - a->mu_photo);
    *pc  = a->mu_photo_compt + f * (b->mu_photo_compt - a->mu_photo_compt);
}

static inline float mc_mu_tot(const mc_xs *t, double e_kev)
{
    double x = e_kev * (1.0 / MC_DE_KEV);
    int i = (int)x;
    if (i >= MC_NE - 1) i = MC_NE - 2;
    float f = (float)(x - i);
    return t[i].mu_tot + f * (t[i + 1].mu_tot - t[i].mu_tot);
}

/* Samples v = (1-cos theta)/2 from a quantile table: u1 picks one of the two
 * tabulated energies around e_kev (stochastic interpolation, exact for a
 * distribution linear in E between grid points), u2 the quantile interval
 * (each holds 1/MC_NQ of the probability; the first and the last are split
 * again into MC_NR equal-probability pieces, where the pdf changes fastest)
 * and, within it, v follows the linear pdf through the tabulated pdf values
 * at both ends (inverse of a quadratic CDF, in the cancellation-free form).
 * A row holds (v, pdf) pairs: MC_NQ+1 main, then MC_NR+1 for each end. */
static inline const float *mc_sample_row(const float *q, double e_kev, double u1, double u2,
                                         double *r_out)
{
    double x = e_kev * (1.0 / MC_SDE_KEV);
    int j = (int)x;
    if (j >= MC_NSE - 1) { j = MC_NSE - 2; x = j + 1; }
    if (u1 < x - j) j++;
    double s = u2 * MC_NQ;
    int k = (int)s;
    if (k >= MC_NQ) k = MC_NQ - 1;
    double r = s - k;
    const float *row = q + (size_t)j * MC_ROW;
    if (k == 0 || k == MC_NQ - 1) {
        double ss = r * MC_NR;
        int kk = (int)ss;
        if (kk >= MC_NR) kk = MC_NR - 1;
        r = ss - kk;
        row += 2 * (MC_NQ + 1) + (k ? 2 * (MC_NR + 1) : 0) + 2 * kk;
    } else {
        row += 2 * k;
    }
    *r_out = r;
    return row;
}

/* v within the quantile interval at row (from mc_sample_row) */
static inline double mc_sample_finish(const float *row, double r)
{
    double a = row[0], pa = row[1], b = row[2], pb = row[3];
    double den = pa + sqrt(pa * pa + r * (pb * pb - pa * pa));
    double t = den > 0 ? r * (pa + pb) / den : r;
    return a + t * (b - a);
}

static inline double mc_sample_v(const float *q, double e_kev, double u1, double u2)
{
    double r;
    const float *row = mc_sample_row(q, e_kev, u1, u2, &r);
    return mc_sample_finish(row, r);
}

/* ---- geometry ---- */
typedef enum { MC_EL_SOLID = 0, MC_EL_VOXELS = 1 } mc_el_kind;

/* Local majorants of a voxel grid (majorant_tree.c): a k-d tree over the
 * grid box whose leaves carry a majorant class. */
typedef struct mc_mtnode {
    double  plane;        /* split coordinate, cm (inner node) */
    int32_t axis;         /* 0..2; -1: leaf */
    int32_t child;        /* inner: left child (right = child + 1); leaf: leaf index */
} mc_mtnode;

typedef struct mc_mtleaf {
    double lo[3], hi[3];  /* cm, the same doubles as the split planes and grid faces */
    int    cls;           /* majorant class */
    int    vlo[3], vhi[3];/* voxel index box [vlo, vhi) */
    int    clo[3], chi[3];/* the same in cells [clo, chi) */
} mc_mtleaf;

typedef struct mc_mtree {
    int        nnode, nleaf, ncls;
    mc_mtnode *node;      /* node 0 is the root (the build's tree; the tracking
                           * locates through cell_leaf) */
    mc_mtleaf *leaf;
    float     *maj;       /* (MC_NE - 1) x ncls, energy-major: the class majorant
                           * (1/cm) bounding mu on [k, k + 1] of the energy grid */
    int        cell_voxels;  /* candidate-plane spacing used (the cell, c voxels a side) */
    int        cn[3];        /* cells per axis (the last one may be partial) */
    double     origin[3], inv_cell[3];   /* grid origin (cm), 1 / cell size (1/cm) */
    int32_t   *cell_leaf;    /* per cell, x fastest: the leaf holding it */
    double     cost;         /* model cost of the partition (per unit flux) */
    double     root_cost;    /* the same for the grid as one leaf */
} mc_mtree;

typedef struct mc_mtree_params {
    double kappa;         /* leaf crossing cost / tentative collision cost */
    int    cell_voxels;   /* candidate planes every this many voxels */
    double keep;          /* a tree is used only if the model cost of its partition is
                           * below keep x that of the grid as one leaf: each flight in a
                           * grid then pays a leaf look-up, which the model does not
                           * count (docs/mc.md) */
} mc_mtree_params;

/* Defaults (the measured kappa, cell and keep, docs/mc.md), overridden for
 * tuning by HM_MC_GRID_TREE_KAPPA, HM_MC_GRID_TREE_CELL, HM_MC_GRID_TREE_KEEP. */
void mc_mtree_params_default(mc_mtree_params *p);
struct mc_element;
/* *out NULL (and 0 returned) when the partition is not worth it (keep);
 * *cost_ratio: the partition's model cost / that of one leaf. */
int  mc_mtree_build(const struct hm_mc_scene *s, const struct mc_element *el,
                    const mc_mtree_params *prm, mc_mtree **out, double *cost_ratio, hm_error *err);
void mc_mtree_free(mc_mtree *t);

/* The leaf holding the flight p + t d (direction d, inv = 1/d, 1e300 for 0)
 * just after t: its exit distance into *tl (at most t1, the grid's exit) and
 * its majorant at energy row ke into *maj.
 *
 * The point's cell gives a leaf through the cell map (one load); the leaf
 * holds the flight at t exactly when its entry distance is <= t and its exit
 * > t, both from the expression (plane - p) inv, the same doubles for leaf
 * faces and grid faces (so a flight at a leaf's exit is never in that leaf).
 * Where the rounded cell index disagrees (the point lies on a face), the walk
 * steps to the cell across the offending face of the leaf found, at most a
 * few times; should that fail, the grid's single majorant (gmaj) up to the
 * grid's exit is used, which is still a majorant: exact either way. */
static inline void mc_mtree_locate(const mc_mtree *T, const double p[3], const double d[3],
                                   const double inv[3], double t, double t1, int ke, float gmaj,
                                   double *tl, float *maj)
{
    int c[3];
    for (int k = 0; k < 3; k++) {
        double f = (p[k] + t * d[k] - T->origin[k]) * T->inv_cell[k];
        c[k] = (int)mc_min(mc_max(f, 0.0), T->cn[k] - 1.0);
    }
    for (int it = 0; it < 4; it++) {
        const mc_mtleaf *L = &T->leaf[T->cell_leaf[c[0] + T->cn[0] * (c[1] + T->cn[1] * c[2])]];
        double x[3], y[3], xin = -INFINITY, xo = t1;
        for (int a = 0; a < 3; a++) {
            double ta = (L->lo[a] - p[a]) * inv[a], tb = (L->hi[a] - p[a]) * inv[a];
            x[a] = mc_max(ta, tb);
            y[a] = mc_min(ta, tb);
            xin = mc_max(y[a], xin);
            xo = mc_min(x[a], xo);
        }
        if (xin <= t && xo > t) {
            *tl = xo;
            *maj = T->maj[(size_t)ke * T->ncls + L->cls];
            return;
        }
        int a, fwd;
        if (xo <= t) {     /* already past this leaf: the cell across its exit face */
            a = x[1] < x[0];
            a = x[2] < x[a] ? 2 : a;
            fwd = inv[a] > 0;
        } else {           /* not yet in it: the cell across its entry face */
            a = y[1] > y[0];
            a = y[2] > y[a] ? 2 : a;
            fwd = !(inv[a] > 0);
        }
        c[a] = fwd ? L->chi[a] : L->clo[a] - 1;
        if (c[a] < 0 || c[a] >= T->cn[a]) break;
    }
    *tl = t1;
    *maj = gmaj;
}

typedef struct mc_voxgrid {
    int       nx, ny, nz;
    double    d[3], inv_d[3], origin[3];
    uint16_t *mat;        /* per voxel: scene material index + 1 (0 = vacuum) */
    uint16_t *region;     /* NULL: region_default */
    float    *density;    /* NULL: material density */
    int       region_default;
    int       score;
    float    *maj;        /* MC_NE majorant linear attenuation (1/cm) */
    mc_mtree *tree;       /* local majorants (NULL: the single one, maj) */
    struct mc_dda *dda;   /* exact tracking through the voxels (voxel_dda.c), NULL: none */
} mc_voxgrid;

/* How voxel grids are tracked (HM_MC_GRID_MODE; the older HM_MC_GRID_TREE=0
 * means woodcock, =1 tree):
 *   woodcock  the single grid majorant in the general loop (the engine before
 *             local majorants, bit for bit);
 *   tree      the k-d tree of local majorants where its model finds it worth it;
 *   dda       exact tracking in stretches where the grid is the topmost element;
 *   delta     Woodcock tracking with the single majorant in those stretches, in
 *             a loop of its own (transport.c, grid_delta);
 *   auto      (default) dda or delta per grid by the cost model of voxel_dda.c.
 * Grids with more than 255 materials fall back to tree (auto) or woodcock. */
enum { MC_GRID_AUTO = 0, MC_GRID_WOODCOCK, MC_GRID_TREE, MC_GRID_DDA, MC_GRID_DELTA };
int  mc_grid_mode(void);
/* One step of exact tracking in units of one rejected tentative collision
 * of grid_delta (measured, docs/mc.md; HM_MC_GRID_DDA_COST overrides). */
#define MC_DDA_STEP_COST 1.0
double mc_dda_step_cost(void);
/* Builds g->dda for mode `how` (MC_GRID_DDA, MC_GRID_DELTA or MC_GRID_AUTO,
 * which picks by the cost model; *ratio gets the model's cost ratio exact /
 * Woodcock, 0 when not evaluated), or leaves it NULL when the grid has more
 * than 255 materials. */
int  mc_dda_build(const struct hm_mc_scene *s, mc_voxgrid *g, int how, double *ratio, hm_error *err);
void mc_dda_free(struct mc_dda *d);

/* Exact tracking data of a grid (voxel_dda.c).  Per voxel (x fastest, as
 * the grid) one 16-bit word: the low byte is the voxel's material renumbered
 * for the grid (0 vacuum, at most 255 others), the high byte k the
 * chessboard distance to the nearest voxel that has a neighbour of another
 * material (or density): every voxel within k voxels along each axis of this
 * one has its material, so a flight crosses that cube of 2k + 1 voxels a side
 * at one attenuation, in one step. */
typedef struct mc_dda {
    int       exact;      /* 1: exact tracking (cell), 0: Woodcock tracking with the grid's
                           * majorant in a loop of its own (id) */
    int       ncol;       /* local ids, vacuum included */
    float    *mu;         /* (MC_NE - 1) x ncol x (mu_k, mu_k+1 - mu_k), energy-major; 1/cm,
                           * or cm2/g with per-voxel densities */
    uint16_t *cell;       /* id | k << 8 (exact) */
    int      *glob;       /* the scene material (s->mat index) of each local id, -1 vacuum */
    uint8_t  *id;         /* the local ids alone (Woodcock), in the grid with a border of
                           * vacuum voxels all round: voxel (x, y, z) at
                           * (x + 1) + (nx + 2) ((y + 1) + (ny + 2) (z + 1)) */
} mc_dda;

/*
 * Exact tracking through grid g along p + t d (inv = 1/d, 1e300 for 0) from t
 * to tb (the stretch where the grid is the topmost element), with optical
 * depth *tau left, the energy row `row` of the grid's table (mc_dda.mu) and
 * interpolation fraction f.  Returns 1 on a collision: its distance in *tc
 * and its voxel in *voxel; else 0 with *tau reduced by the optical depth of
 * [t, tb).  Each step crosses the uniform cube of the current voxel (radius
 * k, mc_dda.cell) to its exit face: the voxel DDA of Amanatides & Woo (1987)
 * when k = 0, a leap over uniform space ("proximity clouds", Cohen &
 * Sheffer 1994, The Visual Computer 11:27) when k > 0.  The next voxel is the
 * one across the exit face on the exit axis and, on the others, the one
 * holding the exit point (truncation, kept within the cube); a voxel is
 * located as the Woodcock path locates a collision point.
 */
static inline int mc_dda_walk(const mc_voxgrid *g, const float *row, float f, const double p[3],
                              const double d[3], const double inv[3], double t, double tb,
                              float *tau, double *tc, size_t *voxel, long long *steps)
{
    const mc_dda *D = g->dda;
    int n[3] = { g->nx, g->ny, g->nz }, i[3], s[3], u[3];
    double ie[3], bias[3];
    for (int k = 0; k < 3; k++) {
        s[k] = (d[k] > 0) - (d[k] < 0);
        u[k] = d[k] > 0;
        /* a face along an axis the flight does not move on is never met */
        ie[k] = s[k] ? inv[k] : 0.0;
        bias[k] = s[k] ? 0.0 : INFINITY;
        int j = (int)((p[k] + t * d[k] - g->origin[k]) * g->inv_d[k]);
        i[k] = j < 0 ? 0 : j >= n[k] ? n[k] - 1 : j;
    }
    double tt = *tau;
    const uint16_t *cell = D->cell;
    const float *dens = g->density;
    ptrdiff_t sy = n[0], sz = (ptrdiff_t)n[0] * n[1];
    long long ns = 0;
    for (;;) {
        ptrdiff_t v = i[0] + sy * i[1] + sz * i[2];
        unsigned w = cell[v];
        int c = (int)(w & 255u), r = (int)(w >> 8);
        /* the cube's exit face on each axis: voxel plane i + 1 + r ahead, i - r behind */
        double tf[3];
        for (int k = 0; k < 3; k++) {
            int plane = i[k] + (u[k] ? 1 + r : -r);
            tf[k] = (g->origin[k] + plane * g->d[k] - p[k]) * ie[k] + bias[k];
        }
        int a = tf[1] < tf[0];
        a = tf[2] < tf[a] ? 2 : a;
        double te = mc_min(tf[a], tb);
        float mu = row[2 * c] + f * row[2 * c + 1];
        if (dens) mu *= dens[v];
        double dtau = mu * mc_max(te - t, 0.0);
        if (dtau > tt) {
            double x = t + tt / mu;
            *tc = x;
            /* the voxel holding the collision: in the cube, by truncation */
            size_t vv = 0, mul = 1;
            for (int k = 0; k < 3; k++) {
                int j = (int)((p[k] + x * d[k] - g->origin[k]) * g->inv_d[k]);
                j = j < i[k] - r ? i[k] - r : j > i[k] + r ? i[k] + r : j;
                j = j < 0 ? 0 : j >= n[k] ? n[k] - 1 : j;
                vv += (size_t)j * mul;
                mul *= (size_t)n[k];
            }
            *voxel = vv;
            *steps += ns;
            return 1;
        }
        tt -= dtau;
        t = te;
        if (te >= tb) break;
        int ia = i[a] + s[a] * (r + 1);
        for (int k = 0; k < 3; k++) {
            int j = (int)((p[k] + t * d[k] - g->origin[k]) * g->inv_d[k]);
            j = j < i[k] - r ? i[k] - r : j > i[k] + r ? i[k] + r : j;
            i[k] = j < 0 ? 0 : j >= n[k] ? n[k] - 1 : j;
        }
        ns++;
        /* past the grid's face: the stretch's end, which the face distance
         * reached a rounding short of; the rest adds nothing */
        if (ia < 0 || ia >= n[a]) break;
        i[a] = ia;
    }
    *tau = (float)tt;
    *steps += ns;
    return 0;
}

typedef struct mc_element {
    int        kind;       /* mc_el_kind */
    hm_mc_solid s;         /* for voxels: a BOX with the grid bounds, material -1 */
    double     lo[3], hi[3];
    mc_voxgrid *vox;
} mc_element;

typedef struct mc_scorebox {
    double lo[3], hi[3];
    int    region;
} mc_scorebox;

typedef struct mc_disc {
    double c[3], n[3], r;
} mc_disc;

/* Score-box lookup (scoreindex.c): per axis, MC_SB_CELLS cells over the
 * bounding box of the score boxes plus an empty cell on either side, each
 * with the bit set (nw 64-bit words) of the boxes overlapping it. */
#define MC_SB_CELLS  62
#define MC_SB_STRIDE (MC_SB_CELLS + 2)
typedef struct mc_sbindex {
    double    lo[3], inv_cell[3];
    int       nw;
    uint64_t *mask;      /* [axis][cell][word] */
} mc_sbindex;

int  mc_sbindex_build(mc_sbindex *x, const mc_scorebox *sb, int nsb, hm_error *err);
void mc_sbindex_free(mc_sbindex *x);

/* Adds e_kev to the region of every score box containing p.  The cell
 * indices are clamped without branches (maxsd/minsd): points outside the
 * bounding box land in the empty end cells. */
static inline void mc_sbindex_score(const mc_sbindex *x, const mc_scorebox *sb,
                                    const double p[3], double e_kev, double *edep)
{
    const uint64_t *m[3];
    for (int k = 0; k < 3; k++) {
        double f = (p[k] - x->lo[k]) * x->inv_cell[k] + 1.0;
        int c = (int)mc_min(mc_max(f, 0.0), MC_SB_CELLS + 1.0);
        m[k] = x->mask + (k * MC_SB_STRIDE + c) * x->nw;
    }
    for (int w = 0; w < x->nw; w++) {
        uint64_t bits = m[0][w] & m[1][w] & m[2][w];
        while (bits) {
            const mc_scorebox *b = &sb[w * 64 + __builtin_ctzll(bits)];
            bits &= bits - 1;
            if (p[0] >= b->lo[0] && p[0] < b->hi[0] && p[1] >= b->lo[1] && p[1] < b->hi[1] &&
                p[2] >= b->lo[2] && p[2] < b->hi[2])
                edep[b->region] += e_kev;
        }
    }
}

#define MC_MAXREGIONS 65536

struct hm_mc_scene {
    mc_material   *mat;
    int            nmat, capmat;
    int            world_mat;
    double         world_lo[3], world_hi[3];
    int            world_set;
    mc_element    *el;
    int            nel, capel;
    mc_scorebox   *sb;
    int            nsb, capsb;
    hm_mc_source   src;
    hm_mc_spectrum spec;        /* copy of the source spectrum (or mono) */
    int            src_set;
    double        *kpoints;     /* 3 per point */
    size_t         nkpoints;
    mc_disc       *discs;
    size_t         ndiscs;
    hm_mc_physics  phys;
    char         **region_names;
    double        *region_mass;  /* explicit, < 0 = compute */
    int            nregion_names;
    int            max_region;
    char           path[512];    /* scene file, for messages */
};

/* Geometry helpers (geometry.c). */
int  mc_ray_interval(const mc_element *e, const double p[3], const double d[3],
                     double *t0, double *t1);
int  mc_inside(const mc_element *e, const double p[3]);
int  mc_region_masses(const hm_mc_scene *s, int nregions, double *mass_g);

/* muen of air (spectrum.c) */
int  mc_muen_air_table(const double **e, const double **muen, size_t *n, hm_error *err);

/* Build the xs/majorant of voxel grids (transport.c). */
int  mc_scene_prepare(hm_mc_scene *s, hm_error *err);

#endif
