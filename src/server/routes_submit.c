/*
 * routes_submit.c — DICOM submissions: a batch of RDSR files
 * (POST /centres/{centre}/rdsr) and one patient's RT course
 * (POST /centres/{centre}/rt-courses), as a ustar archive (tar.c) or, for
 * RDSR, one DICOM file.
 *
 * Behind them the same library calls as `harmonic rdsr import` and
 * `harmonic rt import` (hm_rdsr_read_file + hm_rdsr_import_batch,
 * hm_rt_course_read_all + hm_rt_import): all or nothing, every problem in
 * the 422 report, the centre always the URL's, the audit entry written
 * inside the import's transaction (before_commit).  The archive is
 * extracted into a fresh directory under upload_dir that is removed
 * whatever happens; the upload file itself is removed by http.c.  The
 * centre's study key comes from pseudonym_key_dir/CENTRE.key
 * (docs/server.md, "DICOM submissions"): never logged, never returned.
 */
/* nftw (X/Open) */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include "srv_int.h"
#include "srv_tar.h"

#include "hm_pseudo.h"
#include "hm_rdsr.h"
#include "hm_rt.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int srv_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) || !S_ISDIR(st.st_mode))
        return -1;
    /* FTW_PHYS: a link is removed, never followed. */
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The centre's study key: pseudonym_key_dir must be 0700 (no group or other
 * access) and CENTRE.key 0600 (hm_pseudo_key_load checks the file).  The
 * status to answer on failure (503: not configured for this centre). */
static int load_key(const srv_request *q, hm_pseudo_key *key, srv_reply *r)
{
    const char *dir = q->cfg->pseudonym_key_dir;
    if (!dir[0]) {
        srv_reply_error(r, 503, "this server takes no DICOM submissions: pseudonym_key_dir "
                                "is not set in its configuration");
        return 503;
    }
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode) || (st.st_mode & 077)) {
        srv_log_event("key_dir", "pseudonym_key_dir missing or readable by group/others");
        srv_reply_error(r, 500, "the server's key directory is misconfigured (must be a "
                                "directory of mode 0700): ask the administrator");
        return 500;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.key", dir, q->route->centre);
    hm_error err;
    if (access(path, F_OK)) {
        srv_reply_error(r, 503, "no study key on this server for centre %s: ask the "
                                "administrator", q->route->centre);
        return 503;
    }
    if (hm_pseudo_key_load(path, key, &err)) {
        /* The message may describe the file: logged, not returned. */
        srv_log_event("key_load", err.msg);
        srv_reply_error(r, 500, "the study key of centre %s cannot be used (mode 0600 "
                                "needed): ask the administrator", q->route->centre);
        return 500;
    }
    return 0;
}

static int type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return ct && !strncasecmp(ct, want, n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* ---- the problems of a refused submission ---- */

/* A path inside the extraction dir as the client named it. */
static const char *client_name(const char *path, const char *xdir, const char *single)
{
    size_t n = strlen(xdir);
    if (single && !strcmp(path, single))
        return "body";
    if (!strncmp(path, xdir, n) && path[n] == '/')
        return path + n + 1;
    return path;
}

static void add_problem(json_t *list, const hm_error *e, const char *xdir, const char *single)
{
    json_t *p = json_object();
    json_object_set_new(p, "file", json_string(e->file[0] ? client_name(e->file, xdir, single)
                                                          : ""));
    json_object_set_new(p, "record", e->line ? json_integer(e->line) : json_null());
    json_object_set_new(p, "field", json_string(e->field));
    /* Messages may quote server paths: the extraction dir is cut out. */
    char msg[sizeof e->msg];
    snprintf(msg, sizeof msg, "%s", e->msg);
    size_t n = strlen(xdir);
    for (char *s; n && (s = strstr(msg, xdir));)
        memmove(s, s + n + (s[n] == '/'), strlen(s + n + (s[n] == '/')) + 1);
    json_object_set_new(p, "message", json_string(msg));
    json_array_append_new(list, p);
}

static void reply_json(srv_reply *r, int status, json_t *o)
{
    r->status = status;
    r->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!r->body)
        srv_reply_error(r, 500, "cannot write the report");
}

static void reply_invalid(srv_reply *r, const srv_request *q, const char *kind, json_t *problems)
{
    json_t *o = json_object();
    json_object_set_new(o, "centre", json_string(q->route->centre));
    json_object_set_new(o, "kind", json_string(kind));
    json_object_set_new(o, "valid", json_false());
    json_object_set_new(o, "stored", json_false());
    json_object_set_new(o, "problems", problems);
    reply_json(r, 422, o);
}

/* ---- the upload into files ---- */

typedef struct files {
    char **v;
    size_t n, cap;
} files;

