/*
 * scene_json.c — loading a scene from a JSON file (schema in docs/mc.md).
 * Errors name the file, the JSON line where jansson can tell it, and the
 * field as a path such as "solids[2].half_cm".
 */
#include "mc_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xraylib/xraylib.h>

typedef struct ld {
    const char  *path;
    char         dir[512];
    hm_mc_scene *s;
    hm_error    *err;
} ld;

static int fail(ld *L, int code, const char *field, const char *fmt, const char *detail)
{
    char msg[400];
    snprintf(msg, sizeof msg, fmt, detail ? detail : "");
    return hm_error_set(L->err, code, L->path, 0, field, "%s", msg);
}

static int get_num(ld *L, json_t *o, const char *key, const char *ctx, int required, double *out)
{
    json_t *v = json_object_get(o, key);
    char field[128];
    snprintf(field, sizeof field, "%s.%s", ctx, key);
    if (!v) {
        if (required) return fail(L, HM_EVALIDATE, field, "missing number%s", NULL);
        return 1;
    }
    if (!json_is_number(v)) return fail(L, HM_EVALIDATE, field, "expected a number%s", NULL);
    *out = json_number_value(v);
    if (!isfinite(*out)) return fail(L, HM_EVALIDATE, field, "expected a finite number%s", NULL);
    return 0;
}

static int get_vec(ld *L, json_t *o, const char *key, const char *ctx, int required, double out[],
                   int n)
{
    json_t *v = json_object_get(o, key);
    char field[128];
    snprintf(field, sizeof field, "%s.%s", ctx, key);
    if (!v) {
        if (required) return fail(L, HM_EVALIDATE, field, "missing array of numbers%s", NULL);
        return 1;
    }
    if (!json_is_array(v) || (int)json_array_size(v) != n) {
        char d[32];
        snprintf(d, sizeof d, "%d", n);
        return fail(L, HM_EVALIDATE, field, "expected an array of %s numbers", d);
    }
    for (int i = 0; i < n; i++) {
        json_t *x = json_array_get(v, i);
        if (!json_is_number(x) || !isfinite(json_number_value(x)))
            return fail(L, HM_EVALIDATE, field, "expected finite numbers%s", NULL);
        out[i] = json_number_value(x);
    }
    return 0;
}

static int get_material(ld *L, json_t *o, const char *ctx, int *out)
{
    json_t *v = json_object_get(o, "material");
    char field[128];
    snprintf(field, sizeof field, "%s.material", ctx);
    if (!json_is_string(v)) return fail(L, HM_EVALIDATE, field, "expected a material name%s", NULL);
    int m = hm_mc_find_material(L->s, json_string_value(v));
    if (m == HM_ENOTFOUND)
        return fail(L, HM_EVALIDATE, field, "material '%s' is not listed in \"materials\"",
                    json_string_value(v));
    *out = m;
    return 0;
}

static void resolve(ld *L, const char *name, char *buf, size_t size)
{
    if (name[0] == '/') { snprintf(buf, size, "%s", name); return; }
    snprintf(buf, size, "%s/%s", L->dir, name);
    FILE *f = fopen(buf, "rb");
    if (f) { fclose(f); return; }
    if (hm_data_path(name, buf, size, NULL) == 0) return;
    snprintf(buf, size, "%s/%s", L->dir, name);
}

