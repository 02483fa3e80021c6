/*
 * rt_ct.c — the folder side of RT input: listing a folder's files, reading
 * the geometry of a CT series (PS3.3 C.7.6.2 Image Plane: position of the
 * first voxel, row/column direction cosines, pixel spacing) and writing
 * one, and reading what each file is (hm_rtdcm_scan_dir).
 */
#include "hm_rtdicom.h"
#include "rt_int.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Regular files of dir, full paths, sorted by name. */
static int list_dir(const char *dir, char ***out, size_t *nout, hm_error *err)
{
    *out = NULL;
    *nout = 0;
    DIR *d = opendir(dir);
    if (!d)
        return hm_error_set(err, HM_EIO, dir, 0, NULL, "cannot open folder: %s", strerror(errno));
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p) {
            rc = hm_error_set(err, HM_ENOMEM, dir, 0, NULL, "out of memory");
            break;
        }
        snprintf(p, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(p);
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(p);
                rc = hm_error_set(err, HM_ENOMEM, dir, 0, NULL, "out of memory");
                break;
            }
            v = nv;
        }
        v[n++] = p;
    }
    closedir(d);
    if (rc) {
        free_list(v, n);
        return rc;
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    *nout = n;
    return 0;
}

void hm_rtdcm_ct_free(hm_rtdcm_ct *ct)
{
    if (!ct)
        return;
    free(ct->slices);
    memset(ct, 0, sizeof *ct);
}

/* A slice with its position along the slice normal, for sorting without
 * global state (qsort passes no context). */
typedef struct keyed_slice {
    double            pos_mm;
    hm_rtdcm_ct_slice s;
} keyed_slice;

static int cmp_keyed(const void *a, const void *b)
{
    double da = ((const keyed_slice *)a)->pos_mm, db = ((const keyed_slice *)b)->pos_mm;
    return da < db ? -1 : da > db;
}

static int same6(const double *a, const double *b, int n)
{
    for (int i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > 1e-4)
            return 0;
    return 1;
}

int hm_rtdcm_ct_read_dir(const char *dir, const char *series_uid, hm_rtdcm_ct *ct,
                         hm_error *err)
{
    memset(ct, 0, sizeof *ct);
    char **files;
    size_t nfiles;
    int rc = list_dir(dir, &files, &nfiles, err);
    if (rc)
        return rc;
    ct->slices = calloc(nfiles ? nfiles : 1, sizeof *ct->slices);
    if (!ct->slices) {
        free_list(files, nfiles);
        return hm_error_set(err, HM_ENOMEM, dir, 0, NULL, "out of memory");
    }
    for (size_t i = 0; i < nfiles && rc == 0; i++) {
        hm_rtdcm_common c;
        hm_rtdcm_ct_slice s;
        double iop[6], sp[2], th;
        int rows, cols;
        hm_error e2;
        int r = hm_rtdcm__ct_image_read(files[i], &c, &s, iop, sp, &th, &rows, &cols, &e2);
        if (r == HM_EUNSUPPORTED || r == HM_EPARSE)
            continue;                        /* not a CT image: another object of the course */
        if (r) {
            *err = e2;
            rc = r;
            break;
        }
        if (series_uid && strcmp(c.series_uid, series_uid) != 0)
            continue;
        if (ct->nslices == 0) {
            ct->c = c;
            memcpy(ct->iop, iop, sizeof ct->iop);
            memcpy(ct->spacing_mm, sp, sizeof ct->spacing_mm);
            ct->slice_thickness_mm = th;
            ct->rows = rows;
            ct->cols = cols;
        } else if (strcmp(c.series_uid, ct->c.series_uid) != 0) {
            rc = hm_error_set(err, HM_EINVAL, files[i], 0, "SeriesInstanceUID (0020,000E)",
                              "SeriesInstanceUID (0020,000E): the folder holds CT series %s and "
                              "%s; name the one the structure set references", ct->c.series_uid,
                              c.series_uid);
        } else if (!same6(iop, ct->iop, 6) || !same6(sp, ct->spacing_mm, 2) || rows != ct->rows
                   || cols != ct->cols) {
            rc = hm_error_set(err, HM_EVALIDATE, files[i], 0,
                              "ImageOrientationPatient (0020,0037)",
                              "ImageOrientationPatient (0020,0037) / PixelSpacing (0028,0030) / "
                              "Rows, Columns differ from the series' first slice: not one volume");
        } else if (strcmp(c.frame_of_reference_uid, ct->c.frame_of_reference_uid) != 0) {
            rc = hm_error_set(err, HM_EVALIDATE, files[i], 0, "FrameOfReferenceUID (0020,0052)",
                              "FrameOfReferenceUID (0020,0052) %s differs from the series' %s",
                              c.frame_of_reference_uid, ct->c.frame_of_reference_uid);
        }
        if (rc == 0)
            ct->slices[ct->nslices++] = s;
    }
    free_list(files, nfiles);
    if (rc == 0 && ct->nslices == 0)
        rc = hm_error_set(err, HM_ENOTFOUND, dir, 0, NULL, "no CT image%s%s in the folder",
                          series_uid ? " of series " : "", series_uid ? series_uid : "");
    if (rc == 0) {
        /* Slice normal = row cosines x column cosines (C.7.6.2.1.1). */
        const double *r = ct->iop, *c = ct->iop + 3;
        double nrm[3] = { r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2],
                          r[0] * c[1] - r[1] * c[0] };
        keyed_slice *k = malloc(ct->nslices * sizeof *k);
        if (!k)
            rc = hm_error_set(err, HM_ENOMEM, dir, 0, NULL, "out of memory");
        for (size_t i = 0; k && i < ct->nslices; i++) {
            const double *p = ct->slices[i].ipp_mm;
            k[i].pos_mm = p[0] * nrm[0] + p[1] * nrm[1] + p[2] * nrm[2];
            k[i].s = ct->slices[i];
        }
        if (k)
            qsort(k, ct->nslices, sizeof *k, cmp_keyed);
        for (size_t i = 0; k && i < ct->nslices; i++) {
            ct->slices[i] = k[i].s;
            if (i && rc == 0 && fabs(k[i].pos_mm - k[i - 1].pos_mm) < 1e-3)
                rc = hm_error_set(err, HM_EVALIDATE, dir, 0, "ImagePositionPatient (0020,0032)",
                                  "ImagePositionPatient (0020,0032): images %s and %s are at "
                                  "the same position; remove the duplicate",
                                  k[i - 1].s.sop_instance_uid, k[i].s.sop_instance_uid);
        }
        free(k);
    }
    if (rc)
        hm_rtdcm_ct_free(ct);
    return rc;
}

