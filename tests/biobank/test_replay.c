/*
 * test_replay.c — the event log: every deviation rule on its boundary (just
 * at the limit: no flag; just over it: the flag), a flag changed only by a
 * flag_resolve with a reason, consent withdrawal (aliquots marked, use
 * blocked, a late-entered withdrawal flags an earlier use), and through the
 * database: a double-booked position rejected with bio_event unchanged, the
 * state replayed from the stored log equal to the state built event by event.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hm_testdb.h"
#include "hm_biobank.h"

#define P1 "1111111111111111111111111111111111111111111111111111111111111111"
#define P2 "2222222222222222222222222222222222222222222222222222222222222222"
static const double T0 = 1704067200.0;            /* 2024-01-01T00:00:00 UTC */
static hm_bb_protocol prot;

static hm_bb_event ev(int type, double t_s)
{
    hm_bb_event e;
    hm_bb_event_init(&e, type, "FR01");
    e.time_s = t_s;
    snprintf(e.user, sizeof e.user, "nurse1");
    snprintf(e.site, sizeof e.site, "FR01");
    return e;
}

static void ok(hm_bb_state *st, hm_bb_event e)
{
    hm_error err;
    int rc = hm_bb_apply(st, &e, &err);
    if (rc)
        fprintf(stderr, "unexpected: %s\n", err.msg);
    assert_int_equal(rc, HM_OK);
}

static void refused(hm_bb_state *st, hm_bb_event e, const char *field)
{
    hm_error err;
    hm_error_clear(&err);
    assert_true(hm_bb_apply(st, &e, &err) < 0);
    assert_string_equal(err.field, field);
}

static void collect(hm_bb_state *st, const char *id, const char *pseudo, const char *type,
                    const char *tp, double t)
{
    hm_bb_event e = ev(HM_BB_COLLECT, t);
    snprintf(e.sample_id, sizeof e.sample_id, "%s", id);
    snprintf(e.pseudonym, sizeof e.pseudonym, "%s", pseudo);
    snprintf(e.protocol, sizeof e.protocol, "cardiac_v1");
    snprintf(e.sample_type, sizeof e.sample_type, "%s", type);
    snprintf(e.timepoint, sizeof e.timepoint, "%s", tp);
    ok(st, e);
}

static void sample_ev(hm_bb_state *st, int type, const char *id, double t, double value,
                      const char *metric)
{
    hm_bb_event e = ev(type, t);
    snprintf(e.sample_id, sizeof e.sample_id, "%s", id);
    snprintf(e.metric, sizeof e.metric, "%s", metric ? metric : "");
    e.value = value;
    ok(st, e);
}

static hm_bb_event aliq_ev(int type, const char *aliquot, double t, const char *location)
{
    hm_bb_event e = ev(type, t);
    snprintf(e.aliquot_id, sizeof e.aliquot_id, "%s", aliquot);
    snprintf(e.location, sizeof e.location, "%s", location ? location : "");
    return e;
}

static void make_aliquot(hm_bb_state *st, const char *sample, const char *body, char out[40])
{
    snprintf(out, 40, "%s%c", body, hm_bb_check_char(body));
    hm_bb_event e = ev(HM_BB_ALIQUOT, T0 + 3600);
    snprintf(e.sample_id, sizeof e.sample_id, "%s", sample);
    snprintf(e.aliquot_id, sizeof e.aliquot_id, "%s", out);
    e.time_s = st->samples[hm_bb_find_sample(st, sample)].processed_s;
    ok(st, e);
}

static unsigned sflags(hm_bb_state *st, const char *id)
{
    return st->samples[hm_bb_find_sample(st, id)].flags;
}

static unsigned aflags(hm_bb_state *st, const char *id)
{
    return st->aliquots[hm_bb_find_aliquot(st, id)].flags;
}

static int setup(void **state)
{
    (void)state;
    hm_error err;
    return hm_bb_protocol_load("cardiac_v1", &prot, NULL, &err);
}

