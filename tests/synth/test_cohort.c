/* test_cohort.c — a small synthetic cohort: every file's columns are known
 * to the data dictionary and every row passes its field rules; counts agree
 * with the summary; output is deterministic in the seed; Norway uses day
 * offsets; bad options and an existing folder are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hm_registry.h"
#include "synth_test_util.h"

static const char *const TABLES[] = { "centre", "patient", "procedure", "irradiation_event",
                                      "organ_dose", "outcome", "followup" };
#define NT 7

/* Validates one CSV against the dictionary; returns its data rows. */
static long check_file(const hm_dict *dict, const char *table, const char *path)
{
    const hm_dict_table *t = hm_dict_find_table(dict, table);
    assert_non_null(t);
    hm_error err;
    hm_csv *c = hm_csv_open(path, 0, &err);
    if (!c)
        fail_msg("cannot open %s", path);
    char **f;
    size_t n;
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    int map[64];
    size_t ncols = n;
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        map[i] = hm_dict_field_index(t, f[i]);
        if (map[i] < 0)
            fail_msg("%s: column '%s' is not in the dictionary for table %s", path, f[i], table);
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(map[i], map[j]);
    }
    const char **vals = calloc(t->nfields, sizeof *vals);
    long rows = 0;
    int rc;
    while ((rc = hm_csv_next(c, &f, &n, &err)) == 1) {
        assert_int_equal(n, ncols);
        for (size_t i = 0; i < t->nfields; i++)
            vals[i] = NULL;
        for (size_t i = 0; i < n; i++)
            vals[map[i]] = f[i];
        hm_import_report rep;
        hm_import_report_init(&rep);
        int nerr = hm_dict_validate_row(t, vals, hm_csv_line(c), &rep);
        if (nerr)
            fail_msg("%s:%ld:%s: %s", path, rep.issues[0].line, rep.issues[0].field,
                     rep.issues[0].msg);
        hm_import_report_free(&rep);
        rows++;
    }
    assert_int_equal(rc, 0);
    free(vals);
    hm_csv_close(c);
    return rows;
}

static void test_files_match_dictionary(void **state)
{
    (void)state;
    char dir[4096];
    tu_fresh(dir, sizeof dir, "cohort");
    hm_synth_summary s;
    tu_synth(dir, 300, 11, 1.0, 0, NULL, 2, NULL, &s);
    assert_int_equal(s.patients, 300);

    hm_dict *dict;
    hm_error err;
    assert_int_equal(hm_dict_load(NULL, &dict, &err), 0);
    char codes[64][16], path[4300];
    size_t nc = tu_centres(codes, 64);
    assert_int_equal(nc, 15);
    snprintf(path, sizeof path, "%s/centres.csv", dir);
    assert_int_equal(check_file(dict, "centre", path), 15);
    long totals[NT] = { 0 };
    for (size_t c = 0; c < nc; c++)
        for (size_t t = 0; t < NT; t++) {
            snprintf(path, sizeof path, "%s/%s/%s.csv", dir, codes[c], TABLES[t]);
            totals[t] += check_file(dict, TABLES[t], path);
        }
    hm_dict_free(dict);
    assert_int_equal(totals[0], 15);
    assert_int_equal(totals[1], 300);
    assert_int_equal(totals[2], s.procedures);
    assert_int_equal(totals[3], s.events);
    assert_true(s.events >= 6 * s.tier[1] && s.events <= 12 * s.tier[1]);  /* 2-4 + 2-8 each */
    assert_int_equal(totals[4], s.organ_dose_rows);
    assert_int_equal(totals[4], s.procedures * 7 * 3);   /* 7 organs × (true + 2) */
    assert_int_equal(totals[5], s.outcome_rows);
    assert_int_equal(totals[6], 300);
    assert_int_equal(s.tier[1] + s.tier[2] + s.tier[3], s.procedures);
    assert_true(s.procedures >= 600 && s.procedures <= 1200);   /* ~3 per patient */

    /* truth.json is there and states the true ERR */
    snprintf(path, sizeof path, "%s/truth.json", dir);
    char *truth = tu_slurp(path, NULL);
    assert_non_null(truth);
    assert_non_null(strstr(truth, "\"true_err_per_100mgy\": 1,"));
    assert_non_null(strstr(truth, "\"group\": \"leukaemia\", \"err_applies\": true, \"lag_years\": 2"));
    assert_non_null(strstr(truth, "\"group\": \"solid\", \"err_applies\": false, \"lag_years\": 5"));
    free(truth);
}

