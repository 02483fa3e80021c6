/*
 * run.c — `harmonic dose cohort`: two passes over the registry.
 *
 * Pass 1 derives, from the cohort itself, what tiers 2 and 3 need: the
 * tier-1 procedures' organ doses per KAP by class, and every dosed
 * procedure's KAP by class (tiers.c).  Every process makes this pass whole,
 * so under MPI each rank holds the same tables without exchanging them.
 * Pass 2 computes each procedure's best estimate and realizations and
 * writes them with its dose_event and dose_procedure rows and its
 * dose_run_done mark in one transaction (hm_dose_writer), so a killed run
 * leaves only whole procedures and a rerun skips them.  Procedure i of the
 * byte-ordered list belongs to rank i mod nranks; the ranks write to the
 * same registry (SQLite serialises the writers through its lock; BEGIN
 * IMMEDIATE waits for it).
 */
#include "doserun_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char HM_DOSERUN_DEFAULT_ORGANS[] =
    "red_marrow,lung,heart,oesophagus,breast,thyroid,stomach,liver,colon,bone_surface,brain,"
    "skin,thymus,ovaries,testes";

void hm_doserun_opts_default(hm_doserun_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->realizations = 200;
    o->align = HM_ALIGN_HEART;
    o->tier2_min_n = 10;
    o->commit_every = 200;
    o->nranks = 1;
    o->skin_cell_cm = 2;
}

enum { NAGES = HM_DOSIMETRY_NAGE_CLASSES };

typedef struct run {
    const hm_doserun_engine *engine;
    const hm_doserun_opts   *o;
    hm_doserun_summary      *s;
    hm_db                   *db;
    const char              *url;
    hm_dosimetry_device      defaults;
    dr_devices              *devices;
    hm_dose_uncertainty      unc;
    hm_tier2                *t2;
    hm_tier3                *t3;
    size_t                   norgans;          /* stored organs */
    char                     organ[DR_MAX_ORGANS][32];
    int                      at[DR_MAX_ORGANS];   /* index in a procedure result, -1 unknown */
    int                      mapped;
    hm_dosimetry_beam_fn     fn[NAGES];
    void                    *fn_ctx[NAGES];
    char                     run_id[128];
    /* done procedures of an earlier, interrupted run: sorted "centre\tid" */
    char                   **done;
    size_t                   ndone;
    float                   *real;             /* norgans x R */
    /* Skin dose: the phantoms' surfaces by age class and sex (H, M, F). */
    hm_voxel_phantom         skin_v[NAGES][3];
    hm_skin_map             *skin_m[NAGES][3];
} run;

/* The skin map of an age class and sex, its phantom built on first use
 * (5 mm voxels: the surface, not the organs, matters here). */
