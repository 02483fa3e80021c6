/*
 * test_dose.c — the registry side of dose runs, on the back end HM_TEST_DB
 * names: bytes through the statement layer, packed realizations written and
 * streamed back exactly, the writers' argument checks, dose_event /
 * dose_procedure counted by `harmonic report`, dose runs resumed after a
 * SIGKILL with only whole procedures, devices imported with their rules,
 * and a version-2 registry migrated with its rows kept.
 */
#include "test_db.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <sys/wait.h>

static const char *ORGANS[] = { "lung", "heart", "red_marrow" };

/* centre FR01 with patients and the three FX procedures. */
static hm_db *base(const char *tag, char *url, size_t size)
{
    tdb_new_url(tag, url, size);
    hm_db *db = tdb_open(url);
    hm_import_report rep;
    assert_int_equal(tdb_import(db, "FR01", "centre", "c.csv", FX_CENTRE_FR, &rep), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_import(db, "FR01", "patient", "p.csv", FX_PATIENT_FR, &rep), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_import(db, "FR01", "procedure", "proc.csv", FX_PROC_FR, &rep), HM_OK);
    hm_import_report_free(&rep);
    return db;
}

static void test_blob_binding(void **state)
{
    (void)state;
    char url[1024];
    tdb_new_url("blob", url, sizeof url);
    hm_db *db = tdb_open(url);
    hm_error err;
    assert_int_equal(hm_db_exec(db, hm_db_kind(db) == HM_DB_POSTGRES
                                    ? "CREATE TABLE t_b (k BIGINT, b BYTEA)"
                                    : "CREATE TABLE t_b (k BIGINT, b BLOB)", &err), 0);
    unsigned char bytes[300];
    for (int i = 0; i < 300; i++)
        bytes[i] = (unsigned char)(i * 7);       /* NULs, high bytes, '\\' (92) */
    hm_stmt *st;
    assert_int_equal(hm_db_prepare(db, "INSERT INTO t_b (k, b) VALUES (?, ?)", &st, &err), 0);
    hm_stmt_bind_int64(st, 1, 1);
    assert_int_equal(hm_stmt_bind_blob(st, 2, bytes, sizeof bytes), 0);
    assert_int_equal(hm_stmt_step(st, &err), 0);
    hm_stmt_reset(st);
    hm_stmt_bind_int64(st, 1, 2);
    hm_stmt_bind_text(st, 2, NULL);              /* a text bind replaces the bytes */
    assert_int_equal(hm_stmt_step(st, &err), 0);
    hm_stmt_finalize(st);
    assert_int_equal(hm_db_prepare(db, "SELECT k, b FROM t_b ORDER BY k", &st, &err), 0);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    size_t n = 0;
    const void *b = hm_stmt_column_blob(st, 1, &n);
    assert_int_equal(n, sizeof bytes);
    assert_memory_equal(b, bytes, sizeof bytes);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    assert_null(hm_stmt_column_blob(st, 1, &n));
    assert_int_equal(n, 0);
    hm_stmt_finalize(st);
    hm_db_close(db);
}

typedef struct collected {
    int    rows;
    char   keys[16][64];
    float  first[16], last[16];
    int    n[16];
} collected;

static int collect(void *arg, const hm_realization_row *row)
{
    collected *c = arg;
    if (c->rows < 16) {
        snprintf(c->keys[c->rows], 64, "%s/%s/%s", row->centre, row->source_id, row->method);
        c->first[c->rows] = row->dose_mgy[0];
        c->last[c->rows] = row->dose_mgy[row->n - 1];
        c->n[c->rows] = row->n;
    }
    c->rows++;
    return 0;
}

static int stop_after_one(void *arg, const hm_realization_row *row)
{
    (void)row;
    ++*(int *)arg;
    return 42;
}

