/*
 * cmd_rt.c — `harmonic rt show|import|list`: radiotherapy courses from their
 * DICOM RT files.  The course itself (grouping by references, checks, DVHs,
 * the whole-body organ table) is src/rt's (hm_rt_course_read, course.c); the
 * registry import is hm_rt_import (rt_import.c).  This file parses options
 * and prints: one row per ROI (or JSON), a cumulative DVH plot as PNG on
 * request, the whole-body table, what an import stored.  docs/rt.md.
 */
#include "cli.h"
#include "hm_rt.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_table(const hm_rt_course *c)
{
    const hm_rt_course_roi *rows = c->rois;
    size_t n = c->nrois;
    printf("course: plan '%s', %s, %d beams, %d fractions, prescription %.4g Gy\n", c->plan_label,
           c->dicom_technique, c->nbeams, c->fractions, c->plan_rx_gy);
    printf("dose grid %d x %d x %d (%s, %s), %zu ROIs\n", c->nx, c->ny, c->nz, c->dose_type,
           c->summation_type, c->nrois);
    printf("%-20s %-14s %-16s %9s %7s %7s %7s %7s %7s %7s %8s %6s %6s %6s %6s\n", "ROI", "organ",
           "TG-263", "vol_cc", "mean", "min", "max", "D2%", "D50%", "D98%", "D0.03cc", "V5Gy", "V10Gy",
           "V20Gy", "V30Gy");
    for (size_t i = 0; i < n; i++) {
        const hm_rt_course_roi *r = &rows[i];
        printf("%-20.20s %-14.14s %-16.16s ", r->name, r->organ[0] ? r->organ : "-",
               r->tg263[0] ? r->tg263 : "-");
        if (!r->ok) {
            printf("(%s)\n", r->why);
            continue;
        }
        const hm_rt_dvh *d = &r->dvh;
        printf("%9.3f %7.3f %7.3f %7.3f %7.3f %7.3f %7.3f %8.3f", d->volume_cc, d->mean_gy, d->min_gy,
               d->max_gy, d->d2_gy, d->d50_gy, d->d98_gy, d->d0_03cc_gy);
        for (int k = 0; k < HM_RT_NVX; k++)
            printf(" %6.1f", d->vx_pct[k]);
        printf("%s\n", d->outside_grid ? "  (partly outside the dose grid)" : "");
    }
    printf("doses in Gy, V in %% of the volume; D and V as ICRU Report 83 (docs/rt.md)\n");
    int unmapped = 0;
    for (size_t i = 0; i < n; i++)
        unmapped += rows[i].kind == HM_RT_MAP_UNMAPPED;
    if (unmapped) {
        printf("%d ROI name%s not mapped to the organ list (data/rt/tg263_map.csv):", unmapped,
               unmapped > 1 ? "s" : "");
        for (size_t i = 0; i < n; i++)
            if (rows[i].kind == HM_RT_MAP_UNMAPPED)
                printf(" '%s'", rows[i].name);
        printf("\n");
    }
}

