/*
 * majorant_tree.c — local majorants for Woodcock tracking in a voxel grid.
 *
 * One majorant for a whole grid is that of its densest material: in soft
 * tissue and in the air around the body most tentative collisions are then
 * rejected.  Here the grid box is cut into axis-aligned leaf boxes by a k-d
 * tree, each leaf with the majorant of the materials it holds; the tracking
 * (transport.c) samples with the majorant of the leaf it is in, finds the
 * leaf through a map from cells to leaves (one load) and carries the optical
 * depth left across each leaf face (exact: the path to the next tentative
 * collision is exponential in optical depth).
 *
 * Cost model (Yue, Iwasaki, Chen, Dobashi, Nishita 2010, "Toward optimal
 * space partitioning for unbiased, adaptive free path sampling of
 * inhomogeneous participating media", Computer Graphics Forum 29(7):2045,
 * with the isotropic-flux form of the surface-area heuristic of
 * MacDonald & Booth 1990, The Visual Computer 6:153): in a uniform isotropic
 * flux phi, a convex cell of volume V and surface A collects the track length
 * phi V (so phi M V tentative collisions with majorant M) and phi A / 4
 * entries (the inward current through a surface is phi / 4 per unit area).
 * A partition costs, per unit flux,
 *
 *     sum over leaves of   M_i V_i  +  kappa A_i / 4,
 *
 * kappa being the time of one leaf crossing (cell-map look-up and exit
 * distance) in units of one tentative collision; its value was
 * measured on the phantoms and the slab (docs/mc.md).  The tree is grown top
 * down, each node cut by the plane that minimises the estimated cost of its
 * two children, on candidate planes every `cell` voxels; a node stops
 * when it is one cell or its materials all carry the same weight; afterwards
 * every subtree that costs more than its root as a single leaf is collapsed.
 * The children of a cut are judged by the cheaper of "one leaf" and "fully
 * refined" (est_cost), since in the phantoms no single cut removes the
 * scattered bone from a large box.  A grid keeps its tree only when the
 * partition's cost is below `keep` x that of the grid as one leaf.
 *
 * The split search reads the materials present in a box from summed-volume
 * tables (Crow 1984, SIGGRAPH 18(3):207) of per-cell voxel counts, one per
 * material "weight" (rho_max x the spectrum-averaged mu/rho; materials of
 * equal weight share a table), so each box query is 8 reads per weight.  The
 * majorant tables of the final leaves are then computed exactly from their
 * voxels (largest density per material present), and leaves with identical
 * tables share one class.
 */
#include "mc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* a node while the tree is grown: its cell box, and for an inner node the
 * split axis and cell plane */
typedef struct bnode {
    int axis, cut, child;
    int box[6];
} bnode;

typedef struct build {
    int       c;                 /* voxels per candidate cell */
    int       cn[3];             /* cells per axis */
    int       n[3];              /* voxels per axis */
    double    d[3];              /* voxel size, cm */
    double    kappa;
    int       nw;                /* weight levels, descending */
    double   *wv;                /* their weights, 1/cm */
    int32_t  *sat;               /* nw x (cn+1)^3 summed counts */
    double   *lb;                /* (cn+1)^3 summed (largest weight in the cell x cell volume) */
    size_t    sat_stride;
    bnode    *node;
    int       nnode, capnode;
    int       nleaf;
    int       oom;
} build;

static inline size_t sat_at(const build *B, int x, int y, int z)
{
    return (size_t)x + (size_t)(B->cn[0] + 1) * ((size_t)y + (size_t)(B->cn[1] + 1) * (size_t)z);
}

/* voxels of weight level j in the cell box [lo, hi) */
static inline int32_t box_count(const build *B, int j, const int lo[3], const int hi[3])
{
    const int32_t *S = B->sat + (size_t)j * B->sat_stride;
    return S[sat_at(B, hi[0], hi[1], hi[2])] - S[sat_at(B, lo[0], hi[1], hi[2])] -
           S[sat_at(B, hi[0], lo[1], hi[2])] - S[sat_at(B, hi[0], hi[1], lo[2])] +
           S[sat_at(B, lo[0], lo[1], hi[2])] + S[sat_at(B, lo[0], hi[1], lo[2])] +
           S[sat_at(B, hi[0], lo[1], lo[2])] - S[sat_at(B, lo[0], lo[1], lo[2])];
}

