/* synth.c — hm_synth_run: parameters, the output folder (built under a
 * temporary name and renamed at the end, so a failed run leaves nothing),
 * the patient loop, and truth.json. */
#include "bio_int.h"
#include "rt_int.h"
#include "synth_int.h"
#include "synth_out.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAYS_PER_YEAR 365.25

/* Multiplicative lognormal error with mean 1: exp(σZ − σ²/2). */
static double lognormal_factor(double sigma, double z)
{
    return exp(sigma * z - 0.5 * sigma * sigma);
}

typedef struct run {
    const hm_synth_opts *o;
    sy_params  p;
    sy_truth   truth;
    int        write_organ[HM_SYNTH_MAX_ORGANS];
    int        R;
    double    *shared_coeff;   /* [(R+1) × nepk × norgans] */
    double    *shared_kap;     /* [(R+1) × ncentres] */
    sy_out     out;
    hm_synth_summary *s;
} run;

static void fmt_date(long days, char *buf)
{
    hm_date_format(days, buf);
}

static int write_patient(run *r, const sy_patient *pt, hm_error *err)
{
    const sy_params *p = &r->p;
    const sy_centre *c = &p->centres[pt->centre];
    sy_rng rn;
    sy_rng_init(&rn, r->o->seed, (uint32_t)pt->index, SY_S_NAMES, 0);
    int ci = 0;
    while (ci < p->ncountries && strcmp(p->countries[ci], c->country))
        ci++;
    char id[48], nat[24], addr[96], phone[32], birth[11], tx[11] = "";
    snprintf(id, sizeof id, "%s-%08ld", c->code, pt->index + 1);
    const char *given = p->given[ci][(int)(sy_u01(&rn) * p->ngiven[ci])];
    const char *family = p->family[ci][(int)(sy_u01(&rn) * p->nfamily[ci])];
    snprintf(nat, sizeof nat, "%05ld%06ld", (long)(sy_u01(&rn) * 1e5), (long)(sy_u01(&rn) * 1e6));
    snprintf(addr, sizeof addr, "%d Synthetic Road, %s", 1 + (int)(sy_u01(&rn) * 200), c->country);
    snprintf(phone, sizeof phone, "0%09ld", (long)(sy_u01(&rn) * 1e9));
    fmt_date(pt->birth, birth);
    if (pt->transplant >= 0)
        fmt_date(pt->transplant, tx);
    /* Consent: waived for the retrospective part (first procedure before
     * 2010), given afterwards (documented rule of the synthetic cohort). */
    int y, m, d;
    hm_date_to_ymd(pt->entry, &y, &m, &d);
    const char *v[] = { c->code, id, family, given, nat, addr, phone, "cardiac",
                        pt->male ? "M" : "F", birth, sy_syndrome_codes[pt->syndrome], tx,
                        pt->transplant >= 0 ? "1" : "0", y < 2010 ? "waived" : "given" };
    int rc = sy_out_row(&r->out, pt->centre, SY_T_PATIENT, v, err);
    if (rc)
        return rc;

    char date[11], acc[48], age[24], w[24], h[24], kap[32], fl[32], cine[24], ak[32], tier[4],
         uid[64], dose[32], real[16];
    for (int k = 0; k < pt->nprocs; k++) {
        const sy_proc *pr = &pt->procs[k];
        const int t1 = pr->tier == 1, t12 = pr->tier <= 2;
        fmt_date(pr->date, date);
        snprintf(acc, sizeof acc, "ACC%08ld%02d", pt->index + 1, k + 1);
        snprintf(age, sizeof age, "%ld", pr->age_days);
        snprintf(w, sizeof w, "%.1f", pr->weight_kg);
        snprintf(h, sizeof h, "%.0f", pr->height_cm);
        snprintf(kap, sizeof kap, "%.4g", pr->kap_gy_cm2);
        snprintf(fl, sizeof fl, "%.0f", pr->fluoro_s);
        snprintf(cine, sizeof cine, "%ld", pr->cine_frames);
        snprintf(ak, sizeof ak, "%.4g", pr->air_kerma_mgy);
        snprintf(tier, sizeof tier, "%d", pr->tier);
        snprintf(uid, sizeof uid, "2.25.%llu%02d", (unsigned long long)pr->uid_rand, k + 1);
        const char *pv[] = { c->code, acc, id, birth, date, age, w, h, p->exams[pr->exam].exam,
                             pr->interventional ? "interventional" : "diagnostic",
                             t12 ? kap : "", t12 ? fl : "", t1 ? cine : "", t1 ? ak : "", tier,
                             t1 ? uid : "", t1 ? "Synthetic Medical Systems" : "",
                             t1 ? "Biplane 3000" : "" };
        if ((rc = sy_out_row(&r->out, pt->centre, SY_T_PROCEDURE, pv, err)))
            return rc;
        r->s->procedures++;
        r->s->tier[pr->tier]++;
        if (t1 && !r->o->no_events
            && (rc = sy_write_events(&r->out, p, r->o->seed, pt, k, c->code, acc, birth, uid,
                                     &r->s->events, err)))
            return rc;

        /* Organ doses: realization 0 is the true dose that drives the
         * outcomes; 1..R multiply it by shared (coefficient per age class
         * and organ; KAP meter per centre) and unshared (per procedure)
         * mean-one lognormal errors (2-D Monte Carlo, anchors.md §1). */
        sy_rng re;
        sy_rng_init(&re, r->o->seed, (uint32_t)pt->index, SY_S_REAL, (uint32_t)k);
        double unshared[1 + 1000];
        int R = r->R;
        for (int j = 1; j <= R; j++)
            unshared[j] = lognormal_factor(p->sigma_unshared[pr->tier - 1], sy_normal(&re));
        for (int j = 0; j <= R; j++) {
            snprintf(real, sizeof real, "%d", j);
            for (int o = 0; o < p->norgans; o++) {
                if (!r->write_organ[o])
                    continue;
                double dd = pr->dose_mgy[o];
                if (j > 0)
                    dd *= r->shared_coeff[((size_t)j * p->nepk + pr->age_class) * p->norgans + o]
                          * r->shared_kap[(size_t)j * p->ncentres + pt->centre] * unshared[j];
                snprintf(dose, sizeof dose, "%.5g", dd);
                const char *dv[] = { c->code, "procedure", acc, p->organs[o].organ, "synthetic",
                                     real, dose };
                if ((rc = sy_out_row(&r->out, pt->centre, SY_T_DOSE, dv, err)))
                    return rc;
                r->s->organ_dose_rows++;
            }
        }
    }

    char oid[48];
    for (int k = 0; k < pt->ncancers; k++) {
        const sy_cancer *ca = &pt->cancers[k];
        const sy_code *code = &p->codes[ca->code];
        fmt_date(ca->date, date);
        snprintf(oid, sizeof oid, "ONC%08ld%d", pt->index + 1, ca->type + 1);
        const char *ov[] = { c->code, oid, id, birth, "cancer", code->topo, code->morph,
                             code->icd10, date };
        if ((rc = sy_out_row(&r->out, pt->centre, SY_T_OUTCOME, ov, err)))
            return rc;
        r->s->outcome_rows++;
        r->s->cancers[ca->type]++;
    }

    static const char *const status[4] = { "alive", "dead", "alive", "lost" };
    static const char *const reason[4] = { "study_end", "death", "emigration", "lost" };
    fmt_date(pt->exit, date);
    const char *fv[] = { c->code, id, birth, status[pt->exit_reason], date,
                         reason[pt->exit_reason] };
    if ((rc = sy_out_row(&r->out, pt->centre, SY_T_FOLLOWUP, fv, err)))
        return rc;
    r->s->patients++;
    r->s->deaths += pt->exit_reason == 1;
    r->s->transplants += pt->transplant >= 0;
    r->s->down += pt->syndrome == 1;
    r->s->person_years += (double)(pt->exit - pt->entry) / DAYS_PER_YEAR;
    return HM_OK;
}