static int skin_map_for(run *r, const char *age, char sex, hm_skin_map **m, hm_error *err)
{
    int a = hm_dosimetry_age_class_index(age), s = !strcmp(age, "15y") ? (sex == 'F' ? 2 : 1) : 0;
    if (a < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age", "no phantom for '%s'", age);
    if (!r->skin_m[a][s]) {
        hm_phantom *p;
        int rc = hm_phantom_build(age, "HMF"[s], &p, err);
        if (rc == HM_OK)
            rc = hm_phantom_voxelise_cached(p, 5, NULL, &r->skin_v[a][s], NULL, err);
        if (rc == HM_OK || p)
            hm_phantom_free(p);
        if (rc == HM_OK)
            rc = hm_skin_map_new(&r->skin_v[a][s], r->o->skin_cell_cm, NULL, &r->skin_m[a][s], err);
        if (rc)
            return rc;
    }
    hm_skin_map_clear(r->skin_m[a][s]);
    *m = r->skin_m[a][s];
    return HM_OK;
}

/* The procedure's skin map (events with a reference-point air kerma or a
 * KAP), its peak, and the packed map for dose_procedure. */
static int skin_dose(run *r, const dr_proc *p, const char *age, const hm_dosimetry_device *dev,
                     double *psd, float **cells, size_t *ncells, hm_error *err)
{
    hm_skin_map *m = NULL;
    int rc = skin_map_for(r, age, p->sex, &m, err);
    for (size_t i = 0; rc == HM_OK && i < p->nevents; i++) {
        const hm_dosimetry_event *e = &p->events[i];
        if (!isfinite(e->rp_air_kerma_mgy) && !isfinite(e->kap_gy_cm2))
            continue;
        hm_dosimetry_beam b;
        unsigned imp;
        rc = hm_dosimetry_event_beam(e, i ? &p->events[i - 1] : NULL, dev, r->o->align,
                                     r->o->align == HM_ALIGN_TABLE ? &p->events[0] : NULL, &b, &imp,
                                     err);
        if (rc == HM_OK)
            rc = hm_skin_map_add_event(m, &b, e->rp_air_kerma_mgy, e->kap_gy_cm2, dev, err);
    }
    double where[3];
    hm_skin_grid g;
    if (rc == HM_OK)
        rc = hm_skin_map_peak(m, psd, where);
    if (rc == HM_OK)
        rc = hm_skin_map_pack(m, cells, ncells, &g, err);
    return rc;
}


static int engine_for(run *r, const char *age, double lateral_scale, hm_dosimetry_beam_fn *fn,
                      void **ctx, hm_error *err)
{
    int i = hm_dosimetry_age_class_index(age);
    if (i < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age", "no phantom for age class '%s'", age);
    /* The reference phantom's engine is asked for once per class; a sized
     * one per procedure (the engine keeps what it builds). */
    if (!r->fn[i] || lateral_scale != 1) {
        hm_dosimetry_beam_fn f;
        void *c;
        int rc = r->engine->for_age(r->engine->ctx, age, lateral_scale, &f, &c, err);
        if (rc)
            return rc;
        if (lateral_scale != 1) {
            *fn = f;
            *ctx = c;
            return HM_OK;
        }
        r->fn[i] = f;
        r->fn_ctx[i] = c;
    }
    *fn = r->fn[i];
    *ctx = r->fn_ctx[i];
    return HM_OK;
}

static int parse_organs(run *r, const char *list, hm_error *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list ? list : HM_DOSERUN_DEFAULT_ORGANS);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (r->norgans == DR_MAX_ORGANS)
            return hm_error_set(err, HM_EINVAL, NULL, 0, "organs", "at most %d organs", DR_MAX_ORGANS);
        snprintf(r->organ[r->norgans++], sizeof r->organ[0], "%s", tok);
    }
    if (!r->norgans)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "organs", "no organ to store");
    return HM_OK;
}

/* The stored organs' positions in the procedure results (the same list for
 * every phantom: data/organs.csv). */
static int map_organs(run *r, const hm_dosimetry_procedure_dose *d, hm_error *err)
{
    for (size_t k = 0; k < r->norgans; k++) {
        r->at[k] = -1;
        for (size_t o = 0; o < d->norgans; o++)
            if (!strcmp(d->organ[o], r->organ[k]))
                r->at[k] = (int)o;
        if (r->at[k] < 0)
            return hm_error_set(err, HM_EINVAL, NULL, 0, "organs",
                                "'%s' is not an organ of data/organs.csv", r->organ[k]);
    }
    r->mapped = 1;
    return HM_OK;
}

/* Stored organs and E of a procedure's events (dose[norgans], then E). */
typedef struct tier1 {
    hm_dosimetry_procedure_dose d;
    double kap;                    /* calibrated, over events */
    double dose[DR_MAX_ORGANS + 1];
    int    geometry_imputed;
    int    size_known;             /* opts.size: 1 scaled, 0 no height/weight; -1 not asked */
} tier1;

