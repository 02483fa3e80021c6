/*
 * source.c — photon emission: direction in the collimated field (uniform in
 * solid angle), energy from the spectrum (Walker alias table), and the
 * exact primary air kerma and kerma-area product of the beam.
 */
#include "mc_source.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void normalise(double v[3])
{
    double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    v[0] /= n; v[1] /= n; v[2] /= n;
}

/* Solid angle of the rectangle [x1,x2]x[y1,y2] on the plane at unit distance:
 * Omega = sum of F(x,y) = atan(x y / sqrt(1 + x^2 + y^2)) over the corners
 * with signs (e.g. Gardner & Verghese, Nucl Instr Meth 93:163, 1971). */
static double rect_solid_angle(double x1, double x2, double y1, double y2)
{
#define F(x, y) atan((x) * (y) / sqrt(1.0 + (x) * (x) + (y) * (y)))
    return F(x2, y2) - F(x1, y2) - F(x2, y1) + F(x1, y1);
#undef F
}

int mc_source_init(mc_source *ms, const hm_mc_source *src, const hm_mc_spectrum *spec,
                   hm_error *err)
{
    memset(ms, 0, sizeof *ms);
    ms->kind = src->kind;
    memcpy(ms->pos, src->position_cm, sizeof ms->pos);
    memcpy(ms->w, src->direction, sizeof ms->w);
    normalise(ms->w);
    double up[3] = { src->up[0], src->up[1], src->up[2] };
    double un = sqrt(up[0] * up[0] + up[1] * up[1] + up[2] * up[2]);
    if (!(un > 0)) { up[0] = 1; up[1] = 0; up[2] = 0; }
    else { up[0] /= un; up[1] /= un; up[2] /= un; }
    double dw = up[0] * ms->w[0] + up[1] * ms->w[1] + up[2] * ms->w[2];
    if (fabs(dw) > 0.999) {   /* hint parallel to the axis: pick another */
        up[0] = 0; up[1] = 1; up[2] = 0;
        dw = ms->w[1];
        if (fabs(dw) > 0.999) { up[0] = 0; up[1] = 0; up[2] = 1; dw = ms->w[2]; }
    }
    for (int k = 0; k < 3; k++) ms->u[k] = up[k] - dw * ms->w[k];
    normalise(ms->u);
    ms->v[0] = ms->w[1] * ms->u[2] - ms->w[2] * ms->u[1];
    ms->v[1] = ms->w[2] * ms->u[0] - ms->w[0] * ms->u[2];
    ms->v[2] = ms->w[0] * ms->u[1] - ms->w[1] * ms->u[0];
    ms->u0 = src->u_min_cm; ms->u1 = src->u_max_cm;
    ms->v0 = src->v_min_cm; ms->v1 = src->v_max_cm;
    double inv_cos_mean = 1.0;
    if (src->kind == HM_MC_SRC_RECT) {
        double D = src->plane_distance_cm;
        ms->x0 = ms->u0 / D; ms->x1 = ms->u1 / D;
        ms->y0 = ms->v0 / D; ms->y1 = ms->v1 / D;
        double xc = ms->x0 > 0 ? ms->x0 : ms->x1 < 0 ? ms->x1 : 0;
        double yc = ms->y0 > 0 ? ms->y0 : ms->y1 < 0 ? ms->y1 : 0;
        ms->r0 = 1.0 + xc * xc + yc * yc;
        ms->omega_sr = rect_solid_angle(ms->x0, ms->x1, ms->y0, ms->y1);
        /* <1/cos theta> = (1/Omega) int dx dy / (1 + x^2 + y^2), midpoint rule */
        const int G = 400;
        double hx = (ms->x1 - ms->x0) / G, hy = (ms->y1 - ms->y0) / G, acc = 0;
        for (int i = 0; i < G; i++)
            for (int j = 0; j < G; j++) {
                double x = ms->x0 + (i + 0.5) * hx, y = ms->y0 + (j + 0.5) * hy;
                acc += 1.0 / (1.0 + x * x + y * y);
            }
        inv_cos_mean = acc * hx * hy / ms->omega_sr;
    } else if (src->kind == HM_MC_SRC_CONE) {
        ms->cos_max = cos(src->half_angle_deg * MC_PI / 180.0);
        ms->omega_sr = 2 * MC_PI * (1 - ms->cos_max);
        inv_cos_mean = -log(ms->cos_max) / (1 - ms->cos_max);
    } else {
        ms->area_cm2 = (ms->u1 - ms->u0) * (ms->v1 - ms->v0);
    }
    /* spectrum: alias table (Walker 1977; Vose 1991 construction) */
    size_t n = spec->n;
    ms->n = n;
    ms->e = malloc(n * sizeof(double));
    ms->col = malloc(n * sizeof(mc_alias_col));
    int *small = malloc(n * sizeof(int)), *large = malloc(n * sizeof(int));
    double *p = malloc(n * sizeof(double));
    if (!ms->e || !ms->col || !small || !large || !p) {
        free(small); free(large); free(p);
        mc_source_free(ms);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    double tot = 0;
    for (size_t i = 0; i < n; i++) tot += spec->fluence[i];
    if (!(tot > 0)) {
        free(small); free(large); free(p);
        mc_source_free(ms);
        return hm_error_set(err, HM_EINVAL, NULL, 0, "spectrum", "spectrum has no photons");
    }
    ms->width = spec->bins == HM_MC_BIN_POINT ? 0.0 : spec->bin_kev;
    double off = spec->bins == HM_MC_BIN_CENTRE ? -0.5 * ms->width : 0.0;
    size_t ns = 0, nl = 0;
    for (size_t i = 0; i < n; i++) {
        ms->e[i] = spec->energy_kev[i] + off;
        p[i] = spec->fluence[i] / tot * n;
        if (p[i] < 1.0) small[ns++] = (int)i; else large[nl++] = (int)i;
    }
    while (ns && nl) {
        int s = small[--ns], l = large[--nl];
        ms->col[s].prob = p[s];
        ms->col[s].bin[1] = l;
        p[l] = (p[l] + p[s]) - 1.0;
        if (p[l] < 1.0) small[ns++] = l; else large[nl++] = l;
    }
    while (nl) { int l = large[--nl]; ms->col[l].prob = 1.0; ms->col[l].bin[1] = l; }
    while (ns) { int s = small[--ns]; ms->col[s].prob = 1.0; ms->col[s].bin[1] = s; }
    for (size_t i = 0; i < n; i++) {
        mc_alias_col *c = &ms->col[i];
        c->bin[0] = (int)i;
        c->inv[0] = c->prob > 0 ? 1.0 / c->prob : 0.0;
        c->inv[1] = c->prob < 1 ? 1.0 / (1.0 - c->prob) : 0.0;
    }
    free(small); free(large); free(p);
    /* mean E * mu_en/rho(air) per photon, keV cm2/g (8 points per bin) */
    double emu = 0, emean = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = spec->fluence[i] / tot, acc = 0, accE = 0;
        int sub = ms->width > 0 ? 8 : 1;
        for (int k = 0; k < sub; k++) {
            double e = ms->e[i] + (ms->width > 0 ? (k + 0.5) / sub * ms->width : 0);
            double muen;
            /* below 1 keV (outside the NIST table) air absorbs everything anyway */
            int rc = hm_mc_muen_air(e < 1.0 ? 1.0 : e, &muen, err);
            if (rc) { mc_source_free(ms); return rc; }
            acc += e * muen;
            accE += e;
        }
        emu += wi * acc / sub;
        emean += wi * accE / sub;
    }
    ms->emuen_kev_cm2_g = emu;
    ms->mean_kev = emean;
    /* KAP per history: (sum over photons of 1/cos) * <E mu_en/rho> */
    ms->kap_gy_cm2 = inv_cos_mean * emu * MC_KEV_TO_J * 1000.0;
    return 0;
}

