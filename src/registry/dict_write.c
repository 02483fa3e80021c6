/*
 * dict_write.c — `harmonic dictionary`: the dictionary as aligned text for
 * people, CSV (the import template's source) or JSON for programs.
 */
#include "registry_int.h"

#include <jansson.h>
#include <string.h>

static const char *req_name(hm_required r)
{
    return r == HM_REQ_YES ? "1" : r == HM_REQ_PAIR ? "pair" : "0";
}

static void join_missing(const hm_dict_field *f, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < f->nmissing && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ";" : "", f->missing[i]);
}

static void write_csv(const hm_dict *d, FILE *out)
{
    fputs("table,field,type,unit,required,min,max,codes,missing_codes,key,description,origin\n", out);
    for (size_t i = 0; i < hm_dict_ntables(d); i++) {
        const hm_dict_table *t = hm_dict_table_at(d, i);
        for (size_t j = 0; j < t->nfields; j++) {
            const hm_dict_field *f = &t->fields[j];
            char miss[256];
            join_missing(f, miss, sizeof miss);
            const char *cells[] = { f->table, f->name, hm_field_type_name(f->type), f->unit,
                                    req_name(f->required), f->min, f->max, f->codes, miss,
                                    f->key ? "1" : "0", f->description,
                                    t->computed ? "computed" : "" };
            for (size_t k = 0; k < sizeof cells / sizeof *cells; k++) {
                if (k)
                    fputc(',', out);
                hm_csv_write_field(out, cells[k]);
            }
            fputc('\n', out);
        }
    }
}

static void write_text(const hm_dict *d, FILE *out)
{
    for (size_t i = 0; i < hm_dict_ntables(d); i++) {
        const hm_dict_table *t = hm_dict_table_at(d, i);
        fprintf(out, "%s%s (%zu fields; key:", i ? "\n" : "", t->name, t->nfields);
        for (size_t j = 0; j < t->nfields; j++)
            if (t->fields[j].key)
                fprintf(out, " %s", t->fields[j].name);
        fputs(t->computed ? "; computed by harmonic dose cohort, not imported)\n" : ")\n", out);
        for (size_t j = 0; j < t->nfields; j++) {
            const hm_dict_field *f = &t->fields[j];
            char range[80] = "";
            if (f->has_min || f->has_max)
                snprintf(range, sizeof range, "[%s..%s]", f->min, f->max);
            fprintf(out, "  %-24s %-9s %-8s %-4s %-25s %s%s%s\n", f->name,
                    hm_field_type_name(f->type), f->unit,
                    f->required == HM_REQ_YES ? "req" : f->required == HM_REQ_PAIR ? "pair" : "",
                    range, f->description, f->codes[0] ? "; codes: " : "", f->codes);
        }
    }
}

static int write_json(const hm_dict *d, FILE *out, hm_error *err)
{
    json_t *root = json_object(), *tables = json_array();
    json_object_set_new(root, "tables", tables);
    for (size_t i = 0; i < hm_dict_ntables(d); i++) {
        const hm_dict_table *t = hm_dict_table_at(d, i);
        json_t *jt = json_object(), *fields = json_array(), *keys = json_array();
        json_object_set_new(jt, "name", json_string(t->name));
        json_object_set_new(jt, "origin", json_string(t->computed ? "computed" : "import"));
        json_object_set_new(jt, "key", keys);
        json_object_set_new(jt, "fields", fields);
        for (size_t j = 0; j < t->nfields; j++) {
            const hm_dict_field *f = &t->fields[j];
            if (f->key)
                json_array_append_new(keys, json_string(f->name));
            json_t *jf = json_object();
            json_object_set_new(jf, "name", json_string(f->name));
            json_object_set_new(jf, "type", json_string(hm_field_type_name(f->type)));
            json_object_set_new(jf, "unit", json_string(f->unit));
            json_object_set_new(jf, "required", json_string(req_name(f->required)));
            if (f->has_min)
                json_object_set_new(jf, "min", json_string(f->min));
            if (f->has_max)
                json_object_set_new(jf, "max", json_string(f->max));
            if (f->codes[0] == '@')
                json_object_set_new(jf, "code_list", json_string(f->codes + 1));
            if (f->ncodes) {
                json_t *codes = json_array();
                for (size_t k = 0; k < f->ncodes; k++)
                    json_array_append_new(codes, json_string(f->code_list[k]));
                json_object_set_new(jf, "codes", codes);
            }
            json_t *miss = json_array();
            for (size_t k = 0; k < f->nmissing; k++)
                json_array_append_new(miss, json_string(f->missing[k]));
            json_object_set_new(jf, "missing_codes", miss);
            json_object_set_new(jf, "key", json_boolean(f->key));
            json_object_set_new(jf, "description", json_string(f->description));
            json_array_append_new(fields, jf);
        }
        json_array_append_new(tables, jt);
    }
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
    json_decref(root);
    return rc ? hm_error_set(err, HM_EIO, NULL, 0, NULL, "cannot write JSON") : HM_OK;
}

int hm_dict_write(const hm_dict *d, const char *format, FILE *out, hm_error *err)
{
    if (!format || !strcmp(format, "text"))
        write_text(d, out);
    else if (!strcmp(format, "csv"))
        write_csv(d, out);
    else if (!strcmp(format, "json"))
        return write_json(d, out, err);
    else
        return hm_error_set(err, HM_EINVAL, NULL, 0, "format",
                            "unknown format '%s': expected text, csv or json", format);
    return ferror(out) ? hm_error_set(err, HM_EIO, NULL, 0, NULL, "write failed") : HM_OK;
}

int hm_dict_write_template(const hm_dict *d, const char *table, FILE *out, hm_error *err)
{
    const hm_dict_table *t = hm_dict_find_table(d, table);
    if (!t)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "table", "unknown table '%s'", table);
    if (t->computed)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "table",
                            "%s is computed by harmonic dose cohort, not imported: it has no "
                            "template (harmonic dictionary shows its fields)", table);
    fprintf(out, "# harmonic import template: %s (harmonic import --centre C %s FILE.csv)\n",
            t->name, t->name);
    fputs("# Lines starting with # are ignored. Empty cells and missing codes mean unknown.\n", out);
    for (size_t j = 0; j < t->nfields; j++) {
        const hm_dict_field *f = &t->fields[j];
        fprintf(out, "# %s: %s%s%s%s", f->name, hm_field_type_name(f->type),
                f->unit[0] ? " in " : "", f->unit,
                f->required == HM_REQ_YES ? ", required"
                : f->required == HM_REQ_PAIR ? ", this or its date/day sibling required" : "");
        if (f->has_min || f->has_max)
            fprintf(out, ", %s to %s", f->has_min ? f->min : "", f->has_max ? f->max : "");
        if (f->codes[0])
            fprintf(out, ", one of %s", f->codes);
        if (f->nmissing) {
            char miss[256];
            join_missing(f, miss, sizeof miss);
            fprintf(out, ", unknown as empty or %s", miss);
        }
        if (f->key)
            fputs(", key", out);
        fputc('\n', out);
    }
    for (size_t j = 0; j < t->nfields; j++) {
        if (j)
            fputc(',', out);
        hm_csv_write_field(out, t->fields[j].name);
    }
    fputc('\n', out);
    return ferror(out) ? hm_error_set(err, HM_EIO, NULL, 0, NULL, "write failed") : HM_OK;
}
