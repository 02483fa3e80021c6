/*
 * config.c — the server's one configuration file: "key = value" lines,
 * '#' starts a comment, unknown keys are errors (a typo must not silently
 * leave TLS or a limit at its default).
 */
#include "hm_server.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One request thread per core (at least 2, so that one slow request does
 * not hold every connection).  libmicrohttpd binds a connection to one
 * thread, so a thread preempted by another of the same process stalls all
 * of its connections; on the 2-core machine of issue 14, reads at 200
 * connections had p99 17-50 ms with 2 threads and 28-59 ms with 4, in
 * alternating runs on SQLite and PostgreSQL (docs/server.md, benchmark).
 * A server whose database is on another host waits on each round trip:
 * give it more (`threads` in the configuration). */
static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 2 : n > 64 ? 64 : (int)n;
}

void hm_server_config_defaults(hm_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen, sizeof cfg->listen, "127.0.0.1");
    cfg->tls = 1;
    snprintf(cfg->db, sizeof cfg->db, "harmonic.db");
    snprintf(cfg->upload_dir, sizeof cfg->upload_dir, "uploads");
    cfg->max_upload_bytes = 64u << 20;
    cfg->threads = default_threads();
    cfg->shutdown_grace_s = 30;
    cfg->install = 1;
    cfg->job_workers = 1;
    cfg->job_stale_s = 60;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static int set_str(char *dst, size_t size, const char *v, const char *path, long line,
                   const char *key, hm_error *err)
{
    if (strlen(v) >= size)
        return hm_error_set(err, HM_EINVAL, path, line, key, "value longer than %zu bytes",
                            size - 1);
    memcpy(dst, v, strlen(v) + 1);
    return HM_OK;
}

static int set_num(long long *dst, const char *v, long long lo, long long hi, const char *path,
                   long line, const char *key, hm_error *err)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return hm_error_set(err, HM_EINVAL, path, line, key,
                            "expected an integer %lld..%lld, found '%s'", lo, hi, v);
    *dst = x;
    return HM_OK;
}

static int set_key(hm_server_config *c, const char *k, const char *v, const char *path,
                   long line, hm_error *err)
{
    long long x = 0;
    int rc;
    if (!strcmp(k, "listen"))
        return set_str(c->listen, sizeof c->listen, v, path, line, k, err);
    if (!strcmp(k, "tls_cert"))
        return set_str(c->tls_cert, sizeof c->tls_cert, v, path, line, k, err);
    if (!strcmp(k, "tls_key"))
        return set_str(c->tls_key, sizeof c->tls_key, v, path, line, k, err);
    if (!strcmp(k, "db"))
        return set_str(c->db, sizeof c->db, v, path, line, k, err);
    if (!strcmp(k, "upload_dir"))
        return set_str(c->upload_dir, sizeof c->upload_dir, v, path, line, k, err);
    if (!strcmp(k, "web_dir"))
        return set_str(c->web_dir, sizeof c->web_dir, v, path, line, k, err);
    if (!strcmp(k, "log_file"))
        return set_str(c->log_file, sizeof c->log_file, v, path, line, k, err);
    /* RDSR and RT submissions (routes_submit.c): one study key file per centre. */
    if (!strcmp(k, "pseudonym_key_dir"))
        return set_str(c->pseudonym_key_dir, sizeof c->pseudonym_key_dir, v, path, line, k, err);
    if (!strcmp(k, "tls")) {
        if (strcmp(v, "on") && strcmp(v, "off"))
            return hm_error_set(err, HM_EINVAL, path, line, k, "expected on or off, found '%s'", v);
        c->tls = !strcmp(v, "on");
        return HM_OK;
    }
    if (!strcmp(k, "install")) {      /* off: serve runs no DDL (install.c) */
        if (strcmp(v, "on") && strcmp(v, "off"))
            return hm_error_set(err, HM_EINVAL, path, line, k, "expected on or off, found '%s'", v);
        c->install = !strcmp(v, "on");
        return HM_OK;
    }
    if (!strcmp(k, "port")) {
        if ((rc = set_num(&x, v, 0, 65535, path, line, k, err)) == HM_OK)
            c->port = (int)x;
        return rc;
    }
    if (!strcmp(k, "threads")) {
        if ((rc = set_num(&x, v, 1, 256, path, line, k, err)) == HM_OK)
            c->threads = (int)x;
        return rc;
    }
    if (!strcmp(k, "shutdown_grace_s")) {
        if ((rc = set_num(&x, v, 0, 3600, path, line, k, err)) == HM_OK)
            c->shutdown_grace_s = (int)x;
        return rc;
    }
    if (!strcmp(k, "dose_library"))
        return set_str(c->dose_library, sizeof c->dose_library, v, path, line, k, err);
    if (!strcmp(k, "job_workers")) {
        if ((rc = set_num(&x, v, 0, 16, path, line, k, err)) == HM_OK)
            c->job_workers = (int)x;
        return rc;
    }
    if (!strcmp(k, "job_stale_s")) {
        if ((rc = set_num(&x, v, 1, 86400, path, line, k, err)) == HM_OK)
            c->job_stale_s = (int)x;
        return rc;
    }
    if (!strcmp(k, "max_upload_bytes")) {
        if ((rc = set_num(&x, v, 1, 1LL << 40, path, line, k, err)) == HM_OK)
            c->max_upload_bytes = (uint64_t)x;
        return rc;
    }
    return hm_error_set(err, HM_EINVAL, path, line, k,
                        "unknown key (expected listen, port, tls, tls_cert, tls_key, db, "
                        "upload_dir, max_upload_bytes, log_file, threads, shutdown_grace_s, "
                        "web_dir, pseudonym_key_dir, install, job_workers, job_stale_s, "
                        "dose_library)");
}

/* Without TLS tokens would cross the network in clear: only loopback. */
static int loopback(const char *addr)
{
    return !strncmp(addr, "127.", 4) || !strcmp(addr, "::1");
}

int hm_server_config_load(const char *path, hm_server_config *cfg, hm_error *err)
{
    hm_server_config_defaults(cfg);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot read the configuration file");
    char buf[4096];
    long line = 0;
    int rc = HM_OK;
    while (rc == HM_OK && fgets(buf, sizeof buf, fp)) {
        line++;
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = 0;
        char *s = trim(buf);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = hm_error_set(err, HM_EINVAL, path, line, NULL, "expected 'key = value'");
            break;
        }
        *eq = 0;
        rc = set_key(cfg, trim(s), trim(eq + 1), path, line, err);
    }
    fclose(fp);
    if (rc)
        return rc;
    if (cfg->tls && (!cfg->tls_cert[0] || !cfg->tls_key[0]))
        return hm_error_set(err, HM_EINVAL, path, 0, "tls_cert",
                            "TLS is on: give tls_cert and tls_key (or tls = off on loopback)");
    if (!cfg->tls && !loopback(cfg->listen))
        return hm_error_set(err, HM_EINVAL, path, 0, "tls",
                            "tls = off is only allowed on a loopback address, not '%s'",
                            cfg->listen);
    return HM_OK;
}