static void files_free(files *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i]);
    free(f->v);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under dir (extraction made nothing else), sorted. */
static int list_files(const char *dir, files *f)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st))
            continue;
        if (S_ISDIR(st.st_mode)) {
            rc = list_files(path, f);
        } else if (S_ISREG(st.st_mode)) {
            if (f->n == f->cap) {
                size_t cap = f->cap ? 2 * f->cap : 32;
                char **v = realloc(f->v, cap * sizeof *v);
                if (!v) {
                    rc = -1;
                    break;
                }
                f->v = v;
                f->cap = cap;
            }
            if (!(f->v[f->n] = strdup(path)))
                rc = -1;
            else
                f->n++;
        }
    }
    closedir(d);
    qsort(f->v, f->n, sizeof *f->v, by_name);
    return rc;
}

/* Makes the fresh extraction directory and extracts the archive into
 * xdir/in.  0, or the status already answered in r. */
static int unpack(const srv_request *q, char xdir[1200], srv_reply *r)
{
    snprintf(xdir, 1200, "%s/upload-x-XXXXXX", q->cfg->upload_dir);
    if (!mkdtemp(xdir)) {
        xdir[0] = 0;
        srv_reply_error(r, 500, "cannot make a directory under upload_dir");
        return 500;
    }
    char in[1300];
    snprintf(in, sizeof in, "%s/in", xdir);
    if (mkdir(in, 0700)) {
        srv_reply_error(r, 500, "cannot make a directory under upload_dir");
        return 500;
    }
    hm_error err;
    hm_error_clear(&err);
    size_t n = 0;
    int rc = srv_tar_extract(q->upload_path, in, q->cfg->max_upload_bytes, &n, &err);
    if (rc == HM_EINVAL && !strcmp(err.field, "size")) {
        srv_reply_error(r, 413, "entry '%s': %s", err.file, err.msg);
        return 413;
    }
    if (rc == HM_EPARSE) {
        srv_reply_error(r, 400, "archive refused, nothing stored: entry '%s': %s", err.file,
                        err.msg);
        return 400;
    }
    if (rc) {
        srv_reply_error(r, 500, "cannot extract the archive: %s", err.msg);
        return 500;
    }
    if (n == 0) {
        srv_reply_error(r, 400, "the archive holds no files");
        return 400;
    }
    return 0;
}

/* ---- the audit entry, inside the import's transaction ---- */

typedef struct audit_ctx {
    const srv_request *q;
    const char *table, *action;
    char record[256];
} audit_ctx;

static int audit_before_commit(struct hm_db *db, void *arg, hm_error *err)
{
    audit_ctx *a = arg;
    const srv_request *q = a->q;
    hm_audit_entry e = { .user = q->user->name, .remote_addr = q->remote, .action = a->action,
                         .centre = q->route->centre, .table = a->table, .record = a->record,
                         .old_value = "", .new_value = "", .digest = q->upload_sha256,
                         .reason = q->reason && q->reason[0] ? q->reason : "submission" };
    return hm_audit_append(db, &e, err);
}

static int is_locked(const hm_error *e)
{
    return e->code == HM_EDB && strstr(e->msg, "hm_record_locked") != NULL;
}

/* ---- RDSR ---- */

