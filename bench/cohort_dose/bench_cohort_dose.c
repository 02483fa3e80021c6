/*
 * bench_cohort_dose — the whole-cohort dose run, measured.
 *
 *   bench_cohort_dose [PATIENTS [REALIZATIONS [LIBRARY.csv [WORKDIR]]]]
 *
 * A synthetic cohort (harmonic synth, 7 countries, ~3 procedures per
 * patient, the three dose tiers) is imported into a fresh SQLite registry;
 * then `harmonic dose cohort`'s run (hm_doserun_cohort, in this process)
 * gives every procedure 15 organ doses with REALIZATIONS realizations from a
 * conversion-coefficient library (default: the small demo grid, built here;
 * lookups cost the same on any grid).  Printed: patients and procedures per
 * second, CPU, peak memory of the run (it streams: it must not grow with the
 * cohort), the database size and bytes per stored value.  Target (issue 11):
 * 100,000 patients in under 5 minutes on 2 cores.
 * Then the engine on the built-in voxel phantoms (histories/s, 1 and 2
 * threads), for comparison with bench_mc's slab figure.
 */
#include "hm_doserun.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static int sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc)
        fprintf(stderr, "bench_cohort_dose: failed: %s\n", cmd);
    return rc;
}

static double file_mb(const char *path)
{
    struct stat st;
    return stat(path, &st) ? 0 : (double)st.st_size / 1048576.0;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec
         + (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void engine_speed(void)
{
    printf("\nengine on the built-in voxel phantoms (4 mm voxels, frontal cardiac beam):\n");
    printf("%-8s %14s %14s %8s\n", "phantom", "1 thread h/s", "2 threads h/s", "speed-up");
    const char *ages[3] = { "1y", "5y", "10y" };
    for (int k = 0; k < 3; k++) {
        hm_phantom *p;
        hm_voxel_phantom v;
        hm_error err;
        if (hm_phantom_build(ages[k], 'H', &p, &err) || hm_phantom_voxelise(p, 4, &v, &err)) {
            fprintf(stderr, "phantom %s: %s\n", ages[k], err.msg);
            continue;
        }
        hm_phantom_free(p);
        hm_dosimetry_beam b;
        hm_dosimetry_beam_cardiac(ages[k], &b, &err);
        double hs[2];
        for (int t = 0; t < 2; t++) {
            hm_dosimetry_params prm = { 1000000, 3, t + 1 };
            hm_dosimetry_result r;
            double t0 = hm_now_s();
            if (hm_dosimetry_organ_doses(&v, &b, &prm, &r, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                hs[t] = 0;
                continue;
            }
            hs[t] = (double)r.histories / (hm_now_s() - t0);
            hm_dosimetry_result_free(&r);
        }
        printf("%-8s %14.3g %14.3g %8.2f\n", ages[k], hs[0], hs[1], hs[1] / hs[0]);
        hm_voxel_phantom_free(&v);
    }
    printf("(bench_mc prints the slab figures of the same engine: ./run bench runs both)\n");
}

int main(int argc, char **argv)
{
    long patients = argc > 1 ? atol(argv[1]) : 100000;
    int R = argc > 2 ? atoi(argv[2]) : 200;
    const char *library = argc > 3 && argv[3][0] ? argv[3] : NULL;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/hm_bench_cohort_dose_%ld", argc > 4 ? argv[4] : "/tmp", (long)getpid());
    if (!getenv("HARMONIC_DATA"))
        setenv("HARMONIC_DATA", HM_SOURCE_DATA_DIR, 1);
    char cmd[8192], db[1100], lib[1100];
    snprintf(db, sizeof db, "%s/cohort.db", dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (sh(cmd))
        return 1;
    double t0 = hm_now_s();
    snprintf(cmd, sizeof cmd,
             "%s synth --patients %ld --seed 11 --out %s/cohort > /dev/null && %s db init --db %s "
             "> /dev/null && for d in %s/cohort/*/; do %s import --db %s --centre $(basename $d) "
             "--dir $d --quiet > /dev/null 2>&1 || exit 1; done", HM_HARMONIC_EXE, patients, dir,
             HM_HARMONIC_EXE, db, dir, HM_HARMONIC_EXE, db);
    if (sh(cmd))
        return 1;
    double t_import = hm_now_s() - t0;
    double mb_before = file_mb(db);
    if (!library) {
        snprintf(lib, sizeof lib, "%s/library.csv", dir);
        t0 = hm_now_s();
        snprintf(cmd, sizeof cmd, "%s dose table --grid %s/dosimetry/library_grid_demo.csv -o %s "
                 "--threads 2 > /dev/null", HM_HARMONIC_EXE, HM_SOURCE_DATA_DIR, lib);
        if (sh(cmd))
            return 1;
        printf("library: the demo grid built in %.1f s\n", hm_now_s() - t0);
        library = lib;
    }
    hm_dose_library *L;
    hm_error err;
    if (hm_dose_library_load(library, &L, &err)) {
        fprintf(stderr, "%s: %s\n", library, err.msg);
        return 1;
    }
    hm_doserun_engine eng;
    hm_doserun_library le;
    hm_doserun_library_engine(L, &le, &eng);
    hm_doserun_opts o;
    hm_doserun_opts_default(&o);
    o.realizations = R;
    o.run_id = "bench";
    hm_doserun_summary s;
    long rss0 = maxrss_kb();
    double c0 = cpu_s();
    t0 = hm_now_s();
    int rc = hm_doserun_cohort(db, &eng, &o, &s, &err);
    double wall = hm_now_s() - t0, cpu = cpu_s() - c0;
    hm_dose_library_free(L);
    if (rc) {
        char buf[1024];
        hm_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "bench_cohort_dose: %s\n", buf);
        return 1;
    }
    char wal[1200];
    snprintf(wal, sizeof wal, "%s-wal", db);
    double mb_after = file_mb(db) + file_mb(wal);
    double values = (double)s.rows_realizations * R + (double)s.rows_best;
    printf("cohort: %ld patients, %ld procedures (tier 1 %ld, tier 2 %ld, tier 3 %ld), %ld events; "
           "synth + import %.1f s\n", patients, s.procedures, s.tier[1], s.tier[2], s.tier[3],
           s.events, t_import);
    printf("dose run: %d realizations x 15 organs: wall %.1f s, CPU %.1f s (1 process)\n", R, wall, cpu);
    printf("  %.0f patients/s, %.0f procedures/s; %.3g values stored\n", patients / wall,
           s.procedures / wall, values);
    printf("  peak memory of the process: %.1f MiB (%.1f MiB before the run)\n", maxrss_kb() / 1024.0,
           rss0 / 1024.0);
    printf("  database: %.0f MiB before, %.0f MiB after: %.2f bytes per stored value\n", mb_before,
           mb_after, (mb_after - mb_before) * 1048576.0 / values);
    printf("  target: 100,000 patients in under 300 s on 2 cores: %s (%.0f s for this cohort%s)\n",
           wall * 100000.0 / patients < 300 ? "met" : "NOT met", wall,
           patients == 100000 ? "" : ", scaled linearly");
    engine_speed();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return sh(cmd) ? 1 : 0;
}
