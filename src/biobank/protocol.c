/*
 * protocol.c — the sampling protocol of one study arm as data: a CSV file of
 * records "protocol,ARM,VERSION", "sample,...", "timepoint,...",
 * "transport,...", "qc,METRIC,min,max" (data/biobank/protocol_*_v1.csv says
 * what each column is and where the defaults come from).
 */
#include "hm_biobank.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int num(const char *s, const char *name, long line, const char *field, int allow_empty,
               double *out, hm_error *err)
{
    if (!s[0] && allow_empty) {
        *out = NAN;
        return HM_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!s[0] || *end || errno || !isfinite(v))
        return hm_error_set(err, HM_EPARSE, name, line, field,
                            "expected a number, found '%.40s'%s", s,
                            allow_empty ? " (or leave it empty for no limit)" : "");
    *out = v;
    return HM_OK;
}

static int name_ok(const char *s, size_t max)
{
    if (!s[0] || strlen(s) >= max)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

static int want_fields(size_t n, size_t want, const char *kind, const char *name, long line,
                       hm_error *err)
{
    if (n == want)
        return HM_OK;
    return hm_error_set(err, HM_EPARSE, name, line, kind,
                        "a '%s' record has %zu fields, found %zu (see the comment lines of "
                        "data/biobank/protocol_cardiac_v1.csv)", kind, want, n);
}

static int parse_sample(char **f, size_t n, const char *name, long line, hm_bb_protocol *p,
                        hm_error *err)
{
    int rc = want_fields(n, 10, "sample", name, line, err);
    if (rc)
        return rc;
    if (p->ntypes == HM_BB_MAX_TYPES)
        return hm_error_set(err, HM_EPARSE, name, line, "sample", "more than %d sample types",
                            HM_BB_MAX_TYPES);
    if (!name_ok(f[1], HM_BB_NAME))
        return hm_error_set(err, HM_EPARSE, name, line, "type",
                            "expected a sample type name (a-z, 0-9, _), found '%.40s'", f[1]);
    if (hm_bb_protocol_type(p, f[1]))
        return hm_error_set(err, HM_EPARSE, name, line, "type", "sample type '%s' given twice",
                            f[1]);
    for (int k = 2; k <= 3; k++)
        if (strlen(f[k]) != 3)
            return hm_error_set(err, HM_EPARSE, name, line,
                                k == 2 ? "sprec_type" : "sprec_container",
                                "expected a 3-letter SPREC code, found '%.40s'", f[k]);
    hm_bb_sample_rule *r = &p->types[p->ntypes];
    memset(r, 0, sizeof *r);
    snprintf(r->type, sizeof r->type, "%s", f[1]);
    memcpy(r->sprec_type, f[2], 4);
    memcpy(r->sprec_container, f[3], 4);
    static const char *names[] = { "volume_ml", "max_to_processing_h", "max_to_freezing_h",
                                   "storage_temp_c", "aliquots_n", "aliquot_volume_ml" };
    double v[6] = { 0 };
    for (int k = 0; k < 6; k++)
        if ((rc = num(f[4 + k], name, line, names[k], 0, &v[k], err)))
            return rc;
    if (v[0] <= 0 || v[1] <= 0 || v[2] <= 0 || v[5] <= 0 || v[4] < 1 || v[4] > 99 ||
        v[4] != floor(v[4]))
        return hm_error_set(err, HM_EPARSE, name, line, "sample",
                            "volumes and delays must be > 0 and aliquots_n a whole number 1-99");
    if (v[4] * v[5] > v[0] + 1e-9)
        return hm_error_set(err, HM_EPARSE, name, line, "aliquot_volume_ml",
                            "the aliquot plan (%g x %g mL) exceeds the %g mL drawn", v[4], v[5],
                            v[0]);
    r->volume_ml = v[0];
    r->max_to_processing_h = v[1];
    r->max_to_freezing_h = v[2];
    r->storage_temp_c = v[3];
    r->aliquots_n = (int)v[4];
    r->aliquot_volume_ml = v[5];
    p->ntypes++;
    return HM_OK;
}

static int parse_timepoint(char **f, size_t n, const char *name, long line, hm_bb_protocol *p,
                           hm_error *err)
{
    int rc = want_fields(n, 5, "timepoint", name, line, err);
    if (rc)
        return rc;
    if (p->ntimepoints == HM_BB_MAX_TIMEPOINTS)
        return hm_error_set(err, HM_EPARSE, name, line, "timepoint", "more than %d timepoints",
                            HM_BB_MAX_TIMEPOINTS);
    if (!name_ok(f[1], HM_BB_NAME) || hm_bb_protocol_timepoint(p, f[1]))
        return hm_error_set(err, HM_EPARSE, name, line, "timepoint",
                            "expected a new timepoint name (a-z, 0-9, _), found '%.40s'", f[1]);
    hm_bb_timepoint *t = &p->timepoints[p->ntimepoints];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", f[1]);
    if ((rc = num(f[2], name, line, "due_day", 0, &t->due_day, err)) ||
        (rc = num(f[3], name, line, "tolerance_days", 0, &t->tolerance_days, err)))
        return rc;
    if (t->due_day < 0 || t->tolerance_days < 0)
        return hm_error_set(err, HM_EPARSE, name, line, "due_day",
                            "due_day and tolerance_days must be >= 0");
    /* The sample types, each declared by an earlier sample record. */
    char *list = f[4];
    while (*list) {
        char *semi = strchr(list, ';');
        size_t len = semi ? (size_t)(semi - list) : strlen(list);
        char type[HM_BB_NAME] = "";
        if (len == 0 || len >= sizeof type)
            return hm_error_set(err, HM_EPARSE, name, line, "types", "empty or long type name");
        memcpy(type, list, len);
        if (!hm_bb_protocol_type(p, type))
            return hm_error_set(err, HM_EPARSE, name, line, "types",
                                "sample type '%s' is not declared by a sample record above", type);
        if (t->ntypes == HM_BB_MAX_TYPES)
            return hm_error_set(err, HM_EPARSE, name, line, "types", "too many types");
        snprintf(t->types[t->ntypes++], HM_BB_NAME, "%s", type);
        list += len + (semi ? 1 : 0);
    }
    if (!t->ntypes)
        return hm_error_set(err, HM_EPARSE, name, line, "types",
                            "expected at least one sample type");
    p->ntimepoints++;
    return HM_OK;
}

static int parse_qc(char **f, size_t n, const char *name, long line, hm_bb_protocol *p,
                    unsigned *seen, hm_error *err)
{
    int rc = want_fields(n, 4, "qc", name, line, err);
    if (rc)
        return rc;
    double lo = NAN, hi = NAN;
    if ((rc = num(f[2], name, line, "min", 1, &lo, err)) ||
        (rc = num(f[3], name, line, "max", 1, &hi, err)))
        return rc;
    if (!strcmp(f[1], "dna_yield_ug") && isnan(hi)) {
        p->qc_dna_yield_ug_min = lo;
        *seen |= 1;
    } else if (!strcmp(f[1], "a260_280") && !isnan(lo) && !isnan(hi) && lo < hi) {
        p->qc_a260_280_min = lo;
        p->qc_a260_280_max = hi;
        *seen |= 2;
    } else if (!strcmp(f[1], "rin") && isnan(hi)) {
        p->qc_rin_min = lo;
        *seen |= 4;
    } else
        return hm_error_set(err, HM_EPARSE, name, line, "qc",
                            "expected 'qc,dna_yield_ug,MIN,', 'qc,a260_280,MIN,MAX' (MIN < MAX) "
                            "or 'qc,rin,MIN,'");
    return HM_OK;
}

int hm_bb_protocol_parse(const char *text, size_t len, const char *name, hm_bb_protocol *p,
                         hm_error *err)
{
    memset(p, 0, sizeof *p);
    FILE *fp = fmemopen((void *)text, len ? len : 1, "r");
    if (!fp)
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "cannot read the protocol");
    if (!len) {
        fclose(fp);
        return hm_error_set(err, HM_EPARSE, name, 0, NULL, "empty protocol file");
    }
    hm_csv_dialect d = { ',', '.', HM_CSV_ENC_UTF8, 0 };
    hm_csv *csv = hm_csv_from_file_dialect(fp, name, 1, &d);
    int rc = csv ? HM_OK : HM_ENOMEM;
    unsigned seen_qc = 0;
    int have_header = 0, have_transport = 0;
    char **f;
    size_t n;
    while (rc == HM_OK) {
        int got = hm_csv_next(csv, &f, &n, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        long line = hm_csv_line(csv);
        if (n == 1 && !f[0][0])
            continue;                               /* blank line */
        if (!have_header && strcmp(f[0], "protocol")) {
            rc = hm_error_set(err, HM_EPARSE, name, line, f[0],
                              "the first record must be 'protocol,ARM,VERSION'");
        } else if (!strcmp(f[0], "protocol")) {
            double v = 0;
            if (have_header)
                rc = hm_error_set(err, HM_EPARSE, name, line, "protocol", "a second protocol record");
            else if (!(rc = want_fields(n, 3, "protocol", name, line, err)) &&
                     !(rc = num(f[2], name, line, "version", 0, &v, err))) {
                if (!name_ok(f[1], HM_BB_NAME) || v < 1 || v > 9999 || v != floor(v))
                    rc = hm_error_set(err, HM_EPARSE, name, line, "protocol",
                                      "expected an arm name (a-z, 0-9, _) and a whole version "
                                      "1-9999");
                else {
                    snprintf(p->arm, sizeof p->arm, "%s", f[1]);
                    p->version = (int)v;
                    snprintf(p->id, sizeof p->id, "%s_v%d", p->arm, p->version);
                    have_header = 1;
                }
            }
        } else if (!strcmp(f[0], "sample")) {
            rc = parse_sample(f, n, name, line, p, err);
        } else if (!strcmp(f[0], "timepoint")) {
            rc = parse_timepoint(f, n, name, line, p, err);
        } else if (!strcmp(f[0], "transport")) {
            if (have_transport)
                rc = hm_error_set(err, HM_EPARSE, name, line, "transport", "a second transport record");
            else if (!(rc = want_fields(n, 4, "transport", name, line, err)) &&
                     !(rc = num(f[1], name, line, "min_c", 0, &p->transport_min_c, err)) &&
                     !(rc = num(f[2], name, line, "max_c", 0, &p->transport_max_c, err)) &&
                     !(rc = num(f[3], name, line, "max_duration_h", 0, &p->transport_max_h, err))) {
                if (p->transport_min_c >= p->transport_max_c || p->transport_max_h <= 0)
                    rc = hm_error_set(err, HM_EPARSE, name, line, "transport",
                                      "expected min_c < max_c and max_duration_h > 0");
                have_transport = 1;
            }
        } else if (!strcmp(f[0], "qc")) {
            rc = parse_qc(f, n, name, line, p, &seen_qc, err);
        } else {
            rc = hm_error_set(err, HM_EPARSE, name, line, f[0],
                              "unknown record '%.40s' (expected protocol, sample, timepoint, "
                              "transport or qc)", f[0]);
        }
    }
    if (csv)
        hm_csv_close(csv);
    fclose(fp);
    if (rc)
        return rc;
    const char *missing = !have_header ? "protocol" : !p->ntypes ? "sample" :
                          !p->ntimepoints ? "timepoint" : !have_transport ? "transport" :
                          seen_qc != 7 ? "qc (dna_yield_ug, a260_280 and rin)" : NULL;
    if (missing)
        return hm_error_set(err, HM_EPARSE, name, 0, missing, "the protocol has no %s record",
                            missing);
    if (p->timepoints[0].due_day != 0)
        return hm_error_set(err, HM_EPARSE, name, 0, "timepoint",
                            "the first timepoint is the baseline: its due_day must be 0");
    return HM_OK;
}

int hm_bb_protocol_load(const char *path_or_id, hm_bb_protocol *p, char **text, hm_error *err)
{
    char path[4096];
    if (!strchr(path_or_id, '/') && !strstr(path_or_id, ".csv")) {
        char rel[256];
        snprintf(rel, sizeof rel, "biobank/protocol_%.200s.csv", path_or_id);
        int rc = hm_data_path(rel, path, sizeof path, err);
        if (rc)
            return rc;
    } else
        snprintf(path, sizeof path, "%s", path_or_id);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot read the protocol file");
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *nb = cap < (1u << 24) ? realloc(buf, cap * 2) : NULL;
            if (!nb)
                free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    fclose(fp);
    if (!buf)
        return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "protocol file too large");
    buf[len] = 0;
    int rc = hm_bb_protocol_parse(buf, len, path, p, err);
    if (rc || !text)
        free(buf);
    else
        *text = buf;
    return rc;
}

