/*
 * logger.c — the temperature log of a shipment (CSV from a data logger:
 * "timestamp,temperature_c", ISO 8601 times in UTC), read in one streaming
 * pass of 1 MiB blocks with a hand-written line parser: a 10^6-reading file
 * takes well under a second (bench/biobank).  Also the ISO time parser used
 * by every biobank event.
 */
#include "hm_biobank.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Days from 1970-01-01 of a proleptic Gregorian date: H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", days_from_civil
 * (howardhinnant.github.io/date_algorithms.html). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int hm_bb_parse_time(const char *s, size_t len, double *t_s)
{
    int y, mo, d, h, mi, sec = 0;
    if (len < 16 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi))
        return -1;
    size_t i = 16;
    double frac = 0;
    if (i < len && s[i] == ':') {
        if (len < 19 || digits(s + 17, 2, &sec))
            return -1;
        i = 19;
        if (i < len && s[i] == '.') {
            double scale = 0.1;
            for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
                frac += (s[i] - '0') * scale;
        }
    }
    if (i < len && s[i] == 'Z')
        i++;
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (i != len || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        sec > 59 || y < 1900)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return -1;
    *t_s = (double)days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400.0 + h * 3600.0 +
           mi * 60.0 + sec + frac;
    return 0;
}

void hm_bb_format_time(double t_s, char buf[32])
{
    if (isnan(t_s)) {
        snprintf(buf, 32, "-");
        return;
    }
    /* civil_from_days (Hinnant, as above). */
    long secs = (long)floor(t_s);
    long z = (secs >= 0 ? secs : secs - 86399) / 86400;
    long rem = secs - z * 86400;
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = (long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    /* Years 0-9999 and a time of day 0-86399 s: the text fits the 32 bytes. */
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    snprintf(buf, 32, "%04d-%02u-%02uT%02d:%02d:%02d", (int)y, m % 13, d % 32,
             (int)(rem / 3600) % 24, (int)(rem / 60 % 60), (int)(rem % 60));
}

typedef struct lstate {
    const char *name;
    double lo_c, hi_c;
    long line;
    int header_seen;
    hm_bb_logger_summary *s;
} lstate;

/* One line without its end of line. */
static int one_line(lstate *ls, const char *p, size_t n, hm_error *err)
{
    ls->line++;
    if (n && p[n - 1] == '\r')
        n--;
    if (!ls->header_seen && ls->line == 1 && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
        p += 3;                                     /* UTF-8 byte order mark */
        n -= 3;
    }
    if (n == 0 || p[0] == '#')
        return HM_OK;
    if (!ls->header_seen) {
        static const char want[] = "timestamp,temperature_c";
        if (n != sizeof want - 1 || memcmp(p, want, n))
            return hm_error_set(err, HM_EPARSE, ls->name, ls->line, NULL,
                                "expected the header 'timestamp,temperature_c', found '%.*s'",
                                (int)(n > 60 ? 60 : n), p);
        ls->header_seen = 1;
        return HM_OK;
    }
    const char *comma = memchr(p, ',', n);
    double t;
    if (!comma || hm_bb_parse_time(p, (size_t)(comma - p), &t))
        return hm_error_set(err, HM_EPARSE, ls->name, ls->line, "timestamp",
                            "expected YYYY-MM-DDThh:mm[:ss][Z] then ',temperature_c', found "
                            "'%.*s'", (int)(n > 60 ? 60 : n), p);
    char num[48];
    size_t nl = n - (size_t)(comma + 1 - p);
    if (nl == 0 || nl >= sizeof num)
        return hm_error_set(err, HM_EPARSE, ls->name, ls->line, "temperature_c",
                            "expected a temperature in degrees C");
    memcpy(num, comma + 1, nl);
    num[nl] = 0;
    char *end;
    errno = 0;
    double c = strtod(num, &end);
    if (*end || errno || !isfinite(c) || c < -273.15 || c > 1000)
        return hm_error_set(err, HM_EPARSE, ls->name, ls->line, "temperature_c",
                            "expected a temperature in degrees C (above -273.15), found '%s'",
                            num);
    hm_bb_logger_summary *s = ls->s;
    if (s->readings && t < s->last_s)
        return hm_error_set(err, HM_EPARSE, ls->name, ls->line, "timestamp",
                            "time goes backwards (the logger file must be in time order)");
    if (!s->readings) {
        s->first_s = t;
        s->min_c = s->max_c = c;
    }
    s->last_s = t;
    s->readings++;
    if (c < s->min_c)
        s->min_c = c;
    if (c > s->max_c)
        s->max_c = c;
    if (c < ls->lo_c || c > ls->hi_c) {            /* the limits themselves are inside */
        if (!s->out_of_range)
            s->first_out_s = t;
        s->out_of_range++;
    }
    return HM_OK;
}

static void summary_init(hm_bb_logger_summary *s)
{
    memset(s, 0, sizeof *s);
    s->min_c = s->max_c = s->first_s = s->last_s = s->first_out_s = NAN;
}

static int finish(lstate *ls, hm_error *err)
{
    if (!ls->s->readings)
        return hm_error_set(err, HM_EPARSE, ls->name, ls->line, NULL,
                            "no readings (expected 'timestamp,temperature_c' then one line each)");
    return HM_OK;
}

int hm_bb_logger_parse(const char *buf, size_t len, const char *name, double lo_c, double hi_c,
                       hm_bb_logger_summary *s, hm_error *err)
{
    summary_init(s);
    lstate ls = { name, lo_c, hi_c, 0, 0, s };
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || buf[i] == '\n') {
            if (i == len && i == start)
                break;
            int rc = one_line(&ls, buf + start, i - start, err);
            if (rc)
                return rc;
            start = i + 1;
        }
    }
    return finish(&ls, err);
}

int hm_bb_logger_read(const char *path, double lo_c, double hi_c, hm_bb_logger_summary *s,
                      hm_error *err)
{
    summary_init(s);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot read the logger file");
    enum { BLOCK = 1 << 20, MAXLINE = 4096 };
    char *buf = malloc(BLOCK + MAXLINE);
    if (!buf) {
        fclose(fp);
        return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
    }
    lstate ls = { path, lo_c, hi_c, 0, 0, s };
    size_t keep = 0;                                /* partial line carried to the next block */
    int rc = HM_OK;
    for (;;) {
        size_t got = fread(buf + keep, 1, BLOCK, fp);
        size_t end = keep + got, start = 0;
        for (char *nl; rc == HM_OK && (nl = memchr(buf + start, '\n', end - start));) {
            rc = one_line(&ls, buf + start, (size_t)(nl - (buf + start)), err);
            start = (size_t)(nl - buf) + 1;
        }
        if (rc)
            break;
        keep = end - start;
        if (got == 0) {
            if (keep)
                rc = one_line(&ls, buf + start, keep, err);
            break;
        }
        if (keep >= MAXLINE) {
            rc = hm_error_set(err, HM_EPARSE, path, ls.line + 1, NULL,
                              "line longer than %d bytes", MAXLINE);
            break;
        }
        memmove(buf, buf + start, keep);
    }
    if (rc == HM_OK && ferror(fp))
        rc = hm_error_set(err, HM_EIO, path, ls.line, NULL, "read error");
    free(buf);
    fclose(fp);
    return rc ? rc : finish(&ls, err);
}
