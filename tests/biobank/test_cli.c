/*
 * test_cli.c — `harmonic biobank` end to end on SQLite: a sample's life from
 * collection to the label, with a double-booked position refused (exit 1,
 * nothing recorded), a logger file with an excursion flagged, a bad logger
 * line reported as file:line, consent withdrawal marking every aliquot and
 * blocking use, the inventory and the per-centre deviation report; a
 * hospital batch pseudonymised at the site (the same pseudonym as `harmonic
 * pseudonymise` gives the patient file) and loaded, a bad batch refused
 * whole with its FILE:LINE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hm_testcmd.h"

#define P "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
static char out[65536], cmd[4096];

static int run(const char *fmt, const char *a1, const char *a2)
{
    char tail[3000];
    snprintf(tail, sizeof tail, fmt, a1 ? a1 : "", a2 ? a2 : "");
    snprintf(cmd, sizeof cmd, "cd %s && %s biobank %s", HM_TEST_TMPDIR, HM_HARMONIC_EXE, tail);
    return hm_test_run(cmd, out, sizeof out, 1);
}

static void write_file(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", HM_TEST_TMPDIR, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

#define E "--db bb.db --centre FR01 --user nurse1 "

static void test_lifecycle(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/bb.db", HM_TEST_TMPDIR);
    remove(path);
    assert_int_equal(run("protocol check cardiac_v1", NULL, NULL), 0);
    write_file("bad_protocol.csv", "protocol,x,1\nsample,serum,SER,SST,4,2\n");
    assert_int_equal(run("protocol check bad_protocol.csv", NULL, NULL), 1);
    assert_non_null(strstr(out, "bad_protocol.csv:2:sample:"));
    assert_int_equal(run("collect " E "--pseudonym " P " --type serum --timepoint baseline "
                         "--time 2024-01-01T08:00", NULL, NULL), 0);
    char sample[40];
    assert_int_equal(sscanf(out, "%39s", sample), 1);
    assert_string_equal(sample, "FR01S000001P");       /* MOD 37-2 of FR01S000001 */
    /* Serum: processing within 2 h; 2 h exactly is in time. */
    assert_int_equal(run("process " E "--sample %s --time 2024-01-01T10:00 --temp-c 4", sample,
                         NULL), 0);
    assert_int_equal(run("aliquot " E "--sample %s --time 2024-01-01T10:10", sample, NULL), 0);
    char a[4][40];
    assert_int_equal(sscanf(out, "%39s %39s %39s %39s", a[0], a[1], a[2], a[3]), 4);
    assert_int_equal(run("store " E "%s --location FR01/F1/R1/B1/A1 --time 2024-01-01T11:00", a[0],
                         NULL), 0);
    assert_int_equal(run("store " E "%s --location FR01/F1/R1/B1/A1 --time 2024-01-01T11:00", a[1],
                         NULL), 1);
    assert_non_null(strstr(out, "occupied by aliquot"));
    assert_int_equal(run("store " E "%s --location FR01/F1/R1/B1 --time 2024-01-01T11:00", a[1],
                         NULL), 1);
    assert_non_null(strstr(out, "SITE/FREEZER/RACK/BOX/POSITION"));
    write_file("log.csv", "timestamp,temperature_c\n2024-01-02T08:00:00Z,-78\n"
                          "2024-01-02T09:00:00Z,-59.5\n2024-01-02T20:00:00Z,-79\n");
    assert_int_equal(run("ship " E "%s --to DE01 --logger log.csv --time 2024-01-02T08:00", a[0],
                         NULL), 0);
    assert_non_null(strstr(out, "1 outside -100..-60 C"));
    write_file("bad.csv", "timestamp,temperature_c\n2024-01-02T08:00:00Z,-78\n2024-01-02,x\n");
    assert_int_equal(run("ship " E "%s --to DE01 --logger bad.csv", a[1], NULL), 1);
    assert_non_null(strstr(out, "bad.csv:3:timestamp:"));
    assert_int_equal(run("receive --db bb.db --centre FR01 --user tech --site DE01 %s "
                         "--time 2024-01-02T21:00", a[0], NULL), 0);
    assert_int_equal(run("qc " E "--sample %s --metric rin --value 6.9 --time 2024-01-03T08:00",
                         sample, NULL), 0);
    assert_int_equal(run("label --db bb.db %s -o label.png", a[0], NULL), 0);
    snprintf(path, sizeof path, "%s/label.png", HM_TEST_TMPDIR);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, fp), 8);
    fclose(fp);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    assert_int_equal(run("consent " E "--pseudonym " P " --action withdraw --time "
                         "2024-01-04T08:00", NULL, NULL), 0);
    assert_non_null(strstr(out, "4 aliquots marked for destruction"));
    assert_int_equal(run("use " E "%s --time 2024-01-05T08:00", a[0], NULL), 1);
    assert_non_null(strstr(out, "withdrew consent"));
    assert_int_equal(run("inventory --db bb.db --centre FR01", NULL, NULL), 0);
    char row[256];
    snprintf(row, sizeof row, "FR01,%s,%s,serum,baseline,cardiac_v1,received,DE01,,SER-SST-D-X-X-X-X,1",
             a[0], sample);
    assert_non_null(strstr(out, row));
    snprintf(row, sizeof row, "FR01,%s,%s,serum,baseline,cardiac_v1,planned,FR01,,", a[1], sample);
    assert_non_null(strstr(out, row));
    /* The baseline tubes are due within a day of the first (tolerance 1 day): at the
     * deadline nothing is missing yet, a minute later the baseline and the
     * post-procedure tubes are. */
    assert_int_equal(run("deviations --db bb.db --as-of 2024-01-02T08:00", NULL, NULL), 0);
    assert_null(strstr(out, "missing_timepoint"));
    assert_int_equal(run("deviations --db bb.db --as-of 2024-01-02T08:01", NULL, NULL), 0);
    assert_null(strstr(out, "processing_delay"));        /* 2 h exactly */
    snprintf(row, sizeof row, "FR01,aliquot,%s,transport_temperature,open", a[0]);
    assert_non_null(strstr(out, row));
    snprintf(row, sizeof row, "FR01,sample,%s,qc_below_threshold,open", sample);
    assert_non_null(strstr(out, row));
    assert_non_null(strstr(out, ":baseline,missing_timepoint,open,blood_edta;blood_paxgene;saliva"));
    assert_non_null(strstr(out, ":post_procedure,missing_timepoint,open,blood_edta;blood_paxgene;"
                                "serum"));
    assert_non_null(strstr(out, "# FR01: 4 flags, 4 open"));
    assert_int_equal(run("resolve " E "--sample %s --flag qc_below_threshold --reason "
                         "'re-measured on a fresh aliquot'", sample, NULL), 0);
    assert_int_equal(run("deviations --db bb.db --as-of 2024-01-02T08:01", NULL, NULL), 0);
    assert_non_null(strstr(out, "qc_below_threshold,resolved"));
    assert_non_null(strstr(out, "# FR01: 4 flags, 3 open"));
}

