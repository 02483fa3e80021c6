/*
 * bench_dvh — all DVHs of 40 structures on a 512 x 512 x 200 dose grid by
 * hm_rt, side by side with a straightforward numpy reference
 * (bench/dvh/dvh_ref.py: vectorised PNPOLY crossing test at the same sample
 * points, the same slab rule, weighted sort for D_x), measured in the same
 * run.  The fixture is written once (dose.f32 raw float32, grid.txt,
 * contours.txt) for Python to read; the metrics of both are compared.
 *
 *   bench_dvh [--dir D] [--nx N --ny N --nz N] [--structures N] [--subsample S]
 *             [--python EXE] [--no-python]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hm_rt.h"

#define NMET 14
static const char *met_names[NMET] = { "volume_cc", "mean_gy", "min_gy", "max_gy", "d2_gy",
                                       "d50_gy", "d98_gy", "d0_03cc_gy", "v5_pct", "v10_pct",
                                       "v20_pct", "v30_pct", "v20_cc", "v30_cc" };
#define PI 3.14159265358979323846

/* Deterministic generator (splitmix64) so C and Python read one fixture. */
static unsigned long long rng_state = 0x243F6A8885A308D3ULL;
static double urand(void)
{
    unsigned long long z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return ((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static void circle(hm_rt_roi *roi, double cx, double cy, double a, double b, double z, int n)
{
    double xy[2 * 256];
    for (int p = 0; p < n; p++) {
        double t = 2 * PI * p / n;
        xy[2 * p] = cx + a * cos(t);
        xy[2 * p + 1] = cy + b * sin(t);
    }
    hm_rt_roi_add_contour(roi, z, xy, n, NULL);
}

/* Structure s: a sphere, an ellipsoid or a tube with a hole, contours every
 * 2.5 mm (the CT slices; the dose planes are 2 mm apart). */
static hm_rt_roi *structure(int s, const hm_rt_grid *g)
{
    char name[32];
    int kind = s % 3;
    snprintf(name, sizeof name, "%s_%02d", kind == 0 ? "Sphere" : kind == 1 ? "Ellipsoid" : "Ring", s);
    hm_rt_roi *roi = hm_rt_roi_create(name, s + 1);
    double R = 8 + 42 * urand();
    double xlo = g->origin_mm[0], xhi = xlo + (g->nx - 1) * g->dx_mm;
    double ylo = g->origin_mm[1], yhi = ylo + (g->ny - 1) * g->dy_mm;
    double zlo = g->z_mm[0], zhi = g->z_mm[g->nz - 1];
    double m = 1.6 * R + 5;
    double cx = xlo + m + (xhi - xlo - 2 * m) * urand();
    double cy = ylo + m + (yhi - ylo - 2 * m) * urand();
    double cz = zlo + m + (zhi - zlo - 2 * m) * urand();
    double ax = R, ay = R, az = R;
    if (kind == 1) {
        ax = R * (0.6 + 0.9 * urand());
        ay = R * (0.6 + 0.9 * urand());
        az = R * (0.5 + 0.8 * urand());
    }
    int n = 64 + (int)(R * 2);
    double z0 = zlo + 0.7;   /* CT slice positions: off the dose planes */
    for (double z = z0; z < zhi; z += 2.5) {
        double h = (z - cz) / az;
        if (kind == 2) {   /* tube of length 2R, outer R, inner R/2 */
            if (fabs(z - cz) < R) {
                circle(roi, cx, cy, R, R, z, n);
                circle(roi, cx, cy, R / 2, R / 2, z, n / 2);
            }
        } else if (fabs(h) < 1) {
            double f = sqrt(1 - h * h);
            circle(roi, cx, cy, ax * f, ay * f, z, n);
        }
    }
    return roi;
}

static int write_fixture(const char *dir, const hm_rt_grid *g, hm_rt_roi **rois, int nroi, int s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/dose.f32", dir);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t n = (size_t)g->nx * g->ny * g->nz;
    int ok = fwrite(g->dose_gy, sizeof *g->dose_gy, n, fp) == n;
    if (fclose(fp) || !ok)
        return -1;
    snprintf(path, sizeof path, "%s/grid.txt", dir);
    if (!(fp = fopen(path, "w")))
        return -1;
    fprintf(fp, "nx %d\nny %d\nnz %d\ndx %.17g\ndy %.17g\nx0 %.17g\ny0 %.17g\nsubsample %d\nz",
            g->nx, g->ny, g->nz, g->dx_mm, g->dy_mm, g->origin_mm[0], g->origin_mm[1], s);
    for (int k = 0; k < g->nz; k++)
        fprintf(fp, " %.17g", g->z_mm[k]);
    fprintf(fp, "\n");
    fclose(fp);
    snprintf(path, sizeof path, "%s/contours.txt", dir);
    if (!(fp = fopen(path, "w")))
        return -1;
    for (int r = 0; r < nroi; r++) {
        fprintf(fp, "roi %s\n", rois[r]->name);
        for (int c = 0; c < rois[r]->ncontours; c++) {
            const hm_rt_contour *ct = &rois[r]->contours[c];
            fprintf(fp, "contour %.17g %d", ct->z_mm, ct->npoints);
            for (int p = 0; p < 2 * ct->npoints; p++)
                fprintf(fp, " %.17g", ct->xy_mm[p]);
            fprintf(fp, "\n");
        }
    }
    return fclose(fp) ? -1 : 0;
}

static void metrics(const hm_rt_dvh *d, double *m)
{
    double v[NMET] = { d->volume_cc, d->mean_gy, d->min_gy, d->max_gy, d->d2_gy, d->d50_gy,
                       d->d98_gy, d->d0_03cc_gy, d->vx_pct[0], d->vx_pct[1], d->vx_pct[2],
                       d->vx_pct[3], d->vx_cc[2], d->vx_cc[3] };
    memcpy(m, v, sizeof v);
}

int main(int argc, char **argv)
{
    const char *dir = "bench_dvh_fixture", *python = NULL;
    int nx = 512, ny = 512, nz = 200, nroi = 40, s = HM_RT_SUBSAMPLE_DEFAULT, with_py = 1;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--dir") && a + 1 < argc) dir = argv[++a];
        else if (!strcmp(argv[a], "--nx") && a + 1 < argc) nx = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--ny") && a + 1 < argc) ny = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--nz") && a + 1 < argc) nz = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--structures") && a + 1 < argc) nroi = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--subsample") && a + 1 < argc) s = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--python") && a + 1 < argc) python = argv[++a];
        else if (!strcmp(argv[a], "--no-python")) with_py = 0;
        else {
            fprintf(stderr, "usage: bench_dvh [--dir D] [--nx N --ny N --nz N] [--structures N] "
                            "[--subsample S] [--python EXE] [--no-python]\n");
            return 2;
        }
    }
    if (nroi < 1 || nroi > 1000) {
        fprintf(stderr, "bench_dvh: --structures %d: expected 1 to 1000\n", nroi);
        return 2;
    }
    hm_error err;
    hm_rt_grid *g;
    if (hm_rt_grid_create(nx, ny, nz, &g, &err)) {
        fprintf(stderr, "bench_dvh: %s\n", err.msg);
        return 1;
    }
    /* 1 mm pixels, 2 mm planes, centred on 0. */
    g->origin_mm[0] = -(nx - 1) / 2.0;
    g->origin_mm[1] = -(ny - 1) / 2.0;
    for (int k = 0; k < nz; k++)
        g->z_mm[k] = -(nz - 1) + 2.0 * k;
    /* A smooth dose: a 60 Gy Gaussian field plus a 5 Gy/100 mm ramp. */
    for (int k = 0; k < nz; k++)
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++) {
                double x = g->origin_mm[0] + i, y = g->origin_mm[1] + j, z = g->z_mm[k];
                double r2 = x * x + (y - 20) * (y - 20) + z * z;
                g->dose_gy[(size_t)i + (size_t)nx * ((size_t)j + (size_t)ny * k)] =
                    (float)(60 * exp(-r2 / (2 * 90.0 * 90.0)) + 0.05 * (x + 256) / 10);
            }
    hm_rt_roi **rois = calloc((size_t)nroi, sizeof *rois);
    for (int r = 0; r < nroi; r++)
        rois[r] = structure(r, g);
    mkdir(dir, 0777);
    if (write_fixture(dir, g, rois, nroi, s)) {
        fprintf(stderr, "bench_dvh: cannot write the fixture in %s\n", dir);
        return 1;
    }

    double (*mc)[NMET] = calloc((size_t)nroi, sizeof *mc);
    hm_rt_dvh_options o = { 0 };
    o.subsample = s;
    double t0 = hm_now_s();
    clock_t c0 = clock();
    for (int r = 0; r < nroi; r++) {
        hm_rt_dvh d;
        if (hm_rt_dvh_compute(g, rois[r], &o, &d, &err)) {
            fprintf(stderr, "bench_dvh: %s: %s\n", rois[r]->name, err.msg);
            return 1;
        }
        metrics(&d, mc[r]);
        hm_rt_dvh_free(&d);
    }
    double tc = hm_now_s() - t0, cc = (double)(clock() - c0) / CLOCKS_PER_SEC;
    printf("grid %d x %d x %d (1 x 1 x 2 mm), %d structures, %d x %d samples per voxel\n",
           nx, ny, nz, nroi, s, s);
    /* CPU seconds too: on a shared machine they are the steadier figure. */
    printf("harmonic hm_rt:      %8.3f s wall %8.3f s CPU  (all DVHs, one thread)\n", tc, cc);
    /* The trilinear option: a dose per sample point instead of per voxel. */
    o.interp = HM_RT_TRILINEAR;
    t0 = hm_now_s();
    c0 = clock();
    for (int r = 0; r < nroi; r++) {
        hm_rt_dvh d;
        if (hm_rt_dvh_compute(g, rois[r], &o, &d, &err) == 0)
            hm_rt_dvh_free(&d);
    }
    printf("hm_rt, trilinear:    %8.3f s wall %8.3f s CPU  (dose at every sample)\n",
           hm_now_s() - t0, (double)(clock() - c0) / CLOCKS_PER_SEC);
    if (!with_py)
        return 0;

    /* The reference: the first python3 with numpy, or the named one. */
    const char *cands[] = { python, "python3", "/usr/bin/python3", NULL };
    const char *py = NULL;
    for (int c = 0; c < 4 && !py; c++) {
        if (!cands[c] && c == 0)
            continue;
        if (!cands[c])
            break;
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "%s -c 'import numpy' >/dev/null 2>&1", cands[c]);
        if (system(cmd) == 0)
            py = cands[c];
    }
    if (!py) {
        printf("python3 with numpy not found (Debian python3-numpy): harmonic only\n");
        return 0;
    }
    char cmd[8192], path[4096];
    snprintf(cmd, sizeof cmd, "%s %s/dvh_ref.py %s", py, BENCH_DIR, dir);
    fflush(stdout);   /* our lines before the child's */
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_dvh: the numpy reference failed: %s\n", cmd);
        return 1;
    }
    snprintf(path, sizeof path, "%s/results_py.txt", dir);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "bench_dvh: no %s\n", path);
        return 1;
    }
    double tp = 0, tpc = 0, maxdiff[NMET] = { 0 };
    int worst[NMET] = { 0 }, rows = 0;
    char line[4096];
    while (fgets(line, sizeof line, fp)) {
        if (sscanf(line, "seconds %lf %lf", &tp, &tpc) >= 1)
            continue;
        int r;
        double m[NMET];
        char *p = line;
        int used;
        if (sscanf(p, "%d%n", &r, &used) != 1 || r < 0 || r >= nroi)
            continue;
        p += used;
        int ok = 1;
        for (int q = 0; q < NMET && ok; q++) {
            ok = sscanf(p, "%lf%n", &m[q], &used) == 1;
            p += used;
        }
        if (!ok)
            continue;
        rows++;
        for (int q = 0; q < NMET; q++) {
            double dlt = fabs(m[q] - mc[r][q]);
            if (dlt > maxdiff[q]) {
                maxdiff[q] = dlt;
                worst[q] = r;
            }
        }
    }
    fclose(fp);
    printf("numpy reference:     %8.3f s wall %8.3f s CPU  (%s, %d structures read back)\n",
           tp, tpc, py, rows);
    printf("speed-up:            %8.1f x wall %8.1f x CPU\n", tp / tc, cc > 0 ? tpc / cc : 0);
    printf("largest |harmonic - numpy| over the structures:\n");
    for (int q = 0; q < NMET; q++)
        printf("  %-11s %.3g (%s, harmonic %.6g)\n", met_names[q], maxdiff[q],
               rois[worst[q]]->name, mc[worst[q]][q]);
    for (int r = 0; r < nroi; r++)
        hm_rt_roi_free(rois[r]);
    free(rois);
    free(mc);
    hm_rt_grid_free(g);
    return rows == nroi ? 0 : 1;
}
