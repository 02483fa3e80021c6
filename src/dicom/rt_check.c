/*
 * rt_check.c — rules across RT objects and on contour geometry, each
 * failure a one-line message naming the file, the element (keyword and tag)
 * and what to do:
 *   - closed planar contours (PS3.3 C.8.8.6.1: "a polygon ... in a plane")
 *     need >= 3 distinct points, all at the slice's z (axial sets), and must
 *     not cross themselves (O(n^2) edge test, enough for the few hundred
 *     points a TPS contour has);
 *   - the dose grid and the structure set share a Frame of Reference UID;
 *   - objects of a folder are grouped by their references (plan -> structure
 *     set via Referenced Structure Set Sequence, dose -> plan via Referenced
 *     RT Plan Sequence, structure set -> CT series via RT Referenced Series
 *     Sequence), and whatever is referenced but absent is reported.
 */
#include "hm_rtdicom.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Orientation of (a, b, c): > 0 counter-clockwise, < 0 clockwise, 0 collinear
 * (within eps, relative to the segment lengths involved). */
static int orient(const double *a, const double *b, const double *c, double eps)
{
    double v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    return v > eps ? 1 : v < -eps ? -1 : 0;
}

static int on_segment(const double *a, const double *b, const double *p)
{
    return fmin(a[0], b[0]) <= p[0] && p[0] <= fmax(a[0], b[0]) && fmin(a[1], b[1]) <= p[1]
           && p[1] <= fmax(a[1], b[1]);
}

/* Segments ab and cd intersect or touch (standard orientation test,
 * Cormen et al., Introduction to Algorithms, 3rd ed., §33.1). */
static int segments_meet(const double *a, const double *b, const double *c, const double *d)
{
    double eps = 1e-9;
    int o1 = orient(a, b, c, eps), o2 = orient(a, b, d, eps);
    int o3 = orient(c, d, a, eps), o4 = orient(c, d, b, eps);
    if (o1 * o2 < 0 && o3 * o4 < 0)
        return 1;
    return (o1 == 0 && on_segment(a, b, c)) || (o2 == 0 && on_segment(a, b, d))
           || (o3 == 0 && on_segment(c, d, a)) || (o4 == 0 && on_segment(c, d, b));
}

/* Distinct consecutive points of a closed contour (a repeated closing
 * point, as some systems write, is dropped), xy only. */
static size_t distinct_xy(const hm_rtdcm_contour *c, double *xy)
{
    size_t n = 0;
    for (size_t i = 0; i < c->npoints; i++) {
        const double *p = &c->xyz_mm[3 * i];
        if (n && p[0] == xy[2 * (n - 1)] && p[1] == xy[2 * (n - 1) + 1])
            continue;
        xy[2 * n] = p[0];
        xy[2 * n + 1] = p[1];
        n++;
    }
    while (n > 1 && xy[0] == xy[2 * (n - 1)] && xy[1] == xy[2 * (n - 1) + 1])
        n--;
    return n;
}

/* First pair of non-adjacent edges that meet, or 0. */
static int self_intersects(const double *xy, size_t n, size_t *ei, size_t *ej)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 2; j < n; j++) {
            if (i == 0 && j == n - 1)
                continue;            /* adjacent through the closing edge */
            const double *a = &xy[2 * i], *b = &xy[2 * ((i + 1) % n)];
            const double *c = &xy[2 * j], *d = &xy[2 * ((j + 1) % n)];
            if (segments_meet(a, b, c, d)) {
                *ei = i;
                *ej = j;
                return 1;
            }
        }
    return 0;
}

