/*
 * test_rt_import.c — hm_rt_import on courses written by harmonic's RT writers
 * (tests/dicom/rt_fixtures.c; a heart sphere R 8 mm in a dose linear in x,
 * D = 10 + 0.1 x Gy, as test_rt_show), on SQLite and, with HM_TEST_DB=pg and
 * HM_TEST_PG_URL, PostgreSQL:
 *  - rows and values: the rt_course row (technique, Rx, fractions, start day
 *    = 2024-01-11 - 2015-07-04 = 3113 days), the DVH of the heart (mean = the
 *    engine's and 10 Gy within 1 %, V10Gy about half, cumulative DVH blob
 *    starting at the volume), organ_dose rows: heart from the TPS (method
 *    tps, dose = the DVH mean), every other organ from the model (rt_model);
 *  - the same files again: unchanged, every row count the same;
 *  - a revised plan (Referenced RT Plan Sequence PREDECESSOR): version 2 of
 *    the same course, organ_dose replaced, version 1's DVHs kept not current;
 *  - every item-6 error (dose on another frame of reference, missing
 *    structure set, self-intersecting and degenerate contours, absent Dose
 *    Grid Scaling, no plan, patient ids that differ, unknown patient, no
 *    diagnosis) names the file and element and stores nothing (row counts
 *    unchanged; on SQLite the file is byte-identical);
 *  - no identifier in clear in the SQLite file (patient id, name, birth date,
 *    original UIDs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_pseudo.h"
#include "hm_registry.h"
#include "hm_rt.h"
#include "hm_testdb.h"
#include "../dicom/rt_fixtures.h"

#define T HM_TEST_TMPDIR
static const double PI = 3.14159265358979323846;
enum { NPTS = 72 };

static hm_pseudo_key key;
static char url[1024];
static hm_db *db;
static char plan1_uid[HM_RTDCM_UID_LEN], study_uid[HM_RTDCM_UID_LEN], frame_uid[HM_RTDCM_UID_LEN];

static void ok(int rc, const hm_error *err)
{
    if (rc)
        fprintf(stderr, "error %d: %s: %s: %s\n", rc, err->file, err->field, err->msg);
    assert_int_equal(rc, 0);
}

enum { BAD_NONE, BAD_FRAME, BAD_NO_STRUCT, BAD_BOWTIE, BAD_TWO_POINTS, BAD_NO_SCALING,
       BAD_NO_PLAN, BAD_PATIENT_MIX, BAD_UNKNOWN_PATIENT };

static void sh(const char *fmt, const char *a, const char *b)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    assert_int_equal(system(cmd), 0);
}

/* A course in dir.  predecessor: UID of the plan this one revises (NULL:
 * none); bad: one of BAD_*.  The plan's UID goes to plan_uid. */
