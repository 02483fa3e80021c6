/*
 * rdsr_units.c — the one place where RDSR numbers change unit.  A value is
 * converted from the unit the vendor wrote to the unit harmonic's field
 * carries (kap_gy_cm2, rp_air_kerma_mgy, ...), using the unit sizes of
 * data/rdsr/units.csv (UCUM prefixes).  Each conversion and each repair
 * (non-UCUM spelling, missing unit) is recorded as a note on the report.
 */
#include "rdsr_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hm_rdsr_note_kind_name(int kind)
{
    switch (kind) {
    case HM_RDSR_NOTE_CONVERTED: return "converted";
    case HM_RDSR_NOTE_REPAIRED:  return "repaired";
    case HM_RDSR_NOTE_MISSING:   return "missing";
    default:                     return "note";
    }
}

int rdsr_note(hm_rdsr_report *rep, int kind, const char *field, const char *fmt, ...)
{
    char msg[sizeof rep->notes[0].msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < rep->nnotes; i++) {
        hm_rdsr_note *n = &rep->notes[i];
        if (n->kind == kind && !strcmp(n->field, field) && !strcmp(n->msg, msg)) {
            n->count++;
            return 0;
        }
    }
    void *p = realloc(rep->notes, (rep->nnotes + 1) * sizeof *rep->notes);
    if (!p)
        return HM_ENOMEM;
    rep->notes = p;
    hm_rdsr_note *n = &rep->notes[rep->nnotes++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    snprintf(n->field, sizeof n->field, "%s", field);
    snprintf(n->msg, sizeof n->msg, "%s", msg);
    n->count = 1;
    return 0;
}

int rdsr_convert(const hm_rdsr_ctx *ctx, const rdsr_concept *c, const hm_dcm_item *it,
                 hm_rdsr_report *rep, double *out)
{
    const rdsr_unit *to = &ctx->units[c->unit];
    if (!it->has_number) {
        if (it->number_text[0])
            rdsr_note(rep, HM_RDSR_NOTE_MISSING, c->field, "value '%s' is not a number",
                      it->number_text);
        else if (it->qualifier.meaning[0])
            rdsr_note(rep, HM_RDSR_NOTE_MISSING, c->field, "empty value (%s)",
                      it->qualifier.meaning);
        else
            rdsr_note(rep, HM_RDSR_NOTE_MISSING, c->field, "empty value");
        return -1;
    }
    if (!isfinite(it->number)) {
        rdsr_note(rep, HM_RDSR_NOTE_MISSING, c->field, "value is not finite");
        return -1;
    }
    const rdsr_unit *from;
    if (!it->unit.value[0]) {
        /* PS3.16 fixes the unit of every NUM it defines: assume it. */
        from = &ctx->units[c->std_unit];
        rdsr_note(rep, HM_RDSR_NOTE_REPAIRED, c->field, "no unit written, read as %s",
                  from->code);
    } else {
        int exact;
        from = rdsr_find_unit(ctx, it->unit.value, &exact);
        if (!from) {
            rdsr_note(rep, HM_RDSR_NOTE_MISSING, c->field, "unknown unit '%s', value dropped",
                      it->unit.value);
            return -1;
        }
        if (!exact)
            rdsr_note(rep, HM_RDSR_NOTE_REPAIRED, c->field, "unit '%s' read as %s",
                      it->unit.value, from->code);
        else if (!from->ucum)
            rdsr_note(rep, HM_RDSR_NOTE_REPAIRED, c->field, "unit '%s' (%s)", from->code,
                      from->note);
    }
    if (strcmp(from->dimension, to->dimension)) {
        rdsr_note(rep, HM_RDSR_NOTE_MISSING, c->field,
                  "unit '%s' is a %s, expected a %s: value dropped", from->code,
                  from->dimension, to->dimension);
        return -1;
    }
    double factor = from->to_base / to->to_base;
    *out = it->number * factor;
    if (factor != 1.0)
        rdsr_note(rep, HM_RDSR_NOTE_CONVERTED, c->field, "%s converted to %s (x %g)",
                  from->code, to->code, factor);
    return 0;
}