const hm_bb_sample_rule *hm_bb_protocol_type(const hm_bb_protocol *p, const char *type)
{
    for (int i = 0; i < p->ntypes; i++)
        if (!strcmp(p->types[i].type, type))
            return &p->types[i];
    return NULL;
}

const hm_bb_timepoint *hm_bb_protocol_timepoint(const hm_bb_protocol *p, const char *name)
{
    for (int i = 0; i < p->ntimepoints; i++)
        if (!strcmp(p->timepoints[i].name, name))
            return &p->timepoints[i];
    return NULL;
}

void hm_bb_protocol_print(const hm_bb_protocol *p, FILE *out)
{
    fprintf(out, "protocol %s (arm %s, version %d)\n\n", p->id, p->arm, p->version);
    fprintf(out, "%-14s %-5s %-5s %7s %9s %9s %8s %s\n", "sample type", "SPREC", "tube",
            "vol mL", "->proc h", "->frz h", "store C", "aliquots");
    for (int i = 0; i < p->ntypes; i++) {
        const hm_bb_sample_rule *r = &p->types[i];
        fprintf(out, "%-14s %-5s %-5s %7g %9g %9g %8g %d x %g mL\n", r->type, r->sprec_type,
                r->sprec_container, r->volume_ml, r->max_to_processing_h, r->max_to_freezing_h,
                r->storage_temp_c, r->aliquots_n, r->aliquot_volume_ml);
    }
    fprintf(out, "\n%-16s %8s %10s  %s\n", "timepoint", "due day", "tolerance", "types");
    for (int i = 0; i < p->ntimepoints; i++) {
        const hm_bb_timepoint *t = &p->timepoints[i];
        fprintf(out, "%-16s %8g %10g ", t->name, t->due_day, t->tolerance_days);
        for (int k = 0; k < t->ntypes; k++)
            fprintf(out, "%s%s", k ? ";" : " ", t->types[k]);
        fputc('\n', out);
    }
    fprintf(out, "\ntransport: %g to %g C, at most %g h\n", p->transport_min_c,
            p->transport_max_c, p->transport_max_h);
    fprintf(out, "QC: DNA yield >= %g ug, A260/280 %g-%g, RIN >= %g\n", p->qc_dna_yield_ug_min,
            p->qc_a260_280_min, p->qc_a260_280_max, p->qc_rin_min);
}
