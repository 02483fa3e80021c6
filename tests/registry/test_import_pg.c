/*
 * test_import_pg.c — the PostgreSQL batched import (import_pg.c) against
 * the SQLite path: the same files give the same report (every issue's line,
 * field, severity and message, in the same order) and the same stored rows,
 * with batches of 3 rows so that look-ups, staging and the duplicate check
 * span several batches.  Also: another centre's rows, duplicate keys
 * (first occurrence rejected, keys written differently), idempotence, a
 * kill after the upsert before COMMIT, and exports byte-identical.
 * PostgreSQL only (skips without HM_TEST_PG_URL).
 */
#include "test_db.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

typedef struct pair { hm_db *sq, *pg; char sq_url[1024], pg_url[1024]; } pair;

static void import_both(pair *p, const char *centre, const char *table, const char *text,
                        int expect_rc);

static void open_pair(pair *p, const char *tag)
{
    char t[64];
    snprintf(t, sizeof t, "%s_sq", tag);
    tdb_new_url_on(0, t, p->sq_url, sizeof p->sq_url);
    tdb_new_url_on(1, tag, p->pg_url, sizeof p->pg_url);
    p->sq = tdb_open(p->sq_url);
    p->pg = tdb_open(p->pg_url);
    import_both(p, "FR01", "centre", FX_CENTRE_FR, HM_OK);
    import_both(p, "NO01", "centre", FX_CENTRE_NO, HM_OK);
    import_both(p, "FR01", "patient", FX_PATIENT_FR, HM_OK);
    import_both(p, "NO01", "patient", FX_PATIENT_NO, HM_OK);
    import_both(p, "FR01", "procedure", FX_PROC_FR, HM_OK);
}

static void close_pair(pair *p)
{
    hm_db_close(p->sq);
    hm_db_close(p->pg);
}

static void issue_text(const hm_issue *is, char *buf, size_t size)
{
    snprintf(buf, size, "%ld:%s: %s%s", is->line, is->field,
             is->severity == HM_SEV_WARNING ? "warning: " : "", is->msg);
}

/* Imports text into both databases and checks the two reports are the same;
 * returns the PostgreSQL report in *out when given (caller frees). */
static void import_both_rep(pair *p, const char *centre, const char *table, const char *text,
                            int expect_rc, hm_import_report *out)
{
    hm_import_report a, b;
    int rc_sq = tdb_import(p->sq, centre, table, "sq.csv", text, &a);
    int rc_pg = tdb_import(p->pg, centre, table, "pg.csv", text, &b);
    if (rc_sq != expect_rc || rc_pg != expect_rc) {
        hm_import_report_print(&a, stderr);
        hm_import_report_print(&b, stderr);
    }
    assert_int_equal(rc_sq, expect_rc);
    assert_int_equal(rc_pg, expect_rc);
    assert_int_equal(a.rows_read, b.rows_read);
    assert_int_equal(a.rows_stored, b.rows_stored);
    if (a.n_errors != b.n_errors) { hm_import_report_print(&a, stderr); hm_import_report_print(&b, stderr); }
    assert_int_equal(a.n_errors, b.n_errors);
    assert_int_equal(a.n_warnings, b.n_warnings);
    assert_int_equal(a.nissues, b.nissues);
    for (size_t i = 0; i < a.nissues; i++) {
        char x[400], y[400];
        issue_text(&a.issues[i], x, sizeof x);
        issue_text(&b.issues[i], y, sizeof y);
        assert_string_equal(x, y);
    }
    hm_import_report_free(&a);
    if (out)
        *out = b;
    else
        hm_import_report_free(&b);
}

static void import_both(pair *p, const char *centre, const char *table, const char *text,
                        int expect_rc)
{
    import_both_rep(p, centre, table, text, expect_rc, NULL);
}

/* Issue i of rep as "line:field: message". */
static void assert_issue(const hm_import_report *rep, size_t i, const char *expect)
{
    char buf[400];
    assert_true(i < rep->nissues);
    issue_text(&rep->issues[i], buf, sizeof buf);
    assert_string_equal(buf, expect);
}