/* Processing, freezing and QC limits, each just inside and just outside. */
static void test_sample_boundaries(void **state)
{
    (void)state;
    hm_bb_state st;
    hm_bb_state_init(&st);
    hm_error err;
    assert_int_equal(hm_bb_state_add_protocol(&st, &prot, &err), HM_OK);
    /* EDTA: processing limit 4 h, freezing 6 h; serum: 2 h and 4 h. */
    collect(&st, "S1", P1, "blood_edta", "baseline", T0);
    collect(&st, "S2", P1, "serum", "baseline", T0);
    sample_ev(&st, HM_BB_PROCESS, "S1", T0 + 4 * 3600, 20, NULL);           /* exactly 4 h */
    sample_ev(&st, HM_BB_PROCESS, "S2", T0 + 2 * 3600 + 1, 20, NULL);       /* 2 h + 1 s */
    assert_int_equal(sflags(&st, "S1") & HM_BB_F_PROCESSING_DELAY, 0);
    assert_int_equal(sflags(&st, "S2") & HM_BB_F_PROCESSING_DELAY, HM_BB_F_PROCESSING_DELAY);
    char a1[40], a2[40], a5[40];
    make_aliquot(&st, "S1", "FR01A000001", a1);
    make_aliquot(&st, "S2", "FR01A000002", a2);
    ok(&st, aliq_ev(HM_BB_STORE, a1, T0 + 6 * 3600, "FR01/F1/R1/B1/A1"));      /* exactly 6 h */
    ok(&st, aliq_ev(HM_BB_STORE, a2, T0 + 4 * 3600 + 1, "FR01/F1/R1/B1/A2"));  /* 4 h + 1 s */
    assert_int_equal(sflags(&st, "S1") & HM_BB_F_FREEZING_DELAY, 0);
    assert_int_equal(sflags(&st, "S2") & HM_BB_F_FREEZING_DELAY, HM_BB_F_FREEZING_DELAY);
    /* The aliquot plan of EDTA is 4: a fifth is refused. */
    char b[40];
    for (int k = 3; k <= 5; k++) {
        snprintf(b, sizeof b, "FR01A00000%d", k);
        make_aliquot(&st, "S1", b, a5);
    }
    hm_bb_event e = ev(HM_BB_ALIQUOT, T0 + 5 * 3600);
    snprintf(e.sample_id, sizeof e.sample_id, "S1");
    snprintf(e.aliquot_id, sizeof e.aliquot_id, "FR01A000006%c", hm_bb_check_char("FR01A000006"));
    refused(&st, e, "aliquot_id");
    /* A wrong check character is refused. */
    snprintf(e.aliquot_id, sizeof e.aliquot_id, "FR01A000007%c",
             hm_bb_check_char("FR01A000007") == '0' ? '1' : '0');
    snprintf(e.sample_id, sizeof e.sample_id, "S2");
    refused(&st, e, "aliquot_id");
    /* QC windows: DNA >= 1 ug, A260/280 1.7-2.0, RIN >= 7 (limits pass). */
    struct { const char *metric; double in, out; } qc[] = {
        { "dna_yield_ug", 1.0, 0.99 }, { "a260_280", 1.7, 1.69 }, { "a260_280", 2.0, 2.01 },
        { "rin", 7.0, 6.99 },
    };
    for (int k = 0; k < 4; k++) {
        char in_id[8], out_id[8];
        snprintf(in_id, sizeof in_id, "Q%din", k);
        snprintf(out_id, sizeof out_id, "Q%dout", k);
        collect(&st, in_id, P2, "blood_paxgene", "baseline", T0);
        collect(&st, out_id, P2, "blood_paxgene", "baseline", T0);
        sample_ev(&st, HM_BB_QC, in_id, T0 + 86400, qc[k].in, qc[k].metric);
        sample_ev(&st, HM_BB_QC, out_id, T0 + 86400, qc[k].out, qc[k].metric);
        assert_int_equal(sflags(&st, in_id), 0);
        assert_int_equal(sflags(&st, out_id), HM_BB_F_QC_LOW);
    }
    /* A flag changes only by flag_resolve with a reason. */
    hm_bb_event r = ev(HM_BB_FLAG_RESOLVE, T0 + 2 * 86400);
    snprintf(r.sample_id, sizeof r.sample_id, "S2");
    snprintf(r.metric, sizeof r.metric, "processing_delay");
    refused(&st, r, "detail");
    snprintf(r.detail, sizeof r.detail, "centrifuge broken; validated by the lab lead");
    ok(&st, r);
    assert_int_equal(st.samples[hm_bb_find_sample(&st, "S2")].resolved, HM_BB_F_PROCESSING_DELAY);
    refused(&st, r, "metric");                                  /* not open any more */
    /* SPREC: EDTA tube, 4 h at room temperature is the 4-8 h band (E); serum 2 h + 1 s: C. */
    char code[32];
    hm_bb_sprec(&st, hm_bb_find_aliquot(&st, a1), code);
    assert_string_equal(code, "BLD-PED-E-X-X-X-X");
    hm_bb_sprec(&st, hm_bb_find_aliquot(&st, a2), code);
    assert_string_equal(code, "SER-SST-C-X-X-X-X");
    hm_bb_state_free(&st);
}

