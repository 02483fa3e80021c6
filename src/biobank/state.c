/*
 * state.c — the current state of every sample, aliquot and consent, DERIVED
 * by applying the append-only events in order; nothing is ever edited in
 * place.  hm_bb_apply checks that an event is allowed before it changes
 * anything, and raises the protocol-deviation flags (docs/biobank.md):
 * a flag, once raised, only changes by a later flag_resolve event with a reason.
 */
#include "bb_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const event_names[HM_BB_NEVENT_TYPES] = {
    "collect", "process", "aliquot", "store", "move", "ship", "receive", "qc", "use",
    "destroy", "consent", "consent_withdrawn", "flag_resolve"
};
static const char *const status_names[] = {
    "collected", "processed", "aliquoted", "planned", "stored", "in_transit", "received",
    "used", "destroyed"
};
static const char *const flag_names[HM_BB_NFLAGS] = {
    "processing_delay", "freezing_delay", "transport_temperature", "transport_time",
    "qc_below_threshold", "use_after_withdrawal", "missing_timepoint"
};

const char *hm_bb_event_name(hm_bb_event_type t)
{
    return (unsigned)t < HM_BB_NEVENT_TYPES ? event_names[t] : "?";
}

int hm_bb_event_parse(const char *name)
{
    for (int i = 0; i < HM_BB_NEVENT_TYPES; i++)
        if (!strcmp(event_names[i], name))
            return i;
    return -1;
}

const char *hm_bb_status_name(int s)
{
    return s >= 0 && s <= HM_BB_ST_DESTROYED ? status_names[s] : "?";
}

const char *hm_bb_flag_name(int bit)
{
    return bit >= 0 && bit < HM_BB_NFLAGS ? flag_names[bit] : "?";
}

int hm_bb_flag_parse(const char *name)
{
    for (int i = 0; i < HM_BB_NFLAGS; i++)
        if (!strcmp(flag_names[i], name))
            return 1 << i;
    return 0;
}

void hm_bb_event_init(hm_bb_event *e, int type, const char *centre)
{
    memset(e, 0, sizeof *e);
    e->type = type;
    e->value = NAN;
    e->time_s = NAN;
    snprintf(e->centre, sizeof e->centre, "%s", centre ? centre : "");
}

void hm_bb_state_init(hm_bb_state *st)
{
    memset(st, 0, sizeof *st);
}

void hm_bb_state_free(hm_bb_state *st)
{
    bb_index *ix = st->index;
    if (ix) {
        bb_map_free(&ix->sample);
        bb_map_free(&ix->aliquot);
        bb_map_free(&ix->location);
        bb_map_free(&ix->consent);
        free(ix);
    }
    free(st->samples);
    free(st->aliquots);
    free(st->consents);
    free(st->protocols);
    free(st->missing);
    free(st->resolutions);
    memset(st, 0, sizeof *st);
}

static bb_index *ix_of(hm_bb_state *st)
{
    if (!st->index)
        st->index = calloc(1, sizeof(bb_index));
    return st->index;
}

/* Grows an array of elements of size sz to hold one more. */
static int reserve(void **arr, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap)
        return HM_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, nc * sz);
    if (!p)
        return HM_ENOMEM;
    *arr = p;
    *cap = nc;
    return HM_OK;
}

int hm_bb_state_add_protocol(hm_bb_state *st, const hm_bb_protocol *p, hm_error *err)
{
    if (hm_bb_find_protocol(st, p->id))
        return HM_OK;
    if (reserve((void **)&st->protocols, st->nprotocols, &st->cap_p, sizeof *p))
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    st->protocols[st->nprotocols++] = *p;
    return HM_OK;
}

const hm_bb_protocol *hm_bb_find_protocol(const hm_bb_state *st, const char *id)
{
    for (size_t i = 0; i < st->nprotocols; i++)
        if (!strcmp(st->protocols[i].id, id))
            return &st->protocols[i];
    return NULL;
}

int hm_bb_find_sample(const hm_bb_state *st, const char *id)
{
    return st->index ? bb_map_get(&((bb_index *)st->index)->sample, id) : -1;
}

int hm_bb_find_aliquot(const hm_bb_state *st, const char *id)
{
    return st->index ? bb_map_get(&((bb_index *)st->index)->aliquot, id) : -1;
}

int hm_bb_find_position(const hm_bb_state *st, const char *loc)
{
    return st->index ? bb_map_get(&((bb_index *)st->index)->location, loc) : -1;
}

