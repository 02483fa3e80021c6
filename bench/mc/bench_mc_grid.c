/*
 * bench_mc_grid — two ways of tracking voxel grids (HM_MC_GRID_MODE, default
 * woodcock, the general loop with the single grid majorant, against auto,
 * exact tracking or the grid's own Woodcock loop chosen per grid; any two of
 * woodcock|tree|dda|delta|auto with --old/--new) on the built-in voxel
 * phantoms (4 mm, frontal cardiac beam, hm_dosimetry_organ_doses as the dose
 * commands run it) and on the voxelised TG-195 slab.
 *
 * The machine is shared and its speed drifts, so both engines run in one
 * process, alternately (old-new, then new-old, ...), on one thread, and the
 * figures are medians: of the histories/s of each engine and of the ratio of
 * each adjacent pair.  Each pair's results are compared too: every organ (or
 * slab region) dose of the tree against the single majorant, in units of the
 * combined standard error (different random streams: the tracking draws
 * different numbers), max |z| and chi2 per organ.
 *
 *   bench_mc_grid [--histories N] [--reps R] [--cases slab,newborn,1y,5y,10y,adult] [--only old|new]
 *                 [--old MODE] [--new MODE] [--verbose Z]
 *
 * --only runs one engine (for callgrind: valgrind --tool=callgrind
 * --toggle-collect=worker ... --only old --old delta --cases 1y).
 *
 * (the adult is the male phantom; the others have one sex)
 */
#include "hm_dosimetry.h"
#include "hm_phantom.h"
#include "voxslab.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXREP 32
#define MAXQ   128

typedef struct one_run {
    double wall_hs;       /* histories / wall time of the whole call (tree build included) */
    double mc_hs;         /* histories / transport time */
    double cpu_hs;        /* histories / CPU time of the transport threads */
    double q[MAXQ], sq[MAXQ];
    char   name[MAXQ][32];
    int    nq;
    hm_mc_stats st;
} one_run;

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_d);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static int run_slab(const char *dir, long long n, uint64_t seed, one_run *o, hm_error *err)
{
    hm_mc_scene *s = voxslab_scene(dir, err);
    if (!s) return -1;
    hm_mc_run_params p;
    hm_mc_run_params_default(&p);
    p.histories = n;
    p.threads = 1;
    p.seed = seed;
    hm_mc_results r;
    double t0 = hm_now_s();
    int rc = hm_mc_run(s, &p, &r, err);
    double wall = hm_now_s() - t0;
    hm_mc_scene_free(s);
    if (rc) return -1;
    o->wall_hs = n / wall;
    o->mc_hs = n / r.seconds;
    o->nq = 3;
    for (int i = 0; i < 3; i++) {
        o->q[i] = r.edep_ev[i + 1];
        o->sq[i] = r.edep_ev_sigma[i + 1];
        snprintf(o->name[i], sizeof o->name[0], "region %d", i + 1);
    }
    hm_mc_results_free(&r);
    return 0;
}

