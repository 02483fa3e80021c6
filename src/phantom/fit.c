/*
 * fit.c — fitting the built-in phantom to its reference masses, and mass
 * integration.
 *
 * Volumes are integrated by quasi-Monte Carlo: the Halton sequence (bases 2, 3,
 * 5; Halton 1960, Numer. Math. 2:84) over a bounding box, counting points the
 * classifier gives to the region.  That is exact geometry (no voxels), handles
 * the "first solid wins" overlaps and the clipping by the body surface, and is
 * deterministic.
 *
 * Fit (docs/phantoms.md): (1) the trunk's lateral semi-axis A_T (B_T follows by
 * the age's aspect ratio, organ positions follow the frame) so that the total
 * mass equals the ICRP 89 body mass; (2) the skin thickness so that the skin
 * mass matches; (3) each organ group's scale k (semi-axes x k; shells: thickness
 * x k) so its mass matches, in layout order, by a secant iteration on
 * ln(mass) against ln(k).  Two rounds, since the exterior fit sees the organs'
 * densities.
 */
#include "ph_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double radical_inverse(uint32_t i, uint32_t base)
{
    double f = 1.0, r = 0.0;
    while (i) {
        f /= base;
        r += f * (double)(i % base);
        i /= base;
    }
    return r;
}

void ph_halton(uint32_t i, double u[3])
{
    u[0] = radical_inverse(i + 1, 2);
    u[1] = radical_inverse(i + 1, 3);
    u[2] = radical_inverse(i + 1, 5);
}

static double box_volume(const double lo[3], const double hi[3])
{
    double v = 1;
    for (int d = 0; d < 3; d++)
        v *= hi[d] > lo[d] ? hi[d] - lo[d] : 0;
    return v;
}

/* Mass (g) of a fit group (g >= 0), of the skin (g == -2) or of the whole
 * body (g == -1), with n sample points. */
static double group_mass(const hm_phantom *p, int g, uint32_t n)
{
    double lo[3], hi[3];
    ph_body_box(p, lo, hi);
    if (g >= 0) {
        double glo[3] = { 1e30, 1e30, 1e30 }, ghi[3] = { -1e30, -1e30, -1e30 };
        for (int i = 0; i < p->nsolids; i++)
            if (p->solids[i].group == g)
                for (int d = 0; d < 3; d++) {
                    glo[d] = fmin(glo[d], p->solids[i].lo[d]);
                    ghi[d] = fmax(ghi[d], p->solids[i].hi[d]);
                }
        for (int d = 0; d < 3; d++) {
            lo[d] = fmax(lo[d], glo[d]);
            hi[d] = fmin(hi[d], ghi[d]);
        }
    }
    double vol = box_volume(lo, hi);
    if (vol <= 0)
        return 0;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        double u[3], q[3];
        ph_halton(i, u);
        for (int d = 0; d < 3; d++)
            q[d] = lo[d] + u[d] * (hi[d] - lo[d]);
        int s, r = ph_classify(p, q, &s);
        if (!r)
            continue;
        if (g == -1 || (g == -2 && r == p->r_skin) || (g >= 0 && s >= 0 && p->solids[s].group == g))
            sum += p->regions[r].density_g_cm3;
    }
    return sum * vol / n;
}

static double mass_at(hm_phantom *p, int g, double k, uint32_t n)
{
    p->groups[g].k = k;
    ph_resolve(p);
    return group_mass(p, g, n);
}

/* Mass grows with k (semi-axes or shell thickness): bracket the target, then
 * regula falsi (Illinois variant) on ln k. */
static int fit_group(hm_phantom *p, int g, uint32_t n, hm_error *err)
{
    ph_group *gr = &p->groups[g];
    const double target = gr->target_g;
    double k = gr->k > 0 ? gr->k : 1.0, m = mass_at(p, g, k, n);
    double klo, mlo, khi, mhi;
    if (fabs(m / target - 1) < 0.002)
        return HM_OK;
    if (m < target) {
        klo = k; mlo = m;
        for (khi = k * 1.25;; khi *= 1.25) {
            mhi = mass_at(p, g, khi, n);
            if (mhi >= target) break;
            klo = khi; mlo = mhi;
            if (khi > 40 * k)
                return hm_error_set(err, HM_ENUMERIC, "phantoms/layout.csv", 0, gr->name,
                                    "organ group '%s' cannot reach %g g at age %s (%.3g g)",
                                    gr->name, target, p->age, mhi);
        }
    } else {
        khi = k; mhi = m;
        for (klo = k / 1.25;; klo /= 1.25) {
            mlo = mass_at(p, g, klo, n);
            if (mlo <= target) break;
            khi = klo; mhi = mlo;
            if (klo < k / 40)
                return hm_error_set(err, HM_ENUMERIC, "phantoms/layout.csv", 0, gr->name,
                                    "organ group '%s' cannot shrink to %g g at age %s", gr->name, target, p->age);
        }
    }
    double flo = mlo - target, fhi = mhi - target;
    int side = 0;
    for (int it = 0; it < 30; it++) {
        double xlo = log(klo), xhi = log(khi);
        double x = (fhi - flo) != 0 ? xlo - flo * (xhi - xlo) / (fhi - flo) : 0.5 * (xlo + xhi);
        if (!(x > xlo && x < xhi))
            x = 0.5 * (xlo + xhi);
        double kk = exp(x), mm = mass_at(p, g, kk, n), f = mm - target;
        if (fabs(mm / target - 1) < 0.002)
            return HM_OK;
        if (f < 0) {
            klo = kk; flo = f;
            if (side == -1) fhi /= 2;
            side = -1;
        } else {
            khi = kk; fhi = f;
            if (side == 1) flo /= 2;
            side = 1;
        }
    }
    mass_at(p, g, 0.5 * (klo + khi), n);
    return HM_OK;
}

