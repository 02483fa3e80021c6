/*
 * store.c — the biobank in the registry database: bio_event (append-only)
 * and bio_protocol (data/schema/007_biobank.sql), through the registry's db
 * layer only.  A command is one transaction: replay, check every new event
 * against the replayed state, append; any failure rolls back, so a rejected
 * command (a double-booked position, a use after withdrawal) changes nothing.
 */
#include "bb_int.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *col_text(hm_stmt *st, int c)
{
    const char *s = hm_stmt_column_text(st, c);
    return s ? s : "";
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

static int load_protocols(hm_db *db, hm_bb_state *st, hm_error *err)
{
    hm_stmt *q;
    int rc = hm_db_prepare(db, "SELECT protocol_id, content FROM bio_protocol ORDER BY protocol_id",
                           &q, err);
    if (rc)
        return rc;
    while ((rc = hm_stmt_step(q, err)) == 1) {
        hm_bb_protocol p;
        const char *text = col_text(q, 1);
        char name[128];
        snprintf(name, sizeof name, "bio_protocol:%.100s", col_text(q, 0));
        if ((rc = hm_bb_protocol_parse(text, strlen(text), name, &p, err)) ||
            (rc = hm_bb_state_add_protocol(st, &p, err)))
            break;
    }
    hm_stmt_finalize(q);
    return rc < 0 ? rc : HM_OK;
}

static const char select_events[] =
    "SELECT centre_code, event_seq, event_type, event_time, user_id, site, pseudonym, "
    "sample_id, aliquot_id, protocol_id, timepoint, sample_type, location, metric, value, "
    "detail FROM bio_event ORDER BY event_seq";

int hm_bb_load(hm_db *db, hm_bb_state *st, hm_error *err)
{
    int rc = load_protocols(db, st, err);
    hm_stmt *q;
    if (rc || (rc = hm_db_prepare(db, select_events, &q, err)))
        return rc;
    while ((rc = hm_stmt_step(q, err)) == 1) {
        hm_bb_event e;
        hm_bb_event_init(&e, hm_bb_event_parse(col_text(q, 2)), col_text(q, 0));
        e.seq = hm_stmt_column_int64(q, 1);
        const char *t = col_text(q, 3);
        if (e.type < 0 || hm_bb_parse_time(t, strlen(t), &e.time_s)) {
            rc = hm_error_set(err, HM_EDB, "bio_event", (long)e.seq, "event_type",
                              "unreadable event (type '%s', time '%s')", col_text(q, 2), t);
            break;
        }
        COPY(e.user, col_text(q, 4));
        COPY(e.site, col_text(q, 5));
        COPY(e.pseudonym, col_text(q, 6));
        COPY(e.sample_id, col_text(q, 7));
        COPY(e.aliquot_id, col_text(q, 8));
        COPY(e.protocol, col_text(q, 9));
        COPY(e.timepoint, col_text(q, 10));
        COPY(e.sample_type, col_text(q, 11));
        COPY(e.location, col_text(q, 12));
        COPY(e.metric, col_text(q, 13));
        e.value = hm_stmt_column_isnull(q, 14) ? NAN : hm_stmt_column_double(q, 14);
        COPY(e.detail, col_text(q, 15));
        if ((rc = hm_bb_apply(st, &e, err))) {
            /* An accepted event that no longer replays: say which. */
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
            rc = hm_error_set(err, HM_EDB, "bio_event", (long)e.seq, err ? err->field : NULL,
                              "the event log does not replay: %s", msg);
            break;
        }
        st->last_seq = e.seq;
    }
    hm_stmt_finalize(q);
    return rc < 0 ? rc : HM_OK;
}

static void bind_opt(hm_stmt *q, int i, const char *s)
{
    hm_stmt_bind_text(q, i, s && s[0] ? s : NULL);
}

static int insert_event(hm_db *db, const hm_bb_event *e, const char *now, hm_error *err)
{
    hm_stmt *q;
    int rc = hm_db_prepare(db,
        "INSERT INTO bio_event (centre_code, event_seq, event_type, event_time, user_id, site, "
        "pseudonym, sample_id, aliquot_id, protocol_id, timepoint, sample_type, location, metric, "
        "value, detail, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &q, err);
    if (rc)
        return rc;
    char when[32];
    hm_bb_format_time(e->time_s, when);
    hm_stmt_bind_text(q, 1, e->centre);
    hm_stmt_bind_int64(q, 2, e->seq);
    hm_stmt_bind_text(q, 3, hm_bb_event_name(e->type));
    hm_stmt_bind_text(q, 4, when);
    hm_stmt_bind_text(q, 5, e->user);
    hm_stmt_bind_text(q, 6, e->site);
    bind_opt(q, 7, e->pseudonym);
    bind_opt(q, 8, e->sample_id);
    bind_opt(q, 9, e->aliquot_id);
    bind_opt(q, 10, e->protocol);
    bind_opt(q, 11, e->timepoint);
    bind_opt(q, 12, e->sample_type);
    bind_opt(q, 13, e->location);
    bind_opt(q, 14, e->metric);
    if (isnan(e->value))
        hm_stmt_bind_null(q, 15);
    else
        hm_stmt_bind_double(q, 15, e->value);
    bind_opt(q, 16, e->detail);
    hm_stmt_bind_text(q, 17, now);
    rc = hm_stmt_step(q, err) < 0 ? HM_EDB : HM_OK;
    hm_stmt_finalize(q);
    return rc;
}

/* Stores the protocol text the first time its id is used; the same id with
 * other content is refused (a changed protocol is a new version). */
static int put_protocol(hm_db *db, const hm_bb_protocol *p, const char *text, const char *centre,
                        const char *now, hm_error *err)
{
    hm_stmt *q;
    int rc = hm_db_prepare(db, "SELECT content FROM bio_protocol WHERE protocol_id = ?", &q, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(q, 1, p->id);
    int got = hm_stmt_step(q, err);
    int same = got == 1 && !strcmp(col_text(q, 0), text);
    hm_stmt_finalize(q);
    if (got < 0)
        return HM_EDB;
    if (got == 1)
        return same ? HM_OK : hm_error_set(err, HM_EVALIDATE, NULL, 0, "protocol",
                                           "protocol %s is already recorded with other content: "
                                           "a changed protocol needs a new version number", p->id);
    if ((rc = hm_db_prepare(db, "INSERT INTO bio_protocol (centre_code, protocol_id, arm, version, "
                                "content, recorded_at) VALUES (?,?,?,?,?,?)", &q, err)))
        return rc;
    hm_stmt_bind_text(q, 1, centre);
    hm_stmt_bind_text(q, 2, p->id);
    hm_stmt_bind_text(q, 3, p->arm);
    hm_stmt_bind_int64(q, 4, p->version);
    hm_stmt_bind_text(q, 5, text);
    hm_stmt_bind_text(q, 6, now);
    rc = hm_stmt_step(q, err) < 0 ? HM_EDB : HM_OK;
    hm_stmt_finalize(q);
    return rc;
}

static void utc_now(char buf[32])
{
    hm_bb_format_time((double)time(NULL), buf);
}

int bb_record(hm_db *db, hm_bb_event *events, size_t n, const hm_bb_protocol *protocols,
              char *const *texts, size_t nprotocols, bb_prepare_fn prepare, void *ctx,
              hm_error *err)
{
    int rc = hm_db_begin(db, err);
    if (rc)
        return rc;
    /* PostgreSQL: one writer at a time, so two commands cannot both find a
     * position free (SQLite's BEGIN IMMEDIATE already serialises writers). */
    if (hm_db_kind(db) == HM_DB_POSTGRES)
        rc = hm_db_exec(db, "LOCK TABLE bio_event IN EXCLUSIVE MODE", err);
    char now[32];
    utc_now(now);
    for (size_t k = 0; k < nprotocols && rc == HM_OK; k++)
        if (texts && texts[k])
            rc = put_protocol(db, &protocols[k], texts[k], n ? events[0].centre : "", now, err);
    hm_bb_state st;
    hm_bb_state_init(&st);
    if (rc == HM_OK)
        rc = hm_bb_load(db, &st, err);
    for (size_t k = 0; k < nprotocols && rc == HM_OK; k++)
        rc = hm_bb_state_add_protocol(&st, &protocols[k], err);
    int64_t seq = st.last_seq;
    for (size_t i = 0; i < n && rc == HM_OK; i++) {
        events[i].seq = ++seq;
        if (prepare)
            rc = prepare(&st, &events[i], i, ctx, err);
        if (rc == HM_OK)
            rc = hm_bb_apply(&st, &events[i], err);
        if (rc == HM_OK)
            rc = insert_event(db, &events[i], now, err);
    }
    hm_bb_state_free(&st);
    if (rc == HM_OK)
        return hm_db_commit(db, err);
    hm_db_rollback(db, NULL);
    return rc;
}

int hm_bb_record(hm_db *db, hm_bb_event *events, size_t n, const hm_bb_protocol *protocol,
                 const char *protocol_text, hm_error *err)
{
    char *text = (char *)protocol_text;
    return bb_record(db, events, n, protocol, protocol && protocol_text ? &text : NULL,
                     protocol ? 1 : 0, NULL, NULL, err);
}

int hm_bb_next_id(hm_db *db, const char *centre, char kind, int offset, char out[40],
                  hm_error *err)
{
    char prefix[24];
    size_t n = 0;
    for (const char *c = centre; *c && n < 16; c++) {
        if (!isalnum((unsigned char)*c))
            return hm_error_set(err, HM_EINVAL, NULL, 0, "centre",
                                "ids are built from the centre code: letters and digits only, "
                                "found '%s'", centre);
        prefix[n++] = (char)toupper((unsigned char)*c);
    }
    prefix[n] = 0;
    if (!n)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "centre", "empty centre code");
    hm_stmt *q;
    int rc = hm_db_prepare(db, "SELECT COUNT(*) FROM bio_event WHERE centre_code = ? AND "
                               "event_type = ?", &q, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(q, 1, centre);
    hm_stmt_bind_text(q, 2, kind == 'S' ? "collect" : "aliquot");
    int got = hm_stmt_step(q, err);
    long count = got == 1 ? (long)hm_stmt_column_int64(q, 0) : 0;
    hm_stmt_finalize(q);
    if (got < 0)
        return HM_EDB;
    char body[40];
    int len = snprintf(body, sizeof body, "%.16s%c%06ld", prefix, kind, (count + 1 + offset) % 100000000);
    if (len < 0 || len >= 38)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "centre", "id too long");
    memcpy(out, body, (size_t)len);
    out[len] = hm_bb_check_char(body);
    out[len + 1] = 0;
    return HM_OK;
}

void hm_bb_ship_detail(const hm_bb_logger_summary *s, char *out, size_t size)
{
    snprintf(out, size, "readings=%ld;min_c=%.2f;max_c=%.2f;out=%ld;first_s=%.0f;last_s=%.0f",
             s->readings, s->min_c, s->max_c, s->out_of_range, s->first_s, s->last_s);
}

int bb_detail_str(const char *detail, const char *key, char *out, size_t size)
{
    size_t kl = strlen(key);
    for (const char *p = detail; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
        if (!strncmp(p, key, kl) && p[kl] == '=') {
            const char *v = p + kl + 1, *e = strchr(v, ';');
            size_t len = e ? (size_t)(e - v) : strlen(v);
            if (!len || len >= size)
                return -1;
            memcpy(out, v, len);
            out[len] = 0;
            return 0;
        }
    }
    return -1;
}

int bb_detail_num(const char *detail, const char *key, double *v)
{
    size_t kl = strlen(key);
    for (const char *p = detail; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
        if (!strncmp(p, key, kl) && p[kl] == '=') {
            char *end;
            double x = strtod(p + kl + 1, &end);
            if (end == p + kl + 1)
                return -1;
            *v = x;
            return 0;
        }
    }
    return -1;
}
