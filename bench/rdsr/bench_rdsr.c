/*
 * bench_rdsr.c — RDSR throughput: harmonic (DCMTK read + TID 10001/10002/
 * 10003 mapping + pseudonymised storing into an SQLite registry, one
 * transaction per file) against DCMTK's `dsrdump` (one process per file,
 * output to /dev/null) over the same files, in the same run.
 *
 *   bench_rdsr [ROUNDS] [DIR]
 *
 * DIR defaults to ../shared/data/rdsr; when absent, synthetic reports are
 * generated.  Each round stores every file again under a different study
 * key, so every round really inserts (new pseudonyms, new rows).  The
 * corpus patients are adults and some have no birth date, which the
 * paediatric registry refuses; for the benchmark only, the birth date is
 * set to five years before the study so every report is stored.
 * Also timed: the `harmonic rdsr show` command per file, to compare
 * process-per-file with process-per-file.
 */
#include "hm_pseudo.h"
#include "hm_rdsr.h"
#include "hm_registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FILES 256

static int spawn_quiet(const char *exe, const char *arg1, const char *file)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (arg1)
            execlp(exe, exe, arg1, "show", file, (char *)NULL);
        else
            execlp(exe, exe, file, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    const char *dir = argc > 2 ? argv[2] : HM_SHARED_DATA_DIR "/rdsr";
    if (rounds < 1)
        rounds = 1;
    char tmpdir[] = "/tmp/bench_rdsr.XXXXXX";
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char *files[MAX_FILES];
    int nfiles = 0;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) && nfiles < MAX_FILES) {
            size_t n = strlen(de->d_name);
            if (n < 5 || strcmp(de->d_name + n - 4, ".dcm"))
                continue;
            char *p = malloc(strlen(dir) + n + 2);
            sprintf(p, "%s/%s", dir, de->d_name);
            files[nfiles++] = p;
        }
        closedir(d);
        qsort(files, (size_t)nfiles, sizeof *files, cmp);
    }
    const char *source = dir;
    if (nfiles == 0) {
        source = "synthetic fixtures (corpus absent)";
        for (int i = 0; i < 10; i++) {
            char *p = malloc(strlen(tmpdir) + 32);
            sprintf(p, "%s/synth%02d.dcm", tmpdir, i);
            hm_rdsr_synth_spec s = { .nevents = 5 + 5 * i, .biplane = i % 2, .seed = (unsigned)i + 1,
                                     .quirks = (unsigned)(i % 4 == 1 ? HM_RDSR_QUIRK_GYM2 : 0) };
            hm_error err;
            if (hm_rdsr_synth_write(p, &s, NULL, &err)) {
                fprintf(stderr, "bench_rdsr: %s\n", err.msg);
                return 1;
            }
            files[nfiles++] = p;
        }
    }

    hm_error err;
    hm_error_clear(&err);
    hm_rdsr_ctx *ctx = hm_rdsr_ctx_new(&err);
    char dbpath[256];
    snprintf(dbpath, sizeof dbpath, "%s/bench.db", tmpdir);
    hm_db *db = NULL;
    if (!ctx || hm_db_open(dbpath, &db, &err)) {
        fprintf(stderr, "bench_rdsr: %s\n", err.msg);
        return 1;
    }
    const char *cn[] = { "centre_code", "country", "name", "cohort" };
    const char *cv[] = { "BENCH", "FR", "Benchmark centre", "cardiac" };
    if (hm_registry_upsert_row(db, "BENCH", "centre", cn, cv, 4, &err)) {
        fprintf(stderr, "bench_rdsr: %s\n", err.msg);
        return 1;
    }

    /* harmonic: read + map + store, in process. */
    long h_files = 0, h_events = 0, h_stored = 0, h_failed = 0;
    double t0 = hm_now_s();
    for (int r = 0; r < rounds; r++) {
        unsigned char kb[32];
        for (int i = 0; i < 32; i++)
            kb[i] = (unsigned char)(r * 31 + i * 7 + 1);
        hm_pseudo_key key;
        hm_pseudo_key_from_bytes(&key, kb, sizeof kb, 1, &err);
        hm_rdsr_import_opts o = { .centre = "BENCH", .key = &key };
        for (int i = 0; i < nfiles; i++) {
            hm_rdsr_report *rep = NULL;
            h_files++;
            if (hm_rdsr_read_file(ctx, files[i], &rep, &err)) {
                h_failed++;
                continue;
            }
            h_events += (long)rep->nevents;
            if (strlen(rep->study_date) >= 8) {
                int y = atoi(rep->study_date) / 10000;
                snprintf(rep->birth_date, sizeof rep->birth_date, "%04d%.4s", y - 5,
                         rep->study_date + 4);
                if (!strcmp(rep->birth_date + 4, "0229"))
                    memcpy(rep->birth_date + 4, "0301", 4);
            }
            if (!rep->patient_id[0])
                snprintf(rep->patient_id, sizeof rep->patient_id, "BENCH%d", i);
            hm_rdsr_import_result res;
            if (hm_rdsr_import(db, &o, rep, &res, &err) == 0)
                h_stored += res.events_added;
            else if (r == 0)
                fprintf(stderr, "bench_rdsr: not stored: %s: %s\n", files[i], err.msg);
            hm_rdsr_report_free(rep);
        }
        hm_pseudo_key_wipe(&key);
    }
    double th = hm_now_s() - t0;

    /* dsrdump: one process per file. */
    long d_files = 0, d_fail = 0;
    t0 = hm_now_s();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < nfiles; i++) {
            d_files++;
            if (spawn_quiet("dsrdump", NULL, files[i]) != 0)
                d_fail++;
        }
    double td = hm_now_s() - t0;

    /* harmonic rdsr show: one process per file, like dsrdump. */
    t0 = hm_now_s();
    long c_fail = 0;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < nfiles; i++)
            if (spawn_quiet(HM_HARMONIC_EXE, "rdsr", files[i]) != 0)
                c_fail++;
    double tc = hm_now_s() - t0;

    /* Event counts are the files' own; dsrdump walks the same events. */
    printf("bench_rdsr: %d files x %d rounds from %s\n", nfiles, rounds, source);
    printf("  %-44s %9.1f files/s %10.1f events/s  (%ld events stored, %ld files refused)\n",
           "harmonic read+map+store (SQLite, in process)", h_files / th, h_events / th, h_stored,
           h_failed);
    printf("  %-44s %9.1f files/s %10.1f events/s  (%ld files it could not parse)\n",
           "dsrdump (DCMTK, process per file)", d_files / td, h_events / td, d_fail);
    printf("  %-44s %9.1f files/s %10.1f events/s  (%ld files refused)\n",
           "harmonic rdsr show (process per file)", d_files / tc, h_events / tc, c_fail);
    printf("  ratio harmonic/dsrdump: %.2f (in process), %.2f (process per file)\n", td / th,
           td / tc);
    hm_db_close(db);
    hm_rdsr_ctx_free(ctx);
    for (int i = 0; i < nfiles; i++) {
        if (strncmp(files[i], tmpdir, strlen(tmpdir)) == 0)
            remove(files[i]);
        free(files[i]);
    }
    remove(dbpath);
    char side[300];
    snprintf(side, sizeof side, "%s-wal", dbpath);
    remove(side);
    snprintf(side, sizeof side, "%s-shm", dbpath);
    remove(side);
    snprintf(side, sizeof side, "%s-journal", dbpath);
    remove(side);
    rmdir(tmpdir);
    return 0;
}
