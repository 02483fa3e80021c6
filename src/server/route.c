/*
 * route.c — the API's routes, as one table (the OpenAPI test reads it), and
 * the matching of a decoded request path against it.  Parameters are
 * checked here, once, to be plain names: nothing that reaches a handler can
 * name a file or break out of an SQL identifier.
 */
#include "hm_server.h"

#include <string.h>

static const hm_route routes[] = {
    { HM_R_HEALTH, "GET", "/api/v1/health" },
    { HM_R_TABLE_GET, "GET", "/api/v1/centres/{centre}/tables/{table}" },
    { HM_R_TABLE_POST, "POST", "/api/v1/centres/{centre}/tables/{table}" },
    { HM_R_COMPLETENESS, "GET", "/api/v1/centres/{centre}/completeness" },
    { HM_R_AUDIT, "GET", "/api/v1/audit" },
    { HM_R_QUERY_OPEN, "POST", "/api/v1/queries" },
    { HM_R_QUERY_LIST, "GET", "/api/v1/centres/{centre}/queries" },
    { HM_R_QUERY_ANSWER, "POST", "/api/v1/queries/{id}/answer" },
    { HM_R_QUERY_CLOSE, "POST", "/api/v1/queries/{id}/close" },
    { HM_R_LOCK, "POST", "/api/v1/centres/{centre}/locks" },
    /* sess */
    { HM_R_SESSION_NEW, "POST", "/api/v1/session" },
    { HM_R_SESSION_GET, "GET", "/api/v1/session" },
    { HM_R_SESSION_END, "DELETE", "/api/v1/session" },
    { HM_R_TOKEN_REVOKE, "POST", "/api/v1/tokens/revoke" },
    /* web */
    { HM_R_OVERVIEW, "GET", "/api/v1/pooled/overview" },
    /* DICOM submissions (routes_submit.c) */
    { HM_R_RDSR_POST, "POST", "/api/v1/centres/{centre}/rdsr" },
    { HM_R_RT_POST, "POST", "/api/v1/centres/{centre}/rt-courses" },
    /* Background jobs and exports (jobs.c, routes_jobs.c, export.c). */
    { HM_R_JOB_SUBMIT, "POST", "/api/v1/jobs" },
    { HM_R_JOBS_LIST, "GET", "/api/v1/jobs" },
    { HM_R_JOB_GET, "GET", "/api/v1/jobs/{id}" },
    { HM_R_JOB_CANCEL, "POST", "/api/v1/jobs/{id}/cancel" },
    { HM_R_EXPORT, "GET", "/api/v1/export/{table}" },
};

size_t hm_server_nroutes(void)
{
    return sizeof routes / sizeof *routes;
}

const hm_route *hm_server_route_at(size_t i)
{
    return i < hm_server_nroutes() ? &routes[i] : NULL;
}

static int plain(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

/* Matches path against pattern: 1 matched, 0 not this pattern, -1 the shape
 * matches but a parameter is not a plain name. */
static int match_one(const char *pattern, const char *path, hm_route_match *m)
{
    const char *p = pattern, *s = path;
    int bad = 0;
    while (*p) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t seg = strcspn(s, "/");
            int is_table = !strncmp(p, "{table}", 7), is_id = !strncmp(p, "{id}", 4);
            size_t max = is_table ? 64 : is_id ? 18 : 32;
            if (seg == 0)
                return 0;
            if (!plain(s, seg, max) || (is_id && strspn(s, "0123456789") < seg))
                bad = 1;
            else if (is_id)
                memcpy(m->id_param, s, seg), m->id_param[seg] = 0;
            else if (is_table)
                memcpy(m->table, s, seg), m->table[seg] = 0;
            else
                memcpy(m->centre, s, seg), m->centre[seg] = 0;
            s += seg;
            p = close + 1;
            continue;
        }
        if (*p != *s)
            return 0;
        p++, s++;
    }
    if (*s)
        return 0;
    return bad ? -1 : 1;
}

int hm_route_match_path(const char *method, const char *path, hm_route_match *m)
{
    memset(m, 0, sizeof *m);
    if (!path || path[0] != '/')
        return 400;
    int other_method = 0, bad = 0;
    for (size_t i = 0; i < hm_server_nroutes(); i++) {
        int r = match_one(routes[i].pattern, path, m);
        if (r == 0)
            continue;
        if (r < 0) {
            bad = 1;
            continue;
        }
        if (strcmp(routes[i].method, method)) {
            other_method = 1;
            continue;
        }
        m->id = routes[i].id;
        return 200;
    }
    if (bad)
        return 400;
    return other_method ? 405 : 404;
}

/* Decodes %XX escapes of a path as libmicrohttpd does before routing; 0 if
 * an escape is malformed or decodes to NUL. */
static int unescape(const char *s, size_t n, char *out, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return 0;
            int v = 0;
            for (int j = 1; j <= 2; j++) {
                char h = s[i + j];
                v <<= 4;
                if (h >= '0' && h <= '9') v |= h - '0';
                else if (h >= 'a' && h <= 'f') v |= h - 'a' + 10;
                else if (h >= 'A' && h <= 'F') v |= h - 'A' + 10;
                else return 0;
            }
            if (v == 0)
                return 0;
            c = (char)v;
            i += 2;
        }
        if (k + 1 >= size)
            return 0;
        out[k++] = c;
    }
    out[k] = 0;
    return 1;
}

int hm_route_parse_head(const char *bytes, size_t n, char *method, size_t msize, char *path,
                        size_t psize, hm_route_match *m)
{
    memset(m, 0, sizeof *m);
    if (msize)
        method[0] = 0;
    if (psize)
        path[0] = 0;
    /* Request line: METHOD SP target SP HTTP/1.x CRLF (RFC 9112 section 3). */
    const char *eol = memchr(bytes, '\n', n);
    if (!eol)
        return 400;
    size_t len = (size_t)(eol - bytes);
    if (len && bytes[len - 1] == '\r')
        len--;
    const char *sp1 = memchr(bytes, ' ', len);
    if (!sp1 || sp1 == bytes || (size_t)(sp1 - bytes) >= msize)
        return 400;
    for (const char *c = bytes; c < sp1; c++)
        if (*c < 'A' || *c > 'Z')
            return 400;
    memcpy(method, bytes, (size_t)(sp1 - bytes));
    method[sp1 - bytes] = 0;
    const char *target = sp1 + 1;
    const char *sp2 = memchr(target, ' ', len - (size_t)(target - bytes));
    if (!sp2 || sp2 == target)
        return 400;
    size_t vlen = len - (size_t)(sp2 + 1 - bytes);
    if (vlen != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) || (sp2[8] != '0' && sp2[8] != '1'))
        return 400;
    size_t tlen = (size_t)(sp2 - target);
    const char *q = memchr(target, '?', tlen);
    if (q)
        tlen = (size_t)(q - target);
    for (size_t i = 0; i < tlen; i++)
        if ((unsigned char)target[i] <= ' ' || (unsigned char)target[i] >= 0x7f)
            return 400;
    if (!unescape(target, tlen, path, psize))
        return 400;
    /* Header lines: "name: value", up to the empty line. */
    const char *p = eol + 1, *end = bytes + n;
    for (;;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            return 400;                       /* head not terminated */
        size_t l = (size_t)(e - p);
        if (l && p[l - 1] == '\r')
            l--;
        if (l == 0)
            break;
        const char *colon = memchr(p, ':', l);
        if (!colon || colon == p)
            return 400;
        p = e + 1;
    }
    return hm_route_match_path(method, path, m);
}