/* Runs `harmonic ARGS` (not under biobank) in the scratch folder. */
static int run_top(const char *args)
{
    snprintf(cmd, sizeof cmd, "cd %s && %s %s", HM_TEST_TMPDIR, HM_HARMONIC_EXE, args);
    return hm_test_run(cmd, out, sizeof out, 1);
}

/* The field k (0-based) of line `line` (1-based) of a CSV file in the scratch folder. */
static void field_of(const char *name, int line, int k, char *buf, size_t size)
{
    char path[1024], l[1024];
    snprintf(path, sizeof path, "%s/%s", HM_TEST_TMPDIR, name);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    for (int i = 0; i < line; i++)
        assert_non_null(fgets(l, sizeof l, fp));
    fclose(fp);
    char *f = l;
    for (int i = 0; i < k; i++) {
        f = strchr(f, ',');
        assert_non_null(f);
        f++;
    }
    size_t n = strcspn(f, ",\r\n");
    assert_true(n < size);
    memcpy(buf, f, n);
    buf[n] = 0;
}

static void test_load(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/load.db", HM_TEST_TMPDIR);
    remove(path);
    snprintf(path, sizeof path, "%s/site.key", HM_TEST_TMPDIR);
    remove(path);
    assert_int_equal(run_top("keygen --out site.key"), 0);
    /* Sample FR01S000001P and aliquots FR01A000001Z, FR01A000002X (check characters). */
    write_file("lims.csv",
        "# LIMS export\n"
        "event,time,centre,user,site,local_patient_id,sample_id,aliquot_id,protocol,timepoint,"
        "sample_type,location,metric,value,detail,logger\n"
        "consent,2024-01-01T07:00,FR01,n1,FR01,FR01-0042,,,,,,,storage,1,,\n"
        "collect,2024-01-01T08:00,FR01,n1,FR01,FR01-0042,FR01S000001P,,cardiac_v1,baseline,"
        "blood_edta,,,,,\n"
        "process,2024-01-01T09:00,FR01,lab,FR01,,FR01S000001P,,,,,,,21,,\n"
        "aliquot,2024-01-01T09:05,FR01,lab,FR01,,FR01S000001P,FR01A000001Z,,,,,,,,\n"
        "aliquot,2024-01-01T09:05,FR01,lab,FR01,,FR01S000001P,FR01A000002X,,,,,,,,\n"
        "store,2024-01-01T09:30,FR01,lab,FR01,,,FR01A000001Z,,,,FR01/F1/R1/B1/A1,,-80,,\n");
    assert_int_equal(run("load --db load.db lims.csv", NULL, NULL), 1);  /* local ids: refused */
    assert_non_null(strstr(out, "lims.csv:2:local_patient_id:"));
    assert_int_equal(run("pseudonymise --key site.key lims.csv batch.csv", NULL, NULL), 0);
    assert_non_null(strstr(out, "6 events pseudonymised"));
    /* The registry's pseudonym of the same local id, by `harmonic pseudonymise`. */
    write_file("patient.csv", "centre_code,local_patient_id,cohort,sex,birth_date\n"
                              "FR01,FR01-0042,cardiac,F,2015-03-01\n");
    assert_int_equal(run_top("pseudonymise --key site.key --table patient patient.csv "
                             "patient_p.csv"), 0);
    char want[80], got[80], got2[80], hdr[32];
    field_of("patient_p.csv", 2, 1, want, sizeof want);
    field_of("batch.csv", 1, 5, hdr, sizeof hdr);
    field_of("batch.csv", 2, 5, got, sizeof got);
    field_of("batch.csv", 3, 5, got2, sizeof got2);
    assert_string_equal(hdr, "pseudonym");
    assert_int_equal(strlen(want), 64);
    assert_string_equal(got, want);
    assert_string_equal(got2, want);
    assert_int_equal(run("load --db load.db batch.csv", NULL, NULL), 0);
    assert_non_null(strstr(out, "6 events recorded in one transaction"));
    /* A second batch: the double booking on its last line refuses all of it. */
    write_file("more.csv",
        "event,time,centre,user,site,aliquot_id,location,value\n"
        "store,2024-01-01T09:31,FR01,lab,FR01,FR01A000002X,FR01/F1/R1/B1/A1,-80\n");
    assert_int_equal(run("load --db load.db more.csv", NULL, NULL), 1);
    assert_non_null(strstr(out, "more.csv:2:location:"));
    assert_non_null(strstr(out, "occupied by aliquot FR01A000001Z"));
    assert_int_equal(run("inventory --db load.db", NULL, NULL), 0);
    assert_non_null(strstr(out, "FR01,FR01A000002X,FR01S000001P,blood_edta,baseline,cardiac_v1,"
                                "planned,FR01,,BLD-PED-A-X-X-X-X,0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_lifecycle),
                                        cmocka_unit_test(test_load) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
