/*
 * bench_mc — speed of the Monte Carlo engine on TG-195 case 2 (120 kVp,
 * radiography) and on a voxelised phantom, 1 and 2 threads, beside the peer
 * XRayMClib (C++, xraylib data) as measured on this machine
 * (shared/data/tg195/README.md: 4e5 histories/s on one thread, 7.5e5 on two;
 * the peer is not installed here, so its figures are quoted, not rerun).
 *
 *   bench_mc [--histories N] [--dir examples/mc/tg195]
 *   bench_mc --tg195-full [--scale S] [--threads T] [--doppler]
 *                                                   full TG-195 comparison table
 */
#include "hm_mc.h"
#include "tg195.h"
#include "voxslab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PEER_1T 4.0e5
#define PEER_2T 7.5e5

static double run_case2(const char *dir, long long n, int threads, hm_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/case2_120kVp_radiography.json", dir);
    hm_mc_scene *s;
    hm_mc_run_params p;
    if (hm_mc_scene_load(path, &s, &p, err)) return -1;
    p.histories = n;
    p.threads = threads;
    hm_mc_results r;
    clock_t c0 = clock();
    int rc = hm_mc_run(s, &p, &r, err);
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    hm_mc_scene_free(s);
    if (rc) return -1;
    double rate = n / r.seconds;
    /* CPU time includes the table set-up (~0.1 s); on a shared machine it is
     * the load-independent measure of per-core speed */
    printf("  %d thread(s): %lld histories in %.2f s wall, %.2f s CPU; body %.1f eV/history -> %.3g "
           "histories/s (wall), %.3g per CPU-second\n", threads, n, r.seconds, cpu, r.edep_ev[1], rate,
           n / cpu);
    hm_mc_results_free(&r);
    return rate;
}

/* The case 2 geometry voxelised with lung and bone inserts (voxslab.h). */
static double run_voxels(const char *dir, long long n, int threads, hm_error *err)
{
    hm_mc_scene *s = voxslab_scene(dir, err);
    if (!s) return -1;
    hm_mc_run_params p;
    hm_mc_run_params_default(&p);
    p.histories = n;
    p.threads = threads;
    hm_mc_results r;
    clock_t c0 = clock();
    int rc = hm_mc_run(s, &p, &r, err);
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    hm_mc_scene_free(s);
    if (rc < 0) return -1;
    double rate = n / r.seconds;
    printf("  %d thread(s): %lld histories in %.2f s wall, %.2f s CPU; tissue %.1f, lung %.1f, bone %.1f"
           " eV/history -> %.3g histories/s (wall), %.3g per CPU-second\n", threads, n, r.seconds, cpu,
           r.edep_ev[1], r.edep_ev[2], r.edep_ev[3], rate, n / cpu);
    hm_mc_results_free(&r);
    return rate;
}

int main(int argc, char **argv)
{
    const char *dir = HM_SOURCE_DATA_DIR "/../examples/mc/tg195";
    long long n = 2000000;
    int full = 0, threads = 2, doppler = 0;
    double scale = 1.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tg195-full")) full = 1;
        else if (!strcmp(argv[i], "--doppler")) doppler = 1;
        else if (!strcmp(argv[i], "--histories") && i + 1 < argc) n = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc) scale = atof(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench_mc [--histories N] [--dir D] | --tg195-full [--scale S] [--threads T] [--doppler]\n");
            return 2;
        }
    }
    hm_error err;
    hm_error_clear(&err);
    if (full) {
        tg195_opts o = { .dir = dir, .case1_histories = (long long)(2e7 * scale),
                         .case2_histories = (long long)(1e8 * scale), .threads = threads,
                         .rayleigh = 1, .compton_sf = 1, .doppler = doppler };
        static tg195_row rows[128];
        int nr = tg195_run(&o, rows, 128, &err);
        if (nr < 0) { fprintf(stderr, "bench_mc: %s\n", err.msg); return 1; }
        printf("TG-195 cases 1 and 2: harmonic vs the mean of EGSnrc, Geant4, MCNP, PENELOPE\n");
        printf("(case 1: %lld histories per run; case 2: %lld%s)\n", o.case1_histories, o.case2_histories,
               doppler ? "; Compton energies from the impulse approximation" : "");
        tg195_print(stdout, rows, nr);
        return 0;
    }
    printf("bench_mc: TG-195 case 2, 120 kVp radiography (slab in air)\n");
    double r1 = run_case2(dir, n, 1, &err), r2 = run_case2(dir, n, 2, &err);
    if (r1 < 0 || r2 < 0) { fprintf(stderr, "bench_mc: %s\n", err.msg); return 1; }
    printf("  harmonic: %.3g histories/s per core (1 thread), 2-thread speed-up %.2f\n", r1, r2 / r1);
    printf("  peer XRayMClib (quoted, same machine): %.3g /s on 1 thread, %.3g /s on 2\n", PEER_1T, PEER_2T);
    printf("  ratio harmonic/peer: %.2f (1 thread), %.2f (2 threads)\n", r1 / PEER_1T, r2 / PEER_2T);
    printf("bench_mc: voxelised phantom (case 2 slab as 78x78x40 voxels with lung and bone inserts)\n");
    double v1 = run_voxels(dir, n, 1, &err), v2 = run_voxels(dir, n, 2, &err);
    if (v1 < 0 || v2 < 0) { fprintf(stderr, "bench_mc: %s\n", err.msg); return 1; }
    printf("  harmonic: %.3g histories/s per core (1 thread), 2-thread speed-up %.2f\n", v1, v2 / v1);
    printf("  ratio voxel/analytic: %.2f\n", v1 / r1);
    return 0;
}
