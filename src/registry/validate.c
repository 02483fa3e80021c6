/*
 * validate.c — field-level rules of the data dictionary: type, range, code
 * list, required, missing-value codes and X_date/X_day pairs.  Messages say
 * what was expected, so a data manager can fix the file from them alone.
 */
#include "registry_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void hm_import_report_init(hm_import_report *rep)
{
    memset(rep, 0, sizeof *rep);
}

void hm_import_report_free(hm_import_report *rep)
{
    free(rep->issues);
    rep->issues = NULL;
    rep->nissues = rep->cap = 0;
}

void hm__report_add(hm_import_report *rep, hm_severity sev, long line,
                    const char *field, const char *fmt, ...)
{
    if (sev == HM_SEV_ERROR)
        rep->n_errors++;
    else
        rep->n_warnings++;
    if (rep->nissues >= HM_REPORT_MAX_ISSUES)
        return;
    if (rep->nissues == rep->cap) {
        size_t cap = rep->cap ? 2 * rep->cap : 32;
        hm_issue *v = realloc(rep->issues, cap * sizeof *v);
        if (!v)
            return;                 /* counted, not kept */
        rep->issues = v;
        rep->cap = cap;
    }
    hm_issue *is = &rep->issues[rep->nissues++];
    is->severity = sev;
    is->line = line;
    snprintf(is->field, sizeof is->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(is->msg, sizeof is->msg, fmt, ap);
    va_end(ap);
}

int hm__parse_int(const char *s, long long *v)
{
    if (!s[0] || isspace((unsigned char)s[0]))
        return -1;
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return (*end || errno) ? -1 : 0;
}

int hm__parse_real(const char *s, double *v)
{
    if (!s[0] || isspace((unsigned char)s[0]))
        return -1;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    /* Reject hex floats, inf and nan: no hospital export means those. */
    for (const char *p = s; p < end; p++)
        if (!strchr("0123456789+-.eE", *p))
            return -1;
    return (*end || errno || !isfinite(*v)) ? -1 : 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", days_from_civil). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3u : 9u)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static int leap(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int hm__parse_date(const char *s, long *days)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return -1;
    long y = strtol(s, NULL, 10);
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap(y)))
        return -1;
    *days = days_from_civil(y, m, d);
    return 0;
}

/* YYYY-MM-DDThh:mm:ss with optional .fraction (local time of the device). */
static int valid_datetime(const char *s)
{
    long days;
    char date[11];
    if (strlen(s) < 19 || s[10] != 'T')
        return 0;
    memcpy(date, s, 10);
    date[10] = 0;
    if (hm__parse_date(date, &days))
        return 0;
    const char *t = s + 11;
    for (int i = 0; i < 8; i++)
        if ((i == 2 || i == 5) ? t[i] != ':' : !isdigit((unsigned char)t[i]))
            return 0;
    if (atoi(t) > 23 || atoi(t + 3) > 59 || atoi(t + 6) > 60)
        return 0;
    t += 8;
    if (*t == '.') {
        t++;
        if (!isdigit((unsigned char)*t))
            return 0;
        while (isdigit((unsigned char)*t))
            t++;
    }
    return *t == 0;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0 if invalid. */
size_t hm__utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if ((s[0] & 0xE0) == 0xC0) { n = 2; cp = s[0] & 0x1Fu; }
    else if ((s[0] & 0xF0) == 0xE0) { n = 3; cp = s[0] & 0x0Fu; }
    else if ((s[0] & 0xF8) == 0xF0) { n = 4; cp = s[0] & 0x07u; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    static const unsigned min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

int hm__is_pseudonym(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isdigit((unsigned char)s[n]) && !(s[n] >= 'a' && s[n] <= 'f'))
            return 0;
    return n == 64;
}

/* DICOM UI: digits and dots, components without leading zeros, <= 64 chars
 * (PS3.5 §9.1). */
static int valid_uid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.')
                return 0;
        } else if (!isdigit((unsigned char)s[i])) {
            return 0;
        } else if (s[i] == '0' && (i == 0 || s[i - 1] == '.') && s[i + 1] && s[i + 1] != '.') {
            return 0;
        }
    }
    return 1;
}