static int load_materials(ld *L, json_t *root)
{
    json_t *a = json_object_get(root, "materials");
    if (!json_is_array(a) || json_array_size(a) == 0)
        return fail(L, HM_EVALIDATE, "materials", "expected a non-empty array%s", NULL);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *m = json_array_get(a, i);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "materials[%zu]", i);
        json_t *nm = json_object_get(m, "name");
        if (!json_is_string(nm)) return fail(L, HM_EVALIDATE, ctx, "expected \"name\"%s", NULL);
        double dens = 0;
        int rc = get_num(L, m, "density_g_cm3", ctx, 0, &dens);
        if (rc < 0) return rc;
        json_t *el = json_object_get(m, "elements");
        if (el) {
            if (!json_is_object(el) || json_object_size(el) == 0 || json_object_size(el) > MC_MAXEL)
                return fail(L, HM_EVALIDATE, ctx, "\"elements\" must map 1..16 symbols to mass fractions%s", NULL);
            int z[MC_MAXEL];
            double w[MC_MAXEL];
            size_t n = 0;
            const char *key;
            json_t *val;
            json_object_foreach(el, key, val) {
                int zz = SymbolToAtomicNumber(key, NULL);
                if (zz <= 0) zz = atoi(key);
                if (zz <= 0 || !json_is_number(val))
                    return fail(L, HM_EVALIDATE, ctx, "bad element '%s' (symbol or Z with a mass fraction)", key);
                z[n] = zz;
                w[n] = json_number_value(val);
                n++;
            }
            rc = hm_mc_add_material_composition(L->s, json_string_value(nm), dens, n, z, w, L->err);
        } else {
            rc = hm_mc_add_material(L->s, json_string_value(nm), dens, L->err);
        }
        if (rc < 0) {
            if (L->err) {
                snprintf(L->err->file, sizeof L->err->file, "%.255s", L->path);
                snprintf(L->err->field, sizeof L->err->field, "%s", ctx);
            }
            return rc;
        }
    }
    return 0;
}

static int load_region_name(ld *L, json_t *o, int region)
{
    json_t *nm = json_object_get(o, "name");
    if (json_is_string(nm)) return hm_mc_set_region_name(L->s, region, json_string_value(nm), L->err);
    return 0;
}

static int load_solids(ld *L, json_t *root)
{
    json_t *a = json_object_get(root, "solids");
    if (!a) return 0;
    if (!json_is_array(a)) return fail(L, HM_EVALIDATE, "solids", "expected an array%s", NULL);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *o = json_array_get(a, i);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "solids[%zu]", i);
        hm_mc_solid so;
        memset(&so, 0, sizeof so);
        const char *type = json_string_value(json_object_get(o, "type"));
        if (!type) return fail(L, HM_EVALIDATE, ctx, "expected \"type\": box, cylinder or ellipsoid%s", NULL);
        if (!strcmp(type, "box")) so.kind = HM_MC_BOX;
        else if (!strcmp(type, "cylinder")) so.kind = HM_MC_CYLINDER;
        else if (!strcmp(type, "ellipsoid")) so.kind = HM_MC_ELLIPSOID;
        else return fail(L, HM_EVALIDATE, ctx, "unknown solid type '%s'", type);
        int rc;
        if ((rc = get_vec(L, o, "center_cm", ctx, 1, so.center_cm, 3)) < 0) return rc;
        if ((rc = get_vec(L, o, "half_cm", ctx, 1, so.half_cm, 3)) < 0) return rc;
        if ((rc = get_material(L, o, ctx, &so.material)) < 0) return rc;
        double reg = 0;
        if ((rc = get_num(L, o, "region", ctx, 1, &reg)) < 0) return rc;
        so.region = (int)reg;
        if (so.kind == HM_MC_CYLINDER) {
            const char *ax = json_string_value(json_object_get(o, "axis"));
            if (!ax || strlen(ax) != 1 || ax[0] < 'x' || ax[0] > 'z')
                return fail(L, HM_EVALIDATE, ctx, "cylinder needs \"axis\": \"x\", \"y\" or \"z\"%s", NULL);
            so.axis = ax[0] - 'x';
        }
        if ((rc = hm_mc_add_solid(L->s, &so, L->err)) < 0) goto bad;
        if ((rc = load_region_name(L, o, so.region)) < 0) goto bad;
        continue;
    bad:
        if (L->err) {
            snprintf(L->err->file, sizeof L->err->file, "%.255s", L->path);
            snprintf(L->err->field, sizeof L->err->field, "%s", ctx);
        }
        return rc;
    }
    return 0;
}