void ph_region_masses(hm_phantom *p)
{
    /* Organs: their own bounding boxes (accurate for small ones); skin and
     * residual soft tissue: the whole body. */
    for (int r = 1; r <= p->nregions; r++)
        p->regions[r].mass_g = 0;
    for (int r = 1; r <= p->nregions; r++) {
        double lo[3] = { 1e30, 1e30, 1e30 }, hi[3] = { -1e30, -1e30, -1e30 };
        int any = 0;
        for (int i = 0; i < p->nsolids; i++)
            if (p->solids[i].region == r) {
                any = 1;
                for (int d = 0; d < 3; d++) {
                    lo[d] = fmin(lo[d], p->solids[i].lo[d]);
                    hi[d] = fmax(hi[d], p->solids[i].hi[d]);
                }
            }
        if (!any)
            continue;
        const uint32_t n = 25000;
        uint32_t hit = 0;
        for (uint32_t i = 0; i < n; i++) {
            double u[3], q[3];
            ph_halton(i, u);
            for (int d = 0; d < 3; d++)
                q[d] = lo[d] + u[d] * (hi[d] - lo[d]);
            hit += ph_classify(p, q, NULL) == r;
        }
        p->regions[r].mass_g = p->regions[r].density_g_cm3 * box_volume(lo, hi) * hit / n;
    }
    double lo[3], hi[3];
    ph_body_box(p, lo, hi);
    const uint32_t n = 250000;
    uint32_t hit[4] = { 0, 0, 0, 0 };
    int ids[4] = { p->r_skin, p->r_soft_trunk, p->r_soft_head, p->r_soft_legs };
    for (uint32_t i = 0; i < n; i++) {
        double u[3], q[3];
        ph_halton(i, u);
        for (int d = 0; d < 3; d++)
            q[d] = lo[d] + u[d] * (hi[d] - lo[d]);
        int r = ph_classify(p, q, NULL);
        for (int k = 0; k < 4; k++)
            hit[k] += r == ids[k];
    }
    for (int k = 0; k < 4; k++)
        p->regions[ids[k]].mass_g = p->regions[ids[k]].density_g_cm3 * box_volume(lo, hi) * hit[k] / n;
}

int ph_fit(hm_phantom *p, hm_error *err)
{
    int rc;
    double skin_target = -1;
    for (int g = 0; g < p->ngroups; g++)
        if (!strcmp(p->groups[g].name, "skin"))
            skin_target = p->groups[g].target_g;
    for (int round = 0; round < 2; round++) {
        uint32_t n_body = round ? 120000 : 40000, n_org = round ? 20000 : 8000;
        for (int it = 0; it < 3; it++) {
            ph_resolve(p);
            double m = group_mass(p, -1, n_body);
            double f = sqrt(p->total_target_g / m);     /* mass ~ A_T * B_T */
            p->ex.a_t *= f;
            p->ex.b_t = p->ex.a_t * p->ex.b_over_a;
        }
        ph_resolve(p);
        if (skin_target > 0)
            for (int it = 0; it < 3; it++) {
                double m = group_mass(p, -2, n_body);
                if (m > 0)
                    p->ex.skin_cm *= skin_target / m;  /* mass ~ thickness */
                if (p->ex.skin_cm > 0.5) p->ex.skin_cm = 0.5;
            }
        for (int g = 0; g < p->ngroups; g++) {
            if (!strcmp(p->groups[g].name, "skin"))
                continue;
            if ((rc = fit_group(p, g, n_org, err)))
                return rc;
        }
    }
    ph_resolve(p);
    return HM_OK;
}

int hm_phantom_mass_table(const hm_phantom *p, hm_phantom_mass_row **rows, size_t *n, hm_error *err)
{
    hm_phantom_mass_row *r = calloc((size_t)p->ngroups + 1, sizeof *r);
    if (!r)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    snprintf(r[0].group, sizeof r[0].group, "total_body");
    r[0].mass_g = group_mass(p, -1, 400000);
    r[0].ref_g = p->total_target_g;
    snprintf(r[0].kind, sizeof r[0].kind, "icrp89");
    snprintf(r[0].source, sizeof r[0].source, "ICRP 89 reference body mass (targets.csv)");
    for (int g = 0; g < p->ngroups; g++) {
        hm_phantom_mass_row *x = &r[g + 1];
        snprintf(x->group, sizeof x->group, "%s", p->groups[g].name);
        x->mass_g = !strcmp(p->groups[g].name, "skin") ? group_mass(p, -2, 400000) : group_mass(p, g, 100000);
        x->ref_g = p->groups[g].target_g;
        snprintf(x->kind, sizeof x->kind, "%s", p->groups[g].kind);
        snprintf(x->source, sizeof x->source, "%s", p->groups[g].source);
    }
    *rows = r;
    *n = (size_t)p->ngroups + 1;
    return HM_OK;
}