/* Which outcome groups the true ERR applies to. */
static int set_truth(run *r, hm_error *err)
{
    const hm_synth_opts *o = r->o;
    const sy_params *p = &r->p;
    const char *organ = o->err_organ ? o->err_organ : "red_marrow";
    r->truth.err_per_100mgy = o->err_per_100mgy;
    r->truth.err_organ = -1;
    for (int i = 0; i < p->norgans; i++)
        if (!strcmp(p->organs[i].organ, organ))
            r->truth.err_organ = i;
    if (r->truth.err_organ < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "--err-organ",
                            "'%s' has no dose ratio in data/synth/organ_ratios.csv", organ);
    if (o->err_outcomes) {
        for (const char *s = o->err_outcomes; *s;) {
            const char *e = strchr(s, ',');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            int k = -1;
            for (int t = 0; t < SY_NTYPES; t++)
                if (strlen(sy_type_names[t]) == len && !strncmp(sy_type_names[t], s, len))
                    k = t;
            if (k < 0)
                return hm_error_set(err, HM_EINVAL, NULL, 0, "--err-outcomes",
                                    "'%.*s': expected leukaemia, lymphoma, cns or solid",
                                    (int)len, s);
            r->truth.err_applies[k] = 1;
            s = e ? e + 1 : s + len;
        }
    } else if (!strcmp(organ, "red_marrow")) {
        r->truth.err_applies[SY_LEUKAEMIA] = r->truth.err_applies[SY_LYMPHOMA] = 1;
    } else if (!strcmp(organ, "brain")) {
        r->truth.err_applies[SY_CNS] = 1;
    } else {
        r->truth.err_applies[SY_SOLID] = 1;
    }
    return HM_OK;
}

