/*
 * test_rows.c — the table-read handler (routes_tables.c) on SQLite, called
 * directly: the JSON it writes itself (escapes, non-UTF-8 text, reals, ints,
 * NULLs) parsed back by jansson and compared with the values inserted by
 * plain SQL; paging; and the same bodies whether the statement comes from the
 * pooled connection's cache (first use, reuse, another shape) or is prepared
 * each time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "srv_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], dbpath[128];

/* Raw bytes of D1's notes: quote, backslash, newline, tab, a control
 * character, a slash and UTF-8 (e acute, U+1F600). */
static const char notes1[] = "say \"hi\" \\ back\nline\ttab \x01 a/b \xc3\xa9 \xf0\x9f\x98\x80";

static void make_db(void)
{
    snprintf(dir, sizeof dir, "/tmp/hm_test_rows_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/r.db", dir);
    hm_db *db;
    hm_error err;
    assert_int_equal(hm_db_open(dbpath, &db, &err), HM_OK);
    assert_int_equal(hm_db_exec(db, "INSERT INTO centre VALUES ('FR01','FR','Bench','both')",
                                &err), HM_OK);
    hm_stmt *st;
    assert_int_equal(hm_db_prepare(db, "INSERT INTO device (centre_code, device_id, notes, "
                                   "kap_calibration, source_isocentre_mm, table_lateral_sign) "
                                   "VALUES ('FR01', 'D1', ?, 0.1, 1000, -1)", &st, &err), HM_OK);
    hm_stmt_bind_text(st, 1, notes1);
    assert_int_equal(hm_stmt_step(st, &err), 0);
    hm_stmt_finalize(st);
    /* Not UTF-8 (a lone 0xFF byte): served as "?". */
    assert_int_equal(hm_db_exec(db, "INSERT INTO device (centre_code, device_id, notes) VALUES "
                                "('FR01', 'D2', CAST(X'41FF42' AS TEXT))", &err), HM_OK);
    hm_db_close(db);
}

static json_t *get(hm_db *db, srv_stmt_cache *c, const char *centre, long page, long size,
                   char **body)
{
    hm_route_match m = { .id = HM_R_TABLE_GET };
    snprintf(m.centre, sizeof m.centre, "%s", centre);
    snprintf(m.table, sizeof m.table, "device");
    srv_request q = { .route = &m, .page = page, .page_size = size, .stmts = c };
    srv_reply r = { 0 };
    srv_route_table_get(db, &q, &r);
    assert_int_equal(r.status, 200);
    json_error_t je;
    json_t *o = json_loads(r.body, 0, &je);
    if (!o)
        fail_msg("not JSON (%s): %s", je.text, r.body);
    *body = r.body;
    return o;
}

static void test_rows(void **state)
{
    (void)state;
    make_db();
    srv_pool *pool;
    hm_error err;
    assert_int_equal(srv_pool_open(dbpath, 1, &pool, &err), HM_OK);
    hm_db *db = srv_pool_get(pool);
    srv_stmt_cache *c = srv_pool_stmts(pool, db);
    assert_non_null(c);

    char *b0, *b1, *b2, *b3, *b4;
    json_t *o = get(db, c, "FR01", 0, 1, &b0);
    assert_string_equal(json_string_value(json_object_get(o, "table")), "device");
    assert_int_equal(json_integer_value(json_object_get(o, "next_page")), 1);
    json_t *rows = json_object_get(o, "rows");
    assert_int_equal(json_array_size(rows), 1);
    json_t *d1 = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(d1, "device_id")), "D1");
    assert_string_equal(json_string_value(json_object_get(d1, "notes")), notes1);
    assert_true(json_is_real(json_object_get(d1, "kap_calibration")));
    assert_true(json_real_value(json_object_get(d1, "kap_calibration")) == 0.1);
    assert_true(json_is_real(json_object_get(d1, "source_isocentre_mm")));
    assert_true(json_real_value(json_object_get(d1, "source_isocentre_mm")) == 1000.0);
    assert_int_equal(json_integer_value(json_object_get(d1, "table_lateral_sign")), -1);
    assert_true(json_is_null(json_object_get(d1, "model")));
    /* Every column of the dictionary, in its order. */
    const hm_dict_table *t = hm_dict_find_table(hm_db_dict(db), "device");
    assert_int_equal(json_object_size(d1), t->nfields);
    json_decref(o);

    o = get(db, c, "FR01", 1, 1, &b1);               /* the cached statement, rebound */
    assert_true(json_is_null(json_object_get(o, "next_page")));
    json_t *d2 = json_array_get(json_object_get(o, "rows"), 0);
    assert_string_equal(json_string_value(json_object_get(d2, "device_id")), "D2");
    assert_string_equal(json_string_value(json_object_get(d2, "notes")), "?");
    json_decref(o);

    o = get(db, c, "all", 0, 10, &b2);               /* the pooled shape: its own statement */
    assert_int_equal(json_array_size(json_object_get(o, "rows")), 2);
    json_decref(o);
    o = get(db, c, "NO01", 0, 10, &b3);              /* no rows */
    assert_int_equal(json_array_size(json_object_get(o, "rows")), 0);
    json_decref(o);

    /* Prepared each time (no cache): byte for byte the same body. */
    o = get(db, NULL, "FR01", 0, 1, &b4);
    assert_string_equal(b4, b0);
    json_decref(o);
    free(b0), free(b1), free(b2), free(b3), free(b4);

    srv_pool_put(pool, db);
    srv_pool_close(pool);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_rows) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
