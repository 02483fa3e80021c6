/*
 * test_cli.c — the registry commands end to end through the `harmonic`
 * executable (SQLite): exit codes, file:line:field messages on stderr, the
 * JSON import report, `report --json` figures, `dictionary --format json`,
 * and the generated R script loading the export (when Rscript is present).
 */
#include "test_db.h"

#include <jansson.h>
#include <sys/wait.h>

static char dbpath[1024];

/* Runs a shell command; returns its exit status. */
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_tmp(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", HM_TEST_TMPDIR, name);
    tdb_write(path, text);
}

static void test_import_exit_codes_and_messages(void **state)
{
    (void)state;
    const char *T = HM_TEST_TMPDIR, *H = HM_HARMONIC_EXE;
    write_tmp("centre.csv", FX_CENTRE_FR);
    write_tmp("patient.csv", FX_PATIENT_FR);
    write_tmp("procedure.csv", FX_PROC_FR);
    write_tmp("bad.csv", "centre_code,procedure_id,pseudonym,proc_day,exam_type,category,dose_tier\n"
                         "FR01,X1," PSEUDO("01") ",-4,diag_cath,diagnostic,3\n");
    assert_int_equal(sh("cd %s && %s db init --db %s >/dev/null", T, H, dbpath), 0);
    assert_int_equal(sh("cd %s && %s import --db %s --centre FR01 centre centre.csv >/dev/null", T, H, dbpath), 0);
    assert_int_equal(sh("cd %s && %s import --db %s --centre FR01 patient patient.csv >/dev/null", T, H, dbpath), 0);
    assert_int_equal(sh("cd %s && %s import --db %s --centre FR01 procedure procedure.csv >/dev/null", T, H, dbpath), 0);
    assert_int_equal(sh("cd %s && %s import --db %s --centre FR01 --report-json bad.json procedure bad.csv "
                        "2>bad.err >/dev/null", T, H, dbpath), 1);
    char path[1200];
    snprintf(path, sizeof path, "%s/bad.err", T);
    char *errtext = tdb_read(path);
    assert_non_null(strstr(errtext, "bad.csv:2:proc_day: '-4' out of range: expected 0 to 40000 days\n"));
    assert_non_null(strstr(errtext, "REJECTED, nothing stored in procedure: 1 rows read, 0 stored, 1 errors"));
    free(errtext);
    snprintf(path, sizeof path, "%s/bad.json", T);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "errors")), 1);
    assert_false(json_boolean_value(json_object_get(j, "imported")));
    json_t *is = json_array_get(json_object_get(j, "issues"), 0);
    assert_int_equal(json_integer_value(json_object_get(is, "line")), 2);
    assert_string_equal(json_string_value(json_object_get(is, "field")), "proc_day");
    json_decref(j);
    /* --dry-run: a clean file is checked (references included) and not stored. */
    write_tmp("new.csv", "centre_code,procedure_id,pseudonym,proc_day,exam_type,category,dose_tier\n"
                         "FR01,N1," PSEUDO("02") ",40,biopsy,diagnostic,3\n");
    assert_int_equal(sh("cd %s && %s import --db %s --centre FR01 --dry-run --report-json dry.json "
                        "procedure new.csv >dry.out 2>&1", T, H, dbpath), 0);
    snprintf(path, sizeof path, "%s/dry.out", T);
    errtext = tdb_read(path);
    assert_non_null(strstr(errtext, "new.csv: valid (dry run, nothing stored) for procedure: 1 rows read, 0 stored"));
    free(errtext);
    snprintf(path, sizeof path, "%s/dry.json", T);
    j = json_load_file(path, 0, &je);
    assert_non_null(j);
    assert_true(json_boolean_value(json_object_get(j, "dry_run")));
    assert_false(json_boolean_value(json_object_get(j, "imported")));
    json_decref(j);
    hm_db *db = tdb_open(dbpath);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure"), 3);
    hm_db_close(db);
    /* Usage errors exit 2; an unknown table is a usage error too. */
    assert_int_equal(sh("%s import --db %s procedure 2>/dev/null", H, dbpath), 2);
    assert_int_equal(sh("cd %s && %s import --db %s --centre FR01 nosuch bad.csv 2>/dev/null", T, H, dbpath), 2);
    /* A missing file names the file. */
    assert_int_equal(sh("cd %s && %s import --db %s --centre FR01 procedure none.csv 2>none.err", T, H, dbpath), 1);
    snprintf(path, sizeof path, "%s/none.err", T);
    errtext = tdb_read(path);
    assert_non_null(strstr(errtext, "none.csv"));
    free(errtext);
}