void srv_route_rdsr_post(hm_db *db, const srv_request *q, srv_reply *r)
{
    int tar = type_is(q->content_type, "application/x-tar");
    if (!tar && !type_is(q->content_type, "application/dicom")) {
        srv_reply_error(r, 415, "send a ustar archive (Content-Type application/x-tar) or one "
                                "DICOM file (application/dicom)");
        return;
    }
    hm_pseudo_key key;
    if (load_key(q, &key, r))
        return;
    char xdir[1200] = "";
    files f = { 0 };
    hm_rdsr_report **reps = NULL;
    hm_rdsr_import_result *res = NULL;
    hm_error *errs = NULL;
    hm_rdsr_ctx *ctx = NULL;
    json_t *problems = json_array();
    const char *single = tar ? NULL : q->upload_path;
    char in[1300] = "";                               /* names are relative to in/ */
    if (tar) {
        if (unpack(q, xdir, r))
            goto out;
        snprintf(in, sizeof in, "%s/in", xdir);
        if (list_files(in, &f)) {
            srv_reply_error(r, 500, "cannot list the extracted files");
            goto out;
        }
    } else {
        f.v = malloc(sizeof *f.v);
        if (f.v && (f.v[0] = strdup(q->upload_path)))
            f.n = f.cap = 1;
    }
    hm_error err;
    hm_error_clear(&err);
    reps = calloc(f.n + 1, sizeof *reps);
    res = calloc(f.n + 1, sizeof *res);
    errs = calloc(f.n + 1, sizeof *errs);
    if (!f.n || !reps || !res || !errs || !(ctx = hm_rdsr_ctx_new(&err))) {
        srv_reply_error(r, 500, "out of memory");
        goto out;
    }
    /* Every file read first: all the unreadable ones in one report. */
    for (size_t i = 0; i < f.n; i++) {
        hm_error_clear(&errs[i]);
        if (hm_rdsr_read_file(ctx, f.v[i], &reps[i], &errs[i])) {
            if (!errs[i].file[0])
                snprintf(errs[i].file, sizeof errs[i].file, "%s", f.v[i]);
            add_problem(problems, &errs[i], in, single);
        }
    }
    if (json_array_size(problems)) {
        reply_invalid(r, q, "rdsr", problems);
        problems = NULL;
        goto out;
    }
    const char *exam = srv_query_arg(q, "exam_type"), *cat = srv_query_arg(q, "category");
    hm_rdsr_import_opts opts = { .centre = q->route->centre, .key = &key,
                                 .exam_type = exam ? exam : "other",
                                 .category = cat ? cat : "diagnostic" };
    audit_ctx a = { .q = q, .table = "irradiation_event", .action = "submit_rdsr" };
    snprintf(a.record, sizeof a.record, "%s/rdsr (%zu files, %llu bytes)", q->route->centre, f.n,
             q->upload_bytes);
    int rc = HM_EDB;
    /* A lost race for the chain's head (another process) is retried. */
    for (int attempt = 0; attempt < 3 && rc == HM_EDB; attempt++) {
        hm_error_clear(&err);
        rc = hm_rdsr_import_batch(db, &opts, reps, f.n, res, errs, audit_before_commit, &a,
                                  &err);
        for (size_t i = 0; rc == HM_EVALIDATE && i < f.n; i++)
            if (is_locked(&errs[i])) {
                srv_reply_error(r, 409, "the submission would change a locked record (data "
                                        "queries): %s", client_name(errs[i].file, in, single));
                goto out;
            }
    }
    if (rc == HM_EVALIDATE) {
        for (size_t i = 0; i < f.n; i++)
            if (errs[i].code)
                add_problem(problems, &errs[i], in, single);
        reply_invalid(r, q, "rdsr", problems);
        problems = NULL;
        goto out;
    }
    if (rc) {
        srv_reply_error(r, 500, "import failed: %s", err.msg);
        goto out;
    }
    json_t *o = json_object(), *list = json_array();
    long added = 0, procs = 0, pats = 0;
    for (size_t i = 0; i < f.n; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "file", json_string(client_name(f.v[i], in, single)));
        json_object_set_new(e, "events_in_file", json_integer(res[i].events_in_file));
        json_object_set_new(e, "events_added", json_integer(res[i].events_added));
        json_object_set_new(e, "procedure_added", json_boolean(res[i].procedure_added));
        json_object_set_new(e, "patient_added", json_boolean(res[i].patient_added));
        json_array_append_new(list, e);
        added += res[i].events_added;
        procs += res[i].procedure_added;
        pats += res[i].patient_added;
    }
    json_object_set_new(o, "centre", json_string(q->route->centre));
    json_object_set_new(o, "kind", json_string("rdsr"));
    json_object_set_new(o, "valid", json_true());
    json_object_set_new(o, "stored", json_true());
    json_object_set_new(o, "files", json_integer((json_int_t)f.n));
    json_object_set_new(o, "events_added", json_integer(added));
    json_object_set_new(o, "procedures_added", json_integer(procs));
    json_object_set_new(o, "patients_added", json_integer(pats));
    json_object_set_new(o, "sha256", json_string(q->upload_sha256));
    json_object_set_new(o, "reports", list);
    reply_json(r, 200, o);
out:
    hm_pseudo_key_wipe(&key);
    json_decref(problems);
    for (size_t i = 0; reps && i < f.n; i++)
        hm_rdsr_report_free(reps[i]);
    free(reps);
    free(res);
    free(errs);
    hm_rdsr_ctx_free(ctx);
    files_free(&f);
    if (xdir[0])
        srv_rmtree(xdir);
}

/* ---- RT courses ---- */

