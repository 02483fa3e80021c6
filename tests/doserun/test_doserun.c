/*
 * test_doserun.c — the cohort run (src/doserun) on a small synthetic
 * registry (harmonic synth + import, made by the test), with a beam
 * function of known answer (tests/support/hm_testfake.h) so the checks are
 * exact and fast:
 *  - every procedure gets best estimates, realizations, a dose_procedure row
 *    and its tier; a tier-1 procedure's dose is the sum over its events;
 *  - shared errors are visibly shared: with only the KAP-meter calibration
 *    uncertain (shared by a device), two procedures of one device have
 *    log-dose correlation ~1 across realizations, of two devices ~0; with
 *    only the individual anatomy uncertain (unshared), ~0 for the same device;
 *  - the split across ranks (each rank's share run on its own, as mpirun
 *    does) gives the same stored values as one process, bit for bit;
 *  - a killed run leaves whole procedures and a rerun finishes with the
 *    same values as an uninterrupted run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hm_doserun.h"
#include "hm_testfake.h"

#define T HM_TEST_TMPDIR
#define H HM_HARMONIC_EXE

static int fake_for_age(void *ctx, const char *age, double lateral_scale, hm_dosimetry_beam_fn *fn,
                        void **fn_ctx, hm_error *err)
{
    (void)ctx;
    (void)lateral_scale;
    (void)age;
    (void)err;
    *fn = fake_fn;
    *fn_ctx = NULL;
    return HM_OK;
}

static const hm_doserun_engine ENGINE = { fake_for_age, NULL, "direct", "fake" };

static double sized_scale = 1;
static int fake_fn_sized(void *ctx, const hm_dosimetry_beam *b, char sex, hm_dosimetry_result *r,
                         hm_error *err)
{
    int rc = fake_fn(ctx, b, sex, r, err);
    for (size_t o = 0; rc == HM_OK && o < r->n; o++)
        r->organs[o].dose_mgy_per_gy_cm2 /= sized_scale * sized_scale;
    return rc;
}

static void sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc)
        fprintf(stderr, "failed: %s\n", cmd);
    assert_int_equal(rc, 0);
}

/* A fresh copy of the base registry as dir/name.db. */
static void registry(const char *name, char *url, size_t size)
{
    snprintf(url, size, T "/%s.db", name);
    char cmd[4096];
    int n = snprintf(cmd, sizeof cmd, "rm -f %s %s-wal %s-shm && cp " T "/base.db %s", url, url, url,
                     url);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    sh(cmd);
}

static int setup(void **state)
{
    (void)state;
    fake_load_organs();
    /* 150 patients of seven centres: all three tiers. */
    sh("rm -rf " T "/cohort " T "/base.db* && " H " synth --patients 150 --seed 9 --out " T
       "/cohort >/dev/null && " H " db init --db " T "/base.db >/dev/null && "
       "for d in " T "/cohort/*/; do c=$(basename $d); " H " import --db " T
       "/base.db --centre $c --dir $d --quiet >/dev/null 2>&1 || exit 1; done");
    return 0;
}

static void run(const char *url, const char *unc, int R, int rank, int nranks,
                hm_doserun_summary *s)
{
    hm_doserun_opts o;
    hm_doserun_opts_default(&o);
    o.run_id = "test";
    o.seed = 77;
    o.realizations = R;
    o.uncertainty = unc;
    o.rank = rank;
    o.nranks = nranks;
    o.tier2_min_n = 3;
    o.commit_every = 7;
    hm_error err;
    int rc = hm_doserun_cohort(url, &ENGINE, &o, s, &err);
    if (rc) {
        char buf[1024];
        hm_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "%s\n", buf);
    }
    assert_int_equal(rc, 0);
}

static long count(const char *url, const char *sql)
{
    hm_db *db;
    hm_error err;
    assert_int_equal(hm_db_open(url, &db, &err), 0);
    hm_stmt *st;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), 0);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    long n = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    hm_db_close(db);
    return n;
}