static int dose_tier1(run *r, const dr_proc *p, const char *age, const hm_dosimetry_device *dev,
                      tier1 *t, hm_error *err)
{
    memset(t, 0, sizeof *t);
    hm_dosimetry_beam_fn fn = NULL;
    void *ctx = NULL;
    double scale = 1;
    int rc = HM_OK;
    t->size_known = -1;
    if (r->o->size)
        rc = hm_doserun_lateral_scale(age, p->sex, p->height_cm, p->weight_kg, &scale, &t->size_known, err);
    if (rc == HM_OK)
        rc = engine_for(r, age, scale, &fn, &ctx, err);
    if (rc == HM_OK)
        rc = hm_dosimetry_procedure(p->events, p->nevents, dev, r->o->align, age, p->sex, fn, ctx,
                                    &t->d, err);
    if (rc == HM_OK && !r->mapped)
        rc = map_organs(r, &t->d, err);
    if (rc) {
        if (err && !err->file[0])
            snprintf(err->file, sizeof err->file, "procedure %.32s/%.200s", p->centre, p->procedure_id);
        return rc;
    }
    t->kap = t->d.kap_gy_cm2;
    for (size_t k = 0; k < r->norgans; k++)
        t->dose[k] = t->d.dose_mgy[r->at[k]];
    t->dose[r->norgans] = t->d.effective_msv;
    unsigned geom = HM_IMPUTED_ANGLES | HM_IMPUTED_FIELD | HM_IMPUTED_SID | HM_IMPUTED_SDD
                  | HM_IMPUTED_POSITION;
    for (size_t i = 0; i < t->d.nevents; i++)
        if (t->d.events[i].imputed & geom)
            t->geometry_imputed = 1;
    return HM_OK;
}

/* ------------------------------------------------------------ pass 1 */

static int pass_tiers(run *r, hm_error *err)
{
    dr_reader *rd;
    int rc = dr_reader_open_url(r->url, hm_db_kind(r->db) == HM_DB_POSTGRES, &rd, err);
    if (rc)
        return rc;
    dr_proc *p;
    long n = 0;
    while ((rc = dr_reader_next(rd, &p, err)) == 1) {
        rc = HM_OK;
        if (r->o->max_procedures && n++ >= r->o->max_procedures)
            break;
        const char *age = hm_dosimetry_age_class(p->age_days);
        if (!age)
            continue;
        hm_dosimetry_device dev;
        int known;
        dr_devices_get(r->devices, &r->defaults, p, &dev, &known);
        double kap = 0;
        if (p->nevents) {
            tier1 t;
            if ((rc = dose_tier1(r, p, age, &dev, &t, err)))
                break;
            kap = t.kap;
            if (kap > 0)
                rc = hm_tier2_add(r->t2, age, p->sex, p->exam, kap, t.dose, err);
            hm_dosimetry_procedure_free(&t.d);
        } else if (p->kap_total_gy_cm2 > 0) {
            kap = p->kap_total_gy_cm2 * dev.kap_calibration;
        }
        if (rc == HM_OK && kap > 0)
            rc = hm_tier3_add(r->t3, age, p->exam, p->country, hm_dosimetry_era(p->year), kap, err);
        if (rc)
            break;
    }
    dr_reader_close(rd);
    if (rc < 0)
        return rc;
    if ((rc = hm_tier2_finish(r->t2, r->o->tier2_min_n, err)))
        return rc;
    return hm_tier3_finish(r->t3, r->o->tier2_min_n, err);
}

/* ------------------------------------------------------------ pass 2 */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_done(run *r, hm_error *err)
{
    hm_stmt *st;
    int rc = hm_db_prepare(r->db, "SELECT centre_code, procedure_id FROM dose_run_done WHERE run_id = ?",
                           &st, err);
    if (rc)
        return rc;
    hm_stmt_bind_text(st, 1, r->run_id);
    size_t cap = 0;
    while ((rc = hm_stmt_step(st, err)) == 1) {
        if (r->ndone == cap) {
            cap = cap ? 2 * cap : 1024;
            char **d = realloc(r->done, cap * sizeof *d);
            if (!d) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            r->done = d;
        }
        char key[256];
        snprintf(key, sizeof key, "%s\t%s", hm_stmt_column_text(st, 0), hm_stmt_column_text(st, 1));
        if (!(r->done[r->ndone] = strdup(key))) {
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
            break;
        }
        r->ndone++;
    }
    hm_stmt_finalize(st);
    if (rc < 0)
        return rc;
    if (r->ndone > 1)      /* qsort of NULL, even of 0 elements, is undefined */
        qsort(r->done, r->ndone, sizeof *r->done, cmp_str);
    return HM_OK;
}