/* Transport: logger readings and duration (72 h), receipt time. */
static void test_transport_and_consent(void **state)
{
    (void)state;
    hm_bb_state st;
    hm_bb_state_init(&st);
    hm_error err;
    assert_int_equal(hm_bb_state_add_protocol(&st, &prot, &err), HM_OK);
    collect(&st, "S1", P1, "blood_edta", "baseline", T0);
    sample_ev(&st, HM_BB_PROCESS, "S1", T0 + 3600, 20, NULL);
    char a[4][40];
    for (int k = 0; k < 4; k++) {
        char body[20];
        snprintf(body, sizeof body, "FR01A00001%d", k);
        make_aliquot(&st, "S1", body, a[k]);
        char loc[64];
        snprintf(loc, sizeof loc, "FR01/F1/R1/B1/%d", k + 1);
        ok(&st, aliq_ev(HM_BB_STORE, a[k], T0 + 2 * 3600, loc));
    }
    /* Double booking: refused, the aliquot stays where it was. */
    refused(&st, aliq_ev(HM_BB_MOVE, a[0], T0 + 3 * 3600, "FR01/F1/R1/B1/2"), "location");
    assert_string_equal(st.aliquots[hm_bb_find_aliquot(&st, a[0])].location, "FR01/F1/R1/B1/1");
    const double ship = T0 + 86400;
    hm_bb_logger_summary s = { 10, -80, -60, ship, ship + 72 * 3600, 0, NAN };
    hm_bb_event e = aliq_ev(HM_BB_SHIP, a[0], ship, "DE01");
    hm_bb_ship_detail(&s, e.detail, sizeof e.detail);                /* 72 h, none out */
    ok(&st, e);
    s.last_s += 1;                                                   /* 72 h + 1 s */
    e = aliq_ev(HM_BB_SHIP, a[1], ship, "DE01");
    hm_bb_ship_detail(&s, e.detail, sizeof e.detail);
    ok(&st, e);
    s.last_s -= 1;
    s.out_of_range = 1;
    e = aliq_ev(HM_BB_SHIP, a[2], ship, "DE01");
    hm_bb_ship_detail(&s, e.detail, sizeof e.detail);
    ok(&st, e);
    assert_int_equal(aflags(&st, a[0]), 0);
    assert_int_equal(aflags(&st, a[1]), HM_BB_F_TRANSPORT_TIME);
    assert_int_equal(aflags(&st, a[2]), HM_BB_F_TRANSPORT_TEMP);
    /* The freed position takes another aliquot. */
    assert_int_equal(hm_bb_find_position(&st, "FR01/F1/R1/B1/1"), -1);
    hm_bb_event rc0 = aliq_ev(HM_BB_RECEIVE, a[0], ship + 72 * 3600, NULL);
    snprintf(rc0.site, sizeof rc0.site, "DE01");
    ok(&st, rc0);
    hm_bb_event rc2 = aliq_ev(HM_BB_RECEIVE, a[2], ship + 72 * 3600 + 1, NULL);
    ok(&st, rc2);
    assert_int_equal(aflags(&st, a[0]), 0);
    assert_int_equal(aflags(&st, a[2]), HM_BB_F_TRANSPORT_TEMP | HM_BB_F_TRANSPORT_TIME);
    assert_string_equal(st.aliquots[hm_bb_find_aliquot(&st, a[0])].site, "DE01");
    /* Consent: genetic use needs the genetic tier. */
    hm_bb_event use = aliq_ev(HM_BB_USE, a[0], ship + 80 * 3600, NULL);
    snprintf(use.metric, sizeof use.metric, "genetic");
    refused(&st, use, "consent");
    hm_bb_event c = ev(HM_BB_CONSENT, T0);
    snprintf(c.pseudonym, sizeof c.pseudonym, P1);
    snprintf(c.metric, sizeof c.metric, "genetic");
    c.value = 1;
    ok(&st, c);
    ok(&st, use);
    /* Withdrawal at ship + 90 h: the rest is marked and blocked. */
    hm_bb_event w = ev(HM_BB_CONSENT_WITHDRAWN, ship + 90 * 3600);
    snprintf(w.pseudonym, sizeof w.pseudonym, P1);
    ok(&st, w);
    for (int k = 1; k < 4; k++)
        assert_int_equal(st.aliquots[hm_bb_find_aliquot(&st, a[k])].to_destroy, 1);
    assert_int_equal(st.aliquots[hm_bb_find_aliquot(&st, a[0])].to_destroy, 0);   /* used */
    assert_int_equal(aflags(&st, a[0]) & HM_BB_F_USE_AFTER_WITHDRAWAL, 0);       /* used before */
    hm_bb_event use3 = aliq_ev(HM_BB_USE, a[3], ship + 90 * 3600, NULL);          /* at the time */
    refused(&st, use3, "consent");
    use3.time_s = ship + 90 * 3600 - 1;                                           /* just before */
    ok(&st, use3);
    /* A withdrawal entered late, dated before that use: the use is flagged. */
    w.time_s = ship + 90 * 3600 - 2;
    ok(&st, w);
    assert_int_equal(aflags(&st, a[3]), HM_BB_F_USE_AFTER_WITHDRAWAL);
    assert_int_equal(aflags(&st, a[0]) & HM_BB_F_USE_AFTER_WITHDRAWAL, 0);
    /* No new collection for a withdrawn patient. */
    hm_bb_event col = ev(HM_BB_COLLECT, ship + 100 * 3600);
    snprintf(col.sample_id, sizeof col.sample_id, "S9");
    snprintf(col.pseudonym, sizeof col.pseudonym, P1);
    snprintf(col.protocol, sizeof col.protocol, "cardiac_v1");
    snprintf(col.sample_type, sizeof col.sample_type, "serum");
    snprintf(col.timepoint, sizeof col.timepoint, "month_12");
    refused(&st, col, "consent");
    snprintf(col.pseudonym, sizeof col.pseudonym, "%s", P2 "0");        /* 65 digits */
    refused(&st, col, "pseudonym");
    /* Another centre cannot record on this centre's aliquots. */
    hm_bb_event other = aliq_ev(HM_BB_DESTROY, a[2], ship + 100 * 3600, NULL);
    snprintf(other.centre, sizeof other.centre, "DE01");
    snprintf(other.detail, sizeof other.detail, "broken tube");
    refused(&st, other, "centre_code");
    hm_bb_event d = aliq_ev(HM_BB_DESTROY, a[1], ship + 100 * 3600, NULL);
    refused(&st, d, "detail");
    snprintf(d.detail, sizeof d.detail, "consent withdrawn");
    ok(&st, d);
    assert_int_equal(st.aliquots[hm_bb_find_aliquot(&st, a[1])].to_destroy, 0);
    assert_int_equal(st.aliquots[hm_bb_find_aliquot(&st, a[1])].status, HM_BB_ST_DESTROYED);
    hm_bb_state_free(&st);
}

