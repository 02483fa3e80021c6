/*
 * test_real_rate.c — how fast packed realizations are written and how big
 * they are: a 10% sample of the 100,000-procedure cohort (10,000 procedures
 * x 15 organs = 150,000 rows of 200 float32, HM_REAL_RATE_PROCS to change)
 * written the way the dose runner writes (hm_dose_writer, a commit every 500
 * procedures, each procedure marked done), then streamed back for one organ.
 * Prints rows/s, bytes per row on disk and the size extrapolated to 1.5 and
 * 4.5 million rows; checks every row is there and reads back exactly.
 * Labelled nosan: a measurement, too slow under the sanitizers.
 */
#include "test_db.h"

#include <sys/stat.h>
#include <time.h>

#define NORGANS 15
#define NREAL 200

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct reader { long rows; double sum; int bad; } reader;

static int read_one(void *arg, const hm_realization_row *row)
{
    reader *r = arg;
    r->rows++;
    r->bad |= row->n != NREAL;
    for (int i = 0; i < row->n; i++)
        r->sum += row->dose_mgy[i];
    return 0;
}

static void test_rate(void **state)
{
    (void)state;
    const char *env = getenv("HM_REAL_RATE_PROCS");
    long nproc = env ? strtol(env, NULL, 10) : 10000;
    char url[1024], path[1024];
    tdb_new_url("rate", url, sizeof url);
    hm_db *db = tdb_open(url);
    hm_import_report rep;
    assert_int_equal(tdb_import(db, "FR01", "centre", "c.csv", FX_CENTRE_FR, &rep), HM_OK);
    hm_import_report_free(&rep);
    assert_int_equal(tdb_import(db, "FR01", "patient", "p.csv", FX_PATIENT_FR, &rep), HM_OK);
    hm_import_report_free(&rep);
    snprintf(path, sizeof path, "%s/procs.csv", HM_TEST_TMPDIR);
    FILE *fp = fopen(path, "w");
    fputs("centre_code,procedure_id,pseudonym,proc_day,exam_type,category,kap_total_gy_cm2,dose_tier\n", fp);
    for (long i = 0; i < nproc; i++)
        fprintf(fp, "FR01,R%06ld," PSEUDO("01") ",%ld,diag_cath,diagnostic,2.5,2\n", i, 30 + i % 5000);
    fclose(fp);
    hm_error err;
    hm_import_report_init(&rep);
    assert_int_equal(hm_registry_import_csv(db, "FR01", "procedure", path, &rep, &err), HM_OK);
    hm_import_report_free(&rep);

    const hm_dict_table *t = hm_dict_find_table(hm_db_dict(db), "organ_dose_real");
    const hm_dict_field *of = &t->fields[hm_dict_field_index(t, "organ")];
    assert_true(of->ncodes >= NORGANS);
    assert_int_equal(hm_dose_run_open(db, "rate", "{}", "test", "none", NULL, &err), 0);
    hm_dose_writer *w;
    assert_int_equal(hm_dose_writer_open(db, "rate", 500, &w, &err), 0);
    float v[NREAL];
    double expect = 0;
    double t0 = now_s();
    for (long p = 0; p < nproc; p++) {
        char id[32];
        snprintf(id, sizeof id, "R%06ld", p);
        assert_int_equal(hm_dose_writer_start(w, &err), 0);
        for (int o = 0; o < NORGANS; o++) {
            for (int k = 0; k < NREAL; k++)
                v[k] = (float)(p % 97) * 0.25f + (float)k * 0.0625f;
            if (o == 0)
                for (int k = 0; k < NREAL; k++)
                    expect += v[k];
            int rc = hm_registry_put_realizations(db, "FR01", "procedure", id, of->code_list[o],
                                                  "kap_coefficient", "rate", v, NREAL, &err);
            if (rc)
                fail_msg("%s", err.msg);
        }
        assert_int_equal(hm_dose_writer_done(w, "FR01", id, &err), 0);
    }
    assert_int_equal(hm_dose_writer_close(w, &err), 0);
    double dt = now_s() - t0;
    long rows = nproc * NORGANS;
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM organ_dose_real"), rows);

    double t1 = now_s();
    reader r = { 0, 0, 0 };
    assert_int_equal(hm_registry_read_realizations(db, of->code_list[0], NULL, read_one, &r, &err), 0);
    double rt = now_s() - t1;
    assert_int_equal(r.rows, nproc);
    assert_int_equal(r.bad, 0);
    assert_true(r.sum == expect);      /* exact: every value is a multiple of 1/16 */

    double bytes;
    if (hm_db_kind(db) == HM_DB_SQLITE) {
        hm_db_close(db);                /* the last connection checkpoints the WAL into the file */
        db = NULL;
        struct stat sb;
        assert_int_equal(stat(url, &sb), 0);
        bytes = (double)sb.st_size;     /* the whole file: other tables are tiny */
    } else {
        bytes = (double)tdb_count(db, "SELECT pg_total_relation_size('organ_dose_real')");
        hm_db_close(db);
    }
    double per_row = bytes / (double)rows;
    printf("organ_dose_real on %s: %ld rows of %d float32 written in %.2f s = %.0f rows/s "
           "(%.0f procedures/s, commit every 500); streamed one organ (%ld rows) in %.3f s\n",
           tdb_is_pg() ? "PostgreSQL" : "SQLite", rows, NREAL, dt, (double)rows / dt,
           (double)nproc / dt, r.rows, rt);
    printf("size: %.0f bytes/row on disk (payload %d); 1.5e6 rows (100,000 procedures x 15 organs) "
           "= %.2f GB; 4.5e6 rows (100,000 patients x 3 procedures x 15) = %.2f GB\n",
           per_row, NREAL * 4, per_row * 1.5e6 / 1e9, per_row * 4.5e6 / 1e9);
}

int main(void)
{
    if (tdb_skip())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tdb_cleanup();
    return rc;
}