static const char *RT_HEAD =
    "centre_code,course_id,pseudonym,diag_topography,diag_morphology,diag_date,diag_day,technique,"
    "particle,prescription_gy,fractions,start_date,start_day,end_date,end_day\n";

/* Look-up dependent rules (birth date, derived days, references) mixed with
 * field and C-only rules, over several batches: same report as SQLite, in
 * line order, although look-up issues are found a batch later. */
static void test_same_report_in_line_order(void **state)
{
    (void)state;
    pair p;
    open_pair(&p, "order");
    char rt[4096];
    snprintf(rt, sizeof rt, "%s%s", RT_HEAD,
        "FR01,C1," PSEUDO("03") ",C71.9,9470/3,2012-05-01,,vmat,photon,54,30,2012-06-01,,2012-07-15,\n"
        "FR01,C2," PSEUDO("03") ",C71.9,9470/3,2007-05-01,,vmat,photon,54,30,2012-06-01,,,\n"  /* before birth */
        "FR01,C3," PSEUDO("03") ",C71.9,9470/3,2012-05-01,5,vmat,photon,54,30,2012-06-01,,,\n"  /* day disagrees */
        "FR01,C4," PSEUDO("09") ",C71.9,9470/3,2012-05-01,,vmat,photon,54,30,2012-06-01,,,\n"  /* no patient */
        "FR01,C5," PSEUDO("03") ",C71.9,9470/3,2012-05-01,,vmat,gamma,54,30,2012-06-01,,,\n"   /* bad code */
        "FR01,C6," PSEUDO("03") ",C71.9,9470/3,2012-05-01,,vmat,photon,54,30,2012-06-01,,2012-05-15,\n" /* end < start (derived days) */
        "FR01,C7," PSEUDO("03") ",C71.9,9470/3,2012-07-01,,vmat,photon,54,30,2012-06-01,,,\n"  /* start < diag (derived) */
        "NO01,C8," PSEUDO("01") ",C71.9,9470/3,,100,vmat,photon,54,30,,200,,\n"                 /* other centre */
        "FR01,C9," PSEUDO("03") ",C71.9,9470/3,2012-05-01,,vmat,photon,54,30,2012-06-01,,2012-07-15,\n"
        "FR01,C1," PSEUDO("03") ",C71.9,9470/3,2012-05-01,,vmat,photon,54,30,2012-06-01,,2012-07-15,\n"); /* duplicate */
    hm_import_report rep;
    import_both_rep(&p, "FR01", "rt_course", rt, HM_EVALIDATE, &rep);
    assert_issue(&rep, 0, "3:diag_date: 2007-05-01 is before the birth date 2008-02-29");
    assert_issue(&rep, 1, "4:diag_day: 5 disagrees with diag_date 2012-05-01 (1523 days after birth on 2008-02-29)");
    assert_issue(&rep, 2, "5:pseudonym: patient 000000000000... is not registered for centre FR01 (import the patient file first)");
    assert_int_equal(rep.issues[3].line, 6);
    assert_string_equal(rep.issues[3].field, "particle");
    assert_issue(&rep, 4, "7:end_day: 1537 is before start_day 1554");
    assert_issue(&rep, 5, "8:start_day: 1554 is before diag_day 1584");
    assert_issue(&rep, 6, "9:centre_code: 'NO01' is not the importing centre FR01: a centre may only send its own rows");
    assert_issue(&rep, 7, "11:course_id: duplicate key (course_id C1): an earlier row of this file has the same key");
    assert_int_equal(rep.nissues, 8);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM rt_course"), 0);

    /* A clean file: derived days stored the same on both. */
    snprintf(rt, sizeof rt, "%s%s", RT_HEAD,
        "FR01,C1," PSEUDO("03") ",C71.9,9470/3,2012-05-01,,vmat,photon,54,30,2012-06-01,,2012-07-15,\n"
        "FR01,C2," PSEUDO("03") ",C71.9,9470/3,,1500,imrt,photon,50.4,28,,1600,,1640\n"
        "FR01,C3," PSEUDO("03") ",C71.9,9470/3,2012-05-01,1523,vmat,photon,54,30,2012-06-01,,,\n");
    import_both(&p, "FR01", "rt_course", rt, HM_OK);
    assert_int_equal(tdb_count(p.pg, "SELECT end_day FROM rt_course WHERE course_id = 'C1'"), 1598);
    assert_int_equal(tdb_count(p.pg, "SELECT SUM(start_day) FROM rt_course"), 1554 + 1600 + 1554);
    close_pair(&p);
}

