/*
 * slices.c — three orthogonal slices of a voxel phantom as PNG pictures
 * (cairo), coloured by region, for a physicist to look at.  Radiological
 * orientation: the patient's right on the image's left, anterior up in the
 * axial view, head up in the coronal and sagittal views.
 */
#include "hm_phantom.h"

#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hsv(double h, double s, double v)
{
    double r, g, b, f = h * 6 - floor(h * 6), p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
    switch ((int)floor(h * 6) % 6) {
    case 0: r = v; g = t; b = p; break;
    case 1: r = q; g = v; b = p; break;
    case 2: r = p; g = v; b = t; break;
    case 3: r = p; g = q; b = v; break;
    case 4: r = t; g = p; b = v; break;
    default: r = v; g = p; b = q; break;
    }
    return 0xff000000u | (uint32_t)(r * 255) << 16 | (uint32_t)(g * 255) << 8 | (uint32_t)(b * 255);
}

static uint32_t region_colour(const hm_voxel_phantom *v, int id)
{
    if (id <= 0 || id > v->nregions)
        return 0xff000000u;
    const hm_phantom_region *r = &v->regions[id];
    if (r->site[0])
        return 0xffeeeedd;                         /* bone */
    if (!strcmp(r->name, "skin"))
        return 0xff8b5a2b;
    if (!strncmp(r->name, "soft_tissue", 11))
        return 0xffd8a890;                         /* residual soft tissue */
    if (r->medium >= 0 && r->medium < v->nmedia && !strcmp(v->media[r->medium].name, "lung"))
        return 0xff3050a0;
    /* Other organs: hues spread by the golden ratio so neighbours differ. */
    return hsv(fmod(id * 0.618033988749895, 1.0), 0.75, 0.95);
}

static int write_one(const hm_voxel_phantom *v, int plane, int fixed, double px, const char *path,
                     hm_error *err)
{
    /* plane 0 axial (x, y), 1 coronal (x, z), 2 sagittal (y, z). */
    int nu = plane == 2 ? v->ny : v->nx, nv = plane == 0 ? v->ny : v->nz;
    double du = plane == 2 ? v->voxel_cm[1] : v->voxel_cm[0], dv = plane == 0 ? v->voxel_cm[1] : v->voxel_cm[2];
    int w = (int)ceil(nu * du * px), h = (int)ceil(nv * dv * px) + 16;   /* 16 px band on top */
    if (w < 1 || h < 1 || (double)w * h > 64e6)
        return hm_error_set(err, HM_EINVAL, path, 0, "px_per_cm", "image %d x %d out of range", w, h);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "cannot create the image");
    }
    cairo_surface_flush(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int j = 0; j < h - 16; j++) {
        uint32_t *row = (uint32_t *)(void *)(data + (size_t)stride * (size_t)(j + 16));
        int iv = (int)(j / (dv * px));
        if (plane != 0)
            iv = nv - 1 - iv;                         /* head up */
        for (int i = 0; i < w; i++) {
            int iu = (int)(i / (du * px));
            if (iu >= nu) iu = nu - 1;
            if (iv < 0 || iv >= nv) { row[i] = 0xff000000u; continue; }
            int x = plane == 2 ? fixed : iu, y = plane == 0 ? iv : plane == 1 ? fixed : iu,
                z = plane == 0 ? fixed : iv;
            row[i] = region_colour(v, v->ids[x + (size_t)v->nx * (y + (size_t)v->ny * z)]);
        }
    }
    /* A black band on top (no text: cairo's font machinery would pull in
     * fontconfig and its process-lifetime caches for a label). */
    for (int j = 0; j < 16 && j < h; j++)
        memset(data + (size_t)stride * (size_t)j, 0, (size_t)stride);
    cairo_surface_mark_dirty(s);
    cairo_status_t st = cairo_surface_write_to_png(s, path);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write PNG: %s", cairo_status_to_string(st));
    return HM_OK;
}

int hm_voxel_phantom_write_slices(const hm_voxel_phantom *v, const double c[3], double px_per_cm,
                                  const char *prefix, hm_error *err)
{
    if (!(px_per_cm > 0 && px_per_cm <= 100))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "px_per_cm", "expected 0 < px_per_cm <= 100");
    int idx[3], dims[3] = { v->nx, v->ny, v->nz };
    for (int d = 0; d < 3; d++) {
        idx[d] = (int)floor((c[d] - v->origin_cm[d]) / v->voxel_cm[d]);
        if (idx[d] < 0) idx[d] = 0;
        if (idx[d] >= dims[d]) idx[d] = dims[d] - 1;
    }
    static const char *names[3] = { "axial", "coronal", "sagittal" };
    static const int fixed_axis[3] = { 2, 1, 0 };
    for (int pl = 0; pl < 3; pl++) {
        char path[1024];
        int a = fixed_axis[pl];
        snprintf(path, sizeof path, "%s_%s.png", prefix, names[pl]);
        int rc = write_one(v, pl, idx[a], px_per_cm, path, err);
        if (rc)
            return rc;
    }
    return HM_OK;
}
