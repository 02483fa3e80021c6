/*
 * test_skin_rdsr.c — the sanity anchor of skin dose maps: the shared
 * fluoroscopy RDSRs (../shared/data/rdsr; skipped when absent), every event
 * turned into a beam (hm_dosimetry_event_beam, the previous event as the
 * fallback) on the 5-year phantom.  For a procedure, PSD / total K_rp is
 * about 0.5-1.5: one projection concentrates K_rp x BSF x f x T x inverse
 * square (~1) on one patch, several projections spread it.  Each file's
 * ratio must lie in 0.2..1.6 and the median of the files in 0.5..1.5.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hm_dosimetry.h"
#include "hm_rdsr.h"
#include "dose_cli.h"      /* hm_cli_rdsr_event: the command's own RDSR-event reader */

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_shared_rdsr(void **state)
{
    (void)state;
    static const char *const files[] = { "RF-RDSR-Siemens-Zee.dcm", "RF-RDSR-Philips_Allura.dcm",
                                         "RF-RDSR-GE.dcm", "RF-RDSR-Canon-Alphenix-rotational.dcm",
                                         "RF-RDSR-Eurocolumbus.dcm", "RF-RDSR-GE-OECEliteMiniView.dcm",
                                         "RF-No-kVp-and-others.dcm", "Dual-RDSR-RF.dcm" };
    hm_error err;
    hm_rdsr_ctx *ctx = hm_rdsr_ctx_new(&err);
    assert_non_null(ctx);
    hm_dosimetry_device dev;
    assert_int_equal(hm_dosimetry_device_default(&dev, &err), 0);
    hm_phantom *p = NULL;
    hm_voxel_phantom v;
    assert_int_equal(hm_phantom_build("5y", 'H', &p, &err), 0);
    assert_int_equal(hm_phantom_voxelise(p, 5, &v, &err), 0);
    hm_phantom_free(p);
    hm_skin_map *m = NULL;
    assert_int_equal(hm_skin_map_new(&v, 1.0, NULL, &m, &err), 0);
    double ratio[16];
    int nr = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/rdsr/%s", HM_SHARED_DATA_DIR, files[i]);
        hm_rdsr_report *rep = NULL;
        if (hm_rdsr_read_file(ctx, path, &rep, &err)) {
            printf("%s: %s\n", files[i], err.msg);
            continue;
        }
        hm_skin_map_clear(m);
        hm_dosimetry_event prev;
        int have_prev = 0, used = 0;
        for (size_t k = 0; k < rep->nevents; k++) {
            hm_dosimetry_event e;
            hm_cli_rdsr_event(&rep->events[k], &e);
            hm_dosimetry_beam b;
            int rc = hm_dosimetry_event_beam(&e, have_prev ? &prev : NULL, &dev, HM_ALIGN_HEART,
                                             NULL, &b, NULL, &err);
            if (!rc)
                rc = hm_skin_map_add_event(m, &b, e.rp_air_kerma_mgy, e.kap_gy_cm2, &dev, &err);
            if (rc) {
                /* Events without K_rp and KAP give no skin dose: said, not hidden. */
                assert_string_equal(err.field, "rp_air_kerma_mgy");
                continue;
            }
            used++;
            prev = e;
            have_prev = 1;
        }
        double psd, where[3];
        hm_skin_grid g;
        assert_int_equal(hm_skin_map_peak(m, &psd, where), 0);
        hm_skin_map_grid(m, &g);
        if (used > 0 && g.k_rp_total_mgy > 0) {
            ratio[nr++] = psd / g.k_rp_total_mgy;
            printf("%-40s %3d events  K_rp %8.3f mGy  PSD %8.3f mGy  PSD/K_rp %.3f\n", files[i], used,
                   g.k_rp_total_mgy, psd, psd / g.k_rp_total_mgy);
            assert_true(psd / g.k_rp_total_mgy > 0.2 && psd / g.k_rp_total_mgy < 1.6);
        }
        if (i == 0) {
            char png[600];
            snprintf(png, sizeof png, "%s/%s.png", HM_TEST_TMPDIR, files[i]);
            assert_int_equal(hm_skin_map_write_png(m, png, files[i], &err), 0);
        }
        hm_rdsr_report_free(rep);
    }
    assert_true(nr >= 4);
    qsort(ratio, (size_t)nr, sizeof *ratio, cmp);
    double median = nr % 2 ? ratio[nr / 2] : 0.5 * (ratio[nr / 2 - 1] + ratio[nr / 2]);
    printf("median PSD / total K_rp over %d files: %.3f\n", nr, median);
    assert_true(median > 0.5 && median < 1.5);
    hm_skin_map_free(m);
    hm_voxel_phantom_free(&v);
    hm_rdsr_ctx_free(ctx);
}

int main(void)
{
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/rdsr/RF-RDSR-GE.dcm", HM_SHARED_DATA_DIR);
    if (access(probe, R_OK) != 0) {
        printf("skipped: %s not found\n", probe);
        return 77;
    }
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_shared_rdsr) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