/* Pattern code lists: ICD-O-3 topography Cnn.n, morphology nnnn/b (behaviour
 * 0,1,2,3,6,9), ICD-10 Xnn or Xnn.n[n]. */
static int valid_pattern(const char *list, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    if (!strcmp(list, "@icdo3_topography"))
        return strlen(s) == 5 && u[0] == 'C' && isdigit(u[1]) && isdigit(u[2]) && u[3] == '.' &&
               isdigit(u[4]);
    if (!strcmp(list, "@icdo3_morphology"))
        return strlen(s) == 6 && isdigit(u[0]) && isdigit(u[1]) && isdigit(u[2]) &&
               isdigit(u[3]) && u[4] == '/' && strchr("012369", u[5]) && u[5];
    if (!strcmp(list, "@icd10")) {
        size_t n = strlen(s);
        if (n < 3 || !isupper(u[0]) || !isdigit(u[1]) || !isdigit(u[2]))
            return 0;
        if (n == 3)
            return 1;
        if (u[3] != '.' || n < 5 || n > 6)
            return 0;
        for (size_t i = 4; i < n; i++)
            if (!isdigit(u[i]))
                return 0;
        return 1;
    }
    return 0;
}

static const char *pattern_hint(const char *list)
{
    if (!strcmp(list, "@icdo3_topography")) return "an ICD-O-3 topography like C71.9";
    if (!strcmp(list, "@icdo3_morphology")) return "an ICD-O-3 morphology like 9500/3";
    return "an ICD-10 code like C91.0 or I42";
}

const char *hm__normalise_missing(const hm_dict_field *f, const char *v)
{
    if (!v || !v[0])
        return NULL;
    for (size_t i = 0; i < f->nmissing; i++)
        if (!strcmp(v, f->missing[i]))
            return NULL;
    return v;
}

static void range_issue(const hm_dict_field *f, long line, const char *v, hm_import_report *rep)
{
    const char *unit = f->unit[0] ? " " : "";
    if (f->has_min && f->has_max)
        hm__report_add(rep, HM_SEV_ERROR, line, f->name, "'%s' out of range: expected %s to %s%s%s",
                       v, f->min, f->max, unit, f->unit);
    else if (f->has_min)
        hm__report_add(rep, HM_SEV_ERROR, line, f->name, "'%s' out of range: expected >= %s%s%s",
                       v, f->min, unit, f->unit);
    else
        hm__report_add(rep, HM_SEV_ERROR, line, f->name, "'%s' out of range: expected <= %s%s%s",
                       v, f->max, unit, f->unit);
}

static int in_range(const hm_dict_field *f, double x)
{
    return (!f->has_min || x >= f->min_num) && (!f->has_max || x <= f->max_num);
}