static int load_scoreboxes(ld *L, json_t *root)
{
    json_t *a = json_object_get(root, "score_boxes");
    if (!a) return 0;
    if (!json_is_array(a)) return fail(L, HM_EVALIDATE, "score_boxes", "expected an array%s", NULL);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *o = json_array_get(a, i);
        char ctx[64];
        snprintf(ctx, sizeof ctx, "score_boxes[%zu]", i);
        double c[3], h[3], lo[3], hi[3], reg;
        int rc;
        if ((rc = get_vec(L, o, "center_cm", ctx, 1, c, 3)) < 0) return rc;
        if ((rc = get_vec(L, o, "half_cm", ctx, 1, h, 3)) < 0) return rc;
        if ((rc = get_num(L, o, "region", ctx, 1, &reg)) < 0) return rc;
        for (int k = 0; k < 3; k++) { lo[k] = c[k] - h[k]; hi[k] = c[k] + h[k]; }
        if ((rc = hm_mc_add_score_box(L->s, lo, hi, (int)reg, L->err)) < 0 ||
            (rc = load_region_name(L, o, (int)reg)) < 0) {
            if (L->err) {
                snprintf(L->err->file, sizeof L->err->file, "%.255s", L->path);
                snprintf(L->err->field, sizeof L->err->field, "%s", ctx);
            }
            return rc;
        }
    }
    return 0;
}

/* "voxels": {"dims": [nx,ny,nz], "voxel_cm": [...], "origin_cm": [...],
 *  "file": "ids.raw", "bytes": 1|2, "materials": ["air", ...], "region_file": optional
 *  (uint16), "region": default, "score": bool} */
static int load_voxels(ld *L, json_t *root)
{
    json_t *o = json_object_get(root, "voxels");
    if (!o) return 0;
    const char *ctx = "voxels";
    double dims[3], vs[3], org[3], bytes = 1, reg = 1;
    int rc;
    if ((rc = get_vec(L, o, "dims", ctx, 1, dims, 3)) < 0) return rc;
    if ((rc = get_vec(L, o, "voxel_cm", ctx, 1, vs, 3)) < 0) return rc;
    if ((rc = get_vec(L, o, "origin_cm", ctx, 1, org, 3)) < 0) return rc;
    if ((rc = get_num(L, o, "bytes", ctx, 0, &bytes)) < 0) return rc;
    if ((rc = get_num(L, o, "region", ctx, 0, &reg)) < 0) return rc;
    for (int k = 0; k < 3; k++)
        if (!(dims[k] >= 1 && dims[k] <= 4096))
            return fail(L, HM_EVALIDATE, "voxels.dims", "dimensions must be 1..4096%s", NULL);
    if (bytes != 1 && bytes != 2)
        return fail(L, HM_EVALIDATE, "voxels.bytes", "expected 1 or 2%s", NULL);
    json_t *mats = json_object_get(o, "materials");
    if (!json_is_array(mats) || json_array_size(mats) == 0)
        return fail(L, HM_EVALIDATE, "voxels.materials", "expected an array of material names%s", NULL);
    size_t nm = json_array_size(mats);
    int *map = malloc(nm * sizeof(int));
    size_t n = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2];
    void *ids = malloc(n * (size_t)bytes);
    uint16_t *regions = NULL;
    if (!map || !ids) { free(map); free(ids); return hm_error_set(L->err, HM_ENOMEM, L->path, 0, NULL, "out of memory"); }
    for (size_t i = 0; i < nm; i++) {
        const char *name = json_string_value(json_array_get(mats, i));
        int m = name ? hm_mc_find_material(L->s, name) : HM_ENOTFOUND;
        if (m == HM_ENOTFOUND) {
            free(map); free(ids);
            return fail(L, HM_EVALIDATE, "voxels.materials", "'%s' is not listed in \"materials\"",
                        name ? name : "(not a string)");
        }
        map[i] = m;
    }
    char path[1024];
    const char *fname = json_string_value(json_object_get(o, "file"));
    if (!fname) { free(map); free(ids); return fail(L, HM_EVALIDATE, "voxels.file", "expected a file name%s", NULL); }
    resolve(L, fname, path, sizeof path);
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(ids, (size_t)bytes, n, f) : 0;
    int extra = f ? fgetc(f) != EOF : 0;
    if (f) fclose(f);
    if (got != n || extra) {
        free(map); free(ids);
        return hm_error_set(L->err, f ? HM_EVALIDATE : HM_EIO, path, 0, "voxels.file",
                            f ? "expected exactly %zu voxels of %d byte(s)" : "cannot read file (%zu voxels)",
                            n, (int)bytes);
    }
    const char *rname = json_string_value(json_object_get(o, "region_file"));
    if (rname) {
        resolve(L, rname, path, sizeof path);
        regions = malloc(n * sizeof(uint16_t));
        f = fopen(path, "rb");
        got = (f && regions) ? fread(regions, 2, n, f) : 0;
        extra = f ? fgetc(f) != EOF : 0;
        if (f) fclose(f);
        if (got != n || extra) {
            free(map); free(ids); free(regions);
            return hm_error_set(L->err, HM_EVALIDATE, path, 0, "voxels.region_file",
                                "expected exactly %zu uint16 region ids", n);
        }
    }
    hm_mc_voxels v;
    memset(&v, 0, sizeof v);
    v.nx = (int)dims[0]; v.ny = (int)dims[1]; v.nz = (int)dims[2];
    memcpy(v.voxel_cm, vs, sizeof vs);
    memcpy(v.origin_cm, org, sizeof org);
    if (bytes == 1) v.mat8 = ids; else v.mat16 = ids;
    v.material_map = map;
    v.nmaterial_map = (int)nm;
    v.region = regions;
    v.region_default = (int)reg;
    v.score_voxels = json_is_true(json_object_get(o, "score"));
    rc = hm_mc_add_voxels(L->s, &v, L->err);
    free(map); free(ids); free(regions);
    if (rc < 0 && L->err) snprintf(L->err->file, sizeof L->err->file, "%.255s", L->path);
    return rc < 0 ? rc : load_region_name(L, o, (int)reg);
}

