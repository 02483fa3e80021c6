/*
 * log.c — structured logs: one JSON object per line (time, method, path,
 * status, duration, user, remote address).  Only what the handler was given
 * as path (no query string) and the user's name are written: never a token,
 * a password or a header.
 *
 * Why buffered: a line written and fflush'd under a process-wide mutex by
 * every request put a write(2) inside a lock all request threads wait for
 * (docs/server.md, benchmark).  Now a request formats its line on its own
 * stack (no allocation), and holds the lock only to copy it into a shared
 * buffer; one writer thread swaps the buffer out and writes it with one
 * write(2) outside the lock, every WRITE_EVERY_MS (a line is on disk within
 * that, well inside the second asked for), or at once when the buffer is
 * half full; srv_log_close writes what is left.  Waking the writer for
 * every line instead cost a futex wake, a context switch and a write(2) per
 * request, about 5 % of the samples of a read benchmark on 2 cores (perf).
 * Lines are copied whole, so the file only ever holds whole lines.  A full
 * buffer (the disk slower than the requests) makes the request wait for
 * the writer rather than drop its line.
 */
#include "srv_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { LOG_BUF = 1 << 18, LINE_MAX_BYTES = 2048, WRITE_EVERY_MS = 100 };

static struct {
    pthread_mutex_t mu;
    pthread_cond_t  has_data, has_room;
    pthread_t       writer;
    int             running, stop;
    int             fd, own_fd;
    char           *buf, *spare;      /* filled by requests; written by the writer */
    size_t          len;
} L = { .mu = PTHREAD_MUTEX_INITIALIZER, .has_data = PTHREAD_COND_INITIALIZER,
        .has_room = PTHREAD_COND_INITIALIZER, .fd = -1 };

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;                     /* a log that cannot be written stops no request */
        p += w;
        n -= (size_t)w;
    }
}

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&L.mu);
    for (;;) {
        if (!L.stop && L.len < LOG_BUF / 2) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += WRITE_EVERY_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&L.has_data, &L.mu, &until);
        }
        if (!L.len && !L.stop)
            continue;
        if (!L.len && L.stop)
            break;
        char *out = L.buf;
        size_t n = L.len;
        L.buf = L.spare;
        L.spare = out;
        L.len = 0;
        pthread_cond_broadcast(&L.has_room);
        pthread_mutex_unlock(&L.mu);
        write_all(L.fd, out, n);        /* outside the lock: requests go on filling */
        pthread_mutex_lock(&L.mu);
    }
    pthread_mutex_unlock(&L.mu);
    return NULL;
}

/* One log per process: a second server started in the same process (a
 * test) shares the first one's, and the last close stops the writer. */
static int opens;

int srv_log_open(const char *path, hm_error *err)
{
    pthread_mutex_lock(&L.mu);
    int shared = L.running;
    if (shared)
        opens++;
    pthread_mutex_unlock(&L.mu);
    if (shared)
        return HM_OK;
    int fd = 2, own = 0;
    if (path && path[0] && strcmp(path, "-")) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return hm_error_set(err, HM_EIO, path, 0, "log_file", "cannot open the log file");
        own = 1;
    }
    char *a = malloc(LOG_BUF), *b = malloc(LOG_BUF);
    if (!a || !b) {
        free(a);
        free(b);
        if (own)
            close(fd);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    pthread_mutex_lock(&L.mu);
    L.fd = fd;
    L.own_fd = own;
    L.buf = a;
    L.spare = b;
    L.len = 0;
    L.stop = 0;
    L.running = 1;
    opens = 1;
    pthread_mutex_unlock(&L.mu);
    if (pthread_create(&L.writer, NULL, writer_main, NULL)) {
        pthread_mutex_lock(&L.mu);
        L.running = 0;
        pthread_mutex_unlock(&L.mu);
        srv_log_close();
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "cannot start the log writer");
    }
    return HM_OK;
}

/* A line being formatted on the caller's stack.  Each string value is cut
 * at VALUE_MAX bytes of output (at a character boundary, so the line stays
 * valid JSON); 5 values and the fixed text fit in the line with room. */
