/*
 * library_interp.c — interpolation between a library's nodes.
 *
 * Multilinear (tensor-product linear) interpolation over the axes with more
 * than one point, plus a curvature correction along every axis with at
 * least three points, in a coordinate u in which the dose is closer to
 * linear (u = ln(1 + Cu / 0.1 mm) for the copper filter, the axis value
 * elsewhere):
 *
 *   D(x) = L(x) + sum_a q_a L_a[f''_a],   q_a = (u_a - u_a0)(u_a - u_a1) / 2,
 *
 * L the multilinear interpolant, u_a0 <= u_a < u_a1 the cell on axis a, and
 * L_a[f''_a] the multilinear interpolant of the second divided difference
 * along axis a at the cell's corners (at an end node, the one of its
 * neighbour; the primary axis wraps when periodic).  This is the error term
 * of linear interpolation, f - L = f''(xi) (x - x0)(x - x1) / 2 (e.g.
 * Burden & Faires, Numerical Analysis, 9th ed., theorem 3.3), with f''
 * estimated from the neighbouring nodes: it is exact for a function
 * quadratic along each axis, and removes the bias of multilinear
 * interpolation on concave doses (curves in Cu, a peak at secondary 0),
 * which was always an underestimate.  The second differences at every node
 * are tabulated once, on loading or the first lookup (k more arrays the size of the doses,
 * k the axes with three or more points), so a lookup reads 1 + k values per
 * corner instead of 1.
 *
 * Why ln(1 + Cu/t0), t0 = 0.1 mm: dose per KAP rises steeply then flattens
 * with copper, as copper removes the soft part of the spectrum, which adds
 * to the KAP but hardly to organs at depth; t0 is copper's attenuation
 * length at 30 keV (mu/rho 10.9 cm2/g, NIST XCOM, density 8.96 g/cm3), the
 * soft end of these spectra after the inherent Al.  The dose is a smooth
 * function of Cu with a finite slope at 0 (attenuation is), which this
 * coordinate keeps and saturates like the dose; sqrt(Cu) (used before) has
 * an infinite slope at 0, so a dose linear in Cu there is convex in it and
 * linear interpolation from 0 to 0.1 mm was high.  Measured on the
 * 5-year-old (direct runs of 2e6 histories along Cu through two events,
 * nodes 0, 0.1, 0.3 mm, the curvature correction applied): at 0.05 mm
 * lungs +0.9/+0.8 %, heart +1.1/-0.1 % (sqrt(Cu): +3.0/+2.2 % and
 * +3.4/+1.7 %); at 0.2 mm within 0.6 % (sqrt: -1.0 to -1.5 %); the
 * correction itself is at most 0.4 % of the dose on lungs, heart and liver
 * (sqrt: up to 2.5 %), i.e. the dose is close to linear in this coordinate.
 * On E/KAP (docs/dosimetry.md: 0.59, 0.81, 0.92, 1.09, 1.28 at 0, 0.1, 0.2,
 * 0.4, 0.9 mm) the slopes between nodes in u are 0.32, 0.27, 0.33, 0.27.
 *
 * Errors.  The nodes are independent Monte Carlo runs, so the statistical
 * variance of the multilinear part is sum_c w_c^2 sigma_c^2.  The
 * correction is the estimate of linear interpolation's error; what remains
 * after it is not known, but is smaller than the correction where the dose
 * is smooth and of its order where it is not (organs at the edge of the
 * field, where the second differences are large or change sign), so its
 * magnitude per axis is the interpolation error given:
 *   sigma^2 = sum_c w_c^2 sigma_c^2 + sum_a (q_a L_a[f''_a])^2.
 * It also bounds the noise the correction adds (the second differences of
 * noisy nodes).
 *
 * Where the dose is not smooth at the grid's scale (an organ at the field's
 * edge: the 5-year-old's breast doubles between field sides 6 and 7.5 cm and
 * is a plateau only 15 degrees wide in the primary angle), the correction's
 * size is no bound: the curvature itself changes inside the cell.  The
 * residual of the corrected interpolant is f''(xi) - L_a[f''_a] times q_a,
 * and f''(xi) ranges over the second differences around the cell, so the
 * disagreement of the two nearest ones along the axis bounds it,
 *   |f - D| <= |q_a| |f''_a(c1) - f''_a(c0)|,
 * c0, c1 the stencil centres i0, i1 of the cell (on an end cell, the first
 * or last two interior nodes; this needs four points on the axis, or a
 * periodic axis), interpolated over the other axes as L_a[f''_a] but in
 * magnitude, L_a[|f''_a(c1) - f''_a(c0)|] (a bound at each corner line; of
 * opposite signs at different corners it would otherwise cancel).  The same
 * comparison of left and right stencils is what ENO schemes use to detect
 * discontinuities (Harten, Engquist, Osher, Chakravarthy 1987, J Comput
 * Phys 71:231); here it only sizes the error.  Where the dose is smooth it
 * is O(h^3 f''') and negligible; where it is not, it grows with the
 * jump.  So
 *   sigma^2 = sum_c w_c^2 sigma_c^2
 *           + sum_a (q_a L_a[f''_a])^2 + sum_a (q_a L_a[|f''_a(c1) - f''_a(c0)|])^2
 *           + sum_a s_a^2 (1 + (1-t_a)^2 + t_a^2) D^2,
 * the last the cross-validation term of structure finer than the nodes
 * (library_loo.c; on the axes where the point is off-node), which the two
 * before, made from the nodes, do not see.  Measured z-scores:
 * tests/dosimetry/test_library_mc.c.
 */