const hm_bb_consent *hm_bb_find_consent(const hm_bb_state *st, const char *pseudonym)
{
    int i = st->index ? bb_map_get(&((bb_index *)st->index)->consent, pseudonym) : -1;
    return i >= 0 ? &st->consents[i] : NULL;
}

int hm_bb_location_check(const char *loc, hm_error *err)
{
    int parts = 1;
    size_t len = 0;
    for (const char *p = loc; *p; p++) {
        if (*p == '/') {
            if (!len)
                break;
            parts++;
            len = 0;
        } else if (*p <= ' ' || *p == ',' || *p == ';') {
            return hm_error_set(err, HM_EVALIDATE, NULL, 0, "location",
                                "no blanks, ',' or ';' in a storage position, found '%s'", loc);
        } else
            len++;
    }
    if (parts != 5 || !len)
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, "location",
                            "expected SITE/FREEZER/RACK/BOX/POSITION (five non-empty parts), "
                            "found '%s'", loc);
    return HM_OK;
}

/* err->msg = "EVENT: " + formatted message. */
#define REJECT(field, ...)                                                                  \
    do {                                                                                    \
        char m_[400];                                                                       \
        snprintf(m_, sizeof m_, __VA_ARGS__);                                               \
        return hm_error_set(err, HM_EVALIDATE, NULL, 0, field, "%s: %s",                    \
                            event_names[e->type], m_);                                      \
    } while (0)

static void raise_flag(unsigned *flags, char notes[][96], int bit, const char *fmt, double a,
                       double b)
{
    int k = 0;
    while ((1 << k) != bit)
        k++;
    if (!(*flags & (unsigned)bit))
        snprintf(notes[k], 96, fmt, a, b);
    *flags |= (unsigned)bit;
}

static hm_bb_consent *consent_for(hm_bb_state *st, const char *pseudonym, int create)
{
    bb_index *ix = ix_of(st);
    int i = ix ? bb_map_get(&ix->consent, pseudonym) : -1;
    if (i >= 0 || !create || !ix)
        return i >= 0 ? &st->consents[i] : NULL;
    if (reserve((void **)&st->consents, st->nconsents, &st->cap_c, sizeof *st->consents) ||
        bb_map_put(&ix->consent, pseudonym, (int)st->nconsents))
        return NULL;
    hm_bb_consent *c = &st->consents[st->nconsents++];
    memset(c, 0, sizeof *c);
    snprintf(c->pseudonym, sizeof c->pseudonym, "%s", pseudonym);
    c->storage = c->genetic = c->sharing = -1;
    c->withdrawn_s = NAN;
    return c;
}