static void test_realizations_round_trip(void **state)
{
    (void)state;
    char url[1024];
    hm_db *db = base("real", url, sizeof url);
    hm_error err;
    float v[200];
    for (int i = 0; i < 200; i++)
        v[i] = 1.0f + (float)i / 64.0f;          /* exact in binary32 */
    assert_int_equal(hm_db_begin(db, &err), 0);
    const char *procs[] = { "P3", "P1", "P2" };
    for (int p = 0; p < 3; p++)
        for (int o = 0; o < 3; o++) {
            v[0] = (float)(p * 10 + o);
            int rc = hm_registry_put_realizations(db, "FR01", "procedure", procs[p], ORGANS[o],
                                                  "rdsr_mc", "run1", v, 200, &err);
            if (rc)
                fprintf(stderr, "%s\n", err.msg);
            assert_int_equal(rc, 0);
        }
    /* Upsert: the same key again replaces n and values. */
    v[0] = 99.5f;
    assert_int_equal(hm_registry_put_realizations(db, "FR01", "procedure", "P2", "lung",
                                                  "rdsr_mc", "run2", v, 5, &err), 0);
    /* A second method for P1. */
    assert_int_equal(hm_registry_put_realizations(db, "FR01", "procedure", "P1", "lung",
                                                  "kap_coefficient", "run1", v, 3, &err), 0);
    assert_int_equal(hm_db_commit(db, &err), 0);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM organ_dose_real"), 10);

    collected c;
    memset(&c, 0, sizeof c);
    assert_int_equal(hm_registry_read_realizations(db, "lung", NULL, collect, &c, &err), 0);
    assert_int_equal(c.rows, 4);
    /* Ordered by centre, source_id, source_type, method. */
    assert_string_equal(c.keys[0], "FR01/P1/kap_coefficient");
    assert_string_equal(c.keys[1], "FR01/P1/rdsr_mc");
    assert_string_equal(c.keys[2], "FR01/P2/rdsr_mc");
    assert_string_equal(c.keys[3], "FR01/P3/rdsr_mc");
    assert_int_equal(c.n[0], 3);
    assert_true(c.first[0] == 99.5f && c.last[0] == 1.0f + 2.0f / 64.0f);
    assert_true(c.first[1] == 10.0f && c.last[1] == 1.0f + 199.0f / 64.0f);
    assert_int_equal(c.n[2], 5);
    assert_true(c.first[2] == 99.5f);
    assert_true(c.first[3] == 0.0f);
    memset(&c, 0, sizeof c);
    assert_int_equal(hm_registry_read_realizations(db, "red_marrow", "FR01", collect, &c, &err), 0);
    assert_int_equal(c.rows, 3);
    assert_true(c.first[0] == 12.0f && c.first[1] == 22.0f && c.first[2] == 2.0f);
    int calls = 0;
    assert_int_equal(hm_registry_read_realizations(db, "heart", NULL, stop_after_one, &calls, &err), 42);
    assert_int_equal(calls, 1);

    /* The bytes are little-endian float32 whatever the host: 1.0f = 00 00 80 3f. */
    hm_stmt *st;
    assert_int_equal(hm_db_prepare(db, "SELECT dose_mgy FROM organ_dose_real WHERE source_id = 'P3' "
                                       "AND organ = 'heart'", &st, &err), 0);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    size_t nb;
    const unsigned char *b = hm_stmt_column_blob(st, 0, &nb);
    assert_int_equal(nb, 800);
    const unsigned char one[4] = { 0x00, 0x00, 0x80, 0x3f };   /* v[0] = 1.0f for p=0,o=1 */
    assert_memory_equal(b, one, 4);
    hm_stmt_finalize(st);

    /* Bad arguments are refused with the field named, nothing written. */
    struct { const char *type, *id, *organ, *method; int n; float bad; const char *field; } cases[] = {
        { "procedure", "P9", "lung", "rdsr_mc", 3, 1, "procedure_id" },   /* not registered */
        { "procedure", "P1", "spleenish", "rdsr_mc", 3, 1, "organ" },
        { "procedure", "P1", "lung", "guess", 3, 1, "method" },
        { "biopsy", "P1", "lung", "rdsr_mc", 3, 1, "source_type" },
        { "procedure", "P1", "lung", "rdsr_mc", 0, 1, "n_real" },
        { "procedure", "P1", "lung", "rdsr_mc", 3, -1, "dose_mgy" },
        { "procedure", "P1", "lung", "rdsr_mc", 3, NAN, "dose_mgy" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        float w[3] = { 1, cases[i].bad, 2 };
        hm_error_clear(&err);
        assert_true(hm_registry_put_realizations(db, "FR01", cases[i].type, cases[i].id,
                                                 cases[i].organ, cases[i].method, "run1", w,
                                                 cases[i].n, &err) < 0);
        assert_string_equal(err.field, cases[i].field);
    }
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM organ_dose_real"), 10);
    hm_db_close(db);
}

static void put_event(hm_db *db, const char *proc, const char *uid, const char *imputed)
{
    hm_dose_event_row e = { "FR01", proc, uid, "run1", imputed, "library", 0.25, NAN };
    hm_error err;
    int rc = hm_registry_put_dose_event(db, &e, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
}

static void test_dose_rows_and_report(void **state)
{
    (void)state;
    char url[1024];
    hm_db *db = base("drep", url, sizeof url);
    hm_error err;
    put_event(db, "P1", "1.2.3.4.1", "kvp,field,position");
    put_event(db, "P1", "1.2.3.4.2", "");
    put_event(db, "P2", "9.1", "kvp");
    put_event(db, "P2", "9.2", "kvp,filter");
    put_event(db, "P2", "9.2", "position");      /* upsert replaces */
    unsigned char map[64];
    for (int i = 0; i < 64; i++)
        map[i] = (unsigned char)(255 - i);
    hm_dose_procedure_row p1 = { "FR01", "P1", "run1", 1, 0.8, 120.5, map, sizeof map };
    hm_dose_procedure_row p2 = { "FR01", "P2", "run1", 2, 0.1, NAN, NULL, 0 };
    hm_dose_procedure_row p3 = { "FR01", "P3", "run1", 3, 0.05, NAN, NULL, 0 };
    assert_int_equal(hm_registry_put_dose_procedure(db, &p1, &err), 0);
    assert_int_equal(hm_registry_put_dose_procedure(db, &p2, &err), 0);
    assert_int_equal(hm_registry_put_dose_procedure(db, &p3, &err), 0);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM dose_procedure WHERE skin_map IS NULL"), 2);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM dose_procedure WHERE peak_skin_dose_mgy IS NULL"), 2);
    /* Checks: tier, method, imputed names, an unknown procedure. */
    hm_dose_procedure_row bad = p2;
    bad.tier_used = 4;
    assert_int_equal(hm_registry_put_dose_procedure(db, &bad, &err), HM_EINVAL);
    assert_string_equal(err.field, "tier_used");
    hm_dose_event_row e = { "FR01", "P1", "x", "run1", "kvp,,field", "library", NAN, NAN };
    assert_int_equal(hm_registry_put_dose_event(db, &e, &err), HM_EINVAL);
    assert_string_equal(err.field, "imputed");
    e.imputed = NULL;
    e.method = "guess";
    assert_int_equal(hm_registry_put_dose_event(db, &e, &err), HM_EINVAL);
    assert_string_equal(err.field, "method");
    e.method = "direct";
    e.procedure_id = "P77";
    assert_int_equal(hm_registry_put_dose_event(db, &e, &err), HM_EVALIDATE);
    assert_string_equal(err.field, "procedure_id");

    /* The report counts them per centre (JSON). */
    char path[1024];
    snprintf(path, sizeof path, "%s/report.json", HM_TEST_TMPDIR);
    FILE *fp = fopen(path, "w");
    assert_int_equal(hm_registry_report(db, fp, 1, &err), 0);
    fclose(fp);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    assert_non_null(root);
    json_t *c0 = json_array_get(json_object_get(root, "centres"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "centre_code")), "FR01");
    json_t *d = json_object_get(c0, "dosimetry");
    assert_int_equal(json_integer_value(json_object_get(d, "events")), 4);
    assert_int_equal(json_integer_value(json_object_get(d, "events_imputed")), 3);
    json_t *names = json_object_get(d, "imputed");
    assert_int_equal(json_integer_value(json_object_get(names, "kvp")), 2);
    assert_int_equal(json_integer_value(json_object_get(names, "position")), 2);
    assert_int_equal(json_integer_value(json_object_get(names, "field")), 1);
    assert_null(json_object_get(names, "filter"));
    json_t *tu = json_object_get(d, "tier_used");
    assert_int_equal(json_integer_value(json_object_get(tu, "1")), 1);
    assert_int_equal(json_integer_value(json_object_get(tu, "2")), 1);
    assert_int_equal(json_integer_value(json_object_get(tu, "3")), 1);
    json_decref(root);
    /* And as text. */
    fp = fopen(path, "w");
    assert_int_equal(hm_registry_report(db, fp, 0, &err), 0);
    fclose(fp);
    char *text = tdb_read(path);
    assert_non_null(strstr(text, "FR01     events 4, imputed 3 (75.0%), field 1, kvp 2, position 2; "
                                 "tier used 1: 1, 2: 1, 3: 1"));
    free(text);

    /* Export: the skin map as base64, the absent one empty; computed tables
     * are not imported and have no template. */
    char dir[512];
    snprintf(dir, sizeof dir, "%.400s/dexp", HM_TEST_TMPDIR);
    assert_int_equal(hm_registry_export(db, dir, NULL, &err), 0);
    snprintf(path, sizeof path, "%s/dose_procedure.csv", dir);
    text = tdb_read(path);
    assert_non_null(strstr(text, "centre_code,procedure_id,run_id,tier_used,effective_dose_msv,"
                                 "peak_skin_dose_mgy,skin_map\nFR01,P1,run1,1,0.8,120.5,//79/Pv6+"));
    assert_non_null(strstr(text, "\nFR01,P2,run1,2,0.1,,\n"));
    free(text);
    hm_import_report rep;
    hm_import_report_init(&rep);
    assert_int_equal(hm_registry_import_csv(db, "FR01", "dose_procedure", path, &rep, &err), HM_OK);
    assert_int_equal(rep.rows_stored, 0);
    assert_int_equal(rep.n_warnings, 1);
    assert_int_equal(rep.n_errors, 0);
    assert_non_null(strstr(rep.issues[0].msg, "computed by harmonic dose cohort, never imported"));
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM dose_procedure"), 3);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM import_log WHERE table_name = 'dose_procedure'"), 0);
    fp = fopen("/dev/null", "w");
    assert_int_equal(hm_dict_write_template(hm_db_dict(db), "organ_dose_real", fp, &err), HM_EINVAL);
    assert_int_equal(hm_dict_write_template(hm_db_dict(db), "device", fp, &err), HM_OK);
    fclose(fp);
    hm_db_close(db);
}

