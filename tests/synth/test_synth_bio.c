/* test_synth_bio.c — the biobank sub-study of `harmonic synth --biobank`:
 * the same seed gives the same bytes, another seed other bytes; the cohort's
 * own files are unchanged by --biobank; every batch loads into a registry in
 * one transaction; the deviations the biobank replay finds are those computed
 * here from the files themselves (delays against the protocol, logger
 * readings against the transport range, QC values against the thresholds)
 * and occur at the planned rates of data/synth/bio_params.csv (within 4
 * binomial standard deviations); questionnaire rows are on their forms. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_biobank.h"
#include "hm_testdb.h"
#include "synth_test_util.h"

#define N 8000

static void run(const char *dir, long seed, int biobank, int hospital, hm_synth_summary *s)
{
    hm_synth_opts o;
    memset(&o, 0, sizeof o);
    o.n_patients = N;
    o.seed = (uint64_t)seed;
    o.out_dir = dir;
    o.hospital_format = hospital;
    o.doses_to_truth = 1;
    o.no_events = 1;
    o.organs = "red_marrow";
    o.biobank = biobank;
    hm_error err;
    hm_error_clear(&err);
    int rc = hm_synth_run(&o, s, &err);
    if (rc)
        fprintf(stderr, "synth: %s:%ld:%s: %s\n", err.file, err.line, err.field, err.msg);
    assert_int_equal(rc, 0);
}

static int exists(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp)
        fclose(fp);
    return fp != NULL;
}

static int same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = tu_slurp(a, &na), *y = tu_slurp(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

/* Within 4 binomial standard deviations of the planned rate. */
static void near_rate(const char *what, long k, long n, double p)
{
    double sd = sqrt(n * p * (1 - p));
    fprintf(stderr, "%s: %ld of %ld (planned %.3f: %.1f +- %.1f)\n", what, k, n, p, n * p, sd);
    assert_true(n > 0);
    assert_true(fabs((double)k - n * p) <= 4 * sd + 1);
}

static double param(const char *name)
{
    char path[4096];
    hm_csv *csv;
    hm_error err;
    assert_int_equal(hm_data_csv_open("synth/bio_params.csv", path, sizeof path, &csv, &err),
                     HM_OK);
    char **f;
    size_t n;
    double v = NAN;
    while (hm_csv_next(csv, &f, &n, &err) == 1)
        if (n >= 2 && !strcmp(f[0], name))
            v = atof(f[1]);
    hm_csv_close(csv);
    assert_false(isnan(v));
    return v;
}

/* What the files say, counted here without the biobank library's rules. */
typedef struct counts {
    long samples, late, shipments, hot, qc, qc_low, withdrawn, patients;
} counts;

/* Highest temperature of a logger file. */
static double logger_max(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[256];
    double mx = -INFINITY;
    assert_non_null(fgets(line, sizeof line, fp));          /* header */
    while (fgets(line, sizeof line, fp)) {
        const char *c = strchr(line, ',');
        assert_non_null(c);
        double t = atof(c + 1);
        if (t > mx)
            mx = t;
    }
    fclose(fp);
    return mx;
}

/* Reads one centre's events.csv: collect/process times per sample, logger
 * maxima per shipment, QC values. */
