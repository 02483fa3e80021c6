/*
 * course.c — a radiotherapy course from its DICOM RT files (hm_rt.h,
 * "courses"): the one place where the DICOM objects of src/dicom meet the
 * dose-volume engine, so `rt show`, `rt import` and the synthetic cohort see
 * the same course.  Steps: pool the files of the folders (recursively), group
 * them by references (hm_rtdcm_group_objects), read and check each course's
 * plan, structure set and dose, compute every ROI's DVH, and optionally the
 * whole-body organ table (out-of-field model merged with the TPS means).
 * Rules and their reasons: docs/rt.md, "Courses" and "Import".
 */
#include "hm_rt.h"
#include "hm_rtdicom.h"
#include "rt_int.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void hm_rt_course_options_init(hm_rt_course_options *o)
{
    memset(o, 0, sizeof *o);
    o->age_years = NAN;
}

/* ------------------------------------------------------------ file pool */

typedef struct pool {
    hm_rtdcm_object *v;
    size_t           n, cap;
} pool;

/* The objects of dir and of its sub-folders (depth-first, names sorted by
 * hm_rtdcm_scan_dir; sub-folders sorted here so runs are reproducible). */
static int pool_dir(pool *p, const char *dir, int depth, hm_error *err)
{
    if (depth > 8)
        return hm_error_set(err, HM_EINVAL, dir, 0, NULL,
                            "folders nested deeper than 8 levels: give the course folders");
    hm_rtdcm_object *objs = NULL;
    size_t n = 0;
    int rc = hm_rtdcm_scan_dir(dir, &objs, &n, err);
    if (rc)
        return rc;
    if (p->n + n > p->cap) {
        size_t cap = p->cap ? p->cap : 64;
        while (cap < p->n + n)
            cap *= 2;
        hm_rtdcm_object *v = realloc(p->v, cap * sizeof *v);
        if (!v) {
            free(objs);
            return hm_error_set(err, HM_ENOMEM, dir, 0, NULL, "out of memory");
        }
        p->v = v;
        p->cap = cap;
    }
    if (n)
        memcpy(p->v + p->n, objs, n * sizeof *objs);
    p->n += n;
    free(objs);
    DIR *d = opendir(dir);
    if (!d)
        return hm_error_set(err, HM_EIO, dir, 0, NULL, "cannot open folder: %s", strerror(errno));
    char **subs = NULL;
    size_t nsub = 0, capsub = 0;
    struct dirent *e;
    while (rc == HM_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) || !S_ISDIR(st.st_mode))
            continue;
        if (nsub == capsub) {
            capsub = capsub ? 2 * capsub : 16;
            char **v = realloc(subs, capsub * sizeof *v);
            if (!v) {
                rc = hm_error_set(err, HM_ENOMEM, dir, 0, NULL, "out of memory");
                break;
            }
            subs = v;
        }
        if (!(subs[nsub] = strdup(path)))
            rc = hm_error_set(err, HM_ENOMEM, dir, 0, NULL, "out of memory");
        else
            nsub++;
    }
    closedir(d);
    for (size_t i = 1; i < nsub; i++)           /* insertion sort: few folders */
        for (size_t j = i; j > 0 && strcmp(subs[j - 1], subs[j]) > 0; j--) {
            char *t = subs[j];
            subs[j] = subs[j - 1];
            subs[j - 1] = t;
        }
    for (size_t i = 0; i < nsub; i++) {
        if (rc == HM_OK)
            rc = pool_dir(p, subs[i], depth + 1, err);
        free(subs[i]);
    }
    free(subs);
    return rc;
}

/* --------------------------------------------------------------- checks */

/* Every object of the course names the same patient (PatientID (0010,0020)):
 * files of two patients in one folder would mix their doses. */