/* Every stored value of a run, as text, for comparisons. */
static char *dump(const char *url)
{
    char cmd[2048], path[600];
    snprintf(path, sizeof path, "%s.dump", url);
    snprintf(cmd, sizeof cmd,
             "sqlite3 %s \"SELECT centre_code, source_id, organ, method, hex(dose_mgy) FROM "
             "organ_dose_real ORDER BY 1, 2, 3, 4; SELECT centre_code, source_id, organ, method, "
             "dose_mgy FROM organ_dose WHERE method <> 'synthetic' ORDER BY 1, 2, 3, 4; SELECT "
             "centre_code, procedure_id, tier_used, effective_dose_msv FROM dose_procedure ORDER BY "
             "1, 2;\" > %s", url, path);
    sh(cmd);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    assert_true(n > 1000);
    return buf;
}

/* A fake engine whose doses per KAP fall as the scale squared: the scale the
 * run asks for is visible in every tier-1 dose. */
static int sized_for_age(void *ctx, const char *age, double lateral_scale, hm_dosimetry_beam_fn *fn,
                         void **fn_ctx, hm_error *err)
{
    (void)ctx;
    (void)age;
    (void)err;
    sized_scale = lateral_scale;
    *fn = fake_fn_sized;
    *fn_ctx = NULL;
    return HM_OK;
}

/* hm_doserun_lateral_scale against hm_phantom_scale's rule on the phantoms'
 * own reference sizes (built here, not through the library's cache). */
static void test_lateral_scale(void **state)
{
    (void)state;
    struct { const char *age; char sex, ref_sex; } c[] = { { "5y", 'F', 'H' }, { "15y", 'F', 'F' },
                                                          { "adult", 'M', 'M' } };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        hm_phantom *p;
        hm_error err;
        assert_int_equal(hm_phantom_build(c[i].age, c[i].ref_sex, &p, &err), 0);
        double h = hm_phantom_height_cm(p), m = hm_phantom_mass_kg(p);
        hm_phantom_free(p);
        double sc;
        int known;
        /* 10 % taller and 1.1^3 heavier: x and y by sqrt(1.331 / 1.1) = 1.1 */
        assert_int_equal(hm_doserun_lateral_scale(c[i].age, c[i].sex, 1.1 * h, 1.331 * m, &sc, &known, &err), 0);
        assert_int_equal(known, 1);
        assert_true(fabs(sc - 1.1) < 1e-9);
        /* The mass alone: isometric, (1.331)^(1/3) = 1.1 */
        assert_int_equal(hm_doserun_lateral_scale(c[i].age, c[i].sex, NAN, 1.331 * m, &sc, &known, &err), 0);
        assert_true(known == 1 && fabs(sc - 1.1) < 1e-9);
        /* Same height, 0.81 x the mass: x and y by 0.9 */
        assert_int_equal(hm_doserun_lateral_scale(c[i].age, c[i].sex, h, 0.81 * m, &sc, &known, &err), 0);
        assert_true(fabs(sc - 0.9) < 1e-9);
        /* No (or an implausible) mass: the reference, not known */
        assert_int_equal(hm_doserun_lateral_scale(c[i].age, c[i].sex, h, NAN, &sc, &known, &err), 0);
        assert_true(known == 0 && sc == 1);
        assert_int_equal(hm_doserun_lateral_scale(c[i].age, c[i].sex, h, 1000, &sc, &known, &err), 0);
        assert_true(known == 0 && sc == 1);
    }
}

/* --size: each tier-1 procedure's doses are those of its patient's scale
 * (the fake engine divides by its square), the others' are unchanged in
 * kind, and the counts add up. */
