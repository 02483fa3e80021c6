/*
 * skin_png.c — the skin dose map as a picture (cairo, PNG), laid out as
 * openSkin shows it: the body surface unwrapped, the anterior half seen from
 * the front (the patient's right on the left) and the posterior half seen
 * from behind (the patient's left on the left), height up, a colour scale in
 * mGy and the peak skin dose marked.
 */
#include "skin_internal.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define W ((double)HM_SKIN_PNG_WIDTH)
#define H ((double)HM_SKIN_PNG_HEIGHT)
#define ML 70.0      /* left margin: height axis */
#define MT 80.0      /* top: title, panel names */
#define MB 50.0      /* bottom: angles, R/L labels */
#define GAP 50.0     /* between the panels */
#define BAR 130.0    /* right: colour scale */

static const double PI = 3.14159265358979323846;

/* A "jet" colour scale (blue - cyan - yellow - red), t in [0, 1]. */
static void colour(double t, double rgb[3])
{
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double c[3] = { 4 * t - 3, 4 * t - 2, 4 * t - 1 };
    for (int k = 0; k < 3; k++) {
        double v = 1.5 - fabs(c[k]);
        rgb[k] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
}

static void text(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - ax * e.width - e.x_bearing, y + ay * e.height);
    cairo_show_text(cr, s);
}

