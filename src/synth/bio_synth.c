/*
 * bio_synth.c — the synthetic biobank sub-study (`harmonic synth --biobank`):
 * for a share of the cardiac patients (and of the radiotherapy patients with
 * --rt-patients) collections at the protocol's timepoints, processing
 * (mostly inside the protocol's limits, a planned share outside), aliquots,
 * storage positions, quarterly shipments to the central biobank with a
 * temperature-logger CSV each (a planned share with excursions or too long),
 * receipts, QC results (a planned share below threshold), consent by tier
 * and some withdrawals; the shipments are bio_ship.c, the patients'
 * questionnaires bio_qol.c.
 *
 * Output, per centre (what a site's LIMS would export; docs/synth.md):
 *   DIR/biobank/<centre>/events.csv       a batch for `harmonic biobank load`
 *   DIR/biobank/<centre>/loggers/<centre>_<year>Q<quarter>.csv   one logger file per shipment
 *   DIR/<centre>/qol_item.csv             questionnaire items
 * Hospital format: local_patient_id instead of the pseudonym (the site
 * turns it into the pseudonym with `harmonic biobank pseudonymise`).
 * The protocols are data/biobank/protocol_{cardiac,radiotherapy}_v1.csv;
 * every rate is in data/synth/bio_params.csv.
 */
#include "bio_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int load_params(bio_params *bp, hm_error *err)
{
    static const struct { const char *name; size_t off; double lo, hi; } F[] = {
#define P(n, lo, hi) { #n, offsetof(bio_params, n), lo, hi }
        P(p_sampled_cardiac, 0, 1), P(p_sampled_rt, 0, 1), P(p_tube_missed, 0, 1),
        P(p_visit_missed, 0, 1), P(p_late_processing, 0, 1), P(p_cold_processing, 0, 1),
        P(p_second_spin, 0, 1), P(p_excursion, 0, 1), P(p_long_transport, 0, 1),
        P(p_qc_low, 0, 1), P(p_genetic_refused, 0, 1), P(p_sharing_refused, 0, 1),
        P(p_withdrawal, 0, 1), P(logger_interval_min, 1, 240), P(p_item_missing, 0, 1),
        P(p_form_mostly_missing, 0, 1)
#undef P
    };
    enum { NF = sizeof F / sizeof *F };
    char path[4096];
    hm_csv *csv;
    int rc = hm_data_csv_open("synth/bio_params.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    int seen[NF + 1] = { 0 };
    char **f;
    size_t n;
    int header = 1;
    while ((rc = hm_csv_next(csv, &f, &n, err)) == 1) {
        long line = hm_csv_line(csv);
        if (header) {
            header = 0;
            continue;
        }
        char *end;
        errno = 0;
        double v = n >= 2 ? strtod(f[1], &end) : NAN;
        if (n < 2 || !f[1][0] || *end || errno || !isfinite(v)) {
            rc = hm_error_set(err, HM_EPARSE, path, line, "value", "expected name,value,unit,source");
            break;
        }
        int k = 0;
        while (k < NF && strcmp(F[k].name, f[0]))
            k++;
        if (k < NF) {
            if (v < F[k].lo || v > F[k].hi) {
                rc = hm_error_set(err, HM_EPARSE, path, line, f[0], "%g: expected %g..%g", v,
                                  F[k].lo, F[k].hi);
                break;
            }
            *(double *)((char *)bp + F[k].off) = v;
            seen[k] = 1;
        } else if (!strcmp(f[0], "first_year") && v >= 1900 && v <= 2100 && v == floor(v)) {
            bp->first_year = (int)v;
            seen[NF] = 1;
        } else {
            rc = hm_error_set(err, HM_EPARSE, path, line, f[0], "unknown parameter or bad value");
            break;
        }
    }
    hm_csv_close(csv);
    for (int k = 0; rc == HM_OK && k <= NF; k++)
        if (!seen[k])
            rc = hm_error_set(err, HM_EPARSE, path, 0, k < NF ? F[k].name : "first_year",
                              "missing parameter");
    return rc < 0 ? rc : HM_OK;
}

/* ---- events, collected per centre and written sorted by time ---- */


static centre_out *centre_of(bio_run *r, const char *code)
{
    for (int i = 0; i < r->nc; i++)
        if (!strcmp(r->c[i].code, code))
            return &r->c[i];
    centre_out *c = &r->c[r->nc++];
    memset(c, 0, sizeof *c);
    snprintf(c->code, sizeof c->code, "%s", code);
    return c;
}


int bio_add(bio_run *r, centre_out *c, double t, const char *const v[E_N], hm_error *err)
{
    if (c->nev == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 1024;
        bio_ev *p = realloc(c->ev, nc * sizeof *p);
        if (!p)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        c->ev = p;
        c->cap = nc;
    }
    char when[32], line[1024];
    hm_bb_format_time(t, when);
    size_t len = 0;
    for (int k = 0; k < E_N; k++) {
        const char *s = k == E_TIME ? when : v[k] ? v[k] : "";
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", k ? "," : "", s);
        if (len >= sizeof line)
            return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "event line too long");
    }
    if (!(c->ev[c->nev].line = strdup(line)))
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    c->ev[c->nev].t = t;
    c->ev[c->nev].ord = r->ord++;
    c->nev++;
    r->s->bio_events++;
    return HM_OK;
}