static void write_course(const char *dir, const char *predecessor, int bad, char *plan_uid)
{
    char path[1024];
    sh("rm -rf %s && mkdir -p %s", dir, dir);
    hm_error err;
    hm_rtdcm_ct ct;
    rtfx_ct(&ct);
    if (bad == BAD_UNKNOWN_PATIENT)
        strcpy(ct.c.patient_id, "RT-0999");
    ok(hm_rtdcm_ct_write(dir, &ct, NULL, &err), &err);
    hm_rtdcm_struct ss;
    rtfx_struct(&ss, &ct);
    ss.rois = realloc(ss.rois, (ss.nrois + 1) * sizeof *ss.rois);
    assert_non_null(ss.rois);
    hm_rtdcm_roi *s = &ss.rois[ss.nrois++];
    memset(s, 0, sizeof *s);
    s->number = 20;
    strcpy(s->name, "Coeur");
    strcpy(s->interpreted_type, "ORGAN");
    s->ncontours = 15;
    s->contours = calloc(15, sizeof *s->contours);
    for (int k = 0; k < 15; k++) {
        double z = k - 7.0, r = sqrt(64 - z * z);
        hm_rtdcm_contour *c = &s->contours[k];
        strcpy(c->geometric_type, "CLOSED_PLANAR");
        c->npoints = NPTS;
        c->xyz_mm = calloc(3 * NPTS, sizeof(double));
        for (int p = 0; p < NPTS; p++) {
            c->xyz_mm[3 * p] = r * cos(2 * PI * p / NPTS);
            c->xyz_mm[3 * p + 1] = r * sin(2 * PI * p / NPTS);
            c->xyz_mm[3 * p + 2] = z;
        }
    }
    if (bad == BAD_BOWTIE || bad == BAD_TWO_POINTS) {
        /* The PTV's first triangle: a bow tie (edges 1 and 3 cross), or two points. */
        hm_rtdcm_contour *c = &ss.rois[1].contours[0];
        double z = c->xyz_mm[2];
        double bow[12] = { -2, -2, z, 2, 2, z, 2, -2, z, -2, 2, z };
        free(c->xyz_mm);
        c->npoints = bad == BAD_BOWTIE ? 4 : 2;
        c->xyz_mm = calloc(12, sizeof(double));
        memcpy(c->xyz_mm, bow, sizeof bow);
    }
    snprintf(path, sizeof path, "%s/RS.dcm", dir);
    ok(hm_rtdcm_struct_write(path, &ss, &err), &err);
    hm_rtdcm_plan plan;
    rtfx_plan(&plan, HM_RTDCM_TECH_IMRT, ss.c.sop_instance_uid);
    if (bad == BAD_UNKNOWN_PATIENT)
        strcpy(plan.c.patient_id, "RT-0999");
    snprintf(plan.c.study_uid, sizeof plan.c.study_uid, "%s", ct.c.study_uid);
    if (predecessor) {
        plan.n_ref_plans = 1;
        strcpy(plan.ref_plans[0].uid, predecessor);
        strcpy(plan.ref_plans[0].relationship, "PREDECESSOR");
        strcpy(plan.label, "IMRT rev");     /* another label: found by the reference */
    }
    snprintf(path, sizeof path, "%s/RP.dcm", dir);
    ok(hm_rtdcm_plan_write(path, &plan, &err), &err);
    snprintf(plan_uid, HM_RTDCM_UID_LEN, "%s", plan.c.sop_instance_uid);
    snprintf(study_uid, sizeof study_uid, "%s", ct.c.study_uid);
    snprintf(frame_uid, sizeof frame_uid, "%s", ct.c.frame_of_reference_uid);
    hm_rtdcm_dose d;
    /* A revision scales the dose by 1.1: its heart mean is 11 Gy. */
    rtfx_dose_gradient(&d, &ct, plan.c.sop_instance_uid, predecessor ? 1.1 : 1.0);
    if (bad == BAD_FRAME)
        strcpy(d.c.frame_of_reference_uid, "1.2.826.0.1.3680043.2.1125.99.1");
    if (bad == BAD_PATIENT_MIX)
        strcpy(d.c.patient_id, "RT-0002");
    if (bad == BAD_UNKNOWN_PATIENT)
        strcpy(d.c.patient_id, "RT-0999");
    snprintf(path, sizeof path, "%s/RD.dcm", dir);
    ok(hm_rtdcm_dose_write(path, &d, &err), &err);
    if (bad == BAD_NO_SCALING) {
        /* (3004,000E) DS renamed to an unknown (3004,00FE), as test_rt_errors. */
        FILE *fp = fopen(path, "r+b");
        assert_non_null(fp);
        fseek(fp, 0, SEEK_END);
        long n = ftell(fp);
        unsigned char *buf = malloc((size_t)n);
        fseek(fp, 0, SEEK_SET);
        assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
        int hits = 0;
        for (long i = 0; i + 6 <= n; i++)
            if (!memcmp(buf + i, "\x04\x30\x0e\x00" "DS", 6)) {
                buf[i + 2] = 0xfe;
                hits++;
            }
        assert_int_equal(hits, 1);
        fseek(fp, 0, SEEK_SET);
        assert_int_equal(fwrite(buf, 1, (size_t)n, fp), (size_t)n);
        fclose(fp);
        free(buf);
    }
    if (bad == BAD_NO_STRUCT)
        sh("rm %s/RS.dcm%s", dir, "");
    if (bad == BAD_NO_PLAN)
        sh("rm %s/RP.dcm%s", dir, "");
    hm_rtdcm_dose_free(&d);
    hm_rtdcm_plan_free(&plan);
    hm_rtdcm_struct_free(&ss);
    hm_rtdcm_ct_free(&ct);
}