static int same_patient(const hm_rtdcm_group *g, const hm_rtdcm_object *objs, size_t n,
                        hm_error *err)
{
    const char *pid = g->plan->c.patient_id;
    const hm_rtdcm_object *check[2 + HM_RTDCM_MAX_REFS];
    int k = 0;
    check[k++] = g->structure_set;
    for (int i = 0; i < g->ndoses; i++)
        check[k++] = g->doses[i];
    for (int i = 0; i < k; i++)
        if (check[i] && strcmp(check[i]->c.patient_id, pid))
            return hm_error_set(err, HM_EVALIDATE, check[i]->path, 0, "PatientID (0010,0020)",
                                "PatientID (0010,0020) '%s' differs from the plan's '%s' (%s): "
                                "export the course of one patient", check[i]->c.patient_id, pid,
                                g->plan->path);
    const char *series = g->structure_set ? g->structure_set->ref_ct_series_uid : "";
    for (size_t j = 0; series[0] && j < n; j++)
        if (objs[j].kind == HM_RTDCM_CT && !strcmp(objs[j].c.series_uid, series)
            && strcmp(objs[j].c.patient_id, pid))
            return hm_error_set(err, HM_EVALIDATE, objs[j].path, 0, "PatientID (0010,0020)",
                                "PatientID (0010,0020) '%s' of the planning CT differs from the "
                                "plan's '%s' (%s): export the course of one patient",
                                objs[j].c.patient_id, pid, g->plan->path);
    if (!pid[0])
        return hm_error_set(err, HM_EVALIDATE, g->plan->path, 0, "PatientID (0010,0020)",
                            "the RT Plan has no PatientID (0010,0020): export it with the "
                            "patient's identifier (it is pseudonymised on import)");
    return HM_OK;
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
    memcpy(g->dose_gy, d->dose_gy,
           sizeof(float) * (size_t)d->cols * (size_t)d->rows * (size_t)d->nframes);
    if ((rc = hm_rt_grid_check(g, err))) {
        if (!err->file[0])
            snprintf(err->file, sizeof err->file, "%.*s", (int)sizeof err->file - 1, path);
        hm_rt_grid_free(g);
        return rc;
    }
    *out = g;
    return HM_OK;
}

/* One ROI as the engine's (closed planar contours only: points and open
 * contours have no volume); centroid = mean of its contour points. */
static int roi_of(const hm_rtdcm_roi *r, hm_rt_roi **out, double centroid[3], hm_error *err)
{
    hm_rt_roi *roi = hm_rt_roi_create(r->name, r->number);
    if (!roi)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    double s[3] = { 0, 0, 0 };
    size_t np = 0;
    for (size_t k = 0; k < r->ncontours; k++) {
        const hm_rtdcm_contour *c = &r->contours[k];
        if (strcmp(c->geometric_type, "CLOSED_PLANAR"))
            continue;
        int rc = hm_rt_roi_add_contour_xyz(roi, c->xyz_mm, (int)c->npoints, err);
        if (rc) {
            hm_rt_roi_free(roi);
            return rc;
        }
        for (size_t i = 0; i < c->npoints; i++, np++)
            for (int a = 0; a < 3; a++)
                s[a] += c->xyz_mm[3 * i + a];
    }
    for (int a = 0; a < 3; a++)
        centroid[a] = np ? s[a] / (double)np : NAN;
    *out = roi;
    return HM_OK;
}

/* ------------------------------------------------------- plan summaries */

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

/* The dictionary's rt_course.technique code.  A conformal arc (no MLC or
 * dose-rate modulation) is neither IMRT nor VMAT: "other". */
static const char *registry_technique(int t)
{
    switch (t) {
    case HM_RTDCM_TECH_3DCRT: return "3dcrt";
    case HM_RTDCM_TECH_IMRT: return "imrt";
    case HM_RTDCM_TECH_VMAT: return "vmat";
    case HM_RTDCM_TECH_ELECTRON: return "electron";
    case HM_RTDCM_TECH_ION_PASSIVE:
    case HM_RTDCM_TECH_ION_UNIFORM: return "proton_ds";
    case HM_RTDCM_TECH_ION_PBS: return "proton_pbs";
    default: return "other";
    }
}