static int print_json(const hm_rt_course *c)
{
    const hm_rt_course_roi *rows = c->rois;
    size_t n = c->nrois;
    const hm_rt_oof_organ *wb = c->wb;
    int nwb = c->nwb;
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "plan_label", json_string(c->plan_label));
    json_object_set_new(o, "technique", json_string(c->dicom_technique));
    json_object_set_new(o, "fractions", json_integer(c->fractions));
    json_object_set_new(o, "prescription_gy", json_real(c->plan_rx_gy));
    for (size_t i = 0; i < n; i++) {
        const hm_rt_course_roi *r = &rows[i];
        json_t *j = json_object();
        json_object_set_new(j, "roi", json_string(r->name));
        json_object_set_new(j, "mapping", json_string(hm_rt_map_kind_name(r->kind)));
        json_object_set_new(j, "organ", r->organ[0] ? json_string(r->organ) : json_null());
        json_object_set_new(j, "tg263", r->tg263[0] ? json_string(r->tg263) : json_null());
        if (r->ok) {
            const hm_rt_dvh *d = &r->dvh;
            json_object_set_new(j, "volume_cc", json_real(d->volume_cc));
            json_object_set_new(j, "mean_gy", json_real(d->mean_gy));
            json_object_set_new(j, "min_gy", json_real(d->min_gy));
            json_object_set_new(j, "max_gy", json_real(d->max_gy));
            json_object_set_new(j, "d2_gy", json_real(d->d2_gy));
            json_object_set_new(j, "d50_gy", json_real(d->d50_gy));
            json_object_set_new(j, "d98_gy", json_real(d->d98_gy));
            json_object_set_new(j, "d0_03cc_gy", json_real(d->d0_03cc_gy));
            static const char *vn[HM_RT_NVX] = { "v5gy_pct", "v10gy_pct", "v20gy_pct", "v30gy_pct" };
            for (int k = 0; k < HM_RT_NVX; k++)
                json_object_set_new(j, vn[k], json_real(d->vx_pct[k]));
            json_object_set_new(j, "outside_grid", json_boolean(d->outside_grid));
        } else {
            json_object_set_new(j, "error", json_string(r->why));
        }
        json_array_append_new(arr, j);
    }
    json_object_set_new(o, "rois", arr);
    if (wb) {
        json_object_set_new(o, "whole_body_target", json_string(c->target_organ));
        json_object_set_new(o, "whole_body_target_from", json_string(c->target_how));
        json_object_set_new(o, "whole_body_age_years", json_real(c->age_years));
        json_object_set_new(o, "whole_body_prescription_gy", json_real(c->prescription_gy));
        json_t *w = json_array();
        for (int i = 0; i < nwb; i++) {
            json_t *j = json_object();
            json_object_set_new(j, "organ", json_string(wb[i].organ));
            json_object_set_new(j, "method", json_string(wb[i].method));
            json_object_set_new(j, "distance_cm", json_real(wb[i].distance_cm));
            json_object_set_new(j, "dose_gy", isfinite(wb[i].dose_gy) ? json_real(wb[i].dose_gy) : json_null());
            json_object_set_new(j, "neutron_sv", json_real(wb[i].neutron_sv));
            json_array_append_new(w, j);
        }
        json_object_set_new(o, "whole_body", w);
    }
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!s)
        return 1;
    puts(s);
    free(s);
    return 0;
}

/* The course options of the show/import command line. */
static void course_options(const hm_args *a, hm_rt_course_options *o)
{
    hm_rt_course_options_init(o);
    o->subsample = hm_args_count(a, "subsample") ? (int)hm_args_int(a, "subsample", 0) : 0;
    o->interp = hm_args_flag(a, "trilinear") ? HM_RT_TRILINEAR : HM_RT_NEAREST;
    o->target_organ = hm_args_str(a, "target", NULL);
    if (hm_args_count(a, "age-years"))
        o->age_years = hm_args_num(a, "age-years", 0);
    if (hm_args_count(a, "prescription-gy"))
        o->prescription_gy = hm_args_num(a, "prescription-gy", 0);
    o->tps_level = hm_args_num(a, "tps-level", 0);
}

static void print_whole_body(const hm_rt_course *c)
{
    printf("\nwhole-body organ doses (in field from the RT Dose, out of field from the model):\n");
    printf("field centred on %s (%s), age %.1f y, prescription %.4g Gy\n", c->target_organ,
           c->target_how, c->age_years, c->prescription_gy);
    printf("%-16s %-24s %12s %10s %12s\n", "organ", "method", "distance_cm", "dose_Gy",
           "neutron_Sv");
    for (int i = 0; i < c->nwb; i++)
        printf("%-16s %-24s %12.1f %10.4g %12.3g\n", c->wb[i].organ, c->wb[i].method,
               c->wb[i].distance_cm, c->wb[i].dose_gy, c->wb[i].neutron_sv);
}

