/* test_import.c — a synthetic cohort goes into the registry with zero
 * errors: the pseudonymised output through the library import (every centre
 * and table), and the hospital-format output through the command line
 * chain keygen -> pseudonymise -> import for one centre (Norway, with date
 * offsets). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hm_registry.h"
#include "synth_test_util.h"

static const char *const TABLES[] = { "centre", "patient", "procedure", "irradiation_event",
                                      "organ_dose", "outcome", "followup" };
#define NT 7

static void test_library_import(void **state)
{
    (void)state;
    char dir[4096], db_path[4300], path[4300];
    tu_fresh(dir, sizeof dir, "import");
    hm_synth_summary s;
    tu_synth(dir, 150, 21, 1.0, 0, NULL, 1, NULL, &s);
    snprintf(db_path, sizeof db_path, "%s/registry.db", dir);
    hm_db *db;
    hm_error err;
    hm_error_clear(&err);
    if (hm_db_open(db_path, &db, &err))
        fail_msg("open: %s", err.msg);
    char codes[64][16];
    size_t nc = tu_centres(codes, 64);
    long stored[NT] = { 0 };
    for (size_t c = 0; c < nc; c++)
        for (size_t t = 0; t < NT; t++) {
            snprintf(path, sizeof path, "%s/%s/%s.csv", dir, codes[c], TABLES[t]);
            hm_import_report rep;
            hm_import_report_init(&rep);
            int rc = hm_registry_import_csv(db, codes[c], TABLES[t], path, &rep, &err);
            if (rc || rep.n_errors)
                fail_msg("%s: rc %d, %ld errors, first: %ld:%s: %s", path, rc, rep.n_errors,
                         rep.nissues ? rep.issues[0].line : 0L,
                         rep.nissues ? rep.issues[0].field : "",
                         rep.nissues ? rep.issues[0].msg : err.msg);
            assert_int_equal(rep.rows_stored, tu_rows(path));
            stored[t] += rep.rows_stored;
            hm_import_report_free(&rep);
        }
    hm_db_close(db);
    assert_int_equal(stored[0], 15);
    assert_int_equal(stored[1], 150);
    assert_int_equal(stored[2], s.procedures);
    assert_int_equal(stored[3], s.events);
    assert_int_equal(stored[4], s.organ_dose_rows);
    assert_int_equal(stored[5], s.outcome_rows);
    assert_int_equal(stored[6], 150);
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc)
        print_error("command failed (%d): %s\n", rc, cmd);
    return rc;
}

static void test_command_line_chain(void **state)
{
    (void)state;
    char dir[4096], cmd[16384];
    tu_fresh(dir, sizeof dir, "chain");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/p'", dir);
    assert_int_equal(run(cmd), 0);
    snprintf(cmd, sizeof cmd, "'%s' synth --patients 200 --seed 4 --hospital-format --out '%s/h' "
             "--organs red_marrow,lung --organ-doses >/dev/null", HM_HARMONIC_EXE, dir);
    assert_int_equal(run(cmd), 0);
    snprintf(cmd, sizeof cmd, "'%s' keygen --out '%s/k' 2>/dev/null", HM_HARMONIC_EXE, dir);
    assert_int_equal(run(cmd), 0);
    for (size_t t = 1; t < NT; t++) {
        snprintf(cmd, sizeof cmd,
                 "'%s' pseudonymise --key '%s/k' --table %s --offset-dates '%s/h/NO01/%s.csv' "
                 "'%s/p/%s.csv' 2>/dev/null", HM_HARMONIC_EXE, dir, TABLES[t], dir, TABLES[t],
                 dir, TABLES[t]);
        assert_int_equal(run(cmd), 0);
    }
    snprintf(cmd, sizeof cmd, "'%s' import --quiet --db '%s/r.db' --centre NO01 centre "
             "'%s/h/NO01/centre.csv'", HM_HARMONIC_EXE, dir, dir);
    assert_int_equal(run(cmd), 0);
    for (size_t t = 1; t < NT; t++) {
        snprintf(cmd, sizeof cmd, "'%s' import --quiet --db '%s/r.db' --centre NO01 %s "
                 "'%s/p/%s.csv' 2>'%s/import.err'", HM_HARMONIC_EXE, dir, TABLES[t], dir,
                 TABLES[t], dir);
        assert_int_equal(run(cmd), 0);
    }
    /* the pooled files hold no direct identifier and no date */
    snprintf(cmd, sizeof cmd, "grep -lE 'Synthetic Road|_date|[0-9]{4}-[0-9]{2}-[0-9]{2}' "
             "'%s'/p/*.csv", dir);
    assert_int_not_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_import),
        cmocka_unit_test(test_command_line_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