/* Particle, technique and the energy range of the treatment beams. */
static void summarise_beams(const hm_rtdcm_plan *p, hm_rt_course *c)
{
    const char *rad = "";
    double emin = INFINITY, emax = -INFINITY;
    for (size_t i = 0; i < p->nbeams; i++) {
        const hm_rtdcm_beam *b = &p->beams[i];
        if (b->delivery_type[0] && strcmp(b->delivery_type, "TREATMENT"))
            continue;
        if (!rad[0])
            rad = b->radiation_type;
        for (size_t k = 0; k < b->ncp; k++)
            if (b->cps[k].energy_mev > 0) {
                emin = fmin(emin, b->cps[k].energy_mev);
                emax = fmax(emax, b->cps[k].energy_mev);
            }
    }
    snprintf(c->particle, sizeof c->particle, "%s",
             !strcmp(rad, "PHOTON") ? "photon" : !strcmp(rad, "PROTON") ? "proton"
             : !strcmp(rad, "ELECTRON") ? "electron" : "other");
    /* Nominal Beam Energy is MV for photons, MeV (per nucleon for ions)
     * otherwise (PS3.3 C.8.8.14.1). */
    const char *unit = !strcmp(rad, "PHOTON") ? "MV" : "MeV";
    if (emin > emax)
        c->beam_energy[0] = '\0';
    else if (emin == emax)
        snprintf(c->beam_energy, sizeof c->beam_energy, "%g %s", emin, unit);
    else
        snprintf(c->beam_energy, sizeof c->beam_energy, "%g-%g %s", emin, emax, unit);
    snprintf(c->dicom_technique, sizeof c->dicom_technique, "%s",
             hm_rtdcm_technique_name(p->technique));
    snprintf(c->registry_technique, sizeof c->registry_technique, "%s",
             registry_technique(p->technique));
    c->technique = oof_technique(p->technique);
}

/* Age in years between two DICOM dates (YYYYMMDD), or NAN. */
static double age_between(const char *birth, const char *on)
{
    int by, bm, bd, y, m, d;
    if (sscanf(birth, "%4d%2d%2d", &by, &bm, &bd) != 3 || sscanf(on, "%4d%2d%2d", &y, &m, &d) != 3)
        return NAN;
    return (y - by) + (m - bm) / 12.0 + (d - bd) / 365.25;
}

/* -------------------------------------------------------- target organ */

/* Even-odd inside test of (x, y) against all contours of roi on the slice
 * nearest z (PNPOLY, W. R. Franklin), when that slice is within half the
 * ROI's contour spacing (1.5 mm for a lone slice) of z. */
static int roi_contains(const hm_rtdcm_roi *r, const double p[3])
{
    double best = INFINITY, zbest = NAN, spacing = INFINITY;
    for (size_t k = 0; k < r->ncontours; k++) {
        const hm_rtdcm_contour *c = &r->contours[k];
        if (strcmp(c->geometric_type, "CLOSED_PLANAR") || c->npoints < 3)
            continue;
        double dz = fabs(c->xyz_mm[2] - p[2]);
        if (dz < best) {
            best = dz;
            zbest = c->xyz_mm[2];
        }
        for (size_t j = 0; j < r->ncontours; j++) {
            double s = fabs(r->contours[j].npoints ? r->contours[j].xyz_mm[2] - c->xyz_mm[2] : 0);
            if (s > 0.01 && s < spacing)
                spacing = s;
        }
    }
    if (!(best <= (isfinite(spacing) ? spacing / 2 : 1.5)))
        return 0;
    int inside = 0;
    for (size_t k = 0; k < r->ncontours; k++) {
        const hm_rtdcm_contour *c = &r->contours[k];
        if (strcmp(c->geometric_type, "CLOSED_PLANAR") || c->npoints < 3
            || fabs(c->xyz_mm[2] - zbest) > 0.01)
            continue;
        for (size_t i = 0, j = c->npoints - 1; i < c->npoints; j = i++) {
            const double *a = &c->xyz_mm[3 * i], *b = &c->xyz_mm[3 * j];
            if ((a[1] > p[1]) != (b[1] > p[1])
                && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0])
                inside = !inside;
        }
    }
    return inside;
}

