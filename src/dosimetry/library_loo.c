/*
 * library_loo.c — an empirical interpolation-error term per phantom, organ
 * and axis, from leave-one-out cross-validation on the library's own nodes
 * (Stone 1974, J R Stat Soc B 36:111; Wahba 1990, "Spline models for
 * observational data", SIAM, ch. 4).
 *
 * Why.  The lookup's sigma (library_interp.c) sizes the error of a dose
 * that is smooth at the grid's scale: the curvature correction's size and
 * the disagreement of neighbouring second differences.  An organ whose dose
 * has structure finer than the nodes — the skin: its mean over the 4 mm
 * surface voxels jumps 20-30 % between primary angles 7.5 degrees apart, as
 * the field's edges cross rows of voxels — is not smooth at any spacing
 * the grid can afford, and those terms, made from the nodes, which sample
 * the structure at random phases, are too small for it about half the time.
 *
 * Leave-one-out.  Along axis a (4 or more points), every node j with a
 * neighbour on both sides (every node on a periodic axis) is predicted from
 * the others on its line by the lookup's own scheme on the coarser line,
 * node j removed: linear in u between j-1 and j+1 plus the curvature
 * correction from the reduced line's second differences at those nodes
 * (end nodes take their neighbour's, as the lookup does; three points must
 * remain, hence four on the axis).  The prediction is sum_m c_m f_m; the
 * residual r = f_j - sum_m c_m f_m holds the nodes' statistical noise, of
 * variance v = sigma_j^2 + sum_m c_m^2 sigma_m^2 (independent runs), and the
 * interpolation error at the coarser spacing.  As a relative error of the
 * nodes (a "nugget": Cressie 1993, "Statistics for spatial data", 2.3.1),
 * E[r^2] = v + s^2 (f_j^2 + sum_m c_m^2 f_m^2), and pooled over lines and
 * nodes, dose-weighted (nodes where the organ is out of the beam and its
 * relative noise large do not dominate),
 *   s_2h^2 = max(0, sum (r^2 - v) / sum (f_j^2 + sum_m c_m^2 f_m^2)),
 * the noise taken out without bias.
 *
 * Scaling to the lookup's spacing.  s_2h is the error of a cell twice the
 * lookup's.  For a smooth dose the error of spacing 2h is about 4 times
 * that of h (linear interpolation's error is f'' h^2 / 8: Burden & Faires,
 * Numerical Analysis, theorem 3.3; the corrected scheme's falls faster);
 * for structure finer than the nodes it is not smaller.  Which one an
 * organ has is measured where the axis allows: the same estimate on the
 * line of every other node (spacing 2h, cells 4h; it needs 7 points, or an
 * even number of 8 or more on the periodic axis) gives s_4h, and the
 * ratio rho = s_2h / s_4h, at most 1, is taken to hold once more:
 *   s_h = rho s_2h.
 * On a study library of the 5-year-old at 7.5 degrees and 1.25 cm
 * (primary -30..30, field 5..15 cm, 80 kV, 0.1 mm Cu; docs/dosimetry.md),
 * s_2h on its nodes and on every other node (cells of 15 and 30 degrees)
 * give the skin 8.0 and 5.9 % on the primary axis (rho 1, capped from
 * 1.35: it does not shrink), lungs 0.86 and 4.5 % (rho 0.19), heart 0.85
 * and 6.3 % (rho 0.13).  Where the axis is too short, rho is
 * LIB_CV_SMOOTH_RATIO = 1/4, the smooth rule: the nodes alone cannot tell
 * structure finer than them from a dose merely coarse at 2h (on that study
 * library, higher differences and a second spacing from the coarse nodes
 * alone leave the lungs at 3.9-4.7 %), and the smooth rule keeps smooth
 * organs' sigma, at the price of the skin's (measured in the test).
 *
 * The lookup.  At a point inside cell (x0, x1) of axis a (weight t of x1)
 * the interpolant misses the dose's own deviation and carries the two
 * nodes', so
 *   sigma^2 += s_h^2 (1 + (1-t)^2 + t^2) D^2,
 * nothing on a node (the node's value is the dose there), summed over the
 * axes on which the point is off-node, in quadrature with the other terms
 * (the same model as the voxel anatomy's steps between scales, library.c,
 * scale_jitter).  Cost: made once when a library is loaded (or on the first
 * lookup of one filled node by node), 0.09 s for the default library's
 * 40,320 nodes; kept in the library struct, not in the file.
 */
#include "library_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Node k of axis a as an unwrapped coordinate: on a periodic axis any
 * integer k (k mod n, plus 360 per turn), else 0..n-1. */
static double uw(const hm_dose_grid *g, int a, long k)
{
    long n = (long)g->n[a], turns = k >= 0 ? k / n : -((-k + n - 1) / n);
    double v = g->v[a][k - turns * n];
    if (a == HM_DOSE_AXIS_CU)
        return log1p(fmax(v, 0) / LIB_CU_T0_MM);
    return v + 360.0 * (double)turns;
}