/* ---------------------------------------------------------------- */
/* Dose runs, resume, kill. */

#define NPROC 60
#define COMMIT_EVERY 7
#define KILL_IN 31           /* killed while writing the 31st procedure */

typedef struct runner {
    hm_db          *db;
    hm_dose_writer *w;
    int             done, kill_at;
    char            first[64];
} runner;

static int do_procedure(void *arg, const char *centre, const char *proc, int tier)
{
    runner *r = arg;
    hm_error err;
    assert_true(tier >= 1 && tier <= 3);
    if (!r->first[0])
        snprintf(r->first, sizeof r->first, "%s", proc);
    assert_int_equal(hm_dose_writer_start(r->w, &err), 0);
    float v[50];
    for (int o = 0; o < 3; o++) {
        for (int i = 0; i < 50; i++)
            v[i] = (float)(atoi(proc + 1) * 100 + o * 10 + i % 10);
        if (r->kill_at && r->done + 1 == r->kill_at && o == 2)
            raise(SIGKILL);                  /* mid-procedure, transaction open */
        assert_int_equal(hm_registry_put_realizations(r->db, centre, "procedure", proc, ORGANS[o],
                                                      "kap_coefficient", "runK", v, 50, &err), 0);
    }
    hm_dose_procedure_row p = { centre, proc, "runK", tier, 0.1, NAN, NULL, 0 };
    assert_int_equal(hm_registry_put_dose_procedure(r->db, &p, &err), 0);
    assert_int_equal(hm_dose_writer_done(r->w, centre, proc, &err), 0);
    r->done++;
    return 0;
}

