/*
 * voxel.c — voxel phantoms: voxelising a built-in phantom (voxel centres
 * classified on the exact solids), the on-disk cache, masses and landmarks.
 */
#include "ph_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void hm_voxel_phantom_free(hm_voxel_phantom *v)
{
    if (!v)
        return;
    free(v->ids);
    free(v->regions);
    free(v->media);
    memset(v, 0, sizeof *v);
}

void hm_voxel_phantom_count_masses(hm_voxel_phantom *v)
{
    size_t n = (size_t)v->nx * v->ny * v->nz;
    double *count = calloc((size_t)v->nregions + 1, sizeof *count);
    if (!count)
        return;
    for (size_t i = 0; i < n; i++)
        if (v->ids[i] <= v->nregions)
            count[v->ids[i]] += 1;
    double vol = v->voxel_cm[0] * v->voxel_cm[1] * v->voxel_cm[2];
    for (int r = 0; r <= v->nregions; r++)
        v->regions[r].mass_g = r ? count[r] * vol * v->regions[r].density_g_cm3 : 0;
    free(count);
}

int hm_voxel_phantom_centroid(const hm_voxel_phantom *v, const char *organ, double c[3], hm_error *err)
{
    char *want = calloc((size_t)v->nregions + 1, 1);
    if (!want)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    int any = 0;
    for (int r = 1; r <= v->nregions; r++)
        any |= want[r] = (char)hm_list_has(v->regions[r].organs, '|', organ);
    double s[3] = { 0, 0, 0 }, n = 0;
    for (int z = 0; any && z < v->nz; z++)
        for (int y = 0; y < v->ny; y++)
            for (int x = 0; x < v->nx; x++) {
                uint16_t id = v->ids[x + (size_t)v->nx * (y + (size_t)v->ny * z)];
                if (id <= v->nregions && want[id]) {
                    s[0] += x; s[1] += y; s[2] += z;
                    n += 1;
                }
            }
    free(want);
    if (n == 0)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "organ", "no voxel carries organ '%s'", organ);
    for (int d = 0; d < 3; d++)
        c[d] = v->origin_cm[d] + (s[d] / n + 0.5) * v->voxel_cm[d];
    return HM_OK;
}

int hm_voxel_phantom_centroid_side(const hm_voxel_phantom *v, const char *organ, int side,
                                   double c[3], hm_error *err)
{
    int rc = hm_voxel_phantom_centroid(v, organ, c, err);
    if (rc || side == 0)
        return rc;
    /* Split at the whole organ's centroid: for a paired organ that is the
     * midline between its two parts. */
    double split = (c[0] - v->origin_cm[0]) / v->voxel_cm[0] - 0.5;
    char *want = calloc((size_t)v->nregions + 1, 1);
    if (!want)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (int r = 1; r <= v->nregions; r++)
        want[r] = (char)hm_list_has(v->regions[r].organs, '|', organ);
    double s[3] = { 0, 0, 0 }, n = 0;
    for (int z = 0; z < v->nz; z++)
        for (int y = 0; y < v->ny; y++)
            for (int x = 0; x < v->nx; x++) {
                uint16_t id = v->ids[x + (size_t)v->nx * (y + (size_t)v->ny * z)];
                if (id <= v->nregions && want[id] && (side > 0 ? x > split : x < split)) {
                    s[0] += x; s[1] += y; s[2] += z;
                    n += 1;
                }
            }
    free(want);
    if (n == 0)
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "organ", "no voxel carries the %s side of organ '%s'",
                            side > 0 ? "left" : "right", organ);
    for (int d = 0; d < 3; d++)
        c[d] = v->origin_cm[d] + (s[d] / n + 0.5) * v->voxel_cm[d];
    return HM_OK;
}

static uint16_t voxel_at(const hm_voxel_phantom *v, const double q[3])
{
    int i[3];
    int dims[3] = { v->nx, v->ny, v->nz };
    for (int d = 0; d < 3; d++) {
        double t = floor((q[d] - v->origin_cm[d]) / v->voxel_cm[d]);
        if (t < 0 || t >= dims[d])
            return 0;
        i[d] = (int)t;
    }
    return v->ids[i[0] + (size_t)v->nx * (i[1] + (size_t)v->ny * i[2])];
}