static int cmp_ev(const void *a, const void *b)
{
    const bio_ev *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->ord > y->ord) - (x->ord < y->ord);
}

/* "<CENTRE><kind><6 digits><check>", the ids harmonic biobank gives. */
static void make_id(const char *centre, char kind, long n, char out[24])
{
    char body[22];
    snprintf(body, sizeof body, "%.12s%c%06lu", centre, kind, (unsigned long)n % 1000000u);
    size_t len = strlen(body);
    memcpy(out, body, len);
    out[len] = hm_bb_check_char(body);
    out[len + 1] = 0;
}

/* 9 x 9 boxes, 20 boxes per rack, 10 racks per freezer. */
void bio_position(const char *site, long k, char out[64])
{
    long box = k / 81, pos = k % 81;
    snprintf(out, 64, "%s/F%ld/R%ld/B%ld/%c%ld", site, box / 200 + 1, box / 20 % 10 + 1,
             box % 20 + 1, (char)('A' + pos / 9), pos % 9 + 1);
}

double bio_uni(sy_rng *g, double a, double b)
{
    return a + (b - a) * sy_u01(g);
}

/* One subject's collections, processing, aliquots and storage. */
static int subject(bio_run *r, const bio_subject *sj, hm_error *err)
{
    const hm_bb_protocol *p = &r->proto[sj->rt];
    const bio_params *bp = &r->bp;
    centre_out *c = centre_of(r, sj->centre);
    sy_rng g;
    sy_rng_init(&g, r->o->seed, (uint32_t)sj->index, SY_S_BIO_SAMPLE, (uint32_t)sj->rt);
    const char *patient = r->o->hospital_format ? sj->local_id : sj->pseudonym;
    char user[24], value[32], detail[256], sid[24], aid[24], loc[64];
    snprintf(user, sizeof user, "nurse_%s", sj->centre);
    double base_s = (double)sj->baseline * 86400.0 + bio_uni(&g, 7, 10) * 3600.0;
    int rc = HM_OK;
    /* Consent by tier at enrolment, an hour before the first tube. */
    static const char *const tiers[3] = { "storage", "genetic", "sharing" };
    for (int k = 0; k < 3 && rc == HM_OK; k++) {
        double u = sy_u01(&g);
        int given = k == 0 || (k == 1 ? u >= bp->p_genetic_refused : u >= bp->p_sharing_refused);
        const char *v[E_N] = { "consent", NULL, sj->centre, user, sj->centre, patient, NULL,
                               NULL, NULL, NULL, NULL, NULL, tiers[k], given ? "1" : "0" };
        rc = bio_add(r, c, base_s - 3600, v, err);
    }
    bio_visit visits[HM_BB_MAX_TIMEPOINTS];
    int nvisits = 0;
    double last_s = base_s;
    for (int t = 0; t < p->ntimepoints && rc == HM_OK; t++) {
        const hm_bb_timepoint *tp = &p->timepoints[t];
        double when;
        if (t == 0)
            when = base_s;
        else if (tp->due_day == 0)                    /* after the procedure, same day */
            when = base_s + bio_uni(&g, 2, 5) * 3600.0;
        else                                          /* inside the tolerance window */
            when = base_s + (tp->due_day + bio_uni(&g, -0.5, 0.5) * tp->tolerance_days) * 86400.0;
        double missed = sy_u01(&g);
        if ((t > 0 && missed < bp->p_visit_missed) || when > r->end_s)
            continue;
        snprintf(visits[nvisits].timepoint, sizeof visits[nvisits].timepoint, "%s", tp->name);
        visits[nvisits++].day = (long)floor(when / 86400.0);
        last_s = when;
        for (int k = 0; k < tp->ntypes && rc == HM_OK; k++) {
            const hm_bb_sample_rule *ru = hm_bb_protocol_type(p, tp->types[k]);
            /* Every draw is made whether used or not: the streams stay aligned. */
            double u_miss = sy_u01(&g), u_late = sy_u01(&g), u_cold = sy_u01(&g),
                   u_spin2 = sy_u01(&g), u_delay = sy_u01(&g), u_frz = sy_u01(&g);
            if (!ru || u_miss < bp->p_tube_missed)
                continue;
            double t0 = when + k * 60.0;              /* tubes a minute apart */
            make_id(sj->centre, 'S', ++c->nsample, sid);
            r->s->bio_samples++;
            const char *vc[E_N] = { "collect", NULL, sj->centre, user, sj->centre, patient, sid,
                                    NULL, p->id, tp->name, ru->type };
            if ((rc = bio_add(r, c, t0, vc, err)))
                break;
            /* Processing: inside the limit (at most 6 h even where the limit is
             * days: a lab processes the same day), or the planned late share. */
            double lim = ru->max_to_processing_h;
            double delay_h = u_late < bp->p_late_processing ? lim * (1.02 + 0.58 * u_delay)
                                                             : fmin(lim, 6.0) * (0.1 + 0.85 * u_delay);
            double temp_c = u_cold < bp->p_cold_processing ? 4 : 21;
            /* Blood for plasma/serum is centrifuged (2000 g 10 min, ISBER common
             * practice); PAXgene and saliva are frozen as they are (g 0). */
            int spun = !strcmp(ru->type, "blood_edta") || !strcmp(ru->type, "serum");
            if (spun && u_spin2 < bp->p_second_spin)
                snprintf(detail, sizeof detail, "centrifuge_temp_c=%g;centrifuge_g=2000;"
                         "centrifuge_min=10;centrifuge_brake=1;centrifuge2_temp_c=%g;"
                         "centrifuge2_g=2500;centrifuge2_min=15;centrifuge2_brake=0;"
                         "post_temp_c=4", temp_c, temp_c);
            else if (spun)
                snprintf(detail, sizeof detail, "centrifuge_temp_c=%g;centrifuge_g=2000;"
                         "centrifuge_min=10;centrifuge_brake=1;centrifuge2_g=0;post_temp_c=4",
                         temp_c);
            else
                snprintf(detail, sizeof detail, "centrifuge_g=0;centrifuge2_g=0;post_temp_c=%g",
                         temp_c);
            snprintf(value, sizeof value, "%g", temp_c);
            double tp_s = t0 + delay_h * 3600.0;
            const char *vp[E_N] = { "process", NULL, sj->centre, "lab", sj->centre, NULL, sid,
                                    NULL, NULL, NULL, NULL, NULL, NULL, value, detail };
            if ((rc = bio_add(r, c, tp_s, vp, err)))
                break;
            double tf = tp_s + (0.25 + 1.0 * u_frz) * 3600.0;
            snprintf(value, sizeof value, "%g", ru->storage_temp_c);
            for (int a = 0; a < ru->aliquots_n && rc == HM_OK; a++) {
                make_id(sj->centre, 'A', ++c->naliquot, aid);
                r->s->bio_aliquots++;
                const char *va[E_N] = { "aliquot", NULL, sj->centre, "lab", sj->centre, NULL,
                                        sid, aid };
                if ((rc = bio_add(r, c, tp_s + 60.0 * (a + 1), va, err)))
                    break;
                bio_position(sj->centre, c->nposition++, loc);
                const char *vs[E_N] = { "store", NULL, sj->centre, "lab", sj->centre, NULL, NULL,
                                        aid, NULL, NULL, NULL, loc, NULL, value,
                                        "container=cryovial" };
                if ((rc = bio_add(r, c, tf + 60.0 * a, vs, err)))
                    break;
                if (a == 0) {                         /* the first aliquot goes to the CB */
                    if (c->npend == c->capp) {
                        size_t nc = c->capp ? c->capp * 2 : 256;
                        pending *np = realloc(c->pend, nc * sizeof *np);
                        if (!np)
                            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                        c->pend = np;
                        c->capp = nc;
                    }
                    pending *pe = &c->pend[c->npend++];
                    snprintf(pe->aliquot, sizeof pe->aliquot, "%s", aid);
                    snprintf(pe->sample, sizeof pe->sample, "%s", sid);
                    snprintf(pe->type, sizeof pe->type, "%s", ru->type);
                    pe->stored_s = tf;
                }
            }
        }
    }
    /* A planned share withdraws consent (all tiers) some weeks after the
     * last visit: their aliquots are marked for destruction. */
    double u_w = sy_u01(&g), w_s = last_s + bio_uni(&g, 5, 120) * 86400.0;
    if (rc == HM_OK && u_w < bp->p_withdrawal && w_s <= r->end_s) {
        const char *v[E_N] = { "consent_withdrawn", NULL, sj->centre, user, sj->centre, patient,
                               NULL, NULL, NULL, NULL, NULL, NULL, "all" };
        rc = bio_add(r, c, w_s, v, err);
        r->s->bio_withdrawals++;
    }
    if (rc == HM_OK)
        rc = bio_qol_subject(r->qol, bp, r->o->seed, sj, visits, nvisits, &r->s->bio_qol_rows,
                             err);
    r->s->bio_patients++;
    return rc;
}