/* The target ROI: the one the plan's TARGET dose reference names, else the
 * first ROI mapped as a target with a volume; -1 when none. */
static int target_roi(const hm_rtdcm_plan *p, const hm_rt_course *c)
{
    for (size_t i = 0; i < p->ndoserefs; i++)
        if (!strcmp(p->doserefs[i].type, "TARGET") && p->doserefs[i].roi_number)
            for (size_t r = 0; r < c->nrois; r++)
                if (c->rois[r].number == p->doserefs[i].roi_number && c->rois[r].ok)
                    return (int)r;
    for (size_t r = 0; r < c->nrois; r++)
        if (c->rois[r].kind == HM_RT_MAP_TARGET && c->rois[r].ok)
            return (int)r;
    return -1;
}

/* The side of a paired organ an ROI is (TG-263 laterality suffix, data/rt/
 * tg263_map.csv): +1 the patient's left (+x in DICOM patient coordinates and
 * in the phantom), -1 the right, 0 none or both. */
static int roi_side(const hm_rt_course_roi *r)
{
    size_t n = strlen(r->tg263);
    if (n > 2 && r->tg263[n - 2] == '_' && (r->tg263[n - 1] == 'L' || r->tg263[n - 1] == 'R'))
        return r->tg263[n - 1] == 'L' ? 1 : -1;
    return 0;
}

/* Target organ (docs/rt.md "Courses"): the option, else the smallest organ
 * ROI that contains the target ROI's centroid. */
/* Whether the model's phantom (sex model_sex: M, F or H with both sets)
 * has the organ: a field cannot be centred on an organ it lacks. */
static int phantom_has(const char *organ, char model_sex)
{
    char sex;
    hm_error e;
    if (model_sex == 'H' || hm_rt__organ_sex(organ, &sex, &e))
        return 1;
    return !sex || sex == model_sex;
}

