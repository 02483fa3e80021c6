/*
 * test_submit.c — DICOM submissions end to end (routes_submit.c, tar.c):
 * the harmonic executable serves on 127.0.0.1 (plain-HTTP loopback test
 * mode), the fixtures come from the project's own writers (the RDSR
 * synthesiser, tests/dicom/rt_fixtures.c), archives from `tar -cf` or, for
 * the malicious entries, from a ustar writer here.  Checks: a good batch is
 * stored with the same counts and pseudonyms as `harmonic rdsr import` of
 * the same files; a bad file refuses the batch (422, nothing stored);
 * traversal, absolute, symlink and truncated archives are 400 with nothing
 * written; oversize 413; another centre 403; a diagnoses file of another
 * centre 422; resubmission changes nothing; an RT course as `rt import`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hm_testdb.h"
#include "hm_testserve.h"
#include "hm_testcmd.h"
#include "hm_server.h"
#include "hm_rdsr.h"
#include "../dicom/rt_fixtures.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#define DIR HM_TEST_TMPDIR
#define H HM_HARMONIC_EXE
#define MAX_UPLOAD (3 << 20)

static char url[1024];
static char tok_fr[80], tok_no[80], tok_ana[80];
static pid_t server_pid;
static int port;

static void start_server(void)
{
    server_pid = hm_test_serve(DIR "/server.conf", "http", NULL, &port);
}

/* ---- the client ---- */

typedef hm_test_buf buf;

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    assert_int_equal(fread(p, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    *n = (size_t)len;
    return p;
}

/* POSTs n bytes; the status, and the answer parsed in *out (may be NULL). */
static long post(const char *path, const char *token, const char *type, const char *body,
                 size_t n, json_t **out)
{
    CURL *c = curl_easy_init();
    char u[1024], h1[128], h2[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, u);
    struct curl_slist *h = NULL;
    snprintf(h1, sizeof h1, "Authorization: Bearer %s", token);
    snprintf(h2, sizeof h2, "Content-Type: %s", type);
    h = curl_slist_append(h, h1);
    h = curl_slist_append(h, h2);
    h = curl_slist_append(h, "X-Harmonic-Reason: quarterly dose upload");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    buf b = { NULL, 0 };
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hm_test_buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    fprintf(stderr, "POST %s -> %ld %s\n", path, status, b.p ? b.p : "");
    if (out)
        *out = b.p ? json_loads(b.p, 0, NULL) : NULL;
    free(b.p);
    return status;
}

static long post_file(const char *path, const char *token, const char *type, const char *file,
                      json_t **out)
{
    size_t n;
    char *p = slurp(file, &n);
    long st = post(path, token, type, p, n, out);
    free(p);
    return st;
}

/* ---- the database ---- */

static long count_in(const char *db_url, const char *sql)
{
    hm_db *db = tdb_open(db_url);
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), HM_OK);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    long n = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    hm_db_close(db);
    return n;
}

/* The rows a submission stores, as text: keys and doses in key order. */
static void rows_of(const char *db_url, int nq, char *out, size_t size)
{
    static const char *const q[] = {
        "SELECT pseudonym, birth_year FROM patient ORDER BY pseudonym",
        "SELECT procedure_id, pseudonym, kap_total_gy_cm2 FROM procedure ORDER BY procedure_id",
        "SELECT procedure_id, event_uid, kap_gy_cm2 FROM irradiation_event "
        "ORDER BY procedure_id, event_uid",
        "SELECT course_id, technique FROM rt_course ORDER BY course_id",
        "SELECT seq, action, entry_hash FROM audit_log ORDER BY seq",
        NULL
    };
    hm_db *db = tdb_open(db_url);
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; q[i] && i < nq; i++) {
        hm_stmt *st;
        hm_error err;
        assert_int_equal(hm_db_prepare(db, q[i], &st, &err), HM_OK);
        while (hm_stmt_step(st, &err) == 1 && o + 200 < size)
            for (int c = 0; c < hm_stmt_column_count(st); c++) {
                /* Reals printed alike from both back ends. */
                if (c == 2 && i < 3)
                    o += (size_t)snprintf(out + o, size - o, "%.9g|",
                                          hm_stmt_column_double(st, c));
                else
                    o += (size_t)snprintf(out + o, size - o, "%s|", hm_stmt_column_text(st, c));
            }
        hm_stmt_finalize(st);
        o += (size_t)snprintf(out + o, size - o, "\n");
    }
    hm_db_close(db);
}