static int write_centre(bio_run *r, centre_out *c, hm_error *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/biobank/%s/events.csv", r->dir, c->code);
    qsort(c->ev, c->nev, sizeof *c->ev, cmp_ev);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s", strerror(errno));
    fprintf(fp, "# harmonic synthetic biobank events of centre %s (harmonic synth --biobank)\n"
                "event,time,centre,user,site,%s,sample_id,aliquot_id,protocol,timepoint,"
                "sample_type,location,metric,value,detail,logger\n", c->code,
            r->o->hospital_format ? "local_patient_id" : "pseudonym");
    for (size_t i = 0; i < c->nev; i++)
        fprintf(fp, "%s\n", c->ev[i].line);
    if (ferror(fp) | fclose(fp))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
    return HM_OK;
}

static int make_dirs(bio_run *r, const char *code, hm_error *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/biobank", r->dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/biobank/%s", r->dir, code);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/biobank/%s/loggers", r->dir, code);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s", strerror(errno));
    return HM_OK;
}

static int pseudonym_of(bio_run *r, bio_subject *sj, hm_error *err)
{
    if (r->o->hospital_format)
        return HM_OK;
    return hm_pseudo_id(r->key, "patient", sj->local_id, sj->pseudonym, err);
}

static int cardiac(bio_run *r, hm_error *err)
{
    const sy_params *sp = r->sp;
    sy_truth none;
    memset(&none, 0, sizeof none);
    sy_patient *pt = malloc(sizeof *pt);
    if (!pt)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    int rc = HM_OK;
    for (long i = 0; rc == HM_OK && i < r->o->n_patients; i++) {
        sy_rng g;
        sy_rng_init(&g, r->o->seed, (uint32_t)i, SY_S_BIO_ENROL, 0);
        double u = sy_u01(&g);
        if (u >= r->bp.p_sampled_cardiac)
            continue;
        /* Demography and procedures only: the outcome draws need no truth here. */
        sy_simulate(sp, &none, r->o->seed, i, pt);
        int y, m, d;
        hm_date_to_ymd(pt->entry, &y, &m, &d);
        if (y < r->bp.first_year || (double)pt->entry * 86400.0 > r->end_s - 86400.0)
            continue;
        const sy_centre *c = &sp->centres[pt->centre];
        bio_subject sj;
        memset(&sj, 0, sizeof sj);
        snprintf(sj.centre, sizeof sj.centre, "%s", c->code);
        snprintf(sj.local_id, sizeof sj.local_id, "%s-%08ld", c->code, i + 1);
        sj.index = i;
        sj.birth = pt->birth;
        sj.baseline = pt->entry;
        sj.day_offsets = c->day_offsets;
        if ((rc = pseudonym_of(r, &sj, err)) || (rc = make_dirs(r, c->code, err)))
            break;
        rc = subject(r, &sj, err);
    }
    free(pt);
    return rc;
}