static int run_phantom(const hm_voxel_phantom *v, const hm_dosimetry_beam *b, long long n, uint64_t seed,
                       one_run *o, hm_error *err)
{
    hm_dosimetry_params prm = { n, seed, 1 };
    hm_dosimetry_result r;
    double t0 = hm_now_s();
    if (hm_dosimetry_organ_doses(v, b, &prm, &r, err)) return -1;
    double wall = hm_now_s() - t0;
    o->wall_hs = n / wall;
    o->mc_hs = n / r.seconds;
    o->nq = 0;
    for (size_t i = 0; i < r.n && o->nq < MAXQ; i++)
        if (r.organs[i].present) {
            snprintf(o->name[o->nq], sizeof o->name[0], "%s", r.organs[i].organ);
            o->q[o->nq] = r.organs[i].dose_mgy_per_gy_cm2;
            o->sq[o->nq] = r.organs[i].sigma_mgy_per_gy_cm2;
            o->nq++;
        }
    hm_dosimetry_result_free(&r);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = HM_SOURCE_DATA_DIR "/../examples/mc/tg195";
    long long n = 400000;
    int reps = 5, only = -1;   /* --only old|new: one engine (for profilers), no table */
    double verbose = 0;        /* --verbose Z: print every organ dose pair with |z| > Z */
    const char *newmode = "auto", *oldmode = "woodcock";
    char cases[256] = "slab,newborn,1y,5y,10y,adult";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--histories") && i + 1 < argc) n = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = !strcmp(argv[++i], "new");
        else if (!strcmp(argv[i], "--cases") && i + 1 < argc) snprintf(cases, sizeof cases, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--new") && i + 1 < argc) newmode = argv[++i];
        else if (!strcmp(argv[i], "--verbose") && i + 1 < argc) verbose = atof(argv[++i]);
        else if (!strcmp(argv[i], "--old") && i + 1 < argc) oldmode = argv[++i];
        else {
            fprintf(stderr, "usage: bench_mc_grid [--histories N] [--reps R] [--cases slab,newborn,...] "
                            "[--only old|new] [--old MODE] [--new MODE] [--verbose Z]\n");
            return 2;
        }
    }
    if (reps < 1 || reps > MAXREP || n < 1000) { fprintf(stderr, "bench_mc_grid: reps 1..32, histories >= 1000\n"); return 2; }
    if (!getenv("HARMONIC_DATA")) setenv("HARMONIC_DATA", HM_SOURCE_DATA_DIR, 1);
    printf("bench_mc_grid: HM_MC_GRID_MODE=%s (old) vs %s (new), 1 thread,\n"
           "%lld histories per run, %d alternating pairs; h/s = histories per CPU-second of the transport\n"
           "thread, ratio = median over pairs of new/old; wall = the same ratio in histories per\n"
           "wall-second of whole calls (scene, tables, tree or distance map, masses included)\n", oldmode, newmode, n, reps);
    printf("%-8s %10s %10s %6s %11s %6s %7s %7s %7s %8s %7s %6s %7s %6s %7s\n", "case", "old h/s", "new h/s", "ratio",
           "range", "wall", "tent/h", "tent/h", "real/h", "locate/h", "leaves", "cost", "steps/h", "grid", "max|z|");
    printf("%-8s %10s %10s %6s %11s %6s %7s %7s %7s %8s %7s %6s %7s %6s %7s\n", "", "", "", "", "", "", "old", "new", "",
           "new", "", "", "new", "model", "");
    int status = 0;
    for (char *c = strtok(cases, ","); c; c = strtok(NULL, ",")) {
        hm_error err;
        hm_error_clear(&err);
        int slab = !strcmp(c, "slab"), adult = !strcmp(c, "adult");
        hm_voxel_phantom v;
        hm_dosimetry_beam b;
        memset(&v, 0, sizeof v);
        if (!slab) {
            hm_phantom *p;
            /* through the voxel cache ($HARMONIC_CACHE, ...): a profiler run then spends
             * its time in the transport, not in the voxelisation */
            if (hm_phantom_build(c, adult ? 'M' : 'H', &p, &err) ||
                hm_phantom_voxelise_cached(p, 4, NULL, &v, NULL, &err)) {
                fprintf(stderr, "phantom %s: %s\n", c, err.msg);
                status = 1;
                continue;
            }
            hm_phantom_free(p);
            if (hm_dosimetry_beam_cardiac(c, &b, &err)) {
                fprintf(stderr, "beam %s: %s\n", c, err.msg);
                hm_voxel_phantom_free(&v);
                status = 1;
                continue;
            }
        }
        static one_run runs[2][MAXREP];
        double ratio[MAXREP], wratio[MAXREP], ow[MAXREP], nw[MAXREP];
        int ok = 1;
        for (int r = 0; r < reps && ok; r++)
            for (int k = 0; k < 2 && ok; k++) {
                int tree = (r % 2) ^ k;                 /* old-new, new-old, ... */
                if (only >= 0 && tree != only) continue;
                setenv("HM_MC_GRID_MODE", tree ? newmode : oldmode, 1);
                hm_mc_stats_reset();
                one_run *o = &runs[tree][r];
                /* a seed per pair: the pairs' dose comparisons are independent */
                uint64_t seed = 3 + (uint64_t)r;
                if ((slab ? run_slab(dir, n, seed, o, &err) : run_phantom(&v, &b, n, seed, o, &err))) {
                    fprintf(stderr, "%s: %s\n", c, err.msg);
                    ok = 0;
                }
                hm_mc_stats_get(&o->st);
                if (o->st.cpu_seconds > 0) o->cpu_hs = n / o->st.cpu_seconds;
            }
        unsetenv("HM_MC_GRID_MODE");
        if (!slab) hm_voxel_phantom_free(&v);
        if (!ok) { status = 1; continue; }
        if (only >= 0) {
            const hm_mc_stats *st = &runs[only][0].st;
            printf("%s %s: %.4g h/s (%.4g per CPU-s); tentative %.2f, real %.2f, locates %.2f, voxel steps %.2f per history\n",
                   c, only ? newmode : oldmode, runs[only][0].mc_hs, runs[only][0].cpu_hs, (double)st->tentative / st->histories,
                   (double)st->real / st->histories, (double)st->leaf_locates / st->histories,
                   (double)st->voxel_steps / st->histories);
            continue;
        }
        double zmax = 0;
        int zorg = -1;
        for (int r = 0; r < reps; r++) {
            ratio[r] = runs[1][r].cpu_hs / runs[0][r].cpu_hs;
            wratio[r] = runs[1][r].wall_hs / runs[0][r].wall_hs;
            ow[r] = runs[0][r].cpu_hs;
            nw[r] = runs[1][r].cpu_hs;
            /* the tree's doses against the single majorant's, pair by pair */
            for (int i = 0; i < runs[0][r].nq && i < runs[1][r].nq; i++) {
                double se = hypot(runs[0][r].sq[i], runs[1][r].sq[i]);
                if (!(se > 0)) continue;
                double z = fabs(runs[1][r].q[i] - runs[0][r].q[i]) / se;
                if (z > zmax) { zmax = z; zorg = i; }
                if (verbose > 0 && z > verbose)
                    printf("  %s pair %d %s: old %.5g +- %.2g, new %.5g +- %.2g, |z| %.2f\n", c, r, runs[0][r].name[i],
                           runs[0][r].q[i], runs[0][r].sq[i], runs[1][r].q[i], runs[1][r].sq[i], z);
            }
        }
        double rlo = ratio[0], rhi = ratio[0];
        for (int r = 1; r < reps; r++) { rlo = fmin(rlo, ratio[r]); rhi = fmax(rhi, ratio[r]); }
        const hm_mc_stats *so = &runs[0][0].st, *sn = &runs[1][0].st;
        char range[32];
        snprintf(range, sizeof range, "%.2f-%.2f", rlo, rhi);
        double rmed = median(ratio, reps);
        /* grid: how the new engine tracked the grid (e exact, d its own Woodcock
         * loop, t tree, - general loop) and the exact/Woodcock cost model */
        char gm[16];
        snprintf(gm, sizeof gm, "%c%.2f", sn->grid_dda == 1 ? 'e' : sn->grid_dda == 2 ? 'd' : sn->grid_leaves ? 't' : '-',
                 sn->grid_dda_cost_ratio);
        printf("%-8s %10.4g %10.4g %6.3f %11s %6.3f %7.2f %7.2f %7.2f %8.2f %7d %6.3f %7.2f %6s %7.2f\n", c, median(ow, reps),
               median(nw, reps), rmed, range, median(wratio, reps), (double)so->tentative / so->histories,
               (double)sn->tentative / sn->histories, (double)sn->real / sn->histories,
               (double)sn->leaf_locates / sn->histories, sn->grid_leaves, sn->grid_tree_cost_ratio,
               (double)sn->voxel_steps / sn->histories, gm, zmax);
        if (zmax > 3 && zorg >= 0) printf("         (max|z| at %s)\n", runs[0][0].name[zorg]);
        fflush(stdout);
    }
    printf("(max|z|: largest |dose difference| / combined sigma over organs (slab: regions) and pairs, a seed per pair)\n");
    return status;
}