static int pick_target(const hm_rt_course_options *o, const hm_rtdcm_plan *p,
                       const hm_rtdcm_struct *ss, char model_sex, hm_rt_course *c, int *troi,
                       hm_error *err)
{
    *troi = target_roi(p, c);
    if (o->target_organ && o->target_organ[0]) {
        snprintf(c->target_organ, sizeof c->target_organ, "%s", o->target_organ);
        snprintf(c->target_how, sizeof c->target_how, "option");
        return HM_OK;
    }
    if (*troi < 0)
        return hm_error_set(err, HM_EVALIDATE, c->struct_path, 0, "RTROIObservationsSequence",
                            "no target ROI (PTV/CTV/GTV) with a volume in the dose grid to place "
                            "the field: give --target ORGAN");
    const double *ct = c->rois[*troi].centroid_mm;
    int best = -1;
    for (size_t r = 0; r < c->nrois; r++) {
        const hm_rt_course_roi *x = &c->rois[r];
        if (x->kind != HM_RT_MAP_ORGAN || !x->ok || !phantom_has(x->organ, model_sex)
            || !roi_contains(&ss->rois[r], ct))
            continue;
        if (best < 0 || x->dvh.volume_cc < c->rois[best].dvh.volume_cc)
            best = (int)r;
    }
    if (best >= 0) {
        c->target_side = roi_side(&c->rois[best]);
        snprintf(c->target_organ, sizeof c->target_organ, "%.31s", c->rois[best].organ);
        snprintf(c->target_how, sizeof c->target_how, "target ROI '%.20s' in '%.20s'",
                 c->rois[*troi].name, c->rois[best].name);
        return HM_OK;
    }
    /* A target in no organ ROI (a mediastinal node, a sarcoma of soft
     * tissue): placed by its offset from the nearest organ ROI's centre.
     * DICOM patient coordinates (PS3.3 C.7.6.2.1.1: +x to the patient's
     * left, +y posterior, +z head) have the phantom's axes, so the offset
     * carries over for any patient position; the phantom of the patient's
     * age stands for the patient's anatomy around it. */
    double dbest = INFINITY;
    for (size_t r = 0; r < c->nrois; r++) {
        const hm_rt_course_roi *x = &c->rois[r];
        if (x->kind != HM_RT_MAP_ORGAN || !x->ok || (int)r == *troi
            || !phantom_has(x->organ, model_sex))
            continue;
        double d2 = 0;
        for (int k = 0; k < 3; k++)
            d2 += (x->centroid_mm[k] - ct[k]) * (x->centroid_mm[k] - ct[k]);
        if (d2 < dbest) {
            dbest = d2;
            best = (int)r;
        }
    }
    if (best < 0)
        return hm_error_set(err, HM_EVALIDATE, c->struct_path, 0, "ROIContourSequence (3006,0039)",
                            "no organ ROI mapped to the organ list to place target ROI '%s' "
                            "against: give --target ORGAN (e.g. brain)", c->rois[*troi].name);
    for (int k = 0; k < 3; k++)
        c->target_offset_cm[k] = (ct[k] - c->rois[best].centroid_mm[k]) / 10;
    c->target_side = roi_side(&c->rois[best]);
    snprintf(c->target_organ, sizeof c->target_organ, "%.31s", c->rois[best].organ);
    snprintf(c->target_how, sizeof c->target_how,
             "target ROI '%.20s' %.0f mm from the centre of '%.20s' (nearest)",
             c->rois[*troi].name, fmin(sqrt(dbest), 1e6), c->rois[best].name);
    return HM_OK;
}

/* The whole-body table: in field from the RT Dose where the TPS is reliable,
 * out of field from the model (hm_rt_oof_*, docs/rt.md "Out-of-field dose"). */
static int whole_body(const hm_rt_course_options *o, const hm_rtdcm_plan *p,
                      const hm_rtdcm_struct *ss, const hm_rt_grid *g, hm_rt_course *c,
                      hm_error *err)
{
    hm_rt_oof_course oc;
    memset(&oc, 0, sizeof oc);
    oc.technique = c->technique;
    if (oc.technique < 0)
        return hm_error_set(err, HM_EVALIDATE, c->plan_path, 0, "BeamSequence (300A,00B0)",
                            "the out-of-field model has no parameters for a %s plan",
                            c->dicom_technique);
    oc.prescription_gy = o->prescription_gy > 0 ? o->prescription_gy : p->rx_dose_gy;
    if (!(oc.prescription_gy > 0))
        return hm_error_set(err, HM_EVALIDATE, c->plan_path, 0,
                            "TargetPrescriptionDose (300A,0026)",
                            "the plan has no TARGET dose reference with a Target Prescription "
                            "Dose (300A,0026): give --prescription-gy");
    oc.age_years = isfinite(o->age_years) ? o->age_years
                   : age_between(c->birth_date, c->plan_date[0] ? c->plan_date : c->study_date);
    if (!(oc.age_years >= 0))
        return hm_error_set(err, HM_EVALIDATE, c->plan_path, 0, "PatientBirthDate (0010,0030)",
                            "no birth date and plan or study date in the files to give the age: "
                            "give --age-years");
    oc.sex = c->sex[0] == 'M' || c->sex[0] == 'F' ? c->sex[0] : 0;
    int troi;
    const char *page = hm_rt_oof_phantom_age(oc.age_years);
    char model_sex = oc.sex ? oc.sex                /* the rule of hm_rt_oof_organ_table */
                   : (!strcmp(page, "15y") || !strcmp(page, "adult")) ? 'M' : 'H';
    int rc = pick_target(o, p, ss, model_sex, c, &troi, err);
    if (rc)
        return rc;
    oc.target_organ = c->target_organ;
    memcpy(oc.target_offset_cm, c->target_offset_cm, sizeof oc.target_offset_cm);
    oc.target_side = c->target_side;
    /* The field: the sphere of the target ROI's volume, else the dose
     * grid's >= 50 % isodose. */
    if (troi >= 0)
        oc.target_radius_cm = hm_rt_oof_radius_cc(c->rois[troi].dvh.volume_cc);
    if (!(oc.target_radius_cm > 0)) {
        double centre[3];
        if ((rc = hm_rt_oof_field_from_grid(g, oc.prescription_gy, centre, &oc.target_radius_cm,
                                            err)))
            return rc;
    }
    hm_rt_oof_params *prm;
    if ((rc = hm_rt_oof_load(o->oof_params, &prm, err)))
        return rc;
    rc = hm_rt_oof_organ_table(prm, &oc, &c->wb, &c->nwb, err);
    hm_rt_oof_free(prm);
    if (rc)
        return rc;
    hm_rt_tps_organ *tps = calloc(c->nrois ? c->nrois : 1, sizeof *tps);
    if (!tps)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    int ntps = 0;
    for (size_t i = 0; i < c->nrois; i++)
        if (c->rois[i].ok && c->rois[i].kind == HM_RT_MAP_ORGAN)
            tps[ntps++] = (hm_rt_tps_organ){ c->rois[i].organ, c->rois[i].dvh.mean_gy };
    rc = hm_rt_oof_merge(c->wb, c->nwb, tps, ntps, oc.prescription_gy, o->tps_level, err);
    free(tps);
    if (rc < 0)
        return rc;
    c->prescription_gy = oc.prescription_gy;
    c->age_years = oc.age_years;
    return HM_OK;
}

