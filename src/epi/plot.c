/*
 * plot.c — the dose-response plot: relative risk by dose category (points
 * at the category's person-year-weighted mean dose, profile CIs as bars)
 * and the fitted linear ERR line 1 + beta d with its band between the
 * profile limits of beta.  Drawn with cairo to PNG or SVG.
 */
#include "hm_epi.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
#define W 800.0
#define H 560.0
#define ML 80.0
#define MR 30.0
#define MT 50.0
#define MB 70.0

/* A "nice" tick step (1, 2 or 5 x 10^k) for about n ticks over span. */
static double tick_step(double span, int n)
{
    double raw = span / n, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

typedef struct frame { double x0, x1, y0, y1; } frame;

static double px(const frame *f, double x) { return ML + (x - f->x0) / (f->x1 - f->x0) * (W - ML - MR); }
static double py(const frame *f, double y) { return H - MB - (y - f->y0) / (f->y1 - f->y0) * (H - MT - MB); }

static void text(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - ax * e.width - e.x_bearing, y + ay * e.height);
    cairo_show_text(cr, s);
}

static void draw(cairo_t *cr, const hm_epi_plot_data *d)
{
    frame f = { 0, d->dose_max_mgy > 0 ? d->dose_max_mgy * 1.05 : 1, 0, 1 };
    double ymax = 1 + fmax(0, d->beta_hi) * f.x1;
    double ymin = fmin(0.8, 1 + fmin(0, d->beta_lo) * f.x1);
    for (int k = 0; k < d->ncat; k++) {
        if (isfinite(d->cat_hi[k]))
            ymax = fmax(ymax, d->cat_hi[k]);
        ymax = fmax(ymax, d->cat_rr[k]);
        if (isfinite(d->cat_lo[k]))
            ymin = fmin(ymin, d->cat_lo[k]);
    }
    if (!isfinite(ymax) || ymax > 1e3)
        ymax = 1e3;
    f.y0 = fmax(0, ymin - 0.05 * (ymax - ymin));
    f.y1 = ymax + 0.05 * (ymax - ymin);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 13);
    /* Band and fitted line, clipped to the plot area. */
    cairo_save(cr);
    cairo_rectangle(cr, ML, MT, W - ML - MR, H - MT - MB);
    cairo_clip(cr);
    if (isfinite(d->beta_lo) && isfinite(d->beta_hi)) {
        cairo_move_to(cr, px(&f, 0), py(&f, 1));
        cairo_line_to(cr, px(&f, f.x1), py(&f, 1 + d->beta_hi * f.x1));
        cairo_line_to(cr, px(&f, f.x1), py(&f, 1 + d->beta_lo * f.x1));
        cairo_close_path(cr);
        cairo_set_source_rgba(cr, 0.2, 0.4, 0.8, 0.22);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.1, 0.3, 0.75);
    cairo_set_line_width(cr, 2.5);
    cairo_move_to(cr, px(&f, 0), py(&f, 1));
    cairo_line_to(cr, px(&f, f.x1), py(&f, 1 + d->beta * f.x1));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    cairo_set_line_width(cr, 1);
    double dash[] = { 5, 4 };
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, ML, py(&f, 1));
    cairo_line_to(cr, W - MR, py(&f, 1));
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    /* Categories: bars then points. */
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.5);
    for (int k = 0; k < d->ncat; k++) {
        double x = px(&f, d->cat_dose_mgy[k]);
        double lo = isfinite(d->cat_lo[k]) ? d->cat_lo[k] : f.y0;
        double hi = isfinite(d->cat_hi[k]) ? d->cat_hi[k] : f.y1;
        if (isfinite(d->cat_lo[k]) || isfinite(d->cat_hi[k]) || k > 0) {
            cairo_move_to(cr, x, py(&f, lo));
            cairo_line_to(cr, x, py(&f, hi));
            cairo_move_to(cr, x - 5, py(&f, lo));
            cairo_line_to(cr, x + 5, py(&f, lo));
            cairo_move_to(cr, x - 5, py(&f, hi));
            cairo_line_to(cr, x + 5, py(&f, hi));
            cairo_stroke(cr);
        }
        cairo_arc(cr, x, py(&f, d->cat_rr[k]), 5, 0, 2 * PI);
        cairo_fill(cr);
    }
    cairo_restore(cr);
    /* Axes, ticks, labels. */
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, ML, MT, W - ML - MR, H - MT - MB);
    cairo_stroke(cr);
    char buf[64];
    double sx = tick_step(f.x1 - f.x0, 8);
    for (double x = 0; x <= f.x1 + 1e-9; x += sx) {
        cairo_move_to(cr, px(&f, x), H - MB);
        cairo_line_to(cr, px(&f, x), H - MB + 5);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%g", x);
        text(cr, px(&f, x), H - MB + 20, buf, 0.5, 0);
    }
    double sy = tick_step(f.y1 - f.y0, 8);
    for (double y = ceil(f.y0 / sy) * sy; y <= f.y1 + 1e-9; y += sy) {
        cairo_move_to(cr, ML - 5, py(&f, y));
        cairo_line_to(cr, ML, py(&f, y));
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%g", y);
        text(cr, ML - 8, py(&f, y), buf, 1, 0.5);
    }
    text(cr, ML + (W - ML - MR) / 2, H - 22, "cumulative lagged organ dose (mGy)", 0.5, 0);
    cairo_save(cr);
    cairo_translate(cr, 22, MT + (H - MT - MB) / 2);
    cairo_rotate(cr, -PI / 2);
    text(cr, 0, 0, "relative risk", 0.5, 0);
    cairo_restore(cr);
    cairo_set_font_size(cr, 15);
    text(cr, W / 2, 28, d->title[0] ? d->title : "dose-response", 0.5, 0);
    cairo_set_font_size(cr, 12);
    snprintf(buf, sizeof buf, "ERR/100 mGy = %.3g (%.3g, %.3g)", 100 * d->beta, 100 * d->beta_lo,
             100 * d->beta_hi);
    text(cr, ML + 12, MT + 20, buf, 0, 0);
    text(cr, ML + 12, MT + 38, "points: categories (95% CI); line and band: linear ERR", 0, 0);
}