static void run_once(const char *url, int kill_at, runner *out)
{
    hm_error err;
    memset(out, 0, sizeof *out);
    out->db = tdb_open(url);
    out->kill_at = kill_at;
    int created = -1;
    assert_int_equal(hm_dose_run_open(out->db, "runK", "{\"realizations\":50}", "test", "lib-0",
                                      &created, &err), 0);
    assert_int_equal(hm_dose_writer_open(out->db, "runK", COMMIT_EVERY, &out->w, &err), 0);
    assert_int_equal(hm_dose_run_pending(out->db, "runK", do_procedure, out, &err), 0);
    assert_int_equal(hm_dose_writer_close(out->w, &err), 0);
    hm_db_close(out->db);
}

static void test_killed_run_resumes(void **state)
{
    (void)state;
    char url[1024];
    hm_db *db = base("dkill", url, sizeof url);
    hm_error err;
    /* NPROC more tier-2 procedures K10..K69 besides P1..P3. */
    char path[1024];
    snprintf(path, sizeof path, "%s/kp.csv", HM_TEST_TMPDIR);
    FILE *fp = fopen(path, "w");
    fputs("centre_code,procedure_id,pseudonym,proc_day,exam_type,category,kap_total_gy_cm2,dose_tier\n", fp);
    for (int i = 0; i < NPROC; i++)
        fprintf(fp, "FR01,K%d," PSEUDO("01") ",%d,diag_cath,diagnostic,1.5,2\n", 10 + i, 30 + i);
    fclose(fp);
    hm_import_report rep;
    hm_import_report_init(&rep);
    assert_int_equal(hm_registry_import_csv(db, "FR01", "procedure", path, &rep, &err), 0);
    hm_import_report_free(&rep);
    /* Marking done outside a transaction is refused. */
    assert_int_equal(hm_dose_run_mark_done(db, "runK", "FR01", "P1", &err), HM_EINVAL);
    assert_int_equal(hm_dose_run_find(db, "runK", &(hm_dose_run){ 0 }, &err), HM_ENOTFOUND);
    hm_db_close(db);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        runner r;
        run_once(url, KILL_IN, &r);
        _exit(3);                            /* only if the kill did not happen */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    /* Only whole procedures: every done one has its 3 organs and its
     * dose_procedure row, nothing else was kept; the commits before the kill
     * hold floor(30 / 7) * 7 = 28 procedures. */
    db = tdb_open(url);
    long done = 0;
    assert_int_equal(hm_dose_run_count_done(db, "runK", &done, &err), 0);
    assert_int_equal(done, (KILL_IN - 1) / COMMIT_EVERY * COMMIT_EVERY);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM organ_dose_real"), 3 * done);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM dose_procedure"), done);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM organ_dose_real r WHERE NOT EXISTS "
                                   "(SELECT 1 FROM dose_run_done d WHERE d.run_id = 'runK' AND "
                                   "d.centre_code = r.centre_code AND d.procedure_id = r.source_id)"), 0);
    hm_dose_run run;
    assert_int_equal(hm_dose_run_find(db, "runK", &run, &err), 0);
    assert_string_equal(run.params, "{\"realizations\":50}");
    assert_string_equal(run.library_id, "lib-0");
    assert_int_equal(strlen(run.created_at), 20);
    hm_dose_run_clear(&run);
    int created = -1;
    assert_int_equal(hm_dose_run_open(db, "runK", "{}", "x", "y", &created, &err), 0);
    assert_int_equal(created, 0);            /* exists: left as it was */
    hm_db_close(db);

    /* Resume: only the pending procedures are done, in byte order. */
    runner r;
    run_once(url, 0, &r);
    assert_int_equal(r.done, NPROC + 3 - done);
    db = tdb_open(url);
    assert_int_equal(hm_dose_run_count_done(db, "runK", &done, &err), 0);
    assert_int_equal(done, NPROC + 3);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM organ_dose_real"), 3 * (NPROC + 3));
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM dose_procedure WHERE tier_used = 2"), NPROC + 1);
    hm_db_close(db);
}