static int is_done(const run *r, const dr_proc *p)
{
    if (!r->ndone)
        return 0;
    char key[256], *k = key;
    snprintf(key, sizeof key, "%s\t%s", p->centre, p->procedure_id);
    return bsearch(&k, r->done, r->ndone, sizeof *r->done, cmp_str) != NULL;
}

static const char *METHOD[4] = { "", "rdsr_mc", "kap_coefficient", "tier3_sample" };

static int write_organs(run *r, const dr_proc *p, int tier, const double *best, hm_error *err)
{
    static const char *names[] = { "centre_code", "source_type", "source_id", "organ", "method",
                                   "realization", "dose_mgy" };
    int R = r->o->realizations;
    for (size_t k = 0; k < r->norgans; k++) {
        char dose[40];
        snprintf(dose, sizeof dose, "%.9g", best[k]);
        const char *vals[] = { p->centre, "procedure", p->procedure_id, r->organ[k], METHOD[tier],
                               "0", dose };
        int rc = hm_registry_upsert_row(r->db, p->centre, "organ_dose", names, vals, 7, err);
        if (rc == HM_OK && R > 0)
            rc = hm_registry_put_realizations(r->db, p->centre, "procedure", p->procedure_id,
                                              r->organ[k], METHOD[tier], r->run_id,
                                              r->real + k * (size_t)R, R, err);
        if (rc)
            return rc;
        r->s->rows_best++;
        r->s->rows_realizations += R > 0;
    }
    return HM_OK;
}

