/*
 * label.c — a printable aliquot label as PNG (cairo): a QR code of the
 * aliquot id (libqrencode) on the left, the id (with its check character) in
 * large monospaced type beside it, then sample, type, timepoint and protocol.
 *
 * QR code: ISO/IEC 18004 (libqrencode's QRcode_encodeString), error
 * correction level M (15 % of the codewords recoverable, the usual choice for
 * labels that may be scratched or frosted), case-sensitive 8-bit/alphanumeric
 * mode chosen by the encoder, the smallest version that holds the id.  The
 * quiet zone is 4 modules wide on every side, as ISO/IEC 18004 requires.
 */
#include "hm_biobank.h"

#include <cairo.h>
#include <qrencode.h>
#include <string.h>

/* 50 x 25 mm at 300 dpi: a common cryo-label size. */
enum { LABEL_W = 591, LABEL_H = 295, QUIET = 4 };

/* The QR matrix of id: width x width bytes, bit 0 set = dark module. */
static QRcode *encode(const char *id)
{
    return QRcode_encodeString(id, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

int hm_bb_label_layout(const char *aliquot_id, hm_bb_label_geom *g, hm_error *err)
{
    QRcode *q = encode(aliquot_id);
    if (!q)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "aliquot_id",
                            "cannot encode '%s' as a QR code", aliquot_id);
    memset(g, 0, sizeof *g);
    g->width_px = LABEL_W;
    g->height_px = LABEL_H;
    g->qr_version = q->version;
    g->qr_modules = q->width;
    /* Whole pixels per module (a scanner needs sharp edges): as large as the
     * label height allows with the quiet zone, at most 10 px (0.85 mm). */
    int m = (LABEL_H - 10) / (q->width + 2 * QUIET);
    g->module_px = m > 10 ? 10 : m < 1 ? 1 : m;
    g->qr_x_px = 5 + QUIET * g->module_px;
    g->qr_y_px = (LABEL_H - q->width * g->module_px) / 2;
    g->text_x_px = g->qr_x_px + (q->width + QUIET) * g->module_px;
    QRcode_free(q);
    return HM_OK;
}

/* Draws text at (x, y), shrinking the font until it fits max_w. */
static void fit_text(cairo_t *cr, const char *s, double x, double y, double size, double max_w)
{
    cairo_text_extents_t ext;
    for (;;) {
        cairo_set_font_size(cr, size);
        cairo_text_extents(cr, s, &ext);
        if (ext.x_advance <= max_w || size <= 8)
            break;
        size *= 0.9;
    }
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, s);
}

int hm_bb_label_png(const hm_bb_state *st, const char *aliquot_id, const char *path,
                    hm_error *err)
{
    int i = hm_bb_find_aliquot(st, aliquot_id);
    if (i < 0)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "aliquot_id", "no aliquot '%s'",
                            aliquot_id);
    const hm_bb_aliquot *a = &st->aliquots[i];
    const hm_bb_sample *s = &st->samples[a->sample];
    hm_bb_label_geom g;
    int rc = hm_bb_label_layout(a->id, &g, err);
    QRcode *q = rc ? NULL : encode(a->id);
    if (rc || !q)
        return rc ? rc : hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, g.width_px, g.height_px);
    cairo_t *cr = cairo_create(sf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    /* Modules as whole-pixel rectangles, no antialiasing: crisp edges. */
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
    for (int y = 0; y < q->width; y++)
        for (int x = 0; x < q->width; x++)
            if (q->data[y * q->width + x] & 1)
                cairo_rectangle(cr, g.qr_x_px + x * g.module_px, g.qr_y_px + y * g.module_px,
                                g.module_px, g.module_px);
    cairo_fill(cr);
    QRcode_free(q);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT);
    double tx = g.text_x_px, max_w = g.width_px - tx - 10;
    cairo_select_font_face(cr, "monospace", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    fit_text(cr, a->id, tx, 80, 40, max_w);
    cairo_select_font_face(cr, "monospace", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    char l3[128];
    snprintf(l3, sizeof l3, "%s %s", s->timepoint, s->protocol);
    const char *lines[3] = { s->sample_id, s->type, l3 };
    for (int k = 0; k < 3; k++)
        fit_text(cr, lines[k], tx, 140 + 45 * k, 24, max_w);
    cairo_destroy(cr);
    cairo_status_t cs = cairo_surface_write_to_png(sf, path);
    cairo_surface_destroy(sf);
    if (cs != CAIRO_STATUS_SUCCESS)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write the label: %s",
                            cairo_status_to_string(cs));
    return HM_OK;
}
