/*
 * report_json.c — an import report for people (file:line:field: message)
 * and for machines (JSON with the same content).
 */
#include "registry_int.h"

#include <jansson.h>

void hm_import_report_print(const hm_import_report *rep, FILE *out)
{
    for (size_t i = 0; i < rep->nissues; i++) {
        const hm_issue *is = &rep->issues[i];
        const char *sev = is->severity == HM_SEV_WARNING ? "warning: " : "";
        if (is->field[0])
            fprintf(out, "%s:%ld:%s: %s%s\n", rep->file, is->line, is->field, sev, is->msg);
        else
            fprintf(out, "%s:%ld: %s%s\n", rep->file, is->line, sev, is->msg);
    }
    long shown_e = 0, shown_w = 0;
    for (size_t i = 0; i < rep->nissues; i++)
        if (rep->issues[i].severity == HM_SEV_ERROR)
            shown_e++;
        else
            shown_w++;
    if (shown_e + shown_w < rep->n_errors + rep->n_warnings)
        fprintf(out, "%s: %ld more problems not listed\n", rep->file,
                rep->n_errors + rep->n_warnings - shown_e - shown_w);
}

/* Messages quote the input, which may not be UTF-8 (or be cut inside a
 * character): JSON needs valid UTF-8, so other bytes become '?'. */
static json_t *jstr(const char *s)
{
    char buf[600];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < sizeof buf;) {
        size_t n = hm__utf8_len(p);
        if (n == 0) {
            buf[o++] = '?';
            p++;
            continue;
        }
        for (size_t i = 0; i < n && p[i]; i++)
            buf[o++] = (char)p[i];
        p += n;
    }
    buf[o] = 0;
    return json_string(buf);
}

int hm_import_report_json(const hm_import_report *rep, FILE *out, hm_error *err)
{
    json_t *root = json_object(), *issues = json_array();
    json_object_set_new(root, "file", jstr(rep->file));
    json_object_set_new(root, "table", json_string(rep->table));
    json_object_set_new(root, "centre", json_string(rep->centre));
    json_object_set_new(root, "rows_read", json_integer(rep->rows_read));
    json_object_set_new(root, "rows_stored", json_integer(rep->rows_stored));
    json_object_set_new(root, "errors", json_integer(rep->n_errors));
    json_object_set_new(root, "warnings", json_integer(rep->n_warnings));
    json_object_set_new(root, "dry_run", json_boolean(rep->dry_run));
    json_object_set_new(root, "imported", json_boolean(rep->n_errors == 0 && !rep->dry_run));
    for (size_t i = 0; i < rep->nissues; i++) {
        const hm_issue *is = &rep->issues[i];
        json_t *j = json_object();
        json_object_set_new(j, "severity",
                            json_string(is->severity == HM_SEV_ERROR ? "error" : "warning"));
        json_object_set_new(j, "line", json_integer(is->line));
        json_object_set_new(j, "field", jstr(is->field));
        json_object_set_new(j, "message", jstr(is->msg));
        json_array_append_new(issues, j);
    }
    json_object_set_new(root, "issues", issues);
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
    json_decref(root);
    return rc ? hm_error_set(err, HM_EIO, NULL, 0, NULL, "cannot write JSON report") : HM_OK;
}