/* ------------------------------------------------------------ one course */

static int dvhs(const hm_rt_course_options *o, const hm_rtdcm_struct *ss, const hm_rt_grid *g,
                hm_rt_course *c, hm_error *err)
{
    hm_rt_tg263 *map = NULL;
    char mpath[1024];
    int rc = hm_data_path("rt/tg263_map.csv", mpath, sizeof mpath, err);
    if (rc == HM_OK)
        rc = hm_rt_tg263_load(mpath, &map, err);
    if (rc)
        return rc;
    c->rois = calloc(ss->nrois ? ss->nrois : 1, sizeof *c->rois);
    if (!c->rois) {
        hm_rt_tg263_free(map);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    hm_rt_dvh_options opt;
    memset(&opt, 0, sizeof opt);
    opt.subsample = o->subsample;
    opt.interp = o->interp;
    for (size_t i = 0; rc == HM_OK && i < ss->nrois; i++) {
        hm_rt_course_roi *r = &c->rois[i];
        const hm_rtdcm_roi *src = &ss->rois[i];
        c->nrois = i + 1;
        r->number = src->number;
        snprintf(r->name, sizeof r->name, "%s", src->name);
        r->kind = hm_rt_map_roi(map, src->name, r->organ, sizeof r->organ, r->tg263,
                                sizeof r->tg263, err);
        if (r->kind < 0) {
            rc = r->kind;
            break;
        }
        hm_rt_roi *roi = NULL;
        hm_error e2;
        hm_error_clear(&e2);
        int rr = roi_of(src, &roi, r->centroid_mm, &e2);
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
            *err = e2;
            if (!err->file[0])
                snprintf(err->file, sizeof err->file, "%.*s", (int)sizeof err->file - 1,
                         c->struct_path);
            rc = rr;
        }
    }
    hm_rt_tg263_free(map);
    return rc;
}

/* The dose of a course: the first RT Dose that references the plan (the
 * header scan does not see the summation type: send the plan dose alone). */
