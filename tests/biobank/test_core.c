/*
 * test_core.c — the pure parts of the biobank: protocol parsing (the shipped
 * files and bad ones with file:line), the ISO 7064 MOD 37-2 check character
 * (reference value, every single-character substitution and adjacent
 * transposition detected), the logger CSV (limits inclusive, bad line named,
 * backwards time), time parsing and the SPREC pre-centrifugation element.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hm_biobank.h"

static void test_shipped_protocols(void **state)
{
    (void)state;
    hm_bb_protocol p;
    hm_error err;
    assert_int_equal(hm_bb_protocol_load("cardiac_v1", &p, NULL, &err), HM_OK);
    assert_string_equal(p.id, "cardiac_v1");
    assert_int_equal(p.ntypes, 4);
    assert_int_equal(p.ntimepoints, 3);
    assert_string_equal(p.timepoints[1].name, "post_procedure");
    const hm_bb_sample_rule *r = hm_bb_protocol_type(&p, "blood_edta");
    assert_non_null(r);
    assert_true(r->max_to_processing_h == 4 && r->storage_temp_c == -80 && r->aliquots_n == 4);
    assert_true(p.qc_a260_280_min == 1.7 && p.qc_a260_280_max == 2.0 && p.qc_rin_min == 7);
    assert_true(p.transport_max_c == -60);
    assert_int_equal(hm_bb_protocol_load("radiotherapy_v1", &p, NULL, &err), HM_OK);
    assert_non_null(hm_bb_protocol_timepoint(&p, "end_of_rt"));
}

static void expect_bad(const char *text, long line, const char *field)
{
    hm_bb_protocol p;
    hm_error err;
    hm_error_clear(&err);
    assert_int_equal(hm_bb_protocol_parse(text, strlen(text), "p.csv", &p, &err), HM_EPARSE);
    assert_string_equal(err.file, "p.csv");
    assert_int_equal(err.line, line);
    assert_string_equal(err.field, field);
}

#define HEAD "protocol,x,1\nsample,serum,SER,SST,4,2,4,-80,4,0.5\n"
#define TAIL "timepoint,baseline,0,0,serum\ntransport,-100,-60,72\nqc,dna_yield_ug,1,\n" \
             "qc,a260_280,1.7,2.0\nqc,rin,7,\n"

static void test_protocol_errors(void **state)
{
    (void)state;
    hm_bb_protocol p;
    hm_error err;
    const char *good = HEAD TAIL;
    assert_int_equal(hm_bb_protocol_parse(good, strlen(good), "p.csv", &p, &err), HM_OK);
    assert_string_equal(p.id, "x_v1");
    expect_bad("sample,serum,SER,SST,4,2,4,-80,4,0.5\n", 1, "sample");
    expect_bad("protocol,x,1\nsample,serum,SER,SST,four,2,4,-80,4,0.5\n", 2, "volume_ml");
    expect_bad("protocol,x,1\nsample,serum,SER,SST,1,2,4,-80,4,0.5\n", 2, "aliquot_volume_ml");
    expect_bad(HEAD "timepoint,baseline,0,0,saliva\n", 3, "types");
    expect_bad(HEAD "bogus,1\n", 3, "bogus");
    expect_bad(HEAD "transport,-60,-100,72\n", 3, "transport");
    expect_bad(HEAD "qc,a260_280,2.0,1.7\n", 3, "qc");
    expect_bad(HEAD "timepoint,baseline,0,0,serum\ntransport,-100,-60,72\n", 0,
               "qc (dna_yield_ug, a260_280 and rin)");
}

static void test_check_char(void **state)
{
    (void)state;
    /* ISO/IEC 7064 MOD 37-2 by hand for "A1": P = ((0+10)*2)%37 = 20,
     * P = ((20+1)*2)%37 = 5, check = (38-5)%37 = 33 -> 'X'. */
    assert_int_equal(hm_bb_check_char("A1"), 'X');
    assert_true(hm_bb_check_valid("A1X"));
    assert_false(hm_bb_check_valid("A1Y"));
    assert_int_equal(hm_bb_check_char("a1"), 0);              /* lower case is not in the alphabet */
    static const char alpha[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const char *bodies[] = { "FR01A000001", "DE02S123456", "NO07A999999", "ZZ9" };
    for (size_t b = 0; b < 4; b++) {
        char id[40];
        snprintf(id, sizeof id, "%s%c", bodies[b], hm_bb_check_char(bodies[b]));
        assert_true(hm_bb_check_valid(id));
        size_t n = strlen(id);
        long tried = 0;
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < sizeof alpha - 1 + 1; k++) {
                char c = k < sizeof alpha - 1 ? alpha[k] : '*';
                if (c == id[i] || (c == '*' && i + 1 < n))
                    continue;
                char bad[40];
                memcpy(bad, id, n + 1);
                bad[i] = c;
                assert_false(hm_bb_check_valid(bad));
                tried++;
            }
            if (i + 1 < n && id[i] != id[i + 1]) {          /* adjacent transposition */
                char bad[40];
                memcpy(bad, id, n + 1);
                bad[i] = id[i + 1];
                bad[i + 1] = id[i];
                assert_false(hm_bb_check_valid(bad));
            }
        }
        assert_true(tried >= (long)(n - 1) * 35);
    }
}