int hm_epi_plot(const hm_epi_plot_data *d, const char *path, const char *format, hm_error *err)
{
    const char *dot = strrchr(path, '.');
    if (!format)
        format = dot ? dot + 1 : "png";
    int svg = !strcmp(format, "svg");
    if (!svg && strcmp(format, "png"))
        return hm_error_set(err, HM_EINVAL, path, 0, "format", "expected png or svg, found '%s'", format);
    cairo_surface_t *s = svg ? cairo_svg_surface_create(path, W, H)
                             : cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)W, (int)H);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create the plot file");
    }
    cairo_t *cr = cairo_create(s);
    draw(cr, d);
    cairo_destroy(cr);
    cairo_status_t st = CAIRO_STATUS_SUCCESS;
    if (!svg)
        st = cairo_surface_write_to_png(s, path);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "writing the plot failed: %s", cairo_status_to_string(st));
    return HM_OK;
}

int hm_epi_plot_prepare(const hm_epi_table *t, const char *base_model, const char *cat_col,
                        const char *dose_col, hm_epi_plot_data *d, hm_error *err)
{
    memset(d, 0, sizeof *d);
    char model[1024];
    hm_epi_model m;
    int rc = hm_epi_model_parse(base_model, t, &m, err);
    if (rc < 0)
        return rc;
    if (m.nx)
        return hm_error_set(err, HM_EINVAL, "model", 0, NULL, "the base model must not have an excess term");
    int cp = hm_epi_table_col(t, m.pyr), cd = hm_epi_table_col(t, dose_col), cc = hm_epi_table_col(t, cat_col);
    if (cp < 0 || cd < 0 || cc < 0)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, cp < 0 ? m.pyr : cd < 0 ? dose_col : cat_col,
                            "column not found");
    hm_epi_fit fit;
    snprintf(model, sizeof model, "%s + cat(%s)", base_model, cat_col);
    if ((rc = hm_epi_fit_text(t, model, NULL, &fit, err)) < 0)
        return rc;
    hm_epi_model mc;
    if ((rc = hm_epi_model_parse(model, t, &mc, err)) < 0)
        return rc;
    /* Category doses: PY-weighted mean of the dose column per level. */
    d->ncat = mc.nx + 1;
    double lv[HM_EPI_MAXTERMS + 1];
    lv[0] = -INFINITY;
    for (int k = 0; k < mc.nx; k++)
        lv[k + 1] = mc.xval[k];
    double minv = INFINITY;
    for (size_t r = 0; r < t->nrows; r++)
        minv = fmin(minv, t->cols[cc][r]);
    lv[0] = minv;
    for (int k = 0; k < d->ncat; k++) {
        double s = 0, w = 0;
        for (size_t r = 0; r < t->nrows; r++)
            if (t->cols[cc][r] == lv[k]) {
                s += t->cols[cp][r] * t->cols[cd][r];
                w += t->cols[cp][r];
            }
        d->cat_dose_mgy[k] = w > 0 ? s / w : 0;
        if (k == 0) {
            d->cat_rr[0] = 1;
            d->cat_lo[0] = d->cat_hi[0] = NAN;
        } else {
            const hm_epi_param *q = &fit.p[mc.nz + k - 1];
            d->cat_rr[k] = 1 + q->est;
            d->cat_lo[k] = q->lo_status == HM_EPI_B_NONE ? NAN : 1 + q->lo;
            d->cat_hi[k] = q->hi_status == HM_EPI_B_NONE ? NAN : 1 + q->hi;
        }
    }
    snprintf(model, sizeof model, "%s + err(%s)", base_model, dose_col);
    if ((rc = hm_epi_fit_text(t, model, NULL, &fit, err)) < 0)
        return rc;
    const hm_epi_param *b = &fit.p[m.nz];
    d->beta = b->est;
    d->beta_lo = b->lo_status == HM_EPI_B_NONE ? NAN : b->lo;
    d->beta_hi = b->hi_status == HM_EPI_B_NONE ? NAN : b->hi;
    for (size_t r = 0; r < t->nrows; r++)
        if (t->cols[cp][r] > 0)
            d->dose_max_mgy = fmax(d->dose_max_mgy, t->cols[cd][r]);
    return HM_OK;
}
