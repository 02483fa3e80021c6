/*
 * test_mc_spectrum.c — tungsten-anode model against the IEC 61267 RQR first
 * HVLs (data/spectra/rqr.csv, within 3 %), the HVL computation against the
 * values quoted for the TG-195 spectra, mu_en/rho of air against NIST, and
 * clear errors for bad spectrum files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_mc.h"

static void test_rqr_hvl(void **state)
{
    (void)state;
    hm_error err;
    char path[1024];
    assert_int_equal(hm_data_path("spectra/rqr.csv", path, sizeof path, &err), 0);
    hm_csv *csv = hm_csv_open(path, 1, &err);
    assert_non_null(csv);
    char **f;
    size_t nf;
    int rows = 0;
    while (hm_csv_next(csv, &f, &nf, &err) == 1) {
        if (!strcmp(f[0], "quality")) continue;
        double kvp = atof(f[1]), hvl = atof(f[2]), ang = atof(f[3]), al = atof(f[4]);
        hm_mc_filter filt = { "aluminium", al };
        hm_mc_spectrum s;
        assert_int_equal(hm_mc_spectrum_tungsten(kvp, ang, &filt, 1, 0.5, &s, &err), 0);
        hm_mc_beam_quality q;
        assert_int_equal(hm_mc_spectrum_quality(&s, &q, &err), 0);
        if (fabs(q.hvl1_mm_al / hvl - 1) > 0.03)
            fail_msg("%s %g kV: HVL %.3f mm Al, IEC 61267 %.2f", f[0], kvp, q.hvl1_mm_al, hvl);
        /* physics sanity: the spectrum ends at kVp, mean energy between 0.4 and 0.72 kVp */
        assert_true(s.energy_kev[s.n - 1] < kvp);
        assert_true(q.mean_energy_kev > 0.4 * kvp && q.mean_energy_kev < 0.72 * kvp);
        hm_mc_spectrum_free(&s);
        rows++;
    }
    hm_csv_close(csv);
    assert_int_equal(rows, 9);
    /* more filtration hardens the beam: copper raises the HVL */
    hm_mc_filter two[2] = { { "aluminium", 2.85 }, { "copper", 0.2 } };
    hm_mc_spectrum a, b;
    hm_mc_beam_quality qa, qb;
    assert_int_equal(hm_mc_spectrum_tungsten(80, 12, two, 1, 0.5, &a, &err), 0);
    assert_int_equal(hm_mc_spectrum_tungsten(80, 12, two, 2, 0.5, &b, &err), 0);
    hm_mc_spectrum_quality(&a, &qa, &err);
    hm_mc_spectrum_quality(&b, &qb, &err);
    assert_true(qb.hvl1_mm_al > qa.hvl1_mm_al * 1.3);
    hm_mc_spectrum_free(&a);
    hm_mc_spectrum_free(&b);
}

/* The TG-195 spectra quote their own HVL/QVL (file headers; Sechopoulos 2015),
 * which hold at the case 1 detector, i.e. after 100 cm of air (that hardens
 * the 30 kVp Mo beam by ~10 %). */
static void test_tg195_spectra_hvl(void **state)
{
    (void)state;
    static const struct { const char *file; double hvl, qvl; } c[] = {
        { "spectrum_W_100kVp_RQR8.csv", 3.950, 9.840 },
        { "spectrum_W_120kVp.csv", 5.010, 0 },
        { "spectrum_Mo_30kVp.csv", 0.3431, 0.7663 },
    };
    for (size_t i = 0; i < 3; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/../examples/mc/tg195/%s", HM_SOURCE_DATA_DIR, c[i].file);
        hm_mc_spectrum s;
        hm_error err;
        assert_int_equal(hm_mc_spectrum_read(path, HM_MC_BIN_CENTRE, &s, &err), 0);
        assert_true(fabs(s.bin_kev - 0.5) < 1e-9);
        assert_int_equal(hm_mc_spectrum_filter(&s, "tg195_air", 1000.0, &err), 0);
        hm_mc_beam_quality q;
        assert_int_equal(hm_mc_spectrum_quality(&s, &q, &err), 0);
        if (fabs(q.hvl1_mm_al / c[i].hvl - 1) > 0.02)
            fail_msg("%s: HVL %.4f, quoted %.4f", c[i].file, q.hvl1_mm_al, c[i].hvl);
        if (c[i].qvl > 0 && fabs((q.hvl1_mm_al + q.hvl2_mm_al) / c[i].qvl - 1) > 0.02)
            fail_msg("%s: QVL %.4f, quoted %.4f", c[i].file, q.hvl1_mm_al + q.hvl2_mm_al, c[i].qvl);
        hm_mc_spectrum_free(&s);
    }
}

