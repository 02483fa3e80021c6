/*
 * cmd_rt.c — `harmonic rt show DIR`: a radiotherapy course's dose-volume
 * table from its DICOM RT files.  The DICOM objects come from the readers of
 * src/dicom (hm_rtdicom.h), the dose-volume figures from src/rt (hm_rt.h);
 * this file only joins them: it groups the folder's objects by their
 * references, checks the dose grid against the structure set, turns the
 * DICOM-level dose and contours into the engine's grid and ROIs, maps the ROI
 * names through TG-263 and prints (or writes as JSON) one row per ROI, with
 * a cumulative DVH plot as PNG on request.  docs/rt.md.
 */
#include "cli.h"
#include "hm_rt.h"
#include "hm_rtdicom.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A course's objects, read. */
typedef struct course {
    hm_rtdcm_plan   plan;
    hm_rtdcm_struct ss;
    hm_rtdcm_dose   dose;
    int             have_plan, have_ss, have_dose;
    char            dose_path[512], ss_path[512];
} course;

static void course_free(course *c)
{
    if (c->have_plan)
        hm_rtdcm_plan_free(&c->plan);
    if (c->have_ss)
        hm_rtdcm_struct_free(&c->ss);
    if (c->have_dose)
        hm_rtdcm_dose_free(&c->dose);
}

/* The dose of a course: the first RT Dose that references the plan (the
 * folder scan reads headers only, without the summation type, so a course
 * sent with beam or fraction doses beside the plan dose should be sent
 * with the plan dose alone). */
static const hm_rtdcm_object *course_dose(const hm_rtdcm_group *g)
{
    return g->ndoses ? g->doses[0] : NULL;
}

static int course_read(const char *dir, course *c, hm_error *err)
{
    memset(c, 0, sizeof *c);
    hm_rtdcm_object *objs = NULL;
    size_t nobjs = 0, ngroups = 0;
    hm_rtdcm_group *groups = NULL;
    int rc = hm_rtdcm_scan_dir(dir, &objs, &nobjs, err);
    if (rc == HM_OK)
        rc = hm_rtdcm_group_objects(objs, nobjs, &groups, &ngroups, err);
    if (rc == HM_OK && ngroups != 1)
        rc = hm_error_set(err, HM_EINVAL, dir, 0, "RTPlan",
                          "%zu RT plans in the folder: give one course's files (one plan with its "
                          "structure set and dose)", ngroups);
    const hm_rtdcm_group *g = rc == HM_OK ? &groups[0] : NULL;
    if (rc == HM_OK && !g->structure_set)
        rc = hm_error_set(err, HM_ENOTFOUND, g->plan->path, 0, "ReferencedStructureSetSequence",
                          "the plan's RT Structure Set is not in %s: add it", dir);
    const hm_rtdcm_object *d = g ? course_dose(g) : NULL;
    if (rc == HM_OK && !d)
        rc = hm_error_set(err, HM_ENOTFOUND, g->plan->path, 0, "RTDose",
                          "no RT Dose in %s references this plan: add the plan's dose file", dir);
    if (rc == HM_OK && !(rc = hm_rtdcm_plan_read_file(g->plan->path, &c->plan, err)))
        c->have_plan = 1;
    if (rc == HM_OK && !(rc = hm_rtdcm_struct_read_file(g->structure_set->path, &c->ss, err)))
        c->have_ss = 1;
    if (rc == HM_OK && !(rc = hm_rtdcm_dose_read_file(d->path, &c->dose, err)))
        c->have_dose = 1;
    if (rc == HM_OK) {
        snprintf(c->dose_path, sizeof c->dose_path, "%s", d->path);
        snprintf(c->ss_path, sizeof c->ss_path, "%s", g->structure_set->path);
        hm_rtdcm_plan_summarise(&c->plan);
        rc = hm_rtdcm_struct_validate(&c->ss, c->ss_path, 0.01, err);
    }
    if (rc == HM_OK)
        rc = hm_rtdcm_check_dose_struct(&c->dose, c->dose_path, &c->ss, c->ss_path, err);
    if (rc == HM_OK && strcmp(c->dose.dose_units, "GY"))
        rc = hm_error_set(err, HM_EINVAL, c->dose_path, 0, "DoseUnits",
                          "'%s': expected GY (a RELATIVE dose has no absolute dose-volume figures)",
                          c->dose.dose_units);
    free(groups);
    free(objs);
    if (rc)
        course_free(c);
    return rc;
}

