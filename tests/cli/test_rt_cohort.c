/*
 * test_rt_cohort.c — the radiotherapy cohort end to end through the program,
 * as demo step 7 runs it: `synth --rt-patients 3 --hospital-format`, keygen,
 * `pseudonymise` of the centres' CSVs, `import` of them, then `rt import
 * --diagnoses <centre>/rt_diagnosis.csv <centre>/rt`.  The registry's rows
 * are checked against the generator's files, which harmonic's import never
 * reads: one rt_course per course of rt_truth.csv, joined to the patient by
 * the pseudonym of its local id (computed here with the key); organ_dose rows
 * of both methods; every stored DVH mean within 2 % of the truth's exact mean
 * over the ROI's voxels in the dose grid (at least one organ wholly inside
 * the grid among them); diag_* equal to the truth's ICD-O-3 codes and the
 * diagnosis day = diag_date - birth date of the hospital files; no local id,
 * name or birth date in the SQLite file; `report --json` counting the courses
 * by technique.  Before that, a diagnoses file missing a patient and one with
 * a bad code are refused, naming the files, and store nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hm_core.h"
#include "hm_pseudo.h"
#include "hm_registry.h"

#define T HM_TEST_TMPDIR "/rtcohort"
#define H HM_HARMONIC_EXE
#define MAXC 8

static char *run(const char *cmd, int *status)
{
    FILE *fp = popen(cmd, "r");
    assert_non_null(fp);
    size_t cap = 1 << 18, n = 0, k;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while ((k = fread(buf + n, 1, cap - 1 - n, fp)) > 0)
        n += k;
    buf[n] = '\0';
    int st = pclose(fp);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    fprintf(stderr, "$ %s\n%s", cmd, buf);
    return buf;
}

static void sh(const char *cmd)
{
    int st;
    free(run(cmd, &st));
    assert_int_equal(st, 0);
}

/* Column index of name in a header, or fail. */
static size_t col(char **f, size_t nf, const char *name)
{
    for (size_t i = 0; i < nf; i++)
        if (!strcmp(f[i], name))
            return i;
    fail_msg("no column %s", name);
    return 0;
}

/* The courses of rt_truth.csv (centre, local course and patient ids,
 * technique, codes). */
typedef struct course {
    char centre[8], course[16], patient[32], technique[16], topo[8], morph[8];
    char pseudonym[HM_PSEUDO_HEX_SIZE];
    long diag_day;
} course;

static long scalar(hm_db *db, const char *sql, const char *a, const char *b)
{
    hm_error err;
    hm_stmt *st;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), 0);
    if (a)
        hm_stmt_bind_text(st, 1, a);
    if (b)
        hm_stmt_bind_text(st, 2, b);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    long v = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    return v;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    *n = (size_t)len;
    return b;
}

static int contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k && i + k <= n; i++)
        if (!memcmp(hay + i, needle, k))
            return 1;
    return 0;
}

