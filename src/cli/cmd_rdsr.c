/*
 * cmd_rdsr.c — `harmonic rdsr show|import|synth`: DICOM Radiation Dose SRs.
 */
#include "cli.h"
#include "hm_rdsr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fmt_num(char *buf, size_t size, double v, const char *unit)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.6g%s%s", v, unit[0] ? " " : "", unit);
}

static void print_text(const hm_rdsr_report *r, FILE *out)
{
    char a[64], b[64], c[64], d[64];
    fprintf(out, "file:        %s\n", r->source);
    fprintf(out, "device:      %s %s (serial %s, station %s)\n", r->manufacturer, r->model,
            r->device_serial[0] ? r->device_serial : "-", r->station[0] ? r->station : "-");
    fprintf(out, "modality:    %s%s, procedure %s, template %s\n", r->modality,
            r->biplane ? " biplane" : "", r->procedure_reported[0] ? r->procedure_reported : "-",
            r->template_id[0] ? r->template_id : "none");
    fprintf(out, "encoding:    SOP class %s, transfer syntax %s, charset %s\n",
            r->sop_class_uid, r->transfer_syntax, r->charset[0] ? r->charset : "default");
    fprintf(out, "study:       %s on %s\n", r->study_uid, r->study_date);
    fmt_num(a, sizeof a, r->weight_kg, "kg");
    fmt_num(b, sizeof b, r->height_m, "m");
    fprintf(out, "patient:     id %s, born %s, sex %s, age %s, weight %s, height %s\n",
            r->patient_id, r->birth_date[0] ? r->birth_date : "-", r->sex[0] ? r->sex : "-",
            r->age[0] ? r->age : "-", a, b);
    fmt_num(a, sizeof a, r->kap_total_gy_cm2, "Gy.cm2");
    fmt_num(b, sizeof b, r->rp_total_mgy, "mGy");
    fprintf(out, "total:       KAP %s, reference-point air kerma %s, %zu events\n", a, b,
            r->nevents);
    for (int p = 0; p < HM_RDSR_NPLANES; p++) {
        const hm_rdsr_accum *x = &r->planes[p];
        if (!x->present)
            continue;
        fmt_num(a, sizeof a, x->kap_total_gy_cm2, "Gy.cm2");
        fmt_num(b, sizeof b, x->rp_total_mgy, "mGy");
        fmt_num(c, sizeof c, x->fluoro_time_s, "s");
        fmt_num(d, sizeof d, x->frames, "");
        fprintf(out, "plane %-6s KAP %s (events sum %.6g), RP %s, fluoro %s, frames %s\n",
                hm_rdsr_plane_name(p), a, hm_rdsr_events_kap_gy_cm2(r, p), b, c, d);
    }
    fprintf(out, "%4s %-24s %-6s %6s %7s %6s %6s %11s %9s %7s %7s\n", "#", "type", "plane",
            "kV", "mA", "ms", "p/s", "KAP Gy.cm2", "RP mGy", "prim", "sec");
    for (size_t i = 0; i < r->nevents; i++) {
        const hm_rdsr_event *e = &r->events[i];
        /* Absent values print as "-", not "nan". */
        const double v[8] = { e->kvp_kv, e->tube_current_ma, e->pulse_width_ms,
                              e->pulse_rate_per_s, e->kap_gy_cm2, e->rp_air_kerma_mgy,
                              e->primary_angle_deg, e->secondary_angle_deg };
        const char *fmt[8] = { "%.1f", "%.1f", "%.1f", "%.1f", "%.6g", "%.4g", "%.1f", "%.1f" };
        char col[8][32];
        for (int k = 0; k < 8; k++) {
            if (isnan(v[k]))
                snprintf(col[k], sizeof col[k], "-");
            else
                snprintf(col[k], sizeof col[k], fmt[k], v[k]);
        }
        fprintf(out, "%4zu %-24.24s %-6s %6s %7s %6s %6s %11s %9s %7s %7s\n", i + 1, e->type,
                hm_rdsr_plane_name(e->plane), col[0], col[1], col[2], col[3], col[4], col[5],
                col[6], col[7]);
    }
    for (size_t i = 0; i < r->nnotes; i++)
        fprintf(out, "note: %s %s: %s (x%d)\n", hm_rdsr_note_kind_name(r->notes[i].kind),
                r->notes[i].field, r->notes[i].msg, r->notes[i].count);
}

