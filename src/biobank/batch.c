/*
 * batch.c — a batch file of biobank events (`harmonic biobank load FILE`):
 * what a site's LIMS exports at the end of a day, recorded in ONE
 * transaction with every check of hm_bb_apply, so a file with one bad event
 * changes nothing.  A site sends thousands of events a month; one command
 * per event would mean thousands of transactions and replays.
 */
#include "bb_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    C_EVENT, C_TIME, C_CENTRE, C_USER, C_SITE, C_PSEUDONYM, C_SAMPLE, C_ALIQUOT, C_PROTOCOL,
    C_TIMEPOINT, C_TYPE, C_LOCATION, C_METRIC, C_VALUE, C_DETAIL, C_LOGGER, NCOLS
};
static const char *const col_names[NCOLS] = {
    "event", "time", "centre", "user", "site", "pseudonym", "sample_id", "aliquot_id",
    "protocol", "timepoint", "sample_type", "location", "metric", "value", "detail", "logger"
};
#define NREQUIRED 5              /* event, time, centre, user, site */

void hm_bb_batch_free(hm_bb_batch *b)
{
    for (size_t k = 0; k < b->nprotocols; k++)
        free(b->texts[k]);
    free(b->texts);
    free(b->protocols);
    free(b->events);
    free(b->lines);
    free(b->loggers);
    memset(b, 0, sizeof *b);
}

/* Copies s into dst[size]; a value that does not fit is an error, not cut. */
static int put(char *dst, size_t size, const char *s, const char *name, long line, int col,
               hm_error *err)
{
    size_t len = strlen(s);
    if (len >= size)
        return hm_error_set(err, HM_EPARSE, name, line, col_names[col],
                            "at most %zu characters, found %zu", size - 1, len);
    memcpy(dst, s, len + 1);
    return HM_OK;
}

static int grow(hm_bb_batch *b)
{
    if (b->n < b->cap)
        return HM_OK;
    size_t nc = b->cap ? b->cap * 2 : 256;
    hm_bb_event *e = realloc(b->events, nc * sizeof *e);
    if (e)
        b->events = e;
    long *l = realloc(b->lines, nc * sizeof *l);
    if (l)
        b->lines = l;
    char (*g)[256] = realloc(b->loggers, nc * sizeof *g);
    if (g)
        b->loggers = g;
    if (!e || !l || !g)
        return HM_ENOMEM;
    b->cap = nc;
    return HM_OK;
}

/* Loads protocol `id` once (data/biobank/protocol_<id>.csv). */
static int need_protocol(hm_bb_batch *b, const char *id, long line, hm_error *err)
{
    for (size_t k = 0; k < b->nprotocols; k++)
        if (!strcmp(b->protocols[k].id, id))
            return HM_OK;
    hm_bb_protocol *p = realloc(b->protocols, (b->nprotocols + 1) * sizeof *p);
    if (p)
        b->protocols = p;
    char **t = realloc(b->texts, (b->nprotocols + 1) * sizeof *t);
    if (t)
        b->texts = t;
    if (!p || !t)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    char *text = NULL;
    int rc = hm_bb_protocol_load(id, &b->protocols[b->nprotocols], &text, err);
    if (rc) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return hm_error_set(err, rc, b->name, line, "protocol", "protocol '%s': %s", id, msg);
    }
    if (strcmp(b->protocols[b->nprotocols].id, id)) {
        free(text);
        return hm_error_set(err, HM_EPARSE, b->name, line, "protocol",
                            "the protocol file of '%s' holds protocol %s", id,
                            b->protocols[b->nprotocols].id);
    }
    b->texts[b->nprotocols++] = text;
    return HM_OK;
}