/* References answered per batch: procedures and courses of the centre only;
 * a CSV error at the end is reported after the rows before it. */
static void test_references_and_parse_error(void **state)
{
    (void)state;
    pair p;
    open_pair(&p, "refs");
    import_both(&p, "NO01", "procedure", FX_PROC_NO, HM_OK);
    const char *dose =
        "centre_code,source_type,source_id,organ,method,realization,dose_mgy\n"
        "FR01,procedure,P1,lung,rdsr_mc,0,3.5\n"
        "FR01,procedure,P404,lung,rdsr_mc,0,3.5\n"
        "FR01,rt_course,P1,lung,tps,0,3.5\n"
        "FR01,procedure,P2,heart,kap_coefficient,0,-1\n"
        "FR01,procedure,P3,heart,kap_coefficient,0,1\n"
        "FR01,procedure,P404,heart,kap_coefficient,0,1\n"
        "FR01,procedure,P1,lung,rdsr_mc,\"1,2\n";
    hm_import_report rep;
    import_both_rep(&p, "FR01", "organ_dose", dose, HM_EVALIDATE, &rep);
    assert_issue(&rep, 0, "3:source_id: procedure 'P404' is not registered for centre FR01 (import it first)");
    assert_issue(&rep, 1, "4:source_id: rt_course 'P1' is not registered for centre FR01 (import it first)");
    assert_int_equal(rep.issues[2].line, 5);
    assert_string_equal(rep.issues[2].field, "dose_mgy");
    assert_issue(&rep, 3, "7:source_id: procedure 'P404' is not registered for centre FR01 (import it first)");
    assert_int_equal(rep.issues[4].line, 9);      /* the unterminated quote, at the end */
    assert_int_equal(rep.nissues, 5);
    hm_import_report_free(&rep);
    /* NO01's procedure P1 is no reference for FR01's events, and the reverse. */
    const char *ev =
        "centre_code,procedure_id,event_uid,plane,event_type,field_width_mm,field_height_mm,field_area_cm2\n"
        "NO01,P1,1.2.3,A,fluoroscopy,100,100,150\n"
        "NO01,P2,1.2.4,A,fluoroscopy,,,\n";
    import_both_rep(&p, "NO01", "irradiation_event", ev, HM_EVALIDATE, &rep);
    assert_issue(&rep, 0, "2:field_area_cm2: warning: 150 cm2 differs from field_width_mm x field_height_mm = 100 cm2");
    assert_issue(&rep, 1, "3:procedure_id: procedure 'P2' is not registered for centre NO01 (import it first)");
    hm_import_report_free(&rep);
    close_pair(&p);
}

/* Duplicates: only among rows without error (a rejected first row is not
 * stored on SQLite either), keys compared as stored (realization 00 = 0)
 * and shown as written. */