static void test_report_and_dictionary_json(void **state)
{
    (void)state;
    const char *T = HM_TEST_TMPDIR, *H = HM_HARMONIC_EXE;
    assert_int_equal(sh("cd %s && %s report --db %s --json > report.json", T, H, dbpath), 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/report.json", T);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    json_t *c = json_array_get(json_object_get(j, "centres"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "centre_code")), "FR01");
    json_t *proc = json_object_get(json_object_get(c, "tables"), "procedure");
    assert_int_equal(json_integer_value(json_object_get(proc, "rows")), 3);
    json_t *tiers = json_object_get(j, "dose_tiers");
    assert_int_equal(json_integer_value(json_object_get(tiers, "1")), 1);
    assert_int_equal(json_integer_value(json_object_get(tiers, "3")), 1);
    /* P1 is tier 1 without irradiation events. */
    assert_int_equal(json_integer_value(json_object_get(j, "tier1_without_events")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "procedures_without_doses")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "patients_without_followup")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "imports")), 3);
    json_decref(j);
    assert_int_equal(sh("%s dictionary --format json > %s/dict.json", H, T), 0);
    snprintf(path, sizeof path, "%s/dict.json", T);
    j = json_load_file(path, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "tables")), 22);   /* with rt_course_version, rt_dvh (005), bio_event, bio_protocol (007) */
    json_decref(j);
    assert_int_equal(sh("%s dictionary --format yaml 2>/dev/null", H), 2);
    /* An import template is accepted by the importer as it is (0 rows). */
    assert_int_equal(sh("cd %s && %s dictionary --template followup > tpl.csv && "
                        "%s import --db %s --centre FR01 --quiet followup tpl.csv", T, H, H, dbpath), 0);
    snprintf(path, sizeof path, "%s/tpl.csv", T);
    char *tpl = tdb_read(path);
    assert_non_null(strstr(tpl, "# vital_status: code, required, one of alive;dead;lost\n"));
    assert_non_null(strstr(tpl, "\ncentre_code,pseudonym,vital_status,end_date,end_day,end_reason\n"));
    free(tpl);
    assert_int_equal(sh("%s dictionary --template nosuch 2>/dev/null", H), 2);
}

static void test_export_loads_in_r(void **state)
{
    (void)state;
    const char *T = HM_TEST_TMPDIR, *H = HM_HARMONIC_EXE;
    assert_int_equal(sh("cd %s && rm -rf out && %s export --db %s --out out >/dev/null", T, H, dbpath), 0);
    /* docs/dictionary.md carries the current codebook (how to regenerate it
     * is said above its "Tables" section). */
    char cb[1200], doc[1200];
    snprintf(cb, sizeof cb, "%s/out/codebook.md", T);
    snprintf(doc, sizeof doc, "%s/../docs/dictionary.md", HM_SOURCE_DATA_DIR);
    char *codebook = tdb_read(cb), *docs = tdb_read(doc);
    char *tables = strstr(codebook, "\n## centre");
    assert_non_null(tables);
    char *expect = malloc(2 * strlen(tables) + 1);
    size_t o = 0;
    for (const char *p = tables; *p; p++) {
        if (p[0] == '\n' && p[1] == '#' && p[2] == '#' && p[3] == ' ') {
            memcpy(expect + o, "\n#", 2);      /* "## t" -> "### t" */
            o += 2;
        } else {
            expect[o++] = *p;
        }
    }
    expect[o] = 0;
    if (!strstr(docs, expect))
        fprintf(stderr, "docs/dictionary.md is out of date with data/dictionary.csv\n");
    assert_non_null(strstr(docs, expect));
    free(expect);
    free(codebook);
    free(docs);
    /* The per-centre export of FR01 imports back as a folder (--dir). */
    assert_int_equal(sh("cd %s && rm -rf fr fr.db && %s export --db %s --centre FR01 --out fr >/dev/null && "
                        "%s import --db fr.db --centre FR01 --quiet --dir fr", T, H, dbpath, H), 0);
    char frdb[1200];
    snprintf(frdb, sizeof frdb, "%s/fr.db", T);
    hm_db *db = tdb_open(frdb);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure"), 3);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM patient"), 3);
    /* 15 imported tables (device, qol_item and the 3 treatment tables among them,
     * empty); the 3 computed ones skipped. */
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM import_log"), 15);
    hm_db_close(db);
    assert_int_equal(sh("%s import --db %s --centre FR01 --dir %s/nowhere 2>/dev/null", H, frdb, T), 1);
    if (sh("Rscript --version >/dev/null 2>&1")) {
        fprintf(stderr, "Rscript not found: R loading part skipped\n");
        return;
    }
    assert_int_equal(sh("cd %s/out && Rscript -e 'source(\"load_harmonic.R\"); h <- load_harmonic(\".\"); "
                        "p <- h$procedure; cat(nrow(p), class(p$proc_date), is.factor(p$exam_type), "
                        "sum(p$kap_total_gy_cm2, na.rm = TRUE), p$proc_day, \"\\n\")' > r.out 2>r.err", T), 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/out/r.out", T);
    char *out = tdb_read(path);
    assert_string_equal(out, "3 Date TRUE 1.35 18 365 2 \n");
    free(out);
}

int main(void)
{
    snprintf(dbpath, sizeof dbpath, "%s/cli.db", HM_TEST_TMPDIR);
    remove(dbpath);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_exit_codes_and_messages),
        cmocka_unit_test(test_report_and_dictionary_json),
        cmocka_unit_test(test_export_loads_in_r),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