static int parse_row(hm_bb_batch *b, char **f, size_t n, const int *map, long line,
                     int load, hm_error *err)
{
    const char *v[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        v[c] = map[c] >= 0 && (size_t)map[c] < n ? f[map[c]] : "";
    const char *name = b->name;
    int type = hm_bb_event_parse(v[C_EVENT]);
    if (type < 0)
        return hm_error_set(err, HM_EPARSE, name, line, "event",
                            "unknown event '%.40s' (expected collect, process, aliquot, store, "
                            "move, ship, receive, qc, use, destroy, consent, consent_withdrawn "
                            "or flag_resolve)", v[C_EVENT]);
    if (grow(b))
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    hm_bb_event *e = &b->events[b->n];
    hm_bb_event_init(e, type, "");
    int rc;
    if ((rc = put(e->centre, sizeof e->centre, v[C_CENTRE], name, line, C_CENTRE, err)) ||
        (rc = put(e->user, sizeof e->user, v[C_USER], name, line, C_USER, err)) ||
        (rc = put(e->site, sizeof e->site, v[C_SITE], name, line, C_SITE, err)) ||
        (rc = put(e->pseudonym, sizeof e->pseudonym, v[C_PSEUDONYM], name, line, C_PSEUDONYM,
                  err)) ||
        (rc = put(e->sample_id, sizeof e->sample_id, v[C_SAMPLE], name, line, C_SAMPLE, err)) ||
        (rc = put(e->aliquot_id, sizeof e->aliquot_id, v[C_ALIQUOT], name, line, C_ALIQUOT,
                  err)) ||
        (rc = put(e->protocol, sizeof e->protocol, v[C_PROTOCOL], name, line, C_PROTOCOL, err)) ||
        (rc = put(e->timepoint, sizeof e->timepoint, v[C_TIMEPOINT], name, line, C_TIMEPOINT,
                  err)) ||
        (rc = put(e->sample_type, sizeof e->sample_type, v[C_TYPE], name, line, C_TYPE, err)) ||
        (rc = put(e->location, sizeof e->location, v[C_LOCATION], name, line, C_LOCATION, err)) ||
        (rc = put(e->metric, sizeof e->metric, v[C_METRIC], name, line, C_METRIC, err)) ||
        (rc = put(e->detail, sizeof e->detail, v[C_DETAIL], name, line, C_DETAIL, err)) ||
        (rc = put(b->loggers[b->n], sizeof b->loggers[b->n], v[C_LOGGER], name, line, C_LOGGER,
                  err)))
        return rc;
    for (int c = C_CENTRE; c <= C_SITE; c++)
        if (!v[c][0])
            return hm_error_set(err, HM_EPARSE, name, line, col_names[c],
                                "every event needs its centre, user and site");
    if (hm_bb_parse_time(v[C_TIME], strlen(v[C_TIME]), &e->time_s))
        return hm_error_set(err, HM_EPARSE, name, line, "time",
                            "expected YYYY-MM-DDThh:mm[:ss] (UTC), found '%.40s'", v[C_TIME]);
    if (v[C_VALUE][0]) {
        char *end;
        errno = 0;
        e->value = strtod(v[C_VALUE], &end);
        if (*end || errno || !isfinite(e->value))
            return hm_error_set(err, HM_EPARSE, name, line, "value",
                                "expected a number or nothing, found '%.40s'", v[C_VALUE]);
    }
    if (type == HM_BB_COLLECT && !hm_bb_check_valid(e->sample_id))
        return hm_error_set(err, HM_EPARSE, name, line, "sample_id",
                            "expected a sample id with a valid check character (ISO/IEC 7064 "
                            "MOD 37-2), found '%.40s'", e->sample_id);
    if ((type == HM_BB_SHIP) != (b->loggers[b->n][0] != 0))
        return hm_error_set(err, HM_EPARSE, name, line, "logger",
                            type == HM_BB_SHIP ? "a ship row needs its temperature log file"
                                               : "only ship rows have a logger file");
    if (load && type == HM_BB_COLLECT && (rc = need_protocol(b, e->protocol, line, err)))
        return rc;
    b->lines[b->n++] = line;
    return HM_OK;
}

int hm_bb_batch_parse(const char *text, size_t len, const char *name, const char *dir,
                      hm_bb_batch *b, hm_error *err)
{
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", name);
    snprintf(b->dir, sizeof b->dir, "%s", dir ? dir : "");
    if (!len)
        return hm_error_set(err, HM_EPARSE, name, 0, NULL, "empty batch file");
    FILE *fp = fmemopen((void *)text, len, "r");
    if (!fp)
        return hm_error_set(err, HM_ENOMEM, name, 0, NULL, "cannot read the batch");
    hm_csv_dialect d = { ',', '.', HM_CSV_ENC_UTF8, 0 };
    hm_csv *csv = hm_csv_from_file_dialect(fp, name, 1, &d);
    int rc = csv ? HM_OK : HM_ENOMEM, map[NCOLS], have_header = 0;
    for (int c = 0; c < NCOLS; c++)
        map[c] = -1;
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
            continue;                                   /* blank line */
        if (have_header) {
            rc = parse_row(b, f, n, map, line, dir != NULL, err);
            continue;
        }
        for (size_t k = 0; k < n && rc == HM_OK; k++) {
            int c = 0;
            while (c < NCOLS && strcmp(col_names[c], f[k]))
                c++;
            if (c == NCOLS && !strcmp(f[k], "local_patient_id"))
                rc = hm_error_set(err, HM_EPARSE, name, line, f[k],
                                  "local ids never reach the registry: pseudonymise the batch "
                                  "at the site first (harmonic biobank pseudonymise --key "
                                  "KEYFILE IN.csv OUT.csv)");
            else if (c == NCOLS)
                rc = hm_error_set(err, HM_EPARSE, name, line, f[k],
                                  "unknown column '%.40s' (expected event, time, centre, user, "
                                  "site, pseudonym, sample_id, aliquot_id, protocol, timepoint, "
                                  "sample_type, location, metric, value, detail, logger)", f[k]);
            else if (map[c] >= 0)
                rc = hm_error_set(err, HM_EPARSE, name, line, f[k], "column '%s' twice", f[k]);
            else
                map[c] = (int)k;
        }
        for (int c = 0; c < NREQUIRED && rc == HM_OK; c++)
            if (map[c] < 0)
                rc = hm_error_set(err, HM_EPARSE, name, line, col_names[c],
                                  "the header has no '%s' column (required: event, time, "
                                  "centre, user, site)", col_names[c]);
        have_header = 1;
    }
    if (csv)
        hm_csv_close(csv);
    fclose(fp);
    if (rc == HM_OK && !b->n)
        rc = hm_error_set(err, HM_EPARSE, name, 0, NULL, "no events in the batch");
    if (rc) {
        char keep[256];
        snprintf(keep, sizeof keep, "%s", b->name);
        hm_bb_batch_free(b);
        snprintf(b->name, sizeof b->name, "%s", keep);
    }
    return rc;
}