static int one_procedure(run *r, const dr_proc *p, hm_dose_writer *w, hm_error *err)
{
    const char *age = hm_dosimetry_age_class(p->age_days);
    if (!age)
        return HM_OK;                  /* no age: no phantom (the report counts them) */
    hm_dosimetry_device dev;
    int known;
    dr_devices_get(r->devices, &r->defaults, p, &dev, &known);
    char dev_ent[200], model_ent[200], class_ent[40], proc_ent[200];
    if (p->device_id[0])
        snprintf(dev_ent, sizeof dev_ent, "%s|%s", p->centre, p->device_id);
    else
        snprintf(dev_ent, sizeof dev_ent, "%s|%s|%s", p->centre, p->manufacturer, p->model);
    snprintf(model_ent, sizeof model_ent, "%s|%s", p->manufacturer, p->model);
    snprintf(class_ent, sizeof class_ent, "%s|%c", age, p->sex);
    snprintf(proc_ent, sizeof proc_ent, "%s|%s", p->centre, p->procedure_id);
    double best[DR_MAX_ORGANS + 1], coef[DR_MAX_ORGANS + 1], gi[DR_MAX_ORGANS + 1],
        gc[DR_MAX_ORGANS + 1];
    const char *cls = "";
    tier1 t;
    memset(&t, 0, sizeof t);
    int tier, rc = HM_OK;
    if (p->nevents) {
        tier = 1;
        if ((rc = dose_tier1(r, p, age, &dev, &t, err)))
            return rc;
        memcpy(best, t.dose, sizeof(double) * (r->norgans + 1));
    } else {
        tier = p->kap_total_gy_cm2 > 0 ? 2 : 3;
        rc = hm_tier2_lookup(r->t2, age, p->sex, p->exam, coef, gi, gc, &cls, NULL, err);
        double kap = p->kap_total_gy_cm2 * dev.kap_calibration;
        if (rc == HM_OK && tier == 3)
            rc = hm_tier3_kap(r->t3, age, p->exam, p->country, hm_dosimetry_era(p->year), 0.5, &kap,
                              NULL, NULL, err);
        if (rc)
            return rc;
        for (size_t k = 0; k <= r->norgans; k++)
            best[k] = coef[k] * kap;
    }
    r->s->tier[tier]++;
    /* A tier-1 dose for the child's own height and weight: the individual
     * anatomy error takes its smaller "known" GSD (data/dosimetry/uncertainty.csv);
     * the reference phantom (no --size, or no weight) keeps the larger one. */
    int scaled = tier == 1 && t.size_known == 1;
    if (tier == 1 && t.size_known >= 0)
        r->s->sized += scaled, r->s->size_unknown += !scaled;
    dr_unc_in in = { tier, dev_ent, model_ent, class_ent, cls, proc_ent, known, scaled,
                     t.geometry_imputed, coef, gi, gc, r->t3, age, p->exam, p->country,
                     hm_dosimetry_era(p->year) };
    if (r->o->realizations > 0)
        rc = dr_realize(&in, &r->unc, r->o->seed, r->o->realizations, best, r->norgans, r->real, err);
    if (rc == HM_OK)
        rc = hm_dose_writer_start(w, err);
    if (rc == HM_OK)
        rc = write_organs(r, p, tier, best, err);
    for (size_t i = 0; rc == HM_OK && tier == 1 && i < t.d.nevents; i++) {
        char imp[128];
        hm_dosimetry_imputed_names(t.d.events[i].imputed, imp, sizeof imp);
        hm_dose_event_row ev = { p->centre, p->procedure_id, p->uid[i], r->run_id, imp,
                                 r->engine->method, t.d.events[i].effective_msv,
                                 t.d.events[i].kap_gy_cm2 };
        rc = hm_registry_put_dose_event(r->db, &ev, err);
        r->s->events++;
        r->s->events_imputed += imp[0] != 0;
    }
    double psd = NAN;
    float *cells = NULL;
    size_t ncells = 0;
    if (rc == HM_OK && tier == 1 && r->o->skin) {
        rc = skin_dose(r, p, age, &dev, &psd, &cells, &ncells, err);
        r->s->skin_maps += rc == HM_OK;
    }
    if (rc == HM_OK) {
        hm_dose_procedure_row pr = { p->centre, p->procedure_id, r->run_id, tier,
                                     best[r->norgans], psd, cells, ncells * sizeof *cells };
        rc = hm_registry_put_dose_procedure(r->db, &pr, err);
    }
    free(cells);
    if (rc == HM_OK)
        rc = hm_dose_writer_done(w, p->centre, p->procedure_id, err);
    hm_dosimetry_procedure_free(&t.d);
    if (rc == HM_OK)
        r->s->procedures++;
    return rc;
}

static int pass_write(run *r, long total, hm_error *err)
{
    hm_dose_writer *w;
    int rc = hm_dose_writer_open(r->db, r->run_id, r->o->commit_every > 0 ? r->o->commit_every : 200,
                                 &w, err);
    if (rc)
        return rc;
    dr_reader *rd;
    if ((rc = dr_reader_open_url(r->url, hm_db_kind(r->db) == HM_DB_POSTGRES, &rd, err))) {
        hm_dose_writer_abort(w);
        return rc;
    }
    dr_proc *p;
    long i = 0, seen = 0;
    double t0 = hm_now_s();
    int nranks = r->o->nranks > 0 ? r->o->nranks : 1;
    while ((rc = dr_reader_next(rd, &p, err)) == 1) {
        rc = HM_OK;
        if (r->o->max_procedures && i >= r->o->max_procedures)
            break;
        long mine = i++ % nranks == r->o->rank;
        if (!mine)
            continue;
        seen++;
        if (is_done(r, p)) {
            r->s->skipped_done++;
            continue;
        }
        if ((rc = one_procedure(r, p, w, err)))
            break;
        if (r->o->progress)        /* after each procedure: the callback rate-limits itself */
            r->o->progress(r->o->progress_arg, seen, total, hm_now_s() - t0);
    }
    dr_reader_close(rd);
    if (rc < 0) {
        hm_dose_writer_abort(w);
        return rc;
    }
    rc = hm_dose_writer_close(w, err);
    if (rc == HM_OK && r->o->progress)
        r->o->progress(r->o->progress_arg, total, total, hm_now_s() - t0);
    return rc;
}

