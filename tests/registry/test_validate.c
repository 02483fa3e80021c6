/*
 * test_validate.c — field rules of the dictionary without a database: dates
 * (leap years), pseudonyms, DICOM UIDs, ICD-O-3/ICD-10 patterns, ranges,
 * missing codes, date/day pairs; and the dictionary's own printed forms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_registry.h"

static hm_dict *dict;

/* Validates one value of table.field (others filled from base) and returns
 * the first message, "" when valid. */
static const char *check(const char *table, const char **base, const char *field, const char *value)
{
    static char msg[300];
    const hm_dict_table *t = hm_dict_find_table(dict, table);
    const char *vals[64];
    assert_true(t->nfields <= 64);
    for (size_t i = 0; i < t->nfields; i++)
        vals[i] = base[i];
    int k = hm_dict_field_index(t, field);
    assert_true(k >= 0);
    vals[k] = value;
    hm_import_report rep;
    hm_import_report_init(&rep);
    int n = hm_dict_validate_row(t, vals, 7, &rep);
    snprintf(msg, sizeof msg, "%s", n ? rep.issues[0].msg : "");
    if (n)
        assert_int_equal(rep.issues[0].line, 7);
    hm_import_report_free(&rep);
    return msg;
}

static const char *PATIENT[64] = {
    "FR01", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "1", "cardiac",
    "F", "2004", "2004-02-29", "none", "", "", "", "given"
};
static const char *OUTCOME[64] = {
    "FR01", "O1", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "cancer",
    "C71.9", "9500/3", "C71.9", "2010-01-01", ""
};
static const char *EVENT[64] = {
    "FR01", "P1", "1.2.840.10008.1", "A", "fluoroscopy"      /* the rest absent */
};

static const char *CENTRE[64] = { "FR01", "FR", "Necker", "both" };

