/*
 * score.c — the scale and summary scores of one assessment (Varni, PedsQL
 * scoring instructions, http://www.pedsql.org/score.html; Varni et al.,
 * Med Care 2001;39:800-812):
 *   points(item)  = transform of the response (reverse-scored: 0=100, 1=75,
 *                   2=50, 3=25, 4=0);
 *   scale score   = sum of the answered items' points / number answered;
 *                   not computed when missing > max_missing_fraction * items
 *                   (0.5: "more than 50 % missing");
 *   summary score = the same over every item of its scales pooled
 *                   (psychosocial: emotional + social + school items;
 *                   total: all items), not the mean of the scale scores.
 * Items are those of the FORM: a toddler's school scale has 3 items, so 2
 * missing (> 1.5) leave it uncomputed.
 */
#include "qol_int.h"

#include <math.h>
#include <string.h>

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static int item_error(hm_error *err, const hm_qol_item *it, const char *field, const char *fmt,
                      const char *a, const char *b)
{
    return hm_error_set(err, HM_EVALIDATE, NULL, it->line, field, fmt, a ? a : "", b ? b : "");
}

int hm_qol_score_assessment(const hm_qol_defs *d, const hm_qol_item *items, size_t n,
                            hm_qol_score *out, size_t cap, size_t *nout, hm_error *err)
{
    *nout = 0;
    if (n == 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "an assessment without items");
    const hm_qol_item *first = &items[0];
    int ins = hm__qol_find_instrument(d, first->instrument);
    int fi = hm__qol_find_form(d, first->form);
    if (ins < 0 || fi < 0 || d->forms[fi].instrument != ins)
        return item_error(err, first, "form", "'%.48s' is not a form of instrument '%.48s'",
                          first->form, first->instrument);
    const qol_form *f = &d->forms[fi];
    if (first->respondent && !hm_list_has(f->respondents, ';', first->respondent))
        return item_error(err, first, "respondent", "%.16s may not answer form %.48s",
                          first->respondent, f->id);
    /* Points of each item of the form; NAN = missing (absent or NA). */
    double pts[512];
    if (f->nitems > sizeof pts / sizeof *pts)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "form", "form %s has over 512 items", f->id);
    for (size_t i = 0; i < f->nitems; i++)
        pts[i] = NAN;
    unsigned char seen[512] = { 0 };
    for (size_t k = 0; k < n; k++) {
        const hm_qol_item *it = &items[k];
        /* One assessment is one filled-in form: everything but the item agrees. */
        if (!same(it->form, first->form) || !same(it->respondent, first->respondent))
            return item_error(err, it, "form", "assessment %.60s mixes forms or respondents "
                              "(%.48s here): one assessment is one filled-in form, give each "
                              "form its own assessment_id", it->assessment_id, it->form);
        if (!same(it->pseudonym, first->pseudonym) ||
            !same(it->assessment_date, first->assessment_date) ||
            it->assessment_day != first->assessment_day)
            return item_error(err, it, "assessment_id", "assessment %.60s has items of another "
                              "patient or date (item %.48s): check the assessment ids",
                              it->assessment_id, it->item_id);
        int j = hm__qol_form_item(f, it->item_id);
        if (j < 0)
            return item_error(err, it, "item_id", "'%.48s' is not an item of form %.48s",
                              it->item_id, f->id);
        if (seen[j])
            return item_error(err, it, "item_id", "%.48s is given twice in assessment %.60s",
                              it->item_id, it->assessment_id);
        seen[j] = 1;
        if (it->response < 0)
            continue;
        const qol_transform *t = &d->tr[f->items[j].transform];
        if (it->response >= HM__QOL_MAX_RESP || !(f->allowed >> it->response & 1))
            return item_error(err, it, "response", "not an answer of form %.48s (item %.48s)",
                              f->id, it->item_id);
        pts[j] = t->points[it->response];
    }
    for (size_t s = 0; s < d->nscales; s++) {
        const qol_scale *sc = &d->scales[s];
        if (sc->instrument != ins)
            continue;
        double sum = 0;
        int nitems = 0, nans = 0;
        for (size_t i = 0; i < f->nitems; i++) {
            int in = f->items[i].scale == (int)s;
            for (int m = 0; m < sc->nmembers && !in; m++)
                in = f->items[i].scale == sc->members[m];
            if (!in)
                continue;
            nitems++;
            if (!isnan(pts[i])) {
                sum += pts[i];
                nans++;
            }
        }
        if (nitems == 0)
            continue;                 /* a scale this form does not have */
        if (*nout >= cap)
            return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "more than %zu scales", cap);
        hm_qol_score *o = &out[(*nout)++];
        memset(o, 0, sizeof *o);
        snprintf(o->scale, sizeof o->scale, "%s", sc->id);
        o->summary = sc->summary;
        o->n_items = nitems;
        o->n_answered = nans;
        int n_missing = nitems - nans;
        o->computed = nans > 0 && !((double)n_missing > sc->max_missing_fraction * nitems);
        o->score = o->computed ? sum / nans : NAN;
    }
    return HM_OK;
}