#include "library_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The coordinate an axis is interpolated in. */
static double axis_u(int a, double v)
{
    return a == HM_DOSE_AXIS_CU ? log1p(fmax(v, 0) / LIB_CU_T0_MM) : v;
}

/* Node coordinate i of axis a in u; on the periodic axis i may be n (the
 * first point plus 360) or -1 (the last minus 360). */
static double node_u(const hm_dose_grid *g, int a, long i)
{
    long n = (long)g->n[a];
    if (i >= n)
        return g->v[a][i - n] + 360;
    if (i < 0)
        return g->v[a][i + n] - 360;
    return axis_u(a, g->v[a][i]);
}

static int periodic(const hm_dose_grid *g, int a)
{
    return a == HM_DOSE_AXIS_PRIMARY && g->primary_periodic;
}

/* The cell of x on axis a: indices i0, i1 and the weight t of i1 (in u);
 * q = (u - u0)(u - u1) / 2.  Sets *out when x was clamped. */
static void locate(const hm_dose_grid *g, int a, double x, size_t *i0, size_t *i1, double *t, double *q, int *out)
{
    const double *v = g->v[a];
    size_t n = g->n[a];
    double tol = 1e-6 * fmax(1, fabs(x));
    *out = 0;
    *q = 0;
    if (n == 1) {
        *i0 = *i1 = 0;
        *t = 0;
        *out = fabs(x - v[0]) > tol;
        return;
    }
    if (periodic(g, a)) {
        /* Into [v0, v0 + 360); the last cell closes the circle to v0 + 360. */
        double y = fmod(x - v[0], 360);
        if (y < 0)
            y += 360;
        y += v[0];
        size_t i = 0;
        while (i + 1 < n && y >= v[i + 1])
            i++;
        double hi = node_u(g, a, (long)i + 1);
        *i0 = i;
        *i1 = i + 1 < n ? i + 1 : 0;
        *t = (y - v[i]) / (hi - v[i]);
        *q = 0.5 * (y - v[i]) * (y - hi);
        return;
    }
    if (x <= v[0]) {
        *i0 = 0; *i1 = 1; *t = 0;
        *out = x < v[0] - tol;
        return;
    }
    if (x >= v[n - 1]) {
        *i0 = n - 2; *i1 = n - 1; *t = 1;
        *out = x > v[n - 1] + tol;
        return;
    }
    size_t i = 0;
    while (x >= v[i + 1])
        i++;
    double u = axis_u(a, x), u0 = node_u(g, a, (long)i), u1 = node_u(g, a, (long)i + 1);
    *i0 = i; *i1 = i + 1;
    *t = (u - u0) / (u1 - u0);
    *q = 0.5 * (u - u0) * (u - u1);
}

/* The second divided difference along axis a at node j as a combination of
 * three nodes: their indices on the axis and coefficients,
 * f'' = 2 [(f+ - f0)/h1 - (f0 - f-)/h0] / (h0 + h1). */
static void second_difference(const hm_dose_grid *g, int a, size_t j, size_t idx[3], double c[3])
{
    long n = (long)g->n[a], k = (long)j, km, kp;
    if (periodic(g, a)) {
        km = k - 1;
        kp = k + 1;
    } else {
        k = k < 1 ? 1 : k > n - 2 ? n - 2 : k;   /* an end node: its neighbour's */
        km = k - 1;
        kp = k + 1;
    }
    double um = node_u(g, a, km), u0 = node_u(g, a, k), up = node_u(g, a, kp);
    double h0 = u0 - um, h1 = up - u0;
    c[0] = 2 / (h0 * (h0 + h1));
    c[1] = -2 / (h0 * h1);
    c[2] = 2 / (h1 * (h0 + h1));
    idx[0] = (size_t)((km + n) % n);
    idx[1] = (size_t)k;
    idx[2] = (size_t)(kp % n);
}