/* the majorant weight of a box (largest level present; 0: vacuum only) and,
 * through *wmin, the smallest level present */
static double box_weight(const build *B, const int lo[3], const int hi[3], double *wmin)
{
    double top = 0;
    int j = 0;
    for (; j < B->nw; j++)
        if (box_count(B, j, lo, hi)) { top = B->wv[j]; break; }
    if (wmin) {
        *wmin = top;
        for (int i = B->nw - 1; i > j; i--)
            if (box_count(B, i, lo, hi)) { *wmin = B->wv[i]; break; }
    }
    return top;
}

/* volume and surface (cm3, cm2) of a cell box, clipped to the grid */
static void box_geom(const build *B, const int lo[3], const int hi[3], double *v, double *a)
{
    double e[3];
    for (int k = 0; k < 3; k++) {
        int h = hi[k] * B->c < B->n[k] ? hi[k] * B->c : B->n[k];
        e[k] = (h - lo[k] * B->c) * B->d[k];
    }
    *v = e[0] * e[1] * e[2];
    *a = 2 * (e[0] * e[1] + e[1] * e[2] + e[0] * e[2]);
}

static double leaf_cost(const build *B, const int lo[3], const int hi[3], double w)
{
    double v, a;
    box_geom(B, lo, hi, &v, &a);
    return w * v + B->kappa * a * 0.25;
}

/* The cost a box is expected to reach in the split search: the cheaper of
 * keeping it as one leaf and refining it completely (every cell with its own
 * majorant, the sum of the lb table, plus the box's own faces).  Judging the
 * children as leaves alone would see no gain in any single cut through a
 * region where the densest material is scattered (ribs, spine: every large
 * box holds some bone), and the search would peel thin slabs. */
static double est_cost(const build *B, const int lo[3], const int hi[3], double w)
{
    const double *S = B->lb;
    double lb = S[sat_at(B, hi[0], hi[1], hi[2])] - S[sat_at(B, lo[0], hi[1], hi[2])] -
                S[sat_at(B, hi[0], lo[1], hi[2])] - S[sat_at(B, hi[0], hi[1], lo[2])] +
                S[sat_at(B, lo[0], lo[1], hi[2])] + S[sat_at(B, lo[0], hi[1], lo[2])] +
                S[sat_at(B, hi[0], lo[1], lo[2])] - S[sat_at(B, lo[0], lo[1], lo[2])];
    double v, a;
    box_geom(B, lo, hi, &v, &a);
    double leaf = w * v + B->kappa * a * 0.25, fine = lb + B->kappa * a * 0.25;
    return leaf < fine ? leaf : fine;
}

static int new_nodes(build *B, int k)
{
    if (B->nnode + k > B->capnode) {
        int cap = B->capnode ? 2 * B->capnode : 1024;
        while (cap < B->nnode + k) cap *= 2;
        bnode *n = realloc(B->node, (size_t)cap * sizeof *n);
        if (!n) { B->oom = 1; return -1; }
        B->node = n;
        B->capnode = cap;
    }
    int i = B->nnode;
    B->nnode += k;
    return i;
}

/* Grows the subtree of node `at` over the cell box [lo, hi) and returns its
 * cost (a leaf: axis -1).  Children are allocated after their parent, so a
 * subtree that does not pay is dropped by truncating the node array. */