void srv_route_rt_post(hm_db *db, const srv_request *q, srv_reply *r)
{
    if (!type_is(q->content_type, "application/x-tar")) {
        srv_reply_error(r, 415, "send the course's files as a ustar archive (Content-Type "
                                "application/x-tar)");
        return;
    }
    hm_pseudo_key key;
    if (load_key(q, &key, r))
        return;
    char xdir[1200] = "", in[1300], diag_path[1300];
    hm_rt_course *courses = NULL;
    size_t n = 0;
    hm_rt_import_result *res = NULL;
    hm_rt_diagnoses diag;
    memset(&diag, 0, sizeof diag);
    json_t *problems = json_array();
    hm_error err;
    hm_error_clear(&err);
    if (unpack(q, xdir, r))
        goto out;
    snprintf(in, sizeof in, "%s/in", xdir);
    /* A diagnoses file at the top of the archive (rt import --diagnoses) is
     * taken out of the DICOM folder; its centre_code column must be the
     * URL's centre. */
    char cut[1300];
    snprintf(cut, sizeof cut, "%s/in/diagnoses.csv", xdir);
    snprintf(diag_path, sizeof diag_path, "%s/diagnoses.csv", xdir);
    int have_diag = rename(cut, diag_path) == 0;
    hm_rt_course_options o;
    hm_rt_course_options_init(&o);
    o.whole_body = 1;
    o.target_organ = srv_query_arg(q, "target");
    int rc = have_diag ? hm_rt_diagnoses_read(diag_path, q->route->centre, &key, &diag, &err)
                       : HM_OK;
    const char *dirs[1] = { in };
    if (rc == HM_OK)
        rc = hm_rt_course_read_all(dirs, 1, &o, &courses, &n, &err);
    for (size_t i = 1; rc == HM_OK && i < n; i++)
        if (strcmp(courses[i].patient_id, courses[0].patient_id))
            rc = hm_error_set(&err, HM_EVALIDATE, courses[i].plan_path, 0,
                              "PatientID (0010,0020)", "one patient per submission: this plan's "
                              "patient differs from that of %s", courses[0].plan_path);
    if (rc == HM_OK && !n)
        rc = hm_error_set(&err, HM_EVALIDATE, "", 0, "RTPLAN", "no RT Plan in the archive");
    if (rc == HM_OK && !(res = calloc(n, sizeof *res)))
        rc = hm_error_set(&err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    audit_ctx a = { .q = q, .table = "rt_course", .action = "submit_rt" };
    snprintf(a.record, sizeof a.record, "%s/rt-courses (%zu plans, %llu bytes)",
             q->route->centre, n, q->upload_bytes);
    hm_rt_import_opts io = { q->route->centre, &key,
                             have_diag ? NULL : srv_query_arg(q, "diag_topography"),
                             have_diag ? NULL : srv_query_arg(q, "diag_morphology"),
                             have_diag ? NULL : srv_query_arg(q, "diag_date"),
                             have_diag ? &diag : NULL, audit_before_commit, &a };
    int tries = 0;
    if (rc == HM_OK)
        do {
            hm_error_clear(&err);
            rc = hm_rt_import(db, &io, courses, n, res, &err);
        } while (rc == HM_EDB && !is_locked(&err) && ++tries < 3);
    if (rc == HM_EDB && is_locked(&err)) {
        srv_reply_error(r, 409, "the submission would change a locked record (data queries)");
        goto out;
    }
    if (rc == HM_ENOMEM || rc == HM_EDB || rc == HM_EIO) {
        srv_reply_error(r, 500, "import failed: %s", err.msg);
        goto out;
    }
    if (rc) {
        err.code = rc;
        if (!strcmp(err.file, diag_path))        /* named as in the archive */
            snprintf(err.file, sizeof err.file, "%s/diagnoses.csv", in);
        add_problem(problems, &err, in, NULL);
        reply_invalid(r, q, "rt", problems);
        problems = NULL;
        goto out;
    }
    json_t *out = json_object(), *list = json_array();
    int stored = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "file", json_string(client_name(courses[i].plan_path, in, NULL)));
        json_object_set_new(e, "status", json_string(hm_rt_import_status_name(res[i].status)));
        json_object_set_new(e, "course_id", json_string(res[i].course_id));
        json_object_set_new(e, "version", json_integer(res[i].version));
        json_object_set_new(e, "n_dvh", json_integer(res[i].n_dvh));
        json_object_set_new(e, "n_organ_dose", json_integer(res[i].n_organ_dose));
        json_array_append_new(list, e);
        stored += res[i].status != HM_RT_IMPORT_UNCHANGED;
    }
    json_object_set_new(out, "centre", json_string(q->route->centre));
    json_object_set_new(out, "kind", json_string("rt"));
    json_object_set_new(out, "valid", json_true());
    json_object_set_new(out, "stored", json_integer(stored));
    json_object_set_new(out, "unchanged", json_integer((json_int_t)n - stored));
    json_object_set_new(out, "sha256", json_string(q->upload_sha256));
    json_object_set_new(out, "courses", list);
    reply_json(r, 200, out);
out:
    hm_pseudo_key_wipe(&key);
    json_decref(problems);
    free(res);
    hm_rt_course_free_all(courses, n);
    hm_rt_diagnoses_free(&diag);
    if (xdir[0])
        srv_rmtree(xdir);
}