static long count(const char *sql)
{
    hm_stmt *st;
    hm_error err;
    ok(hm_db_prepare(db, sql, &st, &err), &err);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    long v = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    return v;
}

static double real1(const char *sql)
{
    hm_stmt *st;
    hm_error err;
    ok(hm_db_prepare(db, sql, &st, &err), &err);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    double v = hm_stmt_column_double(st, 0);
    hm_stmt_finalize(st);
    return v;
}

/* Row counts of every table the import writes. */
static void counts(long n[6])
{
    static const char *tables[6] = { "rt_course", "rt_course_version", "rt_dvh", "organ_dose",
                                     "import_log", "patient" };
    for (int i = 0; i < 6; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", tables[i]);
        n[i] = count(sql);
    }
}

/* Reads dirs and imports them; returns the status, results in res. */
static int import_dirs(const char *const *dirs, int n, hm_rt_import_result *res, size_t *ncourses,
                       int with_diag, hm_error *err)
{
    hm_rt_course_options o;
    hm_rt_course_options_init(&o);
    o.whole_body = 1;
    o.age_years = 8.5;
    hm_rt_course *c = NULL;
    size_t nc = 0;
    hm_error_clear(err);
    int rc = hm_rt_course_read_all(dirs, n, &o, &c, &nc, err);
    if (rc == HM_OK) {
        hm_rt_import_opts io = { "FR01", &key, with_diag ? "C38.0" : NULL,
                                 with_diag ? "8800/3" : NULL,
                                 with_diag ? "2023-12-01" : NULL, NULL, NULL, NULL };
        rc = hm_rt_import(db, &io, c, nc, res, err);
    }
    if (ncourses)
        *ncourses = nc;
    hm_rt_course_free_all(c, nc);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    unsigned char bytes[32];
    for (int i = 0; i < 32; i++)
        bytes[i] = (unsigned char)(7 * i + 3);
    hm_error err;
    if (hm_pseudo_key_from_bytes(&key, bytes, 32, 1, &err))
        return -1;
    tdb_new_url("rtimport", url, sizeof url);
    db = tdb_open(url);
    /* The centre, and the patient as the pseudonymised CSV brings it (birth
     * year, no date). */
    char pseudo[HM_PSEUDO_HEX_SIZE], csv[1024], path[1100];
    if (hm_pseudo_id(&key, "patient", "RT-0001", pseudo, &err))
        return -1;
    snprintf(path, sizeof path, "%s/centre.csv", T);
    FILE *fp = fopen(path, "w");
    fputs("centre_code,country,name,cohort\nFR01,FR,Institut,both\n", fp);
    fclose(fp);
    hm_import_report rep;
    hm_import_report_init(&rep);
    int rc = hm_registry_import_csv(db, "FR01", "centre", path, &rep, &err);
    hm_import_report_free(&rep);
    snprintf(csv, sizeof csv,
             "centre_code,pseudonym,key_version,cohort,sex,birth_year,syndrome,consent\n"
             "FR01,%s,1,radiotherapy,F,2015,none,given\n", pseudo);
    snprintf(path, sizeof path, "%s/patient.csv", T);
    fp = fopen(path, "w");
    fputs(csv, fp);
    fclose(fp);
    hm_import_report_init(&rep);
    if (!rc)
        rc = hm_registry_import_csv(db, "FR01", "patient", path, &rep, &err);
    if (rc)
        fprintf(stderr, "setup: %s %s\n", err.msg, rep.nissues ? rep.issues[0].msg : "");
    hm_import_report_free(&rep);
    return rc ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    hm_db_close(db);
    tdb_cleanup();
    return 0;
}

