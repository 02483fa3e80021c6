/* test_csv.c — the hospital CSV filter: column mapping, direct identifiers
 * dropped, date offsets, all-or-nothing on bad rows, the dictionary lookup. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hm_pseudo.h"

static hm_pseudo_key key;

static int setup(void **state)
{
    (void)state;
    unsigned char b[32];
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)(3 * i + 1);
    return hm_pseudo_key_from_bytes(&key, b, 32, 4, NULL);
}

static void tmp(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", HM_TEST_TMPDIR, name);
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static char *read_text(const char *path)
{
    static char buf[8192];
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static const char *PATIENT_COLS[] = { "centre_code", "pseudonym", "key_version", "sex",
                                      "birth_year", "birth_date", "syndrome", "transplant_date",
                                      "transplant_day" };

static void test_patient_offset_dates(void **state)
{
    (void)state;
    char in[512], out[512];
    tmp(in, sizeof in, "patient_in.csv");
    tmp(out, sizeof out, "patient_out.csv");
    write_text(in, "local_patient_id,name,national_id,phone,birth_date,sex,syndrome,transplant_date,centre_code\n"
                   "ab-12/34,\"Doe, John\",1850312345,+33 1 23,2001-03-04,M,none,2005-03-04,FR01\n"
                   " CD 99 ,Roe,2990512345,,2010-12-31,F,down,,FR01\n");
    hm_pseudo_csv_opts o = { "patient", 1, PATIENT_COLS, 9 };
    hm_pseudo_csv_result r;
    hm_error err;
    assert_int_equal(hm_pseudo_csv(&key, &o, in, out, &r, &err), HM_OK);
    assert_int_equal(r.rows, 2);
    assert_string_equal(r.dropped, "name,national_id,phone");
    char p1[65], p2[65], expect[1024];
    assert_int_equal(hm_pseudo_id(&key, "patient", "AB1234", p1, &err), HM_OK);
    assert_int_equal(hm_pseudo_id(&key, "patient", "CD99", p2, &err), HM_OK);
    /* 2001-03-04 -> 2005-03-04 is 4 years with one 29 February (2004): 1461 days */
    snprintf(expect, sizeof expect,
             "pseudonym,key_version,birth_year,sex,syndrome,transplant_day,centre_code\n"
             "%s,4,2001,M,none,1461,FR01\n%s,4,2010,F,down,,FR01\n", p1, p2);
    assert_string_equal(read_text(out), expect);

    /* Without --offset-dates the dates stay (the dictionary has them), and
     * the required birth_year is derived beside birth_date. */
    o.offset_dates = 0;
    assert_int_equal(hm_pseudo_csv(&key, &o, in, out, &r, &err), HM_OK);
    snprintf(expect, sizeof expect,
             "pseudonym,key_version,birth_date,birth_year,sex,syndrome,transplant_date,centre_code\n"
             "%s,4,2001-03-04,2001,M,none,2005-03-04,FR01\n%s,4,2010-12-31,2010,F,down,,FR01\n",
             p1, p2);
    assert_string_equal(read_text(out), expect);
}

static void test_events_and_uids(void **state)
{
    (void)state;
    static const char *cols[] = { "procedure_id", "event_uid", "event_day", "event_time_s",
                                  "kvp", "centre_code" };
    char in[512], out[512];
    tmp(in, sizeof in, "event_in.csv");
    tmp(out, sizeof out, "event_out.csv");
    write_text(in, "local_procedure_id,local_event_uid,birth_date,event_datetime,kvp,centre_code\n"
                   "acc-1,1.2.826.0.1.3680043.2.1125.1,2020-01-01,2020-01-11T10:00:05.25,70,NO01\n");
    hm_pseudo_csv_opts o = { "irradiation_event", 1, cols, 6 };
    hm_pseudo_csv_result r;
    hm_error err;
    assert_int_equal(hm_pseudo_csv(&key, &o, in, out, &r, &err), HM_OK);
    assert_string_equal(r.dropped, "birth_date");
    char acc[65], uid[HM_PSEUDO_UID_SIZE], expect[1024];
    assert_int_equal(hm_pseudo_id(&key, "procedure", "ACC1", acc, &err), HM_OK);
    assert_int_equal(hm_pseudo_uid(&key, "event_uid", "1.2.826.0.1.3680043.2.1125.1", uid, &err),
                     HM_OK);
    assert_int_equal(strncmp(uid, "2.25.", 5), 0);
    snprintf(expect, sizeof expect,
             "procedure_id,event_uid,event_day,event_time_s,kvp,centre_code\n"
             "%s,%s,10,36005.25,70,NO01\n", acc, uid);
    assert_string_equal(read_text(out), expect);
}