static void test_cohort(void **state)
{
    (void)state;
    sh("rm -rf " T " && mkdir -p " T " && " H " keygen --out " T "/study.key 2>&1");
    /* Seed 5: three courses (BE11, FR11, FR12) whose target ROI lies in an
     * organ ROI, so no --target is needed. */
    sh(H " synth --patients 0 --rt-patients 3 --seed 5 --hospital-format --out " T "/h 2>&1");
    hm_error err;
    hm_pseudo_key key;
    assert_int_equal(hm_pseudo_key_load(T "/study.key", &key, &err), 0);

    course cs[MAXC];
    int nc = 0;
    hm_csv *csv = hm_csv_open(T "/h/rt_truth.csv", 0, &err);
    assert_non_null(csv);
    char **f;
    size_t nf;
    assert_int_equal(hm_csv_next(csv, &f, &nf, &err), 1);
    size_t ic = col(f, nf, "centre_code"), io = col(f, nf, "local_course_id"),
           ip = col(f, nf, "local_patient_id"), it = col(f, nf, "technique"),
           itp = col(f, nf, "icdo3_topography"), im = col(f, nf, "icdo3_morphology");
    while (hm_csv_next(csv, &f, &nf, &err) == 1) {
        if (nc && !strcmp(cs[nc - 1].course, f[io]))
            continue;
        assert_true(nc < MAXC);
        course *c = &cs[nc++];
        memset(c, 0, sizeof *c);
        snprintf(c->centre, sizeof c->centre, "%s", f[ic]);
        snprintf(c->course, sizeof c->course, "%s", f[io]);
        snprintf(c->patient, sizeof c->patient, "%s", f[ip]);
        snprintf(c->technique, sizeof c->technique, "%s", f[it]);
        snprintf(c->topo, sizeof c->topo, "%s", f[itp]);
        snprintf(c->morph, sizeof c->morph, "%s", f[im]);
        assert_int_equal(hm_pseudo_id(&key, "patient", c->patient, c->pseudonym, &err), 0);
    }
    hm_csv_close(csv);
    assert_int_equal(nc, 3);

    /* Pseudonymise and import each course's centre (the CSVs of the demo). */
    static const char *tables[] = { "patient", "chemotherapy", "surgery", "stem_cell_transplant",
                                    "followup" };
    char cmd[16384];   /* the test folder may be long */
    for (int i = 0; i < nc; i++) {
        const char *c = cs[i].centre;
        snprintf(cmd, sizeof cmd, "mkdir -p " T "/p/%s && " H " import --db " T "/r.db --centre %s "
                 "centre " T "/h/%s/centre.csv 2>&1", c, c, c);
        sh(cmd);
        for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
            snprintf(cmd, sizeof cmd, H " pseudonymise --key " T "/study.key --table %s " T
                     "/h/%s/%s.csv " T "/p/%s/%s.csv 2>&1 && " H " import --db " T "/r.db "
                     "--centre %s %s " T "/p/%s/%s.csv 2>&1", tables[t], c, tables[t], c,
                     tables[t], c, tables[t], c, tables[t]);
            sh(cmd);
        }
        /* The diagnosis day from the hospital files: diag_date - birth_date. */
        long birth = -1, diag = -1;
        snprintf(cmd, sizeof cmd, T "/h/%s/patient.csv", c);
        assert_non_null(csv = hm_csv_open(cmd, 0, &err));
        assert_int_equal(hm_csv_next(csv, &f, &nf, &err), 1);
        size_t jl = col(f, nf, "local_patient_id"), jb = col(f, nf, "birth_date");
        while (hm_csv_next(csv, &f, &nf, &err) == 1)
            if (!strcmp(f[jl], cs[i].patient))
                assert_int_equal(hm_date_parse(f[jb], &birth), 0);
        hm_csv_close(csv);
        snprintf(cmd, sizeof cmd, T "/h/%s/rt_diagnosis.csv", c);
        assert_non_null(csv = hm_csv_open(cmd, 0, &err));
        assert_int_equal(hm_csv_next(csv, &f, &nf, &err), 1);
        jl = col(f, nf, "local_patient_id");
        size_t jd = col(f, nf, "diag_date"), jt = col(f, nf, "diag_topography"),
               jm = col(f, nf, "diag_morphology");
        while (hm_csv_next(csv, &f, &nf, &err) == 1)
            if (!strcmp(f[jl], cs[i].patient)) {
                assert_int_equal(hm_date_parse(f[jd], &diag), 0);
                assert_string_equal(f[jt], cs[i].topo);     /* the file agrees with the truth */
                assert_string_equal(f[jm], cs[i].morph);
            }
        hm_csv_close(csv);
        assert_true(birth >= 0 && diag > birth);
        cs[i].diag_day = diag - birth;
    }

    /* A diagnoses file without the patient, then one with a bad code: refused,
     * both files named, nothing stored. */
    FILE *fp = fopen(T "/nodiag.csv", "w");
    fprintf(fp, "local_patient_id,diag_topography,diag_morphology,diag_date\n"
                "%s-R9999999,C71.9,9470/3,2015-01-01\n", cs[0].centre);
    fclose(fp);
    int st;
    snprintf(cmd, sizeof cmd, H " rt import --db " T "/r.db --centre %s --key " T "/study.key "
             "--diagnoses " T "/nodiag.csv " T "/h/%s/rt 2>&1", cs[0].centre, cs[0].centre);
    char *out = run(cmd, &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "RTPLAN.dcm"));
    assert_non_null(strstr(out, "nodiag.csv"));
    assert_non_null(strstr(out, "nothing stored"));
    free(out);
    fp = fopen(T "/baddiag.csv", "w");
    fprintf(fp, "local_patient_id,diag_topography,diag_morphology,diag_date\n"
                "%s,C71,9470/3,2015-01-01\n", cs[0].patient);
    fclose(fp);
    snprintf(cmd, sizeof cmd, H " rt import --db " T "/r.db --centre %s --key " T "/study.key "
             "--diagnoses " T "/baddiag.csv " T "/h/%s/rt 2>&1", cs[0].centre, cs[0].centre);
    out = run(cmd, &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "baddiag.csv:2:diag_topography"));
    free(out);
    hm_db *db;
    assert_int_equal(hm_db_open(T "/r.db", &db, &err), 0);
    assert_int_equal(scalar(db, "SELECT COUNT(*) FROM rt_course", NULL, NULL), 0);
    assert_int_equal(scalar(db, "SELECT COUNT(*) FROM rt_dvh", NULL, NULL), 0);
    assert_int_equal(scalar(db, "SELECT COUNT(*) FROM organ_dose", NULL, NULL), 0);
    hm_db_close(db);

    for (int i = 0; i < nc; i++) {
        snprintf(cmd, sizeof cmd, H " rt import --db " T "/r.db --centre %s --key " T
                 "/study.key --diagnoses " T "/h/%s/rt_diagnosis.csv " T "/h/%s/rt/%s 2>&1",
                 cs[i].centre, cs[i].centre, cs[i].centre, cs[i].course);
        out = run(cmd, &st);
        assert_int_equal(st, 0);
        assert_non_null(strstr(out, "1 stored, 0 unchanged"));
        free(out);
    }

    assert_int_equal(hm_db_open(T "/r.db", &db, &err), 0);
    assert_int_equal(scalar(db, "SELECT COUNT(*) FROM rt_course", NULL, NULL), nc);
    int compared = 0, whole_organs = 0;
    char first_id[80] = "";
    long first_rows = 0;
    for (int i = 0; i < nc; i++) {
        const course *c = &cs[i];
        hm_stmt *q;
        assert_int_equal(hm_db_prepare(db, "SELECT course_id, diag_topography, diag_morphology, "
                                           "diag_day, technique FROM rt_course WHERE "
                                           "centre_code = ? AND pseudonym = ?", &q, &err), 0);
        hm_stmt_bind_text(q, 1, c->centre);
        hm_stmt_bind_text(q, 2, c->pseudonym);
        assert_int_equal(hm_stmt_step(q, &err), 1);
        char id[80];
        snprintf(id, sizeof id, "%s", hm_stmt_column_text(q, 0));
        assert_string_equal(hm_stmt_column_text(q, 1), c->topo);
        assert_string_equal(hm_stmt_column_text(q, 2), c->morph);
        assert_int_equal(hm_stmt_column_int64(q, 3), c->diag_day);
        assert_string_equal(hm_stmt_column_text(q, 4), c->technique);
        assert_int_equal(hm_stmt_step(q, &err), 0);           /* one course per patient */
        hm_stmt_finalize(q);
        if (!i) {
            snprintf(first_id, sizeof first_id, "%s", id);
            first_rows = scalar(db, "SELECT COUNT(*) FROM organ_dose WHERE source_id = ?", id, NULL);
        }
        assert_true(scalar(db, "SELECT COUNT(*) FROM organ_dose WHERE source_type = 'rt_course' "
                               "AND source_id = ? AND method = ?", id, "tps") >= 1);
        assert_true(scalar(db, "SELECT COUNT(*) FROM organ_dose WHERE source_type = 'rt_course' "
                               "AND source_id = ? AND method = ?", id, "rt_model") >= 1);

        /* Every DVH against the truth's mean over the ROI's voxels in the grid. */
        csv = hm_csv_open(T "/h/rt_truth.csv", 0, &err);
        assert_non_null(csv);
        assert_int_equal(hm_csv_next(csv, &f, &nf, &err), 1);
        size_t jo = col(f, nf, "local_course_id"), jn = col(f, nf, "roi_name"),
               jg = col(f, nf, "organ"), jv = col(f, nf, "voxels"),
               jvg = col(f, nf, "voxels_in_grid"), jmg = col(f, nf, "mean_in_grid_gy");
        while (hm_csv_next(csv, &f, &nf, &err) == 1) {
            if (strcmp(f[jo], c->course) || atol(f[jvg]) == 0)
                continue;
            assert_int_equal(hm_db_prepare(db, "SELECT mean_gy FROM rt_dvh WHERE course_id = ? "
                                               "AND roi_name = ? AND is_current = 1", &q, &err), 0);
            hm_stmt_bind_text(q, 1, id);
            hm_stmt_bind_text(q, 2, f[jn]);
            assert_int_equal(hm_stmt_step(q, &err), 1);
            double mean = hm_stmt_column_double(q, 0), truth = atof(f[jmg]);
            hm_stmt_finalize(q);
            fprintf(stderr, "%s %-18s stored DVH mean %.6f Gy, truth %.6f Gy\n", c->course,
                    f[jn], mean, truth);
            assert_true(fabs(mean - truth) <= 0.02 * truth + 1e-9);
            compared++;
            whole_organs += atol(f[jvg]) == atol(f[jv]) && strcmp(f[jg], "other")
                            && strcmp(f[jg], "target");
        }
        hm_csv_close(csv);
    }
    hm_db_close(db);
    assert_true(compared >= 3 * nc);
    assert_true(whole_organs >= 1);

    /* No clear identifier in the SQLite file: local ids, names, birth dates. */
    size_t n;
    char *bytes = slurp(T "/r.db", &n);
    for (int i = 0; i < nc; i++) {
        assert_false(contains(bytes, n, cs[i].patient));
        snprintf(cmd, sizeof cmd, T "/h/%s/patient.csv", cs[i].centre);
        assert_non_null(csv = hm_csv_open(cmd, 0, &err));
        assert_int_equal(hm_csv_next(csv, &f, &nf, &err), 1);
        size_t jf = col(f, nf, "family_name"), jb = col(f, nf, "birth_date");
        while (hm_csv_next(csv, &f, &nf, &err) == 1) {
            assert_false(contains(bytes, n, f[jf]));
            char dicom[16];                    /* the DICOM form of the birth date */
            snprintf(dicom, sizeof dicom, "%.4s%.2s%.2s", f[jb], f[jb] + 5, f[jb] + 8);
            assert_false(contains(bytes, n, dicom));
        }
        hm_csv_close(csv);
    }
    free(bytes);

    /* The report: per centre the courses by technique. */
    sh(H " report --db " T "/r.db --json > " T "/report.json");
    json_error_t je;
    json_t *j = json_load_file(T "/report.json", 0, &je);
    assert_non_null(j);
    json_t *centres = json_object_get(j, "centres");
    for (int i = 0; i < nc; i++) {
        json_t *rt = NULL;
        for (size_t k = 0; k < json_array_size(centres); k++) {
            json_t *c = json_array_get(centres, k);
            if (!strcmp(json_string_value(json_object_get(c, "centre_code")), cs[i].centre))
                rt = json_object_get(json_object_get(c, "treatment"), "radiotherapy");
        }
        assert_non_null(rt);
        long same_centre = 0, same_tech = 0;
        for (int k = 0; k < nc; k++)
            if (!strcmp(cs[k].centre, cs[i].centre)) {
                same_centre++;
                same_tech += !strcmp(cs[k].technique, cs[i].technique);
            }
        assert_int_equal(json_integer_value(json_object_get(rt, "courses")), same_centre);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(rt, "by_technique"),
                                                            cs[i].technique)), same_tech);
        assert_int_equal(json_integer_value(json_object_get(rt, "revised_courses")), 0);
    }
    json_decref(j);

    /* The stored organ table of the first course. */
    snprintf(cmd, sizeof cmd, H " rt list --db " T "/r.db --course %.16s 2>&1", first_id);
    out = run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, first_id));            /* the whole id, once matched */
    char line[64];
    snprintf(line, sizeof line, "\n%ld organs: ", first_rows);
    assert_non_null(strstr(out, line));
    free(out);
    hm_pseudo_key_wipe(&key);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_cohort) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
