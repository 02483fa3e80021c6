/*
 * test_schema.c — the migrated schema and the dictionary agree: every table
 * has exactly the dictionary's columns in its order; the schema version is
 * that of the newest migration and reopening applies nothing twice; the
 * organ list carries the ICRP 103 weights.
 */
#include "test_db.h"

#include <dirent.h>
#include <math.h>

static int newest_migration(void)
{
    char dir[1024];
    hm_error err;
    assert_int_equal(hm_data_path("schema", dir, sizeof dir, &err), HM_OK);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int v = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && atoi(e->d_name) > v)
            v = atoi(e->d_name);
    closedir(d);
    return v;
}

/* How many migrations there are (the numbering may have gaps while branches merge). */
static long n_migrations(void)
{
    char dir[1024];
    hm_error err;
    assert_int_equal(hm_data_path("schema", dir, sizeof dir, &err), HM_OK);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    long n = 0;
    while ((e = readdir(d)))
        n += e->d_name[0] >= '0' && e->d_name[0] <= '9';
    closedir(d);
    return n;
}

static void test_columns_match_dictionary(void **state)
{
    (void)state;
    char url[1024];
    tdb_new_url("schema", url, sizeof url);
    hm_db *db = tdb_open(url);
    const hm_dict *d = hm_db_dict(db);
    assert_int_equal(hm_dict_ntables(d), 22);
    for (size_t i = 0; i < hm_dict_ntables(d); i++) {
        const hm_dict_table *t = hm_dict_table_at(d, i);
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM %s", t->name);
        hm_stmt *st;
        hm_error err;
        assert_int_equal(hm_db_prepare(db, sql, &st, &err), HM_OK);
        assert_int_equal(hm_stmt_step(st, &err), 0);      /* empty; names still known */
        assert_int_equal(hm_stmt_column_count(st), (int)t->nfields);
        for (size_t j = 0; j < t->nfields; j++)
            assert_string_equal(hm_stmt_column_name(st, (int)j), t->fields[j].name);
        hm_stmt_finalize(st);
        assert_string_equal(t->fields[0].name, "centre_code");
        assert_true(t->nkeys >= 1);
    }
    int v = 0;
    hm_error err;
    assert_int_equal(hm_db_schema_version(db, &v, &err), HM_OK);
    assert_int_equal(v, newest_migration());
    hm_db_close(db);
    db = tdb_open(url);                                  /* nothing re-applied */
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM schema_version"), n_migrations());
    /* A database behind (the later migrations, 003 and 002 undone) is upgraded at open. */
    static const char *undo[] = {
        "DROP TABLE chemotherapy", "DROP TABLE surgery", "DROP TABLE stem_cell_transplant",
        "DROP TABLE device", "DROP TABLE dose_event", "DROP TABLE dose_procedure",
        "DROP TABLE organ_dose_real", "DROP TABLE dose_run", "DROP TABLE dose_run_done",
        "ALTER TABLE procedure DROP COLUMN device_id", "ALTER TABLE procedure DROP COLUMN device_serial",
        "DROP TABLE epi_result", "DROP TABLE qol_item", "DROP TABLE rt_course_version", "DROP TABLE rt_dvh", "DROP TABLE bio_event", "DROP TABLE bio_protocol",
        "DELETE FROM schema_version WHERE version >= 2", NULL
    };
    for (int i = 0; undo[i]; i++)
        assert_int_equal(hm_db_exec(db, undo[i], &err), HM_OK);
    hm_db_close(db);
    db = tdb_open(url);
    assert_int_equal(hm_db_schema_version(db, &v, &err), HM_OK);
    assert_int_equal(v, newest_migration());
    assert_int_equal(tdb_count(db, "SELECT COUNT(*) FROM epi_result"), 0);
    hm_db_close(db);
}

