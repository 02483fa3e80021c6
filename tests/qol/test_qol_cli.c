/*
 * test_qol_cli.c — `harmonic qol score` through the program: --items as a
 * table and as JSON (scores equal to the hand-computed ones), a bad file
 * (exit 1, file:line:field messages, nothing printed on stdout), option
 * misuse (exit 2), and --db after `harmonic import` of qol_item.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hm_testcmd.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H HM_HARMONIC_EXE
#define T HM_TEST_TMPDIR
#define PSEUDO(n) "00000000000000000000000000000000000000000000000000000000000000" n

static char out[1 << 16], err[1 << 14];

static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s", H, args);
    return hm_test_run_in(T, cmd, out, sizeof out, err, sizeof err);
}

static void write_tmp(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", T, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* A teen self-report: physical 0,0,1,1,2,2,NA,NA -> (100+100+75+75+50+50)/6 = 75. */
static const char *TEEN =
    "assessment_id,item_id,instrument,form,respondent,assessment_day,response\n"
    "T1,GC_PHYS_1,pedsql_generic,gc_teen_self,child,5500,0\n"
    "T1,GC_PHYS_2,pedsql_generic,gc_teen_self,child,5500,0\n"
    "T1,GC_PHYS_3,pedsql_generic,gc_teen_self,child,5500,1\n"
    "T1,GC_PHYS_4,pedsql_generic,gc_teen_self,child,5500,1\n"
    "T1,GC_PHYS_5,pedsql_generic,gc_teen_self,child,5500,2\n"
    "T1,GC_PHYS_6,pedsql_generic,gc_teen_self,child,5500,2\n"
    "T1,GC_PHYS_7,pedsql_generic,gc_teen_self,child,5500,NA\n"
    "T1,GC_PHYS_8,pedsql_generic,gc_teen_self,child,5500,NA\n";

static void test_items_table_and_json(void **state)
{
    (void)state;
    write_tmp("teen.csv", TEEN);
    assert_int_equal(run("qol score --items teen.csv"), 0);
    assert_non_null(strstr(out, "T1\tpedsql_generic\tgc_teen_self\tchild\tphysical\t8\t6\t75.000\n"));
    assert_non_null(strstr(out, "T1\tpedsql_generic\tgc_teen_self\tchild\ttotal\t23\t6\tNA\n"));
    assert_int_equal(run("qol score --items teen.csv --json"), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    json_t *a = json_array_get(json_object_get(j, "assessments"), 0);
    assert_string_equal(json_string_value(json_object_get(a, "form")), "gc_teen_self");
    json_t *scores = json_object_get(a, "scores");
    assert_int_equal(json_array_size(scores), 6);
    json_t *phys = json_array_get(scores, 0);
    assert_string_equal(json_string_value(json_object_get(phys, "scale")), "physical");
    assert_true(json_real_value(json_object_get(phys, "score")) == 75.0);
    assert_int_equal(json_integer_value(json_object_get(phys, "answered")), 6);
    assert_true(json_is_null(json_object_get(json_array_get(scores, 5), "score")));
    json_decref(j);
}

static void test_items_bad_file(void **state)
{
    (void)state;
    write_tmp("bad.csv", "assessment_id,item_id,instrument,form,respondent,assessment_day,response\n"
                         "Y1,GC_PHYS_1,pedsql_generic,gc_young_child_self,child,2200,1\n"
                         "Y1,GC_PHYS_2,pedsql_generic,gc_young_child_self,child,2200,2\n");
    assert_int_equal(run("qol score --items bad.csv"), 1);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "bad.csv:2:response: 1 is not an answer of form "
                                "gc_young_child_self: expected one of 0;2;4"));
    assert_non_null(strstr(err, "bad.csv: 1 problem, nothing scored"));
    assert_int_equal(run("qol score --items bad.csv --db x.db"), 2);
    assert_int_equal(run("qol score --json"), 2);
    assert_int_equal(run("qol score --items missing.csv"), 1);
}

static void test_db(void **state)
{
    (void)state;
    write_tmp("centre.csv", "centre_code,country,name,cohort\nBE01,BE,Leuven,radiotherapy\n");
    write_tmp("patient.csv", "centre_code,pseudonym,key_version,cohort,sex,birth_year,birth_date,"
                             "syndrome,consent\nBE01," PSEUDO("07") ",1,radiotherapy,M,2004,"
                             "2004-02-01,none,given\n");
    /* 15 on 2019-03-01: the teen form; the items of TEEN with centre and patient */
    char items[4096];
    size_t o = (size_t)snprintf(items, sizeof items, "centre_code,assessment_id,item_id,pseudonym,"
                                "instrument,form,respondent,assessment_date,response\n");
    const char *resp[] = { "0", "0", "1", "1", "2", "2", "NA", "NA" };
    for (int i = 0; i < 8; i++)
        o += (size_t)snprintf(items + o, sizeof items - o, "BE01,T1,GC_PHYS_%d," PSEUDO("07")
                              ",pedsql_generic,gc_teen_self,child,2019-03-01,%s\n", i + 1, resp[i]);
    write_tmp("qol_item.csv", items);
    remove(T "/qol.db");
    assert_int_equal(run("import --db qol.db --centre BE01 centre centre.csv"), 0);
    assert_int_equal(run("import --db qol.db --centre BE01 patient patient.csv"), 0);
    assert_int_equal(run("import --db qol.db --centre BE01 qol_item qol_item.csv"), 0);
    assert_int_equal(run("qol score --db qol.db"), 0);
    assert_non_null(strstr(err, "1 assessments scored from 8 items: 1 scores written, 5 not computed"));
    assert_int_equal(run("export --db qol.db --out exp"), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/exp/qol_score.csv", T);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(out, 1, sizeof out - 1, fp);
    out[n] = 0;
    fclose(fp);
    assert_non_null(strstr(out, "BE01,T1,physical," PSEUDO("07") ",pedsql_generic,child,"
                                "2019-03-01,5507,75\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_table_and_json),
        cmocka_unit_test(test_items_bad_file),
        cmocka_unit_test(test_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
