/*
 * bench_import — rows/s of `harmonic import` (validated, streamed, one
 * transaction per file) against the sqlite3 shell's `.import --csv` of the
 * same files into the same tables (no validation), and the peak resident
 * memory of our import for two cohort sizes (it should be flat: streamed).
 * With $HM_TEST_PG_URL set (`./run pg`), the same into PostgreSQL against
 * psql's `\copy` of the same files into the same, freshly migrated tables
 * (no checks); psql from $HM_PG_BINDIR or PATH.  PostgreSQL CPU time is the
 * client's plus its server backend's (read from /proc: a local server).
 *
 *   bench_import [patients=100000] [procedures_per_patient=3] [workdir=/tmp]
 *
 * The cohort is generated here (7 centres, full dictionary columns, values
 * valid and consistent) so the benchmark needs nothing else.
 */
#include "hm_registry.h"

#include <sqlite3.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *CENTRES[] = { "BE01", "DE01", "ES01", "FR01", "GB01", "IT01", "NO01" };
#define NCENTRES 7

static uint64_t splitmix(uint64_t *s)
{
    /* SplitMix64 (Steele, Lea, Flood 2014): a fast, well-mixed 64-bit generator. */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void civil(long days, int *y, int *m, int *d)
{
    /* Civil date from days since 1970-01-01 (H. Hinnant, civil_from_days). */
    days += 719468;
    long era = (days >= 0 ? days : days - 146096) / 146097;
    long doe = days - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Writes centre/patient/procedure CSVs per centre; returns rows written. */
static long generate(const char *dir, long patients, int per_patient)
{
    uint64_t seed = 20261127;
    long rows = 0;
    char path[1024];
    for (int c = 0; c < NCENTRES; c++) {
        snprintf(path, sizeof path, "%s/centre_%s.csv", dir, CENTRES[c]);
        FILE *fc = fopen(path, "w");
        fprintf(fc, "centre_code,country,name,cohort\n%s,%.2s,Centre %s,cardiac\n", CENTRES[c],
                CENTRES[c], CENTRES[c]);
        fclose(fc);
        snprintf(path, sizeof path, "%s/patient_%s.csv", dir, CENTRES[c]);
        FILE *fp = fopen(path, "w");
        snprintf(path, sizeof path, "%s/procedure_%s.csv", dir, CENTRES[c]);
        FILE *fq = fopen(path, "w");
        fputs("centre_code,pseudonym,key_version,cohort,sex,birth_year,birth_date,syndrome,"
              "transplant_date,transplant_day,immunosuppression,consent\n", fp);
        fputs("centre_code,procedure_id,pseudonym,proc_date,proc_day,age_days,weight_kg,height_cm,"
              "exam_type,category,kap_total_gy_cm2,fluoro_time_s,cine_frames,air_kerma_rp_mgy,"
              "dose_tier,study_uid,device_manufacturer,device_model\n", fq);
        static const char *exams[] = { "diag_cath", "asd_closure", "vsd_closure", "pda_closure",
                                       "balloon_valvuloplasty", "stent" };
        for (long i = c; i < patients; i += NCENTRES) {
            char ps[65];
            uint64_t h[4];
            for (int k = 0; k < 4; k++)
                h[k] = splitmix(&seed);
            snprintf(ps, sizeof ps, "%016llx%016llx%016llx%016llx", (unsigned long long)h[0],
                     (unsigned long long)h[1], (unsigned long long)h[2], (unsigned long long)h[3]);
            long birth = 1826 + (long)(splitmix(&seed) % 14600);   /* 1975..2014 */
            int by, bm, bd;
            civil(birth, &by, &bm, &bd);
            fprintf(fp, "%s,%s,1,cardiac,%c,%d,%04d-%02d-%02d,none,,,0,given\n", CENTRES[c], ps,
                    splitmix(&seed) & 1 ? 'F' : 'M', by, by, bm, bd);
            rows++;
            for (int j = 0; j < per_patient; j++) {
                long age = (long)(splitmix(&seed) % 6000) + j;
                int y, m, d;
                civil(birth + age, &y, &m, &d);
                int e = (int)(splitmix(&seed) % 6);
                double kap = 0.2 + (double)(splitmix(&seed) % 20000) / 1000.0;
                fprintf(fq, "%s,P%ld_%d,%s,%04d-%02d-%02d,%ld,%ld,%.1f,%.0f,%s,%s,%.3f,%ld,%ld,%.1f,2,"
                            "2.25.%llu,Siemens,Artis\n",
                        CENTRES[c], i, j, ps, y, m, d, age, age, 3.0 + (double)age / 100.0,
                        50.0 + (double)age / 60.0, exams[e], e ? "interventional" : "diagnostic",
                        kap, 60 + age % 900, (long)(splitmix(&seed) % 3000), kap * 9.0,
                        (unsigned long long)(splitmix(&seed) >> 1));
                rows++;
            }
        }
        fclose(fp);
        fclose(fq);
    }
    return rows;
}

typedef struct result { long rows; double seconds, cpu_s; long maxrss_kb; int ok; } result;

static const char *TABLES[] = { "centre", "patient", "procedure" };

/* CPU seconds (user + system) in a /proc/PID/stat file, fields 14 and 15
 * (proc(5)); -1 when unreadable. */
static double stat_cpu_s(const char *path)
{
    char line[1024];
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, fp);
    fclose(fp);
    line[n] = 0;
    char *p = strrchr(line, ')');          /* the command name may hold spaces */
    unsigned long long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double proc_cpu_s(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    return stat_cpu_s(path);
}

/* CPU of this connection's PostgreSQL backend so far (0 on SQLite). */
static double backend_cpu_s(hm_db *db)
{
    if (hm_db_kind(db) != HM_DB_POSTGRES)
        return 0;
    hm_stmt *st;
    hm_error err;
    double cpu = 0;
    if (hm_db_prepare(db, "SELECT pg_backend_pid()", &st, &err) == HM_OK) {
        if (hm_stmt_step(st, &err) == 1)
            cpu = proc_cpu_s((long)hm_stmt_column_int64(st, 0));
        hm_stmt_finalize(st);
    }
    return cpu > 0 ? cpu : 0;
}

static double cpu_of(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + 1e-6 * (double)ru->ru_utime.tv_usec +
           (double)ru->ru_stime.tv_sec + 1e-6 * (double)ru->ru_stime.tv_usec;
}

/* Our validated import of every file, in a child so its peak RSS is its own. */
static result ours(const char *dir, const char *dbpath)
{
    int fd[2];
    result r = { 0, 0, 0, 0, 0 };
    if (pipe(fd))
        return r;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        hm_db *db;
        hm_error err;
        result c = { 0, 0, 0, 0, 1 };
        if (hm_db_open(dbpath, &db, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            _exit(1);
        }
        double t0 = hm_now_s(), server0 = backend_cpu_s(db);
        for (int t = 0; t < 3; t++)
            for (int k = 0; k < NCENTRES; k++) {
                char path[1024];
                snprintf(path, sizeof path, "%s/%s_%s.csv", dir, TABLES[t], CENTRES[k]);
                hm_import_report rep;
                hm_import_report_init(&rep);
                if (hm_registry_import_csv(db, CENTRES[k], TABLES[t], path, &rep, &err)) {
                    fprintf(stderr, "bench: %s: %s\n", path, err.msg);
                    c.ok = 0;
                }
                c.rows += rep.rows_stored;
                hm_import_report_free(&rep);
            }
        c.seconds = hm_now_s() - t0;
        double server_s = backend_cpu_s(db) - server0;
        hm_db_close(db);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        c.maxrss_kb = ru.ru_maxrss;
        c.cpu_s = cpu_of(&ru) + server_s;
        if (write(fd[1], &c, sizeof c) != (ssize_t)sizeof c)
            _exit(1);
        _exit(0);
    }
    close(fd[1]);
    if (read(fd[0], &r, sizeof r) != (ssize_t)sizeof r)
        r.ok = 0;
    close(fd[0]);
    waitpid(pid, NULL, 0);
    return r;
}

/* The sqlite3 shell's raw .import into an identical, freshly migrated schema. */
static double raw_import(const char *dir, const char *dbpath, double *cpu_s)
{
    hm_db *db;
    hm_error err;
    if (hm_db_open(dbpath, &db, &err))
        return -1;
    hm_db_close(db);
    char script[1024];
    snprintf(script, sizeof script, "%s/raw.sql", dir);
    FILE *fp = fopen(script, "w");
    for (int t = 0; t < 3; t++)
        for (int k = 0; k < NCENTRES; k++)
            fprintf(fp, ".import --csv --skip 1 %s/%s_%s.csv %s\n", dir, TABLES[t], CENTRES[k], TABLES[t]);
    fclose(fp);
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "sqlite3 %s < %s", dbpath, script);
    struct rusage before, after;
    getrusage(RUSAGE_CHILDREN, &before);
    double t0 = hm_now_s();
    int rc = system(cmd);
    double dt = hm_now_s() - t0;
    getrusage(RUSAGE_CHILDREN, &after);
    *cpu_s = cpu_of(&after) - cpu_of(&before);
    return rc == 0 ? dt : -1;
}

/* ---- PostgreSQL ---- */

static char PSQL[1100] = "psql";

/* A command line running psql on url with a script or one -c command. */
static int psql(const char *url, const char *opt, const char *arg)
{
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "%s -X -q -v ON_ERROR_STOP=1 '%s' %s \"%s\" >/dev/null", PSQL, url, opt,
             arg);
    return system(cmd);
}

