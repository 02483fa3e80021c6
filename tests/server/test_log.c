/*
 * test_log.c — the buffered request log (log.c): 8 threads writing 4,000
 * lines each at once give exactly 32,000 whole JSON lines, each thread's in
 * its own order; a path with quotes, controls and UTF-8 comes back equal
 * after parsing, one that is not UTF-8 as null, a very long one cut but the
 * line still JSON; a line is on disk within the second without any close
 * (the writer's timed wake-up), and a close writes what is left.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "srv_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DIR HM_TEST_TMPDIR
enum { THREADS = 8, PER_THREAD = 4000 };

static void *writer(void *arg)
{
    long t = (long)(intptr_t)arg;
    char path[64], user[32];
    snprintf(user, sizeof user, "t%ld", t);
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(path, sizeof path, "/api/v1/x/%d", i);
        srv_log_request("GET", path, 200, 0.25, user, "127.0.0.1");
    }
    return NULL;
}

/* Lines of the file, parsed; NULL-terminated. */
static json_t **read_lines(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t cap = 1024;
    json_t **v = malloc(cap * sizeof *v);
    char line[8192];
    *n = 0;
    while (fgets(line, sizeof line, fp)) {
        size_t len = strlen(line);
        assert_true(len > 0 && line[len - 1] == '\n');       /* whole lines only */
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o)
            fail_msg("line %zu not JSON (%s): %s", *n + 1, je.text, line);
        if (*n + 1 == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[(*n)++] = o;
    }
    fclose(fp);
    v[*n] = NULL;
    return v;
}

static void free_lines(json_t **v)
{
    for (size_t i = 0; v[i]; i++)
        json_decref(v[i]);
    free(v);
}

static void test_concurrent(void **state)
{
    (void)state;
    mkdir(DIR, 0700);
    const char *path = DIR "/concurrent.log";
    remove(path);
    hm_error err;
    assert_int_equal(srv_log_open(path, &err), HM_OK);
    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    srv_log_close();
    size_t n;
    json_t **v = read_lines(path, &n);
    assert_int_equal(n, THREADS * PER_THREAD);
    int next[THREADS] = { 0 };
    for (size_t i = 0; i < n; i++) {
        long t = atol(json_string_value(json_object_get(v[i], "user")) + 1);
        assert_true(t >= 0 && t < THREADS);
        char want[64];
        snprintf(want, sizeof want, "/api/v1/x/%d", next[t]++);
        assert_string_equal(json_string_value(json_object_get(v[i], "path")), want);
        assert_int_equal(json_integer_value(json_object_get(v[i], "status")), 200);
        assert_true(json_real_value(json_object_get(v[i], "duration_ms")) == 0.25);
        assert_string_equal(json_string_value(json_object_get(v[i], "method")), "GET");
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(next[t], PER_THREAD);
    free_lines(v);
}

static void test_values_and_timing(void **state)
{
    (void)state;
    const char *path = DIR "/values.log";
    remove(path);
    hm_error err;
    assert_int_equal(srv_log_open(path, &err), HM_OK);
    static const char odd[] = "/a \"q\" \\ \n\t\x01 \xc3\xa9 \xf0\x9f\x98\x80";
    srv_log_request("POST", odd, 422, 1.5, NULL, "::1");
    srv_log_request("GET", "/bad \xff byte", 404, 0, "u", "::1");
    char *longp = malloc(5000);
    memset(longp, '\x01', 4999);                   /* each escaped to 6 bytes */
    longp[4999] = 0;
    srv_log_request("GET", longp, 400, 0, "u", "::1");
    free(longp);
    srv_log_event("start", "detail \"x\"");
    /* On disk within a second, with no close: the writer's timed wake. */
    struct timespec ts = { 1, 200 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    size_t n;
    json_t **v = read_lines(path, &n);
    assert_int_equal(n, 4);
    assert_string_equal(json_string_value(json_object_get(v[0], "path")), odd);
    assert_true(json_is_null(json_object_get(v[0], "user")));
    assert_string_equal(json_string_value(json_object_get(v[0], "remote")), "::1");
    assert_true(json_is_null(json_object_get(v[1], "path")));     /* not UTF-8 */
    const char *cut = json_string_value(json_object_get(v[2], "path"));
    assert_non_null(cut);
    assert_true(strlen(cut) > 10 && strlen(cut) < 4999);
    assert_int_equal(strspn(cut, "\x01"), strlen(cut));
    assert_int_equal(json_integer_value(json_object_get(v[2], "status")), 400);
    assert_string_equal(json_string_value(json_object_get(v[3], "detail")), "detail \"x\"");
    free_lines(v);
    srv_log_request("GET", "/last", 200, 0, "u", "::1");
    srv_log_close();                                /* writes what is left */
    v = read_lines(path, &n);
    assert_int_equal(n, 5);
    assert_string_equal(json_string_value(json_object_get(v[4], "path")), "/last");
    free_lines(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_concurrent),
                                        cmocka_unit_test(test_values_and_timing) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
