/*
 * test_procedure.c — a procedure's events to organ doses (procedure.c) with
 * a beam function whose answer is known: the lung gets 1 + d_x per KAP
 * (d the central ray), the heart 2 per KAP for a male phantom and 4 for a
 * female or hermaphrodite one, every other organ of data/organs.csv 1.  Checks: KAP times the device calibration,
 * sums over events, the sex rules from 15 years, events without KAP, the
 * previous event as fallback, and rotational sweeps averaged over the arc.
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

#include "hm_dosimetry.h"

#include "hm_testfake.h"


static hm_dosimetry_device dev;

static void event(hm_dosimetry_event *e, double primary, double kap)
{
    hm_dosimetry_event_init(e);
    e->kvp = 70;
    e->filter_al_mm = e->filter_cu_mm = 0;
    e->primary_angle_deg = primary;
    e->secondary_angle_deg = 0;
    e->source_isocentre_mm = 750;
    e->source_detector_mm = 1000;
    e->field_width_mm = e->field_height_mm = 200;
    e->kap_gy_cm2 = kap;
    e->table_relationship = "headfirst";
    e->orientation_modifier = "supine";
}

static void test_sums_and_calibration(void **state)
{
    (void)state;
    hm_dosimetry_event ev[3];
    event(&ev[0], 90, 2);        /* d_x = 1: a = 2 per KAP */
    event(&ev[1], -90, 3);       /* d_x = -1: a = 0 */
    event(&ev[2], 0, NAN);       /* no KAP: no dose */
    hm_dosimetry_device d = dev;
    d.kap_calibration = 0.8;
    hm_dosimetry_procedure_dose p;
    hm_error err;
    assert_int_equal(hm_dosimetry_procedure(ev, 3, &d, HM_ALIGN_HEART, "5y", 'F', fake_fn, NULL,
                                            &p, &err), 0);
    assert_int_equal(p.norgans, fake_norgans);
    assert_true(p.effective_msv > 0);
    assert_true(fabs(p.kap_gy_cm2 - 0.8 * 5) < 1e-12);
    assert_true(fabs(p.dose_mgy[fake_lung_at] - 2 * 0.8 * 2) < 1e-9);
    assert_true(fabs(p.dose_mgy[fake_heart_at] - 4 * 0.8 * 5) < 1e-12);        /* H phantom below 15 y */
    assert_true(p.events[2].no_kap && p.events[2].kap_gy_cm2 == 0);
    assert_true(fabs(p.event_dose_mgy[0 * fake_norgans + fake_lung_at] - 3.2) < 1e-9);
    assert_true(fabs(p.event_dose_mgy[1 * fake_norgans + fake_lung_at]) < 1e-9);
    /* Statistical sigma: variances add (0.1 per KAP x 1.6 and x 2.4). */
    assert_true(fabs(p.sigma_mgy[fake_heart_at] - hypot(0.16, 0.24)) < 1e-12);
    hm_dosimetry_procedure_free(&p);
}

static void test_sexes(void **state)
{
    (void)state;
    hm_dosimetry_event e;
    event(&e, 0, 1);
    hm_dosimetry_procedure_dose p;
    hm_error err;
    const char sexes[3] = { 'M', 'F', 'U' };
    const double want[3] = { 2, 4, 3 };     /* U from 15 y: the mean of M and F */
    for (int k = 0; k < 3; k++) {
        fake_calls = 0;
        assert_int_equal(hm_dosimetry_procedure(&e, 1, &dev, HM_ALIGN_HEART, "15y", sexes[k], fake_fn,
                                                NULL, &p, &err), 0);
        assert_int_equal(fake_calls, 2);                    /* both phantoms, for E */
        assert_true(fabs(p.dose_mgy[fake_heart_at] - want[k]) < 1e-12);
        hm_dosimetry_procedure_free(&p);
    }
    fake_calls = 0;
    assert_int_equal(hm_dosimetry_procedure(&e, 1, &dev, HM_ALIGN_HEART, "10y", 'M', fake_fn, NULL,
                                            &p, &err), 0);
    assert_int_equal(fake_calls, 1);                        /* one hermaphrodite phantom */
    assert_true(fabs(p.dose_mgy[fake_heart_at] - 4) < 1e-12);
    hm_dosimetry_procedure_free(&p);
    assert_int_equal(hm_dosimetry_procedure(&e, 1, &dev, HM_ALIGN_HEART, NULL, 'M', fake_fn, NULL,
                                            &p, &err), HM_EINVAL);
}

/* A sweep from RAO 90 to LAO 90: 18 beams of 10 degrees, d_x = sin(angle),
 * whose mean over the midpoints is 0 by symmetry; from 0 to 90: the mean of
 * sin over nine midpoints (2/pi for a continuous sweep). */
