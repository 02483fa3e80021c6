/*
 * cmd_biobank.c — `harmonic biobank ...`: the protocol, each step of a
 * sample's life as one event (one transaction per command), the inventory,
 * the deviation report and labels (docs/biobank.md).  Parses options and
 * calls hm_biobank; every rule lives there.
 */
#include "cli.h"
#include "hm_biobank.h"
#include "hm_pseudo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define O_DB HM_OPT_STR("db", "URL", "registry database (SQLite path or postgresql://...)", \
                        "harmonic.db")
/* The options every recording command takes. */
#define O_EVENT                                                                              \
    O_DB,                                                                                    \
    { "centre", 0, HM_OPT_T_STRING, "C", "centre that owns the sample", NULL,               \
      HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },                                                   \
    { "user", 0, HM_OPT_T_STRING, "U", "who records the event", NULL, HM_OPT_REQUIRED, 0, 0, \
      NULL, 0, 0 },                                                                          \
    HM_OPT_STR("site", "S", "site where it happens", "the centre"),                          \
    HM_OPT_STR("time", "T", "when it happened, YYYY-MM-DDThh:mm[:ss] UTC", "now")
#define REQ_STR(n, v, help) { n, 0, HM_OPT_T_STRING, v, help, NULL, HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 }

static const char *opt_or(const hm_args *a, const char *name, const char *def)
{
    for (const hm_cli_opt *t = a->cmd->opts; t->name; t++)
        if (!strcmp(t->name, name))
            return hm_args_count(a, name) ? hm_args_str(a, name, def) : def;
    return def;
}

/* Fills the common part of an event from the options; 0 or the exit status. */
static int base_event(const hm_args *a, int type, hm_bb_event *e)
{
    const char *centre = hm_args_str(a, "centre", "");
    hm_bb_event_init(e, type, centre);
    snprintf(e->user, sizeof e->user, "%s", hm_args_str(a, "user", ""));
    snprintf(e->site, sizeof e->site, "%s", opt_or(a, "site", centre));
    const char *t = opt_or(a, "time", NULL);
    if (!t || !strcmp(t, "now"))
        e->time_s = (double)time(NULL);
    else if (hm_bb_parse_time(t, strlen(t), &e->time_s))
        return hm_cli_usage_error(a, "option '--time': expected YYYY-MM-DDThh:mm[:ss], found '%s'", t);
    return 0;
}

static int open_db(const hm_args *a, hm_db **db)
{
    hm_error err;
    if (hm_db_open(hm_args_str(a, "db", "harmonic.db"), db, &err))
        return hm_cli_report(&err);
    return 0;
}

/* Records events[0..n) and closes the database; 0, or 1 after the message. */
static int record(hm_db *db, hm_bb_event *ev, size_t n, const hm_bb_protocol *p,
                  const char *text)
{
    hm_error err;
    int rc = hm_bb_record(db, ev, n, p, text, &err);
    hm_db_close(db);
    return rc ? hm_cli_report(&err) : 0;
}

static int load_state(const hm_args *a, hm_bb_state *st)
{
    hm_db *db;
    int rc = open_db(a, &db);
    if (rc)
        return rc;
    hm_error err;
    hm_bb_state_init(st);
    rc = hm_bb_load(db, st, &err);
    hm_db_close(db);
    if (rc) {
        hm_bb_state_free(st);
        return hm_cli_report(&err);
    }
    return 0;
}

/* ---- protocol show|check ---- */

static int run_protocol(const hm_args *a, int show)
{
    hm_bb_protocol p;
    hm_error err;
    if (hm_bb_protocol_load(a->pos[0], &p, NULL, &err))
        return hm_cli_report(&err);
    if (show)
        hm_bb_protocol_print(&p, stdout);
    else
        printf("%s: protocol %s is valid (%d sample types, %d timepoints)\n", a->pos[0], p.id,
               p.ntypes, p.ntimepoints);
    return 0;
}
static int run_protocol_show(const hm_args *a) { return run_protocol(a, 1); }
static int run_protocol_check(const hm_args *a) { return run_protocol(a, 0); }