static int course_of(const hm_rtdcm_group *g, const hm_rtdcm_object *objs, size_t n,
                     const hm_rt_course_options *o, hm_rt_course *c, hm_error *err)
{
    memset(c, 0, sizeof *c);
    c->age_years = NAN;
    c->technique = -1;
    if (!g->structure_set)
        return hm_error_set(err, HM_ENOTFOUND, g->plan->path, 0,
                            "ReferencedStructureSetSequence (300C,0060)",
                            "the plan's RT Structure Set is not among the files: add it");
    if (!g->ndoses)
        return hm_error_set(err, HM_ENOTFOUND, g->plan->path, 0,
                            "ReferencedRTPlanSequence (300C,0002)",
                            "no RT Dose references this plan: add the plan's dose file");
    int rc = same_patient(g, objs, n, err);
    if (rc)
        return rc;
    const hm_rtdcm_object *d = g->doses[0];
    snprintf(c->plan_path, sizeof c->plan_path, "%s", g->plan->path);
    snprintf(c->struct_path, sizeof c->struct_path, "%s", g->structure_set->path);
    snprintf(c->dose_path, sizeof c->dose_path, "%s", d->path);
    hm_rtdcm_plan plan;
    hm_rtdcm_struct ss;
    hm_rtdcm_dose dose;
    int have_plan = 0, have_ss = 0, have_dose = 0;
    hm_rt_grid *grid = NULL;
    if (!(rc = hm_rtdcm_plan_read_file(c->plan_path, &plan, err)))
        have_plan = 1;
    if (rc == HM_OK && !(rc = hm_rtdcm_struct_read_file(c->struct_path, &ss, err)))
        have_ss = 1;
    if (rc == HM_OK && !(rc = hm_rtdcm_dose_read_file(c->dose_path, &dose, err)))
        have_dose = 1;
    if (rc == HM_OK) {
        hm_rtdcm_plan_summarise(&plan);
        rc = hm_rtdcm_struct_validate(&ss, c->struct_path, 0.01, err);
    }
    if (rc == HM_OK)
        rc = hm_rtdcm_check_dose_struct(&dose, c->dose_path, &ss, c->struct_path, err);
    if (rc == HM_OK && strcmp(dose.dose_units, "GY"))
        rc = hm_error_set(err, HM_EVALIDATE, c->dose_path, 0, "DoseUnits (3004,0002)",
                          "'%s': expected GY (a RELATIVE dose has no absolute dose-volume "
                          "figures); export the dose in Gy", dose.dose_units);
    if (rc == HM_OK) {
        const hm_rtdcm_common *pc = &plan.c;
        snprintf(c->patient_id, sizeof c->patient_id, "%s", pc->patient_id);
        snprintf(c->birth_date, sizeof c->birth_date, "%s", pc->patient_birth_date);
        snprintf(c->sex, sizeof c->sex, "%s", pc->patient_sex);
        snprintf(c->study_date, sizeof c->study_date, "%s", pc->study_date);
        snprintf(c->plan_date, sizeof c->plan_date, "%s", plan.date);
        snprintf(c->plan_uid, sizeof c->plan_uid, "%s", pc->sop_instance_uid);
        snprintf(c->study_uid, sizeof c->study_uid, "%s", pc->study_uid);
        snprintf(c->struct_uid, sizeof c->struct_uid, "%s", ss.c.sop_instance_uid);
        snprintf(c->dose_uid, sizeof c->dose_uid, "%s", dose.c.sop_instance_uid);
        snprintf(c->ct_series_uid, sizeof c->ct_series_uid, "%s", ss.ref_ct_series_uid);
        snprintf(c->plan_label, sizeof c->plan_label, "%s", plan.label);
        for (int i = 0; i < plan.n_ref_plans && !c->predecessor_uid[0]; i++)
            if (!strcmp(plan.ref_plans[i].relationship, "PREDECESSOR")
                || !strcmp(plan.ref_plans[i].relationship, "REVISION"))
                snprintf(c->predecessor_uid, sizeof c->predecessor_uid, "%s",
                         plan.ref_plans[i].uid);
        summarise_beams(&plan, c);
        c->nbeams = (int)plan.nbeams;
        c->fractions = plan.fractions_planned;
        c->plan_rx_gy = plan.rx_dose_gy;
        c->nx = dose.cols;
        c->ny = dose.rows;
        c->nz = dose.nframes;
        snprintf(c->dose_type, sizeof c->dose_type, "%s", dose.dose_type);
        snprintf(c->summation_type, sizeof c->summation_type, "%s", dose.summation_type);
        rc = grid_of(&dose, c->dose_path, &grid, err);
    }
    if (rc == HM_OK)
        rc = dvhs(o, &ss, grid, c, err);
    if (rc == HM_OK && o->whole_body)
        rc = whole_body(o, &plan, &ss, grid, c, err);
    hm_rt_grid_free(grid);
    if (have_plan)
        hm_rtdcm_plan_free(&plan);
    if (have_ss)
        hm_rtdcm_struct_free(&ss);
    if (have_dose)
        hm_rtdcm_dose_free(&dose);
    if (rc)
        hm_rt_course_free(c);
    return rc;
}