static void count_centre(const char *dir, const char *code, const hm_bb_protocol *p,
                         counts *c)
{
    char path[4600];
    snprintf(path, sizeof path, "%s/biobank/%s/events.csv", dir, code);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[2048], last_logger[256] = "";
    struct { char id[24], type[32]; double t; } *col = NULL;
    size_t ncol = 0, cap = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || !strncmp(line, "event,", 6))
            continue;
        line[strcspn(line, "\r\n")] = 0;
        char *f[16] = { 0 };   /* all set below; gcc 12 -O3 cannot see it */
        int n = 0;
        for (char *s = line; n < 16; n++) {
            f[n] = s;
            char *e = strchr(s, ',');
            if (!e) {
                n++;
                break;
            }
            *e = 0;
            s = e + 1;
        }
        assert_int_equal(n, 16);
        double t;
        assert_int_equal(hm_bb_parse_time(f[1], strlen(f[1]), &t), 0);
        if (!strcmp(f[0], "collect")) {
            if (ncol == cap) {
                cap = cap ? cap * 2 : 256;
                col = realloc(col, cap * sizeof *col);
                assert_non_null(col);
            }
            snprintf(col[ncol].id, sizeof col[ncol].id, "%s", f[6]);
            snprintf(col[ncol].type, sizeof col[ncol].type, "%s", f[10]);
            col[ncol++].t = t;
            c->samples++;
        } else if (!strcmp(f[0], "process")) {
            size_t k = 0;
            while (k < ncol && strcmp(col[k].id, f[6]))
                k++;
            assert_true(k < ncol);
            const hm_bb_sample_rule *r = hm_bb_protocol_type(p, col[k].type);
            assert_non_null(r);
            c->late += (t - col[k].t) / 3600.0 > r->max_to_processing_h;
        } else if (!strcmp(f[0], "ship") && strcmp(f[15], last_logger)) {
            snprintf(last_logger, sizeof last_logger, "%s", f[15]);
            char lp[4900];
            snprintf(lp, sizeof lp, "%s/biobank/%s/%s", dir, code, f[15]);
            c->shipments++;
            c->hot += logger_max(lp) > p->transport_max_c;
        } else if (!strcmp(f[0], "qc") && strcmp(f[12], "a260_280")) {
            double v = atof(f[13]);
            c->qc++;
            c->qc_low += !strcmp(f[12], "rin") ? v < p->qc_rin_min : v < p->qc_dna_yield_ug_min;
        } else if (!strcmp(f[0], "consent_withdrawn")) {
            c->withdrawn++;
        } else if (!strcmp(f[0], "consent") && !strcmp(f[12], "storage")) {
            c->patients++;                              /* one storage consent each */
        }
    }
    fclose(fp);
    free(col);
}

static void test_reproducible(void **state)
{
    (void)state;
    char a[512], b[512], c[512], d[512];
    tu_fresh(a, sizeof a, "bio_a");
    tu_fresh(b, sizeof b, "bio_b");
    tu_fresh(c, sizeof c, "bio_c");
    tu_fresh(d, sizeof d, "bio_off");
    hm_synth_summary sa, sb, sc, sd;
    run(a, 11, 1, 1, &sa);
    run(b, 11, 1, 1, &sb);
    run(c, 12, 1, 1, &sc);
    run(d, 11, 0, 1, &sd);
    assert_true(sa.bio_events > 1000 && sa.bio_events == sb.bio_events);
    assert_int_equal(sd.bio_events, 0);
    char codes[64][16];
    size_t nc = tu_centres(codes, 64);
    int differs = 0;
    for (size_t k = 0; k < nc; k++) {
        char pa[1200], pb[1200], pc[1200], pd[1200];
        /* The cohort's own files: the same with and without --biobank. */
        static const char *const tables[] = { "patient", "procedure", "outcome", "followup" };
        for (size_t t = 0; t < 4; t++) {
            snprintf(pa, sizeof pa, "%s/%s/%s.csv", a, codes[k], tables[t]);
            snprintf(pd, sizeof pd, "%s/%s/%s.csv", d, codes[k], tables[t]);
            assert_true(same_file(pa, pd));
        }
        snprintf(pd, sizeof pd, "%s/%s/qol_item.csv", d, codes[k]);
        assert_false(exists(pd));                           /* not written without it */
        static const char *const bio[] = { "biobank/%s/events.csv", "%s/qol_item.csv" };
        for (size_t t = 0; t < 2; t++) {
            char rel[64];
            snprintf(rel, sizeof rel, bio[t], codes[k]);
            snprintf(pa, sizeof pa, "%s/%s", a, rel);
            snprintf(pb, sizeof pb, "%s/%s", b, rel);
            snprintf(pc, sizeof pc, "%s/%s", c, rel);
            if (!exists(pa))
                continue;                                   /* no patient enrolled there */
            assert_true(same_file(pa, pb));
            differs |= !same_file(pa, pc);
        }
    }
    assert_true(differs);
}