static int upload_dir_entries(void)
{
    char out[4096];
    hm_test_run("ls -A " DIR "/uploads | wc -l", out, sizeof out, 0);
    return atoi(out);
}

/* A refused request: its status, nothing changed, the upload dir empty. */
static json_t *refused(const char *path, const char *token, const char *type, const char *body,
                       size_t n, long status)
{
    static char before[1 << 16], after[1 << 16];
    rows_of(url, 5, before, sizeof before);
    json_t *j = NULL;
    assert_int_equal(post(path, token, type, body, n, &j), status);
    assert_non_null(j);
    rows_of(url, 5, after, sizeof after);
    assert_string_equal(before, after);
    assert_int_equal(upload_dir_entries(), 0);
    return j;
}

/* ---- fixtures ---- */

static void sh(const char *cmd)
{
    char out[8192];
    int st = hm_test_run(cmd, out, sizeof out, 1);
    if (st)
        fprintf(stderr, "$ %s\n%s\n", cmd, out);
    assert_int_equal(st, 0);
}

static void synth(const char *path, unsigned seed, int first, int nevents, const char *study_uid)
{
    hm_rdsr_synth_spec s;
    memset(&s, 0, sizeof s);
    s.seed = seed;
    s.first_event = first;
    s.nevents = nevents;
    s.study_uid = study_uid;
    hm_rdsr_synth_truth t;
    hm_error err;
    assert_int_equal(hm_rdsr_synth_write(path, &s, &t, &err), HM_OK);
}

/* One ustar header (POSIX pax "ustar Interchange Format"), written here
 * independently of the server's reader, then size bytes of data. */
static void tar_entry(FILE *fp, const char *name, char type, const char *link, const char *data,
                      size_t size)
{
    unsigned char h[512];
    memset(h, 0, sizeof h);
    snprintf((char *)h, 100, "%s", name);
    snprintf((char *)h + 100, 8, "%07o", 0644);
    snprintf((char *)h + 108, 8, "%07o", 0);
    snprintf((char *)h + 116, 8, "%07o", 0);
    snprintf((char *)h + 124, 12, "%011lo", (unsigned long)size);
    snprintf((char *)h + 136, 12, "%011lo", 0UL);
    h[156] = (unsigned char)type;
    if (link)
        snprintf((char *)h + 157, 100, "%s", link);
    memcpy(h + 257, "ustar\0" "00", 8);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    fwrite(h, 1, 512, fp);
    if (size) {
        fwrite(data, 1, size, fp);
        static const char zeros[512];
        fwrite(zeros, 1, (512 - size % 512) % 512, fp);
    }
}

static void tar_end(FILE *fp)
{
    static const char zeros[1024];
    fwrite(zeros, 1, sizeof zeros, fp);
    fclose(fp);
}

static void issue(hm_db *db, const char *name, char *tok)
{
    hm_error err;
    assert_int_equal(hm_token_issue(db, name, 30, "test", "test", tok, 80, &err), HM_OK);
}