static void shared_errors(run *r)
{
    const sy_params *p = &r->p;
    for (int j = 1; j <= r->R; j++) {
        sy_rng rs;
        sy_rng_init(&rs, r->o->seed, (uint32_t)j, SY_S_SHARED_COEFF, 0);
        for (int a = 0; a < p->nepk; a++)
            for (int o = 0; o < p->norgans; o++)
                r->shared_coeff[((size_t)j * p->nepk + a) * p->norgans + o] =
                    lognormal_factor(p->sigma_shared_coeff, sy_normal(&rs));
        sy_rng_init(&rs, r->o->seed, (uint32_t)j, SY_S_SHARED_KAP, 0);
        for (int c = 0; c < p->ncentres; c++)
            r->shared_kap[(size_t)j * p->ncentres + c] =
                lognormal_factor(p->sigma_shared_kap, sy_normal(&rs));
    }
}


/* The key that pseudonymises the default output: HMAC-SHA-256 with the
 * fixed key "harmonic synthetic cohort key" of the message "seed:<S>"
 * (docs/synth.md), so anyone can rebuild it; it protects nothing. */
static void derived_key(uint64_t seed, hm_pseudo_key *key)
{
    static const char k[] = "harmonic synthetic cohort key";
    char msg[64];
    snprintf(msg, sizeof msg, "seed:%llu", (unsigned long long)seed);
    unsigned char raw[32];
    hm_pseudo_hmac_sha256(k, sizeof k - 1, msg, strlen(msg), raw);
    hm_pseudo_key_from_bytes(key, raw, sizeof raw, 1, NULL);
}

static void remove_tree(const char *dir, const sy_params *p)
{
    char path[4200];
    for (int c = 0; c < p->ncentres; c++) {
        static const char *const files[] = { "centre", "patient", "procedure",
                                             "irradiation_event", "organ_dose",
                                             "truth_organ_dose", "outcome", "followup" };
        for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
            snprintf(path, sizeof path, "%s/%s/%s.csv", dir, p->centres[c].code, files[f]);
            unlink(path);
        }
        snprintf(path, sizeof path, "%s/%s", dir, p->centres[c].code);
        rmdir(path);
    }
    snprintf(path, sizeof path, "%s/centres.csv", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/truth.json", dir);
    unlink(path);
    rmdir(dir);
}

int hm_synth_run(const hm_synth_opts *o, hm_synth_summary *s, hm_error *err)
{
    return hm_synth_run_with_key(o, NULL, s, err);
}