void lib_d2_free(hm_dose_library *lib)
{
    for (size_t p = 0; p < HM_DOSE_MAX_PHANTOMS; p++) {
        for (int a = 0; a < HM_DOSE_NAXES; a++) {
            free(lib->ph[p].d2[a]);
            lib->ph[p].d2[a] = NULL;
        }
        lib_loo_free(&lib->ph[p]);
    }
    lib->d2_ready = 0;
}

/* The second-difference and cross-validation tables of every phantom, once
 * (a cache of a const library: made under its lock, then only read). */
int lib_tables_make(const hm_dose_library *clib, hm_error *err)
{
    hm_dose_library *lib = (hm_dose_library *)clib;
    pthread_mutex_lock(&lib->d2_lock);
    int rc = HM_OK;
    for (size_t p = 0; p < lib->grid.nphantoms && !lib->d2_ready && !rc; p++)
        rc = lib_loo_make(lib, p, err);
    const hm_dose_grid *g = &lib->grid;
    size_t stride[HM_DOSE_NAXES];
    for (int a = HM_DOSE_NAXES - 1; a >= 0; a--)
        stride[a] = a == HM_DOSE_NAXES - 1 ? 1 : stride[a + 1] * g->n[a + 1];
    for (size_t p = 0; p < g->nphantoms && !lib->d2_ready && !rc; p++) {
        lib_phantom *ph = &lib->ph[p];
        size_t no = ph->norgans;
        for (int a = 0; a < HM_DOSE_NAXES && !rc; a++) {
            if (g->n[a] < 3 || ph->d2[a])
                continue;
            double *d2 = malloc(lib->nnodes * (no ? no : 1) * sizeof *d2);
            if (!d2) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory (interpolation tables)");
                break;
            }
            for (size_t node = 0; node < lib->nnodes; node++) {
                size_t j = node / stride[a] % g->n[a], idx[3];
                double cf[3];
                second_difference(g, a, j, idx, cf);
                double *out = &d2[node * no];
                for (size_t k = 0; k < no; k++)
                    out[k] = 0;
                for (int m = 0; m < 3; m++) {
                    const double *dm = &ph->dose[(node + idx[m] * stride[a] - j * stride[a]) * no];
                    for (size_t k = 0; k < no; k++)
                        out[k] += cf[m] * dm[k];
                }
            }
            ph->d2[a] = d2;
        }
    }
    if (!rc)
        lib->d2_ready = 1;
    pthread_mutex_unlock(&lib->d2_lock);
    return rc;
}