static int setup(void **state)
{
    (void)state;
    mkdir(DIR, 0700);
    sh("rm -rf " DIR "/uploads " DIR "/keys " DIR "/rdsr " DIR "/rt " DIR "/evil* " DIR "/cli.db"
       " && mkdir -p " DIR "/keys " DIR "/rdsr " DIR "/rt && chmod 700 " DIR "/keys");
    sh(H " keygen --out " DIR "/keys/FR01.key && " H " keygen --out " DIR "/keys/NO01.key");
    tdb_new_url("submit", url, sizeof url);
    hm_db *db = tdb_open(url);
    hm_error err;
    const char *pw = "correct horse battery staple";
    assert_int_equal(hm_user_add(db, "fr_submit", HM_ROLE_CENTRE_MANAGER, "FR01", pw, "t", "t",
                                 &err), 0);
    assert_int_equal(hm_user_add(db, "no_submit", HM_ROLE_CENTRE_MANAGER, "NO01", pw, "t", "t",
                                 &err), 0);
    issue(db, "fr_submit", tok_fr);
    issue(db, "no_submit", tok_no);
    assert_int_equal(hm_user_add(db, "ana_submit", HM_ROLE_ANALYST, "", pw, "t", "t", &err), 0);
    issue(db, "ana_submit", tok_ana);
    FILE *fp = fopen(DIR "/centre.csv", "w");
    fputs("centre_code,country,name,cohort\nFR01,FR,Necker,both\n", fp);
    fclose(fp);
    hm_import_report rep;
    hm_import_report_init(&rep);
    assert_int_equal(hm_registry_import_csv(db, "FR01", "centre", DIR "/centre.csv", &rep, &err),
                     0);
    hm_import_report_free(&rep);
    fp = fopen(DIR "/centre_no.csv", "w");
    fputs("centre_code,country,name,cohort\nNO01,NO,Oslo,both\n", fp);
    fclose(fp);
    hm_import_report_init(&rep);
    assert_int_equal(hm_registry_import_csv(db, "NO01", "centre", DIR "/centre_no.csv", &rep,
                                            &err), 0);
    hm_import_report_free(&rep);
    hm_db_close(db);
    fp = fopen(DIR "/server.conf", "w");
    fprintf(fp, "# written by test_submit.c\nlisten = 127.0.0.1\nport = 0\ntls = off\n"
                "db = %s\nupload_dir = %s/uploads\nmax_upload_bytes = %d\n"
                "log_file = %s/server.log\nthreads = 2\npseudonym_key_dir = %s/keys\n",
            url, DIR, MAX_UPLOAD, DIR, DIR);
    fclose(fp);
    /* What a killed server would leave: an extraction dir, removed at start. */
    sh("mkdir -p " DIR "/uploads/upload-x-stale/in/c1 && echo x > " DIR
       "/uploads/upload-x-stale/in/c1/RP.dcm && chmod 700 " DIR "/uploads");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_server();
    struct stat st;
    assert_int_not_equal(lstat(DIR "/uploads/upload-x-stale", &st), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        int st;
        waitpid(server_pid, &st, 0);
    }
    curl_global_cleanup();
    tdb_cleanup();
    return 0;
}

/* ---- the tests ---- */

/* Three reports (two studies, one continued: events 6-9 after 0-5 of the
 * same study, overlapping by one) as one archive, and the CLI import of the
 * same files into another registry: same rows, same pseudonyms. */
