/*
 * geom.c — the solid model of the built-in phantoms: exterior (trunk, head,
 * legs), organ solids, point classification, landmarks and patient scaling.
 *
 * Exterior as in the Cristy–Eckerman phantoms (ORNL/TM-8381): an elliptical
 * cylinder trunk (semi-axes A_T, B_T, height C_T, base at z = 0); a head
 * (with neck) made of an elliptical cylinder of height C_H1 topped by a
 * half-ellipsoid of height C_H2; two legs below z = 0, each an elliptical
 * cross-section centred at x = ±A_T/2 that tapers linearly from (A_T/2, B_T) at
 * the hip to a fraction of it at the foot (a truncated elliptical cone).
 */
#include "ph_internal.h"

#include <math.h>
#include <string.h>

static void frame_map(const hm_phantom *p, int frame, const double u[3], const double a[3],
                      double c[3], double ax[3])
{
    const ph_exterior *e = &p->ex;
    switch (frame) {
    case FR_HEAD:
        c[0] = u[0] * e->a_h; c[1] = u[1] * e->b_h; c[2] = e->c_t + u[2] * e->head_h;
        ax[0] = a[0] * e->a_h; ax[1] = a[1] * e->b_h; ax[2] = a[2] * e->head_h;
        break;
    case FR_LEGS:
        c[0] = u[0] * e->a_t; c[1] = u[1] * e->b_t; c[2] = -u[2] * e->c_l;
        ax[0] = a[0] * e->a_t; ax[1] = a[1] * e->b_t; ax[2] = a[2] * e->c_l;
        break;
    default:
        c[0] = u[0] * e->a_t; c[1] = u[1] * e->b_t; c[2] = u[2] * e->c_t;
        ax[0] = a[0] * e->a_t; ax[1] = a[1] * e->b_t; ax[2] = a[2] * e->c_t;
        break;
    }
}

/* Turns the normalised layout and the fitted group scales into solids in cm. */
void ph_resolve(hm_phantom *p)
{
    for (int i = 0; i < p->nsolids; i++) {
        ph_solid *s = &p->solids[i];
        double k = s->group >= 0 ? p->groups[s->group].k : 1.0;
        frame_map(p, s->frame, s->c0, s->a0, s->c, s->a);
        if (s->shape == SH_ELLSHELL || s->shape == SH_ECYLSHELL) {
            s->f = s->f0 * k;
            if (s->f > 0.95)
                s->f = 0.95;
        } else {
            for (int d = 0; d < 3; d++)
                s->a[d] *= k;
        }
        for (int d = 0; d < 3; d++) {
            s->lo[d] = s->c[d] - s->a[d];
            s->hi[d] = s->c[d] + s->a[d];
        }
        /* Clips narrow the box along y and z. */
        double ylo = s->c[1] + s->clip[0] * s->a[1], yhi = s->c[1] + s->clip[1] * s->a[1];
        double zlo = s->c[2] + s->clip[2] * s->a[2], zhi = s->c[2] + s->clip[3] * s->a[2];
        if (ylo > s->lo[1]) s->lo[1] = ylo;
        if (yhi < s->hi[1]) s->hi[1] = yhi;
        if (zlo > s->lo[2]) s->lo[2] = zlo;
        if (zhi < s->hi[2]) s->hi[2] = zhi;
    }
}

int ph_solid_contains(const ph_solid *s, const double q[3])
{
    for (int d = 0; d < 3; d++)
        if (q[d] < s->lo[d] || q[d] > s->hi[d])
            return 0;
    double tx = (q[0] - s->c[0]) / s->a[0];
    double ty = (q[1] - s->c[1]) / s->a[1];
    double tz = (q[2] - s->c[2]) / s->a[2];
    if (ty < s->clip[0] || ty > s->clip[1] || tz < s->clip[2] || tz > s->clip[3])
        return 0;
    double g = 1.0 - s->f;
    switch (s->shape) {
    case SH_ELLIPSOID:
        return tx * tx + ty * ty + tz * tz <= 1.0;
    case SH_ECYL:
        return tx * tx + ty * ty <= 1.0;           /* |tz| <= 1 by the box */
    case SH_ECYLX:
        return ty * ty + tz * tz <= 1.0;
    case SH_ELLSHELL: {
        double r2 = tx * tx + ty * ty + tz * tz;
        return r2 <= 1.0 && r2 > g * g;
    }
    case SH_ECYLSHELL: {
        double r2 = tx * tx + ty * ty;
        return r2 <= 1.0 && r2 > g * g;
    }
    }
    return 0;
}

/* Inside the exterior shrunk by `shrink_cm` laterally (and at the top of the
 * head): shrink 0 is the body, shrink = skin thickness its inner surface. */
int ph_in_body(const hm_phantom *p, const double q[3], double t)
{
    const ph_exterior *e = &p->ex;
    double x = q[0], y = q[1], z = q[2];
    if (z >= 0 && z <= e->c_t) {
        double a = e->a_t - t, b = e->b_t - t;
        return (x / a) * (x / a) + (y / b) * (y / b) <= 1.0;
    }
    double ch1 = e->head_h * (1.0 - e->cap_frac), ch2 = e->head_h * e->cap_frac;
    if (z > e->c_t && z <= e->c_t + e->head_h) {
        double a = e->a_h - t, b = e->b_h - t;
        double r2 = (x / a) * (x / a) + (y / b) * (y / b);
        if (z <= e->c_t + ch1)
            return r2 <= 1.0;
        double w = (z - e->c_t - ch1) / (ch2 - t);
        return r2 + w * w <= 1.0;
    }
    if (z < 0 && z >= -e->c_l) {
        double g = 1.0 - (1.0 - e->foot_frac) * (-z / e->c_l);
        double lx = g * e->a_t / 2 - t, ly = g * e->b_t - t;
        double dx = fabs(x) - e->a_t / 2;
        return (dx / lx) * (dx / lx) + (y / ly) * (y / ly) <= 1.0;
    }
    return 0;
}

