/*
 * sprec.c — the SPREC code of an aliquot, derived from its sample's events.
 * Standard PREanalytical Code version 3.0 (Betsou et al., Biopreserv Biobank
 * 2018;16(1):9-12), fluid samples: seven elements joined by '-':
 *   1 type of sample, 2 type of primary container (both from the protocol's
 *   sample record), 3 pre-centrifugation (delay collection -> processing and
 *   the temperature meanwhile), 4 centrifugation (temperature, g force,
 *   duration, braking), 5 second centrifugation, 6 post-centrifugation
 *   (delay processing -> first storage and the temperature meanwhile),
 *   7 long-term storage (container and temperature of the store event).
 * Elements 3-7 are coded by the rules of data/biobank/sprec_v3.csv, one row
 * per code with the ranges it covers (the file says which tables were
 * checked against the publication).  An element is:
 *   X (unknown, as SPREC defines) when an input it needs was not recorded,
 *     or when the rules file has no row for it (table not verified);
 *   the code of the first row whose every condition holds;
 *   Z (other) when the inputs are known and no row covers them.
 */
#include "bb_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const element_names[HM_BB_SPREC_NELEM] = {
    "precentrifugation", "centrifugation", "second_centrifugation", "postcentrifugation",
    "storage"
};

void hm_bb_sprec_rules_free(hm_bb_sprec_rules *r)
{
    free(r->rules);
    memset(r, 0, sizeof *r);
}

/* An empty field is "any"; else a finite number. */
static int bound(const char *s, double def, double *v, const char *name, long line,
                 const char *field, hm_error *err)
{
    if (!s[0]) {
        *v = def;
        return HM_OK;
    }
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (*end || errno || !isfinite(*v))
        return hm_error_set(err, HM_EPARSE, name, line, field,
                            "expected a number or nothing (no limit), found '%.40s'", s);
    return HM_OK;
}

int hm_bb_sprec_rules_parse(const char *text, size_t len, const char *name,
                            hm_bb_sprec_rules *r, hm_error *err)
{
    static const char *const cols[] = {
        "element", "code", "temp_min_c", "temp_max_c", "delay_min_h", "delay_max_h", "g_min",
        "g_max", "duration_min_min", "duration_max_min", "braking", "container"
    };
    enum { NC = sizeof cols / sizeof *cols };
    memset(r, 0, sizeof *r);
    FILE *fp = fmemopen((void *)text, len ? len : 1, "r");
    if (!fp)
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "cannot read the SPREC rules");
    hm_csv_dialect d = { ',', '.', HM_CSV_ENC_UTF8, 0 };
    hm_csv *csv = len ? hm_csv_from_file_dialect(fp, name, 1, &d) : NULL;
    int rc = csv ? HM_OK : len ? HM_ENOMEM : hm_error_set(err, HM_EPARSE, name, 0, NULL,
                                                         "empty SPREC rules file");
    int header = 0;
    size_t cap = 0;
    char **f;
    size_t n;
    while (rc == HM_OK) {
        int got = hm_csv_next(csv, &f, &n, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        long line = hm_csv_line(csv);
        if (!header) {
            for (size_t k = 0; k < NC && rc == HM_OK; k++)
                if (n != NC || strcmp(f[k], cols[k]))
                    rc = hm_error_set(err, HM_EPARSE, name, line, k < n ? f[k] : "header",
                                      "expected the header element,code,temp_min_c,temp_max_c,"
                                      "delay_min_h,delay_max_h,g_min,g_max,duration_min_min,"
                                      "duration_max_min,braking,container");
            header = 1;
            continue;
        }
        if (n != NC) {
            rc = hm_error_set(err, HM_EPARSE, name, line, NULL, "expected %d fields, found %zu",
                              (int)NC, n);
            break;
        }
        if (r->n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            hm_bb_sprec_rule *p = realloc(r->rules, nc * sizeof *p);
            if (!p) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            r->rules = p;
            cap = nc;
        }
        hm_bb_sprec_rule *u = &r->rules[r->n];
        memset(u, 0, sizeof *u);
        u->element = -1;
        for (int e = 0; e < HM_BB_SPREC_NELEM; e++)
            if (!strcmp(f[0], element_names[e]))
                u->element = e;
        if (u->element < 0) {
            rc = hm_error_set(err, HM_EPARSE, name, line, "element",
                              "expected precentrifugation, centrifugation, "
                              "second_centrifugation, postcentrifugation or storage, found "
                              "'%.40s'", f[0]);
            break;
        }
        /* A code is one upper-case letter; X and Z keep their SPREC meaning. */
        if (strlen(f[1]) != 1 || f[1][0] < 'A' || f[1][0] > 'Z' || f[1][0] == 'X' ||
            f[1][0] == 'Z') {
            rc = hm_error_set(err, HM_EPARSE, name, line, "code",
                              "expected one letter A-Y other than X (X unknown and Z other "
                              "are derived), found '%.40s'", f[1]);
            break;
        }
        u->code = f[1][0];
        double *lim[8] = { &u->temp_min_c, &u->temp_max_c, &u->delay_min_h, &u->delay_max_h,
                           &u->g_min, &u->g_max, &u->duration_min_min, &u->duration_max_min };
        for (int k = 0; k < 8 && rc == HM_OK; k++)
            rc = bound(f[2 + k], k % 2 ? INFINITY : -INFINITY, lim[k], name, line, cols[2 + k],
                       err);
        if (rc)
            break;
        for (int k = 0; k < 8; k += 2)
            if (*lim[k] > *lim[k + 1])
                rc = hm_error_set(err, HM_EPARSE, name, line, cols[2 + k], "minimum above maximum");
        if (!strcmp(f[10], ""))
            u->braking = -1;
        else if (!strcmp(f[10], "0") || !strcmp(f[10], "1"))
            u->braking = f[10][0] - '0';
        else
            rc = hm_error_set(err, HM_EPARSE, name, line, "braking",
                              "expected 1 (with braking), 0 (without) or nothing");
        if (strlen(f[11]) >= sizeof u->container)
            rc = hm_error_set(err, HM_EPARSE, name, line, "container", "too long");
        else
            snprintf(u->container, sizeof u->container, "%s", f[11]);
        if (rc == HM_OK)
            r->n++;
    }
    if (csv)
        hm_csv_close(csv);
    fclose(fp);
    if (rc == HM_OK && !header)
        rc = hm_error_set(err, HM_EPARSE, name, 0, NULL, "no header");
    if (rc)
        hm_bb_sprec_rules_free(r);
    return rc;
}