static void test_organ_dose_source(void **state)
{
    (void)state;
    static const char *cols[] = { "centre_code", "source_type", "source_id", "organ", "method",
                                  "realization", "dose_mgy" };
    char in[512], out[512];
    tmp(in, sizeof in, "dose_in.csv");
    tmp(out, sizeof out, "dose_out.csv");
    write_text(in, "centre_code,source_type,local_procedure_id,organ,method,realization,dose_mgy\n"
                   "GB01,procedure,ACC1,lung,synthetic,0,12.5\n");
    hm_pseudo_csv_opts o = { "organ_dose", 0, cols, 7 };
    hm_pseudo_csv_result r;
    hm_error err;
    assert_int_equal(hm_pseudo_csv(&key, &o, in, out, &r, &err), HM_OK);
    char acc[65], expect[512];
    assert_int_equal(hm_pseudo_id(&key, "procedure", "ACC1", acc, &err), HM_OK);
    snprintf(expect, sizeof expect,
             "centre_code,source_type,source_id,organ,method,realization,dose_mgy\n"
             "GB01,procedure,%s,lung,synthetic,0,12.5\n", acc);
    assert_string_equal(read_text(out), expect);
}

/* Pseudonymises `text` as table `table` with the dictionary's columns and
 * --offset-dates; returns the output (static buffer). */
static const char *pseudo_table(const char *table, const char *text, char *dropped, size_t n)
{
    char **cols;
    size_t ncols;
    hm_error err;
    assert_int_equal(hm_pseudo_dict_columns(table, &cols, &ncols, &err), HM_OK);
    char in[512], out[512];
    tmp(in, sizeof in, "treat_in.csv");
    tmp(out, sizeof out, "treat_out.csv");
    write_text(in, text);
    hm_pseudo_csv_opts o = { table, 1, (const char *const *)cols, ncols };
    hm_pseudo_csv_result r;
    int rc = hm_pseudo_csv(&key, &o, in, out, &r, &err);
    if (rc)
        fail_msg("%s:%ld:%s: %s", err.file, err.line, err.field, err.msg);
    hm_pseudo_dict_free(cols, ncols);
    snprintf(dropped, n, "%s", r.dropped);
    return read_text(out);
}

/* The treatment tables: the patient's pseudonym, the record's own id and the
 * course it belongs to as in rt_course (namespace "course"), dates as days
 * since birth (2008-02-29 -> 2009-01-10 is 316 days, -> 2009-06-01 458,
 * -> 2009-08-01 519, -> 2008-12-01 276), direct identifiers dropped. */
static void test_treatment_tables(void **state)
{
    (void)state;
    hm_error err;
    char pat[65], chemo[65], chemo2[65], course[65], sct[65], surg[65], expect[2048], dropped[1024];
    assert_int_equal(hm_pseudo_id(&key, "patient", "P1", pat, &err), HM_OK);
    assert_int_equal(hm_pseudo_id(&key, "chemo", "CH1", chemo, &err), HM_OK);
    assert_int_equal(hm_pseudo_id(&key, "chemo", "CH2", chemo2, &err), HM_OK);
    assert_int_equal(hm_pseudo_id(&key, "course", "RT7", course, &err), HM_OK);
    assert_int_equal(hm_pseudo_id(&key, "sct", "T1", sct, &err), HM_OK);
    assert_int_equal(hm_pseudo_id(&key, "surgery", "OP1", surg, &err), HM_OK);
    const char *got = pseudo_table("chemotherapy",
        "local_patient_id,local_chemo_id,local_course_id,birth_date,agent,cumulative_dose_mg_m2,"
        "route,start_date,end_date,physician\n"
        "p-1,CH 1,rt/7,2008-02-29,cyclophosphamide,4200,iv,2009-01-10,2009-06-01,Dr X\n"
        "P1,CH-2,,2008-02-29,vincristine,12,iv,,,\n", dropped, sizeof dropped);
    snprintf(expect, sizeof expect,
             "pseudonym,chemo_id,course_id,agent,cumulative_dose_mg_m2,route,start_day,end_day\n"
             "%s,%s,%s,cyclophosphamide,4200,iv,316,458\n"
             "%s,%s,,vincristine,12,iv,,\n", pat, chemo, course, pat, chemo2);
    assert_string_equal(got, expect);
    assert_non_null(strstr(dropped, "physician"));
    got = pseudo_table("stem_cell_transplant",
        "local_patient_id,local_sct_id,local_course_id,birth_date,sct_date,sct_type,tbi,tbi_dose_gy,donor_name\n"
        "P1,T1,RT7,2008-02-29,2009-08-01,allogeneic,1,12,Jane Roe\n", dropped, sizeof dropped);
    snprintf(expect, sizeof expect,
             "pseudonym,sct_id,course_id,sct_day,sct_type,tbi,tbi_dose_gy\n"
             "%s,%s,%s,519,allogeneic,1,12\n", pat, sct, course);
    assert_string_equal(got, expect);
    assert_non_null(strstr(dropped, "donor_name"));
    got = pseudo_table("surgery",
        "local_patient_id,local_surgery_id,birth_date,surgery_date,kind,extent,site\n"
        "P1,OP1,2008-02-29,2008-12-01,resection,gross_total,\"Brain, left\"\n", dropped, sizeof dropped);
    snprintf(expect, sizeof expect,
             "pseudonym,surgery_id,surgery_day,kind,extent,site\n"
             "%s,%s,276,resection,gross_total,\"Brain, left\"\n", pat, surg);
    assert_string_equal(got, expect);
    /* The course id is the one rt_course gets from the same local id. */
    got = pseudo_table("rt_course", "local_patient_id,local_course_id,birth_date,technique\n"
                                    "P1,RT7,2008-02-29,imrt\n", dropped, sizeof dropped);
    assert_non_null(strstr(got, course));
}