static void test_rdsr_batch(void **state)
{
    (void)state;
    synth(DIR "/rdsr/a1.dcm", 11, 0, 6, "1.2.826.0.1.3680043.9.7777.1");
    synth(DIR "/rdsr/a2.dcm", 11, 5, 4, "1.2.826.0.1.3680043.9.7777.1");
    synth(DIR "/rdsr/b.dcm", 12, 0, 5, NULL);
    sh("cd " DIR " && tar -cf batch.tar rdsr");
    json_t *j = NULL;
    assert_int_equal(post_file("/api/v1/centres/FR01/rdsr", tok_fr, "application/x-tar",
                               DIR "/batch.tar", &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "files")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "events_added")), 6 + 3 + 5);
    assert_int_equal(json_integer_value(json_object_get(j, "procedures_added")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "patients_added")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "reports"), 0), "file")),
                        "rdsr/a1.dcm");
    json_decref(j);
    assert_int_equal(count_in(url, "SELECT COUNT(*) FROM irradiation_event"), 14);
    assert_int_equal(count_in(url, "SELECT COUNT(*) FROM procedure"), 2);
    assert_int_equal(upload_dir_entries(), 0);
    /* The audit entry: the reason, the user and the SHA-256 of the archive. */
    size_t n;
    char *bytes = slurp(DIR "/batch.tar", &n);
    unsigned char d[32];
    crypto_hash_sha256(d, (const unsigned char *)bytes, n);
    free(bytes);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    hm_db *db = tdb_open(url);
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, "SELECT user_name, action, centre_code, digest, reason FROM "
                                       "audit_log ORDER BY seq DESC LIMIT 1", &st, &err), 0);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    assert_string_equal(hm_stmt_column_text(st, 0), "fr_submit");
    assert_string_equal(hm_stmt_column_text(st, 1), "submit_rdsr");
    assert_string_equal(hm_stmt_column_text(st, 2), "FR01");
    assert_string_equal(hm_stmt_column_text(st, 3), hex);
    assert_string_equal(hm_stmt_column_text(st, 4), "quarterly dose upload");
    hm_stmt_finalize(st);
    hm_db_close(db);
    /* The command line on the same files, same key: the same rows. */
    sh(H " import --db " DIR "/cli.db --centre FR01 centre " DIR "/centre.csv");
    sh(H " rdsr import --db " DIR "/cli.db --centre FR01 --key " DIR "/keys/FR01.key "
       DIR "/rdsr");
    static char srv_rows[1 << 16], cli_rows[1 << 16];
    rows_of(url, 4, srv_rows, sizeof srv_rows);      /* all but the audit chain */
    rows_of(DIR "/cli.db", 4, cli_rows, sizeof cli_rows);
    assert_true(strlen(srv_rows) > 1000);
    assert_string_equal(srv_rows, cli_rows);
    /* Resubmission: 200, nothing new, no row changed. */
    char before[1 << 12], after[1 << 12];
    snprintf(before, sizeof before, "%ld %ld", count_in(url, "SELECT COUNT(*) FROM procedure"),
             count_in(url, "SELECT COUNT(*) FROM irradiation_event"));
    assert_int_equal(post_file("/api/v1/centres/FR01/rdsr", tok_fr, "application/x-tar",
                               DIR "/batch.tar", &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "events_added")), 0);
    json_decref(j);
    snprintf(after, sizeof after, "%ld %ld", count_in(url, "SELECT COUNT(*) FROM procedure"),
             count_in(url, "SELECT COUNT(*) FROM irradiation_event"));
    assert_string_equal(before, after);
    /* One DICOM file as the body. */
    synth(DIR "/single.dcm", 13, 0, 3, NULL);
    assert_int_equal(post_file("/api/v1/centres/FR01/rdsr", tok_fr, "application/dicom",
                               DIR "/single.dcm", &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "events_added")), 3);
    json_decref(j);
    assert_int_equal(count_in(url, "SELECT COUNT(*) FROM irradiation_event"), 17);
    assert_int_equal(upload_dir_entries(), 0);
}

/* A locked procedure (data queries) refuses a continued report that would
 * add doses to it: 409, nothing stored; the lock is the server's trigger. */
static void test_rdsr_locked(void **state)
{
    (void)state;
    hm_db *db = tdb_open(url);
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, "SELECT procedure_id FROM irradiation_event GROUP BY "
                                       "procedure_id HAVING COUNT(*) = 9", &st, &err), 0);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    char body[512];
    snprintf(body, sizeof body, "{\"table\":\"procedure\",\"key\":{\"procedure_id\":\"%s\"}}",
             hm_stmt_column_text(st, 0));
    hm_stmt_finalize(st);
    hm_db_close(db);
    assert_int_equal(post("/api/v1/centres/FR01/locks", tok_ana, "application/json", body,
                          strlen(body), NULL), 201);
    sh("rm -rf " DIR "/more && mkdir -p " DIR "/more");
    synth(DIR "/more/a3.dcm", 11, 9, 3, "1.2.826.0.1.3680043.9.7777.1");
    sh("cd " DIR "/more && tar -cf ../more.tar a3.dcm");
    size_t n;
    char *p = slurp(DIR "/more.tar", &n);
    json_decref(refused("/api/v1/centres/FR01/rdsr", tok_fr, "application/x-tar", p, n, 409));
    free(p);
    /* The same report again, already stored in full, changes nothing: it goes in. */
    json_t *j;
    assert_int_equal(post_file("/api/v1/centres/FR01/rdsr", tok_fr, "application/x-tar",
                               DIR "/batch.tar", &j), 200);
    json_decref(j);
}