static void test_duplicates(void **state)
{
    (void)state;
    pair p;
    open_pair(&p, "dups");
    const char *dose =
        "centre_code,source_type,source_id,organ,method,realization,dose_mgy\n"
        "FR01,procedure,P1,lung,rdsr_mc,0,-5\n"        /* rejected: not stored */
        "FR01,procedure,P1,lung,rdsr_mc,0,3.5\n"       /* first stored: no duplicate */
        "FR01,procedure,P1,lung,rdsr_mc,1,3.5\n"
        "FR01,procedure,P1,lung,rdsr_mc,00,3.6\n"      /* same key as line 3 */
        "FR01,procedure,P2,lung,rdsr_mc,0,3.5\n"
        "FR01,procedure,P1,lung,rdsr_mc,+1,3.7\n"      /* same as line 4 */
        "FR01,procedure,P1,lung,rdsr_mc,0,3.8\n";      /* same as line 3 again */
    hm_import_report rep;
    import_both_rep(&p, "FR01", "organ_dose", dose, HM_EVALIDATE, &rep);
    assert_int_equal(rep.issues[0].line, 2);
    assert_issue(&rep, 1, "5:source_type: duplicate key (source_type procedure, source_id P1, organ lung, "
                          "method rdsr_mc, realization 00): an earlier row of this file has the same key");
    assert_issue(&rep, 2, "7:source_type: duplicate key (source_type procedure, source_id P1, organ lung, "
                          "method rdsr_mc, realization +1): an earlier row of this file has the same key");
    assert_int_equal(rep.issues[3].line, 8);
    assert_int_equal(rep.nissues, 4);
    assert_int_equal(rep.n_errors, 4);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM organ_dose"), 0);
    close_pair(&p);
}

/* Both PostgreSQL paths (registry_int.h): the first import of a table for a
 * centre goes straight into the table, and a repeated key there (a unique
 * violation) makes it import again staged; later imports upsert from
 * staging batch by batch.  A repeated key is reported as on SQLite on each
 * path, within a batch or across batches, and a rejected re-import leaves
 * the stored rows as they were. */
static void test_duplicates_both_paths(void **state)
{
    (void)state;
    pair p;
    open_pair(&p, "paths");
    const char *head = "centre_code,source_type,source_id,organ,method,realization,dose_mgy\n";
    char text[1024];
    /* Direct path, no other error: line 4 repeats line 2 in the same batch
     * (3 rows), line 6 repeats line 3 a batch later. */
    snprintf(text, sizeof text, "%s%s", head,
             "FR01,procedure,P1,lung,rdsr_mc,0,3.5\n"
             "FR01,procedure,P1,lung,rdsr_mc,1,3.5\n"
             "FR01,procedure,P1,lung,rdsr_mc,0,3.6\n"
             "FR01,procedure,P2,lung,rdsr_mc,0,1.5\n"
             "FR01,procedure,P1,lung,rdsr_mc,1,3.7\n");
    hm_import_report rep;
    import_both_rep(&p, "FR01", "organ_dose", text, HM_EVALIDATE, &rep);
    assert_int_equal(rep.n_errors, 2);
    assert_int_equal(rep.issues[0].line, 4);
    assert_int_equal(rep.issues[1].line, 6);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM organ_dose"), 0);
    /* A clean first import (direct), then a re-import with one value changed
     * (staged upserts, no repeat): stored as on SQLite. */
    snprintf(text, sizeof text, "%s%s", head,
             "FR01,procedure,P1,lung,rdsr_mc,0,3.5\n"
             "FR01,procedure,P1,lung,rdsr_mc,1,3.5\n"
             "FR01,procedure,P2,lung,rdsr_mc,0,1.5\n"
             "FR01,procedure,P2,lung,rdsr_mc,1,1.5\n");
    import_both(&p, "FR01", "organ_dose", text, HM_OK);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM organ_dose"), 4);
    snprintf(text, sizeof text, "%s%s", head,
             "FR01,procedure,P1,lung,rdsr_mc,0,3.5\n"
             "FR01,procedure,P1,lung,rdsr_mc,1,3.5\n"
             "FR01,procedure,P2,lung,rdsr_mc,0,2.5\n"
             "FR01,procedure,P2,lung,rdsr_mc,1,1.5\n"
             "FR01,procedure,P3,lung,rdsr_mc,0,9\n");
    import_both(&p, "FR01", "organ_dose", text, HM_OK);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM organ_dose"), 5);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM organ_dose WHERE dose_mgy = 2.5"), 1);
    /* Staged path with repeats within and across batches: rejected, the
     * report as on SQLite, nothing changed (2.5 stays, no 7.5).  The first
     * row updates a row of the previous import: its repeat on line 3 is
     * caught on SQLite too (the updated row moves above the guard). */
    snprintf(text, sizeof text, "%s%s", head,
             "FR01,procedure,P2,lung,rdsr_mc,0,7.5\n"
             "FR01,procedure,P2,lung,rdsr_mc,0,7.5\n"
             "FR01,procedure,P3,lung,rdsr_mc,1,1\n"
             "FR01,procedure,P1,heart,rdsr_mc,0,1\n"
             "FR01,procedure,P2,lung,rdsr_mc,0,7.5\n");
    import_both_rep(&p, "FR01", "organ_dose", text, HM_EVALIDATE, &rep);
    assert_int_equal(rep.n_errors, 2);
    assert_int_equal(rep.issues[0].line, 3);
    assert_int_equal(rep.issues[1].line, 6);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM organ_dose"), 5);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM organ_dose WHERE dose_mgy = 2.5"), 1);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM organ_dose WHERE dose_mgy = 7.5"), 0);
    close_pair(&p);
}