static int radiotherapy(bio_run *r, hm_error *err)
{
    if (r->o->rt_patients <= 0)
        return HM_OK;
    rt_params *rp = malloc(sizeof *rp);
    if (!rp)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    int rc = rt_params_load(rp, err);
    rt_patient pt;
    for (long i = 0; rc == HM_OK && i < r->o->rt_patients; i++) {
        sy_rng g;
        sy_rng_init(&g, r->o->seed, (uint32_t)i, SY_S_BIO_ENROL, 1);
        if (sy_u01(&g) >= r->bp.p_sampled_rt)
            continue;
        rt_simulate(rp, r->sp, r->o->seed, i, &pt);
        /* Baseline a few days before the first fraction. */
        long base = pt.rt_start - 3;
        if ((double)base * 86400.0 > r->end_s - 86400.0)
            continue;
        const rt_centre *c = &rp->centres[pt.centre];
        bio_subject sj;
        memset(&sj, 0, sizeof sj);
        snprintf(sj.centre, sizeof sj.centre, "%s", c->code);
        snprintf(sj.local_id, sizeof sj.local_id, "%s-R%07ld", c->code, i + 1);
        sj.index = i;
        sj.rt = 1;
        sj.birth = pt.birth;
        sj.baseline = base;
        if ((rc = pseudonym_of(r, &sj, err)) || (rc = make_dirs(r, c->code, err)))
            break;
        rc = subject(r, &sj, err);
    }
    free(rp);
    return rc;
}