/* A batch with one file that is no RDSR: 422 naming it, nothing stored
 * (not even the good file's new study). */
static void test_rdsr_bad_file(void **state)
{
    (void)state;
    sh("rm -rf " DIR "/bad && mkdir -p " DIR "/bad");
    synth(DIR "/bad/good.dcm", 21, 0, 4, NULL);
    FILE *fp = fopen(DIR "/bad/broken.dcm", "w");
    fputs("this is not a DICOM file\n", fp);
    fclose(fp);
    sh("cd " DIR "/bad && tar -cf ../bad.tar good.dcm broken.dcm");
    size_t n;
    char *p = slurp(DIR "/bad.tar", &n);
    json_t *j = refused("/api/v1/centres/FR01/rdsr", tok_fr, "application/x-tar", p, n, 422);
    free(p);
    json_t *probs = json_object_get(j, "problems");
    assert_int_equal(json_array_size(probs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(probs, 0), "file")),
                        "broken.dcm");
    assert_non_null(json_object_get(json_array_get(probs, 0), "message"));
    char *text = json_dumps(j, 0);
    assert_non_null(text);
    assert_null(strstr(text, DIR "/uploads"));               /* no server path */
    free(text);
    json_decref(j);
    /* A radiography report maps but is refused at import: also the whole batch. */
    hm_rdsr_synth_spec s;
    memset(&s, 0, sizeof s);
    s.seed = 22;
    s.nevents = 2;
    s.radiography = 1;
    hm_rdsr_synth_truth t;
    hm_error err;
    assert_int_equal(hm_rdsr_synth_write(DIR "/bad/broken.dcm", &s, &t, &err), 0);
    sh("cd " DIR "/bad && tar -cf ../bad.tar good.dcm broken.dcm");
    p = slurp(DIR "/bad.tar", &n);
    j = refused("/api/v1/centres/FR01/rdsr", tok_fr, "application/x-tar", p, n, 422);
    free(p);
    probs = json_object_get(j, "problems");
    assert_int_equal(json_array_size(probs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(probs, 0), "field")),
                        "modality");
    json_decref(j);
}

