/*
 * test_static.c — the web pages' file serving (static.c): which paths name a
 * file under web_dir (traversal, encoded traversal, dotfiles, a symbolic link
 * out of the folder, directories, unknown types are refused), and, through a
 * server started in-process (plain HTTP on loopback), the bytes and the
 * security headers a browser gets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hm_testdb.h"
#include "hm_testserve.h"
#include "srv_int.h"

#include <curl/curl.h>
#include <sys/stat.h>

#define DIR HM_TEST_TMPDIR
#define WEB DIR "/web"

static const char INDEX[] = "<!doctype html><title>harmonic</title><script type=module "
                            "src=/web/app.js></script>\n";
static const char APP[] = "export const x = 1;\n";

static void put(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void make_tree(void)
{
    assert_int_equal(system("rm -rf " WEB " " DIR "/secret.txt"), 0);
    assert_int_equal(mkdir(WEB, 0700), 0);
    assert_int_equal(mkdir(WEB "/sub", 0700), 0);
    assert_int_equal(mkdir(WEB "/dir.js", 0700), 0);
    put(WEB "/index.html", INDEX);
    put(WEB "/app.js", APP);
    put(WEB "/style.css", "body{}\n");
    put(WEB "/.hidden.js", "secret\n");
    put(WEB "/sub/page.html", "<p>sub</p>\n");
    put(WEB "/notes.bin", "binary\n");
    put(DIR "/secret.txt", "outside web_dir\n");
    unlink(WEB "/out.txt");
    assert_int_equal(symlink(DIR "/secret.txt", WEB "/out.txt"), 0);
}

static int resolve(const char *path, const char **type)
{
    char out[4096];
    return srv_static_resolve(WEB, path, out, sizeof out, type);
}

static void test_resolve(void **state)
{
    (void)state;
    make_tree();
    const char *type;
    assert_int_equal(resolve("/", &type), 200);
    assert_string_equal(type, "text/html; charset=utf-8");
    assert_int_equal(resolve("/web/", &type), 200);
    assert_int_equal(resolve("/web/app.js", &type), 200);
    assert_string_equal(type, "text/javascript; charset=utf-8");
    assert_int_equal(resolve("/web/style.css", &type), 200);
    assert_string_equal(type, "text/css; charset=utf-8");
    assert_int_equal(resolve("/web/sub/page.html", &type), 200);
    /* Traversal (libmicrohttpd decodes %2e%2e and %2f before this), dotfiles,
     * empty segments, a backslash, a link out, a directory, an unknown type. */
    static const char *const bad[] = {
        "/web/../secret.txt", "/web/sub/../app.js", "/web/..", "/web/.hidden.js",
        "/web/sub/.", "/web//app.js", "/web/sub/", "/web/..\\secret.txt", "/web/out.txt",
        "/web/dir.js", "/web/notes.bin", "/web/missing.js", "/web/index", NULL };
    for (int i = 0; bad[i]; i++) {
        if (resolve(bad[i], &type) != 404)
            fail_msg("%s was served", bad[i]);
    }
    /* No web_dir: nothing is served. */
    char out[256];
    assert_int_equal(srv_static_resolve("", "/", out, sizeof out, &type), 404);
    assert_int_equal(srv_static_path("GET", "/"), 1);
    assert_int_equal(srv_static_path("HEAD", "/web/app.js"), 1);
    assert_int_equal(srv_static_path("POST", "/web/app.js"), 0);
    assert_int_equal(srv_static_path("GET", "/webx"), 0);
    assert_int_equal(srv_static_path("GET", "/api/v1/health"), 0);
}

/* ---- through the server ---------------------------------------------- */

typedef hm_test_buf buf;

static int port;

static long get(const char *method, const char *path, buf *body, buf *head)
{
    CURL *c = curl_easy_init();
    char u[512];
    snprintf(u, sizeof u, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);     /* send ".." as it is */
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hm_test_buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hm_test_buf_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, head);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

static void test_served(void **state)
{
    (void)state;
    make_tree();
    char url[1024];
    tdb_new_url_on(0, "static", url, sizeof url);
    hm_db *db = tdb_open(url);
    hm_db_close(db);
    hm_server_config cfg;
    hm_server_config_defaults(&cfg);
    cfg.tls = 0;
    cfg.threads = 2;
    snprintf(cfg.db, sizeof cfg.db, "%s", url);
    snprintf(cfg.upload_dir, sizeof cfg.upload_dir, "%s/uploads", DIR);
    snprintf(cfg.log_file, sizeof cfg.log_file, "%s/static.log", DIR);
    snprintf(cfg.web_dir, sizeof cfg.web_dir, "%s", WEB);
    hm_server *srv;
    hm_error err;
    assert_int_equal(hm_server_start(&cfg, &srv, &err), HM_OK);
    port = hm_server_port(srv);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    buf b = { 0 }, h = { 0 };
    assert_int_equal(get("GET", "/", &b, &h), 200);
    assert_string_equal(b.p, INDEX);
    assert_non_null(strstr(h.p, "Content-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strstr(h.p, "Content-Security-Policy: default-src 'none'; script-src 'self';"));
    assert_null(strstr(h.p, "unsafe-inline"));
    assert_non_null(strstr(h.p, "frame-ancestors 'none'"));
    assert_non_null(strstr(h.p, "X-Frame-Options: DENY\r\n"));
    assert_non_null(strstr(h.p, "X-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strstr(h.p, "Cache-Control: no-cache\r\n"));
    free(b.p), free(h.p), b = (buf){ 0 }, h = (buf){ 0 };

    assert_int_equal(get("GET", "/web/app.js", &b, &h), 200);
    assert_string_equal(b.p, APP);
    assert_non_null(strstr(h.p, "Content-Type: text/javascript; charset=utf-8\r\n"));
    free(b.p), free(h.p), b = (buf){ 0 }, h = (buf){ 0 };

    assert_int_equal(get("HEAD", "/web/app.js", &b, &h), 200);
    assert_null(b.p);
    free(h.p), h = (buf){ 0 };

    /* Refused: sent raw and percent-encoded (decoded by libmicrohttpd). */
    static const char *const bad[] = {
        "/web/../secret.txt", "/web/%2e%2e/secret.txt", "/web/..%2fsecret.txt",
        "/web/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/web/.hidden.js", "/web/%2ehidden.js",
        "/web/out.txt", "/web/sub/%2e%2e/app.js", "/web/notes.bin", NULL };
    for (int i = 0; bad[i]; i++) {
        long st = get("GET", bad[i], &b, &h);
        if (st != 404)
            fail_msg("%s: %ld", bad[i], st);
        assert_null(strstr(b.p ? b.p : "", "outside"));
        assert_null(strstr(b.p ? b.p : "", "secret"));
        assert_non_null(strstr(h.p, "X-Content-Type-Options: nosniff\r\n"));
        free(b.p), free(h.p), b = (buf){ 0 }, h = (buf){ 0 };
    }
    /* A POST to a page is no web request: the API answers (no such route). */
    assert_int_equal(get("POST", "/web/app.js", &b, &h), 404);
    free(b.p), free(h.p), b = (buf){ 0 }, h = (buf){ 0 };
    /* The API is still there, without the page headers' file types. */
    assert_int_equal(get("GET", "/api/v1/health", &b, &h), 200);
    assert_non_null(strstr(h.p, "Content-Type: application/json\r\n"));
    free(b.p), free(h.p);

    hm_server_stop(srv);
    curl_global_cleanup();
}

int main(void)
{
    mkdir(DIR, 0700);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_served),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