static int load_source(ld *L, json_t *root)
{
    json_t *o = json_object_get(root, "source");
    const char *ctx = "source";
    if (!json_is_object(o)) return fail(L, HM_EVALIDATE, ctx, "expected a source object%s", NULL);
    hm_mc_source src;
    memset(&src, 0, sizeof src);
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type) return fail(L, HM_EVALIDATE, "source.type", "expected rect, fan, cone or parallel%s", NULL);
    if (!strcmp(type, "rect") || !strcmp(type, "fan")) src.kind = HM_MC_SRC_RECT;
    else if (!strcmp(type, "cone")) src.kind = HM_MC_SRC_CONE;
    else if (!strcmp(type, "parallel")) src.kind = HM_MC_SRC_PARALLEL;
    else return fail(L, HM_EVALIDATE, "source.type", "unknown source type '%s'", type);
    int rc;
    double uv[2];
    if ((rc = get_vec(L, o, "position_cm", ctx, 1, src.position_cm, 3)) < 0) return rc;
    if ((rc = get_vec(L, o, "direction", ctx, 1, src.direction, 3)) < 0) return rc;
    if ((rc = get_vec(L, o, "u_axis", ctx, 0, src.up, 3)) < 0) return rc;
    if (src.kind == HM_MC_SRC_CONE) {
        if ((rc = get_num(L, o, "half_angle_deg", ctx, 1, &src.half_angle_deg)) < 0) return rc;
    } else {
        if (src.kind == HM_MC_SRC_RECT &&
            (rc = get_num(L, o, "plane_distance_cm", ctx, 1, &src.plane_distance_cm)) < 0) return rc;
        if ((rc = get_vec(L, o, "u_cm", ctx, 1, uv, 2)) < 0) return rc;
        src.u_min_cm = uv[0]; src.u_max_cm = uv[1];
        if ((rc = get_vec(L, o, "v_cm", ctx, 1, uv, 2)) < 0) return rc;
        src.v_min_cm = uv[0]; src.v_max_cm = uv[1];
    }
    hm_mc_spectrum spec;
    memset(&spec, 0, sizeof spec);
    json_t *sp = json_object_get(o, "spectrum"), *tu = json_object_get(o, "tungsten");
    if ((rc = get_num(L, o, "energy_kev", ctx, 0, &src.energy_kev)) < 0) return rc;
    if (rc == 1 && sp) {
        const char *fname = json_string_value(json_object_get(sp, "file"));
        const char *bins = json_string_value(json_object_get(sp, "bins"));
        int b = !bins || !strcmp(bins, "centre") ? HM_MC_BIN_CENTRE
              : !strcmp(bins, "lower") ? HM_MC_BIN_LOWER : !strcmp(bins, "point") ? HM_MC_BIN_POINT : -1;
        if (!fname) return fail(L, HM_EVALIDATE, "source.spectrum.file", "expected a file name%s", NULL);
        if (b < 0) return fail(L, HM_EVALIDATE, "source.spectrum.bins", "expected centre, lower or point (got '%s')", bins);
        char path[1024];
        resolve(L, fname, path, sizeof path);
        if ((rc = hm_mc_spectrum_read(path, b, &spec, L->err)) < 0) return rc;
    } else if (rc == 1 && tu) {
        double kvp, ang = 12, bin = 0.5;
        if ((rc = get_num(L, tu, "kvp", "source.tungsten", 1, &kvp)) < 0) return rc;
        if ((rc = get_num(L, tu, "anode_angle_deg", "source.tungsten", 0, &ang)) < 0) return rc;
        if ((rc = get_num(L, tu, "bin_kev", "source.tungsten", 0, &bin)) < 0) return rc;
        json_t *fl = json_object_get(tu, "filters");
        size_t nf = json_is_array(fl) ? json_array_size(fl) : 0;
        hm_mc_filter filt[8];
        if (nf > 8) return fail(L, HM_EVALIDATE, "source.tungsten.filters", "at most 8 filters%s", NULL);
        for (size_t i = 0; i < nf; i++) {
            json_t *x = json_array_get(fl, i);
            filt[i].material = json_string_value(json_object_get(x, "material"));
            if (!filt[i].material || get_num(L, x, "mm", "source.tungsten.filters[]", 1, &filt[i].thickness_mm) < 0)
                return fail(L, HM_EVALIDATE, "source.tungsten.filters", "each filter needs \"material\" and \"mm\"%s", NULL);
        }
        if ((rc = hm_mc_spectrum_tungsten(kvp, ang, filt, nf, bin, &spec, L->err)) < 0) {
            if (L->err) snprintf(L->err->file, sizeof L->err->file, "%.255s", L->path);
            return rc;
        }
    } else if (rc == 1) {
        return fail(L, HM_EVALIDATE, ctx, "needs \"energy_kev\", \"spectrum\" or \"tungsten\"%s", NULL);
    }
    src.spectrum = &spec;
    rc = hm_mc_set_source(L->s, &src, L->err);
    hm_mc_spectrum_free(&spec);
    if (rc < 0 && L->err) snprintf(L->err->file, sizeof L->err->file, "%.255s", L->path);
    return rc;
}