static void test_rates(void **state)
{
    (void)state;
    if (tdb_skip())
        skip();
    char dir[512];
    tu_fresh(dir, sizeof dir, "bio_rates");
    hm_synth_summary s;
    run(dir, 2024, 1, 0, &s);
    hm_bb_protocol p;
    hm_error err;
    assert_int_equal(hm_bb_protocol_load("cardiac_v1", &p, NULL, &err), HM_OK);
    char codes[64][16];
    size_t nc = tu_centres(codes, 64);
    counts c;
    memset(&c, 0, sizeof c);
    char url[1024];
    tdb_new_url("bio", url, sizeof url);
    hm_db *db = tdb_open(url);
    for (size_t k = 0; k < nc; k++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/biobank/%s/events.csv", dir, codes[k]);
        if (!exists(path))
            continue;
        count_centre(dir, codes[k], &p, &c);
        hm_bb_batch b;
        assert_int_equal(hm_bb_batch_read(path, &b, &err), HM_OK);
        int rc = hm_bb_batch_record(db, &b, &err);
        if (rc)
            fprintf(stderr, "%s:%ld:%s: %s\n", err.file, err.line, err.field, err.msg);
        assert_int_equal(rc, HM_OK);
        hm_bb_batch_free(&b);
    }
    assert_int_equal(c.samples, s.bio_samples);
    assert_int_equal(c.patients, s.bio_patients);
    assert_int_equal(c.shipments, s.bio_shipments);
    assert_int_equal(c.withdrawn, s.bio_withdrawals);
    /* The replay's flags are the deviations counted from the files. */
    hm_bb_state st;
    hm_bb_state_init(&st);
    assert_int_equal(hm_bb_load(db, &st, &err), HM_OK);
    long late = 0, hot_aliquots = 0, qc_low = 0, marked = 0;
    for (size_t i = 0; i < st.nsamples; i++) {
        late += (st.samples[i].flags & HM_BB_F_PROCESSING_DELAY) != 0;
        qc_low += (st.samples[i].flags & HM_BB_F_QC_LOW) != 0;
    }
    for (size_t i = 0; i < st.naliquots; i++) {
        hot_aliquots += (st.aliquots[i].flags & HM_BB_F_TRANSPORT_TEMP) != 0;
        qc_low += (st.aliquots[i].flags & HM_BB_F_QC_LOW) != 0;
        marked += st.aliquots[i].to_destroy;
    }
    assert_int_equal(late, c.late);
    assert_int_equal(qc_low, c.qc_low);
    assert_true(hot_aliquots >= c.hot);                 /* every aliquot of a hot shipment */
    assert_true((hot_aliquots > 0) == (c.hot > 0));
    assert_true(c.withdrawn == 0 || marked > 0);
    near_rate("processing after the limit", c.late, c.samples, param("p_late_processing"));
    near_rate("shipments with an excursion", c.hot, c.shipments, param("p_excursion"));
    near_rate("QC results below threshold", c.qc_low, c.qc, param("p_qc_low"));
    near_rate("withdrawals", c.withdrawn, c.patients, param("p_withdrawal"));
    hm_bb_state_free(&st);
    hm_db_close(db);
    tdb_cleanup();
}

/* Questionnaire rows: on their form, answers the form offers, some missing. */
static void test_questionnaires(void **state)
{
    (void)state;
    char dir[512];
    tu_fresh(dir, sizeof dir, "bio_qol");
    hm_synth_summary s;
    run(dir, 5, 1, 1, &s);
    char codes[64][16];
    size_t nc = tu_centres(codes, 64);
    long rows = 0, na = 0, face = 0;
    for (size_t k = 0; k < nc; k++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s/qol_item.csv", dir, codes[k]);
        FILE *fp = fopen(path, "r");
        if (!fp)
            continue;
        char line[512];
        assert_non_null(fgets(line, sizeof line, fp));
        assert_string_equal(line, "centre_code,assessment_id,item_id,local_patient_id,birth_date,"
                                  "instrument,form,respondent,assessment_date,response\n");
        while (fgets(line, sizeof line, fp)) {
            line[strcspn(line, "\n")] = 0;
            char *f[10] = { 0 };
            int n = 0;
            for (char *t = strtok(line, ","); t && n < 10; t = strtok(NULL, ","))
                f[n++] = t;
            assert_int_equal(n, 10);
            assert_string_equal(f[0], codes[k]);
            assert_string_equal(f[5], "pedsql_generic");        /* cardiac: Generic Core */
            /* The item's prefix is the instrument's; the respondent is the form's. */
            assert_int_equal(strncmp(f[2], "GC_", 3), 0);
            assert_true(strstr(f[6], "_self") ? !strcmp(f[7], "child") : !strcmp(f[7], "parent"));
            if (!strcmp(f[9], "NA")) {
                na++;
            } else if (strstr(f[6], "young_child_self")) {
                assert_true(!strcmp(f[9], "0") || !strcmp(f[9], "2") || !strcmp(f[9], "4"));
                face++;
            } else {
                assert_true(f[9][0] >= '0' && f[9][0] <= '4' && !f[9][1]);
            }
            rows++;
        }
        fclose(fp);
    }
    assert_int_equal(rows, s.bio_qol_rows);
    assert_true(rows > 1000 && face > 0);
    assert_true(na > 0 && na < rows / 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reproducible), cmocka_unit_test(test_rates),
        cmocka_unit_test(test_questionnaires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
