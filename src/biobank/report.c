/*
 * report.c — the inventory (every aliquot with its derived status, position,
 * SPREC code and consent mark) and the deviation report per centre.
 */
#include "hm_biobank.h"

#include <math.h>
#include <string.h>

static int in_centre(const char *c, const char *want)
{
    return !want || !want[0] || !strcmp(c, want);
}

int hm_bb_inventory(const hm_bb_state *st, const char *centre, FILE *out)
{
    fprintf(out, "centre,aliquot_id,sample_id,sample_type,timepoint,protocol,status,site,"
                 "location,sprec,to_destroy\n");
    for (size_t i = 0; i < st->naliquots; i++) {
        const hm_bb_aliquot *a = &st->aliquots[i];
        const hm_bb_sample *s = &st->samples[a->sample];
        if (!in_centre(s->centre, centre))
            continue;
        char sprec[32];
        hm_bb_sprec(st, (int)i, sprec);
        fprintf(out, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d\n", s->centre, a->id, s->sample_id,
                s->type, s->timepoint, s->protocol, hm_bb_status_name(a->status), a->site,
                a->location, sprec, a->to_destroy);
    }
    return HM_OK;
}

static long print_flags(FILE *out, const char *centre, const char *what, const char *id,
                        unsigned flags, unsigned resolved, char notes[][96], long *open)
{
    long n = 0;
    for (int b = 0; b < HM_BB_NFLAGS; b++) {
        if (!(flags & (1u << b)))
            continue;
        int res = (resolved >> b) & 1;
        fprintf(out, "%s,%s,%s,%s,%s,%s\n", centre, what, id, hm_bb_flag_name(b),
                res ? "resolved" : "open", notes[b]);
        if (!res)
            (*open)++;
        n++;
    }
    return n;
}

long hm_bb_deviations(const hm_bb_state *st, const char *centre, FILE *out)
{
    /* The centres, in order of first appearance. */
    const char *centres[256];
    size_t nc = 0;
    for (size_t i = 0; i < st->nsamples && nc < 256; i++) {
        size_t k = 0;
        while (k < nc && strcmp(centres[k], st->samples[i].centre))
            k++;
        if (k == nc && in_centre(st->samples[i].centre, centre))
            centres[nc++] = st->samples[i].centre;
    }
    long open = 0;
    fprintf(out, "centre,level,id,flag,state,note\n");
    for (size_t c = 0; c < nc; c++) {
        long n = 0, open_before = open;
        for (size_t i = 0; i < st->nsamples; i++) {
            hm_bb_sample *s = &st->samples[i];
            if (!strcmp(s->centre, centres[c]))
                n += print_flags(out, s->centre, "sample", s->sample_id, s->flags, s->resolved,
                                 s->flag_note, &open);
        }
        for (size_t i = 0; i < st->naliquots; i++) {
            hm_bb_aliquot *a = &st->aliquots[i];
            if (!strcmp(st->samples[a->sample].centre, centres[c]))
                n += print_flags(out, centres[c], "aliquot", a->id, a->flags, a->resolved,
                                 a->flag_note, &open);
        }
        for (size_t i = 0; i < st->nmissing; i++) {
            const struct hm_bb_missing *m = &st->missing[i];
            if (strcmp(m->centre, centres[c]))
                continue;
            char id[120];
            snprintf(id, sizeof id, "%.64s:%s", m->pseudonym, m->timepoint);
            fprintf(out, "%s,patient,%s,missing_timepoint,%s,%s\n", m->centre, id,
                    m->resolved ? "resolved" : "open", m->note);
            open += !m->resolved;
            n++;
        }
        fprintf(out, "# %s: %ld flags, %ld open\n", centres[c], n, open - open_before);
    }
    return open;
}
