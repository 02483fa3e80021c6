/*
 * procedure.c — a procedure's irradiation events to organ doses: each event
 * becomes a beam (event.c; the event before it fills its gaps), the beam
 * organ doses per KAP (the caller's function: direct Monte Carlo or a
 * library), times the event's KAP corrected by the device's KAP-meter
 * calibration (anchors.md section 2: Padovani 2008; Borrego 2017: one
 * simulation per event with KAP-meter and table corrections).  Organ doses
 * add over events; so do their variances.
 */
#include "hm_dosimetry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int hm_dosimetry_direct_fn(void *ctx, const hm_dosimetry_beam *b, char sex,
                           hm_dosimetry_result *per_kap, hm_error *err)
{
    hm_dosimetry_direct *d = ctx;
    const hm_voxel_phantom *v = sex == 'M' ? d->phantom_m : sex == 'F' ? d->phantom_f : d->phantom_h;
    if (!v)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "sex", "no phantom for sex %c", sex);
    /* FNV-1a over the beam's numbers (its strings are landmark and
     * projection names, fixed for event beams). */
    const double nums[] = { b->primary_deg, b->secondary_deg, b->source_isocentre_cm, b->field_w_cm,
                            b->field_h_cm, b->kvp, b->anode_angle_deg, b->filter_al_mm,
                            b->filter_cu_mm, b->offset_cm[0], b->offset_cm[1], b->offset_cm[2],
                            b->direction[0], b->direction[1], b->direction[2] };
    uint64_t h = 14695981039346656037ULL;
    const unsigned char *bytes = (const unsigned char *)nums;
    for (size_t i = 0; i < sizeof nums; i++) {
        h ^= bytes[i];
        h *= 1099511628211ULL;
    }
    hm_dosimetry_params p = d->params;
    p.seed ^= h;
    return hm_dosimetry_organ_doses(v, b, &p, per_kap, err);
}

void hm_dosimetry_procedure_free(hm_dosimetry_procedure_dose *p)
{
    if (!p)
        return;
    free(p->events);
    free(p->organ);
    free(p->dose_mgy);
    free(p->sigma_mgy);
    free(p->event_dose_mgy);
    memset(p, 0, sizeof *p);
}

/* The organ list is the first result's (every phantom reports data/organs.csv). */
static int setup(hm_dosimetry_procedure_dose *out, const hm_dosimetry_result *r, size_t nevents,
                 hm_error *err)
{
    out->norgans = r->n;
    out->organ = calloc(r->n ? r->n : 1, sizeof *out->organ);
    out->dose_mgy = calloc(r->n ? r->n : 1, sizeof *out->dose_mgy);
    out->sigma_mgy = calloc(r->n ? r->n : 1, sizeof *out->sigma_mgy);
    out->event_dose_mgy = calloc((r->n ? r->n : 1) * (nevents ? nevents : 1),
                                 sizeof *out->event_dose_mgy);
    if (!out->organ || !out->dose_mgy || !out->sigma_mgy || !out->event_dose_mgy)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t o = 0; o < r->n; o++)
        snprintf(out->organ[o], sizeof out->organ[o], "%s", r->organs[o].organ);
    return HM_OK;
}

/* A rotational acquisition sweeps the C-arm from its start to its end
 * angles: it is simulated as beams at the midpoints of steps of at most
 * ARC_STEP_DEG, each with an equal share of the KAP (a constant dose rate
 * over the sweep, as the RDSR gives no more). */
#define ARC_STEP_DEG 10.0

static int arc_steps(const hm_dosimetry_event *e)
{
    double dp = isfinite(e->primary_end_angle_deg) && isfinite(e->primary_angle_deg)
              ? fabs(e->primary_end_angle_deg - e->primary_angle_deg) : 0;
    double ds = isfinite(e->secondary_end_angle_deg) && isfinite(e->secondary_angle_deg)
              ? fabs(e->secondary_end_angle_deg - e->secondary_angle_deg) : 0;
    double d = fmax(dp, ds);
    return d > 0.5 * ARC_STEP_DEG ? (int)ceil(d / ARC_STEP_DEG) : 1;
}

/* Organ doses per KAP of one event for each sex in sexes (the mean over
 * the sweep of a rotational event). */