/* Offsets of a stencil's nodes from the node left out: -3..+4 (at most
 * -2..+2 are used). */
#define OFF0 3
#define NOFF 8

/* The line of axis a without node j (n - 1 = m points): position r ->
 * unwrapped node index (periodic: r any integer; r = -1 and 0 are the two
 * neighbours of j). */
typedef struct reduced {
    const hm_dose_grid *g;
    int                 a, per;
    long                n, m, j;
} reduced;

static long red_node(const reduced *R, long r)
{
    if (!R->per)
        return r < R->j ? r : r + 1;
    long q = r >= 0 ? r / R->m : -((-r + R->m - 1) / R->m);
    return R->j + 1 + (r - q * R->m) + R->n * q;
}

/* Adds w times the second divided difference of the reduced line at
 * position r (clamped to the interior unless periodic, as the lookup's end
 * nodes take their neighbour's) into coef, by offset from j. */
static void red_d2(const reduced *R, long r, double w, double *coef)
{
    long k = r;
    if (!R->per)
        k = k < 1 ? 1 : k > R->m - 2 ? R->m - 2 : k;
    long im = red_node(R, k - 1), i0 = red_node(R, k), ip = red_node(R, k + 1);
    double um = uw(R->g, R->a, im), u0 = uw(R->g, R->a, i0), up = uw(R->g, R->a, ip);
    double h0 = u0 - um, h1 = up - u0;
    coef[im - R->j + OFF0] += w * 2 / (h0 * (h0 + h1));
    coef[i0 - R->j + OFF0] -= w * 2 / (h0 * h1);
    coef[ip - R->j + OFF0] += w * 2 / (h1 * (h0 + h1));
}

/* The lookup's scheme on the line without node j, at node j: the residual
 * f_j - prediction as coefficients by offset from j.  The reduced line must
 * keep three points (the curvature correction). */
static void cv_residual(const hm_dose_grid *g, int a, int per, long j, double res[NOFF])
{
    reduced R = { g, a, per, (long)g->n[a], (long)g->n[a] - 1, j };
    double pred[NOFF] = { 0 };
    long rl = per ? -1 : j - 1, ru = per ? 0 : j;
    long il = red_node(&R, rl), iu = red_node(&R, ru);
    double ul = uw(g, a, il), uu = uw(g, a, iu), u = uw(g, a, j);
    double t = (u - ul) / (uu - ul), q = 0.5 * (u - ul) * (u - uu);
    pred[il - j + OFF0] += 1 - t;
    pred[iu - j + OFF0] += t;
    red_d2(&R, rl, q * (1 - t), pred);
    red_d2(&R, ru, q * t, pred);
    for (int k = 0; k < NOFF; k++)
        res[k] = -pred[k];
    res[OFF0] += 1;
}

void lib_loo_free(lib_phantom *ph)
{
    for (int a = 0; a < HM_DOSE_NAXES; a++) {
        free(ph->loo[a]);
        free(ph->loo_raw[a]);
        ph->loo[a] = ph->loo_raw[a] = NULL;
    }
}

/* The residual combinations of an axis: node j left out, by offset from j. */
typedef struct cv_set {
    size_t nc;
    long   j[HM_DOSE_AXIS_MAX];
    double c[HM_DOSE_AXIS_MAX][NOFF];
} cv_set;

/* The sum over lines and left-out nodes of r^2 - v and of w, per organ; the
 * combinations' node m is node m * step of the library's axis (step 2: the
 * line of every other node). */
static void cv_pool(const hm_dose_library *lib, const lib_phantom *ph, int a, const size_t *stride, const cv_set *S,
                    long nsub, long step, double *num, double *den)
{
    size_t no = ph->norgans, n = lib->grid.n[a];
    for (size_t ic = 0; ic < S->nc; ic++) {
        const double *c = S->c[ic];
        for (size_t base = 0; base < lib->nnodes; base++) {
            if (base / stride[a] % n)
                continue;   /* one line per node with index 0 on the axis */
            for (size_t k = 0; k < no; k++) {
                double r = 0, v = 0, w = 0;
                for (int m = 0; m < NOFF; m++) {
                    if (c[m] == 0)
                        continue;
                    long node = (S->j[ic] + m - OFF0) % nsub;
                    node = (node < 0 ? node + nsub : node) * step;
                    size_t at = (base + (size_t)node * stride[a]) * no + k;
                    double f = ph->dose[at], s = ph->sigma[at];
                    r += c[m] * f;
                    v += c[m] * c[m] * s * s;
                    w += c[m] * c[m] * f * f;
                }
                num[k] += r * r - v;
                den[k] += w;
            }
        }
    }
}

