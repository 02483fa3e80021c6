/*
 * hm_testfake.h — a beam function with a known answer, for tests of what is
 * built on beams (procedures, the cohort run) without Monte Carlo: every
 * organ of data/organs.csv gets 1 per KAP, except the lung, 1 + d_x (d the
 * central ray), and the heart, 2 for a male phantom and 4 otherwise.
 * Include after cmocka.h and hm_dosimetry.h.
 */
#ifndef HM_TESTFAKE_H
#define HM_TESTFAKE_H

#include <stdlib.h>
#include <string.h>

static char   fake_organs[64][32];
static size_t fake_norgans, fake_lung_at, fake_heart_at;
static int    fake_calls;

static void fake_load_organs(void)
{
    char path[1024];
    hm_csv *csv;
    hm_error err;
    assert_int_equal(hm_data_csv_open("organs.csv", path, sizeof path, &csv, &err), 0);
    char **f;
    size_t nf;
    int header = 1;
    fake_norgans = 0;
    while (hm_csv_next(csv, &f, &nf, &err) == 1) {
        if (header) {
            header = 0;
            continue;
        }
        snprintf(fake_organs[fake_norgans], sizeof fake_organs[0], "%s", f[0]);
        if (!strcmp(f[0], "lung"))
            fake_lung_at = fake_norgans;
        if (!strcmp(f[0], "heart"))
            fake_heart_at = fake_norgans;
        fake_norgans++;
    }
    hm_csv_close(csv);
}

static int fake_fn(void *ctx, const hm_dosimetry_beam *b, char sex, hm_dosimetry_result *r,
                   hm_error *err)
{
    (void)ctx;
    (void)err;
    fake_calls++;
    memset(r, 0, sizeof *r);
    r->n = fake_norgans;
    r->organs = calloc(fake_norgans, sizeof *r->organs);
    assert_non_null(r->organs);
    for (size_t o = 0; o < fake_norgans; o++) {
        snprintf(r->organs[o].organ, sizeof r->organs[o].organ, "%s", fake_organs[o]);
        r->organs[o].dose_mgy_per_gy_cm2 = 1;
        r->organs[o].sigma_mgy_per_gy_cm2 = 0.1;
        r->organs[o].present = 1;
    }
    r->organs[fake_lung_at].dose_mgy_per_gy_cm2 = 1 + b->direction[0];
    r->organs[fake_heart_at].dose_mgy_per_gy_cm2 = sex == 'M' ? 2 : 4;
    return HM_OK;
}

#endif
