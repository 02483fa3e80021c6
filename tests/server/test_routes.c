/*
 * test_routes.c — route matching (plain-name parameters, 400/404/405), the
 * raw request-head parser the fuzz target drives, and openapi/harmonic.yaml
 * against the route table, both ways.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hm_server.h"

#include <stdio.h>
#include <string.h>

static void test_match(void **state)
{
    (void)state;
    hm_route_match m;
    assert_int_equal(hm_route_match_path("GET", "/api/v1/health", &m), 200);
    assert_int_equal(m.id, HM_R_HEALTH);
    assert_int_equal(hm_route_match_path("POST", "/api/v1/health", &m), 405);
    assert_int_equal(hm_route_match_path("GET", "/api/v1/centres/FR01/tables/patient", &m), 200);
    assert_int_equal(m.id, HM_R_TABLE_GET);
    assert_string_equal(m.centre, "FR01");
    assert_string_equal(m.table, "patient");
    assert_int_equal(hm_route_match_path("POST", "/api/v1/centres/NO01/tables/procedure", &m), 200);
    assert_int_equal(m.id, HM_R_TABLE_POST);
    assert_string_equal(m.centre, "NO01");
    assert_int_equal(hm_route_match_path("DELETE", "/api/v1/centres/NO01/tables/procedure", &m), 405);
    assert_int_equal(hm_route_match_path("GET", "/api/v1/centres/FR01/completeness", &m), 200);
    assert_int_equal(m.id, HM_R_COMPLETENESS);
    /* Parameters that are not plain names (traversal, dots, NUL-free oddities). */
    /* Data queries: {id} is decimal digits only. */
    assert_int_equal(hm_route_match_path("POST", "/api/v1/queries/42/answer", &m), 200);
    assert_int_equal(m.id, HM_R_QUERY_ANSWER);
    assert_string_equal(m.id_param, "42");
    assert_int_equal(hm_route_match_path("POST", "/api/v1/queries/7/close", &m), 200);
    assert_int_equal(m.id, HM_R_QUERY_CLOSE);
    assert_int_equal(hm_route_match_path("POST", "/api/v1/queries/x1/close", &m), 400);
    assert_int_equal(hm_route_match_path("POST", "/api/v1/queries/1234567890123456789/close",
                                         &m), 400);
    assert_int_equal(hm_route_match_path("GET", "/api/v1/queries/1/answer", &m), 405);
    assert_int_equal(hm_route_match_path("GET", "/api/v1/centres/FR01/queries", &m), 200);
    assert_int_equal(m.id, HM_R_QUERY_LIST);
    assert_string_equal(m.centre, "FR01");
    assert_int_equal(hm_route_match_path("POST", "/api/v1/centres/FR01/locks", &m), 200);
    assert_int_equal(m.id, HM_R_LOCK);
    assert_int_equal(hm_route_match_path("GET", "/api/v1/centres/../tables/patient", &m), 400);
    assert_int_equal(hm_route_match_path("GET", "/api/v1/centres/FR01/tables/..", &m), 400);
    assert_int_equal(hm_route_match_path("POST", "/api/v1/centres/FR01/tables/a.csv", &m), 400);
    assert_int_equal(hm_route_match_path("GET", "/api/v1/centres/FR01/tables/pa tient", &m), 400);
    /* 33 characters: one too many for a centre. */
    assert_int_equal(hm_route_match_path("GET", "/api/v1/centres/ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456/"
                                                "completeness", &m), 400);
    /* More segments than any route, or none of them. */
    assert_int_equal(hm_route_match_path("GET", "/api/v1/centres/FR01/tables/../../x", &m), 404);
    assert_int_equal(hm_route_match_path("GET", "/api/v1/centres/FR01/tables/", &m), 404);
    assert_int_equal(hm_route_match_path("GET", "/etc/passwd", &m), 404);
    assert_int_equal(hm_route_match_path("GET", "api/v1/health", &m), 400);
}

static int head(const char *s, hm_route_match *m, char *path)
{
    char method[16];
    return hm_route_parse_head(s, strlen(s), method, sizeof method, path, 256, m);
}

