/* events.c — irradiation events (RDSR TID 10003 content) of tier-1
 * procedures: fluoroscopy and cine acquisition events on the two planes of
 * a biplane system whose KAP and air kerma add up to the procedure's totals
 * and whose fluoroscopy durations add up to its fluoroscopy time.
 * Technique factors: data/synth/event_technique.csv. */
#include "synth_int.h"
#include "synth_out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_EVENTS 64

typedef struct ev { int tech; double weight, duration_s; } ev;

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

int sy_write_events(sy_out *out, const sy_params *p, uint64_t seed, const sy_patient *pt, int k,
                    const char *centre, const char *acc, const char *birth, const char *study_uid,
                    long *rows, hm_error *err)
{
    const sy_proc *pr = &pt->procs[k];
    sy_rng r;
    sy_rng_init(&r, seed, (uint32_t)pt->index, SY_S_EVENTS, (uint32_t)k);
    ev e[MAX_EVENTS];
    int n = 0;
    for (int plane = 0; plane < 2; plane++) {          /* 1-2 fluoroscopy events per plane */
        int nf = 1 + (sy_u01(&r) < 0.5);
        for (int i = 0; i < nf; i++)
            e[n++] = (ev){ plane, sy_exp1(&r), 0 };
    }
    int nfluoro = n;
    int nacq = (int)p->acq_min + (int)(sy_u01(&r) * (p->acq_max - p->acq_min + 1));
    for (int i = 0; i < nacq && n < MAX_EVENTS; i++)
        e[n++] = (ev){ 2 + (sy_u01(&r) < 0.5), sy_exp1(&r), 2.0 + 6.0 * sy_u01(&r) };
    /* Split the totals: fluoroscopy gets fluoro_kap_fraction of the KAP and
     * all of the fluoroscopy time, in proportion to random Exp(1) weights. */
    double wf = 0, wa = 0;
    for (int i = 0; i < n; i++)
        *(i < nfluoro ? &wf : &wa) += e[i].weight;
    for (int i = 0; i < nfluoro; i++)
        e[i].duration_s = pr->fluoro_s * e[i].weight / wf;
    /* Time order: a random permutation (Fisher-Yates). */
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(sy_u01(&r) * (i + 1));
        ev t = e[i]; e[i] = e[j]; e[j] = t;
    }
    double t_s = 8 * 3600.0 + sy_u01(&r) * 7 * 3600.0;   /* start between 08:00 and 15:00 */
    double ak_per_kap = pr->air_kerma_mgy / pr->kap_gy_cm2;
    double side_mm = clamp((110 + 12 * sqrt(pr->weight_kg)) * exp(0.1 * sy_normal(&r)), 80, 300);
    char uid[96], dt[32], date[11], vals[28][40];
    hm_date_format(pr->date, date);
    for (int i = 0; i < n; i++) {
        const sy_technique *tq = &p->tech[e[i].tech];
        int acquisition = e[i].tech >= 2;
        double share = acquisition ? (1 - p->fluoro_kap_fraction) * e[i].weight / wa
                                   : p->fluoro_kap_fraction * e[i].weight / wf;
        double kap = pr->kap_gy_cm2 * share;
        double kvp = clamp(tq->kvp_base + tq->kvp_per_kg * pr->weight_kg + 2 * sy_normal(&r),
                           50, 125);
        double ma = tq->ma_min + sy_u01(&r) * (tq->ma_max - tq->ma_min);
        double w = side_mm * exp(0.05 * sy_normal(&r)), h = side_mm * exp(0.05 * sy_normal(&r));
        double secs = t_s < 86000 ? t_s : 86000;
        int hh = (int)(secs / 3600), mm = (int)(fmod(secs, 3600) / 60), ss = (int)fmod(secs, 60);
        snprintf(dt, sizeof dt, "%sT%02d:%02d:%02d", date, hh, mm, ss);
        snprintf(uid, sizeof uid, "%s.%d", study_uid, i + 1);
        int v = 0;
#define PUT(...) snprintf(vals[v++], sizeof vals[0], __VA_ARGS__)
        PUT("%.1f", kvp);
        PUT("%.0f", ma);
        PUT("%.1f", tq->pulse_ms);
        PUT("%g", tq->pulse_rate);
        PUT("%ld", lround(tq->pulse_rate * e[i].duration_s));
        PUT("%.1f", e[i].duration_s);
        PUT("%g", tq->cu_mm);
        PUT("%g", tq->al_mm);
        PUT("%.0f", w);
        PUT("%.0f", h);
        PUT("%.1f", w * h / 100.0);
        PUT("%.0f", clamp(tq->primary_deg + tq->primary_sd * sy_normal(&r), -180, 180));
        PUT("%.0f", clamp(tq->secondary_deg + tq->secondary_sd * sy_normal(&r), -90, 90));
        PUT("%.0f", 750 + 20 * sy_normal(&r));
        PUT("%.0f", 950 + 100 * sy_u01(&r));
        PUT("%.0f", 600 + 100 * sy_normal(&r));
        PUT("%.0f", 20 * sy_normal(&r));
        PUT("%.0f", 950 + 30 * sy_normal(&r));
        PUT("%.4g", kap);
        PUT("%.4g", kap * ak_per_kap);
#undef PUT
        const char *row[] = { centre, acc, uid, birth, dt, tq->plane, tq->event_type,
                              tq->protocol, vals[0], vals[1], vals[2], vals[3], vals[4], vals[5],
                              vals[6], vals[7], "", vals[8], vals[9], vals[10], vals[11],
                              vals[12], vals[13], vals[14], vals[15], vals[16], vals[17],
                              vals[18], vals[19], "head first supine", "" };
        int rc = sy_out_row(out, pt->centre, SY_T_EVENT, row, err);
        if (rc)
            return rc;
        (*rows)++;
        t_s += e[i].duration_s + 20 + 200 * sy_u01(&r);
    }
    return HM_OK;
}