int hm_bb_batch_read(const char *path, hm_bb_batch *b, hm_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot read the batch file: %s",
                            strerror(errno));
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += got;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    fclose(fp);
    if (!buf)
        return hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    int rc = hm_bb_batch_parse(buf, len, path, dir, b, err);
    free(buf);
    return rc;
}

/* Before a ship row is checked: its logger, against the transport range of
 * the aliquot's protocol (known only from the state replayed so far). */
static int prepare(const hm_bb_state *st, hm_bb_event *e, size_t i, void *ctx, hm_error *err)
{
    hm_bb_batch *b = ctx;
    if (e->type != HM_BB_SHIP)
        return HM_OK;
    int ai = hm_bb_find_aliquot(st, e->aliquot_id);
    const hm_bb_protocol *p = ai >= 0 ?
        hm_bb_find_protocol(st, st->samples[st->aliquots[ai].sample].protocol) : NULL;
    if (!p)
        return hm_error_set(err, HM_EVALIDATE, b->name, b->lines[i], "aliquot_id",
                            "ship: no aliquot '%s'", e->aliquot_id);
    char path[4400];
    const char *lg = b->loggers[i];
    if (lg[0] == '/')
        snprintf(path, sizeof path, "%s", lg);
    else
        snprintf(path, sizeof path, "%s/%s", b->dir, lg);
    hm_bb_logger_summary s;
    int rc = hm_bb_logger_read(path, p->transport_min_c, p->transport_max_c, &s, err);
    if (rc)
        return rc;
    hm_bb_ship_detail(&s, e->detail, sizeof e->detail);
    return HM_OK;
}

int hm_bb_batch_record(hm_db *db, hm_bb_batch *b, hm_error *err)
{
    int rc = bb_record(db, b->events, b->n, b->protocols, b->texts, b->nprotocols, prepare, b,
                       err);
    if (rc && err && !err->file[0]) {
        /* Which row was refused: the one whose seq was the last assigned. */
        for (size_t i = b->n; i-- > 0;)
            if (b->events[i].seq) {
                snprintf(err->file, sizeof err->file, "%s", b->name);
                err->line = b->lines[i];
                break;
            }
    }
    return rc;
}
