/*
 * test_label.c — the QR code on the aliquot label.  No decoder is installed,
 * so the check is structural: the matrix libqrencode returns for the id has
 * the size of its version (17 + 4 x version modules, ISO/IEC 18004 §5.3.1),
 * the three finder patterns (7 x 7: dark ring, light ring, dark 3 x 3 core)
 * and the timing patterns (alternating, row and column 6) where the standard
 * puts them; and the PNG written has, at the centre of every module, a black
 * pixel exactly where the matrix is dark, with a white quiet zone around.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <cairo.h>
#include <qrencode.h>

#include "hm_biobank.h"

#define P1 "1111111111111111111111111111111111111111111111111111111111111111"

static int dark(const QRcode *q, int x, int y)
{
    return q->data[y * q->width + x] & 1;
}

/* A finder pattern with its top-left module at (x0, y0). */
static void finder(const QRcode *q, int x0, int y0)
{
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 7; x++) {
            int ring = x == 0 || y == 0 || x == 6 || y == 6;
            int core = x >= 2 && x <= 4 && y >= 2 && y <= 4;
            assert_int_equal(dark(q, x0 + x, y0 + y), ring || core);
        }
}

static void test_matrix(void **state)
{
    (void)state;
    /* A 12-character id of the biobank (centre, kind, 6 digits, check). */
    char id[24] = "FR01A000123";
    size_t n = strlen(id);
    id[n] = hm_bb_check_char(id);
    id[n + 1] = 0;
    QRcode *q = QRcode_encodeString(id, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    assert_non_null(q);
    /* 12 characters fit version 1 at level M (ISO/IEC 18004 Table 7: 20 alphanumeric,
     * 14 bytes): 21 x 21 modules. */
    assert_int_equal(q->version, 1);
    assert_int_equal(q->width, 21);
    finder(q, 0, 0);
    finder(q, 14, 0);
    finder(q, 0, 14);
    for (int k = 8; k <= 12; k++) {
        assert_int_equal(dark(q, k, 6), k % 2 == 0);     /* timing, row 6 */
        assert_int_equal(dark(q, 6, k), k % 2 == 0);     /* timing, column 6 */
    }
    assert_int_equal(dark(q, 8, 13), 1);                 /* the dark module (4V + 9, 8) */
    hm_bb_label_geom g;
    hm_error err;
    assert_int_equal(hm_bb_label_layout(id, &g, &err), HM_OK);
    assert_int_equal(g.qr_version, 1);
    assert_int_equal(g.qr_modules, 21);
    assert_true(g.module_px >= 3);                       /* >= 0.25 mm at 300 dpi */
    assert_true(g.qr_x_px >= 4 * g.module_px && g.qr_y_px >= 4 * g.module_px);
    assert_true(g.qr_y_px + 25 * g.module_px <= g.height_px);
    assert_true(g.text_x_px >= g.qr_x_px + 25 * g.module_px);
    QRcode_free(q);
}

static void apply_ok(hm_bb_state *st, hm_bb_event *e)
{
    hm_error err;
    int rc = hm_bb_apply(st, e, &err);
    if (rc)
        fprintf(stderr, "unexpected: %s\n", err.msg);
    assert_int_equal(rc, HM_OK);
}

static void test_png(void **state)
{
    (void)state;
    hm_bb_protocol p;
    hm_error err;
    assert_int_equal(hm_bb_protocol_load("cardiac_v1", &p, NULL, &err), HM_OK);
    hm_bb_state st;
    hm_bb_state_init(&st);
    assert_int_equal(hm_bb_state_add_protocol(&st, &p, &err), HM_OK);
    hm_bb_event e;
    hm_bb_event_init(&e, HM_BB_COLLECT, "FR01");
    e.time_s = 1704067200.0;
    snprintf(e.user, sizeof e.user, "u");
    snprintf(e.site, sizeof e.site, "FR01");
    snprintf(e.sample_id, sizeof e.sample_id, "FR01S0000017");
    snprintf(e.pseudonym, sizeof e.pseudonym, P1);
    snprintf(e.protocol, sizeof e.protocol, "cardiac_v1");
    snprintf(e.sample_type, sizeof e.sample_type, "serum");
    snprintf(e.timepoint, sizeof e.timepoint, "baseline");
    apply_ok(&st, &e);
    e.type = HM_BB_PROCESS;
    e.time_s += 3600;
    apply_ok(&st, &e);
    char id[24] = "FR01A000042";
    size_t n = strlen(id);
    id[n] = hm_bb_check_char(id);
    id[n + 1] = 0;
    e.type = HM_BB_ALIQUOT;
    snprintf(e.aliquot_id, sizeof e.aliquot_id, "%s", id);
    apply_ok(&st, &e);
    char path[512];
    mkdir(HM_TEST_TMPDIR, 0777);
    snprintf(path, sizeof path, "%s/label.png", HM_TEST_TMPDIR);
    assert_int_equal(hm_bb_label_png(&st, id, path, &err), HM_OK);
    assert_int_equal(hm_bb_label_png(&st, "FR01A9999990", path, &err), HM_ENOTFOUND);
    hm_bb_state_free(&st);

    hm_bb_label_geom g;
    assert_int_equal(hm_bb_label_layout(id, &g, &err), HM_OK);
    QRcode *q = QRcode_encodeString(id, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    assert_non_null(q);
    cairo_surface_t *sf = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(sf), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(sf), g.width_px);
    assert_int_equal(cairo_image_surface_get_height(sf), g.height_px);
    cairo_surface_flush(sf);
    const unsigned char *px = cairo_image_surface_get_data(sf);
    int stride = cairo_image_surface_get_stride(sf);
    /* RGB24 / ARGB32 pixels are native-endian 32-bit words; the low byte is blue. */
#define LUM(x, y) (((const uint32_t *)(const void *)(px + (y) * stride))[x] & 0xff)
    int m = g.module_px;
    for (int y = -4; y < q->width + 4; y++)
        for (int x = -4; x < q->width + 4; x++) {
            int cx = g.qr_x_px + x * m + m / 2, cy = g.qr_y_px + y * m + m / 2;
            int inside = x >= 0 && y >= 0 && x < q->width && y < q->width;
            int want_dark = inside && (q->data[y * q->width + x] & 1);
            unsigned v = LUM(cx, cy);
            if ((v < 128) != want_dark)
                fprintf(stderr, "module (%d, %d): pixel %u\n", x, y, v);
            assert_int_equal(v < 128, want_dark);
        }
    cairo_surface_destroy(sf);
    QRcode_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix), cmocka_unit_test(test_png),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