/* Archives that must refuse the whole upload, naming the entry. */
static void test_tar_refused(void **state)
{
    (void)state;
    static const char *const names[] = { "../evil.dcm", DIR "/evil_abs.dcm", "a/../../evil.dcm",
                                         "link", "hard", NULL };
    for (int i = 0; names[i]; i++) {
        FILE *fp = fopen(DIR "/x.tar", "wb");
        tar_entry(fp, "ok.dcm", '0', NULL, "abc", 3);
        if (!strcmp(names[i], "link"))
            tar_entry(fp, "link", '2', "/etc/passwd", NULL, 0);
        else if (!strcmp(names[i], "hard"))
            tar_entry(fp, "hard", '1', "ok.dcm", NULL, 0);
        else
            tar_entry(fp, names[i], '0', NULL, "evil", 4);
        tar_end(fp);
        size_t n;
        char *p = slurp(DIR "/x.tar", &n);
        json_t *j = refused("/api/v1/centres/FR01/rdsr", tok_fr, "application/x-tar", p, n, 400);
        free(p);
        const char *msg = json_string_value(json_object_get(j, "error"));
        assert_non_null(strstr(msg, names[i]));
        json_decref(j);
    }
    struct stat st;
    assert_int_not_equal(lstat(DIR "/evil.dcm", &st), 0);
    assert_int_not_equal(lstat(DIR "/evil_abs.dcm", &st), 0);
    assert_int_not_equal(lstat(DIR "/uploads/evil.dcm", &st), 0);
    /* A real archive cut in the middle of its second file; a bad checksum. */
    json_t *j;
    sh("cd " DIR " && tar -cf cut.tar rdsr && truncate -s 20000 cut.tar");
    size_t n;
    char *p = slurp(DIR "/cut.tar", &n);
    j = refused("/api/v1/centres/FR01/rdsr", tok_fr, "application/x-tar", p, n, 400);
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "truncated"));
    json_decref(j);
    p[148] ^= 1;                                  /* the first header's checksum */
    j = refused("/api/v1/centres/FR01/rdsr", tok_fr, "application/x-tar", p, n, 400);
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "checksum"));
    json_decref(j);
    free(p);
    /* Oversize: 413 before the import; another centre: 403; wrong type: 415. */
    char *big = calloc(1, MAX_UPLOAD + 1024);
    json_decref(refused("/api/v1/centres/FR01/rdsr", tok_fr, "application/x-tar", big,
                        MAX_UPLOAD + 1024, 413));
    free(big);
    p = slurp(DIR "/batch.tar", &n);
    json_decref(refused("/api/v1/centres/NO01/rdsr", tok_fr, "application/x-tar", p, n, 403));
    json_decref(refused("/api/v1/centres/FR01/rt-courses", tok_no, "application/x-tar", p, n,
                        403));
    json_decref(refused("/api/v1/centres/FR01/rdsr", tok_fr, "text/csv", p, n, 415));
    /* The key directory readable by others: 500, the key unused; a centre
     * without a key file: 503.  The key's hex never reaches the log. */
    sh("chmod 750 " DIR "/keys");
    json_decref(refused("/api/v1/centres/FR01/rdsr", tok_fr, "application/x-tar", p, n, 500));
    sh("chmod 700 " DIR "/keys && mv " DIR "/keys/NO01.key " DIR "/NO01.key.off");
    j = refused("/api/v1/centres/NO01/rdsr", tok_no, "application/x-tar", p, n, 503);
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "NO01"));
    json_decref(j);
    sh("mv " DIR "/NO01.key.off " DIR "/keys/NO01.key");
    free(p);
    char out[4096];
    hm_test_run("sed -n 's/^key-hex: //p' " DIR "/keys/FR01.key", out, sizeof out, 0);
    out[strcspn(out, "\n")] = 0;
    assert_int_equal(strlen(out), 64);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "grep -c %s " DIR "/server.log", out);
    char hits[64];
    hm_test_run(cmd, hits, sizeof hits, 0);
    assert_int_equal(atoi(hits), 0);
    assert_int_equal(hm_test_run("grep -c /rdsr " DIR "/server.log", hits, sizeof hits, 0),
                     0);                           /* the log is written (and was read) */
}

/* The fixture course (CT, structure set, IMRT plan, dose) of patient pid. */
static void write_course(const char *dir, const char *pid)
{
    char cmd[1200], path[1100];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    sh(cmd);
    hm_error err;
    hm_rtdcm_ct ct;
    rtfx_ct(&ct);
    strcpy(ct.c.patient_id, pid);
    assert_int_equal(hm_rtdcm_ct_write(dir, &ct, NULL, &err), 0);
    hm_rtdcm_struct ss;
    rtfx_struct(&ss, &ct);
    snprintf(path, sizeof path, "%s/RS.dcm", dir);
    assert_int_equal(hm_rtdcm_struct_write(path, &ss, &err), 0);
    hm_rtdcm_plan plan;
    rtfx_plan(&plan, HM_RTDCM_TECH_IMRT, ss.c.sop_instance_uid);
    strcpy(plan.c.patient_id, pid);
    snprintf(path, sizeof path, "%s/RP.dcm", dir);
    assert_int_equal(hm_rtdcm_plan_write(path, &plan, &err), 0);
    hm_rtdcm_dose d;
    rtfx_dose(&d, &ct, 16, plan.c.sop_instance_uid);
    snprintf(path, sizeof path, "%s/RD.dcm", dir);
    assert_int_equal(hm_rtdcm_dose_write(path, &d, &err), 0);
    hm_rtdcm_dose_free(&d);
    hm_rtdcm_plan_free(&plan);
    hm_rtdcm_struct_free(&ss);
    hm_rtdcm_ct_free(&ct);
}