static int cmd_show(const hm_args *a)
{
    const char *file = a->pos[0];
    int json = hm_args_flag(a, "json");
    hm_error err;
    hm_error_clear(&err);
    hm_rdsr_ctx *ctx = hm_rdsr_ctx_new(&err);
    if (!ctx)
        return hm_cli_report(&err);
    hm_rdsr_report *rep = NULL;
    int rc = hm_rdsr_read_file(ctx, file, &rep, &err);
    hm_rdsr_ctx_free(ctx);
    if (rc)
        return hm_cli_report(&err);
    if (json) {
        char *s = hm_rdsr_to_json(rep);
        if (!s) {
            hm_rdsr_report_free(rep);
            fprintf(stderr, "harmonic: out of memory\n");
            return 3;
        }
        printf("%s\n", s);
        free(s);
    } else {
        print_text(rep, stdout);
    }
    hm_rdsr_report_free(rep);
    return 0;
}

static int cmd_synth(const hm_args *a)
{
    hm_rdsr_synth_spec s;
    memset(&s, 0, sizeof s);
    const char *out = hm_args_str(a, "out", NULL), *quirks = hm_args_str(a, "quirks", NULL);
    s.nevents = (int)hm_args_int(a, "events", 10);
    s.first_event = (int)hm_args_int(a, "first", 0);
    s.seed = (unsigned)hm_args_int(a, "seed", 0);
    s.biplane = hm_args_flag(a, "biplane");
    s.radiography = hm_args_flag(a, "radiography");
    s.study_uid = hm_args_str(a, "study-uid", NULL);
    s.patient_id = hm_args_str(a, "patient-id", NULL);
    s.birth_date = hm_args_str(a, "birth-date", NULL);
    s.study_date = hm_args_str(a, "study-date", NULL);
    s.sex = hm_args_str(a, "sex", NULL);
    if (quirks) {
        int q = hm_rdsr_quirks_parse(quirks);
        if (q < 0)
            return hm_cli_usage_error(a, "--quirks: unknown quirk in '%s' (expected gym2, dgycm2, "
                                         "no-template, implicit-vr, empty-values, mgy-rp, "
                                         "per-pulse)", quirks);
        s.quirks = (unsigned)q;
    }
    hm_error err;
    hm_error_clear(&err);
    hm_rdsr_synth_truth t;
    if (hm_rdsr_synth_write(out, &s, &t, &err))
        return hm_cli_report(&err);
    printf("%s: %d events, KAP %.6g Gy.cm2\n", out, s.nevents, t.kap_total_gy_cm2);
    return 0;
}

#ifdef HM_RDSR_IMPORT
#include "hm_pseudo.h"
#include "hm_registry.h"

#include <dirent.h>
#include <sys/stat.h>

/* Lists a directory's regular files, sorted, appending to *files. */
static int list_dir(const char *dir, char ***files, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t first = *n;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        char *path = malloc(len);
        if (!path)
            break;
        snprintf(path, len, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 64;
            char **p = realloc(*files, *cap * sizeof **files);
            if (!p) {
                free(path);
                break;
            }
            *files = p;
        }
        (*files)[(*n)++] = path;
    }
    closedir(d);
    /* Sorted so runs are reproducible (insertion sort: folders are small). */
    for (size_t i = first + 1; i < *n; i++)
        for (size_t j = i; j > first && strcmp((*files)[j - 1], (*files)[j]) > 0; j--) {
            char *t = (*files)[j];
            (*files)[j] = (*files)[j - 1];
            (*files)[j - 1] = t;
        }
    return 0;
}