static void test_layout_by_country(void **state)
{
    (void)state;
    char dir[4096], path[4300];
    tu_fresh(dir, sizeof dir, "layout");
    hm_synth_summary s;
    tu_synth(dir, 400, 5, 0, 0, "lung,red_marrow", 0, NULL, &s);
    hm_error err;
    char **f;
    size_t n;
    /* Norway: day offsets, no birth date; elsewhere dates and birth_year */
    snprintf(path, sizeof path, "%s/NO01/procedure.csv", dir);
    hm_csv *c = hm_csv_open(path, 0, &err);
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    assert_true(tu_col(f, n, "proc_day") >= 0 && tu_col(f, n, "proc_date") < 0);
    hm_csv_close(c);
    snprintf(path, sizeof path, "%s/NO01/patient.csv", dir);
    c = hm_csv_open(path, 0, &err);
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    assert_true(tu_col(f, n, "birth_year") >= 0 && tu_col(f, n, "birth_date") < 0);
    assert_true(tu_col(f, n, "transplant_day") >= 0 && tu_col(f, n, "family_name") < 0);
    hm_csv_close(c);
    snprintf(path, sizeof path, "%s/FR01/procedure.csv", dir);
    c = hm_csv_open(path, 0, &err);
    assert_int_equal(hm_csv_next(c, &f, &n, &err), 1);
    int date = tu_col(f, n, "proc_date"), tier = tu_col(f, n, "dose_tier"),
        kap = tu_col(f, n, "kap_total_gy_cm2"), uid = tu_col(f, n, "study_uid"),
        pid = tu_col(f, n, "procedure_id");
    assert_true(date >= 0 && tier >= 0 && kap >= 0 && uid >= 0 && pid >= 0);
    while (hm_csv_next(c, &f, &n, &err) == 1) {
        assert_int_equal(strlen(f[pid]), 64);              /* pseudonymised accession */
        if (!strcmp(f[tier], "3"))
            assert_string_equal(f[kap], "");               /* tier 3: no dose data */
        else
            assert_true(atof(f[kap]) > 0);
        if (!strcmp(f[tier], "1")) {
            assert_int_equal(strncmp(f[uid], "2.25.", 5), 0);
            assert_true(strcmp(f[date], "2000") > 0);      /* RDSRs only recently */
        } else {
            assert_string_equal(f[uid], "");
        }
    }
    hm_csv_close(c);
    /* only the organs asked for */
    snprintf(path, sizeof path, "%s/FR01/organ_dose.csv", dir);
    char *doses = tu_slurp(path, NULL);
    assert_non_null(strstr(doses, ",lung,"));
    assert_non_null(strstr(doses, ",red_marrow,"));
    assert_null(strstr(doses, ",heart,"));
    free(doses);
}

static void test_deterministic(void **state)
{
    (void)state;
    char a[4096], b[4096], c[4096], pa[4300], pb[4300];
    tu_fresh(a, sizeof a, "det_a");
    tu_fresh(b, sizeof b, "det_b");
    tu_fresh(c, sizeof c, "det_c");
    hm_synth_summary s;
    tu_synth(a, 250, 42, 2.0, 0, NULL, 1, NULL, &s);
    tu_synth(b, 250, 42, 2.0, 0, NULL, 1, NULL, &s);
    tu_synth(c, 250, 43, 2.0, 0, NULL, 1, NULL, &s);
    char codes[64][16];
    size_t nc = tu_centres(codes, 64);
    int differs = 0;
    for (size_t k = 0; k < nc; k++)
        for (size_t t = 1; t < NT; t++) {
            size_t la, lb;
            snprintf(pa, sizeof pa, "%s/%s/%s.csv", a, codes[k], TABLES[t]);
            snprintf(pb, sizeof pb, "%s/%s/%s.csv", b, codes[k], TABLES[t]);
            char *x = tu_slurp(pa, &la), *y = tu_slurp(pb, &lb);
            assert_int_equal(la, lb);
            assert_memory_equal(x, y, la);
            free(y);
            snprintf(pb, sizeof pb, "%s/%s/%s.csv", c, codes[k], TABLES[t]);
            y = tu_slurp(pb, &lb);
            differs |= la != lb || memcmp(x, y, la);
            free(x);
            free(y);
        }
    assert_true(differs);    /* another seed, another cohort */
}

static void test_refusals(void **state)
{
    (void)state;
    char dir[4096];
    tu_fresh(dir, sizeof dir, "refuse");
    assert_int_equal(mkdir(dir, 0777), 0);
    hm_synth_opts o;
    memset(&o, 0, sizeof o);
    o.n_patients = 10;
    o.seed = 1;
    o.out_dir = dir;
    hm_synth_summary s;
    hm_error err;
    hm_error_clear(&err);
    assert_int_equal(hm_synth_run(&o, &s, &err), HM_EIO);
    assert_non_null(strstr(err.msg, "refusing to overwrite"));
    tu_fresh(dir, sizeof dir, "refuse");
    o.err_organ = "spleen";
    assert_int_equal(hm_synth_run(&o, &s, &err), HM_EINVAL);
    assert_string_equal(err.field, "--err-organ");
    o.err_organ = NULL;
    o.organs = "lung,kidneyz";
    assert_int_equal(hm_synth_run(&o, &s, &err), HM_EINVAL);
    assert_non_null(strstr(err.msg, "kidneyz"));
    o.organs = NULL;
    o.err_outcomes = "leukaemia,bone";
    assert_int_equal(hm_synth_run(&o, &s, &err), HM_EINVAL);
    struct stat st;
    assert_int_not_equal(stat(dir, &st), 0);           /* nothing was created */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_match_dictionary),
        cmocka_unit_test(test_layout_by_country),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