static int run_show(const hm_args *a)
{
    const char *dir = a->pos[0];
    hm_error err;
    hm_error_clear(&err);
    hm_rt_course_options o;
    course_options(a, &o);
    o.whole_body = hm_args_count(a, "target") || hm_args_flag(a, "whole-body");
    hm_rt_course c;
    if (hm_rt_course_read(dir, &o, &c, &err))
        return hm_cli_report(&err);
    int rc = HM_OK;
    const char *png = hm_args_str(a, "png", NULL);
    if (png) {
        const hm_rt_dvh **dv = calloc(c.nrois ? c.nrois : 1, sizeof *dv);
        const char **names = calloc(c.nrois ? c.nrois : 1, sizeof *names);
        int k = 0;
        for (size_t i = 0; dv && names && i < c.nrois; i++)
            if (c.rois[i].ok && c.rois[i].kind != HM_RT_MAP_HELPER) {
                dv[k] = &c.rois[i].dvh;
                names[k++] = c.rois[i].name;
            }
        char title[256];
        snprintf(title, sizeof title, "cumulative DVH: plan %s (%s)", c.plan_label,
                 c.dicom_technique);
        rc = dv && names ? hm_rt_dvh_plot_png(dv, names, k, png, title, &err)
                         : hm_error_set(&err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        free(dv);
        free(names);
    }
    int status = 0;
    if (rc)
        status = hm_cli_report(&err);
    else if (hm_args_flag(a, "json"))
        status = print_json(&c);
    else {
        print_table(&c);
        if (png)
            printf("DVH plot: %s\n", png);
        if (c.wb)
            print_whole_body(&c);
    }
    hm_rt_course_free(&c);
    return status;
}

#ifdef HM_RT_HAVE_IMPORT
#include "hm_pseudo.h"
#include "hm_registry.h"

static int run_import(const hm_args *a)
{
    hm_error err;
    hm_error_clear(&err);
    hm_rt_course_options o;
    course_options(a, &o);
    o.whole_body = 1;
    hm_pseudo_key key;
    if (hm_pseudo_key_load(hm_args_str(a, "key", NULL), &key, &err))
        return hm_cli_report(&err);
    hm_rt_course *courses = NULL;
    size_t n = 0;
    hm_db *db = NULL;
    hm_rt_import_result *res = NULL;
    /* The diagnoses first: a bad row is reported before minutes of DVHs. */
    hm_rt_diagnoses diag;
    memset(&diag, 0, sizeof diag);
    const char *diag_path = hm_args_str(a, "diagnoses", NULL);
    int rc = diag_path ? hm_rt_diagnoses_read(diag_path, hm_args_str(a, "centre", NULL), &key,
                                              &diag, &err)
                       : HM_OK;
    if (rc == HM_OK)
        rc = hm_rt_course_read_all(a->pos, a->npos, &o, &courses, &n, &err);
    if (rc == HM_OK)
        rc = hm_db_open(hm_args_str(a, "db", NULL), &db, &err);
    if (rc == HM_OK && !(res = calloc(n ? n : 1, sizeof *res)))
        rc = hm_error_set(&err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    if (rc == HM_OK) {
        hm_rt_import_opts io = { hm_args_str(a, "centre", NULL), &key,
                                 hm_args_str(a, "diag-topography", NULL),
                                 hm_args_str(a, "diag-morphology", NULL),
                                 hm_args_str(a, "diag-date", NULL),
                                 diag_path ? &diag : NULL, NULL, NULL };
        rc = hm_rt_import(db, &io, courses, n, res, &err);
    }
    hm_pseudo_key_wipe(&key);
    hm_rt_diagnoses_free(&diag);
    int status = 0;
    if (rc) {
        status = hm_cli_report(&err);
        fprintf(stderr, "harmonic: rt import: nothing stored\n");
    } else {
        int changed = 0;
        for (size_t i = 0; i < n; i++) {
            const hm_rt_import_result *r = &res[i];
            changed += r->status != HM_RT_IMPORT_UNCHANGED;
            /* The plan file names the course here; the database has no path. */
            printf("%-11s course %.16s version %d (%s): %s, %s, %.4g Gy in %d fx; ",
                   hm_rt_import_status_name(r->status), r->course_id, r->version, r->lineage,
                   courses[i].plan_path, courses[i].registry_technique,
                   courses[i].prescription_gy, courses[i].fractions);
            if (r->status == HM_RT_IMPORT_UNCHANGED)
                printf("already stored, nothing changed\n");
            else
                printf("%d DVHs, %d organ doses\n", r->n_dvh, r->n_organ_dose);
        }
        printf("%zu course file set%s: %d stored, %zu unchanged\n", n, n == 1 ? "" : "s", changed,
               n - (size_t)changed);
    }
    free(res);
    hm_rt_course_free_all(courses, n);
    hm_db_close(db);
    return status;
}

/* `rt list --course ID`: one course's whole-body organ-dose table as the
 * registry holds it (organ_dose rows of the current version, method tps or
 * rt_model), with the course row and the current version's target and age. */
static int list_course(hm_db *db, const char *prefix, hm_error *err)
{
    /* Ids are hex: anything else would be a LIKE pattern. */
    if (!prefix[0] || strspn(prefix, "0123456789abcdef") != strlen(prefix))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "course",
                            "'%.70s' is not the start of a course id (lower-case hex digits, "
                            "as rt list prints them)", prefix);
    hm_stmt *st;
    int rc = hm_db_prepare(db,
        "SELECT c.centre_code, c.course_id, c.technique, c.particle, c.prescription_gy, "
        "c.fractions, c.diag_topography, c.diag_morphology, c.diag_day, c.start_day, "
        "v.version, v.target_organ, v.age_years FROM rt_course c JOIN rt_course_version v ON "
        "v.centre_code = c.centre_code AND v.course_id = c.course_id AND v.is_current = 1 "
        "WHERE c.course_id LIKE ? || '%' ORDER BY c.centre_code, c.course_id", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, prefix);
    char centre[64] = "", course[80] = "";
    int found = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        if (found++) {
            rc = hm_error_set(err, HM_EINVAL, NULL, 0, "course",
                              "'%.70s' is the start of several course ids: give more digits "
                              "(rt list --db URL lists them)", prefix);
            break;
        }
        snprintf(centre, sizeof centre, "%s", hm_stmt_column_text(st, 0));
        snprintf(course, sizeof course, "%s", hm_stmt_column_text(st, 1));
        printf("course %s of centre %s, version %lld: %s (%s), %.4g Gy in %lld fx, "
               "start day %lld\n", course, centre, (long long)hm_stmt_column_int64(st, 10),
               hm_stmt_column_text(st, 2), hm_stmt_column_text(st, 3),
               hm_stmt_column_double(st, 4), (long long)hm_stmt_column_int64(st, 5),
               (long long)hm_stmt_column_int64(st, 9));
        printf("diagnosis %s %s at day %lld; field centred on %s, age %.1f y\n",
               hm_stmt_column_text(st, 6), hm_stmt_column_text(st, 7),
               (long long)hm_stmt_column_int64(st, 8),
               hm_stmt_column_isnull(st, 11) ? "?" : hm_stmt_column_text(st, 11),
               hm_stmt_column_double(st, 12));
    }
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    if (!found)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "course",
                            "no course id starts with '%.70s' (rt list --db URL lists them)",
                            prefix);
    rc = hm_db_prepare(db,
        "SELECT organ, method, dose_mgy FROM organ_dose WHERE centre_code = ? AND "
        "source_type = 'rt_course' AND source_id = ? AND realization = 0 "
        "ORDER BY dose_mgy DESC, organ", &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, centre);
    hm_stmt_bind_text(st, 2, course);
    printf("%-16s %10s  %s\n", "organ", "dose_Gy", "method");
    long nrows = 0, ntps = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        const char *method = hm_stmt_column_text(st, 1);
        printf("%-16s %10.4g  %s\n", hm_stmt_column_text(st, 0),
               hm_stmt_column_double(st, 2) / 1000.0, method);
        nrows++;
        ntps += !strcmp(method, "tps");
    }
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    printf("%ld organs: %ld in field from the RT Dose (tps), %ld out of field from the model "
           "(rt_model)\n", nrows, ntps, nrows - ntps);
    return HM_OK;
}