int ph_classify(const hm_phantom *p, const double q[3], int *solid_out)
{
    int body = ph_in_body(p, q, 0.0);
    if (solid_out)
        *solid_out = -1;
    if (body && !ph_in_body(p, q, p->ex.skin_cm)) {
        /* In the skin layer, unless an external solid (breast) covers it. */
        int ext = 0;
        for (int i = 0; i < p->nsolids && !ext; i++)
            ext = p->solids[i].ext && ph_solid_contains(&p->solids[i], q);
        if (!ext)
            return p->r_skin;
    }
    for (int i = 0; i < p->nsolids; i++) {
        const ph_solid *s = &p->solids[i];
        if ((body || s->ext) && ph_solid_contains(s, q)) {
            if (solid_out)
                *solid_out = i;
            return s->region;
        }
    }
    if (!body)
        return 0;
    return q[2] > p->ex.c_t ? p->r_soft_head : q[2] < 0 ? p->r_soft_legs : p->r_soft_trunk;
}

void ph_body_box(const hm_phantom *p, double lo[3], double hi[3])
{
    const ph_exterior *e = &p->ex;
    double ax = fmax(e->a_t, e->a_h), by = fmax(e->b_t, e->b_h);
    lo[0] = -ax; hi[0] = ax;
    lo[1] = -by; hi[1] = by;
    lo[2] = -e->c_l; hi[2] = e->c_t + e->head_h;
    for (int i = 0; i < p->nsolids; i++)
        if (p->solids[i].ext)
            for (int d = 0; d < 3; d++) {
                if (p->solids[i].lo[d] < lo[d]) lo[d] = p->solids[i].lo[d];
                if (p->solids[i].hi[d] > hi[d]) hi[d] = p->solids[i].hi[d];
            }
}

void hm_phantom_bounds(const hm_phantom *p, double lo[3], double hi[3])
{
    ph_body_box(p, lo, hi);
}

int hm_phantom_region_at(const hm_phantom *p, const double pt[3])
{
    return ph_classify(p, pt, NULL);
}

int hm_phantom_heart_centre(const hm_phantom *p, double c[3])
{
    for (int i = 0; i < p->nsolids; i++)
        if (!strcmp(p->regions[p->solids[i].region].name, "heart_wall")) {
            memcpy(c, p->solids[i].c, sizeof(double) * 3);
            return HM_OK;
        }
    return HM_ENOTFOUND;
}

int hm_phantom_skin_entrance(const hm_phantom *p, const double from[3], const double dir[3],
                             double out[3], hm_error *err)
{
    double n = sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
    if (!(n > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "direction", "direction must be non-zero");
    double d[3] = { dir[0] / n, dir[1] / n, dir[2] / n }, q[3];
    /* March in 0.5 mm steps (thinner than any exterior feature), then bisect. */
    const double step = 0.05;
    for (int i = 0; i < 20000; i++) {
        double t = i * step;
        for (int k = 0; k < 3; k++)
            q[k] = from[k] + t * d[k];
        if (ph_classify(p, q, NULL)) {
            double a = t - step, b = t;
            for (int it = 0; it < 30; it++) {
                double m = 0.5 * (a + b), r[3];
                for (int k = 0; k < 3; k++)
                    r[k] = from[k] + m * d[k];
                if (ph_classify(p, r, NULL)) b = m; else a = m;
            }
            for (int k = 0; k < 3; k++)
                out[k] = from[k] + b * d[k];
            return HM_OK;
        }
    }
    return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "direction", "the ray misses the phantom");
}

int hm_phantom_scale(hm_phantom *p, double height_cm, double mass_kg, hm_error *err)
{
    if (!(height_cm > 20 && height_cm < 250))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "height_cm", "height %g cm out of range 20..250", height_cm);
    if (!(mass_kg > 0.5 && mass_kg < 300))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "mass_kg", "mass %g kg out of range 0.5..300", mass_kg);
    /* PCXMC (Tapiovaara & Siiskonen 2008, STUK-A231, section 2.2): lengths along
     * z scale with h = H/H_ref, the cross-section with sqrt(w/h), w = M/M_ref,
     * so that the volume (and mass) scales with w. Applied relative to the
     * current scaling, from the reference phantom. */
    double h_ref = p->ex.height_cm / p->sz, m_ref = hm_phantom_mass_kg(p) / (p->sx * p->sy * p->sz);
    double h = height_cm / h_ref, w = mass_kg / m_ref, xy = sqrt(w / h);
    double fx = xy / p->sx, fz = h / p->sz;
    ph_exterior *e = &p->ex;
    e->a_t *= fx; e->b_t *= fx; e->a_h *= fx; e->b_h *= fx;
    e->c_t *= fz; e->c_l *= fz; e->head_h *= fz; e->height_cm *= fz;
    p->sx = p->sy = xy;
    p->sz = h;
    ph_resolve(p);
    p->param_hash = ph_fnv1a(p->param_hash, &xy, sizeof xy);
    p->param_hash = ph_fnv1a(p->param_hash, &h, sizeof h);
    ph_region_masses(p);
    return HM_OK;
}