static void test_size(void **state)
{
    (void)state;
    static const hm_doserun_engine SIZED = { sized_for_age, NULL, "direct", "fake" };
    char ref[600], sized[600];
    registry("size_ref", ref, sizeof ref);
    registry("size_on", sized, sizeof sized);
    hm_doserun_opts o;
    hm_doserun_opts_default(&o);
    o.run_id = "test";
    o.seed = 5;
    o.realizations = 0;
    o.tier2_min_n = 3;
    hm_doserun_summary s0, s1;
    hm_error err;
    assert_int_equal(hm_doserun_cohort(ref, &SIZED, &o, &s0, &err), 0);
    o.size = 1;
    assert_int_equal(hm_doserun_cohort(sized, &SIZED, &o, &s1, &err), 0);
    assert_int_equal(s0.sized + s0.size_unknown, 0);
    assert_int_equal(s1.sized + s1.size_unknown, s1.tier[1]);
    assert_true(s1.sized > 0);
    /* Per tier-1 procedure: heart dose sized / reference = 1 / scale^2. */
    hm_db *db;
    assert_int_equal(hm_db_open(sized, &db, &err), 0);
    char sql[1400];
    snprintf(sql, sizeof sql,
             "ATTACH DATABASE '%s' AS r", ref);
    hm_stmt *st;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), 0);
    assert_int_equal(hm_stmt_step(st, &err), 0);
    hm_stmt_finalize(st);
    assert_int_equal(hm_db_prepare(db,
        "SELECT p.age_days, pt.sex, p.weight_kg, p.height_cm, o.dose_mgy, q.dose_mgy FROM organ_dose o "
        "JOIN r.organ_dose q ON q.centre_code = o.centre_code AND q.source_id = o.source_id AND "
        "q.organ = o.organ AND q.realization = 0 JOIN procedure p ON p.centre_code = o.centre_code "
        "AND p.procedure_id = o.source_id JOIN patient pt ON pt.centre_code = p.centre_code AND "
        "pt.pseudonym = p.pseudonym WHERE o.organ = 'heart' AND o.method = 'rdsr_mc' AND "
        "o.realization = 0", &st, &err), 0);
    long n = 0, scaled = 0;
    while (hm_stmt_step(st, &err) == 1) {
        const char *age = hm_dosimetry_age_class(hm_stmt_column_double(st, 0));
        const char *sex = hm_stmt_column_text(st, 1);
        double w = hm_stmt_column_isnull(st, 2) ? NAN : hm_stmt_column_double(st, 2);
        double h = hm_stmt_column_isnull(st, 3) ? NAN : hm_stmt_column_double(st, 3);
        double sc;
        int known;
        assert_int_equal(hm_doserun_lateral_scale(age, sex ? sex[0] : 'U', h, w, &sc, &known, &err), 0);
        double ratio = hm_stmt_column_double(st, 4) / hm_stmt_column_double(st, 5);
        assert_true(fabs(ratio * sc * sc - 1) < 1e-6);
        n++;
        scaled += known;
    }
    hm_stmt_finalize(st);
    hm_db_close(db);
    assert_int_equal(n, s1.tier[1]);
    assert_int_equal(scaled, s1.sized);
}

