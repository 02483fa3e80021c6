/*
 * check.c — one item response against its instrument's form: the checks the
 * registry import runs on every qol_item row and `qol score --items` on
 * every line, with messages that say what the form expects.
 */
#include "qol_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int parse_ymd(const char *s, int *y, int *m, int *d)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    char *end;
    *y = (int)strtol(s, &end, 10);
    if (end != s + 4)
        return -1;
    *m = (int)strtol(s + 5, &end, 10);
    if (end != s + 7 || *m < 1 || *m > 12)
        return -1;
    *d = (int)strtol(s + 8, &end, 10);
    return end == s + 10 && *d >= 1 && *d <= 31 ? 0 : -1;
}

int hm_qol_age_years(const char *birth_date, const char *assessment_date, long age_days)
{
    int by, bm, bd, ay, am, ad;
    if (parse_ymd(birth_date, &by, &bm, &bd) == 0 &&
        parse_ymd(assessment_date, &ay, &am, &ad) == 0) {
        /* Calendar age: a birthday not yet reached this year does not count. */
        int years = ay - by - ((am < bm || (am == bm && ad < bd)) ? 1 : 0);
        return years >= 0 ? years : -1;
    }
    if (age_days >= 0)
        return (int)((double)age_days / 365.25);   /* mean Gregorian year of 365.25 days */
    return -1;
}

static void issue(hm_qol_issue_fn fn, void *arg, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void issue(hm_qol_issue_fn fn, void *arg, const char *field, const char *fmt, ...)
{
    if (!fn)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn(arg, field, msg);
}

/* The ids of the instrument's forms, ";"-separated. */
static void list_forms(const hm_qol_defs *d, int ins, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < d->nforms && o < size; i++)
        if (d->forms[i].instrument == ins)
            o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ";" : "", d->forms[i].id);
}

/* The form of the same instrument answered by respondent at age, or NULL. */
static const qol_form *form_for_age(const hm_qol_defs *d, int ins, const char *respondent,
                                    int age)
{
    for (size_t i = 0; i < d->nforms; i++) {
        const qol_form *f = &d->forms[i];
        if (f->instrument == ins && age >= f->age_min_years && age <= f->age_max_years &&
            (!respondent || hm_list_has(f->respondents, ';', respondent)))
            return f;
    }
    return NULL;
}

int hm_qol_check_item(const hm_qol_defs *d, const char *instrument, const char *form,
                      const char *respondent, const char *item_id, const char *response,
                      int age_years, hm_qol_issue_fn fn, void *arg)
{
    char list[512];
    int ins = hm__qol_find_instrument(d, instrument);
    if (ins < 0) {
        size_t o = 0;
        for (size_t i = 0; i < d->nins; i++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ";" : "", d->ins[i].id);
        issue(fn, arg, "instrument", "'%.48s' has no scoring rules: expected one of %s "
              "(data/qol/instruments.csv)", instrument ? instrument : "", list);
        return 1;
    }
    int fi = hm__qol_find_form(d, form);
    if (fi < 0 || d->forms[fi].instrument != ins) {
        list_forms(d, ins, list, sizeof list);
        issue(fn, arg, "form", "'%.48s' is not a form of %s: expected one of %.180s",
              form ? form : "", d->ins[ins].id, list);
        return 1;
    }
    const qol_form *f = &d->forms[fi];
    int n = 0;
    if (hm__qol_form_item(f, item_id) < 0) {
        issue(fn, arg, "item_id", "'%.48s' is not an item of form %s (its %zu items are in "
              "data/qol/items.csv): check the item id and the form", item_id ? item_id : "",
              f->id, f->nitems);
        n++;
    }
    if (respondent && !hm_list_has(f->respondents, ';', respondent)) {
        issue(fn, arg, "respondent", "%.16s may not answer form %s, which is answered by %s: "
              "use the %s form for the child's age", respondent, f->id, f->respondents,
              !strcmp(respondent, "child") ? "self-report" : "parent proxy");
        n++;
    }
    if (response) {
        int x = hm__qol_parse_response(response);
        if (x < 0 || !(f->allowed >> x & 1)) {
            issue(fn, arg, "response", "%.16s is not an answer of form %s: expected one of %s "
                  "(its %s response scale) or NA", response, f->id, f->responses_text,
                  f->response_scale);
            n++;
        }
    }
    if (age_years >= 0 && (age_years < f->age_min_years || age_years > f->age_max_years)) {
        const qol_form *g = form_for_age(d, ins, respondent, age_years);
        issue(fn, arg, "form", "%s is for ages %d to %d, but the patient was %d at the "
              "assessment: %s%s", f->id, f->age_min_years, f->age_max_years, age_years,
              g ? "the form for that age is " : "no form of this instrument covers that age",
              g ? g->id : "");
        n++;
    }
    return n;
}