int hm_rtdcm_struct_validate(const hm_rtdcm_struct *ss, const char *name, double tol_mm,
                             hm_error *err)
{
    const char *cd = "ContourData (3006,0050)";
    for (size_t r = 0; r < ss->nrois; r++) {
        const hm_rtdcm_roi *roi = &ss->rois[r];
        for (size_t k = 0; k < roi->ncontours; k++) {
            const hm_rtdcm_contour *c = &roi->contours[k];
            int closed = !strcmp(c->geometric_type, "CLOSED_PLANAR");
            int planar = closed || !strcmp(c->geometric_type, "OPEN_PLANAR");
            if (c->npoints == 0)
                return hm_error_set(err, HM_EVALIDATE, name, 0, cd,
                                    "%s: ROI %d '%s' contour %zu is empty; delete it or "
                                    "recontour the ROI", cd, roi->number, roi->name, k + 1);
            double z0 = c->xyz_mm[2], zmin = z0, zmax = z0;
            for (size_t i = 1; i < c->npoints; i++) {
                zmin = fmin(zmin, c->xyz_mm[3 * i + 2]);
                zmax = fmax(zmax, c->xyz_mm[3 * i + 2]);
            }
            if (planar && zmax - zmin > tol_mm)
                return hm_error_set(err, HM_EVALIDATE, name, 0, cd,
                                    "%s: ROI %d '%s' contour %zu is not on one axial slice "
                                    "(z from %.3f to %.3f mm); recontour it slice by slice",
                                    cd, roi->number, roi->name, k + 1, zmin, zmax);
            if (!closed)
                continue;
            double *xy = malloc(2 * c->npoints * sizeof *xy);
            if (!xy)
                return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "out of memory");
            size_t n = distinct_xy(c, xy), ei = 0, ej = 0;
            int bad = n >= 3 && self_intersects(xy, n, &ei, &ej);
            free(xy);
            if (n < 3)
                return hm_error_set(err, HM_EVALIDATE, name, 0, cd,
                                    "%s: ROI %d '%s' contour %zu on slice z=%.3f mm has %zu "
                                    "distinct points, a closed planar contour needs at least 3; "
                                    "delete or recontour it", cd, roi->number, roi->name,
                                    k + 1, z0, n);
            if (bad)
                return hm_error_set(err, HM_EVALIDATE, name, 0, cd,
                                    "%s: ROI %d '%s' contour %zu on slice z=%.3f mm crosses "
                                    "itself (edges %zu and %zu); fix the contour in the "
                                    "planning system", cd, roi->number, roi->name, k + 1, z0,
                                    ei + 1, ej + 1);
        }
    }
    return 0;
}

int hm_rtdcm_check_dose_struct(const hm_rtdcm_dose *dose, const char *dose_name,
                               const hm_rtdcm_struct *ss, const char *ss_name, hm_error *err)
{
    const char *f = "FrameOfReferenceUID (0020,0052)";
    if (!dose->c.frame_of_reference_uid[0])
        return hm_error_set(err, HM_EVALIDATE, dose_name, 0, f,
                            "%s: the RT Dose has no frame of reference; re-export it", f);
    if (strcmp(dose->c.frame_of_reference_uid, ss->c.frame_of_reference_uid) != 0)
        return hm_error_set(err, HM_EVALIDATE, dose_name, 0, f,
                            "%s: dose grid frame of reference %s differs from %s of the "
                            "structure set %s (ReferencedFrameOfReferenceSequence (3006,0010)); "
                            "export dose and structures of the same plan and image set",
                            f, dose->c.frame_of_reference_uid, ss->c.frame_of_reference_uid,
                            ss_name);
    for (size_t r = 0; r < ss->nrois; r++) {
        const char *u = ss->rois[r].frame_of_reference_uid;
        if (u[0] && strcmp(u, dose->c.frame_of_reference_uid) != 0)
            return hm_error_set(err, HM_EVALIDATE, ss_name, 0,
                                "ReferencedFrameOfReferenceUID (3006,0024)",
                                "ReferencedFrameOfReferenceUID (3006,0024): ROI %d '%s' is on "
                                "frame of reference %s, the dose grid %s (%s) on %s",
                                ss->rois[r].number, ss->rois[r].name, u, dose_name, f,
                                dose->c.frame_of_reference_uid);
    }
    return 0;
}