int hm_bb_sprec_rules_load(const char *path, hm_bb_sprec_rules *r, hm_error *err)
{
    char buf_path[4096];
    if (!path) {
        int rc = hm_data_path("biobank/sprec_v3.csv", buf_path, sizeof buf_path, err);
        if (rc)
            return rc;
        path = buf_path;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot read the SPREC rules");
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len + 4096 > cap) {
            char *p = realloc(text, cap = cap ? cap * 2 : 16384);
            if (!p) {
                free(text);
                fclose(fp);
                return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
            }
            text = p;
        }
        got = fread(text + len, 1, 4096, fp);
        len += got;
    } while (got > 0);
    fclose(fp);
    int rc = hm_bb_sprec_rules_parse(text, len, path, r, err);
    free(text);
    return rc;
}

/* Lower limits inclusive, upper limits exclusive ("< 2 h", "2-4 h"), except
 * temperatures, whose bands ("2-10 C") include both ends. */
static int in_half(double v, double lo, double hi)
{
    return v >= lo && (v < hi || isinf(hi));
}
static int in_closed(double v, double lo, double hi)
{
    return v >= lo && v <= hi;
}

/* The inputs of one element; NAN (or braking -1, container "") = not recorded. */
typedef struct inputs {
    double temp_c, delay_h, g, duration_min;
    int    braking;
    const char *container;
    int    need_temp, need_delay, need_g, need_duration, need_braking, need_container;
} inputs;