/* The registry's pseudonym type: 64 lower-case hex digits (HMAC-SHA-256). */
static int pseudonym_ok(const char *p)
{
    size_t n = 0;
    for (; p[n]; n++)
        if (!((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f')))
            return 0;
    return n == 64;
}

static int apply_collect(hm_bb_state *st, const hm_bb_event *e, hm_error *err)
{
    bb_index *ix = ix_of(st);
    if (!e->sample_id[0] || hm_bb_find_sample(st, e->sample_id) >= 0)
        REJECT("sample_id", "expected a new sample id, found '%s'", e->sample_id);
    if (!pseudonym_ok(e->pseudonym))
        REJECT("pseudonym", "expected the patient's pseudonym (64 lower-case hex digits), "
               "found '%.70s'", e->pseudonym);
    const hm_bb_protocol *p = hm_bb_find_protocol(st, e->protocol);
    if (!p)
        REJECT("protocol", "protocol '%s' is not registered", e->protocol);
    if (!hm_bb_protocol_type(p, e->sample_type))
        REJECT("sample_type", "protocol %s has no sample type '%s'", p->id, e->sample_type);
    if (!hm_bb_protocol_timepoint(p, e->timepoint))
        REJECT("timepoint", "protocol %s has no timepoint '%s'", p->id, e->timepoint);
    const hm_bb_consent *c = hm_bb_find_consent(st, e->pseudonym);
    if (c && c->storage == 0)
        REJECT("consent", "patient %.16s... has withdrawn or refused consent to storage",
               e->pseudonym);
    if (!ix || reserve((void **)&st->samples, st->nsamples, &st->cap_s, sizeof *st->samples) ||
        bb_map_put(&ix->sample, e->sample_id, (int)st->nsamples))
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    hm_bb_sample *s = &st->samples[st->nsamples++];
    memset(s, 0, sizeof *s);
    snprintf(s->centre, sizeof s->centre, "%s", e->centre);
    snprintf(s->sample_id, sizeof s->sample_id, "%s", e->sample_id);
    snprintf(s->pseudonym, sizeof s->pseudonym, "%s", e->pseudonym);
    snprintf(s->protocol, sizeof s->protocol, "%s", e->protocol);
    snprintf(s->timepoint, sizeof s->timepoint, "%s", e->timepoint);
    snprintf(s->type, sizeof s->type, "%s", e->sample_type);
    snprintf(s->site, sizeof s->site, "%s", e->site);
    s->status = HM_BB_ST_COLLECTED;
    s->collected_s = e->time_s;
    s->processed_s = s->first_frozen_s = s->processing_temp_c = s->post_temp_c = NAN;
    for (int k = 0; k < 2; k++) {
        s->spin[k].temp_c = s->spin[k].g = s->spin[k].duration_min = NAN;
        s->spin[k].braking = -1;
    }
    return HM_OK;
}

static hm_bb_sample *sample_of(hm_bb_state *st, const hm_bb_event *e)
{
    int i = hm_bb_find_sample(st, e->sample_id);
    return i >= 0 ? &st->samples[i] : NULL;
}

static const hm_bb_sample_rule *rule_of(const hm_bb_state *st, const hm_bb_sample *s)
{
    const hm_bb_protocol *p = hm_bb_find_protocol(st, s->protocol);
    return p ? hm_bb_protocol_type(p, s->type) : NULL;
}

static int apply_aliquot(hm_bb_state *st, const hm_bb_event *e, hm_bb_sample *s, hm_error *err)
{
    bb_index *ix = ix_of(st);
    if (s->status != HM_BB_ST_PROCESSED && s->status != HM_BB_ST_ALIQUOTED)
        REJECT("sample_id", "sample %s is %s; aliquots come after processing", s->sample_id,
               hm_bb_status_name(s->status));
    if (!hm_bb_check_valid(e->aliquot_id) || hm_bb_find_aliquot(st, e->aliquot_id) >= 0)
        REJECT("aliquot_id", "expected a new aliquot id with a valid check character, found '%s'",
               e->aliquot_id);
    const hm_bb_sample_rule *r = rule_of(st, s);
    if (r && s->naliquots >= r->aliquots_n)
        REJECT("aliquot_id", "sample %s already has the %d aliquots of its plan", s->sample_id,
               r->aliquots_n);
    int si = (int)(s - st->samples);
    if (reserve((void **)&st->aliquots, st->naliquots, &st->cap_a, sizeof *st->aliquots) ||
        bb_map_put(&ix->aliquot, e->aliquot_id, (int)st->naliquots))
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    s = &st->samples[si];
    hm_bb_aliquot *a = &st->aliquots[st->naliquots++];
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", e->aliquot_id);
    snprintf(a->site, sizeof a->site, "%s", e->site);
    a->sample = si;
    a->status = HM_BB_ST_PLANNED;
    a->stored_s = a->shipped_s = a->used_s = a->storage_temp_c = NAN;
    const hm_bb_consent *c = hm_bb_find_consent(st, s->pseudonym);
    a->to_destroy = c && c->storage == 0;
    s->naliquots++;
    s->status = HM_BB_ST_ALIQUOTED;
    return HM_OK;
}

/* The aliquot's flags that belong to its sample (delays) are kept on the sample. */
static int apply_aliquot_event(hm_bb_state *st, const hm_bb_event *e, hm_error *err)
{
    bb_index *ix = ix_of(st);
    int ai = hm_bb_find_aliquot(st, e->aliquot_id);
    if (ai < 0)
        REJECT("aliquot_id", "no aliquot '%s'", e->aliquot_id);
    hm_bb_aliquot *a = &st->aliquots[ai];
    hm_bb_sample *s = &st->samples[a->sample];
    const hm_bb_sample_rule *r = rule_of(st, s);
    const hm_bb_protocol *p = hm_bb_find_protocol(st, s->protocol);
    if (strcmp(s->centre, e->centre))
        return hm_error_set(err, HM_EPERM, NULL, 0, "centre_code",
                            "aliquot %s belongs to centre %s", a->id, s->centre);
    if (a->status == HM_BB_ST_DESTROYED)
        REJECT("aliquot_id", "aliquot %s was destroyed", a->id);
    switch (e->type) {
    case HM_BB_STORE:
    case HM_BB_MOVE: {
        if (e->type == HM_BB_STORE && a->status != HM_BB_ST_PLANNED &&
            a->status != HM_BB_ST_RECEIVED)
            REJECT("aliquot_id", "aliquot %s is %s; store takes a new or received aliquot "
                   "(use move within a site)", a->id, hm_bb_status_name(a->status));
        if (e->type == HM_BB_MOVE && a->status != HM_BB_ST_STORED)
            REJECT("aliquot_id", "aliquot %s is %s, not stored", a->id,
                   hm_bb_status_name(a->status));
        int rc = hm_bb_location_check(e->location, err);
        if (rc)
            return rc;
        int other = hm_bb_find_position(st, e->location);
        if (other >= 0)
            REJECT("location", "position %s is occupied by aliquot %s", e->location,
                   st->aliquots[other].id);
        if (a->location[0])
            bb_map_del(&ix->location, a->location);
        if (bb_map_put(&ix->location, e->location, ai))
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        snprintf(a->location, sizeof a->location, "%s", e->location);
        snprintf(a->site, sizeof a->site, "%s", e->site);
        a->status = HM_BB_ST_STORED;
        if (isnan(a->stored_s)) {
            /* The long-term storage of SPREC: the first store's container
             * (detail container=...) and temperature (value). */
            a->stored_s = e->time_s;
            a->storage_temp_c = e->value;
            if (bb_detail_str(e->detail, "container", a->container, sizeof a->container))
                a->container[0] = 0;
        }
        if (isnan(s->first_frozen_s)) {
            s->first_frozen_s = e->time_s;
            double h = (e->time_s - s->collected_s) / 3600.0;
            if (r && h > r->max_to_freezing_h)
                raise_flag(&s->flags, s->flag_note, HM_BB_F_FREEZING_DELAY,
                           "collection to freezing %.2f h > %g h", h, r->max_to_freezing_h);
        }
        return HM_OK;
    }
    case HM_BB_SHIP: {
        if (a->status != HM_BB_ST_STORED && a->status != HM_BB_ST_RECEIVED)
            REJECT("aliquot_id", "aliquot %s is %s; only a stored or received aliquot ships",
                   a->id, hm_bb_status_name(a->status));
        if (!e->location[0])
            REJECT("location", "a shipment needs the destination site");
        double readings = 0, out = 0, first = NAN, last = NAN;
        if (bb_detail_num(e->detail, "readings", &readings) || readings < 1)
            REJECT("detail", "a shipment needs its temperature log (readings=...)");
        bb_detail_num(e->detail, "out", &out);
        bb_detail_num(e->detail, "first_s", &first);
        bb_detail_num(e->detail, "last_s", &last);
        if (out > 0)
            raise_flag(&a->flags, a->flag_note, HM_BB_F_TRANSPORT_TEMP,
                       "%.0f of %.0f logger readings outside the transport range", out, readings);
        if (p && last - first > p->transport_max_h * 3600.0)
            raise_flag(&a->flags, a->flag_note, HM_BB_F_TRANSPORT_TIME,
                       "logged transport %.2f h > %g h", (last - first) / 3600.0,
                       p->transport_max_h);
        if (a->location[0])
            bb_map_del(&ix->location, a->location);
        a->location[0] = 0;
        snprintf(a->site, sizeof a->site, "%.63s", e->location);
        a->status = HM_BB_ST_IN_TRANSIT;
        a->shipped_s = e->time_s;
        return HM_OK;
    }
    case HM_BB_RECEIVE: {
        if (a->status != HM_BB_ST_IN_TRANSIT)
            REJECT("aliquot_id", "aliquot %s is %s, not in transit", a->id,
                   hm_bb_status_name(a->status));
        double h = (e->time_s - a->shipped_s) / 3600.0;
        if (h < 0)
            REJECT("time", "received before it was shipped");
        if (p && h > p->transport_max_h)
            raise_flag(&a->flags, a->flag_note, HM_BB_F_TRANSPORT_TIME,
                       "shipped to received %.2f h > %g h", h, p->transport_max_h);
        snprintf(a->site, sizeof a->site, "%s", e->site);
        a->status = HM_BB_ST_RECEIVED;
        return HM_OK;
    }
    case HM_BB_USE: {
        if (a->status != HM_BB_ST_STORED && a->status != HM_BB_ST_RECEIVED)
            REJECT("aliquot_id", "aliquot %s is %s; only a stored or received aliquot is used",
                   a->id, hm_bb_status_name(a->status));
        const hm_bb_consent *c = hm_bb_find_consent(st, s->pseudonym);
        if (c && !isnan(c->withdrawn_s) && e->time_s >= c->withdrawn_s)
            REJECT("consent", "the patient withdrew consent: aliquot %s is blocked", a->id);
        if (c && c->storage == 0 && isnan(c->withdrawn_s))
            REJECT("consent", "no consent to storage and use: aliquot %s is blocked", a->id);
        if (!strcmp(e->metric, "genetic") && (!c || c->genetic != 1))
            REJECT("consent", "genetic analysis needs the patient's genetic consent (recorded: %s)",
                   !c || c->genetic < 0 ? "none" : "refused");
        if (!strcmp(e->metric, "sharing") && (!c || c->sharing != 1))
            REJECT("consent", "sharing needs the patient's sharing consent (recorded: %s)",
                   !c || c->sharing < 0 ? "none" : "refused");
        if (a->location[0])
            bb_map_del(&ix->location, a->location);
        a->location[0] = 0;
        a->status = HM_BB_ST_USED;
        a->used_s = e->time_s;
        return HM_OK;
    }
    case HM_BB_DESTROY:
        if (!e->detail[0])
            REJECT("detail", "a destruction needs its reason");
        if (a->location[0])
            bb_map_del(&ix->location, a->location);
        a->location[0] = 0;
        a->status = HM_BB_ST_DESTROYED;
        a->to_destroy = 0;
        return HM_OK;
    default:
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "not an aliquot event");
    }
}

static int apply_qc(hm_bb_state *st, const hm_bb_event *e, hm_bb_sample *s, hm_error *err)
{
    const hm_bb_protocol *p = hm_bb_find_protocol(st, s->protocol);
    if (isnan(e->value))
        REJECT("value", "a QC result needs its value");
    double lo = NAN, hi = NAN;
    if (!strcmp(e->metric, "dna_yield_ug"))
        lo = p->qc_dna_yield_ug_min;
    else if (!strcmp(e->metric, "a260_280"))
        lo = p->qc_a260_280_min, hi = p->qc_a260_280_max;
    else if (!strcmp(e->metric, "rin"))
        lo = p->qc_rin_min;
    else
        REJECT("metric", "expected dna_yield_ug, a260_280 or rin, found '%s'", e->metric);
    unsigned *flags = &s->flags;
    char (*notes)[96] = s->flag_note;
    if (e->aliquot_id[0]) {
        int ai = hm_bb_find_aliquot(st, e->aliquot_id);
        if (ai < 0 || st->aliquots[ai].sample != (int)(s - st->samples))
            REJECT("aliquot_id", "no aliquot '%s' of sample %s", e->aliquot_id, s->sample_id);
        flags = &st->aliquots[ai].flags;
        notes = st->aliquots[ai].flag_note;
    }
    /* The limits themselves pass: below min or above max is the deviation. */
    if (e->value < lo)
        raise_flag(flags, notes, HM_BB_F_QC_LOW, "QC %g below the minimum %g", e->value, lo);
    else if (!isnan(hi) && e->value > hi)
        raise_flag(flags, notes, HM_BB_F_QC_LOW, "QC %g above the maximum %g", e->value, hi);
    return HM_OK;
}

static int apply_consent(hm_bb_state *st, const hm_bb_event *e, hm_error *err)
{
    if (!pseudonym_ok(e->pseudonym))
        REJECT("pseudonym", "expected the patient's pseudonym (64 lower-case hex digits), "
               "found '%.70s'", e->pseudonym);
    int all = e->type == HM_BB_CONSENT_WITHDRAWN && (!e->metric[0] || !strcmp(e->metric, "all"));
    if (!all && strcmp(e->metric, "storage") && strcmp(e->metric, "genetic") &&
        strcmp(e->metric, "sharing"))
        REJECT("metric", "expected the tier storage, genetic or sharing%s, found '%s'",
               e->type == HM_BB_CONSENT_WITHDRAWN ? " (or all)" : "", e->metric);
    hm_bb_consent *c = consent_for(st, e->pseudonym, 1);
    if (!c)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    if (e->type == HM_BB_CONSENT) {
        if (e->value != 0 && e->value != 1)
            REJECT("value", "consent value is 1 (given) or 0 (refused)");
        if (!isnan(c->withdrawn_s) && e->value == 1)
            REJECT("value", "consent was withdrawn; a new consent is a new enrolment, not an event");
        int v = (int)e->value;
        if (!strcmp(e->metric, "storage"))
            c->storage = v;
        else if (!strcmp(e->metric, "genetic"))
            c->genetic = v;
        else
            c->sharing = v;
        return HM_OK;
    }
    int storage = all || !strcmp(e->metric, "storage");
    if (all || !strcmp(e->metric, "genetic"))
        c->genetic = 0;
    if (all || !strcmp(e->metric, "sharing"))
        c->sharing = 0;
    if (!storage)
        return HM_OK;
    /* Withdrawal from storage: every aliquot of the patient is marked for
     * destruction and blocked; a use recorded at or after the withdrawal time
     * (a withdrawal entered late) is a deviation. */
    c->storage = 0;
    if (isnan(c->withdrawn_s) || e->time_s < c->withdrawn_s)
        c->withdrawn_s = e->time_s;
    for (size_t i = 0; i < st->naliquots; i++) {
        hm_bb_aliquot *a = &st->aliquots[i];
        if (strcmp(st->samples[a->sample].pseudonym, e->pseudonym))
            continue;
        if (a->status != HM_BB_ST_DESTROYED && a->status != HM_BB_ST_USED)
            a->to_destroy = 1;
        if (a->status == HM_BB_ST_USED && a->used_s >= c->withdrawn_s)
            raise_flag(&a->flags, a->flag_note, HM_BB_F_USE_AFTER_WITHDRAWAL,
                       "used %.1f h after the consent withdrawal", (a->used_s - c->withdrawn_s) / 3600.0, 0);
    }
    return HM_OK;
}

static int apply_resolve(hm_bb_state *st, const hm_bb_event *e, hm_error *err)
{
    int bit = hm_bb_flag_parse(e->metric);
    if (!bit)
        REJECT("metric", "expected a flag name (e.g. processing_delay), found '%s'", e->metric);
    if (!e->detail[0])
        REJECT("detail", "resolving a flag needs the reason");
    if (bit == HM_BB_F_MISSING_TIMEPOINT) {
        if (!e->pseudonym[0] || !e->timepoint[0])
            REJECT("timepoint", "a missing timepoint is resolved by pseudonym and timepoint");
        if (reserve((void **)&st->resolutions, st->nresolutions, &st->cap_r,
                    sizeof *st->resolutions))
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        struct hm_bb_missing *r = &st->resolutions[st->nresolutions++];
        memset(r, 0, sizeof *r);
        snprintf(r->centre, sizeof r->centre, "%s", e->centre);
        snprintf(r->pseudonym, sizeof r->pseudonym, "%s", e->pseudonym);
        snprintf(r->timepoint, sizeof r->timepoint, "%s", e->timepoint);
        return HM_OK;
    }
    unsigned *flags, *resolved;
    if (e->aliquot_id[0]) {
        int ai = hm_bb_find_aliquot(st, e->aliquot_id);
        if (ai < 0)
            REJECT("aliquot_id", "no aliquot '%s'", e->aliquot_id);
        flags = &st->aliquots[ai].flags;
        resolved = &st->aliquots[ai].resolved;
    } else {
        hm_bb_sample *s = sample_of(st, e);
        if (!s)
            REJECT("sample_id", "no sample '%s'", e->sample_id);
        flags = &s->flags;
        resolved = &s->resolved;
    }
    if (!(*flags & (unsigned)bit) || (*resolved & (unsigned)bit))
        REJECT("metric", "flag %s is not open there", e->metric);
    *resolved |= (unsigned)bit;
    return HM_OK;
}

/* The SPREC settings of a process event, all optional, as detail keys
 * centrifuge_temp_c, centrifuge_g, centrifuge_min, centrifuge_brake (1/0),
 * the same with centrifuge2_ for a second one (centrifuge_g=0: none), and
 * post_temp_c (until freezing).  A key given with a bad value is refused. */
static int process_detail(hm_bb_sample *s, const hm_bb_event *e, hm_error *err)
{
    static const char *const pre[2] = { "centrifuge", "centrifuge2" };
    static const char *const what[4] = { "temp_c", "g", "min", "brake" };
    static const double lo[4] = { -40, 0, 0, 0 }, hi[4] = { 60, 1e6, 1440, 1 };
    for (int k = 0; k < 2; k++)
        for (int w = 0; w < 4; w++) {
            char key[40], txt[40];
            snprintf(key, sizeof key, "%s_%s", pre[k], what[w]);
            if (bb_detail_str(e->detail, key, txt, sizeof txt))
                continue;
            double v;
            if (bb_detail_num(e->detail, key, &v) || !(v >= lo[w] && v <= hi[w]) ||
                (w == 3 && v != 0 && v != 1))
                REJECT("detail", "%s: expected a number in %g..%g, found '%s'", key, lo[w],
                       hi[w], txt);
            if (w == 0)
                s->spin[k].temp_c = v;
            else if (w == 1)
                s->spin[k].g = v;
            else if (w == 2)
                s->spin[k].duration_min = v;
            else
                s->spin[k].braking = (int)v;
        }
    char txt[40];
    if (!bb_detail_str(e->detail, "post_temp_c", txt, sizeof txt)) {
        double v;
        if (bb_detail_num(e->detail, "post_temp_c", &v) || !(v >= -200 && v <= 60))
            REJECT("detail", "post_temp_c: expected a temperature in -200..60 C, found '%s'", txt);
        s->post_temp_c = v;
    }
    return HM_OK;
}

int hm_bb_apply(hm_bb_state *st, const hm_bb_event *e, hm_error *err)
{
    if (!ix_of(st))
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    if (e->type < 0 || e->type >= HM_BB_NEVENT_TYPES)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "event_type", "unknown event type");
    if (!isfinite(e->time_s))
        REJECT("time", "every event needs its time (YYYY-MM-DDThh:mm[:ss])");
    if (!e->user[0] || !e->site[0] || !e->centre[0])
        REJECT("user", "every event needs its centre, user and site");
    switch (e->type) {
    case HM_BB_COLLECT:
        return apply_collect(st, e, err);
    case HM_BB_CONSENT:
    case HM_BB_CONSENT_WITHDRAWN:
        return apply_consent(st, e, err);
    case HM_BB_FLAG_RESOLVE:
        return apply_resolve(st, e, err);
    case HM_BB_STORE:
    case HM_BB_MOVE:
    case HM_BB_SHIP:
    case HM_BB_RECEIVE:
    case HM_BB_USE:
    case HM_BB_DESTROY:
        return apply_aliquot_event(st, e, err);
    default:
        break;
    }
    hm_bb_sample *s = sample_of(st, e);
    if (!s)
        REJECT("sample_id", "no sample '%s'", e->sample_id);
    if (strcmp(s->centre, e->centre))
        return hm_error_set(err, HM_EPERM, NULL, 0, "centre_code",
                            "sample %s belongs to centre %s", s->sample_id, s->centre);
    if (e->type == HM_BB_PROCESS) {
        if (s->status != HM_BB_ST_COLLECTED)
            REJECT("sample_id", "sample %s is already %s", s->sample_id,
                   hm_bb_status_name(s->status));
        double h = (e->time_s - s->collected_s) / 3600.0;
        if (h < 0)
            REJECT("time", "processing before collection");
        hm_bb_sample tmp = *s;                 /* refused: nothing changed */
        int rc = process_detail(&tmp, e, err);
        if (rc)
            return rc;
        memcpy(s->spin, tmp.spin, sizeof s->spin);
        s->post_temp_c = tmp.post_temp_c;
        s->processed_s = e->time_s;
        s->processing_temp_c = e->value;
        s->status = HM_BB_ST_PROCESSED;
        const hm_bb_sample_rule *r = rule_of(st, s);
        /* Just at the limit is inside; over it is the deviation. */
        if (r && h > r->max_to_processing_h)
            raise_flag(&s->flags, s->flag_note, HM_BB_F_PROCESSING_DELAY,
                       "collection to processing %.2f h > %g h", h, r->max_to_processing_h);
        return HM_OK;
    }
    if (e->type == HM_BB_ALIQUOT)
        return apply_aliquot(st, e, s, err);
    return apply_qc(st, e, s, err);
}

static int resolved_missing(const hm_bb_state *st, const struct hm_bb_missing *m)
{
    for (size_t i = 0; i < st->nresolutions; i++)
        if (!strcmp(st->resolutions[i].pseudonym, m->pseudonym) &&
            !strcmp(st->resolutions[i].timepoint, m->timepoint) &&
            !strcmp(st->resolutions[i].centre, m->centre))
            return 1;
    return 0;
}

static const hm_bb_state *sort_st;

static int cmp_patient(const void *x, const void *y)
{
    const hm_bb_sample *a = &sort_st->samples[*(const int *)x];
    const hm_bb_sample *b = &sort_st->samples[*(const int *)y];
    int c = strcmp(a->centre, b->centre);
    if (!c)
        c = strcmp(a->pseudonym, b->pseudonym);
    if (!c)
        c = strcmp(a->protocol, b->protocol);
    return c ? c : (*(const int *)x > *(const int *)y) - (*(const int *)x < *(const int *)y);
}

static int same_patient(const hm_bb_sample *a, const hm_bb_sample *b)
{
    return !strcmp(a->centre, b->centre) && !strcmp(a->pseudonym, b->pseudonym) &&
           !strcmp(a->protocol, b->protocol);
}

static void add_missing(hm_bb_state *st, const hm_bb_sample *s0, const hm_bb_timepoint *tp,
                        double deadline, const char *note)
{
    if (reserve((void **)&st->missing, st->nmissing, &st->cap_m, sizeof *st->missing))
        return;
    struct hm_bb_missing *m = &st->missing[st->nmissing++];
    memset(m, 0, sizeof *m);
    snprintf(m->centre, sizeof m->centre, "%s", s0->centre);
    snprintf(m->pseudonym, sizeof m->pseudonym, "%s", s0->pseudonym);
    snprintf(m->protocol, sizeof m->protocol, "%s", s0->protocol);
    snprintf(m->timepoint, sizeof m->timepoint, "%s", tp->name);
    snprintf(m->note, sizeof m->note, "%s", note);
    m->deadline_s = deadline;
    m->resolved = resolved_missing(st, m);
}

/* One patient's samples under one protocol: g[0..n) indices into samples. */
static void check_patient(hm_bb_state *st, const int *g, size_t n, double now_s)
{
    const hm_bb_sample *s0 = &st->samples[g[0]];
    const hm_bb_protocol *p = hm_bb_find_protocol(st, s0->protocol);
    if (!p)
        return;
    /* The baseline time is the first baseline collection, else the first of all. */
    double base = NAN, first = NAN;
    for (size_t j = 0; j < n; j++) {
        const hm_bb_sample *s = &st->samples[g[j]];
        if (isnan(first) || s->collected_s < first)
            first = s->collected_s;
        if (!strcmp(s->timepoint, p->timepoints[0].name) && (isnan(base) || s->collected_s < base))
            base = s->collected_s;
    }
    if (isnan(base))
        base = first;
    for (int t = 0; t < p->ntimepoints; t++) {
        const hm_bb_timepoint *tp = &p->timepoints[t];
        double deadline = base + (tp->due_day + tp->tolerance_days) * 86400.0;
        char note[96] = "";
        size_t len = 0;
        for (int k = 0; k < tp->ntypes; k++) {
            int ok = 0, late = 0;
            for (size_t j = 0; j < n && !ok; j++) {
                const hm_bb_sample *s = &st->samples[g[j]];
                if (strcmp(s->timepoint, tp->name) || strcmp(s->type, tp->types[k]))
                    continue;
                if (s->collected_s <= deadline)       /* at the deadline is in time */
                    ok = 1;
                else
                    late = 1;
            }
            if (!ok && (late || now_s > deadline) && len < sizeof note)
                len += (size_t)snprintf(note + len, sizeof note - len, "%s%s%s", len ? ";" : "",
                                        tp->types[k], late ? "(late)" : "");
        }
        if (len)
            add_missing(st, s0, tp, deadline, note);
    }
}

void hm_bb_check_timepoints(hm_bb_state *st, double now_s)
{
    st->nmissing = 0;
    if (!st->nsamples)
        return;
    int *order = malloc(st->nsamples * sizeof *order);
    if (!order)
        return;
    for (size_t i = 0; i < st->nsamples; i++)
        order[i] = (int)i;
    sort_st = st;
    qsort(order, st->nsamples, sizeof *order, cmp_patient);
    for (size_t i = 0, j; i < st->nsamples; i = j) {
        for (j = i + 1; j < st->nsamples &&
                        same_patient(&st->samples[order[i]], &st->samples[order[j]]); j++)
            ;
        check_patient(st, order + i, j - i, now_s);
    }
    free(order);
}