/* The RT Dose as the engine's grid (hm_rt.h gives the same DICOM rules). */
static int grid_of(const hm_rtdcm_dose *d, const char *path, hm_rt_grid **out, hm_error *err)
{
    hm_rt_grid *g;
    int rc = hm_rt_grid_create(d->cols, d->rows, d->nframes, &g, err);
    if (rc)
        return rc;
    memcpy(g->origin_mm, d->ipp_mm, sizeof g->origin_mm);
    memcpy(g->row_cos, d->iop, 3 * sizeof(double));
    memcpy(g->col_cos, d->iop + 3, 3 * sizeof(double));
    g->dx_mm = d->spacing_mm[1];
    g->dy_mm = d->spacing_mm[0];
    double *off = malloc(sizeof *off * (size_t)d->nframes);
    if (!off) {
        hm_rt_grid_free(g);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    for (int k = 0; k < d->nframes; k++)
        off[k] = hm_rtdcm_dose_frame_mm(d, k);
    hm_rt_grid_set_offsets(g, off);
    free(off);
    memcpy(g->dose_gy, d->dose_gy, sizeof(float) * (size_t)d->cols * (size_t)d->rows * (size_t)d->nframes);
    if ((rc = hm_rt_grid_check(g, err))) {
        if (!err->file[0])
            snprintf(err->file, sizeof err->file, "%.*s", (int)sizeof err->file - 1, path);
        hm_rt_grid_free(g);
        return rc;
    }
    *out = g;
    return HM_OK;
}

/* One ROI of the structure set as the engine's (closed planar contours only:
 * points and open contours have no volume). */
static int roi_of(const hm_rtdcm_roi *r, hm_rt_roi **out, hm_error *err)
{
    hm_rt_roi *roi = hm_rt_roi_create(r->name, r->number);
    if (!roi)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t k = 0; k < r->ncontours; k++) {
        const hm_rtdcm_contour *c = &r->contours[k];
        if (strcmp(c->geometric_type, "CLOSED_PLANAR"))
            continue;
        int rc = hm_rt_roi_add_contour_xyz(roi, c->xyz_mm, (int)c->npoints, err);
        if (rc) {
            hm_rt_roi_free(roi);
            return rc;
        }
    }
    *out = roi;
    return HM_OK;
}

typedef struct row {
    char       name[68], code[48], tg263[64];
    int        kind;
    int        ok;                 /* 0: no volume in the grid (reason in why) */
    char       why[512];
    hm_rt_dvh  dvh;
} row;