int sy_bio_run(const hm_synth_opts *o, const sy_params *sp, const hm_pseudo_key *key,
               const char *dir, hm_synth_summary *s, hm_error *err)
{
    if (!o->biobank)
        return HM_OK;
    bio_run *r = calloc(1, sizeof *r);
    if (!r)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    r->o = o;
    r->sp = sp;
    r->key = key;
    r->s = s;
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    r->end_s = (double)(sp->study_end + 1) * 86400.0;
    int rc = load_params(&r->bp, err);
    if (rc == HM_OK)
        rc = hm_bb_protocol_load("cardiac_v1", &r->proto[0], NULL, err);
    if (rc == HM_OK)
        rc = hm_bb_protocol_load("radiotherapy_v1", &r->proto[1], NULL, err);
    if (rc == HM_OK)
        rc = bio_qol_open(&r->qol, dir, o->hospital_format, key, err);
    if (rc == HM_OK)
        rc = cardiac(r, err);
    if (rc == HM_OK)
        rc = radiotherapy(r, err);
    for (int i = 0; rc == HM_OK && i < r->nc; i++)
        rc = bio_shipments(r, &r->c[i], err);
    for (int i = 0; rc == HM_OK && i < r->nc; i++)
        rc = write_centre(r, &r->c[i], err);
    int rc2 = r->qol ? bio_qol_close(r->qol, err) : HM_OK;
    if (rc == HM_OK)
        rc = rc2;
    for (int i = 0; i < r->nc; i++) {
        for (size_t k = 0; k < r->c[i].nev; k++)
            free(r->c[i].ev[k].line);
        free(r->c[i].ev);
        free(r->c[i].pend);
    }
    free(r);
    return rc;
}
