/*
 * hm_biobank.h — the biobank: the sampling protocol as data (one versioned CSV
 * file per study arm), each sample's and aliquot's life as append-only events
 * in the registry database (table bio_event), the current state and the
 * protocol deviations DERIVED by replaying those events, tiered consent, the
 * transport temperature-logger check and the SPREC v3.0 code of each aliquot
 * (docs/biobank.md).
 *
 * Every function returns HM_OK (0) or a negative hm_status and fills the
 * caller's hm_error (file, line, field, what was expected).  Nothing prints
 * unless given a FILE*.
 */
#ifndef HM_BIOBANK_H
#define HM_BIOBANK_H

#include "hm_core.h"
#include "hm_registry.h"

#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------ */
/* Protocol (data/biobank/protocol_<arm>_v<N>.csv).                    */

#define HM_BB_MAX_TYPES 8
#define HM_BB_MAX_TIMEPOINTS 12
#define HM_BB_NAME 32

typedef struct hm_bb_sample_rule {
    char   type[HM_BB_NAME];          /* blood_edta, blood_paxgene, serum, saliva */
    char   sprec_type[4];             /* SPREC "type of sample" (BLD, SER, SAL) */
    char   sprec_container[4];        /* SPREC "type of primary container" (PED, PAX, SST, ORG) */
    double volume_ml;                 /* drawn per tube */
    double max_to_processing_h;       /* collection -> processing */
    double max_to_freezing_h;         /* collection -> first storage */
    double storage_temp_c;            /* long-term storage temperature (at most) */
    int    aliquots_n;                /* aliquot plan: number ... */
    double aliquot_volume_ml;         /* ... x volume */
} hm_bb_sample_rule;

typedef struct hm_bb_timepoint {
    char   name[HM_BB_NAME];
    double due_day;                   /* days after the baseline collection */
    double tolerance_days;            /* missing once due_day + tolerance has passed */
    char   types[HM_BB_MAX_TYPES][HM_BB_NAME];   /* sample types due then */
    int    ntypes;
} hm_bb_timepoint;

typedef struct hm_bb_protocol {
    char   id[64];                    /* "<arm>_v<version>", recorded with every sample */
    char   arm[HM_BB_NAME];
    int    version;
    hm_bb_sample_rule types[HM_BB_MAX_TYPES];
    int    ntypes;
    hm_bb_timepoint timepoints[HM_BB_MAX_TIMEPOINTS];
    int    ntimepoints;
    double transport_min_c, transport_max_c, transport_max_h;
    double qc_dna_yield_ug_min, qc_a260_280_min, qc_a260_280_max, qc_rin_min;
} hm_bb_protocol;

/* Parses protocol text (name is used in messages: "name:line:field: ...").
 * Every section is required; an unknown record kind, a bad number or a
 * duplicate is HM_EPARSE naming the line and field. */
int hm_bb_protocol_parse(const char *text, size_t len, const char *name, hm_bb_protocol *p,
                         hm_error *err);
/* Reads a file; a bare id ("cardiac_v1") is looked up as data/biobank/protocol_<id>.csv. */
int hm_bb_protocol_load(const char *path_or_id, hm_bb_protocol *p, char **text, hm_error *err);
void hm_bb_protocol_print(const hm_bb_protocol *p, FILE *out);
const hm_bb_sample_rule *hm_bb_protocol_type(const hm_bb_protocol *p, const char *type);
const hm_bb_timepoint   *hm_bb_protocol_timepoint(const hm_bb_protocol *p, const char *name);

/* ------------------------------------------------------------------ */
/* ISO/IEC 7064 MOD 37-2 check character (alphabet 0-9 A-Z '*').       */

/* The check character of s (digits and upper-case letters only), or 0 when
 * s holds any other character. */
char hm_bb_check_char(const char *s);
/* 1 when the last character of id is the right check character of the rest. */
int  hm_bb_check_valid(const char *id);

/* ------------------------------------------------------------------ */
/* Temperature logger CSV: "timestamp,temperature_c", ISO 8601 times.  */

typedef struct hm_bb_logger_summary {
    long   readings;
    double min_c, max_c;
    double first_s, last_s;           /* seconds since 1970 (UTC) */
    long   out_of_range;              /* readings outside [lo_c, hi_c] */
    double first_out_s;               /* time of the first of them (NAN if none) */
} hm_bb_logger_summary;

/* Streams the file once (bounded memory); readings outside [lo_c, hi_c]
 * (inclusive limits are inside) are counted.  A bad line is HM_EPARSE with
 * file:line.  Timestamps must not go backwards. */
int hm_bb_logger_read(const char *path, double lo_c, double hi_c, hm_bb_logger_summary *s,
                      hm_error *err);