static const hm_cli_opt no_opts[] = { HM_OPT_END };
static const hm_cli_pos pos_protocol[] = {
    { "FILE", "protocol CSV file, or an id such as cardiac_v1 (data/biobank/protocol_ID.csv)",
      1, 1, HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_cmd protocol_show = { "show", "print a protocol", NULL, no_opts, pos_protocol,
                                          run_protocol_show, NULL, 0 };
static const hm_cli_cmd protocol_check = { "check", "check a protocol file (file:line on errors)",
                                           NULL, no_opts, pos_protocol, run_protocol_check, NULL, 0 };
static const hm_cli_cmd *const protocol_subs[] = { &protocol_show, &protocol_check, NULL };
static const hm_cli_cmd protocol_cmd = { "protocol", "show or check a sampling protocol", NULL,
                                         no_opts, NULL, NULL, protocol_subs, 0 };

/* ---- collect ---- */

static int run_collect(const hm_args *a)
{
    hm_bb_event e;
    int rc = base_event(a, HM_BB_COLLECT, &e);
    if (rc)
        return rc;
    hm_bb_protocol p;
    char *text = NULL;
    hm_error err;
    if (hm_bb_protocol_load(hm_args_str(a, "protocol", "cardiac_v1"), &p, &text, &err))
        return hm_cli_report(&err);
    snprintf(e.protocol, sizeof e.protocol, "%s", p.id);
    snprintf(e.pseudonym, sizeof e.pseudonym, "%s", hm_args_str(a, "pseudonym", ""));
    snprintf(e.sample_type, sizeof e.sample_type, "%s", hm_args_str(a, "type", ""));
    snprintf(e.timepoint, sizeof e.timepoint, "%s", hm_args_str(a, "timepoint", ""));
    hm_db *db;
    if ((rc = open_db(a, &db))) {
        free(text);
        return rc;
    }
    if (hm_bb_next_id(db, e.centre, 'S', 0, e.sample_id, &err)) {
        hm_db_close(db);
        free(text);
        return hm_cli_report(&err);
    }
    rc = record(db, &e, 1, &p, text);
    free(text);
    if (!rc)
        printf("%s\n", e.sample_id);
    return rc;
}

static const hm_cli_opt collect_opts[] = {
    O_EVENT,
    REQ_STR("pseudonym", "P", "patient pseudonym"),
    REQ_STR("type", "TYPE", "sample type of the protocol (blood_edta, blood_paxgene, serum, saliva)"),
    REQ_STR("timepoint", "TP", "protocol timepoint (baseline, post_procedure, month_12, ...)"),
    HM_OPT_STR("protocol", "ID|FILE", "protocol in force, recorded with the sample", "cardiac_v1"),
    HM_OPT_END
};
static const hm_cli_cmd collect_cmd = {
    "collect", "register a sample collection (prints the new sample id)", NULL, collect_opts,
    NULL, run_collect, NULL, 0
};

/* ---- process, qc (sample events) ---- */

static int run_sample_event(const hm_args *a, int type)
{
    hm_bb_event e;
    int rc = base_event(a, type, &e);
    if (rc)
        return rc;
    snprintf(e.sample_id, sizeof e.sample_id, "%s", hm_args_str(a, "sample", ""));
    if (type == HM_BB_PROCESS) {
        if (hm_args_count(a, "temp-c"))
            e.value = hm_args_num(a, "temp-c", NAN);
    } else {
        snprintf(e.metric, sizeof e.metric, "%s", hm_args_str(a, "metric", ""));
        snprintf(e.aliquot_id, sizeof e.aliquot_id, "%s", opt_or(a, "aliquot", ""));
        e.value = hm_args_num(a, "value", NAN);
    }
    hm_db *db;
    if ((rc = open_db(a, &db)))
        return rc;
    return record(db, &e, 1, NULL, NULL);
}
static int run_process(const hm_args *a) { return run_sample_event(a, HM_BB_PROCESS); }
static int run_qc(const hm_args *a) { return run_sample_event(a, HM_BB_QC); }

static const hm_cli_opt process_opts[] = {
    O_EVENT, REQ_STR("sample", "ID", "sample id"),
    HM_OPT_NUM("temp-c", "C", "temperature between collection and processing (SPREC)", NULL,
               -200, 60),
    HM_OPT_END
};
static const hm_cli_cmd process_cmd = { "process", "record the processing of a sample", NULL,
                                        process_opts, NULL, run_process, NULL, 0 };
static const hm_cli_opt qc_opts[] = {
    O_EVENT, REQ_STR("sample", "ID", "sample id"),
    HM_OPT_STR("aliquot", "ID", "aliquot measured (else the sample)", NULL),
    { "metric", 0, HM_OPT_T_CHOICE, "M", "what was measured", NULL, HM_OPT_REQUIRED, 0, 0,
      "dna_yield_ug|a260_280|rin", 0, 0 },
    { "value", 0, HM_OPT_T_NUMBER, "V", "the result", NULL, HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_END
};
static const hm_cli_cmd qc_cmd = { "qc", "record a QC result (DNA yield, A260/280, RIN)", NULL,
                                   qc_opts, NULL, run_qc, NULL, 0 };

/* ---- aliquot ---- */

static int run_aliquot(const hm_args *a)
{
    hm_bb_state st;
    int rc = load_state(a, &st);
    if (rc)
        return rc;
    const char *sample = hm_args_str(a, "sample", "");
    int si = hm_bb_find_sample(&st, sample);
    int n = (int)hm_args_int(a, "n", 0);
    if (si >= 0 && n == 0) {                      /* the rest of the protocol's plan */
        const hm_bb_protocol *p = hm_bb_find_protocol(&st, st.samples[si].protocol);
        const hm_bb_sample_rule *r = p ? hm_bb_protocol_type(p, st.samples[si].type) : NULL;
        n = r ? r->aliquots_n - st.samples[si].naliquots : 1;
    }
    hm_bb_state_free(&st);
    if (n < 1)
        n = 1;                                     /* the log refuses it with the reason */
    hm_bb_event *ev = calloc((size_t)n, sizeof *ev);
    hm_db *db;
    if (!ev || (rc = open_db(a, &db))) {
        free(ev);
        return rc ? rc : 3;
    }
    hm_error err;
    for (int k = 0; k < n && rc == 0; k++) {
        if ((rc = base_event(a, HM_BB_ALIQUOT, &ev[k])))
            break;
        snprintf(ev[k].sample_id, sizeof ev[k].sample_id, "%s", sample);
        if (hm_bb_next_id(db, ev[k].centre, 'A', k, ev[k].aliquot_id, &err))
            rc = hm_cli_report(&err);
    }
    if (rc) {
        hm_db_close(db);
        free(ev);
        return rc;
    }
    rc = record(db, ev, (size_t)n, NULL, NULL);
    for (int k = 0; k < n && !rc; k++)
        printf("%s\n", ev[k].aliquot_id);
    free(ev);
    return rc;
}

static const hm_cli_opt aliquot_opts[] = {
    O_EVENT, REQ_STR("sample", "ID", "sample id"),
    HM_OPT_INT("n", "N", "number of aliquots", "the rest of the protocol's plan", 0, 99),
    HM_OPT_END
};
static const hm_cli_cmd aliquot_cmd = {
    "aliquot", "split a processed sample into aliquots (prints their ids)", NULL, aliquot_opts,
    NULL, run_aliquot, NULL, 0
};

/* ---- store, move, ship, receive, use, destroy (aliquot events) ---- */

static int run_aliquot_events(const hm_args *a, int type)
{
    size_t n = (size_t)a->npos;
    hm_bb_event *ev = calloc(n, sizeof *ev);
    if (!ev)
        return 3;
    int rc = 0;
    char detail[256] = "";
    if (type == HM_BB_SHIP) {
        /* The logger is checked against the transport range of the first aliquot's protocol. */
        hm_bb_state st;
        if ((rc = load_state(a, &st))) {
            free(ev);
            return rc;
        }
        int ai = hm_bb_find_aliquot(&st, a->pos[0]);
        const hm_bb_protocol *p = ai >= 0 ?
            hm_bb_find_protocol(&st, st.samples[st.aliquots[ai].sample].protocol) : NULL;
        double lo = p ? p->transport_min_c : -INFINITY, hi = p ? p->transport_max_c : INFINITY;
        hm_bb_state_free(&st);
        hm_bb_logger_summary s;
        hm_error err;
        if (hm_bb_logger_read(hm_args_str(a, "logger", ""), lo, hi, &s, &err)) {
            free(ev);
            return hm_cli_report(&err);
        }
        hm_bb_ship_detail(&s, detail, sizeof detail);
        printf("logger: %ld readings, %.2f to %.2f C over %.2f h, %ld outside %g..%g C\n",
               s.readings, s.min_c, s.max_c, (s.last_s - s.first_s) / 3600.0, s.out_of_range,
               lo, hi);
    }
    for (size_t k = 0; k < n && !rc; k++) {
        rc = base_event(a, type, &ev[k]);
        snprintf(ev[k].aliquot_id, sizeof ev[k].aliquot_id, "%s", a->pos[k]);
        snprintf(ev[k].location, sizeof ev[k].location, "%s",
                 opt_or(a, type == HM_BB_SHIP ? "to" : "location", ""));
        snprintf(ev[k].metric, sizeof ev[k].metric, "%s", opt_or(a, "purpose", ""));
        snprintf(ev[k].detail, sizeof ev[k].detail, "%s",
                 type == HM_BB_SHIP ? detail : opt_or(a, "reason", ""));
    }
    hm_db *db;
    if (!rc && !(rc = open_db(a, &db)))
        rc = record(db, ev, n, NULL, NULL);
    free(ev);
    return rc;
}
static int run_store(const hm_args *a) { return run_aliquot_events(a, HM_BB_STORE); }
static int run_move(const hm_args *a) { return run_aliquot_events(a, HM_BB_MOVE); }
static int run_ship(const hm_args *a) { return run_aliquot_events(a, HM_BB_SHIP); }
static int run_receive(const hm_args *a) { return run_aliquot_events(a, HM_BB_RECEIVE); }
static int run_use(const hm_args *a) { return run_aliquot_events(a, HM_BB_USE); }
static int run_destroy(const hm_args *a) { return run_aliquot_events(a, HM_BB_DESTROY); }

static const hm_cli_pos pos_one[] = { { "ALIQUOT", "aliquot id", 1, 1, HM_OPT_T_STRING }, HM_POS_END };
static const hm_cli_pos pos_many[] = { { "ALIQUOT", "aliquot ids", 1, -1, HM_OPT_T_STRING }, HM_POS_END };
static const hm_cli_opt store_opts[] = {
    O_EVENT, REQ_STR("location", "SITE/FREEZER/RACK/BOX/POS", "storage position (must be free)"),
    HM_OPT_END
};
static const hm_cli_cmd store_cmd = { "store", "put an aliquot in a storage position", NULL,
                                      store_opts, pos_one, run_store, NULL, 0 };
static const hm_cli_cmd move_cmd = { "move", "move a stored aliquot to another free position",
                                     NULL, store_opts, pos_one, run_move, NULL, 0 };
static const hm_cli_opt ship_opts[] = {
    O_EVENT, REQ_STR("to", "SITE", "destination site"),
    { "logger", 0, HM_OPT_T_PATH, "FILE.csv", "temperature log (timestamp,temperature_c)", NULL,
      HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_END
};
static const hm_cli_cmd ship_cmd = { "ship", "ship aliquots with the shipment's temperature log",
                                     NULL, ship_opts, pos_many, run_ship, NULL, 0 };
static const hm_cli_opt event_opts[] = { O_EVENT, HM_OPT_END };
static const hm_cli_cmd receive_cmd = { "receive", "receive shipped aliquots at --site", NULL,
                                        event_opts, pos_many, run_receive, NULL, 0 };
static const hm_cli_opt use_opts[] = {
    O_EVENT,
    HM_OPT_CHOICE("purpose", "P", "what the aliquot is used for (consent tier checked)", "assay",
                  "assay|genetic|sharing"),
    HM_OPT_END
};
static const hm_cli_cmd use_cmd = { "use", "use an aliquot in an assay (consent checked)", NULL,
                                    use_opts, pos_one, run_use, NULL, 0 };
static const hm_cli_opt destroy_opts[] = { O_EVENT, REQ_STR("reason", "TEXT", "why"), HM_OPT_END };
static const hm_cli_cmd destroy_cmd = { "destroy", "destroy aliquots", NULL, destroy_opts,
                                        pos_many, run_destroy, NULL, 0 };

/* ---- consent, resolve ---- */

static int run_consent(const hm_args *a)
{
    const char *action = hm_args_str(a, "action", "give");
    int withdraw = !strcmp(action, "withdraw");
    hm_bb_event e;
    int rc = base_event(a, withdraw ? HM_BB_CONSENT_WITHDRAWN : HM_BB_CONSENT, &e);
    if (rc)
        return rc;
    snprintf(e.pseudonym, sizeof e.pseudonym, "%s", hm_args_str(a, "pseudonym", ""));
    snprintf(e.metric, sizeof e.metric, "%s", hm_args_str(a, "tier", withdraw ? "all" : ""));
    if (!withdraw)
        e.value = !strcmp(action, "give") ? 1 : 0;
    else if (!hm_args_count(a, "tier"))
        snprintf(e.metric, sizeof e.metric, "all");
    if (!withdraw && !strcmp(e.metric, "all"))
        return hm_cli_usage_error(a, "give/refuse takes one tier: storage, genetic or sharing");
    hm_db *db;
    if ((rc = open_db(a, &db)) || (rc = record(db, &e, 1, NULL, NULL)))
        return rc;
    if (!withdraw)
        return 0;
    /* Report what the withdrawal marked. */
    hm_bb_state st;
    if ((rc = load_state(a, &st)))
        return rc;
    long marked = 0;
    for (size_t i = 0; i < st.naliquots; i++)
        if (st.aliquots[i].to_destroy &&
            !strcmp(st.samples[st.aliquots[i].sample].pseudonym, e.pseudonym)) {
            printf("marked for destruction: %s (%s)\n", st.aliquots[i].id,
                   st.aliquots[i].location[0] ? st.aliquots[i].location : st.aliquots[i].site);
            marked++;
        }
    printf("%ld aliquots marked for destruction; further use is blocked\n", marked);
    hm_bb_state_free(&st);
    return 0;
}

static const hm_cli_opt consent_opts[] = {
    O_EVENT, REQ_STR("pseudonym", "P", "patient pseudonym"),
    HM_OPT_CHOICE("tier", "TIER", "consent tier (withdraw without --tier: all tiers)", NULL,
                  "storage|genetic|sharing|all"),
    HM_OPT_CHOICE("action", "A", "give, refuse or withdraw", "give", "give|refuse|withdraw"),
    HM_OPT_END
};
static const hm_cli_cmd consent_cmd = {
    "consent", "record consent by tier, or its withdrawal (aliquots marked for destruction)",
    NULL, consent_opts, NULL, run_consent, NULL, 0
};

static int run_resolve(const hm_args *a)
{
    hm_bb_event e;
    int rc = base_event(a, HM_BB_FLAG_RESOLVE, &e);
    if (rc)
        return rc;
    snprintf(e.sample_id, sizeof e.sample_id, "%s", opt_or(a, "sample", ""));
    snprintf(e.aliquot_id, sizeof e.aliquot_id, "%s", opt_or(a, "aliquot", ""));
    snprintf(e.pseudonym, sizeof e.pseudonym, "%s", opt_or(a, "pseudonym", ""));
    snprintf(e.timepoint, sizeof e.timepoint, "%s", opt_or(a, "timepoint", ""));
    snprintf(e.metric, sizeof e.metric, "%s", hm_args_str(a, "flag", ""));
    snprintf(e.detail, sizeof e.detail, "%s", hm_args_str(a, "reason", ""));
    hm_db *db;
    if ((rc = open_db(a, &db)))
        return rc;
    return record(db, &e, 1, NULL, NULL);
}

static const hm_cli_opt resolve_opts[] = {
    O_EVENT,
    HM_OPT_STR("sample", "ID", "sample whose flag is resolved", NULL),
    HM_OPT_STR("aliquot", "ID", "aliquot whose flag is resolved", NULL),
    HM_OPT_STR("pseudonym", "P", "patient (missing_timepoint)", NULL),
    HM_OPT_STR("timepoint", "TP", "timepoint (missing_timepoint)", NULL),
    REQ_STR("flag", "FLAG", "processing_delay, freezing_delay, transport_temperature, "
                            "transport_time, qc_below_threshold, use_after_withdrawal, "
                            "missing_timepoint"),
    REQ_STR("reason", "TEXT", "why the deviation is resolved"),
    HM_OPT_END
};
static const hm_cli_cmd resolve_cmd = { "resolve", "resolve a deviation flag, with a reason",
                                        NULL, resolve_opts, NULL, run_resolve, NULL, 0 };

/* ---- load (a batch file of events) ---- */

static int run_load(const hm_args *a)
{
    hm_bb_batch b;
    hm_error err;
    if (hm_bb_batch_read(a->pos[0], &b, &err))
        return hm_cli_report(&err);
    hm_db *db;
    int rc = open_db(a, &db);
    if (!rc) {
        double t0 = hm_now_s();
        rc = hm_bb_batch_record(db, &b, &err);
        hm_db_close(db);
        if (rc)
            rc = hm_cli_report(&err);
        else
            printf("%s: %zu events recorded in one transaction (%.2f s)\n", a->pos[0], b.n,
                   hm_now_s() - t0);
    }
    hm_bb_batch_free(&b);
    return rc;
}

static const hm_cli_opt load_opts[] = { O_DB, HM_OPT_END };
static const hm_cli_pos pos_batch[] = {
    { "FILE.csv", "batch of events: header event,time,centre,user,site[,pseudonym,sample_id,"
      "aliquot_id,protocol,timepoint,sample_type,location,metric,value,detail,logger]", 1, 1,
      HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_cmd load_cmd = {
    "load", "record a batch file of events in one transaction (all or nothing)",
    "Each row is one event, checked as the single commands check it; a ship row's logger\n"
    "file (relative to the batch file) is read against its protocol's transport range.\n"
    "The first refused row is reported as FILE:LINE:FIELD and nothing is recorded.\n",
    load_opts, pos_batch, run_load, NULL, 0
};

/* ---- pseudonymise (a hospital batch, at the site) ---- */

/* The site turns its LIMS export (local_patient_id) into a poolable batch
 * (pseudonym): the same keyed HMAC as `harmonic pseudonymise`, namespace
 * "patient", so the pseudonyms are those of the registry. */
static int run_bb_pseudonymise(const hm_args *a)
{
    hm_error err;
    hm_pseudo_key key;
    if (hm_pseudo_key_load(hm_args_str(a, "key", ""), &key, &err))
        return hm_cli_report(&err);
    const char *in = a->pos[0], *outp = a->pos[1];
    hm_csv_dialect d = { ',', '.', HM_CSV_ENC_UTF8, 1 };
    hm_csv *csv = hm_csv_open_dialect(in, 1, &d, &err);
    FILE *out = csv ? fopen(outp, "w") : NULL;
    int rc = !csv ? hm_cli_report(&err) : 0;
    if (csv && !out) {
        fprintf(stderr, "harmonic: %s: cannot create\n", outp);
        rc = 1;
    }
    long col = -1, rows = 0;
    char **f;
    size_t n;
    int got = 0;
    while (!rc && (got = hm_csv_next(csv, &f, &n, &err)) == 1) {
        char hex[HM_PSEUDO_HEX_SIZE];
        for (size_t k = 0; k < n && !rc; k++) {
            const char *v = f[k];
            if (col < 0 && !strcmp(v, "local_patient_id")) {
                col = (long)k;
                v = "pseudonym";
            } else if (rows && (long)k == col && v[0]) {
                if (hm_pseudo_id(&key, "patient", v, hex, &err)) {
                    err.line = hm_csv_line(csv);
                    snprintf(err.file, sizeof err.file, "%s", in);
                    rc = hm_cli_report(&err);
                    break;
                }
                v = hex;
            }
            if (k)
                fputc(',', out);
            hm_csv_write_field(out, v);
        }
        fputc('\n', out);
        if (!rows && col < 0 && !rc) {
            hm_error_set(&err, HM_EPARSE, in, hm_csv_line(csv), "local_patient_id",
                         "the header has no local_patient_id column");
            rc = hm_cli_report(&err);
        }
        rows++;
    }
    if (!rc && got < 0)
        rc = hm_cli_report(&err);
    hm_pseudo_key_wipe(&key);
    if (csv)
        hm_csv_close(csv);
    if (out && fclose(out) && !rc)
        rc = 1;
    if (rc)
        remove(outp);
    else
        fprintf(stderr, "harmonic: %s: %ld events pseudonymised -> %s\n", in, rows - 1, outp);
    return rc;
}

static const hm_cli_opt bb_pseudo_opts[] = {
    { "key", 0, HM_OPT_T_PATH, "KEYFILE", "the study key (harmonic keygen)", NULL,
      HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_END
};
static const hm_cli_pos pos_bb_pseudo[] = {
    { "IN.csv", "the site's batch with local_patient_id", 1, 1, HM_OPT_T_PATH },
    { "OUT.csv", "the batch to load, with pseudonym", 1, 1, HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_cmd bb_pseudo_cmd = {
    "pseudonymise", "replace a batch file's local_patient_id by the patient pseudonym",
    NULL, bb_pseudo_opts, pos_bb_pseudo, run_bb_pseudonymise, NULL, 0
};

/* ---- inventory, deviations, label ---- */

static int run_inventory(const hm_args *a)
{
    hm_bb_state st;
    int rc = load_state(a, &st);
    if (rc)
        return rc;
    hm_bb_inventory(&st, opt_or(a, "centre", NULL), stdout);
    hm_bb_state_free(&st);
    return 0;
}

static int run_deviations(const hm_args *a)
{
    hm_bb_state st;
    int rc = load_state(a, &st);
    if (rc)
        return rc;
    double now = (double)time(NULL);
    const char *t = opt_or(a, "as-of", NULL);
    if (t && hm_bb_parse_time(t, strlen(t), &now)) {
        hm_bb_state_free(&st);
        return hm_cli_usage_error(a, "option '--as-of': expected YYYY-MM-DDThh:mm[:ss], found '%s'", t);
    }
    hm_bb_check_timepoints(&st, now);
    hm_bb_deviations(&st, opt_or(a, "centre", NULL), stdout);
    hm_bb_state_free(&st);
    return 0;
}

static int run_label(const hm_args *a)
{
    hm_bb_state st;
    int rc = load_state(a, &st);
    if (rc)
        return rc;
    hm_error err;
    rc = hm_bb_label_png(&st, a->pos[0], hm_args_str(a, "output", "label.png"), &err);
    hm_bb_state_free(&st);
    return rc ? hm_cli_report(&err) : 0;
}

static const hm_cli_opt report_opts[] = {
    O_DB, HM_OPT_STR("centre", "C", "one centre only", "all"),
    HM_OPT_STR("as-of", "T", "date of the missing-timepoint check (YYYY-MM-DDThh:mm)", "now"),
    HM_OPT_END
};
static const hm_cli_opt inventory_opts[] = {
    O_DB, HM_OPT_STR("centre", "C", "one centre only", "all"), HM_OPT_END
};
static const hm_cli_cmd inventory_cmd = {
    "inventory", "every aliquot: status, position, SPREC code, consent mark (CSV)", NULL,
    inventory_opts, NULL, run_inventory, NULL, 0
};
static const hm_cli_cmd deviations_cmd = {
    "deviations", "protocol deviations per centre, open and resolved (CSV)", NULL, report_opts,
    NULL, run_deviations, NULL, 0
};
static const hm_cli_opt label_opts[] = {
    O_DB,
    { "output", 'o', HM_OPT_T_PATH, "LABEL.png", "where to write the label", "label.png", 0, 0,
      0, NULL, 0, 0 },
    HM_OPT_END
};
static const hm_cli_cmd label_cmd = {
    "label", "a printable aliquot label (PNG: QR code of the id beside the text)", NULL,
    label_opts, pos_one, run_label, NULL, 0
};

static const hm_cli_cmd *const biobank_subs[] = {
    &protocol_cmd, &collect_cmd, &process_cmd, &aliquot_cmd, &store_cmd, &move_cmd, &ship_cmd,
    &receive_cmd, &qc_cmd, &use_cmd, &destroy_cmd, &consent_cmd, &resolve_cmd, &inventory_cmd,
    &deviations_cmd, &label_cmd, &load_cmd, &bb_pseudo_cmd, NULL
};

const hm_cli_cmd hm_cli_biobank = {
    "biobank", "samples under a protocol: events, storage, shipments, consent, deviations",
    "Every step of a sample's life is one append-only event in the registry database; the\n"
    "state, the storage positions and the protocol deviations are derived by replaying them\n"
    "(docs/biobank.md).\n",
    no_opts, NULL, NULL, biobank_subs, 0
};