static long count_procedures(hm_db *db, const hm_doserun_opts *o)
{
    hm_stmt *st;
    long n = 0;
    if (hm_db_prepare(db, "SELECT COUNT(*) FROM procedure", &st, NULL))
        return 0;
    if (hm_stmt_step(st, NULL) == 1)
        n = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    if (o->max_procedures && n > o->max_procedures)
        n = o->max_procedures;
    int nranks = o->nranks > 0 ? o->nranks : 1;
    return (n + nranks - 1 - o->rank) / nranks;
}

int hm_doserun_cohort(const char *db_url, const hm_doserun_engine *engine,
                      const hm_doserun_opts *o, hm_doserun_summary *s, hm_error *err)
{
    memset(s, 0, sizeof *s);
    double t0 = hm_now_s();
    run *r = calloc(1, sizeof *r);
    if (!r)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    r->engine = engine;
    r->o = o;
    r->s = s;
    r->url = db_url;
    if (o->run_id && o->run_id[0])
        snprintf(r->run_id, sizeof r->run_id, "%s", o->run_id);
    else
        snprintf(r->run_id, sizeof r->run_id, "%s-seed%llu-r%d%s", engine->id ? engine->id : "engine",
                 (unsigned long long)o->seed, o->realizations, o->size ? "-sized" : "");
    snprintf(s->run_id, sizeof s->run_id, "%s", r->run_id);
    int rc = parse_organs(r, o->organs, err);
    if (rc == HM_OK)
        rc = hm_dose_uncertainty_load(o->uncertainty, &r->unc, err);
    if (rc == HM_OK)
        rc = hm_dosimetry_device_default(&r->defaults, err);
    if (rc == HM_OK)
        rc = hm_db_open(db_url, &r->db, err);
    if (rc == HM_OK)
        rc = dr_devices_load(r->db, &r->devices, err);
    if (rc == HM_OK) {
        r->t2 = hm_tier2_new(r->norgans + 1);      /* the organs, then E */
        r->t3 = hm_tier3_new();
        r->real = calloc(r->norgans * (size_t)(o->realizations > 0 ? o->realizations : 1),
                         sizeof *r->real);
        if (!r->t2 || !r->t3 || !r->real)
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    if (rc == HM_OK) {
        char params[512];
        snprintf(params, sizeof params,
                 "{\"seed\": %llu, \"realizations\": %d, \"engine\": \"%s\", \"method\": \"%s\", "
                 "\"organs\": \"%s\", \"align\": \"%s\", \"tier2_min_n\": %ld, \"size\": %d}",
                 (unsigned long long)o->seed, o->realizations, engine->id ? engine->id : "",
                 engine->method ? engine->method : "", o->organs ? o->organs : HM_DOSERUN_DEFAULT_ORGANS,
                 o->align == HM_ALIGN_TABLE ? "table" : "heart", o->tier2_min_n, o->size);
        rc = hm_dose_run_open(r->db, r->run_id, params, HM_VERSION_STRING,
                              engine->id ? engine->id : "", NULL, err);
    }
    if (rc == HM_OK)
        rc = load_done(r, err);
    if (rc == HM_OK)
        rc = pass_tiers(r, err);
    if (rc == HM_OK)
        rc = pass_write(r, count_procedures(r->db, o), err);
    s->seconds = hm_now_s() - t0;
    for (size_t i = 0; i < r->ndone; i++)
        free(r->done[i]);
    free(r->done);
    free(r->real);
    for (int a = 0; a < NAGES; a++)
        for (int k = 0; k < 3; k++)
            if (r->skin_m[a][k]) {
                hm_skin_map_free(r->skin_m[a][k]);
                hm_voxel_phantom_free(&r->skin_v[a][k]);
            }
    hm_tier2_free(r->t2);
    hm_tier3_free(r->t3);
    dr_devices_free(r->devices);
    hm_db_close(r->db);
    free(r);
    return rc;
}