static void test_text_encoding(void **state)
{
    (void)state;
    assert_string_equal(check("centre", CENTRE, "name", "H\xc3\xb4pital Necker"), "");
    assert_string_equal(check("centre", CENTRE, "name", "H\xf4pital"),
                        "text is not valid UTF-8 (byte 2): save the file as UTF-8");
    assert_string_equal(check("centre", CENTRE, "name", "\xed\xa0\x80"),   /* a surrogate */
                        "text is not valid UTF-8 (byte 1): save the file as UTF-8");
    assert_string_equal(check("centre", CENTRE, "name", "two\nlines"), "control character in text");
    /* The JSON report stays valid UTF-8 when a message quotes bad bytes. */
    const hm_dict_table *t = hm_dict_find_table(dict, "centre");
    const char *vals[4] = { "FR01", "F\xd6", "Necker", "both" };
    hm_import_report rep;
    hm_import_report_init(&rep);
    snprintf(rep.file, sizeof rep.file, "c.csv");
    assert_int_equal(hm_dict_validate_row(t, vals, 2, &rep), 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    hm_error err;
    assert_int_equal(hm_import_report_json(&rep, fp, &err), HM_OK);
    fclose(fp);
    assert_non_null(strstr(buf, "\"message\": \"'F?' is not a known code: expected one of "
                                "BE;DE;DK;ES;FR;GB;IT;NO\""));
    free(buf);
    hm_import_report_free(&rep);
}

static void test_dates(void **state)
{
    (void)state;
    assert_string_equal(check("patient", PATIENT, "birth_date", "2004-02-29"), "");
    assert_string_equal(check("patient", PATIENT, "birth_date", "2000-02-29"), "");
    assert_string_equal(check("patient", PATIENT, "birth_date", "1900-02-29"),
                        "'1900-02-29' is not a date: expected YYYY-MM-DD");
    assert_string_equal(check("patient", PATIENT, "birth_date", "2003-02-29"),
                        "'2003-02-29' is not a date: expected YYYY-MM-DD");
    assert_string_equal(check("patient", PATIENT, "birth_date", "2004-2-29"),
                        "'2004-2-29' is not a date: expected YYYY-MM-DD");
    assert_string_equal(check("patient", PATIENT, "birth_date", "1949-12-31"),
                        "'1949-12-31' out of range: expected 1950-01-01 to 2030-12-31");
    assert_string_equal(check("patient", PATIENT, "birth_date", "NA"), "");   /* missing code */
    assert_string_equal(check("irradiation_event", EVENT, "event_datetime", "2005-04-01T23:59:60.5"), "");
    assert_string_equal(check("irradiation_event", EVENT, "event_datetime", "2005-04-01 10:00:00"),
                        "'2005-04-01 10:00:00' is not a date-time: expected YYYY-MM-DDThh:mm:ss");
}

static void test_identifiers(void **state)
{
    (void)state;
    assert_string_equal(check("patient", PATIENT, "pseudonym",
                              "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"),
                        "'0123456789ABCDEF0123...' is not a pseudonym (64 lowercase hex digits)");
    assert_string_equal(check("patient", PATIENT, "pseudonym", "abc"),
                        "'abc' is not a pseudonym (64 lowercase hex digits)");
    assert_string_equal(check("irradiation_event", EVENT, "event_uid", "1.2.840.0"), "");
    assert_string_equal(check("irradiation_event", EVENT, "event_uid", "1.2.840.01"),
                        "'1.2.840.01' is not a DICOM UID (digits and dots, at most 64)");
    assert_string_equal(check("irradiation_event", EVENT, "event_uid", "1..2"),
                        "'1..2' is not a DICOM UID (digits and dots, at most 64)");
    assert_string_equal(check("outcome", OUTCOME, "icdo3_topography", "C7.19"),
                        "'C7.19' is not an ICD-O-3 topography like C71.9");
    assert_string_equal(check("outcome", OUTCOME, "icdo3_morphology", "9500/4"),
                        "'9500/4' is not an ICD-O-3 morphology like 9500/3");
    assert_string_equal(check("outcome", OUTCOME, "icd10", "I42"), "");
    assert_string_equal(check("outcome", OUTCOME, "icd10", "i42"),
                        "'i42' is not an ICD-10 code like C91.0 or I42");
}

static void test_numbers_codes_required(void **state)
{
    (void)state;
    assert_string_equal(check("patient", PATIENT, "birth_year", "2004.0"), "'2004.0' is not an integer");
    assert_string_equal(check("patient", PATIENT, "birth_year", " 2004"), "' 2004' is not an integer");
    assert_string_equal(check("patient", PATIENT, "key_version", "0"),
                        "'0' out of range: expected 1 to 1000");
    assert_string_equal(check("patient", PATIENT, "immunosuppression", "yes"), "'yes' is not 0 or 1");
    assert_string_equal(check("patient", PATIENT, "sex", "f"), "'f' is not a known code: expected one of M;F;U");
    assert_string_equal(check("patient", PATIENT, "sex", ""), "required value is empty");
    assert_string_equal(check("irradiation_event", EVENT, "kvp", "nan"), "'nan' is not a number");
    assert_string_equal(check("irradiation_event", EVENT, "kvp", "0x50"), "'0x50' is not a number");
    assert_string_equal(check("irradiation_event", EVENT, "kvp", "1e2"), "");
    assert_string_equal(check("outcome", OUTCOME, "event_date", ""),
                        "one of event_date or event_day is required");
    assert_string_equal(check("outcome", OUTCOME, "event_date", "NA"),
                        "one of event_date or event_day is required");
}

static void test_dictionary_forms(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    hm_error err;
    assert_int_equal(hm_dict_write(dict, "csv", fp, &err), HM_OK);
    fclose(fp);
    size_t lines = 0, fields = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    for (size_t i = 0; i < hm_dict_ntables(dict); i++)
        fields += hm_dict_table_at(dict, i)->nfields;
    assert_int_equal(lines, fields + 1);
    assert_non_null(strstr(buf, "\nprocedure,kap_total_gy_cm2,real,Gy.cm2,0,0.000001,1000,,NA;-9,0,"));
    free(buf);
    assert_int_equal(hm_dict_write(dict, "xml", stdout, &err), HM_EINVAL);
    assert_string_equal(err.field, "format");
    /* The written CSV loads back as the same dictionary. */
    char path[1024];
    snprintf(path, sizeof path, "%s/dict.csv", HM_TEST_TMPDIR);
    fp = fopen(path, "w");
    assert_int_equal(hm_dict_write(dict, "csv", fp, &err), HM_OK);
    fclose(fp);
    hm_dict *again;
    assert_int_equal(hm_dict_load(path, &again, &err), HM_OK);
    assert_int_equal(hm_dict_ntables(again), hm_dict_ntables(dict));
    hm_dict_free(again);
    /* A broken dictionary is refused with file and line. */
    fp = fopen(path, "w");
    fputs("table,field,type,unit,required,min,max,codes,missing_codes,key,description\n"
          "centre,centre_code,text,,1,,,,,1,x\ncentre,n,float,,0,,,,,0,y\n", fp);
    fclose(fp);
    assert_int_equal(hm_dict_load(path, &again, &err), HM_EPARSE);
    assert_int_equal(err.line, 3);
    assert_string_equal(err.msg, "unknown type 'float'");
}

int main(void)
{
    hm_error err;
    if (hm_dict_load(NULL, &dict, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_text_encoding),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_numbers_codes_required),
        cmocka_unit_test(test_dictionary_forms),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    hm_dict_free(dict);
    return rc;
}