static int run_list(const hm_args *a)
{
    hm_error err;
    hm_error_clear(&err);
    hm_db *db;
    if (hm_db_open(hm_args_str(a, "db", NULL), &db, &err))
        return hm_cli_report(&err);
    const char *course = hm_args_str(a, "course", NULL);
    if (course) {
        int rc = list_course(db, course, &err);
        hm_db_close(db);
        return rc ? hm_cli_report(&err) : 0;
    }
    hm_stmt *st;
    int rc = hm_db_prepare(db,
        "SELECT c.centre_code, c.course_id, c.technique, c.particle, c.prescription_gy, "
        "c.fractions, c.start_day, "
        "(SELECT COUNT(*) FROM rt_course_version v WHERE v.centre_code = c.centre_code AND "
        "v.course_id = c.course_id), "
        "(SELECT MAX(v.version) FROM rt_course_version v WHERE v.centre_code = c.centre_code AND "
        "v.course_id = c.course_id AND v.is_current = 1), "
        "(SELECT COUNT(*) FROM organ_dose d WHERE d.centre_code = c.centre_code AND "
        "d.source_type = 'rt_course' AND d.source_id = c.course_id AND d.method = 'tps'), "
        "(SELECT COUNT(*) FROM organ_dose d WHERE d.centre_code = c.centre_code AND "
        "d.source_type = 'rt_course' AND d.source_id = c.course_id AND d.method = 'rt_model'), "
        "(SELECT COUNT(*) FROM rt_dvh h WHERE h.centre_code = c.centre_code AND "
        "h.course_id = c.course_id AND h.is_current = 1) "
        "FROM rt_course c ORDER BY c.centre_code, c.course_id", &st, &err);
    if (rc) {
        hm_db_close(db);
        return hm_cli_report(&err);
    }
    printf("%-6s %-16s %-10s %-8s %8s %4s %7s %8s %7s %9s %9s %5s\n", "centre", "course",
           "technique", "particle", "Rx_Gy", "fx", "start_d", "versions", "current", "organs_tps",
           "organs_mod", "DVHs");
    long n = 0;
    while ((rc = hm_stmt_step(st, &err)) == 1) {
        printf("%-6.6s %-16.16s %-10.10s %-8.8s %8.4g %4lld %7lld %8lld %7lld %9lld %9lld %5lld\n",
               hm_stmt_column_text(st, 0), hm_stmt_column_text(st, 1), hm_stmt_column_text(st, 2),
               hm_stmt_column_text(st, 3), hm_stmt_column_double(st, 4),
               (long long)hm_stmt_column_int64(st, 5), (long long)hm_stmt_column_int64(st, 6),
               (long long)hm_stmt_column_int64(st, 7), (long long)hm_stmt_column_int64(st, 8),
               (long long)hm_stmt_column_int64(st, 9), (long long)hm_stmt_column_int64(st, 10),
               (long long)hm_stmt_column_int64(st, 11));
        n++;
    }
    hm_stmt_finalize(st);
    hm_db_close(db);
    if (rc < 0)
        return hm_cli_report(&err);
    printf("%ld course%s (start_d: days since birth; organs: organ_dose rows by method)\n", n,
           n == 1 ? "" : "s");
    return 0;
}
#else
static int run_import(const hm_args *a)
{
    (void)a;
    fprintf(stderr, "harmonic: rt import: built without the registry and pseudonymisation\n");
    return 3;
}
static int run_list(const hm_args *a)
{
    (void)a;
    fprintf(stderr, "harmonic: rt list: built without the registry\n");
    return 3;
}
#endif

