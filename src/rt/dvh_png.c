/*
 * dvh_png.c — cumulative DVHs of a course as one PNG (`harmonic rt show
 * --png`): volume in % of each ROI against dose, as treatment planning
 * systems and dicompyler draw them, one colour per ROI with a legend.
 */
#include "hm_rt.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>

/* A qualitative palette (Okabe & Ito 2008, colour-blind safe), cycled. */
static const double PALETTE[8][3] = {
    { 0.90, 0.62, 0.00 }, { 0.34, 0.71, 0.91 }, { 0.00, 0.62, 0.45 }, { 0.94, 0.89, 0.26 },
    { 0.00, 0.45, 0.70 }, { 0.84, 0.37, 0.00 }, { 0.80, 0.47, 0.65 }, { 0.00, 0.00, 0.00 },
};

/* A round step for axis ticks: 1, 2 or 5 times a power of ten. */
static double nice_step(double range, int ticks)
{
    double raw = range / ticks, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

int hm_rt_dvh_plot_png(const hm_rt_dvh *const *dvh, const char *const *names, int n, const char *png,
                       const char *title, hm_error *err)
{
    double dmax = 0;
    for (int i = 0; i < n; i++)
        if (dvh[i]->max_gy > dmax)
            dmax = dvh[i]->max_gy;
    if (!(dmax > 0))
        dmax = 1;
    const int W = 900, H = 560, L = 70, R = 230, T = 50, B = 55;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *c = cairo_create(s);
    cairo_set_source_rgb(c, 1, 1, 1);
    cairo_paint(c);
    double step = nice_step(dmax, 8), x1 = ceil(dmax / step) * step;
#define PX(x) (L + (x) / x1 * (W - L - R))
#define PY(y) (H - B - (y) / 100.0 * (H - T - B))
    cairo_select_font_face(c, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(c, 12);
    char lab[64];
    cairo_set_line_width(c, 1);
    for (int y = 0; y <= 100; y += 20) {
        cairo_set_source_rgb(c, 0.88, 0.88, 0.88);
        cairo_move_to(c, L, PY(y));
        cairo_line_to(c, W - R, PY(y));
        cairo_stroke(c);
        cairo_set_source_rgb(c, 0, 0, 0);
        snprintf(lab, sizeof lab, "%d", y);
        cairo_move_to(c, L - 28, PY(y) + 4);
        cairo_show_text(c, lab);
    }
    for (double x = 0; x <= x1 + 1e-9; x += step) {
        cairo_set_source_rgb(c, 0.88, 0.88, 0.88);
        cairo_move_to(c, PX(x), T);
        cairo_line_to(c, PX(x), H - B);
        cairo_stroke(c);
        cairo_set_source_rgb(c, 0, 0, 0);
        snprintf(lab, sizeof lab, "%g", x);
        cairo_move_to(c, PX(x) - 8, H - B + 18);
        cairo_show_text(c, lab);
    }
    cairo_rectangle(c, L, T, W - L - R, H - T - B);
    cairo_stroke(c);
    cairo_move_to(c, L + (W - L - R) / 2 - 30, H - 15);
    cairo_show_text(c, "dose (Gy)");
    cairo_save(c);
    cairo_move_to(c, 22, H - B - 120);
    cairo_rotate(c, -1.57079632679489662);   /* -pi/2: vertical text */
    cairo_show_text(c, "volume receiving at least the dose (%)");
    cairo_restore(c);
    cairo_set_font_size(c, 15);
    cairo_move_to(c, L, 30);
    cairo_show_text(c, title ? title : "cumulative DVH");
    cairo_set_font_size(c, 12);
    for (int i = 0; i < n; i++) {
        const hm_rt_dvh *d = dvh[i];
        const double *col = PALETTE[i % 8];
        cairo_set_source_rgb(c, col[0], col[1], col[2]);
        cairo_set_line_width(c, i < 8 ? 2 : 1);
        if (d->volume_cc > 0 && d->n_bins > 0) {
            for (int b = 0; b < d->n_bins; b++) {
                double x = b * d->dvh_bin_gy, y = 100 * d->cum_cc[b] / d->volume_cc;
                if (b == 0)
                    cairo_move_to(c, PX(x), PY(y));
                else
                    cairo_line_to(c, PX(x), PY(y));
            }
            cairo_line_to(c, PX(d->n_bins * d->dvh_bin_gy), PY(0));
            cairo_stroke(c);
        }
        if (i < 30) {
            double ly = T + 10 + 16 * i;
            cairo_move_to(c, W - R + 12, ly);
            cairo_line_to(c, W - R + 32, ly);
            cairo_stroke(c);
            cairo_set_source_rgb(c, 0, 0, 0);
            snprintf(lab, sizeof lab, "%.28s", names && names[i] ? names[i] : "?");
            cairo_move_to(c, W - R + 38, ly + 4);
            cairo_show_text(c, lab);
        }
    }
#undef PX
#undef PY
    cairo_destroy(c);
    cairo_status_t st = cairo_surface_write_to_png(s, png);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS)
        return hm_error_set(err, HM_EIO, png, 0, NULL, "cannot write the PNG: %s",
                            cairo_status_to_string(st));
    return HM_OK;
}