static int load_rest(ld *L, json_t *root, hm_mc_run_params *params)
{
    int rc;
    json_t *w = json_object_get(root, "world");
    if (w) {
        double lo[3], hi[3];
        int m;
        if ((rc = get_vec(L, w, "lo_cm", "world", 1, lo, 3)) < 0) return rc;
        if ((rc = get_vec(L, w, "hi_cm", "world", 1, hi, 3)) < 0) return rc;
        if ((rc = get_material(L, w, "world", &m)) < 0) return rc;
        if ((rc = hm_mc_set_world(L->s, m, lo, hi, L->err)) < 0) return rc;
    }
    json_t *t = json_object_get(root, "tallies");
    if (t) {
        json_t *kp = json_object_get(t, "kerma_points_cm");
        for (size_t i = 0; json_is_array(kp) && i < json_array_size(kp); i++) {
            json_t *p = json_array_get(kp, i);
            double v[3];
            if (!json_is_array(p) || json_array_size(p) != 3)
                return fail(L, HM_EVALIDATE, "tallies.kerma_points_cm", "expected [x, y, z] points%s", NULL);
            for (int k = 0; k < 3; k++) v[k] = json_number_value(json_array_get(p, k));
            if ((rc = hm_mc_add_kerma_point(L->s, v, L->err)) < 0) return rc;
        }
        json_t *kd = json_object_get(t, "kerma_discs");
        for (size_t i = 0; json_is_array(kd) && i < json_array_size(kd); i++) {
            json_t *d = json_array_get(kd, i);
            double c[3], n[3], r;
            if ((rc = get_vec(L, d, "centre_cm", "tallies.kerma_discs[]", 1, c, 3)) < 0) return rc;
            if ((rc = get_vec(L, d, "normal", "tallies.kerma_discs[]", 1, n, 3)) < 0) return rc;
            if ((rc = get_num(L, d, "radius_cm", "tallies.kerma_discs[]", 1, &r)) < 0) return rc;
            if ((rc = hm_mc_add_kerma_disc(L->s, c, n, r, L->err)) < 0) return rc;
        }
    }
    json_t *ph = json_object_get(root, "physics");
    if (ph) {
        hm_mc_physics p;
        hm_mc_physics_default(&p);
        json_t *x;
        if ((x = json_object_get(ph, "rayleigh"))) p.rayleigh = json_is_true(x);
        if ((x = json_object_get(ph, "compton_sf"))) p.compton_sf = json_is_true(x);
        if ((x = json_object_get(ph, "fluorescence"))) p.fluorescence = json_is_true(x);
        if ((x = json_object_get(ph, "doppler"))) p.doppler = json_is_true(x);
        if ((rc = get_num(L, ph, "cutoff_kev", "physics", 0, &p.cutoff_kev)) < 0) return rc;
        if ((rc = hm_mc_set_physics(L->s, &p, L->err)) < 0) return rc;
    }
    json_t *rn = json_object_get(root, "regions");
    if (json_is_object(rn)) {
        const char *key;
        json_t *val;
        json_object_foreach(rn, key, val) {
            char *e;
            long r = strtol(key, &e, 10);
            if (*e || r < 0 || !json_is_string(val))
                return fail(L, HM_EVALIDATE, "regions", "expected \"<region id>\": \"name\" (key '%s')", key);
            if ((rc = hm_mc_set_region_name(L->s, (int)r, json_string_value(val), L->err)) < 0) return rc;
        }
    }
    json_t *run = json_object_get(root, "run");
    if (run && params) {
        double v;
        if ((rc = get_num(L, run, "histories", "run", 0, &v)) < 0) return rc;
        if (rc == 0) {
            if (!(v >= 1 && v <= 1e13)) return fail(L, HM_EVALIDATE, "run.histories", "expected 1..1e13%s", NULL);
            params->histories = (long long)v;
        }
        if ((rc = get_num(L, run, "seed", "run", 0, &v)) < 0) return rc;
        if (rc == 0) params->seed = (uint64_t)v;
        if ((rc = get_num(L, run, "threads", "run", 0, &v)) < 0) return rc;
        if (rc == 0) params->threads = (int)v;
        if ((rc = get_num(L, run, "batches", "run", 0, &v)) < 0) return rc;
        if (rc == 0) params->batches = (int)v;
    }
    return 0;
}