static int leftover_tmp_files(void)
{
    DIR *d = opendir(HM_TEST_TMPDIR);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void expect_failure(const char *text, int offset, long line, const char *field,
                           const char *what)
{
    static const char *cols[] = { "pseudonym", "procedure_id", "proc_date", "proc_day",
                                  "kap_total_gy_cm2" };
    char in[512], out[512];
    tmp(in, sizeof in, "bad_in.csv");
    tmp(out, sizeof out, "bad_out.csv");
    write_text(in, text);
    write_text(out, "previous content\n");
    hm_pseudo_csv_opts o = { "procedure", offset, cols, 5 };
    hm_pseudo_csv_result r;
    hm_error err;
    hm_error_clear(&err);
    assert_true(hm_pseudo_csv(&key, &o, in, out, &r, &err) < 0);
    assert_string_equal(err.file, in);
    assert_int_equal(err.line, line);
    assert_string_equal(err.field, field);
    if (!strstr(err.msg, what))
        fail_msg("message '%s' lacks '%s'", err.msg, what);
    assert_string_equal(read_text(out), "previous content\n");   /* untouched */
    assert_int_equal(leftover_tmp_files(), 0);
}

static void test_all_or_nothing(void **state)
{
    (void)state;
    const char *head = "local_patient_id,local_procedure_id,birth_date,proc_date,kap_total_gy_cm2\n";
    char buf[1024];
    snprintf(buf, sizeof buf, "%sP1,A1,2001-01-01,2001-02-01,1.5\nP1,A2,2001-01-01,2001-02-30,2\n", head);
    expect_failure(buf, 1, 3, "proc_date", "not a date");
    snprintf(buf, sizeof buf, "%sP1,A1,2001-01-01,2001-02-01,1.5\n,A2,2001-01-01,2001-02-03,2\n", head);
    expect_failure(buf, 1, 3, "local_patient_id", "empty local patient id");
    snprintf(buf, sizeof buf, "%sP1,A1,2001-01-01,2001-02-01\n", head);
    expect_failure(buf, 1, 2, "", "4 fields, expected 5");
    snprintf(buf, sizeof buf, "%sP1,A1,,2001-02-01,1.5\n", head);
    expect_failure(buf, 1, 2, "birth_date", "empty birth date");
    expect_failure("local_patient_id,proc_date\nP1,2001-01-01\n", 1, 1, "birth_date",
                   "needs a birth_date column");
    expect_failure("local_procedure_id,proc_date\nA1,2001-01-01\n", 0, 1, "local_patient_id",
                   "missing column");
    snprintf(buf, sizeof buf, "%sP\x02,A1,2001-01-01,2001-02-01,1.5\n", head);
    expect_failure(buf, 1, 2, "local_patient_id", "control character");
}

static void test_dictionary(void **state)
{
    (void)state;
    char **cols;
    size_t n;
    hm_error err;
    assert_int_equal(hm_pseudo_dict_columns("patient", &cols, &n, &err), HM_OK);
    int have_pseudonym = 0, have_version = 0, have_name = 0;
    for (size_t i = 0; i < n; i++) {
        have_pseudonym |= !strcmp(cols[i], "pseudonym");
        have_version |= !strcmp(cols[i], "key_version");
        have_name |= !strcmp(cols[i], "name");
    }
    assert_true(have_pseudonym && have_version && !have_name);
    hm_pseudo_dict_free(cols, n);
    assert_int_equal(hm_pseudo_dict_columns("no_such_table", &cols, &n, &err), HM_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patient_offset_dates),
        cmocka_unit_test(test_events_and_uids),
        cmocka_unit_test(test_organ_dose_source),
        cmocka_unit_test(test_treatment_tables),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_dictionary),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