static const hm_cli_opt show_opts[] = {
    HM_OPT_FLAG("json", "print JSON instead of the table"),
    HM_OPT_PATH("png", "FILE", "also draw the cumulative DVHs (PNG)", NULL),
    HM_OPT_INT("subsample", "S", "S x S sample points per voxel in the plane", "8", 1, 64),
    HM_OPT_FLAG("trilinear", "trilinear dose between voxel centres (default: nearest voxel)"),
    HM_OPT_STR("target", "ORGAN", "also the whole-body organ table, the field centred on this organ "
                                  "of the age's phantom (e.g. brain)", NULL),
    HM_OPT_FLAG("whole-body", "also the whole-body organ table, the field centred on the organ "
                              "ROI that contains the target ROI"),
    HM_OPT_NUM("age-years", "Y", "age at the plan for the phantom", "from the DICOM dates", 0, 30),
    HM_OPT_NUM("prescription-gy", "GY", "prescribed dose", "the plan's target prescription", 0.01, 200),
    HM_OPT_NUM("tps-level", "F", "RT Dose trusted from this fraction of the prescription (TG-158)",
               "0.05", 0.001, 1),
    HM_OPT_END
};
static const hm_cli_pos show_pos[] = {
    { "DIR", "a course's DICOM RT files: the plan, its structure set and its dose", 1, 1,
      HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_cmd rt_show = {
    "show", "dose-volume table (and DVH plot) of a course from its DICOM RT files",
    "Groups the folder's RT Plan, RT Structure Set and RT Dose by their references, checks\n"
    "that the dose grid shares the structure set's frame of reference, rasterises every\n"
    "ROI on the dose grid and prints volume, mean, min, max, D2%, D50%, D98%, D0.03cc and\n"
    "V5-V30Gy per ROI, with its TG-263 organ mapping (docs/rt.md).\n",
    show_opts, show_pos, run_show, NULL, 0
};

#define REQ_STR(n, v, help) \
    { n, 0, HM_OPT_T_STRING, v, help, NULL, HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 }
static const hm_cli_opt import_opts[] = {
    REQ_STR("db", "URL", "registry: a SQLite file or postgresql:// URL"),
    REQ_STR("centre", "C", "the centre the courses come from"),
    { "key", 0, HM_OPT_T_PATH, "KEYFILE", "the study key (pseudonymises ids, UIDs and dates)",
      NULL, HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_STR("diag-topography", "CODE", "ICD-O-3 topography of new courses (e.g. C71.9)", NULL),
    HM_OPT_STR("diag-morphology", "CODE", "ICD-O-3 morphology of new courses (e.g. 9470/3)", NULL),
    HM_OPT_STR("diag-date", "YYYY-MM-DD", "diagnosis date of new courses (stored as days since "
                                          "birth)", NULL),
    HM_OPT_PATH("diagnoses", "FILE.csv", "each new course takes its patient's row: "
                                         "local_patient_id or pseudonym, diag_topography, "
                                         "diag_morphology, diag_date or diag_day", NULL),
    HM_OPT_STR("target", "ORGAN", "the organ the field is centred on", "the organ ROI containing "
                                  "the target ROI"),
    HM_OPT_NUM("age-years", "Y", "age at the plan for the phantom", "from the DICOM dates", 0, 30),
    HM_OPT_NUM("prescription-gy", "GY", "prescribed dose", "the plan's target prescription", 0.01, 200),
    HM_OPT_NUM("tps-level", "F", "RT Dose trusted from this fraction of the prescription (TG-158)",
               "0.05", 0.001, 1),
    HM_OPT_INT("subsample", "S", "S x S sample points per voxel in the plane", "8", 1, 64),
    HM_OPT_FLAG("trilinear", "trilinear dose between voxel centres (default: nearest voxel)"),
    HM_OPT_END
};
static const hm_cli_pos import_pos[] = {
    { "DIR", "course folders, or folders of course folders (files grouped by references)", 1, -1,
      HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_cmd rt_import = {
    "import", "pseudonymise and store courses: DVHs and whole-body organ doses",
    "Reads every course (one RT Plan with its structure set, dose and CT) under the\n"
    "folders, computes the DVHs and the whole-body organ table, pseudonymises ids, UIDs\n"
    "and dates with the study key and stores everything in one transaction: on any\n"
    "error nothing is stored.  The patient must be in the registry.  A new course takes\n"
    "its patient's diagnosis from --diagnoses FILE.csv (or the --diag-* options).  A\n"
    "revised plan adds a version of its course; the same files again change nothing\n"
    "(docs/rt.md).\n",
    import_opts, import_pos, run_import, NULL, 0
};
static const hm_cli_opt list_opts[] = {
    REQ_STR("db", "URL", "registry: a SQLite file or postgresql:// URL"),
    HM_OPT_STR("course", "ID", "print this course's stored whole-body organ-dose table (the "
                               "first digits of its id are enough)", NULL),
    HM_OPT_END
};
static const hm_cli_cmd rt_list = {
    "list", "the registry's RT courses: versions, technique, organs stored (--course: one "
    "course's organ doses)", NULL, list_opts,
    NULL, run_list, NULL, 0
};

static const hm_cli_opt group_opts[] = { HM_OPT_END };
static const hm_cli_cmd *const rt_subs[] = { &rt_show, &rt_import, &rt_list, NULL };
const hm_cli_cmd hm_cli_rt = {
    "rt", "radiotherapy courses: DICOM RT plan, dose and structures",
    "Radiotherapy courses from their DICOM RT files (docs/rt.md, docs/rt_dicom.md).\n",
    group_opts, NULL, NULL, rt_subs, 0
};