/* The detail of a ship event: the summary as "readings=N;min_c=..;max_c=..;out=K;
 * first_s=..;last_s=.." (the replay reads it back). */
void hm_bb_ship_detail(const hm_bb_logger_summary *s, char *out, size_t size);
/* Same on a buffer (fuzzing, tests). */
int hm_bb_logger_parse(const char *buf, size_t len, const char *name, double lo_c, double hi_c,
                       hm_bb_logger_summary *s, hm_error *err);

/* "YYYY-MM-DDThh:mm[:ss[.fff]][Z]" (also a space for 'T') -> seconds since
 * 1970-01-01 UTC.  Returns 0, or -1 when malformed. */
int hm_bb_parse_time(const char *s, size_t len, double *t_s);
void hm_bb_format_time(double t_s, char buf[32]);

/* ------------------------------------------------------------------ */
/* Events.                                                             */

typedef enum hm_bb_event_type {
    HM_BB_COLLECT, HM_BB_PROCESS, HM_BB_ALIQUOT, HM_BB_STORE, HM_BB_MOVE, HM_BB_SHIP,
    HM_BB_RECEIVE, HM_BB_QC, HM_BB_USE, HM_BB_DESTROY, HM_BB_CONSENT,
    HM_BB_CONSENT_WITHDRAWN, HM_BB_FLAG_RESOLVE, HM_BB_NEVENT_TYPES
} hm_bb_event_type;

const char *hm_bb_event_name(hm_bb_event_type t);
int hm_bb_event_parse(const char *name);          /* -1 if unknown */

/* One row of bio_event.  Strings are "" when not set. */
typedef struct hm_bb_event {
    int64_t seq;                       /* order of recording, per centre */
    int     type;                      /* hm_bb_event_type */
    char    centre[32];
    double  time_s;                    /* when it happened (UTC seconds) */
    char    user[64], site[64];
    char    pseudonym[80], sample_id[40], aliquot_id[40];
    char    protocol[64];              /* collect: protocol id in force */
    char    timepoint[HM_BB_NAME], sample_type[HM_BB_NAME];
    char    location[160];             /* store/move: site/freezer/rack/box/position; ship: to site */
    char    metric[HM_BB_NAME];        /* qc: metric; consent: tier; use: purpose; flag_resolve: flag */
    double  value;                     /* qc value; consent 1 given / 0 refused; NAN if none */
    char    detail[256];               /* ship: logger summary; reasons */
} hm_bb_event;

void hm_bb_event_init(hm_bb_event *e, int type, const char *centre);

/* ------------------------------------------------------------------ */
/* Derived state (replay).                                             */

typedef enum hm_bb_status {
    HM_BB_ST_COLLECTED, HM_BB_ST_PROCESSED, HM_BB_ST_ALIQUOTED, HM_BB_ST_PLANNED,
    HM_BB_ST_STORED, HM_BB_ST_IN_TRANSIT, HM_BB_ST_RECEIVED, HM_BB_ST_USED, HM_BB_ST_DESTROYED
} hm_bb_status;
const char *hm_bb_status_name(int status);

/* Deviation flags, one bit each. */
enum {
    HM_BB_F_PROCESSING_DELAY = 1 << 0,
    HM_BB_F_FREEZING_DELAY   = 1 << 1,
    HM_BB_F_TRANSPORT_TEMP   = 1 << 2,
    HM_BB_F_TRANSPORT_TIME   = 1 << 3,
    HM_BB_F_QC_LOW           = 1 << 4,
    HM_BB_F_USE_AFTER_WITHDRAWAL = 1 << 5,
    HM_BB_F_MISSING_TIMEPOINT = 1 << 6,
    HM_BB_NFLAGS = 7
};
const char *hm_bb_flag_name(int bit_index);
int hm_bb_flag_parse(const char *name);           /* the bit, or 0 if unknown */

/* One centrifugation of a sample (SPREC elements 4 and 5), from the process
 * event's detail; NAN / braking -1 when not recorded; g 0: not centrifugated. */
typedef struct hm_bb_spin {
    double temp_c, g, duration_min;
    int    braking;                    /* 1 with brake, 0 without, -1 unknown */
} hm_bb_spin;

typedef struct hm_bb_sample {
    char   centre[32], sample_id[40], pseudonym[80], protocol[64], timepoint[HM_BB_NAME],
           type[HM_BB_NAME], site[64];
    int    status;
    double collected_s, processed_s, first_frozen_s;   /* NAN until it happened */
    double processing_temp_c;          /* NAN unknown */
    hm_bb_spin spin[2];                /* first and second centrifugation */
    double post_temp_c;                /* centrifugation -> freezing temperature, NAN unknown */
    unsigned flags, resolved;          /* raised; resolved by a flag_resolve event */
    char   flag_note[HM_BB_NFLAGS][96];/* what raised each flag (values and limits) */
    int    naliquots;
} hm_bb_sample;