static void test_muen_air(void **state)
{
    (void)state;
    hm_error err;
    double m;
    /* NIST (Hubbell & Seltzer 1996) table points and one interpolated value */
    assert_int_equal(hm_mc_muen_air(30, &m, &err), 0);
    assert_true(fabs(m / 0.1537 - 1) < 1e-3);
    assert_int_equal(hm_mc_muen_air(60, &m, &err), 0);
    assert_true(fabs(m / 0.03041 - 1) < 1e-3);
    /* 70 keV between 60 and 80 keV, log-log: 0.0265 within 2 % */
    assert_int_equal(hm_mc_muen_air(70, &m, &err), 0);
    assert_true(m > 0.0255 && m < 0.0275);
    assert_int_equal(hm_mc_muen_air(500, &m, &err), HM_EINVAL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_bad_spectrum_files(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/bad.csv", HM_TEST_TMPDIR);
    hm_mc_spectrum s;
    hm_error err;
    write_file(path, "energy_keV,relative_fluence\n10,1\n10.5,abc\n");
    assert_int_equal(hm_mc_spectrum_read(path, HM_MC_BIN_CENTRE, &s, &err), HM_EPARSE);
    assert_int_equal(err.line, 3);
    assert_string_equal(err.field, "relative_fluence");
    write_file(path, "10,1\n9,1\n");
    assert_int_equal(hm_mc_spectrum_read(path, HM_MC_BIN_CENTRE, &s, &err), HM_EVALIDATE);
    assert_int_equal(err.line, 2);
    write_file(path, "10,1\n10.5,1\n11.5,1\n");
    assert_int_equal(hm_mc_spectrum_read(path, HM_MC_BIN_CENTRE, &s, &err), HM_EVALIDATE);
    write_file(path, "10,-1\n");
    assert_int_equal(hm_mc_spectrum_read(path, HM_MC_BIN_POINT, &s, &err), HM_EVALIDATE);
    assert_int_equal(hm_mc_spectrum_read("/nonexistent/x.csv", HM_MC_BIN_POINT, &s, &err) < 0, 1);
    assert_int_equal(hm_mc_spectrum_tungsten(200, 12, NULL, 0, 0.5, &s, &err), HM_EINVAL);
    assert_string_equal(err.field, "kvp");
}

/* An Excel copy of a spectrum (';', decimal comma, CRLF) reads as the same
 * numbers; read with ',' forced it names the --delimiter to use. */
static void test_excel_spectrum(void **state)
{
    (void)state;
    char src[1024], path[512];
    snprintf(src, sizeof src, "%s/../examples/mc/tg195/spectrum_W_100kVp_RQR8.csv", HM_SOURCE_DATA_DIR);
    snprintf(path, sizeof path, "%s/excel.csv", HM_TEST_TMPDIR);
    hm_mc_spectrum a, b;
    hm_error err;
    assert_int_equal(hm_mc_spectrum_read(src, HM_MC_BIN_CENTRE, &a, &err), 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("energy_keV;relative_fluence\r\n", f);
    char e[64], w[64];
    for (size_t i = 0; i < a.n; i++) {
        snprintf(e, sizeof e, "%.17g", a.energy_kev[i]);
        snprintf(w, sizeof w, "%.17g", a.fluence[i]);
        for (char *p = e; *p; p++) if (*p == '.') *p = ',';
        for (char *p = w; *p; p++) if (*p == '.') *p = ',';
        fprintf(f, "%s;%s\r\n", e, w);
    }
    fclose(f);
    assert_int_equal(hm_mc_spectrum_read(path, HM_MC_BIN_CENTRE, &b, &err), 0);
    assert_int_equal(b.n, a.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_true(b.energy_kev[i] == a.energy_kev[i]);
        assert_true(b.fluence[i] == a.fluence[i]);
    }
    assert_true(b.bin_kev == a.bin_kev);
    hm_mc_spectrum_free(&b);
    hm_csv_dialect comma = { ',', 0, 0, 0 };
    assert_int_equal(hm_mc_spectrum_read_dialect(path, HM_MC_BIN_CENTRE, &comma, &b, &err), HM_EPARSE);
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.msg, "use --delimiter ';'"));
    hm_mc_spectrum_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_excel_spectrum),
        cmocka_unit_test(test_rqr_hvl),
        cmocka_unit_test(test_tg195_spectra_hvl),
        cmocka_unit_test(test_muen_air),
        cmocka_unit_test(test_bad_spectrum_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