static void test_import_values(void **state)
{
    (void)state;
    write_course(T "/c1", NULL, BAD_NONE, plan1_uid);
    const char *dirs[1] = { T "/c1" };
    hm_rt_import_result res[1];
    hm_error err;
    size_t n;
    /* A new course without its diagnosis is refused, nothing stored. */
    assert_int_equal(import_dirs(dirs, 1, res, &n, 0, &err), HM_EVALIDATE);
    printf("no diagnosis: %s: %s\n", err.file, err.msg);
    assert_non_null(strstr(err.msg, "--diag-topography"));
    assert_int_equal(count("SELECT COUNT(*) FROM rt_course"), 0);
    ok(import_dirs(dirs, 1, res, &n, 1, &err), &err);
    assert_int_equal(n, 1);
    assert_int_equal(res[0].status, HM_RT_IMPORT_NEW_COURSE);
    assert_int_equal(res[0].version, 1);
    assert_int_equal(strlen(res[0].course_id), 64);
    assert_int_equal(count("SELECT COUNT(*) FROM rt_course WHERE technique = 'imrt' AND "
                           "particle = 'photon' AND fractions = 25 AND start_day = 3113 AND "
                           "diag_topography = 'C38.0' AND diag_day = 3072"), 1);
    assert_true(real1("SELECT prescription_gy FROM rt_course") == 45);
    /* The engine's values, read independently of the import. */
    hm_rt_course_options o;
    hm_rt_course_options_init(&o);
    o.whole_body = 1;
    o.age_years = 8.5;
    hm_rt_course c;
    ok(hm_rt_course_read(T "/c1", &o, &c, &err), &err);
    const hm_rt_course_roi *heart = NULL;
    for (size_t i = 0; i < c.nrois; i++)
        if (!strcmp(c.rois[i].name, "Coeur"))
            heart = &c.rois[i];
    assert_non_null(heart);
    assert_string_equal(c.target_organ, "heart");   /* the PTV lies in the heart ROI */
    double mean = real1("SELECT mean_gy FROM rt_dvh WHERE roi_name = 'Coeur' AND version = 1");
    printf("heart: DVH mean %.6f Gy (engine %.6f), volume %.4f cc\n", mean, heart->dvh.mean_gy,
           heart->dvh.volume_cc);
    assert_true(fabs(mean - heart->dvh.mean_gy) < 1e-9);
    assert_true(fabs(mean - 10) < 0.1);
    assert_true(fabs(real1("SELECT v10gy FROM rt_dvh WHERE roi_name = 'Coeur'") - 0.5) < 0.08);
    assert_int_equal(count("SELECT COUNT(*) FROM rt_dvh WHERE organ = 'heart' AND "
                           "mapping = 'organ' AND is_current = 1"), 1);
    /* ROIs with a volume in the grid: BODY, PTV_45, Coeur (ISO is a point). */
    assert_int_equal(count("SELECT COUNT(*) FROM rt_dvh"), 3);
    hm_stmt *st;
    ok(hm_db_prepare(db, "SELECT n_bins, cum_dvh_cc, volume_cc FROM rt_dvh WHERE roi_name = "
                         "'Coeur'", &st, &err), &err);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    size_t nb;
    const unsigned char *b = hm_stmt_column_blob(st, 1, &nb);
    assert_int_equal(nb, 4 * (size_t)hm_stmt_column_int64(st, 0));
    uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    float f0;
    memcpy(&f0, &u, 4);
    assert_true(fabs(f0 - hm_stmt_column_double(st, 2)) < 1e-4);   /* V(0 Gy) = the volume */
    hm_stmt_finalize(st);
    /* organ_dose: heart from the TPS, the rest from the model. */
    int finite = 0;
    for (int i = 0; i < c.nwb; i++)
        finite += isfinite(c.wb[i].dose_gy);
    assert_int_equal(count("SELECT COUNT(*) FROM organ_dose WHERE source_type = 'rt_course' AND "
                           "realization = 0"), finite);
    assert_int_equal(count("SELECT COUNT(*) FROM organ_dose WHERE method = 'tps'"), 1);
    assert_int_equal(count("SELECT COUNT(*) FROM organ_dose WHERE method = 'rt_model'"),
                     finite - 1);
    assert_true(fabs(real1("SELECT dose_mgy FROM organ_dose WHERE organ = 'heart' AND "
                           "method = 'tps'") - 1000 * heart->dvh.mean_gy) < 1e-6);
    for (int i = 0; i < c.nwb; i++)
        if (!strcmp(c.wb[i].organ, "thyroid")) {
            assert_string_equal(c.wb[i].method, "model_photon_scatter");
            assert_true(fabs(real1("SELECT dose_mgy FROM organ_dose WHERE organ = 'thyroid' AND "
                                   "method = 'rt_model'") - 1000 * c.wb[i].dose_gy) < 1e-6);
        }
    hm_rt_course_free(&c);
    /* The same files again: nothing changes, and says so. */
    long before[6], after[6];
    counts(before);
    char course[72];
    snprintf(course, sizeof course, "%s", res[0].course_id);
    ok(import_dirs(dirs, 1, res, &n, 1, &err), &err);
    assert_int_equal(res[0].status, HM_RT_IMPORT_UNCHANGED);
    assert_string_equal(res[0].course_id, course);
    counts(after);
    assert_memory_equal(before, after, sizeof before);
}