/* Missing timepoints: post_procedure is due within 1 day of the baseline. */
static void test_missing_timepoint(void **state)
{
    (void)state;
    hm_bb_state st;
    hm_bb_state_init(&st);
    hm_error err;
    assert_int_equal(hm_bb_state_add_protocol(&st, &prot, &err), HM_OK);
    const char *base[] = { "blood_edta", "blood_paxgene", "serum", "saliva" };
    for (int k = 0; k < 4; k++) {
        char id[8];
        snprintf(id, sizeof id, "B%d", k);
        collect(&st, id, P1, base[k], "baseline", T0);
    }
    collect(&st, "PP1", P1, "blood_edta", "post_procedure", T0 + 86400);      /* at the deadline */
    collect(&st, "PP2", P1, "blood_paxgene", "post_procedure", T0 + 86400 + 1); /* late */
    hm_bb_check_timepoints(&st, T0 + 86400);
    assert_int_equal(st.nmissing, 1);                 /* PP2 late; serum not yet due */
    assert_string_equal(st.missing[0].note, "blood_paxgene(late)");
    hm_bb_check_timepoints(&st, T0 + 86400 + 1);
    assert_int_equal(st.nmissing, 1);
    assert_string_equal(st.missing[0].note, "blood_paxgene(late);serum");
    assert_string_equal(st.missing[0].timepoint, "post_procedure");
    hm_bb_check_timepoints(&st, T0 + 425.0 * 86400 + 1);      /* month_12 window 365 + 60 d */
    assert_int_equal(st.nmissing, 2);
    assert_int_equal(st.missing[1].resolved, 0);
    hm_bb_event r = ev(HM_BB_FLAG_RESOLVE, T0 + 500.0 * 86400);
    snprintf(r.pseudonym, sizeof r.pseudonym, P1);
    snprintf(r.timepoint, sizeof r.timepoint, "month_12");
    snprintf(r.metric, sizeof r.metric, "missing_timepoint");
    snprintf(r.detail, sizeof r.detail, "patient lost to follow-up");
    ok(&st, r);
    hm_bb_check_timepoints(&st, T0 + 500.0 * 86400);
    assert_int_equal(st.nmissing, 2);
    assert_int_equal(st.missing[1].resolved, 1);
    assert_int_equal(st.missing[0].resolved, 0);
    hm_bb_state_free(&st);
}