int hm_voxel_phantom_skin_entrance(const hm_voxel_phantom *v, const double from[3], const double dir[3],
                                   double out[3], hm_error *err)
{
    double n = sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
    if (!(n > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "direction", "direction must be non-zero");
    double step = fmin(v->voxel_cm[0], fmin(v->voxel_cm[1], v->voxel_cm[2])) / 4;
    for (long i = 0; i < 4000000L; i++) {
        double q[3];
        for (int k = 0; k < 3; k++)
            q[k] = from[k] + i * step * dir[k] / n;
        if (voxel_at(v, q)) {
            memcpy(out, q, sizeof q);
            return HM_OK;
        }
        if (i * step > 1000)
            break;
    }
    return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "direction", "the ray misses the phantom");
}

static int copy_tables(const hm_phantom *p, hm_voxel_phantom *v, hm_error *err)
{
    v->nregions = p->nregions;
    v->regions = malloc(sizeof *v->regions * (size_t)(p->nregions + 1));
    v->nmedia = p->nmedia;
    v->media = malloc(sizeof *v->media * (size_t)p->nmedia);
    if (!v->regions || !v->media)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    memcpy(v->regions, p->regions, sizeof *v->regions * (size_t)(p->nregions + 1));
    memcpy(v->media, p->media, sizeof *v->media * (size_t)p->nmedia);
    snprintf(v->age, sizeof v->age, "%s", p->age);
    v->sex = p->sex;
    return HM_OK;
}

static void grid_for(const hm_phantom *p, double voxel_mm, hm_voxel_phantom *v)
{
    double lo[3], hi[3], h = voxel_mm / 10.0;
    ph_body_box(p, lo, hi);
    int *dims[3] = { &v->nx, &v->ny, &v->nz };
    for (int d = 0; d < 3; d++) {
        /* One empty voxel of margin on each side, grid centred on the body. */
        int n = (int)ceil((hi[d] - lo[d]) / h) + 2;
        *dims[d] = n;
        v->voxel_cm[d] = h;
        v->origin_cm[d] = 0.5 * (lo[d] + hi[d]) - 0.5 * n * h;
    }
}

int hm_phantom_voxelise(const hm_phantom *p, double voxel_mm, hm_voxel_phantom *v, hm_error *err)
{
    memset(v, 0, sizeof *v);
    if (!(voxel_mm >= 0.1 && voxel_mm <= 50))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "voxel_mm", "voxel size %g mm out of range 0.1..50", voxel_mm);
    grid_for(p, voxel_mm, v);
    size_t n = (size_t)v->nx * v->ny * v->nz;
    if (n > 400000000ULL)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "voxel_mm", "%zu voxels: too many, use larger voxels", n);
    v->ids = malloc(n * sizeof *v->ids);
    int rc = v->ids ? copy_tables(p, v, err) : hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    if (rc) {
        hm_voxel_phantom_free(v);
        return rc;
    }
    for (int z = 0; z < v->nz; z++)
        for (int y = 0; y < v->ny; y++)
            for (int x = 0; x < v->nx; x++) {
                double q[3] = { v->origin_cm[0] + (x + 0.5) * v->voxel_cm[0],
                                v->origin_cm[1] + (y + 0.5) * v->voxel_cm[1],
                                v->origin_cm[2] + (z + 0.5) * v->voxel_cm[2] };
                v->ids[x + (size_t)v->nx * (y + (size_t)v->ny * z)] = (uint16_t)ph_classify(p, q, NULL);
            }
    hm_voxel_phantom_count_masses(v);
    return HM_OK;
}

/* ---- cache ---------------------------------------------------------------- */

#define CACHE_MAGIC "HMVOX001"

static int mkdirs(const char *dir)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *s = buf + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(buf, 0755) && errno != EEXIST)
                return -1;
            *s = '/';
        }
    return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