int hm_mc_scene_load(const char *path, hm_mc_scene **out, hm_mc_run_params *params, hm_error *err)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return hm_error_set(err, strstr(je.text, "unable to open") ? HM_EIO : HM_EPARSE, path,
                            je.line, NULL, "invalid JSON: %s", je.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return hm_error_set(err, HM_EPARSE, path, 0, NULL, "expected a JSON object");
    }
    ld L;
    L.path = path;
    L.err = err;
    snprintf(L.dir, sizeof L.dir, "%s", path);
    char *slash = strrchr(L.dir, '/');
    if (slash) *slash = 0; else snprintf(L.dir, sizeof L.dir, ".");
    int rc = hm_mc_scene_new(&L.s, err);
    if (rc) { json_decref(root); return rc; }
    if (params) hm_mc_run_params_default(params);
    if ((rc = load_materials(&L, root)) >= 0 && (rc = load_rest(&L, root, params)) >= 0 &&
        (rc = load_solids(&L, root)) >= 0 && (rc = load_voxels(&L, root)) >= 0 &&
        (rc = load_scoreboxes(&L, root)) >= 0 && (rc = load_source(&L, root)) >= 0)
        rc = 0;
    json_decref(root);
    if (rc < 0) {
        hm_mc_scene_free(L.s);
        return rc;
    }
    snprintf(L.s->path, sizeof L.s->path, "%s", path);
    *out = L.s;
    return 0;
}