static void print_table(const course *c, const row *rows, size_t n)
{
    printf("course: plan '%s', %s, %d beams, %d fractions, prescription %.4g Gy\n", c->plan.label,
           hm_rtdcm_technique_name(c->plan.technique), (int)c->plan.nbeams, c->plan.fractions_planned,
           c->plan.rx_dose_gy);
    printf("dose grid %d x %d x %d (%s, %s), %zu ROIs\n", c->dose.cols, c->dose.rows, c->dose.nframes,
           c->dose.dose_type, c->dose.summation_type, c->ss.nrois);
    printf("%-20s %-14s %-16s %9s %7s %7s %7s %7s %7s %7s %8s %6s %6s %6s %6s\n", "ROI", "organ",
           "TG-263", "vol_cc", "mean", "min", "max", "D2%", "D50%", "D98%", "D0.03cc", "V5Gy", "V10Gy",
           "V20Gy", "V30Gy");
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        printf("%-20.20s %-14.14s %-16.16s ", r->name, r->code[0] ? r->code : "-",
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

static int print_json(const course *c, const row *rows, size_t n, const hm_rt_oof_organ *wb, int nwb)
{
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "plan_label", json_string(c->plan.label));
    json_object_set_new(o, "technique", json_string(hm_rtdcm_technique_name(c->plan.technique)));
    json_object_set_new(o, "fractions", json_integer(c->plan.fractions_planned));
    json_object_set_new(o, "prescription_gy", json_real(c->plan.rx_dose_gy));
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        json_t *j = json_object();
        json_object_set_new(j, "roi", json_string(r->name));
        json_object_set_new(j, "mapping", json_string(hm_rt_map_kind_name(r->kind)));
        json_object_set_new(j, "organ", r->code[0] ? json_string(r->code) : json_null());
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

/* The out-of-field model's technique of a plan's, or -1. */
static int oof_technique(int t)
{
    switch (t) {
    case HM_RTDCM_TECH_3DCRT: return HM_RT_PHOTON_3DCRT;
    case HM_RTDCM_TECH_IMRT: return HM_RT_PHOTON_IMRT;
    case HM_RTDCM_TECH_ARC:
    case HM_RTDCM_TECH_VMAT: return HM_RT_PHOTON_VMAT;
    case HM_RTDCM_TECH_ION_PASSIVE:
    case HM_RTDCM_TECH_ION_UNIFORM: return HM_RT_PROTON_PS;
    case HM_RTDCM_TECH_ION_PBS: return HM_RT_PROTON_PBS;
    default: return -1;
    }
}

/* Age in years at the plan from the DICOM dates (YYYYMMDD), or NAN. */
static double plan_age_years(const hm_rtdcm_plan *p)
{
    const char *b = p->c.patient_birth_date, *d = p->date[0] ? p->date : p->c.study_date;
    int by, bm, bd, y, m, dd;
    if (sscanf(b, "%4d%2d%2d", &by, &bm, &bd) != 3 || sscanf(d, "%4d%2d%2d", &y, &m, &dd) != 3)
        return NAN;
    return (y - by) + (m - bm) / 12.0 + (dd - bd) / 365.25;
}

/* The whole-body table: in field from the RT Dose where the TPS is reliable,
 * out of field from the model (hm_rt_oof_*, docs/rt.md "Out-of-field dose"). */
static int whole_body(const hm_args *a, const course *c, const hm_rt_grid *g, const row *rows, size_t n,
                      hm_rt_oof_organ **out, int *nout, hm_error *err)
{
    hm_rt_oof_course oc;
    memset(&oc, 0, sizeof oc);
    oc.technique = oof_technique(c->plan.technique);
    if (oc.technique < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "technique",
                            "the out-of-field model has no parameters for a %s plan",
                            hm_rtdcm_technique_name(c->plan.technique));
    oc.prescription_gy = hm_args_count(a, "prescription-gy") ? hm_args_num(a, "prescription-gy", 0)
                                                             : c->plan.rx_dose_gy;
    if (!(oc.prescription_gy > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "prescription-gy",
                            "the plan gives no target prescription dose: give --prescription-gy");
    oc.age_years = hm_args_count(a, "age-years") ? hm_args_num(a, "age-years", 0) : plan_age_years(&c->plan);
    if (!(oc.age_years >= 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age-years",
                            "no birth and plan dates in the files: give --age-years");
    const char *sex = c->plan.c.patient_sex;
    oc.sex = sex[0] == 'M' || sex[0] == 'F' ? sex[0] : 0;
    oc.target_organ = hm_args_str(a, "target", NULL);
    /* The field: the sphere of the first target ROI's volume, else the
     * dose grid's >= 50 % isodose. */
    for (size_t i = 0; i < n && !(oc.target_radius_cm > 0); i++)
        if (rows[i].ok && rows[i].kind == HM_RT_MAP_TARGET)
            oc.target_radius_cm = hm_rt_oof_radius_cc(rows[i].dvh.volume_cc);
    if (!(oc.target_radius_cm > 0)) {
        double centre[3];
        int rc = hm_rt_oof_field_from_grid(g, oc.prescription_gy, centre, &oc.target_radius_cm, err);
        if (rc)
            return rc;
    }
    hm_rt_oof_params *prm;
    int rc = hm_rt_oof_load(NULL, &prm, err);
    if (rc)
        return rc;
    rc = hm_rt_oof_organ_table(prm, &oc, out, nout, err);
    hm_rt_oof_free(prm);
    if (rc)
        return rc;
    hm_rt_tps_organ tps[256];
    int ntps = 0;
    for (size_t i = 0; i < n && ntps < 256; i++)
        if (rows[i].ok && rows[i].kind == HM_RT_MAP_ORGAN)
            tps[ntps++] = (hm_rt_tps_organ){ rows[i].code, rows[i].dvh.mean_gy };
    rc = hm_rt_oof_merge(*out, *nout, tps, ntps, oc.prescription_gy, hm_args_num(a, "tps-level", 0), err);
    return rc < 0 ? rc : HM_OK;
}

static int run_show(const hm_args *a)
{
    const char *dir = a->pos[0];
    hm_error err;
    hm_error_clear(&err);
    course c;
    if (course_read(dir, &c, &err))
        return hm_cli_report(&err);
    hm_rt_grid *g = NULL;
    hm_rt_tg263 *map = NULL;
    char mpath[1024];
    int rc = grid_of(&c.dose, c.dose_path, &g, &err);
    if (rc == HM_OK)
        rc = hm_data_path("rt/tg263_map.csv", mpath, sizeof mpath, &err);
    if (rc == HM_OK)
        rc = hm_rt_tg263_load(mpath, &map, &err);
    row *rows = calloc(c.ss.nrois ? c.ss.nrois : 1, sizeof *rows);
    if (rc == HM_OK && !rows)
        rc = hm_error_set(&err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    hm_rt_dvh_options opt;
    memset(&opt, 0, sizeof opt);
    opt.subsample = (int)hm_args_int(a, "subsample", 0);
    opt.interp = hm_args_flag(a, "trilinear") ? HM_RT_TRILINEAR : HM_RT_NEAREST;
    size_t n = 0;
    for (size_t i = 0; rc == HM_OK && i < c.ss.nrois; i++, n++) {
        row *r = &rows[i];
        const hm_rtdcm_roi *src = &c.ss.rois[i];
        snprintf(r->name, sizeof r->name, "%s", src->name);
        r->kind = hm_rt_map_roi(map, src->name, r->code, sizeof r->code, r->tg263, sizeof r->tg263, &err);
        if (r->kind < 0) {
            rc = r->kind;
            break;
        }
        hm_rt_roi *roi = NULL;
        hm_error e2;
        hm_error_clear(&e2);
        int rr = roi_of(src, &roi, &e2);
        if (rr == HM_OK)
            rr = hm_rt_dvh_compute(g, roi, &opt, &r->dvh, &e2);
        hm_rt_roi_free(roi);
        if (rr == HM_OK) {
            r->ok = 1;
        } else if (rr == HM_EVALIDATE) {
            /* An ROI without contours, or wholly outside the dose grid: a row
             * that says so (the out-of-field model covers such organs). */
            snprintf(r->why, sizeof r->why, "%.*s", (int)sizeof r->why - 1, e2.msg);
        } else {
            err = e2;
            rc = rr;
        }
    }
    const char *png = hm_args_str(a, "png", NULL);
    if (rc == HM_OK && png) {
        const hm_rt_dvh *dv[256];
        const char *names[256];
        int k = 0;
        for (size_t i = 0; i < n && k < 256; i++)
            if (rows[i].ok && rows[i].kind != HM_RT_MAP_HELPER) {
                dv[k] = &rows[i].dvh;
                names[k++] = rows[i].name;
            }
        char title[256];
        snprintf(title, sizeof title, "cumulative DVH: plan %s (%s)", c.plan.label,
                 hm_rtdcm_technique_name(c.plan.technique));
        rc = hm_rt_dvh_plot_png(dv, names, k, png, title, &err);
    }
    hm_rt_oof_organ *wb = NULL;
    int nwb = 0;
    if (rc == HM_OK && hm_args_count(a, "target"))
        rc = whole_body(a, &c, g, rows, n, &wb, &nwb, &err);
    int status = 0;
    if (rc)
        status = hm_cli_report(&err);
    else if (hm_args_flag(a, "json"))
        status = print_json(&c, rows, n, wb, nwb);
    else {
        print_table(&c, rows, n);
        if (png)
            printf("DVH plot: %s\n", png);
        if (wb) {
            printf("\nwhole-body organ doses (in field from the RT Dose, out of field from the model):\n");
            printf("%-16s %-24s %12s %10s %12s\n", "organ", "method", "distance_cm", "dose_Gy",
                   "neutron_Sv");
            for (int i = 0; i < nwb; i++)
                printf("%-16s %-24s %12.1f %10.4g %12.3g\n", wb[i].organ, wb[i].method,
                       wb[i].distance_cm, wb[i].dose_gy, wb[i].neutron_sv);
        }
    }
    free(wb);
    for (size_t i = 0; i < n; i++)
        if (rows[i].ok)
            hm_rt_dvh_free(&rows[i].dvh);
    free(rows);
    hm_rt_tg263_free(map);
    hm_rt_grid_free(g);
    course_free(&c);
    return status;
}

static const hm_cli_opt show_opts[] = {
    HM_OPT_FLAG("json", "print JSON instead of the table"),
    HM_OPT_PATH("png", "FILE", "also draw the cumulative DVHs (PNG)", NULL),
    HM_OPT_INT("subsample", "S", "S x S sample points per voxel in the plane", "8", 1, 64),
    HM_OPT_FLAG("trilinear", "trilinear dose between voxel centres (default: nearest voxel)"),
    HM_OPT_STR("target", "ORGAN", "also the whole-body organ table, the field centred on this organ "
                                  "of the age's phantom (e.g. brain)", NULL),
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

static const hm_cli_opt group_opts[] = { HM_OPT_END };
static const hm_cli_cmd *const rt_subs[] = { &rt_show, NULL };
const hm_cli_cmd hm_cli_rt = {
    "rt", "radiotherapy courses: DICOM RT plan, dose and structures",
    "Radiotherapy courses from their DICOM RT files (docs/rt.md, docs/rt_dicom.md).\n",
    group_opts, NULL, NULL, rt_subs, 0
};