static void default_cache_dir(char *buf, size_t size)
{
    const char *e = getenv("HARMONIC_CACHE"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (e && *e)
        snprintf(buf, size, "%s", e);
    else if (x && *x)
        snprintf(buf, size, "%s/harmonic", x);
    else
        snprintf(buf, size, "%s/.cache/harmonic", h && *h ? h : "/tmp");
}

static int cache_read(const char *path, uint64_t key, const hm_voxel_phantom *want, hm_voxel_phantom *v)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    char magic[8];
    uint64_t k;
    int32_t dims[3];
    double vox[3], org[3];
    int ok = fread(magic, 1, 8, fp) == 8 && !memcmp(magic, CACHE_MAGIC, 8) &&
             fread(&k, sizeof k, 1, fp) == 1 && k == key &&
             fread(dims, sizeof dims, 1, fp) == 1 && fread(vox, sizeof vox, 1, fp) == 1 &&
             fread(org, sizeof org, 1, fp) == 1 &&
             dims[0] == want->nx && dims[1] == want->ny && dims[2] == want->nz;
    size_t n = (size_t)want->nx * want->ny * want->nz;
    if (ok) {
        v->ids = malloc(n * sizeof *v->ids);
        ok = v->ids && fread(v->ids, sizeof *v->ids, n, fp) == n && fgetc(fp) == EOF;
    }
    fclose(fp);
    if (!ok)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (v->ids[i] > want->nregions)
            return -1;
    v->nx = dims[0]; v->ny = dims[1]; v->nz = dims[2];
    memcpy(v->voxel_cm, vox, sizeof vox);
    memcpy(v->origin_cm, org, sizeof org);
    return 0;
}

static void cache_write(const char *path, uint64_t key, const hm_voxel_phantom *v)
{
    /* Written to a temporary name and renamed: a reader never sees half a file. */
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return;
    int32_t dims[3] = { v->nx, v->ny, v->nz };
    size_t n = (size_t)v->nx * v->ny * v->nz;
    int ok = fwrite(CACHE_MAGIC, 1, 8, fp) == 8 && fwrite(&key, sizeof key, 1, fp) == 1 &&
             fwrite(dims, sizeof dims, 1, fp) == 1 && fwrite(v->voxel_cm, sizeof(double), 3, fp) == 3 &&
             fwrite(v->origin_cm, sizeof(double), 3, fp) == 3 &&
             fwrite(v->ids, sizeof *v->ids, n, fp) == n;
    ok = !fclose(fp) && ok;
    if (!ok || rename(tmp, path))
        remove(tmp);
}

int hm_phantom_voxelise_cached(const hm_phantom *p, double voxel_mm, const char *cache_dir,
                               hm_voxel_phantom *v, int *from_cache, hm_error *err)
{
    char dir[900], path[1024];
    if (from_cache)
        *from_cache = 0;
    if (cache_dir && *cache_dir)
        snprintf(dir, sizeof dir, "%s", cache_dir);
    else
        default_cache_dir(dir, sizeof dir);
    uint64_t key = ph_fnv1a(p->param_hash, &voxel_mm, sizeof voxel_mm);
    key = ph_fnv1a(key, CACHE_MAGIC, 8);
    snprintf(path, sizeof path, "%s/%s_%c_%gmm_%016llx.hmvox", dir, p->age, p->sex, voxel_mm,
             (unsigned long long)key);
    hm_voxel_phantom want;
    memset(&want, 0, sizeof want);
    memset(v, 0, sizeof *v);
    if (voxel_mm >= 0.1 && voxel_mm <= 50) {
        grid_for(p, voxel_mm, &want);
        want.nregions = p->nregions;
        if (!cache_read(path, key, &want, v)) {
            int rc = copy_tables(p, v, err);
            if (rc) {
                hm_voxel_phantom_free(v);
                return rc;
            }
            hm_voxel_phantom_count_masses(v);
            if (from_cache)
                *from_cache = 1;
            return HM_OK;
        }
        free(v->ids);
        memset(v, 0, sizeof *v);
    }
    int rc = hm_phantom_voxelise(p, voxel_mm, v, err);
    if (rc)
        return rc;
    if (!mkdirs(dir))
        cache_write(path, key, v);
    return HM_OK;
}