/* ---------------------------------------------------------------- */

static void test_devices(void **state)
{
    (void)state;
    char url[1024];
    hm_db *db = base("dev", url, sizeof url);
    hm_import_report rep;
    const char *dev =
        "centre_code,device_id,manufacturer,model,serial,kap_calibration,kap_calibration_gsd,"
        "inherent_filter_al_mm,source_isocentre_mm,source_detector_mm,isocentre_to_reference_point_mm,"
        "table_transmission_60kv,table_transmission_80kv,table_transmission_100kv,"
        "table_transmission_120kv,table_lateral_sign,table_longitudinal_sign,table_height_sign,notes\n"
        "FR01,CATH1,Siemens,Artis zee,12345,0.85,1.1,2.5,765,1100,150,0.70,0.76,0.80,0.83,1,-1,-1,\"measured 2023, Unfors\"\n"
        "FR01,CATH2,Philips,,,,,,,,,,,,,,,,\n";
    assert_int_equal(tdb_import(db, "FR01", "device", "dev.csv", dev, &rep), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM device WHERE table_longitudinal_sign = -1 "
                                   "AND kap_calibration = 0.85"), 1);
    /* Rules: a zero sign, the detector before the isocentre, a range, a
     * falling transmission (warning). */
    const char *bad =
        "centre_code,device_id,kap_calibration,source_isocentre_mm,source_detector_mm,"
        "table_transmission_60kv,table_transmission_80kv,table_lateral_sign\n"
        "FR01,D1,12,765,1000,,,1\n"
        "FR01,D2,1,765,700,0.8,0.7,0\n";
    assert_int_equal(tdb_import(db, "FR01", "device", "bad.csv", bad, &rep), HM_EVALIDATE);
    assert_int_equal(rep.n_errors, 3);
    assert_int_equal(rep.n_warnings, 1);
    const char *fields[] = { "kap_calibration", "source_detector_mm", "table_transmission_80kv",
                             "table_lateral_sign" };
    long lines[] = { 2, 3, 3, 3 };
    int seen = 0;
    for (size_t i = 0; i < rep.nissues; i++)
        for (int k = 0; k < 4; k++)
            if (!strcmp(rep.issues[i].field, fields[k]) && rep.issues[i].line == lines[k])
                seen |= 1 << k;
    assert_int_equal(seen, 15);
    hm_import_report_free(&rep);
    /* procedure.device_id must name a device of the centre. */
    const char *proc =
        "centre_code,procedure_id,pseudonym,proc_day,exam_type,category,kap_total_gy_cm2,dose_tier,device_id,device_serial\n"
        "FR01,D1," PSEUDO("01") ",30,diag_cath,diagnostic,1.5,2,CATH1,12345\n"
        "FR01,D2," PSEUDO("01") ",31,diag_cath,diagnostic,1.5,2,CATH9,\n"
        "FR01,D3," PSEUDO("01") ",32,diag_cath,diagnostic,1.5,2,,\n";
    assert_int_equal(tdb_import(db, "FR01", "procedure", "pd.csv", proc, &rep), HM_EVALIDATE);
    assert_int_equal(rep.n_errors, 1);
    assert_int_equal(rep.issues[0].line, 3);
    assert_string_equal(rep.issues[0].field, "device_id");
    assert_non_null(strstr(rep.issues[0].msg, "device 'CATH9' is not registered for centre FR01"));
    hm_import_report_free(&rep);
    hm_db_close(db);
}