int hm_synth_run_with_key(const hm_synth_opts *o, const hm_pseudo_key *key,
                          hm_synth_summary *s, hm_error *err)
{
    memset(s, 0, sizeof *s);
    double t0 = hm_now_s();
    if (o->n_patients < (o->rt_patients > 0 ? 0 : 1) || o->n_patients > 100000000L)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "--patients",
                            "%ld: expected 1..100000000 (0 only with --rt-patients)",
                            o->n_patients);
    if (o->rt_patients < 0 || o->rt_patients > 100000L)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "--rt-patients",
                            "%ld: expected 0..100000", o->rt_patients);
    if (o->realizations < 0 || o->realizations > 1000)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "--realizations",
                            "%d: expected 0..1000", o->realizations);
    if (!isfinite(o->err_per_100mgy) || o->err_per_100mgy < 0 || o->err_per_100mgy > 1000)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "--true-err-per-100mgy",
                            "%g: expected 0..1000", o->err_per_100mgy);
    run *r = calloc(1, sizeof *r);
    if (!r)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    r->o = o;
    r->s = s;
    r->R = o->realizations;
    int rc = sy_params_load(&r->p, err);
    if (rc == HM_OK)
        rc = set_truth(r, err);
    for (int i = 0; rc == HM_OK && i < r->p.norgans; i++)
        r->write_organ[i] = !o->organs || hm_list_has(o->organs, ',', r->p.organs[i].organ);
    for (const char *q = o->organs; rc == HM_OK && q && *q;) {
        const char *e = strchr(q, ',');
        size_t len = e ? (size_t)(e - q) : strlen(q);
        int found = 0;
        for (int i = 0; i < r->p.norgans; i++)
            found |= strlen(r->p.organs[i].organ) == len && !strncmp(r->p.organs[i].organ, q, len);
        if (!found)
            rc = hm_error_set(err, HM_EINVAL, NULL, 0, "--organs",
                              "'%.*s' has no dose ratio in data/synth/organ_ratios.csv",
                              (int)len, q);
        q = e ? e + 1 : q + len;
    }
    if (rc) {
        free(r);
        return rc;
    }
    /* Build the cohort in DIR.tmp.XXXXXX, renamed to DIR when complete. */
    struct stat st;
    if (stat(o->out_dir, &st) == 0) {
        free(r);
        return hm_error_set(err, HM_EIO, o->out_dir, 0, NULL,
                            "already exists; refusing to overwrite (choose a new --out)");
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", o->out_dir);
    if (!mkdtemp(tmp)) {
        free(r);
        return hm_error_set(err, HM_EIO, o->out_dir, 0, NULL, "cannot create a folder: %s",
                            strerror(errno));
    }
    hm_pseudo_key k;
    if (key)
        k = *key;
    else
        derived_key(o->seed, &k);
    r->shared_coeff = calloc((size_t)(r->R + 1) * r->p.nepk * r->p.norgans, sizeof(double));
    r->shared_kap = calloc((size_t)(r->R + 1) * r->p.ncentres, sizeof(double));
    sy_patient *pt = malloc(sizeof *pt);
    if (!r->shared_coeff || !r->shared_kap || !pt)
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    if (rc == HM_OK) {
        shared_errors(r);
        if (o->n_patients > 0)
            rc = sy_out_open(&r->out, &r->p, tmp, o->hospital_format, o->doses_to_truth, &k,
                             err);
    }
    for (long i = 0; rc == HM_OK && i < o->n_patients; i++) {
        sy_simulate(&r->p, &r->truth, o->seed, i, pt);
        rc = write_patient(r, pt, err);
    }
    int rc2 = sy_out_close(&r->out, err);
    if (rc == HM_OK)
        rc = rc2;
    /* Radiotherapy patients after the cardiac ones, from streams of their own. */
    if (rc == HM_OK)
        rc = sy_rt_run(o, &r->p, &k, tmp, o->n_patients == 0, s, err);
    /* The biobank sub-study last, from streams of its own (off by default). */
    if (rc == HM_OK)
        rc = sy_bio_run(o, &r->p, &k, tmp, s, err);
    s->seconds = hm_now_s() - t0;
    char path[4200];
    snprintf(path, sizeof path, "%s/truth.json", tmp);
    if (rc == HM_OK)
        rc = sy_write_truth(path, o, &r->p, &r->truth, s, err);
    if (rc == HM_OK && rename(tmp, o->out_dir) != 0)
        rc = hm_error_set(err, HM_EIO, o->out_dir, 0, NULL, "cannot rename %s: %s", tmp,
                          strerror(errno));
    if (rc != HM_OK && (o->rt_patients > 0 || o->biobank))
        sy_rt_remove_tree(tmp);   /* the course folders too */
    else if (rc != HM_OK)
        remove_tree(tmp, &r->p);
    hm_pseudo_key_wipe(&k);
    free(pt);
    free(r->shared_coeff);
    free(r->shared_kap);
    free(r);
    return rc;
}