enum { VALUE_MAX = 320 };
typedef struct line {
    char   s[LINE_MAX_BYTES];
    size_t n;
} line;

static void put(line *l, const char *s, size_t n)
{
    if (l->n + n >= sizeof l->s)                 /* cannot happen with VALUE_MAX */
        return;
    memcpy(l->s + l->n, s, n);
    l->n += n;
}

static void puts_(line *l, const char *s) { put(l, s, strlen(s)); }

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (!n || s[0] > 0xF4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return n;
}

static int valid_utf8(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_len(p);
        if (!n)
            return 0;
        p += n;
    }
    return 1;
}

/* A JSON string (RFC 8259 section 7), or null when s is NULL or not UTF-8
 * (as jansson's json_string refused it before). */
static void put_str(line *l, const char *s)
{
    if (!s || !valid_utf8(s)) {
        puts_(l, "null");
        return;
    }
    puts_(l, "\"");
    size_t end = l->n + VALUE_MAX;
    for (const unsigned char *p = (const unsigned char *)s; *p && l->n + 6 <= end;) {
        size_t n = utf8_len(p);
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            put(l, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            put(l, esc, 6);
        } else {
            put(l, (const char *)p, n);          /* whole characters only */
        }
        p += n;
    }
    puts_(l, "\"");
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

static void start(line *l)
{
    char t[64];
    now_ms(t);
    l->n = 0;
    puts_(l, "{\"time\":");
    put_str(l, t);
}

static void emit(line *l)
{
    l->s[l->n++] = '\n';                         /* put() leaves one byte */
    pthread_mutex_lock(&L.mu);
    while (L.running && L.len + l->n > LOG_BUF && !L.stop)
        pthread_cond_wait(&L.has_room, &L.mu);
    if (L.running && L.len + l->n <= LOG_BUF) {
        memcpy(L.buf + L.len, l->s, l->n);
        if (L.len < LOG_BUF / 2 && L.len + l->n >= LOG_BUF / 2)
            pthread_cond_signal(&L.has_data);      /* half full: write now */
        L.len += l->n;
    }
    pthread_mutex_unlock(&L.mu);
}

void srv_log_request(const char *method, const char *path, int status, double duration_ms,
                     const char *user, const char *remote)
{
    line l;
    start(&l);
    puts_(&l, ",\"method\":");
    put_str(&l, method ? method : "");
    puts_(&l, ",\"path\":");
    put_str(&l, path);
    char num[64];
    /* To the microsecond, as before (a JSON real). */
    double us = (double)(long long)(duration_ms * 1000.0);
    snprintf(num, sizeof num, ",\"status\":%d,\"duration_ms\":%.3f", status, us / 1000.0);
    puts_(&l, num);
    puts_(&l, ",\"user\":");
    put_str(&l, user && user[0] ? user : NULL);
    puts_(&l, ",\"remote\":");
    put_str(&l, remote ? remote : "");
    puts_(&l, "}");
    emit(&l);
}

void srv_log_event(const char *what, const char *detail)
{
    line l;
    start(&l);
    puts_(&l, ",\"event\":");
    put_str(&l, what);
    puts_(&l, ",\"detail\":");
    put_str(&l, detail ? detail : "");
    puts_(&l, "}");
    emit(&l);
}

void srv_log_close(void)
{
    pthread_mutex_lock(&L.mu);
    if (L.running && --opens > 0) {
        pthread_mutex_unlock(&L.mu);
        return;
    }
    L.stop = 1;
    pthread_cond_broadcast(&L.has_data);
    pthread_cond_broadcast(&L.has_room);
    int running = L.running;
    pthread_mutex_unlock(&L.mu);
    if (running)
        pthread_join(L.writer, NULL);             /* it writes what is left first */
    pthread_mutex_lock(&L.mu);
    L.running = 0;
    if (L.own_fd && L.fd >= 0)
        close(L.fd);
    L.fd = -1;
    L.own_fd = 0;
    free(L.buf);
    free(L.spare);
    L.buf = L.spare = NULL;
    L.len = 0;
    pthread_mutex_unlock(&L.mu);
}