static void test_whole_run(void **state)
{
    (void)state;
    char url[600];
    registry("whole", url, sizeof url);
    hm_doserun_summary s;
    run(url, NULL, 20, 0, 1, &s);
    long procs = count(url, "SELECT COUNT(*) FROM procedure");
    assert_int_equal(s.procedures, procs);
    assert_true(s.tier[1] > 0 && s.tier[2] > 0 && s.tier[3] > 0);
    assert_int_equal(s.tier[1] + s.tier[2] + s.tier[3], procs);
    assert_int_equal(count(url, "SELECT COUNT(*) FROM dose_procedure"), procs);
    assert_int_equal(count(url, "SELECT COUNT(*) FROM organ_dose_real"), 15 * procs);
    assert_int_equal(count(url, "SELECT COUNT(*) FROM organ_dose WHERE method IN ('rdsr_mc', "
                                "'kap_coefficient', 'tier3_sample')"), 15 * procs);
    assert_int_equal(count(url, "SELECT COUNT(*) FROM dose_event"),
                     count(url, "SELECT COUNT(*) FROM irradiation_event"));
    /* A tier-1 heart dose (4 per KAP, hermaphrodite below 15 y; the table
     * after the KAP meter for beams from below) is at most 4 x the summed
     * calibrated KAP and more than the table's share of it. */
    long bad = count(url,
        "SELECT COUNT(*) FROM organ_dose o JOIN dose_procedure d ON d.centre_code = o.centre_code "
        "AND d.procedure_id = o.source_id JOIN (SELECT centre_code, procedure_id, SUM(kap_used_gy_cm2) "
        "AS kap FROM dose_event GROUP BY 1, 2) k ON k.centre_code = o.centre_code AND "
        "k.procedure_id = o.source_id JOIN procedure p ON p.centre_code = o.centre_code AND "
        "p.procedure_id = o.source_id WHERE o.organ = 'heart' AND o.method = 'rdsr_mc' AND "
        "p.age_days < 5500 AND (o.dose_mgy > 4 * k.kap * 1.000001 OR o.dose_mgy < 4 * k.kap * 0.5)");
    assert_int_equal(bad, 0);
    assert_int_equal(count(url, "SELECT COUNT(*) FROM dose_run_done WHERE run_id = 'test'"), procs);
    /* The summary by age class: every tier-1 procedure in one class; the
     * fake heart dose per KAP is 2 (male) or 4 (otherwise) times the table
     * factor of beams from below (0.5 to 1), so 1 to 4 in every class. */
    hm_doserun_age_row rows[5];
    hm_error err;
    assert_int_equal(hm_doserun_summary_by_age(url, "test", rows, &err), 0);
    long n = 0;
    for (int i = 0; i < 5; i++) {
        n += rows[i].procedures;
        if (!rows[i].procedures)
            continue;
        double heart = rows[i].organ_mgy[1] / rows[i].kap_gy_cm2;
        assert_string_equal(HM_DOSERUN_SUMMARY_ORGANS[1], "heart");
        assert_true(heart >= 1 && heart <= 4 * 1.000001);
        assert_true(rows[i].effective_msv > 0);
    }
    assert_int_equal(n, s.tier[1]);
    assert_int_equal(hm_doserun_plot_anchors(rows, T "/anchors.png", "test", &err), 0);
    FILE *fp = fopen(T "/anchors.png", "rb");
    assert_non_null(fp);
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, fp), 8);
    fclose(fp);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
}

/* --skin: every tier-1 procedure with dose data gets a peak skin dose and a
 * map; the peak, for the reference-point air kerma of its events, is of the
 * order of that kerma (backscatter x f x table x inverse square: 0.5-1.5 on
 * the shared RDSRs, docs/dosimetry.md "Skin dose"). */
static void test_skin(void **state)
{
    (void)state;
    char url[600];
    registry("skin", url, sizeof url);
    hm_doserun_opts o;
    hm_doserun_opts_default(&o);
    o.run_id = "skin";
    o.realizations = 2;
    o.tier2_min_n = 3;
    o.skin = 1;
    o.max_procedures = 120;
    hm_doserun_summary s;
    hm_error err;
    assert_int_equal(hm_doserun_cohort(url, &ENGINE, &o, &s, &err), 0);
    assert_true(s.skin_maps > 0);
    assert_int_equal(s.skin_maps, s.tier[1]);
    assert_int_equal(count(url, "SELECT COUNT(*) FROM dose_procedure WHERE tier_used = 1 AND "
                                "(peak_skin_dose_mgy IS NULL OR skin_map IS NULL)"), 0);
    assert_int_equal(count(url, "SELECT COUNT(*) FROM dose_procedure WHERE tier_used > 1 AND "
                                "peak_skin_dose_mgy IS NOT NULL"), 0);
    /* PSD / total K_rp of each procedure, in tenths, outside 0.2..3: none. */
    long odd = count(url,
        "SELECT COUNT(*) FROM dose_procedure d JOIN (SELECT centre_code, procedure_id, "
        "SUM(air_kerma_rp_mgy) AS k FROM irradiation_event GROUP BY 1, 2) e ON e.centre_code = "
        "d.centre_code AND e.procedure_id = d.procedure_id WHERE d.run_id = 'skin' AND e.k > 0 AND "
        "(d.peak_skin_dose_mgy < 0.2 * e.k OR d.peak_skin_dose_mgy > 3 * e.k)");
    assert_int_equal(odd, 0);
}