/* "repaired: a (x3), b; missing: c" from the report's notes. */
static void notes_summary(const hm_rdsr_report *r, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (int kind = HM_RDSR_NOTE_REPAIRED; kind <= HM_RDSR_NOTE_MISSING; kind++) {
        int first = 1;
        for (size_t i = 0; i < r->nnotes && n + 1 < size; i++) {
            const hm_rdsr_note *note = &r->notes[i];
            if (note->kind != kind)
                continue;
            int k = snprintf(out + n, size - n, "%s%s %s", first ? (n ? "; " : "") : ", ",
                             first ? (kind == HM_RDSR_NOTE_REPAIRED ? "repaired:" : "missing:") : "",
                             note->field);
            if (k < 0 || (size_t)k >= size - n)
                return;
            n += (size_t)k;
            first = 0;
        }
    }
}

static int cmd_import(const hm_args *a)
{
    const char *db_url = hm_args_str(a, "db", NULL), *centre = hm_args_str(a, "centre", NULL);
    const char *keyfile = hm_args_str(a, "key", NULL);
    hm_rdsr_import_opts opts = { .exam_type = hm_args_str(a, "exam-type", "other"),
                                 .category = hm_args_str(a, "category", "diagnostic") };
    char **files = NULL;
    size_t nfiles = 0, cap = 0;
    int status = 0;
    for (int i = 0; i < a->npos; i++) {
        const char *o = a->pos[i];
        struct stat st;
        if (stat(o, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (list_dir(o, &files, &nfiles, &cap)) {
                fprintf(stderr, "harmonic: %s: cannot read folder\n", o);
                status = 1;
            }
            continue;
        }
        if (nfiles == cap) {
            cap = cap ? 2 * cap : 64;
            char **p = realloc(files, cap * sizeof *files);
            if (!p) { status = 3; goto out; }
            files = p;
        }
        files[nfiles++] = strdup(o);
    }
    if (nfiles == 0) {
        status = hm_cli_usage_error(a, "no files to import in %s", a->pos[0]);
        goto out;
    }
    hm_error err;
    hm_error_clear(&err);
    hm_pseudo_key key;
    if (hm_pseudo_key_load(keyfile, &key, &err)) {
        status = hm_cli_report(&err);
        goto out;
    }
    opts.centre = centre;
    opts.key = &key;
    hm_rdsr_ctx *ctx = hm_rdsr_ctx_new(&err);
    hm_db *db = NULL;
    if (!ctx || hm_db_open(db_url, &db, &err)) {
        status = hm_cli_report(&err);
        hm_rdsr_ctx_free(ctx);
        hm_pseudo_key_wipe(&key);
        goto out;
    }
    int ok = 0, failed = 0;
    long added = 0;
    for (size_t i = 0; i < nfiles; i++) {
        hm_rdsr_report *rep = NULL;
        hm_rdsr_import_result res;
        hm_error_clear(&err);
        int rc = hm_rdsr_read_file(ctx, files[i], &rep, &err);
        if (rc == 0)
            rc = hm_rdsr_import(db, &opts, rep, &res, &err);
        if (rc) {
            char buf[1024];
            hm_error_format(&err, buf, sizeof buf);
            printf("FAILED %s\n", buf);
            failed++;
        } else {
            char notes[512];
            notes_summary(rep, notes, sizeof notes);
            printf("ok     %s: %s %s (%s), %d events (%d new), KAP %.6g Gy.cm2%s%s\n", files[i],
                   rep->manufacturer, rep->model, rep->modality, res.events_in_file,
                   res.events_added, rep->kap_total_gy_cm2, notes[0] ? "; " : "", notes);
            ok++;
            added += res.events_added;
        }
        hm_rdsr_report_free(rep);
    }
    printf("%zu files: %d imported, %d failed; %ld new events\n", nfiles, ok, failed, added);
    hm_db_close(db);
    hm_rdsr_ctx_free(ctx);
    hm_pseudo_key_wipe(&key);
    if (failed)
        status = 1;
out:
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    return status;
}
#else
static int cmd_import(const hm_args *a)
{
    (void)a;
    fprintf(stderr, "harmonic: rdsr import: built without the registry and "
                    "pseudonymisation subsystems\n");
    return 3;
}
#endif

static const hm_cli_opt show_opts[] = {
    HM_OPT_FLAG("json", "print the report as JSON"),
    HM_OPT_END
};
static const hm_cli_pos file_pos[] = {
    { "FILE", "an X-Ray Radiation Dose SR (DICOM)", 1, 1, HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_cmd rdsr_show = {
    "show", "print what harmonic reads from an X-Ray Radiation Dose SR (TID 10001)", NULL,
    show_opts, file_pos, cmd_show, NULL, 0
};

#define REQ_STR(n, v, help) \
    { n, 0, HM_OPT_T_STRING, v, help, NULL, HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 }
static const hm_cli_opt import_opts[] = {
    REQ_STR("db", "URL", "registry: a SQLite file or postgresql:// URL"),
    REQ_STR("centre", "C", "the centre the reports come from"),
    { "key", 0, HM_OPT_T_PATH, "KEYFILE", "the study key (pseudonymises patient ids and dates)",
      NULL, HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_STR("exam-type", "TYPE", "procedure.exam_type of new procedures", "other"),
    HM_OPT_STR("category", "CAT", "procedure.category of new procedures", "diagnostic"),
    HM_OPT_END
};
static const hm_cli_pos import_pos[] = {
    { "FILE|DIR", "reports, or folders of reports (every regular file in them)", 1, -1,
      HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_cmd rdsr_import = {
    "import", "pseudonymise and store reports in the registry",
    "Events are keyed by their UIDs, so a repeated or cumulative report adds only new\n"
    "events.  Exit status 1 when a file failed.\n",
    import_opts, import_pos, cmd_import, NULL, 0
};

static const hm_cli_opt synth_opts[] = {
    { "out", 0, HM_OPT_T_PATH, "FILE", "the DICOM file to write", NULL, HM_OPT_REQUIRED, 0, 0,
      NULL, 0, 0 },
    HM_OPT_INT("events", "N", "irradiation events", "10", 0, 100000),
    HM_OPT_INT("first", "K", "number of the first event (for cumulative reports)", "0", 0, 1000000),
    HM_OPT_FLAG("biplane", "a biplane system (planes A and B)"),
    HM_OPT_FLAG("radiography", "a projection radiography report (TID 10003 only)"),
    HM_OPT_INT("seed", "S", "random seed", "0", 0, 2147483647),
    HM_OPT_STR("study-uid", "UID", "Study Instance UID", "derived from the seed"),
    HM_OPT_STR("patient-id", "ID", "Patient ID", "SYN + the seed"),
    HM_OPT_STR("birth-date", "YYYYMMDD", "Patient's Birth Date", "20190315"),
    HM_OPT_STR("study-date", "YYYYMMDD", "Study Date", "20230611"),
    HM_OPT_STR("sex", "M|F", "Patient's Sex", "F"),
    HM_OPT_STR("quirks", "LIST", "vendor quirks, comma separated: gym2, dgycm2, no-template, "
               "implicit-vr, empty-values, mgy-rp, per-pulse", "none"),
    HM_OPT_END
};
static const hm_cli_cmd rdsr_synth = {
    "synth", "write a synthetic RDSR (test fixtures with known totals)", NULL, synth_opts,
    NULL, cmd_synth, NULL, 0
};

static const hm_cli_cmd *const rdsr_subs[] = { &rdsr_show, &rdsr_import, &rdsr_synth, NULL };
static const hm_cli_opt group_opts[] = { HM_OPT_END };
const hm_cli_cmd hm_cli_rdsr = {
    "rdsr", "read DICOM radiation dose SRs (show, import)",
    "DICOM X-ray Radiation Dose Structured Reports of any vendor (docs/rdsr.md).\n",
    group_opts, NULL, NULL, rdsr_subs, 0
};