static void test_parse_head(void **state)
{
    (void)state;
    hm_route_match m;
    char path[256];
    assert_int_equal(head("GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n", &m, path), 200);
    assert_int_equal(head("GET /api/v1/centres/FR01/tables/patient?page=2 HTTP/1.1\r\n"
                          "Authorization: Bearer hm_x\r\n\r\n", &m, path), 200);
    assert_string_equal(path, "/api/v1/centres/FR01/tables/patient");
    assert_string_equal(m.table, "patient");
    /* %2e%2e decodes to ".." and is refused as a name. */
    assert_int_equal(head("GET /api/v1/centres/%2e%2e/tables/x HTTP/1.1\r\n\r\n", &m, path), 400);
    assert_string_equal(path, "/api/v1/centres/../tables/x");
    assert_int_equal(head("GET /api/v1/centres/FR01/tables/%00 HTTP/1.1\r\n\r\n", &m, path), 400);
    assert_int_equal(head("GET /api/v1/health%2 HTTP/1.1\r\n\r\n", &m, path), 400);
    /* Malformed heads. */
    assert_int_equal(head("GET /api/v1/health\r\n\r\n", &m, path), 400);
    assert_int_equal(head("get /api/v1/health HTTP/1.1\r\n\r\n", &m, path), 400);
    assert_int_equal(head("GET /api/v1/health HTTP/2.0\r\n\r\n", &m, path), 400);
    assert_int_equal(head("GET /api/v1/health HTTP/1.1\r\nno colon\r\n\r\n", &m, path), 400);
    assert_int_equal(head("GET /api/v1/health HTTP/1.1\r\nHost: x\r\n", &m, path), 400);
}

/* "METHOD path" of every operation in the YAML's paths: section, read by
 * indentation (paths at 2 spaces, methods at 4). */
static size_t openapi_ops(char ops[][160], size_t max)
{
    char file[1024];
    snprintf(file, sizeof file, "%s/../openapi/harmonic.yaml", HM_SOURCE_DATA_DIR);
    FILE *fp = fopen(file, "r");
    assert_non_null(fp);
    char line[512], path[128] = "";
    int in_paths = 0;
    size_t n = 0;
    static const char *const methods[] = { "get", "put", "post", "delete", "patch", "head",
                                           "options", NULL };
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] && line[0] != ' ' && line[0] != '#') {
            in_paths = !strcmp(line, "paths:");
            continue;
        }
        if (!in_paths)
            continue;
        if (!strncmp(line, "  /", 3) && line[strlen(line) - 1] == ':') {
            snprintf(path, sizeof path, "%.*s", (int)strlen(line) - 3, line + 2);
            continue;
        }
        if (!strncmp(line, "    ", 4) && line[4] != ' ')
            for (int k = 0; methods[k]; k++) {
                size_t l = strlen(methods[k]);
                if (!strncmp(line + 4, methods[k], l) && line[4 + l] == ':') {
                    assert_true(n < max);
                    char up[16];
                    for (size_t i = 0; i <= l; i++)
                        up[i] = (char)(methods[k][i] >= 'a' ? methods[k][i] - 32 : methods[k][i]);
                    snprintf(ops[n++], 160, "%s %s", up, path);
                }
            }
    }
    fclose(fp);
    return n;
}

static void test_openapi_matches_routes(void **state)
{
    (void)state;
    char ops[64][160];
    size_t n = openapi_ops(ops, 64);
    assert_int_equal(n, hm_server_nroutes());
    for (size_t i = 0; i < hm_server_nroutes(); i++) {
        const hm_route *r = hm_server_route_at(i);
        char want[160];
        snprintf(want, sizeof want, "%s %s", r->method, r->pattern);
        int found = 0;
        for (size_t j = 0; j < n; j++)
            found += !strcmp(ops[j], want);
        if (found != 1)
            fprintf(stderr, "route %s is %s in openapi/harmonic.yaml\n", want,
                    found ? "repeated" : "missing");
        assert_int_equal(found, 1);
    }
    /* And every operation of the file is a route (n equal and all found). */
    for (size_t j = 0; j < n; j++) {
        int found = 0;
        for (size_t i = 0; i < hm_server_nroutes(); i++) {
            char have[160];
            snprintf(have, sizeof have, "%s %s", hm_server_route_at(i)->method,
                     hm_server_route_at(i)->pattern);
            found |= !strcmp(ops[j], have);
        }
        if (!found)
            fprintf(stderr, "openapi operation %s is not served\n", ops[j]);
        assert_true(found);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_parse_head),
        cmocka_unit_test(test_openapi_matches_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