static void test_rotational(void **state)
{
    (void)state;
    hm_dosimetry_event e;
    event(&e, -90, 1);
    e.primary_end_angle_deg = 90;
    hm_dosimetry_procedure_dose p;
    hm_error err;
    fake_calls = 0;
    assert_int_equal(hm_dosimetry_procedure(&e, 1, &dev, HM_ALIGN_HEART, "5y", 'F', fake_fn, NULL,
                                            &p, &err), 0);
    assert_int_equal(fake_calls, 18);
    assert_true(fabs(p.dose_mgy[fake_lung_at] - 1) < 1e-12);
    assert_true(fabs(p.dose_mgy[fake_heart_at] - 4) < 1e-12);
    hm_dosimetry_procedure_free(&p);
    e.primary_angle_deg = 0;
    fake_calls = 0;
    assert_int_equal(hm_dosimetry_procedure(&e, 1, &dev, HM_ALIGN_HEART, "5y", 'F', fake_fn, NULL,
                                            &p, &err), 0);
    assert_int_equal(fake_calls, 9);
    double mean = 0;
    for (int k = 0; k < 9; k++)
        mean += sin((5.0 + 10.0 * k) * 3.14159265358979323846 / 180) / 9;
    assert_true(fabs(p.dose_mgy[fake_lung_at] - (1 + mean)) < 1e-12);
    assert_true(fabs(mean - 2 / 3.14159265358979323846) < 0.01);
    hm_dosimetry_procedure_free(&p);
    /* Start and end within half a step: one beam. */
    e.primary_end_angle_deg = 3;
    fake_calls = 0;
    assert_int_equal(hm_dosimetry_procedure(&e, 1, &dev, HM_ALIGN_HEART, "5y", 'F', fake_fn, NULL,
                                            &p, &err), 0);
    assert_int_equal(fake_calls, 1);
    hm_dosimetry_procedure_free(&p);
}

/* The previous event fills what an event lacks (here its angle: LAO 90). */
static void test_fallback(void **state)
{
    (void)state;
    hm_dosimetry_event ev[2];
    event(&ev[0], 90, 1);
    event(&ev[1], NAN, 1);
    hm_dosimetry_procedure_dose p;
    hm_error err;
    assert_int_equal(hm_dosimetry_procedure(ev, 2, &dev, HM_ALIGN_HEART, "5y", 'F', fake_fn, NULL,
                                            &p, &err), 0);
    assert_int_equal(p.events[0].imputed, 0);
    assert_int_equal(p.events[1].imputed, HM_IMPUTED_ANGLES);
    assert_true(fabs(p.event_dose_mgy[1 * fake_norgans + fake_lung_at] - 2) < 1e-9);
    hm_dosimetry_procedure_free(&p);
}

/* The table after the KAP meter: a PA beam at 80 kV loses the device's
 * transmission, an oblique one more (longer path), a lateral one nothing. */
static void test_table(void **state)
{
    (void)state;
    hm_dosimetry_device d;
    hm_error err;
    assert_int_equal(hm_dosimetry_device_default(&d, &err), 0);
    hm_dosimetry_event ev[3];
    event(&ev[0], 0, 1);
    event(&ev[1], 30, 1);
    event(&ev[2], 90, 1);
    for (int k = 0; k < 3; k++)
        ev[k].kvp = 80;
    hm_dosimetry_procedure_dose p;
    assert_int_equal(hm_dosimetry_procedure(ev, 3, &d, HM_ALIGN_HEART, "5y", 'F', fake_fn, NULL, &p,
                                            &err), 0);
    /* The default device has no transmission of its own: the measured table +
     * mattress of data/dosimetry/table_transmission.csv at 80 kV, no copper
     * (the row "80,0,0.82,0.68"). */
    double t = 0.68;
    assert_true(fabs(p.event_dose_mgy[0 * fake_norgans + fake_heart_at] - 4 * t) < 1e-12);
    assert_true(fabs(p.event_dose_mgy[1 * fake_norgans + fake_heart_at] - 4 * pow(t, 1 / cos(30 * 3.14159265358979323846 / 180))) < 1e-12);
    assert_true(fabs(p.event_dose_mgy[2 * fake_norgans + fake_heart_at] - 4) < 1e-12);
    hm_dosimetry_procedure_free(&p);
    double f;
    /* Bilinear in kV and copper in the measured table: 70 kV, 0.1 mm Cu lies
     * between the rows 60/80 kV at 0.1 mm (0.73, 0.75). */
    assert_int_equal(hm_dosimetry_table_factor(&d, 70, 0.1, 1, &f, &err), 0);
    assert_true(fabs(f - 0.74) < 1e-12);
    /* A device's own points: linear in kV between them, constant outside;
     * a point it lacks comes from the measured table at the event's copper. */
    d.table_transmission[0] = 0.70;
    d.table_transmission[1] = 0.80;
    d.table_transmission[3] = 0.90;
    assert_int_equal(hm_dosimetry_table_factor(&d, 70, 0, 1, &f, &err), 0);
    assert_true(fabs(f - 0.75) < 1e-12);
    assert_int_equal(hm_dosimetry_table_factor(&d, 150, 0, 1, &f, &err), 0);
    assert_true(fabs(f - 0.90) < 1e-12);
    /* 100 kV missing: the table at 100 kV, 0 Cu = 0.68 + (0.71 - 0.68) * 20/30 */
    assert_int_equal(hm_dosimetry_table_factor(&d, 100, 0, 1, &f, &err), 0);
    assert_true(fabs(f - 0.70) < 1e-12);
    /* Beside the table: no attenuation; a bad voltage is an error. */
    assert_int_equal(hm_dosimetry_table_factor(&d, 80, 0, 0.4, &f, &err), 0);
    assert_true(f == 1);
    assert_int_equal(hm_dosimetry_table_factor(&d, NAN, 0, 1, &f, &err), HM_EINVAL);
    assert_string_equal(err.field, "kvp");
}

int main(void)
{
    hm_error err;
    if (hm_dosimetry_device_default(&dev, &err))
        return 1;
    /* Bookkeeping tests without a table; test_table puts it back. */
    for (int k = 0; k < 4; k++)
        dev.table_transmission[k] = 1;
    fake_load_organs();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_and_calibration), cmocka_unit_test(test_sexes),
        cmocka_unit_test(test_rotational),           cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
