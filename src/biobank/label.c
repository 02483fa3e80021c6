/*
 * label.c — a printable aliquot label as PNG (cairo): the id (with its check
 * character) in large monospaced type, then sample, type, timepoint and
 * protocol.  No 2-D barcode: neither libqrencode nor libzint is installed on
 * the build machines, and harmonic does not carry its own encoder
 * (docs/biobank.md says how to add one).
 */
#include "hm_biobank.h"

#include <cairo.h>

int hm_bb_label_png(const hm_bb_state *st, const char *aliquot_id, const char *path,
                    hm_error *err)
{
    int i = hm_bb_find_aliquot(st, aliquot_id);
    if (i < 0)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "aliquot_id", "no aliquot '%s'",
                            aliquot_id);
    const hm_bb_aliquot *a = &st->aliquots[i];
    const hm_bb_sample *s = &st->samples[a->sample];
    /* 50 x 25 mm at 300 dpi: a common cryo-label size. */
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 591, 295);
    cairo_t *cr = cairo_create(sf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_select_font_face(cr, "monospace", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 52);
    cairo_move_to(cr, 20, 80);
    cairo_show_text(cr, a->id);
    cairo_set_font_size(cr, 28);
    cairo_select_font_face(cr, "monospace", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    const char *lines[3] = { s->sample_id, s->type, s->timepoint };
    char l3[128];
    snprintf(l3, sizeof l3, "%s  %s", s->timepoint, s->protocol);
    lines[2] = l3;
    for (int k = 0; k < 3; k++) {
        cairo_move_to(cr, 20, 140 + 45 * k);
        cairo_show_text(cr, lines[k]);
    }
    cairo_destroy(cr);
    cairo_status_t cs = cairo_surface_write_to_png(sf, path);
    cairo_surface_destroy(sf);
    if (cs != CAIRO_STATUS_SUCCESS)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write the label: %s",
                            cairo_status_to_string(cs));
    return HM_OK;
}
