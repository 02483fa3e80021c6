/* error.c — the error record every library call fills on failure. */
#include "hm_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void hm_error_clear(hm_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

int hm_error_set(hm_error *err, int code, const char *file, long line,
                 const char *field, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

size_t hm_error_format(const hm_error *err, char *buf, size_t size)
{
    int n = 0;
    if (err->file[0] && err->line > 0 && err->field[0])
        n = snprintf(buf, size, "%s:%ld:%s: %s", err->file, err->line, err->field, err->msg);
    else if (err->file[0] && err->line > 0)
        n = snprintf(buf, size, "%s:%ld: %s", err->file, err->line, err->msg);
    else if (err->file[0] && err->field[0])
        n = snprintf(buf, size, "%s:%s: %s", err->file, err->field, err->msg);
    else if (err->file[0])
        n = snprintf(buf, size, "%s: %s", err->file, err->msg);
    else if (err->field[0])
        n = snprintf(buf, size, "%s: %s", err->field, err->msg);
    else
        n = snprintf(buf, size, "%s", err->msg);
    return n < 0 ? 0 : (size_t)n;
}

const char *hm_strstatus(int code)
{
    switch (code) {
    case HM_OK:           return "ok";
    case HM_EINVAL:       return "invalid argument";
    case HM_EIO:          return "input/output error";
    case HM_ENOMEM:       return "out of memory";
    case HM_EDB:          return "database error";
    case HM_EPARSE:       return "malformed input";
    case HM_EVALIDATE:    return "validation failed";
    case HM_ENOTFOUND:    return "not found";
    case HM_EUNSUPPORTED: return "unsupported input";
    case HM_ENUMERIC:     return "numerical failure";
    case HM_EPERM:        return "not permitted";
    default:              return "unknown error";
    }
}