typedef struct hm_bb_aliquot {
    char   id[40];
    int    sample;                     /* index in hm_bb_state.samples */
    int    status;
    char   location[160];              /* where it is stored ("" if not in a position) */
    char   site[64];                   /* site that holds it (or ships it) */
    int    to_destroy;                 /* consent withdrawn: marked for destruction */
    unsigned flags, resolved;
    char   flag_note[HM_BB_NFLAGS][96];
    double stored_s, shipped_s, used_s;    /* NAN until it happened */
    char   sprec[32];                  /* derived SPREC v3.0 code */
    char   container[32];              /* long-term storage container (first store event) */
    double storage_temp_c;             /* its temperature (store event value), NAN unknown */
} hm_bb_aliquot;

typedef struct hm_bb_consent {
    char   pseudonym[80];
    int    storage, genetic, sharing;  /* -1 unknown, 0 refused/withdrawn, 1 given */
    double withdrawn_s;                /* NAN if never withdrawn */
} hm_bb_consent;

typedef struct hm_bb_state hm_bb_state;
struct hm_bb_state {
    hm_bb_sample  *samples;   size_t nsamples, cap_s;
    hm_bb_aliquot *aliquots;  size_t naliquots, cap_a;
    hm_bb_consent *consents;  size_t nconsents, cap_c;
    hm_bb_protocol *protocols; size_t nprotocols, cap_p;   /* those in the log */
    int64_t        last_seq;
    /* Missing timepoints per patient (one per protocol timepoint not collected in time). */
    struct hm_bb_missing { char centre[32], pseudonym[80], protocol[64], timepoint[HM_BB_NAME];
                           double deadline_s; int resolved; char note[96]; } *missing;
    size_t         nmissing, cap_m;
    struct hm_bb_missing *resolutions;  /* flag_resolve events of missing timepoints */
    size_t         nresolutions, cap_r;
    void          *index;             /* id -> index maps (state.c) */
    const struct hm_bb_sprec_rules *sprec_rules;  /* NULL: data/biobank/sprec_v3.csv */
};

void hm_bb_state_init(hm_bb_state *st);
void hm_bb_state_free(hm_bb_state *st);
/* Registers a protocol for replay (copied). */
int  hm_bb_state_add_protocol(hm_bb_state *st, const hm_bb_protocol *p, hm_error *err);
/* Applies one event: checks it is allowed in the current state (else
 * HM_EVALIDATE with a message, nothing changed) and updates the state.  The
 * aliquot event creates the aliquot named e->aliquot_id. */
int  hm_bb_apply(hm_bb_state *st, const hm_bb_event *e, hm_error *err);
/* Missing-timepoint flags as of now_s (after replaying every event). */
void hm_bb_check_timepoints(hm_bb_state *st, double now_s);

int  hm_bb_find_sample(const hm_bb_state *st, const char *sample_id);
int  hm_bb_find_aliquot(const hm_bb_state *st, const char *aliquot_id);
/* The aliquot stored at location, or -1. */
int  hm_bb_find_position(const hm_bb_state *st, const char *location);
const hm_bb_consent *hm_bb_find_consent(const hm_bb_state *st, const char *pseudonym);
const hm_bb_protocol *hm_bb_find_protocol(const hm_bb_state *st, const char *id);

/* Normalises "site/freezer/rack/box/position" (five non-empty parts, no
 * spaces); HM_EVALIDATE naming what is missing. */
int hm_bb_location_check(const char *loc, hm_error *err);

/* SPREC v3.0 (docs/biobank.md).  Elements 3-7 are coded by rules held as
 * data (data/biobank/sprec_v3.csv): one row per code with the ranges it
 * covers; empty = any.  Temperatures are closed ranges, delays, g and
 * durations [min, max). */
enum { HM_BB_SPREC_PRE, HM_BB_SPREC_SPIN, HM_BB_SPREC_SPIN2, HM_BB_SPREC_POST,
       HM_BB_SPREC_STORAGE, HM_BB_SPREC_NELEM };
typedef struct hm_bb_sprec_rule {
    int    element;                    /* HM_BB_SPREC_* */
    char   code;
    double temp_min_c, temp_max_c, delay_min_h, delay_max_h, g_min, g_max,
           duration_min_min, duration_max_min;   /* +-INFINITY when empty */
    int    braking;                    /* 1, 0, -1 any */
    char   container[32];              /* "" any */
} hm_bb_sprec_rule;
typedef struct hm_bb_sprec_rules { hm_bb_sprec_rule *rules; size_t n; } hm_bb_sprec_rules;

