/* test_registry.c — the registry reader: a small cohort written to a fresh
 * SQLite registry (dates and, for Norway, days since birth; two dosimetry
 * methods of one dose; a non-cancer outcome) is read back and tabulated;
 * person-years and cases are worked out by hand; the table is stored as
 * results and read back; realizations give the same table from organ_dose
 * rows or packed in organ_dose_real.  On SQLite always; on PostgreSQL too when
 * HM_TEST_PG_URL is set (a throw-away schema, dropped at the end). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_epi.h"
#include "hm_registry.h"
#include "hm_testdb.h"

#define Y 365.25
static char dbpath[1200];
static const char *SQL[] = {
    "INSERT INTO centre VALUES ('BE01','BE','Leuven','cardiac'), ('NO01','NO','Oslo','cardiac')",
    /* A: dated; B: Norway, days since birth, Down syndrome, transplant at day 4000. */
    "INSERT INTO patient (centre_code, pseudonym, key_version, cohort, sex, birth_year, birth_date, syndrome, "
    "transplant_date, transplant_day, consent) VALUES "
    "('BE01','aa',1,'cardiac','M',1990,'1990-01-01','none',NULL,NULL,'given'),"
    "('NO01','bb',1,'cardiac','F',1995,NULL,'down',NULL,4000,'given'),"
    "('BE01','cc',1,'cardiac','F',1996,'1996-01-01','none',NULL,NULL,'given')",
    "INSERT INTO followup VALUES ('BE01','aa','alive','2010-01-01',NULL,'study_end'),"
    "('NO01','bb','dead',NULL,6000,'death')",  /* cc has no follow-up: not analysed */
    "INSERT INTO procedure (centre_code, procedure_id, pseudonym, proc_date, proc_day, exam_type, category, dose_tier) VALUES "
    "('BE01','p1','aa','2000-01-01',NULL,'diag_cath','diagnostic','2'),"
    "('NO01','p2','bb',NULL,1000,'diag_cath','diagnostic','2'),"
    "('BE01','p3','cc','2000-01-01',NULL,'diag_cath','diagnostic','2')",
    /* p1 has two methods: rdsr_mc (10 mGy) wins over kap_coefficient (99). */
    "INSERT INTO organ_dose VALUES ('BE01','procedure','p1','red_marrow','kap_coefficient',0,99),"
    "('BE01','procedure','p1','red_marrow','rdsr_mc',0,10),"
    "('BE01','procedure','p1','lung','rdsr_mc',0,500),"
    "('NO01','procedure','p2','red_marrow','synthetic',0,30),"
    "('BE01','procedure','p3','red_marrow','synthetic',0,5)",
    "INSERT INTO outcome VALUES ('NO01','o1','bb','cancer','C42.1','9861/3',NULL,NULL,5000),"
    "('BE01','o2','aa','cardiovascular',NULL,NULL,'I42',NULL,1000)",
    /* Treatments: aa cyclophosphamide 3000 mg/m2 from 2004-01-01, doxorubicin
     * 200 without a date, etoposide (no factor), SCT on 2006-01-01; bb
     * ifosfamide 10000 from day 2000, SCT at day 3000; cc is not followed. */
    "INSERT INTO chemotherapy (centre_code, chemo_id, pseudonym, agent, cumulative_dose_mg_m2, "
    "start_date, start_day) VALUES "
    "('BE01','c1','aa','cyclophosphamide',3000,'2004-01-01',NULL),"
    "('BE01','c2','aa','doxorubicin',200,NULL,NULL),"
    "('BE01','c3','aa','etoposide',500,'2001-01-01',NULL),"
    "('NO01','c4','bb','ifosfamide',10000,NULL,2000),"
    "('BE01','c5','cc','melphalan',140,NULL,NULL)",
    "INSERT INTO stem_cell_transplant (centre_code, sct_id, pseudonym, sct_date, sct_day, sct_type) VALUES "
    "('BE01','s1','aa','2006-01-01',NULL,'autologous'), ('NO01','s2','bb',NULL,3000,'allogeneic')",
};