static char code_of(const hm_bb_sprec_rules *r, int element, const inputs *in)
{
    int rows = 0;
    for (size_t k = 0; r && k < r->n; k++)
        rows += r->rules[k].element == element;
    if (!rows)
        return 'X';                                   /* table not verified: unknown */
    if ((in->need_temp && isnan(in->temp_c)) || (in->need_delay && isnan(in->delay_h)) ||
        (in->need_g && isnan(in->g)) || (in->need_duration && isnan(in->duration_min)) ||
        (in->need_braking && in->braking < 0) || (in->need_container && !in->container[0]))
        return 'X';
    for (size_t k = 0; k < r->n; k++) {
        const hm_bb_sprec_rule *u = &r->rules[k];
        if (u->element != element)
            continue;
        /* A condition on an input the element does not use cannot hold. */
        if (!isinf(u->temp_min_c) || !isinf(u->temp_max_c))
            if (!in->need_temp || !in_closed(in->temp_c, u->temp_min_c, u->temp_max_c))
                continue;
        if (!isinf(u->delay_min_h) || !isinf(u->delay_max_h))
            if (!in->need_delay || !in_half(in->delay_h, u->delay_min_h, u->delay_max_h))
                continue;
        if (!isinf(u->g_min) || !isinf(u->g_max))
            if (!in->need_g || !in_half(in->g, u->g_min, u->g_max))
                continue;
        if (!isinf(u->duration_min_min) || !isinf(u->duration_max_min))
            if (!in->need_duration ||
                !in_half(in->duration_min, u->duration_min_min, u->duration_max_min))
                continue;
        if (u->braking >= 0 && (!in->need_braking || in->braking != u->braking))
            continue;
        if (u->container[0] && (!in->need_container || strcmp(u->container, in->container)))
            continue;
        return u->code;
    }
    return 'Z';
}

/* A centrifugation: g 0 means "not centrifugated", then only g is needed. */
static inputs spin_inputs(const hm_bb_spin *s)
{
    inputs in = { s->temp_c, NAN, s->g, s->duration_min, s->braking, "", 0, 0, 1, 0, 0, 0 };
    if (!(s->g == 0))
        in.need_temp = in.need_duration = in.need_braking = 1;
    return in;
}

void hm_bb_sprec_with(const hm_bb_state *st, int aliquot, const hm_bb_sprec_rules *r,
                      char out[32])
{
    const hm_bb_aliquot *a = &st->aliquots[aliquot];
    const hm_bb_sample *s = &st->samples[a->sample];
    const hm_bb_protocol *p = hm_bb_find_protocol(st, s->protocol);
    const hm_bb_sample_rule *t = p ? hm_bb_protocol_type(p, s->type) : NULL;
    inputs pre = { s->processing_temp_c, (s->processed_s - s->collected_s) / 3600.0, NAN, NAN,
                   -1, "", 1, 1, 0, 0, 0, 0 };
    if (pre.delay_h < 0)
        pre.delay_h = NAN;
    inputs c1 = spin_inputs(&s->spin[0]), c2 = spin_inputs(&s->spin[1]);
    inputs post = { s->post_temp_c, (s->first_frozen_s - s->processed_s) / 3600.0, NAN, NAN,
                    -1, "", 1, 1, 0, 0, 0, 0 };
    if (post.delay_h < 0)
        post.delay_h = NAN;
    /* Not centrifuged: post-centrifugation is "not applicable" (SPREC's N),
     * whatever the delay; the rules see only g = 0, as for element 4. */
    if (s->spin[0].g == 0) {
        inputs na = { NAN, NAN, 0.0, NAN, -1, "", 0, 0, 1, 0, 0, 0 };
        post = na;
    }
    inputs store = { a->storage_temp_c, NAN, NAN, NAN, -1, a->container, 1, 0, 0, 0, 0, 1 };
    snprintf(out, 32, "%s-%s-%c-%c-%c-%c-%c", t ? t->sprec_type : "XXX",
             t ? t->sprec_container : "XXX", code_of(r, HM_BB_SPREC_PRE, &pre),
             code_of(r, HM_BB_SPREC_SPIN, &c1), code_of(r, HM_BB_SPREC_SPIN2, &c2),
             code_of(r, HM_BB_SPREC_POST, &post), code_of(r, HM_BB_SPREC_STORAGE, &store));
}

void hm_bb_sprec(const hm_bb_state *st, int aliquot, char out[32])
{
    /* The default rules, read once per process; without them every element
     * from 3 on is X (unknown), never a guess. */
    static hm_bb_sprec_rules def;
    static int tried;
    if (!st->sprec_rules && !tried) {
        tried = 1;
        if (hm_bb_sprec_rules_load(NULL, &def, NULL))
            memset(&def, 0, sizeof def);
    }
    hm_bb_sprec_with(st, aliquot, st->sprec_rules ? st->sprec_rules : &def, out);
}