/* Another centre's rows: refused per row, never reached through the
 * upsert; its own rows with the same other key are separate rows. */
static void test_other_centre(void **state)
{
    (void)state;
    pair p;
    open_pair(&p, "owner");
    const char *evil =
        "centre_code,procedure_id,pseudonym,proc_day,exam_type,category,kap_total_gy_cm2,dose_tier\n"
        "NO01,P9," PSEUDO("01") ",18,diag_cath,diagnostic,1,2\n"
        "FR01,P1," PSEUDO("01") ",18,diag_cath,diagnostic,999,2\n"
        "NO01,P8," PSEUDO("01") ",19,diag_cath,diagnostic,1,2\n";
    hm_import_report rep;
    import_both_rep(&p, "NO01", "procedure", evil, HM_EVALIDATE, &rep);
    assert_int_equal(rep.n_errors, 1);
    assert_issue(&rep, 0, "3:centre_code: 'FR01' is not the importing centre NO01: a centre may only send its own rows");
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM procedure WHERE kap_total_gy_cm2 = 999"), 0);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM procedure WHERE centre_code = 'NO01'"), 0);
    /* NO01's own P1 does not touch FR01's P1. */
    import_both(&p, "NO01", "procedure", FX_PROC_NO, HM_OK);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM procedure WHERE procedure_id = 'P1'"), 2);
    assert_int_equal(tdb_count(p.pg, "SELECT age_days FROM procedure WHERE centre_code = 'FR01' "
                                     "AND procedure_id = 'P1'"), 18);
    close_pair(&p);
}

static void export_dir(hm_db *db, const char *tag, char *dir, size_t size)
{
    snprintf(dir, size, "%s/%s", HM_TEST_TMPDIR, tag);
    hm_error err;
    assert_int_equal(hm_registry_export(db, dir, NULL, &err), HM_OK);
}

static void assert_same_dirs(const char *a, const char *b)
{
    DIR *d = opendir(a);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char pa[1200], pb[1200];
        snprintf(pa, sizeof pa, "%.900s/%.200s", a, e->d_name);
        snprintf(pb, sizeof pb, "%.900s/%.200s", b, e->d_name);
        char *x = tdb_read(pa), *y = tdb_read(pb);
        assert_string_equal(x, y);
        free(x);
        free(y);
        n++;
    }
    closedir(d);
    assert_int_equal(n, 26);          /* 22 tables + 2 codebooks + R + Stata */
}

/* Text that COPY must escape (backslashes, \N as text), quotes, commas and
 * UTF-8, many batches; export of SQLite and PostgreSQL byte-identical; a
 * second import changes nothing but the import log. */
