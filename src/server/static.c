/*
 * static.c — the web pages: GET (or HEAD) of "/" and "/web/..." served from
 * the configured web_dir, and nothing else.
 *
 * A file is served only when the decoded path has no segment starting with
 * '.' (no "..", no dotfiles), no backslash, a known file type, and its
 * realpath(3) lies under realpath(web_dir): a symbolic link pointing out of
 * the folder is refused too.  Every answer carries a Content-Security-Policy
 * that allows scripts, styles and fetches from this server only (no inline
 * script, no framing), X-Frame-Options DENY and X-Content-Type-Options
 * nosniff (the browser must not guess a type we did not send).
 */
#define _XOPEN_SOURCE 700          /* realpath(3) */
#include "srv_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* CSP level 3 (W3C): 'self' only; 'none' for plugins, base and framing. */
static const char CSP[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

static const struct { const char *ext, *type; } TYPES[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },       /* RFC 9239 */
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".json", "application/json" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".txt", "text/plain; charset=utf-8" },
};

int srv_static_path(const char *method, const char *path)
{
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return 0;
    return !strcmp(path, "/") || !strcmp(path, "/web") || !strncmp(path, "/web/", 5);
}

const char *srv_static_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || strchr(dot, '/'))
        return NULL;
    for (size_t i = 0; i < sizeof TYPES / sizeof *TYPES; i++)
        if (!strcmp(dot, TYPES[i].ext))
            return TYPES[i].type;
    return NULL;
}

/* The relative name a path asks for: "" for the index. */
static const char *relative(const char *path)
{
    if (!strcmp(path, "/") || !strcmp(path, "/web") || !strcmp(path, "/web/"))
        return "index.html";
    return path + 5;
}

/* No segment empty or starting with '.', no backslash: checked on the
 * decoded path, before the file system sees it. */
static int plain_segments(const char *rel)
{
    if (!*rel || strchr(rel, '\\'))
        return 0;
    for (const char *s = rel; *s;) {
        if (*s == '.' || *s == '/')
            return 0;
        s += strcspn(s, "/");
        if (*s == '/')
            s++;
        else
            break;
    }
    return rel[strlen(rel) - 1] != '/';
}

int srv_static_resolve(const char *web_dir, const char *path, char *out, size_t size,
                       const char **type)
{
    *type = NULL;
    if (!web_dir || !web_dir[0])
        return 404;
    const char *rel = relative(path);
    if (!plain_segments(rel))
        return 404;
    if (!(*type = srv_static_type(rel)))
        return 404;
    char root[PATH_MAX], full[PATH_MAX], joined[PATH_MAX * 2];
    if (!realpath(web_dir, root))
        return 404;
    snprintf(joined, sizeof joined, "%s/%s", root, rel);
    if (!realpath(joined, full))
        return 404;
    size_t n = strlen(root);
    if (strncmp(full, root, n) || full[n] != '/')
        return 404;                        /* a link out of web_dir */
    struct stat sb;
    if (stat(full, &sb) || !S_ISREG(sb.st_mode))
        return 404;
    if (strlen(full) >= size)
        return 404;
    memcpy(out, full, strlen(full) + 1);
    return 200;
}

static void headers(struct MHD_Response *resp, const char *type, const char *cache)
{
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cache-Control", cache);
}

int srv_static_reply(struct MHD_Connection *c, const char *web_dir, const char *path,
                     int *status)
{
    char full[PATH_MAX];
    const char *type;
    int st = srv_static_resolve(web_dir, path, full, sizeof full, &type);
    int fd = st == 200 ? open(full, O_RDONLY | O_CLOEXEC) : -1;
    struct stat sb;
    if (fd >= 0 && fstat(fd, &sb)) {
        close(fd);
        fd = -1;
    }
    struct MHD_Response *resp;
    if (fd < 0) {
        static char msg[] = "not found\n";
        *status = 404;
        resp = MHD_create_response_from_buffer(strlen(msg), msg, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        headers(resp, "text/plain; charset=utf-8", "no-store");
    } else {
        *status = 200;
        /* libmicrohttpd owns fd from here (closed with the response). */
        resp = MHD_create_response_from_fd((size_t)sb.st_size, fd);
        if (!resp) {
            close(fd);
            return MHD_NO;
        }
        /* Pages change with an upgrade: the browser asks again each time. */
        headers(resp, type, "no-cache");
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)*status, resp);
    MHD_destroy_response(resp);
    return ret;
}