static void test_revision(void **state)
{
    (void)state;
    char plan2[HM_RTDCM_UID_LEN];
    write_course(T "/c2", plan1_uid, BAD_NONE, plan2);
    const char *dirs[1] = { T "/c2" };
    hm_rt_import_result res[2];
    hm_error err;
    size_t n;
    long before[6];
    counts(before);
    ok(import_dirs(dirs, 1, res, &n, 0, &err), &err);   /* an existing course: no diagnosis needed */
    printf("revision: %s, version %d (%s)\n", hm_rt_import_status_name(res[0].status),
           res[0].version, res[0].lineage);
    assert_int_equal(res[0].status, HM_RT_IMPORT_NEW_VERSION);
    assert_int_equal(res[0].version, 2);
    assert_int_equal(count("SELECT COUNT(*) FROM rt_course"), 1);
    assert_int_equal(count("SELECT COUNT(*) FROM rt_course_version"), 2);
    assert_int_equal(count("SELECT version FROM rt_course_version WHERE is_current = 1"), 2);
    assert_int_equal(count("SELECT COUNT(*) FROM rt_dvh WHERE version = 1 AND is_current = 0"), 3);
    assert_int_equal(count("SELECT COUNT(*) FROM rt_dvh WHERE version = 2 AND is_current = 1"), 3);
    assert_int_equal(count("SELECT COUNT(*) FROM organ_dose"), before[3]);   /* replaced */
    assert_true(fabs(real1("SELECT dose_mgy FROM organ_dose WHERE organ = 'heart'") - 11000) < 110);
    assert_int_equal(count("SELECT COUNT(*) FROM rt_course WHERE diag_topography = 'C38.0'"), 1);
    /* `harmonic report`: the centre's course, by technique, with a revised plan. */
    static char text[1 << 16];
    char path[1200], want[200];
    snprintf(path, sizeof path, "%s/report.txt", T);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    ok(hm_registry_report(db, fp, 0, &err), &err);
    fclose(fp);
    fp = fopen(path, "r");
    size_t len = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[len] = '\0';
    hm_stmt *st;
    ok(hm_db_prepare(db, "SELECT technique FROM rt_course", &st, &err), &err);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    snprintf(want, sizeof want, "FR01     radiotherapy courses 1 (%s 1); with a revised plan "
             "(versions > 1) 1\n", hm_stmt_column_text(st, 0));
    hm_stmt_finalize(st);
    printf("report: %s", want);
    assert_non_null(strstr(text, want));
    /* Both folders at once (a folder of course folders): both unchanged. */
    long mid[6], after[6];
    counts(mid);
    sh("rm -rf %s/both && mkdir -p %s/both", T, T);
    sh("cp -r %s/c1 %s/both/", T, T);
    sh("cp -r %s/c2 %s/both/", T, T);
    const char *both[1] = { T "/both" };
    ok(import_dirs(both, 1, res, &n, 0, &err), &err);
    assert_int_equal(n, 2);
    assert_int_equal(res[0].status, HM_RT_IMPORT_UNCHANGED);
    assert_int_equal(res[1].status, HM_RT_IMPORT_UNCHANGED);
    counts(after);
    assert_memory_equal(mid, after, sizeof mid);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static void test_errors_store_nothing(void **state)
{
    (void)state;
    static const struct { int bad; const char *file, *needle; } cases[] = {
        { BAD_FRAME, "RD.dcm", "FrameOfReferenceUID" },
        { BAD_NO_STRUCT, "RP.dcm", "ReferencedStructureSetSequence" },
        { BAD_BOWTIE, "RS.dcm", "crosses itself" },
        { BAD_TWO_POINTS, "RS.dcm", "at least 3" },
        { BAD_NO_SCALING, "RD.dcm", "DoseGridScaling" },
        { BAD_NO_PLAN, "bad", "no RT Plan among" },            /* the bad folder alone */
        { BAD_PATIENT_MIX, "RD.dcm", "PatientID (0010,0020)" },
        { BAD_UNKNOWN_PATIENT, "RP.dcm", "not registered" },
    };
    int sqlite = !tdb_is_pg();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        long before[6], after[6];
        counts(before);
        size_t len0 = 0, len1 = 0;
        unsigned char *f0 = sqlite ? slurp(url, &len0) : NULL;
        char uid[HM_RTDCM_UID_LEN];
        write_course(T "/bad", NULL, cases[i].bad, uid);
        /* With a good course beside it: all or nothing. */
        const char *dirs[2] = { T "/bad", T "/c1" };
        hm_rt_import_result res[2];
        hm_error err;
        int rc = import_dirs(dirs, cases[i].bad == BAD_NO_PLAN ? 1 : 2, res, NULL, 1, &err);
        printf("case %zu: %d %s [%s]: %s\n", i, rc, err.file, err.field, err.msg);
        assert_int_not_equal(rc, HM_OK);
        assert_non_null(strstr(err.file, cases[i].file));
        assert_true(strstr(err.msg, cases[i].needle) || strstr(err.field, cases[i].needle));
        counts(after);
        assert_memory_equal(before, after, sizeof before);
        if (sqlite) {
            unsigned char *f1 = slurp(url, &len1);
            assert_int_equal(len0, len1);
            assert_memory_equal(f0, f1, len0);
            free(f1);
        }
        free(f0);
    }
}

static void test_no_clear_identifiers(void **state)
{
    (void)state;
    if (tdb_is_pg())
        skip();
    hm_db_close(db);                 /* everything in the main file */
    size_t len;
    unsigned char *f = slurp(url, &len);
    assert_non_null(f);
    const char *needles[] = { "RT-0001", "RT0001", "20150704", "2015-07-04", "SYNTHETIC",
                              plan1_uid, study_uid, frame_uid, "20240111" };
    for (size_t k = 0; k < sizeof needles / sizeof *needles; k++) {
        size_t n = strlen(needles[k]);
        for (size_t i = 0; i + n <= len; i++)
            if (!memcmp(f + i, needles[k], n))
                fail_msg("'%s' in clear in the database at byte %zu", needles[k], i);
    }
    free(f);
    db = tdb_open(url);
}

int main(void)
{
    if (tdb_skip())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_values),
        cmocka_unit_test(test_revision),
        cmocka_unit_test(test_errors_store_nothing),
        cmocka_unit_test(test_no_clear_identifiers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