/* base URL with search_path = schema (created empty). */
static int pg_schema(const char *base, const char *schema, char *url, size_t size)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE; "
             "CREATE SCHEMA %s", schema, schema);
    if (psql(base, "-c", sql))
        return -1;
    snprintf(url, size, "%s%soptions=-csearch_path%%3D%s", base, strchr(base, '?') ? "&" : "?", schema);
    return 0;
}

static void pg_drop(const char *base, const char *schema)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE",
             schema);
    psql(base, "-c", sql);
}

/* psql \copy of every file into a freshly migrated schema, no checks; the
 * script ends by reading its own backend's CPU time into dir/raw_cpu. */
static double raw_pg(const char *dir, const char *url, double *cpu_s)
{
    hm_db *db;
    hm_error err;
    if (hm_db_open(url, &db, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return -1;
    }
    hm_db_close(db);
    char script[1024], stat[1024];
    snprintf(script, sizeof script, "%s/raw_pg.sql", dir);
    snprintf(stat, sizeof stat, "%s/raw_backend_pid", dir);
    FILE *fp = fopen(script, "w");
    for (int t = 0; t < 3; t++)
        for (int k = 0; k < NCENTRES; k++) {
            /* The file's columns by name (its header): the table has more
             * optional columns than the generated files carry. */
            char csv[1100], head[4096] = "";
            snprintf(csv, sizeof csv, "%s/%s_%s.csv", dir, TABLES[t], CENTRES[k]);
            FILE *in = fopen(csv, "r");
            if (!in || !fgets(head, sizeof head, in)) {
                fprintf(stderr, "bench: cannot read the header of %s\n", csv);
                if (in)
                    fclose(in);
                fclose(fp);
                return -1;
            }
            fclose(in);
            head[strcspn(head, "\r\n")] = '\0';
            fprintf(fp, "\\copy %s (%s) FROM '%s' WITH (FORMAT csv, HEADER true)\n", TABLES[t], head,
                    csv);
        }
    /* The backend's CPU, read while it still runs. */
    fprintf(fp, "SELECT pg_backend_pid() AS bpid \\gset\n\\setenv HM_BPID :bpid\n"
                "\\! cat /proc/$HM_BPID/stat > %s\n", stat);
    fclose(fp);
    struct rusage before, after;
    getrusage(RUSAGE_CHILDREN, &before);
    double t0 = hm_now_s();
    int rc = psql(url, "-f", script);
    double dt = hm_now_s() - t0;
    getrusage(RUSAGE_CHILDREN, &after);
    *cpu_s = cpu_of(&after) - cpu_of(&before);
    double server = stat_cpu_s(stat);
    if (server > 0)
        *cpu_s += server;
    return rc == 0 ? dt : -1;
}

static void rm_db(const char *p)
{
    char s[1100];
    remove(p);
    snprintf(s, sizeof s, "%s-wal", p);
    remove(s);
    snprintf(s, sizeof s, "%s-shm", p);
    remove(s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define PG_ROUNDS 3

/* The PostgreSQL rows, on the full cohort's files, when a server is given.
 * The two sides alternate for PG_ROUNDS rounds, each into fresh schemas, and
 * the medians are compared: a shared machine's speed drifts by tens of per
 * cent from one minute to the next, and one run of each side would compare
 * the drift as much as the programs. */
static void pg_rows(const char *dir, long rows)
{
    const char *base = getenv("HM_TEST_PG_URL");
    if (!base || !base[0]) {
        printf("PostgreSQL: skipped (set HM_TEST_PG_URL, e.g. from ./run pg)\n");
        return;
    }
    const char *bindir = getenv("HM_PG_BINDIR");
    if (bindir && bindir[0])
        snprintf(PSQL, sizeof PSQL, "%s/psql", bindir);
    double ours_s[PG_ROUNDS], ours_cpu[PG_ROUNDS], raw_s[PG_ROUNDS], raw_cpu[PG_ROUNDS];
    long ours_rows = 0;
    for (int k = 0; k < PG_ROUNDS; k++) {
        char s1[64], s2[64], u1[1200], u2[1200];
        snprintf(s1, sizeof s1, "hm_bench_ours_%ld_%d", (long)getpid(), k);
        snprintf(s2, sizeof s2, "hm_bench_raw_%ld_%d", (long)getpid(), k);
        if (pg_schema(base, s1, u1, sizeof u1) || pg_schema(base, s2, u2, sizeof u2)) {
            printf("PostgreSQL: skipped (%s cannot reach %s)\n", PSQL, base);
            return;
        }
        /* Migrate first, so the timed import (like \copy) writes existing tables. */
        hm_db *db;
        hm_error err;
        if (hm_db_open(u1, &db, &err) == HM_OK)
            hm_db_close(db);
        result r = ours(dir, u1);
        raw_s[k] = raw_pg(dir, u2, &raw_cpu[k]);
        pg_drop(base, s1);
        pg_drop(base, s2);
        if (!r.ok || raw_s[k] <= 0) {
            printf("PostgreSQL: a run failed\n");
            return;
        }
        ours_s[k] = r.seconds;
        ours_cpu[k] = r.cpu_s;
        ours_rows = r.rows;
    }
    printf("PostgreSQL: %d alternating rounds, medians (range)\n", PG_ROUNDS);
    double *v[4] = { ours_s, ours_cpu, raw_s, raw_cpu };
    double lo[4], med[4], hi[4];
    for (int i = 0; i < 4; i++) {
        qsort(v[i], PG_ROUNDS, sizeof(double), cmp_double);
        lo[i] = v[i][0];
        med[i] = v[i][PG_ROUNDS / 2];
        hi[i] = v[i][PG_ROUNDS - 1];
    }
    printf("%-34s %10.2f %12.0f %10.2f   (wall %.2f-%.2f)\n", "harmonic import into PostgreSQL",
           med[0], (double)ours_rows / med[0], med[1], lo[0], hi[0]);
    printf("%-34s %10.2f %12.0f %10.2f   (wall %.2f-%.2f)\n", "psql \\copy (raw, no checks)", med[2],
           (double)rows / med[2], med[3], lo[2], hi[2]);
    printf("ratio harmonic/\\copy: wall time %.2f, CPU time %.2f (target <= 2; CPU = client + "
           "server backend)\n", med[0] / med[2], med[1] / med[3]);
}

int main(int argc, char **argv)
{
    long patients = argc > 1 ? atol(argv[1]) : 100000;
    int per = argc > 2 ? atoi(argv[2]) : 3;
    const char *base = argc > 3 ? argv[3] : "/tmp";
    if (!getenv("HARMONIC_DATA"))
        setenv("HARMONIC_DATA", HM_SOURCE_DATA_DIR, 1);
    if (system("sqlite3 -version >/dev/null 2>&1")) {
        fprintf(stderr, "bench_import: the sqlite3 shell (Debian package sqlite3) is needed\n");
        return 1;
    }
    char dir[900];
    snprintf(dir, sizeof dir, "%s/hm_bench_import_%ld", base, (long)getpid());
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd))
        return 1;
    char db1[1000], db2[1000];
    snprintf(db1, sizeof db1, "%s/ours.db", dir);
    snprintf(db2, sizeof db2, "%s/raw.db", dir);

    /* Memory: a quarter-size cohort first, then the full one. */
    long small = patients / 4;
    long rows_small = generate(dir, small, per);
    result rs = ours(dir, db1);
    rm_db(db1);
    long rows = generate(dir, patients, per);
    result r = ours(dir, db1);
    double raw_cpu = 0;
    double raw_s = raw_import(dir, db2, &raw_cpu);
    if (!r.ok || !rs.ok || raw_s < 0) {
        fprintf(stderr, "bench_import: a run failed\n");
        return 1;
    }
    printf("cohort: %ld patients, %ld procedures, 7 centres, %ld rows (SQLite %s)\n", patients,
           rows - patients, rows, SQLITE_VERSION);
    printf("%-34s %10s %12s %10s\n", "", "wall s", "rows/s", "CPU s");
    printf("%-34s %10.2f %12.0f %10.2f\n", "harmonic import (validated)", r.seconds,
           (double)r.rows / r.seconds, r.cpu_s);
    printf("%-34s %10.2f %12.0f %10.2f\n", "sqlite3 .import (raw, no checks)", raw_s,
           (double)rows / raw_s, raw_cpu);
    printf("ratio harmonic/raw: wall time %.2f, CPU time %.2f (target <= 2)\n", r.seconds / raw_s,
           r.cpu_s / raw_cpu);
    printf("peak RSS of the import: %ld rows -> %.1f MiB; %ld rows -> %.1f MiB (ratio %.2f for %.1fx rows)\n",
           rows_small, rs.maxrss_kb / 1024.0, rows, r.maxrss_kb / 1024.0,
           (double)r.maxrss_kb / (double)rs.maxrss_kb, (double)rows / (double)rows_small);
    pg_rows(dir, r.rows);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd))
        return 1;
    return 0;
}