/* Uncertainty files with one source only. */
static void unc_file(const char *path, const char *source, double gsd)
{
    static const char *names[] = { "kap_calibration", "table_transmission", "phantom_anatomy",
                                   "library_systematic", "geometry_imputed", "anatomy_individual",
                                   "tier2_class", "tier2_individual" };
    static const char *shared[] = { "device", "device_model", "age_class", "all", "procedure",
                                    "procedure", "tier2_class", "procedure" };
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "name,shared_by,gsd,gsd_known\n");
    for (int i = 0; i < 8; i++) {
        double g = strcmp(names[i], source) ? 1 : gsd;
        fprintf(fp, "%s,%s,%g,%g\n", names[i], shared[i], g, g);
    }
    fclose(fp);
}

typedef struct reals { char centre[16], id[80], device[200]; float v[200]; int n; } reals;

/* The lung realizations of tier-1 procedures, with their device key. */
static int load_reals(const char *url, reals *out, int max)
{
    hm_db *db;
    hm_error err;
    assert_int_equal(hm_db_open(url, &db, &err), 0);
    hm_stmt *st;
    assert_int_equal(hm_db_prepare(db,
        "SELECT r.centre_code, r.source_id, p.device_manufacturer || '|' || p.device_model, "
        "r.dose_mgy FROM organ_dose_real r JOIN procedure p ON p.centre_code = r.centre_code AND "
        "p.procedure_id = r.source_id WHERE r.organ = 'lung' AND r.method = 'rdsr_mc' "
        "ORDER BY 1, 2", &st, &err), 0);
    int n = 0;
    while (n < max && hm_stmt_step(st, &err) == 1) {
        reals *r = &out[n++];
        snprintf(r->centre, sizeof r->centre, "%.15s", hm_stmt_column_text(st, 0));
        snprintf(r->id, sizeof r->id, "%.79s", hm_stmt_column_text(st, 1));
        snprintf(r->device, sizeof r->device, "%.15s|%.150s", r->centre, hm_stmt_column_text(st, 2));
        size_t bytes;
        const void *blob = hm_stmt_column_blob(st, 3, &bytes);
        assert_non_null(blob);
        r->n = (int)(bytes / 4);
        assert_true(r->n <= 200);
        memcpy(r->v, blob, bytes);
    }
    hm_stmt_finalize(st);
    hm_db_close(db);
    return n;
}

static double log_corr(const reals *a, const reals *b)
{
    int n = a->n;
    double ma = 0, mb = 0;
    for (int i = 0; i < n; i++) {
        ma += log(a->v[i]);
        mb += log(b->v[i]);
    }
    ma /= n;
    mb /= n;
    double sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        double x = log(a->v[i]) - ma, y = log(b->v[i]) - mb;
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    return sab / sqrt(saa * sbb);
}

/* Mean correlation over pairs of the same device and of different ones. */
static void correlations(const char *url, double *same, double *other)
{
    static reals r[400];
    int n = load_reals(url, r, 400);
    assert_true(n > 10);
    double ss = 0, so = 0;
    int ns = 0, no = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            int same_dev = !strcmp(r[i].device, r[j].device);
            if (same_dev && ns < 200) {
                ss += log_corr(&r[i], &r[j]);
                ns++;
            } else if (!same_dev && no < 200) {
                so += log_corr(&r[i], &r[j]);
                no++;
            }
        }
    assert_true(ns > 5 && no > 5);
    *same = ss / ns;
    *other = so / no;
}

