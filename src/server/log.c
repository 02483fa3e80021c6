/*
 * log.c — structured logs: one JSON object per line (time, method, path,
 * status, duration, user, remote address).  Only what the handler was given
 * as path (no query string) and the user's name are written: never a token,
 * a password or a header.
 */
#include "srv_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static FILE *log_fp;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

int srv_log_open(const char *path, hm_error *err)
{
    if (!path || !path[0] || !strcmp(path, "-")) {
        log_fp = stderr;
        return HM_OK;
    }
    log_fp = fopen(path, "a");
    if (!log_fp)
        return hm_error_set(err, HM_EIO, path, 0, "log_file", "cannot open the log file");
    return HM_OK;
}

static void now_ms(char out[64])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 64, "%.20s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

static void write_line(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        return;
    pthread_mutex_lock(&log_mu);
    if (log_fp) {
        fprintf(log_fp, "%s\n", s);
        fflush(log_fp);
    }
    pthread_mutex_unlock(&log_mu);
    free(s);
}

void srv_log_request(const char *method, const char *path, int status, double duration_ms,
                     const char *user, const char *remote)
{
    char t[64];
    now_ms(t);
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(t));
    json_object_set_new(o, "method", json_string(method ? method : ""));
    /* json_string refuses invalid UTF-8 (NULL): such a path is logged as null. */
    json_t *jpath = path ? json_string(path) : NULL;
    json_object_set_new(o, "path", jpath ? jpath : json_null());
    json_object_set_new(o, "status", json_integer(status));
    double us = (double)(long long)(duration_ms * 1000.0);      /* to the microsecond */
    json_object_set_new(o, "duration_ms", json_real(us / 1000.0));
    json_object_set_new(o, "user", user && user[0] ? json_string(user) : json_null());
    json_object_set_new(o, "remote", json_string(remote ? remote : ""));
    write_line(o);
}

void srv_log_event(const char *what, const char *detail)
{
    char t[64];
    now_ms(t);
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(t));
    json_object_set_new(o, "event", json_string(what));
    json_object_set_new(o, "detail", json_string(detail ? detail : ""));
    write_line(o);
}

void srv_log_close(void)
{
    pthread_mutex_lock(&log_mu);
    if (log_fp && log_fp != stderr)
        fclose(log_fp);
    log_fp = NULL;
    pthread_mutex_unlock(&log_mu);
}