static void test_rt_course(void **state)
{
    (void)state;
    /* The patient first, pseudonymised at the hospital with the same key. */
    FILE *fp = fopen(DIR "/patient_hosp.csv", "w");
    fputs("centre_code,local_patient_id,cohort,sex,birth_date,syndrome,consent\n"
          "FR01,RT-0001,radiotherapy,F,2015-07-04,none,given\n", fp);
    fclose(fp);
    sh(H " pseudonymise --key " DIR "/keys/FR01.key --table patient --offset-dates " DIR
         "/patient_hosp.csv " DIR "/patient.csv");
    size_t n;
    char *p = slurp(DIR "/patient.csv", &n);
    assert_int_equal(post("/api/v1/centres/FR01/tables/patient", tok_fr, "text/csv", p, n, NULL),
                     200);
    free(p);
    write_course(DIR "/rt/c1", "RT-0001");
    sh("cd " DIR "/rt && tar -cf ../course.tar c1");
    const char *path = "/api/v1/centres/FR01/rt-courses?target=brain&diag_topography=C71.9"
                       "&diag_morphology=9470/3&diag_date=2023-12-01";
    json_t *j = NULL;
    assert_int_equal(post_file(path, tok_fr, "application/x-tar", DIR "/course.tar", &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "stored")), 1);
    json_t *c0 = json_array_get(json_object_get(j, "courses"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "status")), "new course");
    assert_string_equal(json_string_value(json_object_get(c0, "file")), "c1/RP.dcm");
    json_decref(j);
    assert_int_equal(count_in(url, "SELECT COUNT(*) FROM rt_course"), 1);
    long dvh = count_in(url, "SELECT COUNT(*) FROM rt_dvh");
    long od = count_in(url, "SELECT COUNT(*) FROM organ_dose");
    assert_int_equal(dvh, 2);                    /* BODY and PTV (ISO is a point) */
    assert_true(od > 20);
    assert_int_equal(upload_dir_entries(), 0);
    /* Again: unchanged. */
    assert_int_equal(post_file(path, tok_fr, "application/x-tar", DIR "/course.tar", &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "unchanged")), 1);
    json_decref(j);
    assert_int_equal(count_in(url, "SELECT COUNT(*) FROM organ_dose"), od);
    /* The CLI on the same files: the same counts. */
    sh(H " import --db " DIR "/cli.db --centre FR01 patient " DIR "/patient.csv");
    sh(H " rt import --db " DIR "/cli.db --centre FR01 --key " DIR "/keys/FR01.key --target brain "
       "--diag-topography C71.9 --diag-morphology 9470/3 --diag-date 2023-12-01 " DIR "/rt");
    assert_int_equal(count_in(DIR "/cli.db", "SELECT COUNT(*) FROM rt_dvh"), dvh);
    assert_int_equal(count_in(DIR "/cli.db", "SELECT COUNT(*) FROM organ_dose"), od);
    /* A diagnoses file claiming another centre: 422, nothing stored. */
    write_course(DIR "/rt2/c2", "RT-0001");
    fp = fopen(DIR "/rt2/diagnoses.csv", "w");
    fputs("centre_code,local_patient_id,diag_topography,diag_morphology,diag_date\n"
          "NO01,RT-0001,C71.9,9470/3,2023-12-01\n", fp);
    fclose(fp);
    sh("cd " DIR "/rt2 && tar -cf ../course2.tar diagnoses.csv c2");
    p = slurp(DIR "/course2.tar", &n);
    j = refused("/api/v1/centres/FR01/rt-courses?target=brain", tok_fr, "application/x-tar", p,
                n, 422);
    free(p);
    json_t *p0 = json_array_get(json_object_get(j, "problems"), 0);
    assert_string_equal(json_string_value(json_object_get(p0, "file")), "diagnoses.csv");
    json_decref(j);
    /* `harmonic audit verify` on the chain the submissions wrote. */
    char cmd[2400], out[4096];
    snprintf(cmd, sizeof cmd, H " audit verify --db '%s'", url);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 1), 0);
    assert_non_null(strstr(out, "intact"));
}

int main(void)
{
    if (tdb_skip())
        return 77;
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rdsr_batch),
        cmocka_unit_test(test_rdsr_locked),
        cmocka_unit_test(test_rdsr_bad_file),
        cmocka_unit_test(test_tar_refused),
        cmocka_unit_test(test_rt_course),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