static int event_per_kap(const hm_dosimetry_event *e, const hm_dosimetry_event *fb,
                         const hm_dosimetry_event *ref, const hm_dosimetry_device *dev,
                         hm_dosimetry_align align, const char *sexes, int nres,
                         hm_dosimetry_beam_fn fn, void *ctx, hm_dosimetry_result *r,
                         unsigned *imputed, hm_error *err)
{
    int n = arc_steps(e);
    int rc = HM_OK;
    for (int k = 0; k < n && rc == HM_OK; k++) {
        hm_dosimetry_event sub = *e;
        if (n > 1) {
            double t = (k + 0.5) / n;
            if (isfinite(e->primary_end_angle_deg))
                sub.primary_angle_deg += t * (e->primary_end_angle_deg - e->primary_angle_deg);
            if (isfinite(e->secondary_end_angle_deg))
                sub.secondary_angle_deg += t * (e->secondary_end_angle_deg - e->secondary_angle_deg);
        }
        hm_dosimetry_beam b;
        rc = hm_dosimetry_event_beam(&sub, fb, dev, align, ref, &b, imputed, err);
        for (int s = 0; s < nres && rc == HM_OK; s++) {
            hm_dosimetry_result one;
            hm_dosimetry_result *dst = k ? &one : &r[s];
            rc = fn(ctx, &b, sexes[s], dst, err);
            if (rc)
                continue;
            for (size_t o = 0; o < dst->n; o++) {      /* the table after the KAP meter */
                dst->organs[o].dose_mgy_per_gy_cm2 *= b.dose_factor;
                dst->organs[o].sigma_mgy_per_gy_cm2 *= b.dose_factor;
            }
            if (!k)
                continue;
            /* Running sums; divided by n below. */
            for (size_t o = 0; o < r[s].n && o < one.n; o++) {
                r[s].organs[o].dose_mgy_per_gy_cm2 += one.organs[o].dose_mgy_per_gy_cm2;
                double a = r[s].organs[o].sigma_mgy_per_gy_cm2, c = one.organs[o].sigma_mgy_per_gy_cm2;
                r[s].organs[o].sigma_mgy_per_gy_cm2 = sqrt(a * a + c * c);
            }
            hm_dosimetry_result_free(&one);
        }
    }
    for (int s = 0; s < nres && rc == HM_OK && n > 1; s++)
        for (size_t o = 0; o < r[s].n; o++) {
            r[s].organs[o].dose_mgy_per_gy_cm2 /= n;
            r[s].organs[o].sigma_mgy_per_gy_cm2 /= n;
        }
    return rc;
}

int hm_dosimetry_procedure(const hm_dosimetry_event *events, size_t nevents,
                           const hm_dosimetry_device *dev, hm_dosimetry_align align,
                           const char *age_class, char sex, hm_dosimetry_beam_fn fn, void *ctx,
                           hm_dosimetry_procedure_dose *out, hm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!age_class)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age", "the age class is required");
    int adult_phantoms = !strcmp(age_class, "15y") || !strcmp(age_class, "adult");
    out->nevents = nevents;
    out->events = calloc(nevents ? nevents : 1, sizeof *out->events);
    if (!out->events)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    int rc = HM_OK;
    for (size_t i = 0; i < nevents && rc == HM_OK; i++) {
        const hm_dosimetry_event *e = &events[i];
        hm_dosimetry_event_dose *ed = &out->events[i];
        /* Sexes to evaluate: H below 15 years; M and F from 15 (both, for E). */
        hm_dosimetry_result r[2];
        memset(r, 0, sizeof r);
        int nres = adult_phantoms ? 2 : 1;
        char sexes[2] = { adult_phantoms ? 'M' : 'H', 'F' };
        rc = event_per_kap(e, i ? &events[i - 1] : NULL, align == HM_ALIGN_TABLE ? &events[0] : NULL,
                           dev, align, sexes, nres, fn, ctx, r, &ed->imputed, err);
        if (rc == HM_OK && !out->organ)
            rc = setup(out, &r[0], nevents, err);
        if (rc == HM_OK && (r[0].n != out->norgans || (nres == 2 && r[1].n != out->norgans)))
            rc = hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "the beam function changed the organ list");
        double e_per_kap = 0;
        if (rc == HM_OK) {
            rc = hm_dosimetry_effective_dose(&r[0], nres == 2 ? &r[1] : &r[0], &e_per_kap, err);
            /* A small organ with no voxel: say what to do about it. */
            if (rc == HM_ENOTFOUND && err) {
                size_t n = strlen(err->msg);
                snprintf(err->msg + n, sizeof err->msg - n,
                         " (no voxel of the phantom holds it: use smaller voxels)");
            }
        }
        if (rc == HM_OK) {
            ed->no_kap = !(isfinite(e->kap_gy_cm2) && e->kap_gy_cm2 > 0);
            ed->kap_gy_cm2 = ed->no_kap ? 0 : e->kap_gy_cm2 * dev->kap_calibration;
            ed->effective_msv = e_per_kap * ed->kap_gy_cm2;
            out->effective_msv += ed->effective_msv;
            out->kap_gy_cm2 += ed->kap_gy_cm2;
            for (size_t o = 0; o < out->norgans; o++) {
                /* The patient's sex; an unknown sex from 15 years: the mean of both. */
                double d, s;
                const hm_organ_dose *m = &r[0].organs[o], *f = nres == 2 ? &r[1].organs[o] : m;
                if (nres == 2 && sex == 'F') {
                    d = f->dose_mgy_per_gy_cm2;
                    s = f->sigma_mgy_per_gy_cm2;
                } else if (nres == 2 && sex != 'M') {
                    d = 0.5 * (m->dose_mgy_per_gy_cm2 + f->dose_mgy_per_gy_cm2);
                    s = 0.5 * hypot(m->sigma_mgy_per_gy_cm2, f->sigma_mgy_per_gy_cm2);
                } else {
                    d = m->dose_mgy_per_gy_cm2;
                    s = m->sigma_mgy_per_gy_cm2;
                }
                double dose = d * ed->kap_gy_cm2, sig = s * ed->kap_gy_cm2;
                out->event_dose_mgy[i * out->norgans + o] = dose;
                out->dose_mgy[o] += dose;
                out->sigma_mgy[o] += sig * sig;      /* variances add; sqrt below */
            }
        }
        for (int k = 0; k < nres; k++)
            hm_dosimetry_result_free(&r[k]);
    }
    for (size_t o = 0; rc == HM_OK && o < out->norgans; o++)
        out->sigma_mgy[o] = sqrt(out->sigma_mgy[o]);
    if (rc)
        hm_dosimetry_procedure_free(out);
    return rc;
}