static void test_types_round_trip_through_backend(void **state)
{
    (void)state;
    char url[1024];
    tdb_new_url("types", url, sizeof url);
    hm_db *db = tdb_open(url);
    hm_error err;
    hm_stmt *st;
    assert_int_equal(hm_db_exec(db, "CREATE TABLE t_bind (a TEXT, b BIGINT, c DOUBLE PRECISION, d TEXT)", &err), 0);
    assert_int_equal(hm_db_prepare(db, "INSERT INTO t_bind (a, b, c, d) VALUES (?, ?, ?, ?)", &st, &err), 0);
    hm_stmt_bind_text(st, 1, "it's ?");
    hm_stmt_bind_int64(st, 2, -9007199254740993LL);
    hm_stmt_bind_double(st, 3, 0.1);
    hm_stmt_bind_null(st, 4);
    assert_int_equal(hm_stmt_step(st, &err), 0);
    hm_stmt_finalize(st);
    /* '?' inside a literal is not a placeholder. */
    assert_int_equal(hm_db_prepare(db, "SELECT a, b, c, d FROM t_bind WHERE a <> 'x?' AND b < ?", &st, &err), 0);
    hm_stmt_bind_int64(st, 1, 0);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    assert_string_equal(hm_stmt_column_text(st, 0), "it's ?");
    assert_true(hm_stmt_column_int64(st, 1) == -9007199254740993LL);
    assert_true(hm_stmt_column_double(st, 2) == 0.1);
    assert_true(hm_stmt_column_isnull(st, 3));
    assert_null(hm_stmt_column_text(st, 3));
    assert_int_equal(hm_stmt_step(st, &err), 0);
    /* Reset re-runs with the bindings kept. */
    assert_int_equal(hm_stmt_reset(st), 0);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    hm_stmt_finalize(st);
    /* Nested statements: a look-up inside a loop over another result (on
     * PostgreSQL the outer rows are set aside, not lost). */
    assert_int_equal(hm_db_exec(db, "INSERT INTO t_bind (a, b) VALUES ('r2', 2)", &err), 0);
    assert_int_equal(hm_db_exec(db, "INSERT INTO t_bind (a, b) VALUES ('r3', 3)", &err), 0);
    hm_stmt *outer, *inner;
    assert_int_equal(hm_db_prepare(db, "SELECT b FROM t_bind ORDER BY b", &outer, &err), 0);
    assert_int_equal(hm_db_prepare(db, "SELECT COUNT(*) FROM t_bind WHERE b <= ?", &inner, &err), 0);
    int64_t sum = 0;
    int n = 0;
    while (hm_stmt_step(outer, &err) == 1) {
        hm_stmt_reset(inner);
        hm_stmt_bind_int64(inner, 1, hm_stmt_column_int64(outer, 0));
        assert_int_equal(hm_stmt_step(inner, &err), 1);
        sum += hm_stmt_column_int64(inner, 0) * 10 + hm_stmt_column_int64(outer, 0);
        n++;
    }
    /* rows b = -9007199254740993, 2, 3 -> counts 1, 2, 3 */
    assert_int_equal(n, 3);
    assert_true(sum == 10 - 9007199254740993LL + 20 + 2 + 30 + 3);
    hm_stmt_finalize(inner);
    hm_stmt_finalize(outer);
    /* A bad statement is an error with the engine's message, not a crash. */
    assert_int_equal(hm_db_prepare(db, "SELECT nope FROM t_bind", &st, &err), HM_EDB);
    assert_null(st);
    /* Nested transactions are refused. */
    assert_int_equal(hm_db_begin(db, &err), 0);
    assert_int_equal(hm_db_begin(db, &err), HM_EINVAL);
    assert_int_equal(hm_db_rollback(db, &err), 0);
    hm_db_close(db);
}

static void test_organs_icrp103(void **state)
{
    (void)state;
    char path[1024];
    hm_error err;
    assert_int_equal(hm_data_path("organs.csv", path, sizeof path, &err), HM_OK);
    hm_csv *csv = hm_csv_open(path, 1, &err);
    assert_non_null(csv);
    char **f;
    size_t nf;
    double wt = 0;
    int n = 0, remainder_m = 0, remainder_f = 0;
    assert_int_equal(hm_csv_next(csv, &f, &nf, &err), 1);      /* header */
    while (hm_csv_next(csv, &f, &nf, &err) == 1) {
        assert_int_equal(nf, 6);
        wt += strtod(f[2], NULL);
        if (f[3][0] == '1') {
            remainder_m += f[4][0] != 'F';
            remainder_f += f[4][0] != 'M';
        }
        if (!strcmp(f[0], "lung"))
            assert_string_equal(f[2], "0.12");
        n++;
    }
    hm_csv_close(csv);
    /* ICRP 103: named weights sum to 0.88, the remainder carries 0.12;
     * 13 remainder tissues per sex. */
    assert_true(fabs(wt - 0.88) < 1e-9);
    assert_int_equal(remainder_m, 13);
    assert_int_equal(remainder_f, 13);
    /* The organ code list of organ_dose is exactly this file. */
    hm_dict *d;
    assert_int_equal(hm_dict_load(NULL, &d, &err), HM_OK);
    const hm_dict_table *t = hm_dict_find_table(d, "organ_dose");
    const hm_dict_field *organ = &t->fields[hm_dict_field_index(t, "organ")];
    assert_int_equal(organ->ncodes, n);
    assert_string_equal(organ->code_list[0], "red_marrow");
    hm_dict_free(d);
}

int main(void)
{
    if (tdb_skip())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns_match_dictionary),
        cmocka_unit_test(test_types_round_trip_through_backend),
        cmocka_unit_test(test_organs_icrp103),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tdb_cleanup();
    return rc;
}