void mc_source_free(mc_source *ms)
{
    free(ms->e); free(ms->col);
    ms->e = NULL; ms->col = NULL;
}

double mc_source_point_kerma(const mc_source *ms, const double p[3])
{
    double d[3] = { p[0] - ms->pos[0], p[1] - ms->pos[1], p[2] - ms->pos[2] };
    double dw = d[0] * ms->w[0] + d[1] * ms->w[1] + d[2] * ms->w[2];
    double du = d[0] * ms->u[0] + d[1] * ms->u[1] + d[2] * ms->u[2];
    double dv = d[0] * ms->v[0] + d[1] * ms->v[1] + d[2] * ms->v[2];
    double fluence = 0;   /* photons per cm2 per history, inverse square law */
    double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    if (ms->kind == HM_MC_SRC_RECT) {
        if (dw > 0) {
            double x = du / dw, y = dv / dw;
            if (x >= ms->x0 && x <= ms->x1 && y >= ms->y0 && y <= ms->y1)
                fluence = 1.0 / (ms->omega_sr * r2);
        }
    } else if (ms->kind == HM_MC_SRC_CONE) {
        if (dw > 0 && dw / sqrt(r2) >= ms->cos_max) fluence = 1.0 / (ms->omega_sr * r2);
    } else if (dw > 0 && du >= ms->u0 && du <= ms->u1 && dv >= ms->v0 && dv <= ms->v1) {
        fluence = 1.0 / ms->area_cm2;
    }
    return fluence * ms->emuen_kev_cm2_g * MC_KEV_TO_J * 1000.0;
}