static long count_events(hm_db *db)
{
    hm_stmt *q;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, "SELECT COUNT(*) FROM bio_event", &q, &err), HM_OK);
    assert_int_equal(hm_stmt_step(q, &err), 1);
    long n = (long)hm_stmt_column_int64(q, 0);
    hm_stmt_finalize(q);
    return n;
}

/* Through the database: one transaction per command, rejected commands leave nothing. */
static void test_database(void **state)
{
    (void)state;
    if (tdb_skip())
        skip();
    char url[1024];
    tdb_new_url("bb", url, sizeof url);
    hm_db *db = tdb_open(url);
    hm_error err;
    char *text = NULL;
    hm_bb_protocol p;
    assert_int_equal(hm_bb_protocol_load("cardiac_v1", &p, &text, &err), HM_OK);
    char sid[40];
    assert_int_equal(hm_bb_next_id(db, "FR01", 'S', 0, sid, &err), HM_OK);
    assert_int_equal(strncmp(sid, "FR01S000001", 11), 0);
    assert_int_equal(strlen(sid), 12);
    assert_true(hm_bb_check_valid(sid));
    hm_bb_event e = ev(HM_BB_COLLECT, T0);
    snprintf(e.sample_id, sizeof e.sample_id, "%s", sid);
    snprintf(e.pseudonym, sizeof e.pseudonym, P1);
    snprintf(e.protocol, sizeof e.protocol, "cardiac_v1");
    snprintf(e.sample_type, sizeof e.sample_type, "blood_edta");
    snprintf(e.timepoint, sizeof e.timepoint, "baseline");
    assert_int_equal(hm_bb_record(db, &e, 1, &p, text, &err), HM_OK);
    hm_bb_event pr = ev(HM_BB_PROCESS, T0 + 3 * 3600);
    snprintf(pr.sample_id, sizeof pr.sample_id, "%s", sid);
    pr.value = 4;
    hm_bb_event al[2];
    for (int k = 0; k < 2; k++) {
        al[k] = ev(HM_BB_ALIQUOT, T0 + 3 * 3600);
        snprintf(al[k].sample_id, sizeof al[k].sample_id, "%s", sid);
        assert_int_equal(hm_bb_next_id(db, "FR01", 'A', k, al[k].aliquot_id, &err), HM_OK);
    }
    assert_string_not_equal(al[0].aliquot_id, al[1].aliquot_id);
    hm_bb_event cmd[3] = { pr, al[0], al[1] };
    assert_int_equal(hm_bb_record(db, cmd, 3, NULL, NULL, &err), HM_OK);
    hm_bb_event s1 = aliq_ev(HM_BB_STORE, al[0].aliquot_id, T0 + 4 * 3600, "FR01/F1/R1/B1/A1");
    assert_int_equal(hm_bb_record(db, &s1, 1, NULL, NULL, &err), HM_OK);
    long before = count_events(db);
    assert_int_equal(before, 5);
    /* Double booking in one command with a valid event before it: all refused. */
    hm_bb_event qc = ev(HM_BB_QC, T0 + 5 * 3600);
    snprintf(qc.sample_id, sizeof qc.sample_id, "%s", sid);
    snprintf(qc.metric, sizeof qc.metric, "rin");
    qc.value = 8;
    hm_bb_event s2 = aliq_ev(HM_BB_STORE, al[1].aliquot_id, T0 + 4 * 3600, "FR01/F1/R1/B1/A1");
    hm_bb_event two[2] = { qc, s2 };
    assert_int_equal(hm_bb_record(db, two, 2, NULL, NULL, &err), HM_EVALIDATE);
    assert_string_equal(err.field, "location");
    assert_non_null(strstr(err.msg, al[0].aliquot_id));
    assert_int_equal(count_events(db), before);
    /* The same protocol id with other content is refused. */
    char *changed = strdup(text);
    changed[strlen(changed) - 3] = '8';                   /* qc,rin,8, */
    hm_bb_protocol p2;
    assert_int_equal(hm_bb_protocol_parse(changed, strlen(changed), "x", &p2, &err), HM_OK);
    hm_bb_event e2 = e;
    snprintf(e2.sample_id, sizeof e2.sample_id, "OTHER");
    assert_int_equal(hm_bb_record(db, &e2, 1, &p2, changed, &err), HM_EVALIDATE);
    assert_string_equal(err.field, "protocol");
    assert_int_equal(count_events(db), before);
    free(changed);
    /* The replayed state from the database. */
    hm_bb_state st;
    hm_bb_state_init(&st);
    assert_int_equal(hm_bb_load(db, &st, &err), HM_OK);
    assert_int_equal(st.nsamples, 1);
    assert_int_equal(st.naliquots, 2);
    assert_int_equal(st.last_seq, 5);
    const hm_bb_aliquot *a0 = &st.aliquots[hm_bb_find_aliquot(&st, al[0].aliquot_id)];
    assert_int_equal(a0->status, HM_BB_ST_STORED);
    assert_string_equal(a0->location, "FR01/F1/R1/B1/A1");
    assert_int_equal(st.aliquots[hm_bb_find_aliquot(&st, al[1].aliquot_id)].status,
                     HM_BB_ST_PLANNED);
    assert_true(st.samples[0].processed_s - st.samples[0].collected_s == 3 * 3600);
    char code[32];
    hm_bb_sprec(&st, 0, code);
    assert_string_equal(code, "BLD-PED-D-X-X-X-X");           /* 3 h at 4 C */
    assert_string_equal(st.samples[0].protocol, "cardiac_v1");
    hm_bb_state_free(&st);
    free(text);
    hm_db_close(db);
    tdb_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_boundaries), cmocka_unit_test(test_transport_and_consent),
        cmocka_unit_test(test_missing_timepoint), cmocka_unit_test(test_database),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