static void add_missing(hm_rtdcm_group *g, int *first, hm_error *err, const char *file,
                        const char *field, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void add_missing(hm_rtdcm_group *g, int *first, hm_error *err, const char *file,
                        const char *field, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t used = strlen(g->missing);
    snprintf(g->missing + used, sizeof g->missing - used, "%s%s", used ? "\n" : "", line);
    if (*first) {
        hm_error_set(err, HM_ENOTFOUND, file, 0, field, "%s", line);
        *first = 0;
    }
}

int hm_rtdcm_group_objects(const hm_rtdcm_object *objs, size_t n, hm_rtdcm_group **groups,
                           size_t *ngroups, hm_error *err)
{
    *groups = NULL;
    *ngroups = 0;
    size_t nplans = 0;
    for (size_t i = 0; i < n; i++)
        nplans += objs[i].kind == HM_RTDCM_PLAN || objs[i].kind == HM_RTDCM_ION_PLAN;
    if (nplans == 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL,
                            "no RT Plan among %zu files: a course starts from its plan", n);
    hm_rtdcm_group *g = calloc(nplans, sizeof *g);
    if (!g)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    int first = 1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const hm_rtdcm_object *p = &objs[i];
        if (p->kind != HM_RTDCM_PLAN && p->kind != HM_RTDCM_ION_PLAN)
            continue;
        hm_rtdcm_group *cur = &g[k++];
        cur->plan = p;
        for (size_t j = 0; j < n; j++) {
            if (objs[j].kind == HM_RTDCM_STRUCT && p->ref_struct_uid[0]
                && !strcmp(objs[j].c.sop_instance_uid, p->ref_struct_uid))
                cur->structure_set = &objs[j];
            if (objs[j].kind == HM_RTDCM_DOSE && cur->ndoses < HM_RTDCM_MAX_REFS
                && !strcmp(objs[j].ref_plan_uid, p->c.sop_instance_uid))
                cur->doses[cur->ndoses++] = &objs[j];
        }
        if (!p->ref_struct_uid[0])
            add_missing(cur, &first, err, p->path, "ReferencedStructureSetSequence (300C,0060)",
                        "%s: the RT Plan references no RT Structure Set "
                        "(ReferencedStructureSetSequence (300C,0060)); export the plan with "
                        "its structure set", p->path);
        else if (!cur->structure_set)
            add_missing(cur, &first, err, p->path, "ReferencedStructureSetSequence (300C,0060)",
                        "%s: the RT Structure Set %s it references (ReferencedStructureSetSequence "
                        "(300C,0060)) is not among the files; add it", p->path, p->ref_struct_uid);
        if (cur->ndoses == 0)
            add_missing(cur, &first, err, p->path, "ReferencedRTPlanSequence (300C,0002)",
                        "%s: no RT Dose references this plan (ReferencedRTPlanSequence "
                        "(300C,0002) = %s); add the plan's dose", p->path, p->c.sop_instance_uid);
        const hm_rtdcm_object *s = cur->structure_set;
        if (s) {
            for (size_t j = 0; j < n; j++)
                cur->n_ct += objs[j].kind == HM_RTDCM_CT && s->ref_ct_series_uid[0]
                             && !strcmp(objs[j].c.series_uid, s->ref_ct_series_uid);
            if (s->ref_ct_series_uid[0] && cur->n_ct == 0)
                add_missing(cur, &first, err, s->path, "RTReferencedSeriesSequence (3006,0014)",
                            "%s: no image of the CT series %s it references "
                            "(RTReferencedSeriesSequence (3006,0014)) is among the files; add "
                            "the planning CT", s->path, s->ref_ct_series_uid);
        }
    }
    /* Doses whose plan is absent belong to no course. */
    for (size_t j = 0; j < n; j++) {
        if (objs[j].kind != HM_RTDCM_DOSE)
            continue;
        int found = 0;
        for (size_t q = 0; q < nplans; q++)
            found |= !strcmp(objs[j].ref_plan_uid, g[q].plan->c.sop_instance_uid);
        if (!found)
            add_missing(&g[0], &first, err, objs[j].path, "ReferencedRTPlanSequence (300C,0002)",
                        "%s: the RT Plan %s this dose references (ReferencedRTPlanSequence "
                        "(300C,0002)) is not among the files; add it", objs[j].path,
                        objs[j].ref_plan_uid[0] ? objs[j].ref_plan_uid : "(none)");
    }
    *groups = g;
    *ngroups = nplans;
    return first ? 0 : HM_ENOTFOUND;
}