static double tick_step(double span, int n)
{
    double raw = span / n, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* Angle column of panel column j: anterior from -90 to +90 degrees,
 * posterior from +90 through 180 to -90. */
static int column(const hm_skin_map *m, int back, int j)
{
    return back ? (3 * m->na / 4 + j) % m->na : m->na / 4 + j;
}

static void draw(cairo_t *cr, const hm_skin_map *m, const char *title)
{
    double psd, where[3];
    hm_skin_map_peak(m, &psd, where);
    double vmax = psd > 0 ? psd : 1;
    int half = m->na / 2;
    /* Cells fill the panels: angle across (degrees), height up (cm). */
    double px = (W - ML - GAP - BAR) / (2.0 * half), py = (H - MT - MB) / m->nh;
    double pw = px * half, ph = py * m->nh;
    double x0[2] = { ML, ML + pw + GAP }, y0 = MT;

    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 17);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, W / 2, 26, title && *title ? title : "Skin dose map", 0.5, 0.5);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 13);
    char buf[160];
    hm_skin_grid g;
    hm_skin_map_grid(m, &g);
    snprintf(buf, sizeof buf, "peak skin dose %.4g mGy   (%d events, total K_rp %.4g mGy, cells %.3g cm)",
             psd, g.events, g.k_rp_total_mgy, m->cell_cm);
    text(cr, W / 2, 48, buf, 0.5, 0.5);

    int peak_ia = -1, peak_ih = -1;
    for (int ih = 0; ih < m->nh && psd > 0; ih++)
        for (int ia = 0; ia < m->na; ia++) {
            size_t k = (size_t)ih * m->na + ia;
            if (m->has[k] && m->dose_mgy[k] == psd && peak_ia < 0) {
                peak_ia = ia;
                peak_ih = ih;
            }
        }
    for (int back = 0; back < 2; back++) {
        for (int ih = 0; ih < m->nh; ih++)
            for (int j = 0; j < half; j++) {
                size_t k = (size_t)ih * m->na + column(m, back, j);
                if (!m->has[k])
                    continue;
                double rgb[3] = { 0.86, 0.86, 0.86 };
                if (m->dose_mgy[k] > 0)
                    colour(m->dose_mgy[k] / vmax, rgb);
                cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
                /* A hair wider than the cell, so that no seams show. */
                cairo_rectangle(cr, x0[back] + j * px, y0 + (m->nh - 1 - ih) * py, px + 0.5, py + 0.5);
                cairo_fill(cr);
            }
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        cairo_set_line_width(cr, 1);
        cairo_rectangle(cr, x0[back], y0, pw, ph);
        cairo_stroke(cr);
        /* The sides (+-90 degrees) and the midline. */
        cairo_set_source_rgba(cr, 0.3, 0.3, 0.3, 0.5);
        cairo_move_to(cr, x0[back] + pw / 2, y0);
        cairo_line_to(cr, x0[back] + pw / 2, y0 + ph);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text(cr, x0[back] + pw / 2, y0 - 14, back ? "Posterior (seen from behind)" : "Anterior (seen from the front)", 0.5, 0.5);
        /* Angle ticks every 45 degrees, then where they are on the body. */
        static const char *const ang[2][5] = { { "-90", "-45", "0", "45", "90" },
                                               { "90", "135", "180", "-135", "-90" } };
        static const char *const side[2][3] = { { "R", "midline", "L" }, { "L", "spine", "R" } };
        for (int t = 0; t < 5; t++) {
            double x = x0[back] + t * pw / 4;
            cairo_move_to(cr, x, y0 + ph);
            cairo_line_to(cr, x, y0 + ph + 4);
            cairo_stroke(cr);
            text(cr, x, y0 + ph + 13, ang[back][t], 0.5, 0.5);
        }
        for (int t = 0; t < 3; t++)
            text(cr, x0[back] + t * pw / 2, y0 + ph + 31, side[back][t], 0.5, 0.5);
        if (peak_ia >= 0) {
            for (int j = 0; j < half; j++)
                if (column(m, back, j) == peak_ia) {
                    cairo_set_source_rgb(cr, 0, 0, 0);
                    cairo_set_line_width(cr, 2);
                    cairo_new_path(cr);
                    cairo_arc(cr, x0[back] + (j + 0.5) * px, y0 + (m->nh - 0.5 - peak_ih) * py,
                              fmax(7, 1.5 * fmax(px, py)), 0, 2 * PI);
                    cairo_stroke(cr);
                }
        }
    }
    /* Height axis (phantom z, cm). */
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    double span = m->nh * m->cell_cm, st = tick_step(span, 8);
    for (double z = ceil(m->z0_cm / st) * st; z <= m->z0_cm + span + 1e-9; z += st) {
        double y = y0 + ph - (z - m->z0_cm) / m->cell_cm * py;
        cairo_move_to(cr, ML - 5, y);
        cairo_line_to(cr, ML, y);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%g", z);
        text(cr, ML - 8, y, buf, 1, 0.5);
    }
    cairo_save(cr);
    cairo_translate(cr, 16, y0 + ph / 2);
    cairo_rotate(cr, -PI / 2);
    text(cr, 0, 0, "height (cm)", 0.5, 0.5);
    cairo_restore(cr);
    /* Colour scale. */
    double bx = W - BAR + 30, bw = 22, by = y0, bh = ph;
    for (int i = 0; i < 200; i++) {
        double rgb[3];
        colour((i + 0.5) / 200, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, bx, by + bh - (i + 1) * bh / 200, bw, bh / 200 + 0.5);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_stroke(cr);
    double vs = tick_step(vmax, 6);
    for (double t = 0; t <= vmax * (1 + 1e-9); t += vs) {
        double y = by + bh - t / vmax * bh;
        cairo_move_to(cr, bx + bw, y);
        cairo_line_to(cr, bx + bw + 5, y);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%g", t);
        text(cr, bx + bw + 8, y, buf, 0, 0.5);
    }
    text(cr, bx + bw / 2, by - 14, "mGy", 0.5, 0.5);
    cairo_set_source_rgb(cr, 0.86, 0.86, 0.86);
    cairo_rectangle(cr, bx, by + bh + 12, bw, 12);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, bx + bw + 6, by + bh + 18, "0 (skin)", 0, 0.5);
}

int hm_skin_map_write_png(const hm_skin_map *m, const char *path, const char *title,
                          hm_error *err)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, HM_SKIN_PNG_WIDTH,
                                                    HM_SKIN_PNG_HEIGHT);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "cannot create the image");
    }
    cairo_t *cr = cairo_create(s);
    draw(cr, m, title);
    cairo_destroy(cr);
    cairo_status_t st = cairo_surface_write_to_png(s, path);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write the PNG: %s",
                            cairo_status_to_string(st));
    return HM_OK;
}