/* s^2 per organ (into out) from leaving each node of axis a of grid g out,
 * g's axis being the library's (step 1) or every other point of it (step 2);
 * 0 when the line would keep fewer than 3 points. */
static int cv_estimate(const hm_dose_library *lib, const lib_phantom *ph, const hm_dose_grid *g, int a,
                       const size_t *stride, long step, cv_set *S, double *acc, double *out)
{
    long n = (long)g->n[a];
    int per = a == HM_DOSE_AXIS_PRIMARY && g->primary_periodic;
    size_t no = ph->norgans;
    if (n < 4)
        return 0;
    S->nc = 0;
    for (long j = per ? 0 : 1; j < (per ? n : n - 1); j++) {
        S->j[S->nc] = j;
        cv_residual(g, a, per, j, S->c[S->nc++]);
    }
    double *num = acc, *den = acc + no;
    memset(acc, 0, 2 * no * sizeof *acc);
    cv_pool(lib, ph, a, stride, S, n, step, num, den);
    for (size_t k = 0; k < no; k++)
        out[k] = den[k] > 0 && num[k] > 0 ? num[k] / den[k] : 0;
    return 1;
}

int lib_loo_make(hm_dose_library *lib, size_t p, hm_error *err)
{
    const hm_dose_grid *g = &lib->grid;
    lib_phantom *ph = &lib->ph[p];
    size_t no = ph->norgans, stride[HM_DOSE_NAXES];
    for (int a = HM_DOSE_NAXES - 1; a >= 0; a--)
        stride[a] = a == HM_DOSE_NAXES - 1 ? 1 : stride[a + 1] * g->n[a + 1];
    cv_set *S = malloc(sizeof *S);
    hm_dose_grid *sub = malloc(sizeof *sub);
    double *acc = malloc(3 * (no ? no : 1) * sizeof *acc);
    int rc = HM_OK;
    if (!S || !sub || !acc)
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory (cross-validation)");
    lib_loo_free(ph);
    for (int a = 0; a < HM_DOSE_NAXES && !rc && ph->dose; a++) {
        if (g->n[a] < 4)
            continue;   /* the line without node j must keep 3 points: the lookup's scheme */
        ph->loo[a] = calloc(no ? no : 1, sizeof *ph->loo[a]);
        ph->loo_raw[a] = calloc(no ? no : 1, sizeof *ph->loo_raw[a]);
        if (!ph->loo[a] || !ph->loo_raw[a]) {
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory (cross-validation)");
            break;
        }
        double *s4 = acc + 2 * no;
        cv_estimate(lib, ph, g, a, stride, 1, S, acc, ph->loo_raw[a]);
        /* Every other point: the same at twice the spacing, where the axis
         * keeps four (a periodic axis needs an even count to close). */
        int per = a == HM_DOSE_AXIS_PRIMARY && g->primary_periodic, two = 0;
        if (!per || g->n[a] % 2 == 0) {
            *sub = *g;
            sub->n[a] = (g->n[a] + 1) / 2;
            for (size_t i = 0; i < sub->n[a]; i++)
                sub->v[a][i] = g->v[a][2 * i];
            two = cv_estimate(lib, ph, sub, a, stride, 2, S, acc, s4);
        }
        for (size_t k = 0; k < no; k++) {
            double s2 = ph->loo_raw[a][k], ratio = LIB_CV_SMOOTH_RATIO;
            if (two && s4[k] > 0)
                ratio = fmin(1, sqrt(s2 / s4[k]));
            ph->loo[a][k] = ratio * ratio * s2;
        }
    }
    if (rc)
        lib_loo_free(ph);
    free(S);
    free(sub);
    free(acc);
    return rc;
}

int hm_dose_library_cv_sigma(const hm_dose_library *lib, size_t phantom, int axis, const char *organ, double *rel,
                             double *loo, hm_error *err)
{
    *rel = 0;
    if (loo)
        *loo = 0;
    if (phantom >= lib->grid.nphantoms)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "phantom", "index %zu outside the library's %zu phantoms",
                            phantom, lib->grid.nphantoms);
    if (axis < 0 || axis >= HM_DOSE_NAXES)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "axis", "%d outside 0..%d", axis, HM_DOSE_NAXES - 1);
    const lib_phantom *ph = &lib->ph[phantom];
    size_t k = 0;
    while (k < ph->norgans && strcmp(ph->proto[k].organ, organ ? organ : ""))
        k++;
    if (k == ph->norgans)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "organ", "'%s' is not an organ of the library",
                            organ ? organ : "");
    int rc = lib_tables_make(lib, err);
    if (rc)
        return rc;
    *rel = ph->loo[axis] ? sqrt(ph->loo[axis][k]) : 0;
    if (loo)
        *loo = ph->loo_raw[axis] ? sqrt(ph->loo_raw[axis][k]) : 0;
    return HM_OK;
}