static void test_shared_and_unshared(void **state)
{
    (void)state;
    char url[600], unc[600];
    hm_doserun_summary s;
    registry("shared", url, sizeof url);
    snprintf(unc, sizeof unc, T "/unc_shared.csv");
    unc_file(unc, "kap_calibration", 1.4);
    run(url, unc, 200, 0, 1, &s);
    double same, other;
    correlations(url, &same, &other);
    fprintf(stderr, "shared error (device calibration): same device %.3f, other devices %.3f\n",
            same, other);
    assert_true(same > 0.99);
    assert_true(fabs(other) < 0.15);
    registry("unshared", url, sizeof url);
    snprintf(unc, sizeof unc, T "/unc_unshared.csv");
    unc_file(unc, "anatomy_individual", 1.4);
    run(url, unc, 200, 0, 1, &s);
    correlations(url, &same, &other);
    fprintf(stderr, "unshared error (individual anatomy): same device %.3f, other devices %.3f\n",
            same, other);
    assert_true(fabs(same) < 0.15);
    assert_true(fabs(other) < 0.15);
}

static void test_ranks_identical(void **state)
{
    (void)state;
    char one[600], two[600];
    hm_doserun_summary s, s0, s1;
    registry("one", one, sizeof one);
    run(one, NULL, 10, 0, 1, &s);
    registry("two", two, sizeof two);
    run(two, NULL, 10, 1, 2, &s1);           /* the ranks in either order */
    run(two, NULL, 10, 0, 2, &s0);
    assert_int_equal(s0.procedures + s1.procedures, s.procedures);
    char *a = dump(one), *b = dump(two);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* Killed in the middle: whole procedures only; the rerun finishes them. */
static int kill_after;
static void progress_kill(void *arg, long done, long total, double seconds)
{
    (void)arg;
    (void)total;
    (void)seconds;
    if (kill_after && done >= kill_after)
        raise(SIGKILL);
}

static void test_kill_and_resume(void **state)
{
    (void)state;
    char ref[600], url[600];
    hm_doserun_summary s;
    registry("ref", ref, sizeof ref);
    run(ref, NULL, 10, 0, 1, &s);
    long procs = s.procedures;
    registry("killed", url, sizeof url);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        hm_doserun_opts o;
        hm_doserun_opts_default(&o);
        o.run_id = "test";
        o.seed = 77;
        o.realizations = 10;
        o.tier2_min_n = 3;
        o.commit_every = 7;
        o.progress = progress_kill;
        kill_after = (int)(procs / 2);
        hm_error err;
        hm_doserun_cohort(url, &ENGINE, &o, &s, &err);
        _exit(3);                             /* not reached when killed */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    long done = count(url, "SELECT COUNT(*) FROM dose_run_done");
    fprintf(stderr, "killed after %ld of %ld procedures were committed\n", done, procs);
    assert_true(done > 0 && done < procs);
    assert_int_equal(done % 7, 0);             /* whole transactions of 7 */
    assert_int_equal(count(url, "SELECT COUNT(*) FROM dose_procedure"), done);
    assert_int_equal(count(url, "SELECT COUNT(*) FROM organ_dose_real"), 15 * done);
    run(url, NULL, 10, 0, 1, &s);
    assert_int_equal(s.skipped_done, done);
    assert_int_equal(s.procedures, procs - done);
    char *a = dump(ref), *b = dump(url);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_run),
        cmocka_unit_test(test_lateral_scale),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_shared_and_unshared),
        cmocka_unit_test(test_ranks_identical),
        cmocka_unit_test(test_kill_and_resume),
        cmocka_unit_test(test_skin),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