static void test_time(void **state)
{
    (void)state;
    double t;
    assert_int_equal(hm_bb_parse_time("1970-01-01T00:00:00Z", 20, &t), 0);
    assert_true(t == 0);
    /* 2024-03-01 is day 19783 after 1970-01-01 (2024 is a leap year: 19782 = 54 years
     * of 365 days + 13 leap days, + 31 + 29 days of 2024). */
    assert_int_equal(hm_bb_parse_time("2024-03-01 12:30", 16, &t), 0);
    assert_true(t == (54.0 * 365 + 13 + 31 + 29) * 86400 + 12 * 3600 + 30 * 60);
    char buf[32];
    hm_bb_format_time(t, buf);
    assert_string_equal(buf, "2024-03-01T12:30:00");
    assert_int_equal(hm_bb_parse_time("2023-02-29T00:00", 16, &t), -1);
    assert_int_equal(hm_bb_parse_time("2023-13-01T00:00", 16, &t), -1);
    assert_int_equal(hm_bb_parse_time("2023-01-01T00:00:00+01", 22, &t), -1);
}

static void test_logger(void **state)
{
    (void)state;
    hm_bb_logger_summary s;
    hm_error err;
    const char *ok = "# logger 1\ntimestamp,temperature_c\r\n2024-01-01T00:00:00Z,-78.5\r\n"
                     "2024-01-01T00:10:00Z,-60\n2024-01-01T00:20:00Z,-100\n"
                     "2024-01-01T00:30:00Z,-59.9\n2024-01-02T00:30:00Z,-100.1";
    assert_int_equal(hm_bb_logger_parse(ok, strlen(ok), "log.csv", -100, -60, &s, &err), HM_OK);
    assert_int_equal(s.readings, 5);
    assert_int_equal(s.out_of_range, 2);          /* -59.9 and -100.1; -60 and -100 are in */
    assert_true(s.min_c == -100.1 && s.max_c == -59.9);
    assert_true(s.last_s - s.first_s == 86400 + 1800);
    assert_true(s.first_out_s - s.first_s == 1800);
    const char *bad = "timestamp,temperature_c\n2024-01-01T00:00:00Z,-78\n2024-01-01T00:01,cold\n";
    assert_int_equal(hm_bb_logger_parse(bad, strlen(bad), "log.csv", -100, -60, &s, &err),
                     HM_EPARSE);
    assert_int_equal(err.line, 3);
    assert_string_equal(err.file, "log.csv");
    assert_string_equal(err.field, "temperature_c");
    const char *back = "timestamp,temperature_c\n2024-01-01T00:05,-78\n2024-01-01T00:01,-78\n";
    assert_int_equal(hm_bb_logger_parse(back, strlen(back), "l", -100, -60, &s, &err), HM_EPARSE);
    assert_int_equal(err.line, 3);
    const char *hdr = "time,temp\n";
    assert_int_equal(hm_bb_logger_parse(hdr, strlen(hdr), "l", -100, -60, &s, &err), HM_EPARSE);
    assert_int_equal(err.line, 1);
    /* The file reader gives the same as the buffer parser, across block boundaries too. */
    char path[1024];
    snprintf(path, sizeof path, "%s/log.csv", HM_TEST_TMPDIR);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("timestamp,temperature_c\n", fp);
    for (long i = 0; i < 200000; i++)
        fprintf(fp, "2024-01-%02ldT%02ld:%02ld:%02ld,%.1f\n", 1 + i / 86400, i / 3600 % 24,
                i / 60 % 60, i % 60,
                i == 123456 ? -55.0 : -80.0);
    fclose(fp);
    assert_int_equal(hm_bb_logger_read(path, -100, -60, &s, &err), HM_OK);
    assert_int_equal(s.readings, 200000);
    assert_int_equal(s.out_of_range, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_protocols), cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_check_char),        cmocka_unit_test(test_time),
        cmocka_unit_test(test_logger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