/* One present value against its field; returns 1 when an error was added. */
static int check_value(const hm_dict_field *f, const char *v, long line, hm_import_report *rep)
{
    long long i;
    double x;
    long days;
    switch (f->type) {
    case HM_FT_TEXT:
        if (strlen(v) > 200) {
            hm__report_add(rep, HM_SEV_ERROR, line, f->name, "text longer than 200 characters");
            return 1;
        }
        for (const unsigned char *p = (const unsigned char *)v; *p;) {
            size_t n = hm__utf8_len(p);
            if (n == 0) {
                hm__report_add(rep, HM_SEV_ERROR, line, f->name,
                               "text is not valid UTF-8 (byte %ld): save the file as UTF-8",
                               (long)(p - (const unsigned char *)v) + 1);
                return 1;
            }
            if (*p < 0x20) {
                hm__report_add(rep, HM_SEV_ERROR, line, f->name, "control character in text");
                return 1;
            }
            p += n;
        }
        return 0;
    case HM_FT_INT:
        if (hm__parse_int(v, &i)) {
            hm__report_add(rep, HM_SEV_ERROR, line, f->name, "'%.40s' is not an integer", v);
            return 1;
        }
        if (!in_range(f, (double)i)) { range_issue(f, line, v, rep); return 1; }
        return 0;
    case HM_FT_REAL:
        if (hm__parse_real(v, &x)) {
            hm__report_add(rep, HM_SEV_ERROR, line, f->name, "'%.40s' is not a number", v);
            return 1;
        }
        if (!in_range(f, x)) { range_issue(f, line, v, rep); return 1; }
        return 0;
    case HM_FT_BOOL:
        if (strcmp(v, "0") && strcmp(v, "1")) {
            hm__report_add(rep, HM_SEV_ERROR, line, f->name, "'%.40s' is not 0 or 1", v);
            return 1;
        }
        return 0;
    case HM_FT_DATE:
        if (hm__parse_date(v, &days)) {
            hm__report_add(rep, HM_SEV_ERROR, line, f->name,
                           "'%.40s' is not a date: expected YYYY-MM-DD", v);
            return 1;
        }
        if (!in_range(f, (double)days)) { range_issue(f, line, v, rep); return 1; }
        return 0;
    case HM_FT_DATETIME:
        if (!valid_datetime(v)) {
            hm__report_add(rep, HM_SEV_ERROR, line, f->name,
                           "'%.40s' is not a date-time: expected YYYY-MM-DDThh:mm:ss", v);
            return 1;
        }
        return 0;
    case HM_FT_UID:
        if (!valid_uid(v)) {
            hm__report_add(rep, HM_SEV_ERROR, line, f->name,
                           "'%.70s' is not a DICOM UID (digits and dots, at most 64)", v);
            return 1;
        }
        return 0;
    case HM_FT_PSEUDONYM:
        if (!hm__is_pseudonym(v)) {
            hm__report_add(rep, HM_SEV_ERROR, line, f->name,
                           "'%.20s%s' is not a pseudonym (64 lowercase hex digits)", v,
                           strlen(v) > 20 ? "..." : "");
            return 1;
        }
        return 0;
    case HM_FT_BLOB:
        /* Bytes come only through the typed writers (registry_dose.c), never
         * as text: hm_registry_upsert_row refuses a value for them. */
        hm__report_add(rep, HM_SEV_ERROR, line, f->name, "bytes cannot be given as text");
        return 1;
    case HM_FT_CODE:
        if (f->codes[0] == '@' && !f->ncodes) {
            if (!valid_pattern(f->codes, v)) {
                hm__report_add(rep, HM_SEV_ERROR, line, f->name, "'%.40s' is not %s", v,
                               pattern_hint(f->codes));
                return 1;
            }
            return 0;
        }
        for (size_t k = 0; k < f->ncodes; k++)
            if (!strcmp(v, f->code_list[k]))
                return 0;
        if (f->codes[0] == '@')
            hm__report_add(rep, HM_SEV_ERROR, line, f->name,
                           "'%.40s' is not a known code (see %s)", v, hm__code_list_file(f->codes));
        else
            hm__report_add(rep, HM_SEV_ERROR, line, f->name,
                           "'%.40s' is not a known code: expected one of %s", v, f->codes);
        return 1;
    }
    return 0;
}

int hm_dict_validate_row(const hm_dict_table *t, const char *const *values,
                         long line, hm_import_report *rep)
{
    long before = rep->n_errors;
    for (size_t i = 0; i < t->nfields; i++) {
        const hm_dict_field *f = &t->fields[i];
        const char *v = hm__normalise_missing(f, values[i]);
        if (v) {
            check_value(f, v, line, rep);
            continue;
        }
        if (f->required == HM_REQ_YES) {
            if (values[i] && values[i][0])
                hm__report_add(rep, HM_SEV_ERROR, line, f->name,
                               "required value given as missing code '%s'", values[i]);
            else
                hm__report_add(rep, HM_SEV_ERROR, line, f->name, "required value is empty");
        } else if (f->required == HM_REQ_PAIR && (size_t)f->pair > i &&
                   !hm__normalise_missing(&t->fields[f->pair], values[f->pair])) {
            hm__report_add(rep, HM_SEV_ERROR, line, f->name,
                           "one of %s or %s is required", f->name, t->fields[f->pair].name);
        }
    }
    return (int)(rep->n_errors - before);
}