int hm_dose_library_lookup_at(const hm_dose_library *lib, size_t phantom, const double x[HM_DOSE_NAXES],
                              hm_dosimetry_result *out, unsigned *out_of_grid, hm_error *err)
{
    memset(out, 0, sizeof *out);
    if (phantom >= lib->grid.nphantoms)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "phantom", "index %zu outside the library's %zu phantoms",
                            phantom, lib->grid.nphantoms);
    const hm_dose_grid *g = &lib->grid;
    const lib_phantom *ph = &lib->ph[phantom];
    size_t i0[HM_DOSE_NAXES], i1[HM_DOSE_NAXES], stride[HM_DOSE_NAXES];
    double t[HM_DOSE_NAXES], q[HM_DOSE_NAXES];
    /* The two stencil centres whose second differences bound the residual
     * (index on the axis; dis[a] when the axis has two). */
    size_t c0[HM_DOSE_NAXES], c1[HM_DOSE_NAXES];
    int dis[HM_DOSE_NAXES];
    unsigned flags = 0;
    for (int a = 0; a < HM_DOSE_NAXES; a++) {
        if (!isfinite(x[a]))
            return hm_error_set(err, HM_EINVAL, NULL, 0, hm_dose_axis_name(a), "not a finite number");
        int o;
        locate(g, a, x[a], &i0[a], &i1[a], &t[a], &q[a], &o);
        if (o)
            flags |= 1u << a;
        if (g->n[a] < 3)
            q[a] = 0;   /* no curvature from two points */
        dis[a] = q[a] != 0 && (periodic(g, a) || g->n[a] >= 4);
        if (periodic(g, a)) {
            c0[a] = i0[a];
            c1[a] = i1[a];
        } else {
            size_t lo = g->n[a] >= 4 ? g->n[a] - 3 : 1;
            c0[a] = i0[a] < 1 ? 1 : i0[a] > lo ? lo : i0[a];
            c1[a] = c0[a] + 1;
        }
    }
    for (int a = HM_DOSE_NAXES - 1; a >= 0; a--)   /* axis 0 varies slowest */
        stride[a] = a == HM_DOSE_NAXES - 1 ? 1 : stride[a + 1] * g->n[a + 1];
    int rc = lib_tables_make(lib, err);
    if (rc)
        return rc;
    size_t no = ph->norgans;
    out->organs = calloc(no ? no : 1, sizeof *out->organs);
    /* Per organ: the multilinear sum, the statistical variance, and the
     * correction of each axis. */
    double *acc = calloc((2 + 2 * HM_DOSE_NAXES) * (no ? no : 1), sizeof *acc);
    if (!out->organs || !acc) {
        free(out->organs);
        free(acc);
        out->organs = NULL;
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    double *lin = acc, *var = acc + no, *corr = acc + 2 * no, *disc = corr + (size_t)HM_DOSE_NAXES * no;
    out->n = no;
    memcpy(out->organs, ph->proto, no * sizeof *out->organs);
    /* Corner c: bit a set = the upper index on axis a (one-point axes only
     * take corner bit 0). */
    for (unsigned c = 0; c < (1u << HM_DOSE_NAXES); c++) {
        double w = 1, fw[HM_DOSE_NAXES];
        size_t node = 0;
        int skip = 0;
        for (int a = 0; a < HM_DOSE_NAXES && !skip; a++) {
            int up = (c >> a) & 1;
            if (up && g->n[a] == 1) {
                skip = 1;
                break;
            }
            fw[a] = up ? t[a] : 1 - t[a];
            w *= fw[a];
            node += (up ? i1[a] : i0[a]) * stride[a];
        }
        if (skip || w == 0)
            continue;
        /* The disagreement along axis a, once per pair of corners (the lower
         * one on a), weighted by the other axes. */
        for (int a = 0; a < HM_DOSE_NAXES; a++) {
            if (!dis[a] || ((c >> a) & 1))
                continue;
            double wo = 1;
            for (int b = 0; b < HM_DOSE_NAXES; b++)
                if (b != a)
                    wo *= fw[b];
            size_t base = node - i0[a] * stride[a];
            const double *h0 = &ph->d2[a][(base + c0[a] * stride[a]) * no];
            const double *h1 = &ph->d2[a][(base + c1[a] * stride[a]) * no];
            /* A bound per line of corners, so summed in magnitude: signed,
             * the other axes' corners could cancel it. */
            double *da = disc + (size_t)a * no, wq = wo * fabs(q[a]);
            for (size_t k = 0; k < no; k++)
                da[k] += wq * fabs(h1[k] - h0[k]);
        }
        const double *d = &ph->dose[node * no], *s = &ph->sigma[node * no];
        for (size_t k = 0; k < no; k++) {
            lin[k] += w * d[k];
            var[k] += w * w * s[k] * s[k];
        }
        for (int a = 0; a < HM_DOSE_NAXES; a++) {
            if (q[a] == 0)
                continue;
            double *ca = corr + (size_t)a * no, wq = w * q[a];
            const double *dd = &ph->d2[a][node * no];
            for (size_t k = 0; k < no; k++)
                ca[k] += wq * dd[k];
        }
    }
    for (size_t k = 0; k < no; k++) {
        double dose = lin[k], vm = 0;
        for (int a = 0; a < HM_DOSE_NAXES; a++)
            if (q[a] != 0) {
                double ck = corr[(size_t)a * no + k], dk = disc[(size_t)a * no + k];
                dose += ck;
                vm += ck * ck + dk * dk;
            }
        /* The cross-validation term (library_loo.c), at the lookup's
         * spacing, on the axes where the point is off-node. */
        double rel2 = 0;
        for (int a = 0; a < HM_DOSE_NAXES; a++)
            if (ph->loo[a] && t[a] > 0 && t[a] < 1)
                rel2 += ph->loo[a][k] * (1 + (1 - t[a]) * (1 - t[a]) + t[a] * t[a]);
        double v = var[k] + vm + rel2 * fmax(dose, 0) * fmax(dose, 0);
        /* A correction overshooting below zero (an organ at the field's
         * edge): no dose, with the correction's size as its error. */
        out->organs[k].dose_mgy_per_gy_cm2 = fmax(dose, 0);
        out->organs[k].sigma_mgy_per_gy_cm2 = sqrt(v);
    }
    free(acc);
    out->histories = lib->info.histories_per_node;
    if (out_of_grid)
        *out_of_grid = flags;
    return HM_OK;
}
