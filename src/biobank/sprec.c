/*
 * sprec.c — the SPREC code of an aliquot, derived from its sample's events.
 * Standard PREanalytical Code version 3.0 (Betsou et al., Biopreserv Biobank
 * 2018;16(1):9-12), fluid samples: seven elements joined by '-':
 *   1 type of sample, 2 type of primary container (both from the protocol's
 *   sample record: BLD, SER, SAL; PED, PAX, SST, ORG),
 *   3 pre-centrifugation delay and temperature, 4 centrifugation,
 *   5 second centrifugation, 6 post-centrifugation delay, 7 long-term storage.
 * Element 3 from the collect and process events: A room temperature < 2 h,
 * B 2-10 C < 2 h, C RT 2-4 h, D 2-10 C 2-4 h, E RT 4-8 h, F 2-10 C 4-8 h,
 * G RT 8-12 h (SPREC 2.0 Table 1, Lehmann et al., Biopreserv Biobank
 * 2012;10:366-374, kept in 3.0).  Longer delays, and temperatures that are
 * neither room temperature (15-28 C here) nor 2-10 C, are "Z" (other).
 * Elements 4-7 need the centrifuge settings and storage container, which
 * harmonic's events do not record: "X" (unknown), as SPREC defines for an
 * unknown variable; so is element 3 when the processing temperature was not
 * given, and every element of a sample type without SPREC codes.
 */
#include "hm_biobank.h"

#include <math.h>
#include <string.h>

static char precentrifugation(double delay_h, double temp_c)
{
    if (isnan(delay_h) || isnan(temp_c) || delay_h < 0)
        return 'X';
    int rt = temp_c >= 15 && temp_c <= 28, cold = temp_c >= 2 && temp_c <= 10;
    if (!rt && !cold)
        return 'Z';
    /* Band edges: "< 2 h" is A/B, so exactly 2 h is in the 2-4 h band. */
    int band = delay_h < 2 ? 0 : delay_h < 4 ? 1 : delay_h < 8 ? 2 : delay_h < 12 ? 3 : -1;
    if (band < 0 || (band == 3 && cold))
        return 'Z';
    return (char)('A' + band * 2 + (cold ? 1 : 0));
}

void hm_bb_sprec(const hm_bb_state *st, int aliquot, char out[32])
{
    const hm_bb_aliquot *a = &st->aliquots[aliquot];
    const hm_bb_sample *s = &st->samples[a->sample];
    const hm_bb_protocol *p = hm_bb_find_protocol(st, s->protocol);
    const hm_bb_sample_rule *r = p ? hm_bb_protocol_type(p, s->type) : NULL;
    double delay_h = (s->processed_s - s->collected_s) / 3600.0;
    snprintf(out, 32, "%s-%s-%c-X-X-X-X", r ? r->sprec_type : "XXX",
             r ? r->sprec_container : "XXX", precentrifugation(delay_h, s->processing_temp_c));
}