/* A version-2 registry (before devices and dose runs) opened now is
 * migrated, its rows kept and the new columns empty. */
static void test_migrate_from_v2(void **state)
{
    (void)state;
    char url[1024];
    hm_db *db = base("mig", url, sizeof url);
    hm_error err;
    hm_db_close(db);                 /* a fresh handle: no statement of the import open */
    db = tdb_open(url);
    static const char *undo[] = {
        "DROP TABLE device", "DROP TABLE dose_event", "DROP TABLE dose_procedure",
        "DROP TABLE organ_dose_real", "DROP TABLE dose_run", "DROP TABLE dose_run_done",
        "ALTER TABLE procedure DROP COLUMN device_id", "ALTER TABLE procedure DROP COLUMN device_serial",
        /* and the later versions (004: treatment, 005: rt import, 006: qol_item), since the newest
         * applied version counts */
        "DROP TABLE chemotherapy", "DROP TABLE surgery", "DROP TABLE stem_cell_transplant",
        "DROP TABLE qol_item",
        "DROP TABLE rt_course_version", "DROP TABLE rt_dvh", "DROP TABLE bio_event", "DROP TABLE bio_protocol",
        "DELETE FROM schema_version WHERE version >= 3", NULL
    };
    for (int i = 0; undo[i]; i++) {
        int rc = hm_db_exec(db, undo[i], &err);
        if (rc)
            fprintf(stderr, "%s: %s\n", undo[i], err.msg);
        assert_int_equal(rc, 0);
    }
    int v = 0;
    assert_int_equal(hm_db_schema_version(db, &v, &err), 0);
    assert_int_equal(v, 2);
    hm_db_close(db);
    db = tdb_open(url);
    assert_int_equal(hm_db_schema_version(db, &v, &err), 0);
    assert_true(v >= 6);                    /* 003, then every later migration */
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM chemotherapy"), 0);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure"), 3);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM procedure WHERE device_id IS NULL "
                                   "AND device_serial IS NULL AND kap_total_gy_cm2 = 1.25"), 1);
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM organ_dose_real"), 0);
    hm_db_close(db);
}

int main(void)
{
    if (tdb_skip())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blob_binding),
        cmocka_unit_test(test_realizations_round_trip),
        cmocka_unit_test(test_dose_rows_and_report),
        cmocka_unit_test(test_killed_run_resumes),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_migrate_from_v2),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tdb_cleanup();
    return rc;
}