static double grow(build *B, int at, const int lo[3], const int hi[3])
{
    double wmin, w = box_weight(B, lo, hi, &wmin);
    double cost = leaf_cost(B, lo, hi, w);
    B->node[at].axis = -1;
    B->node[at].child = -1;
    B->node[at].cut = 0;
    B->node[at].box[0] = lo[0]; B->node[at].box[1] = lo[1]; B->node[at].box[2] = lo[2];
    B->node[at].box[3] = hi[0]; B->node[at].box[4] = hi[1]; B->node[at].box[5] = hi[2];
    if (w == wmin) return cost;                 /* one weight: nothing to gain */
    double best = INFINITY;
    int ba = -1, bc = 0;
    for (int a = 0; a < 3; a++)
        for (int cut = lo[a] + 1; cut < hi[a]; cut++) {
            int h[3] = { hi[0], hi[1], hi[2] }, l[3] = { lo[0], lo[1], lo[2] };
            h[a] = cut;
            l[a] = cut;
            double wl = box_weight(B, lo, h, NULL), wr = box_weight(B, l, hi, NULL);
            double c = est_cost(B, lo, h, wl) + est_cost(B, l, hi, wr);
            /* among equal costs, the most central cut (balanced subtrees) */
            c *= 1.0 + 1e-9 * fabs(2.0 * cut - lo[a] - hi[a]) / (hi[a] - lo[a]);
            if (c < best) { best = c; ba = a; bc = cut; }
        }
    if (ba < 0) return cost;
    int keep = B->nnode;
    int ch = new_nodes(B, 2);
    if (ch < 0) return cost;
    int h[3] = { hi[0], hi[1], hi[2] }, l[3] = { lo[0], lo[1], lo[2] };
    h[ba] = bc;
    l[ba] = bc;
    double sub = grow(B, ch, lo, h);
    sub += grow(B, ch + 1, l, hi);
    if (B->oom || sub >= cost) {                /* the split does not pay */
        B->nnode = keep;
        return cost;
    }
    B->node[at].axis = ba;
    B->node[at].child = ch;
    B->node[at].cut = bc;
    return sub;
}

/* Measured on the built-in phantoms and the voxelised slab (docs/mc.md). */
#define MC_MTREE_KAPPA 1.0
#define MC_MTREE_CELL  2
#define MC_MTREE_KEEP  0.8
#define MC_MTREE_MAXCELLS 32768.0

void mc_mtree_params_default(mc_mtree_params *p)
{
    p->kappa = MC_MTREE_KAPPA;
    p->cell_voxels = MC_MTREE_CELL;
    p->keep = MC_MTREE_KEEP;
    const char *k = getenv("HM_MC_GRID_TREE_KEEP");
    if (k && atof(k) > 0) p->keep = atof(k);
    const char *e = getenv("HM_MC_GRID_TREE_KAPPA");
    if (e && atof(e) > 0) p->kappa = atof(e);
    e = getenv("HM_MC_GRID_TREE_CELL");
    if (e && atoi(e) > 0) p->cell_voxels = atoi(e);
}

static uint64_t hash_doubles(const double *x, int n)
{
    /* FNV-1a over the bytes (Fowler, Noll, Vo) */
    uint64_t h = 1469598103934665603ull;
    const unsigned char *b = (const unsigned char *)x;
    for (size_t i = 0; i < (size_t)n * sizeof(double); i++) { h ^= b[i]; h *= 1099511628211ull; }
    return h;
}

void mc_mtree_free(mc_mtree *t)
{
    if (!t) return;
    free(t->node); free(t->leaf); free(t->maj); free(t->cell_leaf);
    free(t);
}