int  hm_bb_sprec_rules_parse(const char *text, size_t len, const char *name,
                             hm_bb_sprec_rules *r, hm_error *err);
/* path NULL: data/biobank/sprec_v3.csv. */
int  hm_bb_sprec_rules_load(const char *path, hm_bb_sprec_rules *r, hm_error *err);
void hm_bb_sprec_rules_free(hm_bb_sprec_rules *r);
/* The code of aliquot i under rules r: element X when an input was not
 * recorded or r has no row for the element, Z when no row covers it. */
void hm_bb_sprec_with(const hm_bb_state *st, int aliquot, const hm_bb_sprec_rules *r,
                      char out[32]);
/* The same with st->sprec_rules, else the default file (read once). */
void hm_bb_sprec(const hm_bb_state *st, int aliquot, char out[32]);

/* ------------------------------------------------------------------ */
/* The registry database (data/schema/007_biobank.sql).                */

/* Replays every event of the database (ordered by centre, seq) into st,
 * with the protocols stored in bio_protocol. */
int hm_bb_load(hm_db *db, hm_bb_state *st, hm_error *err);
/* Records one command: replays the log, applies each of events[0..n) (every
 * check), and appends them in ONE transaction; any failure rolls back and
 * leaves the database unchanged.  seq are assigned here.  For a collect
 * event whose protocol is not yet in bio_protocol, protocol_text is stored
 * with it (a stored id with other content is HM_EVALIDATE). */
int hm_bb_record(hm_db *db, hm_bb_event *events, size_t n, const hm_bb_protocol *protocol,
                 const char *protocol_text, hm_error *err);
/* ------------------------------------------------------------------ */
/* Batch files of events (`harmonic biobank load FILE`).               */
/* A CSV a site's LIMS exports: '#' comments, a header naming the columns
 * (any order) event,time,centre,user,site (required) and pseudonym,
 * sample_id, aliquot_id, protocol, timepoint, sample_type, location, metric,
 * value, detail, logger (optional); one event per row, in the order they
 * happened.  Ids are the site's own (sample and aliquot ids with a valid
 * check character).  A ship row's logger is the shipment's temperature-log
 * CSV, relative to the batch file's folder, read when the row is recorded
 * against the transport range of the aliquot's protocol.  Each protocol
 * named by a collect row is loaded as data/biobank/protocol_<id>.csv. */
typedef struct hm_bb_batch {
    hm_bb_event *events;  size_t n, cap;
    long        *lines;               /* the file line of each event */
    char       (*loggers)[256];       /* ship: logger path as written ("" none) */
    hm_bb_protocol *protocols; char **texts; size_t nprotocols;
    char         name[256], dir[4096];/* file (messages) and its folder (loggers) */
} hm_bb_batch;

/* Parses a batch held in memory (dir: where loggers are looked up; NULL
 * skips loading protocols and loggers, for fuzzing).  Any bad row is
 * HM_EPARSE as name:line:field: message; nothing is kept. */
int  hm_bb_batch_parse(const char *text, size_t len, const char *name, const char *dir,
                       hm_bb_batch *b, hm_error *err);
int  hm_bb_batch_read(const char *path, hm_bb_batch *b, hm_error *err);
void hm_bb_batch_free(hm_bb_batch *b);
/* Records every event of the batch in ONE transaction (each checked as by
 * hm_bb_record); the first refusal names its file line and rolls back all. */
int  hm_bb_batch_record(hm_db *db, hm_bb_batch *b, hm_error *err);

/* Next free id "<CENTRE><kind><6 digits><check>" (kind 'S' sample, 'A' aliquot). */
int hm_bb_next_id(hm_db *db, const char *centre, char kind, int offset, char out[40],
                  hm_error *err);

/* Reports.  centre NULL: all centres. */
int hm_bb_inventory(const hm_bb_state *st, const char *centre, FILE *out);
/* Per-centre deviation report; returns the number of open flags. */
long hm_bb_deviations(const hm_bb_state *st, const char *centre, FILE *out);

/* Label PNG (50 x 25 mm at 300 dpi): a QR code of the aliquot id
 * (libqrencode, level M, 4-module quiet zone) beside the id in large text
 * with its sample, type, timepoint and protocol (cairo). */
int hm_bb_label_png(const hm_bb_state *st, const char *aliquot_id, const char *path,
                    hm_error *err);
/* Where the label puts the QR code of aliquot_id: module (0,0)'s top-left
 * pixel, pixels per module, modules per side, QR version (tests, printers). */
typedef struct hm_bb_label_geom {
    int width_px, height_px;
    int qr_x_px, qr_y_px, module_px, qr_modules, qr_version;
    int text_x_px;
} hm_bb_label_geom;
int hm_bb_label_layout(const char *aliquot_id, hm_bb_label_geom *g, hm_error *err);

#endif