void hm_rt_course_free(hm_rt_course *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nrois; i++)
        if (c->rois[i].ok)
            hm_rt_dvh_free(&c->rois[i].dvh);
    free(c->rois);
    free(c->wb);
    memset(c, 0, sizeof *c);
}

void hm_rt_course_free_all(hm_rt_course *courses, size_t n)
{
    for (size_t i = 0; courses && i < n; i++)
        hm_rt_course_free(&courses[i]);
    free(courses);
}

int hm_rt_course_read_all(const char *const *dirs, int ndirs, const hm_rt_course_options *o,
                          hm_rt_course **courses, size_t *ncourses, hm_error *err)
{
    *courses = NULL;
    *ncourses = 0;
    hm_rt_course_options def;
    if (!o) {
        hm_rt_course_options_init(&def);
        o = &def;
    }
    pool p = { 0 };
    int rc = HM_OK;
    for (int i = 0; rc == HM_OK && i < ndirs; i++)
        rc = pool_dir(&p, dirs[i], 0, err);
    hm_rtdcm_group *groups = NULL;
    size_t ngroups = 0;
    if (rc == HM_OK) {
        rc = hm_rtdcm_group_objects(p.v, p.n, &groups, &ngroups, err);
        if (rc == HM_EINVAL) {         /* no plan: name the folder */
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%.300s", err->msg);
            rc = hm_error_set(err, HM_EVALIDATE, ndirs ? dirs[0] : NULL, 0, "SOPClassUID (0008,0016)",
                              "%s: give the RT Plan of each course with its structure set and "
                              "dose", msg);
        }
    }
    hm_rt_course *v = rc == HM_OK ? calloc(ngroups ? ngroups : 1, sizeof *v) : NULL;
    if (rc == HM_OK && !v)
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    size_t n = 0;
    for (size_t g = 0; rc == HM_OK && g < ngroups; g++) {
        rc = course_of(&groups[g], p.v, p.n, o, &v[g], err);
        if (rc == HM_OK)
            n++;
    }
    free(groups);
    free(p.v);
    if (rc) {
        hm_rt_course_free_all(v, n);
        return rc;
    }
    *courses = v;
    *ncourses = n;
    return HM_OK;
}

int hm_rt_course_read(const char *dir, const hm_rt_course_options *o, hm_rt_course *c,
                      hm_error *err)
{
    memset(c, 0, sizeof *c);
    hm_rt_course *v;
    size_t n;
    int rc = hm_rt_course_read_all(&dir, 1, o, &v, &n, err);
    if (rc)
        return rc;
    if (n != 1) {
        hm_rt_course_free_all(v, n);
        return hm_error_set(err, HM_EINVAL, dir, 0, "RTPlan",
                            "%zu RT plans in the folder: give one course's files (one plan with "
                            "its structure set and dose)", n);
    }
    *c = v[0];
    free(v);
    return HM_OK;
}