/* Fills a fresh database at dbpath. */
static int fill(void)
{
    hm_db *db;
    hm_error err;
    if (hm_db_open(dbpath, &db, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    for (size_t i = 0; i < sizeof SQL / sizeof *SQL; i++)
        if (hm_db_exec(db, SQL[i], &err) < 0) {
            fprintf(stderr, "%s: %s\n", SQL[i], err.msg);
            hm_db_close(db);
            return -1;
        }
    hm_db_close(db);
    return 0;
}

static int setup_sqlite(void **state)
{
    (void)state;
    tdb_new_url_on(0, "registry", dbpath, sizeof dbpath);
    return fill();
}

static int setup_pg(void **state)
{
    (void)state;
    tdb_new_url_on(1, "epi", dbpath, sizeof dbpath);
    return fill();
}

static int teardown_pg(void **state)
{
    (void)state;
    tdb_cleanup();
    return 0;
}

static void test_read_and_tabulate(void **state)
{
    (void)state;
    hm_error err;
    hm_epi_cohort *c;
    hm_epi_outcomes *oc;
    assert_int_equal(hm_epi_outcomes_load(NULL, &oc, &err), 0);
    int rc = hm_epi_cohort_from_registry(dbpath, "red_marrow", 0, NULL, &c, &err);
    if (rc < 0)
        fail_msg("%s:%ld:%s: %s", err.file, err.line, err.field, err.msg);
    assert_int_equal(hm_epi_cohort_size(c), 2);
    hm_epi_tab_options o;
    memset(&o, 0, sizeof o);
    o.lag_years = 2;
    o.ngroups = 1;
    o.groups[0] = hm_epi_outcomes_find(oc, "leukaemia_excl_cll");
    o.by_syndrome = o.by_transplant = 1;
    assert_int_equal(hm_epi_cuts_parse("0,100", &o.dose, "dose", &err), 0);
    hm_epi_table t;
    hm_epi_tab_summary s;
    assert_int_equal(hm_epi_tabulate(c, oc, &o, &t, &s, &err), 0);
    /* A: 2000-01-01 .. 2010-01-01, 10 mGy from 2002-01-01 (rdsr_mc, not 99).
     * B: born 1 July 1995 (birth_year only), days 1000 .. 5000 (AML), 30 mGy,
     * transplant from day 4000. */
    double A = (hm_epi_day_from_civil(2010, 1, 1) - hm_epi_day_from_civil(2000, 1, 1)) / Y;
    assert_true(fabs(s.pyr - (A + 4000 / Y)) < 1e-9);
    assert_true(s.cases[0] == 1);
    int cdose = hm_epi_table_col(&t, "dose_mgy"), cpy = hm_epi_table_col(&t, "pyr");
    int csyn = hm_epi_table_col(&t, "syndrome"), ctx = hm_epi_table_col(&t, "transplant");
    double dose_py = 0;
    for (size_t r = 0; r < t.nrows; r++) {
        dose_py += t.cols[cdose][r] * t.cols[cpy][r];
        if (t.cols[ctx][r] == 1) {
            assert_true(t.cols[csyn][r] == 1);
            assert_true(fabs(t.cols[cpy][r] - 1000 / Y) < 1e-9);
        }
    }
    double expect = 10 * (A - 2) + 30 * (4000 - 2 * Y) / Y;
    assert_true(fabs(dose_py - expect) < 1e-6);

    /* Store as results, twice (the second run replaces the first). */
    assert_int_equal(hm_epi_table_store(dbpath, "test-run", &t, &err), 0);
    assert_int_equal(hm_epi_table_store(dbpath, "test-run", &t, &err), 0);
    hm_db *db;
    hm_stmt *st;
    assert_int_equal(hm_db_open(dbpath, &db, &err), 0);
    assert_int_equal(hm_db_prepare(db, "SELECT COUNT(*), SUM(value) FROM epi_result WHERE run_id = 'test-run' "
                                       "AND name = 'pyr'", &st, &err), 0);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    assert_int_equal(hm_stmt_column_int64(st, 0), (int64_t)t.nrows);
    assert_true(fabs(hm_stmt_column_double(st, 1) - s.pyr) < 1e-6);
    hm_stmt_finalize(st);
    hm_db_close(db);
    hm_epi_table_free(&t);
    hm_epi_cohort_free(c);

    /* An organ without doses is a clear error. */
    assert_true(hm_epi_cohort_from_registry(dbpath, "thyroid", 0, NULL, &c, &err) < 0);
    assert_non_null(strstr(err.msg, "thyroid"));
    hm_epi_outcomes_free(oc);
}

/* The same realizations stored as organ_dose rows (realization 1..3) or
 * packed in organ_dose_real give the same person-year table; packed rows win
 * when both are there.  Values are exact in float32. */
static const float REAL_P1[3] = { 8.5f, 10.0f, 12.25f }, REAL_P2[3] = { 28.0f, 30.5f, 33.0f };

static void tabulate_real(hm_epi_table *t)
{
    hm_error err;
    hm_epi_cohort *c;
    hm_epi_outcomes *oc;
    assert_int_equal(hm_epi_outcomes_load(NULL, &oc, &err), 0);
    int rc = hm_epi_cohort_from_registry(dbpath, "red_marrow", 1, NULL, &c, &err);
    if (rc < 0)
        fail_msg("%s:%ld:%s: %s", err.file, err.line, err.field, err.msg);
    assert_int_equal(hm_epi_cohort_realizations(c), 3);
    hm_epi_tab_options o;
    memset(&o, 0, sizeof o);
    o.lag_years = 2;
    o.ngroups = 1;
    o.groups[0] = hm_epi_outcomes_find(oc, "leukaemia_excl_cll");
    assert_int_equal(hm_epi_cuts_parse("0,20,100", &o.dose, "dose", &err), 0);
    hm_epi_tab_summary s;
    assert_int_equal(hm_epi_tabulate(c, oc, &o, t, &s, &err), 0);
    hm_epi_cohort_free(c);
    hm_epi_outcomes_free(oc);
}

/* ced_mg_m2, die_mg_m2 and sct per person (by_person, no other split, no
 * lag): PY-weighted means of the cumulative values over follow-up. */
static void test_treatment_covariates(void **state)
{
    (void)state;
    hm_error err;
    hm_epi_cohort *c;
    hm_epi_outcomes *oc;
    assert_int_equal(hm_epi_outcomes_load(NULL, &oc, &err), 0);
    int rc = hm_epi_cohort_from_registry(dbpath, "red_marrow", 0, NULL, &c, &err);
    if (rc < 0)
        fail_msg("%s:%ld:%s: %s", err.file, err.line, err.field, err.msg);
    hm_epi_tab_options o;
    memset(&o, 0, sizeof o);
    o.ngroups = 1;
    o.groups[0] = hm_epi_outcomes_find(oc, "leukaemia_excl_cll");
    o.by_person = 1;
    hm_epi_table t;
    assert_int_equal(hm_epi_tabulate(c, oc, &o, &t, NULL, &err), 0);
    assert_int_equal(t.nrows, 2);
    int cid = hm_epi_table_col(&t, "id"), cced = hm_epi_table_col(&t, "ced_mg_m2");
    int cdie = hm_epi_table_col(&t, "die_mg_m2"), csct = hm_epi_table_col(&t, "sct");
    assert_true(cid >= 0 && cced >= 0 && cdie >= 0 && csct >= 0);
    double a0 = hm_epi_day_from_civil(2000, 1, 1), a1 = hm_epi_day_from_civil(2010, 1, 1);
    double cy = hm_epi_day_from_civil(2004, 1, 1), tx = hm_epi_day_from_civil(2006, 1, 1);
    for (size_t r = 0; r < t.nrows; r++) {
        const char *id = t.levels[cid][(size_t)t.cols[cid][r]];
        if (!strcmp(id, "BE01:aa")) {
            /* CED 1 x 3000 from 2004; DIE 1 x 200 all along (no date: from the
             * start of follow-up); etoposide adds nothing; SCT from 2006. */
            assert_true(fabs(t.cols[cced][r] - 3000 * (a1 - cy) / (a1 - a0)) < 1e-9);
            assert_true(fabs(t.cols[cdie][r] - 200) < 1e-9);
            assert_true(fabs(t.cols[csct][r] - (a1 - tx) / (a1 - a0)) < 1e-9);
        } else {
            /* bb, days 1000..5000: CED 0.244 x 10000 from day 2000, SCT from 3000. */
            assert_string_equal(id, "NO01:bb");
            assert_true(fabs(t.cols[cced][r] - 2440.0 * 3000 / 4000) < 1e-9);
            assert_true(t.cols[cdie][r] == 0);
            assert_true(fabs(t.cols[csct][r] - 0.5) < 1e-9);
        }
    }
    hm_epi_table_free(&t);
    hm_epi_cohort_free(c);
    hm_epi_outcomes_free(oc);
}

static void test_realizations_either_storage(void **state)
{
    (void)state;
    hm_db *db;
    hm_error err;
    /* Rows: realizations 1..3 of p1 (rdsr_mc) and p2 (synthetic). */
    assert_int_equal(hm_db_open(dbpath, &db, &err), 0);
    hm_stmt *st;
    assert_int_equal(hm_db_prepare(db, "INSERT INTO organ_dose VALUES (?, 'procedure', ?, 'red_marrow', ?, ?, ?)",
                                   &st, &err), 0);
    for (int k = 0; k < 3; k++)
        for (int p = 0; p < 2; p++) {
            hm_stmt_reset(st);
            hm_stmt_bind_text(st, 1, p ? "NO01" : "BE01");
            hm_stmt_bind_text(st, 2, p ? "p2" : "p1");
            hm_stmt_bind_text(st, 3, p ? "synthetic" : "rdsr_mc");
            hm_stmt_bind_int64(st, 4, k + 1);
            hm_stmt_bind_double(st, 5, p ? REAL_P2[k] : REAL_P1[k]);
            assert_int_equal(hm_stmt_step(st, &err), 0);
        }
    hm_stmt_finalize(st);
    hm_db_close(db);
    hm_epi_table rows;
    tabulate_real(&rows);
    assert_true(hm_epi_table_col(&rows, "dose_mgy_r3") >= 0);

    /* Packed: the same numbers; the rows are replaced by different ones to
     * show the packed storage is the one read. */
    assert_int_equal(hm_db_open(dbpath, &db, &err), 0);
    assert_int_equal(hm_db_exec(db, "UPDATE organ_dose SET dose_mgy = 999 WHERE realization > 0", &err), 0);
    assert_int_equal(hm_db_begin(db, &err), 0);
    assert_int_equal(hm_registry_put_realizations(db, "BE01", "procedure", "p1", "red_marrow", "rdsr_mc",
                                                  "r", REAL_P1, 3, &err), 0);
    /* A lower-priority method for p1 is ignored, as for rows. */
    float other[3] = { 500, 500, 500 };
    assert_int_equal(hm_registry_put_realizations(db, "BE01", "procedure", "p1", "red_marrow",
                                                  "kap_coefficient", "r", other, 3, &err), 0);
    assert_int_equal(hm_registry_put_realizations(db, "NO01", "procedure", "p2", "red_marrow", "synthetic",
                                                  "r", REAL_P2, 3, &err), 0);
    assert_int_equal(hm_db_commit(db, &err), 0);
    hm_db_close(db);
    hm_epi_table packed;
    tabulate_real(&packed);
    assert_int_equal(packed.nrows, rows.nrows);
    assert_int_equal(packed.ncols, rows.ncols);
    for (size_t k = 0; k < rows.ncols; k++) {
        assert_string_equal(packed.names[k], rows.names[k]);
        for (size_t r = 0; r < rows.nrows; r++)
            assert_true(packed.cols[k][r] == rows.cols[k][r]);
    }
    hm_epi_table_free(&rows);
    hm_epi_table_free(&packed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_read_and_tabulate, setup_sqlite),
        cmocka_unit_test_setup(test_realizations_either_storage, setup_sqlite),
        cmocka_unit_test_setup(test_treatment_covariates, setup_sqlite),
    };
    int rc = cmocka_run_group_tests_name("sqlite", tests, NULL, NULL);
    const char *pg = getenv("HM_TEST_PG_URL");
    if (pg && *pg) {
        const struct CMUnitTest pgtests[] = {
            cmocka_unit_test_setup_teardown(test_read_and_tabulate, setup_pg, teardown_pg),
            cmocka_unit_test_setup_teardown(test_realizations_either_storage, setup_pg, teardown_pg),
            cmocka_unit_test_setup_teardown(test_treatment_covariates, setup_pg, teardown_pg),
        };
        rc |= cmocka_run_group_tests_name("postgresql", pgtests, NULL, NULL);
    } else {
        printf("HM_TEST_PG_URL unset: PostgreSQL part skipped\n");
    }
    return rc;
}