int hm_rtdcm_ct_write(const char *dir, hm_rtdcm_ct *ct, const int16_t *hu, hm_error *err)
{
    if (ct->nslices == 0 || ct->rows < 1 || ct->cols < 1)
        return hm_error_set(err, HM_EINVAL, dir, 0, "nslices", "empty CT series");
    if (!ct->c.study_uid[0])
        hm_rtdcm__new_uid(ct->c.study_uid);
    if (!ct->c.series_uid[0])
        hm_rtdcm__new_uid(ct->c.series_uid);
    if (!ct->c.frame_of_reference_uid[0])
        hm_rtdcm__new_uid(ct->c.frame_of_reference_uid);
    size_t per = (size_t)ct->rows * (size_t)ct->cols;
    for (size_t k = 0; k < ct->nslices; k++) {
        if (!ct->slices[k].sop_instance_uid[0])
            hm_rtdcm__new_uid(ct->slices[k].sop_instance_uid);
        if (ct->slices[k].instance_number == 0)
            ct->slices[k].instance_number = (int)k + 1;
        char path[4096];
        snprintf(path, sizeof path, "%s/CT_%04zu.dcm", dir, k + 1);
        int rc = hm_rtdcm__ct_image_write(path, ct, k, hu ? hu + k * per : NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}

int hm_rtdcm_scan_dir(const char *dir, hm_rtdcm_object **objs, size_t *nobjs, hm_error *err)
{
    *objs = NULL;
    *nobjs = 0;
    char **files;
    size_t n;
    int rc = list_dir(dir, &files, &n, err);
    if (rc)
        return rc;
    hm_rtdcm_object *o = calloc(n ? n : 1, sizeof *o);
    if (!o) {
        free_list(files, n);
        return hm_error_set(err, HM_ENOMEM, dir, 0, NULL, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        hm_error e2;
        int r = hm_rtdcm_object_read_file(files[i], &o[i], &e2);
        if (r == HM_EPARSE) {
            memset(&o[i], 0, sizeof o[i]);      /* not DICOM: kept as OTHER */
            snprintf(o[i].path, sizeof o[i].path, "%s", files[i]);
        } else if (r) {
            *err = e2;
            free(o);
            free_list(files, n);
            return r;
        }
    }
    free_list(files, n);
    *objs = o;
    *nobjs = n;
    return 0;
}