static void test_escaping_export_identical_idempotent(void **state)
{
    (void)state;
    pair p;
    open_pair(&p, "esc");
    size_t cap = 1 << 16, o = 0;
    char *text = malloc(cap);
    o += (size_t)snprintf(text + o, cap - o,
                          "centre_code,procedure_id,pseudonym,proc_day,weight_kg,exam_type,category,"
                          "kap_total_gy_cm2,dose_tier,device_manufacturer,device_model\n");
    /* Backslash sequences COPY would read as tab or NULL unless escaped. */
    static const char *models[] = { "a\\tb", "back\\slash", "\\N", "\\\\N",
                                    "\"quote \"\" and, comma\"", "plain", "caf\xC3\xA9", "end\\" };
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(text + o, cap - o, "FR01,E%d," PSEUDO("01") ",%d,%.1f,stent,interventional,"
                              "%.17g,2,M%d,%s\n", i, 20 + i, 3.3 + i * 0.1, 0.1 * (i + 1), i,
                              models[i % 8]);
    hm_import_report rep;
    import_both_rep(&p, "FR01", "procedure", text, HM_OK, &rep);
    assert_int_equal(rep.rows_stored, 40);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM procedure WHERE device_model "
                                     "IN ('a\\tb', '\\N', 'end\\')"), 15);
    /* Control characters are refused before COPY, as on SQLite. */
    import_both(&p, "FR01", "procedure",
                "centre_code,procedure_id,pseudonym,proc_day,exam_type,category,dose_tier,device_model\n"
                "FR01,T1," PSEUDO("01") ",20,stent,interventional,3,\"a\tb\"\n"
                "FR01,T2," PSEUDO("01") ",20,stent,interventional,3,\"two\nlines\"\n", HM_EVALIDATE);
    char ds[1100], dp[1100], dp2[1100];
    export_dir(p.sq, "esc_sq", ds, sizeof ds);
    export_dir(p.pg, "esc_pg", dp, sizeof dp);
    assert_same_dirs(ds, dp);
    long logs = tdb_count(p.pg, "SELECT COUNT(*) FROM import_log");
    import_both(&p, "FR01", "procedure", text, HM_OK);
    export_dir(p.pg, "esc_pg2", dp2, sizeof dp2);
    assert_same_dirs(dp, dp2);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM import_log"), logs + 1);
    /* Dry run: everything checked, nothing stored, no log row. */
    hm_import_report_init(&rep);
    hm_error err;
    char path[1100];
    snprintf(path, sizeof path, "%s/dry.csv", HM_TEST_TMPDIR);
    tdb_write(path, FX_PROC_NO);
    assert_int_equal(hm_registry_import_csv_ex(p.pg, "NO01", "procedure", path, HM_IMPORT_DRY_RUN,
                                               &rep, &err), HM_OK);
    assert_int_equal(rep.rows_read, 1);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM procedure WHERE centre_code = 'NO01'"), 0);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM import_log"), logs + 1);
    free(text);
    close_pair(&p);
}

/* Killed after the set-based upsert, before COMMIT: nothing of it stays. */
static void test_kill_before_commit(void **state)
{
    (void)state;
    pair p;
    open_pair(&p, "killc");
    char d1[1100], d2[1100], path[1100];
    export_dir(p.pg, "killc1", d1, sizeof d1);
    snprintf(path, sizeof path, "%s/kill.csv", HM_TEST_TMPDIR);
    tdb_write(path, FX_EVENT_FR);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("HM_TEST_KILL_BEFORE_COMMIT", "1", 1);
        hm_db *c = NULL;
        hm_error err;
        if (hm_db_open(p.pg_url, &c, &err))
            _exit(2);
        hm_import_report rep;
        hm_import_report_init(&rep);
        hm_registry_import_csv(c, "FR01", "irradiation_event", path, &rep, &err);
        _exit(3);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    export_dir(p.pg, "killc2", d2, sizeof d2);
    assert_same_dirs(d1, d2);
    assert_int_equal(tdb_count(p.pg, "SELECT COUNT(*) FROM irradiation_event"), 0);
    close_pair(&p);
}

int main(void)
{
    if (!getenv("HM_TEST_PG_URL") || !getenv("HM_TEST_PG_URL")[0]) {
        fprintf(stderr, "HM_TEST_PG_URL unset: PostgreSQL test skipped\n");
        return 77;
    }
    setenv("HM_PG_BATCH_ROWS", "3", 1);     /* every file spans batches */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_report_in_line_order),
        cmocka_unit_test(test_references_and_parse_error),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_duplicates_both_paths),
        cmocka_unit_test(test_other_centre),
        cmocka_unit_test(test_escaping_export_identical_idempotent),
        cmocka_unit_test(test_kill_before_commit),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tdb_cleanup();
    return rc;
}