int mc_mtree_build(const hm_mc_scene *s, const mc_element *el, const mc_mtree_params *prm,
                   mc_mtree **out, double *cost_ratio, hm_error *err)
{
    const mc_voxgrid *g = el->vox;
    *out = NULL;
    *cost_ratio = 1.0;
    build B;
    memset(&B, 0, sizeof B);
    B.n[0] = g->nx; B.n[1] = g->ny; B.n[2] = g->nz;
    for (int k = 0; k < 3; k++) B.d[k] = g->d[k];
    B.kappa = prm->kappa;
    size_t nv = (size_t)g->nx * g->ny * g->nz;
    int nm = s->nmat + 1;                       /* grid ids: 0 vacuum, m + 1 material m */
    double *rmax = calloc((size_t)nm, sizeof(double)), *wm = calloc((size_t)nm, sizeof(double));
    int *level = malloc((size_t)nm * sizeof(int)), *ord = malloc((size_t)nm * sizeof(int));
    mc_mtree *T = calloc(1, sizeof *T);
    double *key = NULL, *keys = NULL;
    uint64_t *khash = NULL;
    int rc = 0;
    if (!rmax || !wm || !level || !ord || !T) goto oom;
    for (size_t v = 0; v < nv; v++) {
        int m = g->mat[v];
        double rho = m == 0 ? 0 : g->density ? g->density[v] : s->mat[m - 1].density_g_cm3;
        if (rho > rmax[m]) rmax[m] = rho;
    }
    /* weight of each material: rho_max x mu/rho averaged over the source
     * spectrum (the split search ranks boxes by it; the leaf tables below are
     * exact at every energy) */
    double fsum = 0;
    for (size_t i = 0; i < s->spec.n; i++) fsum += s->spec.fluence[i];
    for (int m = 1; m < nm; m++) {
        if (!(rmax[m] > 0)) continue;
        double mu = 0;
        if (fsum > 0) {
            for (size_t i = 0; i < s->spec.n; i++)
                mu += s->spec.fluence[i] * mc_mu_tot(s->mat[m - 1].xs, s->spec.energy_kev[i]);
            mu /= fsum;
        } else {
            mu = mc_mu_tot(s->mat[m - 1].xs, 60.0);
        }
        wm[m] = rmax[m] * mu;
    }
    /* weight levels: the distinct weights, descending (vacuum has none) */
    int nord = 0;
    for (int m = 1; m < nm; m++)
        if (wm[m] > 0) ord[nord++] = m;
    for (int i = 1; i < nord; i++)
        for (int j = i; j > 0 && wm[ord[j]] > wm[ord[j - 1]]; j--) { int t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t; }
    B.wv = malloc((size_t)(nord + 1) * sizeof(double));
    if (!B.wv) goto oom;
    for (int m = 0; m < nm; m++) level[m] = -1;
    for (int i = 0; i < nord; i++) {
        if (B.nw == 0 || wm[ord[i]] < B.wv[B.nw - 1]) B.wv[B.nw++] = wm[ord[i]];
        level[ord[i]] = B.nw - 1;
    }
    /* vacuum (and materials of zero density) last, weight 0: cutting it away
     * from the body is the largest gain in the dosimetry phantoms, whose grid
     * box is vacuum outside the skin */
    B.wv[B.nw++] = 0;
    for (int m = 0; m < nm; m++)
        if (level[m] < 0) level[m] = B.nw - 1;
    /* candidate cell: the requested size, coarser for grids of more than
     * MC_MTREE_MAXCELLS cells (the build time grows with the cells; a 4 mm
     * adult has 3.5e6 voxels) or tables above 64 MB */
    B.c = prm->cell_voxels < 1 ? 1 : prm->cell_voxels;
    for (;;) {
        for (int k = 0; k < 3; k++) B.cn[k] = (B.n[k] + B.c - 1) / B.c;
        B.sat_stride = (size_t)(B.cn[0] + 1) * (B.cn[1] + 1) * (B.cn[2] + 1);
        if ((double)B.sat_stride * B.nw * sizeof(int32_t) <= 64e6 &&
            (double)B.cn[0] * B.cn[1] * B.cn[2] <= MC_MTREE_MAXCELLS) break;
        B.c++;
    }
    {
        B.sat = calloc(B.sat_stride * (size_t)B.nw, sizeof(int32_t));
        if (!B.sat) goto oom;
        /* cell of each x (no division per voxel) */
        int *cx = malloc((size_t)g->nx * sizeof(int));
        if (!cx) goto oom;
        for (int x = 0; x < g->nx; x++) cx[x] = x / B.c + 1;
        for (int z = 0; z < g->nz; z++)
            for (int y = 0; y < g->ny; y++) {
                const uint16_t *row = g->mat + (size_t)g->nx * ((size_t)y + (size_t)g->ny * z);
                int32_t *cell = B.sat + sat_at(&B, 0, y / B.c + 1, z / B.c + 1);
                for (int x = 0; x < g->nx; x++) cell[(size_t)level[row[x]] * B.sat_stride + cx[x]]++;
            }
        free(cx);
        /* prefix sums along x, then y, then z */
        for (int j = 0; j < B.nw; j++) {
            int32_t *S = B.sat + (size_t)j * B.sat_stride;
            for (int z = 1; z <= B.cn[2]; z++)
                for (int y = 1; y <= B.cn[1]; y++)
                    for (int x = 1; x <= B.cn[0]; x++) S[sat_at(&B, x, y, z)] += S[sat_at(&B, x - 1, y, z)];
            for (int z = 1; z <= B.cn[2]; z++)
                for (int y = 1; y <= B.cn[1]; y++)
                    for (int x = 1; x <= B.cn[0]; x++) S[sat_at(&B, x, y, z)] += S[sat_at(&B, x, y - 1, z)];
            for (int z = 1; z <= B.cn[2]; z++)
                for (int y = 1; y <= B.cn[1]; y++)
                    for (int x = 1; x <= B.cn[0]; x++) S[sat_at(&B, x, y, z)] += S[sat_at(&B, x, y, z - 1)];
        }
    }
    /* lb: per cell the largest weight present times the cell's volume */
    B.lb = calloc(B.sat_stride, sizeof(double));
    if (!B.lb) goto oom;
    for (int z = 1; z <= B.cn[2]; z++)
        for (int y = 1; y <= B.cn[1]; y++)
            for (int x = 1; x <= B.cn[0]; x++) {
                int lo[3] = { x - 1, y - 1, z - 1 }, hi[3] = { x, y, z };
                double v, a;
                box_geom(&B, lo, hi, &v, &a);
                B.lb[sat_at(&B, x, y, z)] = box_weight(&B, lo, hi, NULL) * v;
            }
    for (int z = 1; z <= B.cn[2]; z++)
        for (int y = 1; y <= B.cn[1]; y++)
            for (int x = 1; x <= B.cn[0]; x++) B.lb[sat_at(&B, x, y, z)] += B.lb[sat_at(&B, x - 1, y, z)];
    for (int z = 1; z <= B.cn[2]; z++)
        for (int y = 1; y <= B.cn[1]; y++)
            for (int x = 1; x <= B.cn[0]; x++) B.lb[sat_at(&B, x, y, z)] += B.lb[sat_at(&B, x, y - 1, z)];
    for (int z = 1; z <= B.cn[2]; z++)
        for (int y = 1; y <= B.cn[1]; y++)
            for (int x = 1; x <= B.cn[0]; x++) B.lb[sat_at(&B, x, y, z)] += B.lb[sat_at(&B, x, y, z - 1)];
    {
        int lo[3] = { 0, 0, 0 };
        if (new_nodes(&B, 1) < 0) goto oom;
        T->root_cost = leaf_cost(&B, lo, B.cn, box_weight(&B, lo, B.cn, NULL));
        T->cost = grow(&B, 0, lo, B.cn);
        if (B.oom) goto oom;
        *cost_ratio = T->root_cost > 0 ? T->cost / T->root_cost : 1.0;
        if (!(T->cost < prm->keep * T->root_cost)) goto done;   /* not worth it: no tree */
    }
    /* number the leaves, turn cell planes into coordinates: the same doubles
     * as the grid's faces and the voxel boundaries origin + i d, so that the
     * tracking's exit distances and descents agree to the bit */
    T->nnode = B.nnode;
    T->node = malloc((size_t)T->nnode * sizeof *T->node);
    if (!T->node) goto oom;
    for (int i = 0; i < T->nnode; i++) T->nleaf += B.node[i].axis < 0;
    T->leaf = calloc((size_t)T->nleaf, sizeof *T->leaf);
    T->cell_leaf = malloc((size_t)B.cn[0] * B.cn[1] * B.cn[2] * sizeof(int32_t));
    if (!T->cell_leaf) goto oom;
    for (int k = 0; k < 3; k++) {
        T->cn[k] = B.cn[k];
        T->origin[k] = g->origin[k];
        T->inv_cell[k] = 1.0 / (B.c * g->d[k]);
    }
    key = calloc((size_t)nm, sizeof(double));
    keys = malloc((size_t)T->nleaf * nm * sizeof(double));
    khash = malloc((size_t)T->nleaf * sizeof(uint64_t));
    if (!T->leaf || !key || !keys || !khash) goto oom;
    int nl = 0;
    for (int i = 0; i < T->nnode; i++) {
        const bnode *bn = &B.node[i];
        mc_mtnode *nd = &T->node[i];
        nd->axis = bn->axis;
        if (bn->axis >= 0) {
            int a = bn->axis, ci = bn->cut * B.c;
            nd->plane = g->origin[a] + ci * g->d[a];
            nd->child = bn->child;
            continue;
        }
        mc_mtleaf *L = &T->leaf[nl];
        int vlo[3], vhi[3];
        for (int k = 0; k < 3; k++) {
            vlo[k] = bn->box[k] * B.c;
            vhi[k] = bn->box[3 + k] * B.c < B.n[k] ? bn->box[3 + k] * B.c : B.n[k];
            L->lo[k] = vlo[k] == 0 ? el->lo[k] : g->origin[k] + vlo[k] * g->d[k];
            L->hi[k] = vhi[k] == B.n[k] ? el->hi[k] : g->origin[k] + vhi[k] * g->d[k];
            L->vlo[k] = vlo[k];
            L->vhi[k] = vhi[k];
            L->clo[k] = bn->box[k];
            L->chi[k] = bn->box[3 + k];
        }
        for (int z = L->clo[2]; z < L->chi[2]; z++)
            for (int y = L->clo[1]; y < L->chi[1]; y++)
                for (int x = L->clo[0]; x < L->chi[0]; x++)
                    T->cell_leaf[x + (size_t)B.cn[0] * (y + (size_t)B.cn[1] * z)] = nl;
        /* the largest density of each material in the leaf: its class key */
        memset(key, 0, (size_t)nm * sizeof(double));
        for (int z = vlo[2]; z < vhi[2]; z++)
            for (int y = vlo[1]; y < vhi[1]; y++)
                for (int x = vlo[0]; x < vhi[0]; x++) {
                    size_t v = (size_t)x + (size_t)g->nx * ((size_t)y + (size_t)g->ny * z);
                    int m = g->mat[v];
                    double rho = m == 0 ? 0 : g->density ? g->density[v] : s->mat[m - 1].density_g_cm3;
                    if (rho > key[m]) key[m] = rho;
                }
        uint64_t h = hash_doubles(key, nm);
        int c = 0;
        for (; c < T->ncls; c++)
            if (khash[c] == h && !memcmp(keys + (size_t)c * nm, key, (size_t)nm * sizeof(double))) break;
        if (c == T->ncls) {
            memcpy(keys + (size_t)c * nm, key, (size_t)nm * sizeof(double));
            khash[c] = h;
            T->ncls++;
        }
        L->cls = c;
        nd->child = nl;
        nl++;
    }
    /* class tables, energy-major so that one flight (one energy) reads one
     * row: entry k bounds the linear interpolation between grid points k and
     * k + 1 (the max of both ends), with the same 1e-6 margin as the single
     * majorant */
    T->maj = malloc((size_t)(MC_NE - 1) * T->ncls * sizeof(float));
    if (!T->maj) goto oom;
    for (int c = 0; c < T->ncls; c++) {
        const double *kc = keys + (size_t)c * nm;
        for (int k = 0; k < MC_NE - 1; k++) {
            double mx = 0;
            for (int m = 1; m < nm; m++)
                if (kc[m] > 0) {
                    const mc_xs *x = s->mat[m - 1].xs;
                    double mu = kc[m] * (x[k].mu_tot > x[k + 1].mu_tot ? x[k].mu_tot : x[k + 1].mu_tot);
                    if (mu > mx) mx = mu;
                }
            T->maj[(size_t)k * T->ncls + c] = (float)(mx * (1.0 + 1e-6));
        }
    }
    T->cell_voxels = B.c;
    *out = T;
    T = NULL;
    goto done;
oom:
    rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory for the voxel grid's majorant tree");
done:
    mc_mtree_free(T);
    free(B.node); free(B.sat); free(B.lb); free(B.wv);
    free(rmax); free(wm); free(level); free(ord);
    free(key); free(keys); free(khash);
    return rc;
}
