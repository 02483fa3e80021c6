/*
 * cmd_dose.c — `harmonic dose rdsr|event`: organ doses per irradiation
 * event and per procedure, and ICRP 103 effective dose, from an RDSR or one
 * event typed in (docs/dosimetry.md).  The work is in hm_dosimetry.
 */
#include "cli.h"
#include "dose_cli.h"
#include "hm_doserun.h"

#include <unistd.h>
#ifdef HM_HAVE_MPI
#include <mpi.h>
#endif

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Organs shown in the per-event table (the highest doses in cardiac work,
 * anchors.md section 2); every organ is in the procedure table and JSON. */
static const char *const SHOWN[] = { "lung", "heart", "oesophagus", "breast", "red_marrow" };
enum { NSHOWN = sizeof SHOWN / sizeof SHOWN[0] };

typedef struct phantoms {
    hm_voxel_phantom h, m, f;
    int have_h, have_m, have_f;
} phantoms;

static void phantoms_free(phantoms *p)
{
    if (p->have_h) hm_voxel_phantom_free(&p->h);
    if (p->have_m) hm_voxel_phantom_free(&p->m);
    if (p->have_f) hm_voxel_phantom_free(&p->f);
}

/* What the phantoms are built from: voxel size, cache, optional scaling. */
typedef struct phantom_spec {
    double      voxel_mm, height_cm, mass_kg;     /* height 0: not scaled */
    const char *cache;
    double      lateral_scale;                    /* 0 or 1: not scaled (cohort --size) */
} phantom_spec;

static phantom_spec spec_of(const hm_args *a, int scaling)
{
    phantom_spec s = { hm_args_num(a, "voxel-mm", 3), 0, 0, hm_args_str(a, "cache-dir", NULL), 0 };
    if (scaling) {
        s.height_cm = hm_args_num(a, "height-cm", 0);
        s.mass_kg = hm_args_num(a, "mass-kg", 0);
    }
    return s;
}

static int one_phantom(const char *age, char sex, const phantom_spec *sp, hm_voxel_phantom *v,
                       hm_error *err)
{
    hm_phantom *p;
    int rc = hm_phantom_build(age, sex, &p, err);
    if (rc == HM_OK && sp->height_cm > 0)
        rc = hm_phantom_scale(p, sp->height_cm, sp->mass_kg, err);
    /* x and y by lateral_scale, z unchanged: the reference height and the
     * mass that hm_phantom_scale turns into that factor. */
    else if (rc == HM_OK && sp->lateral_scale > 0 && sp->lateral_scale != 1)
        rc = hm_phantom_scale(p, hm_phantom_height_cm(p),
                              hm_phantom_mass_kg(p) * sp->lateral_scale * sp->lateral_scale, err);
    if (rc == HM_OK)
        rc = hm_phantom_voxelise_cached(p, sp->voxel_mm, sp->cache, v, NULL, err);
    if (rc == HM_OK || p)
        hm_phantom_free(p);
    return rc;
}

/* The phantoms an age class needs: H below 15 y, M and F from 15. */
static int build_phantoms(const char *age_class, const phantom_spec *sp, phantoms *p, hm_error *err)
{
    memset(p, 0, sizeof *p);
    if (strcmp(age_class, "15y") && strcmp(age_class, "adult")) {
        int rc = one_phantom(age_class, 'H', sp, &p->h, err);
        p->have_h = rc == HM_OK;
        return rc;
    }
    int rc = one_phantom(age_class, 'M', sp, &p->m, err);
    p->have_m = rc == HM_OK;
    if (rc == HM_OK) {
        rc = one_phantom(age_class, 'F', sp, &p->f, err);
        p->have_f = rc == HM_OK;
    }
    return rc;
}

/* Age in days from --age-days, --age-years, else the report's. */
static double age_days_of(const hm_args *a, double report_years)
{
    if (hm_args_count(a, "age-days"))
        return hm_args_num(a, "age-days", 0);
    if (hm_args_count(a, "age-years"))
        return 365.25 * hm_args_num(a, "age-years", 0);
    return isfinite(report_years) ? 365.25 * report_years : NAN;
}

static double organ_of(const hm_dosimetry_procedure_dose *d, const double *v, const char *organ)
{
    for (size_t o = 0; o < d->norgans; o++)
        if (!strcmp(d->organ[o], organ))
            return v[o];
    return NAN;
}

static void print_text(const char *title, const hm_dosimetry_procedure_dose *d,
                       const char *const *labels)
{
    printf("%s\n", title);
    printf("%-5s %-24s %10s %9s", "event", "", "KAP_Gy.cm2", "E_mSv");
    for (int k = 0; k < NSHOWN; k++)
        printf(" %10.10s", SHOWN[k]);
    printf("  imputed\n");
    for (size_t i = 0; i < d->nevents; i++) {
        char imp[128];
        hm_dosimetry_imputed_names(d->events[i].imputed, imp, sizeof imp);
        printf("%-5zu %-24.24s %10.4g %9.4g", i + 1, labels[i], d->events[i].kap_gy_cm2,
               d->events[i].effective_msv);
        for (int k = 0; k < NSHOWN; k++)
            printf(" %10.4g", organ_of(d, d->event_dose_mgy + i * d->norgans, SHOWN[k]));
        printf("  %s%s\n", imp[0] ? imp : "-", d->events[i].no_kap ? " (no KAP: 0)" : "");
    }
    printf("\nprocedure: KAP %.4g Gy cm2 (calibrated), effective dose %.4g mSv (ICRP 103)\n",
           d->kap_gy_cm2, d->effective_msv);
    printf("%-18s %12s %12s\n", "organ", "dose_mGy", "sigma_mGy");
    for (size_t o = 0; o < d->norgans; o++)
        printf("%-18s %12.5g %12.3g\n", d->organ[o], d->dose_mgy[o], d->sigma_mgy[o]);
}

static json_t *organs_json(const hm_dosimetry_procedure_dose *d, const double *v)
{
    json_t *o = json_object();
    for (size_t k = 0; k < d->norgans; k++)
        json_object_set_new(o, d->organ[k], json_real(v[k]));
    return o;
}

static void print_json(const char *source, const char *age_class, char sex,
                       const hm_dosimetry_procedure_dose *d, const char *const *uids)
{
    json_t *root = json_object(), *ev = json_array();
    json_object_set_new(root, "source", json_string(source));
    json_object_set_new(root, "age_class", json_string(age_class));
    char sx[2] = { sex, 0 };
    json_object_set_new(root, "sex", json_string(sx));
    for (size_t i = 0; i < d->nevents; i++) {
        json_t *e = json_object();
        char imp[128];
        hm_dosimetry_imputed_names(d->events[i].imputed, imp, sizeof imp);
        json_object_set_new(e, "event", json_string(uids[i]));
        json_object_set_new(e, "imputed", json_string(imp));
        json_object_set_new(e, "kap_gy_cm2", json_real(d->events[i].kap_gy_cm2));
        json_object_set_new(e, "effective_dose_msv", json_real(d->events[i].effective_msv));
        json_object_set_new(e, "organ_dose_mgy", organs_json(d, d->event_dose_mgy + i * d->norgans));
        json_array_append_new(ev, e);
    }
    json_object_set_new(root, "events", ev);
    json_t *p = json_object();
    json_object_set_new(p, "kap_gy_cm2", json_real(d->kap_gy_cm2));
    json_object_set_new(p, "effective_dose_msv", json_real(d->effective_msv));
    json_object_set_new(p, "organ_dose_mgy", organs_json(d, d->dose_mgy));
    json_object_set_new(p, "organ_dose_sigma_mgy", organs_json(d, d->sigma_mgy));
    json_object_set_new(root, "procedure", p);
    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', stdout);
    json_decref(root);
}

/* ---- the library engine ---- */

static int lib_progress(const hm_dose_progress *pr, void *user)
{
    (void)user;
    static double last = -1;
    if (!isatty(2) || (pr->done < pr->total && pr->elapsed_s - last < 0.5))
        return 0;
    last = pr->elapsed_s;
    fprintf(stderr, "\rlibrary: %zu/%zu nodes (%s), %.0f s, ETA %.0f s   ", pr->done, pr->total,
            pr->phantom ? pr->phantom : "", pr->elapsed_s, pr->eta_s);
    if (pr->done >= pr->total)
        fputc('\n', stderr);
    return 0;
}

/* --library FILE, or "default" (built into the cache when missing). */
static int open_library(const hm_args *a, hm_dose_library **lib, hm_error *err)
{
    const char *path = hm_args_str(a, "library", NULL);
    char buf[4096];
    if (!strcmp(path, "default")) {
        int rc = hm_dose_library_ensure_default((int)hm_args_int(a, "threads", 1), lib_progress, NULL,
                                                buf, sizeof buf, err);
        if (rc)
            return rc;
        path = buf;
    }
    return hm_dose_library_load(path, lib, err);
}

/* Shared by both sub-commands: phantoms, the direct engine, the run. */
static int run_events(const hm_args *a, const char *source, const hm_dosimetry_event *ev,
                      size_t n, const char *const *labels, double age_days, char sex)
{
    hm_error err;
    hm_error_clear(&err);
    const char *age_class = hm_dosimetry_age_class(age_days);
    if (!age_class)
        return hm_cli_usage_error(a, "the patient's age is not known: give --age-years or --age-days");
    if ((hm_args_count(a, "height-cm") > 0) != (hm_args_count(a, "mass-kg") > 0))
        return hm_cli_usage_error(a, "--height-cm and --mass-kg go together");
    hm_dosimetry_device dev;
    if (hm_dosimetry_device_default(&dev, &err))
        return hm_cli_report(&err);
    if (hm_args_count(a, "kap-calibration"))
        dev.kap_calibration = hm_args_num(a, "kap-calibration", 1);
    hm_dose_library *lib = NULL;
    hm_dose_library_beam lc = { .lib = NULL, .age = age_class };
    if (hm_args_count(a, "library")) {
        /* The patient's size: between the library's scaled phantoms
         * (hm_dose_library_lookup_sized), flagged when it has none. */
        int known = 0;
        if (hm_args_count(a, "height-cm") &&
            hm_doserun_lateral_scale(age_class, sex, hm_args_num(a, "height-cm", 0),
                                     hm_args_num(a, "mass-kg", 0), &lc.lateral_scale, &known, &err))
            return hm_cli_report(&err);
        if (open_library(a, &lib, &err))
            return hm_cli_report(&err);
        lc.lib = lib;
    }
    phantoms ph;
    memset(&ph, 0, sizeof ph);
    phantom_spec sp = spec_of(a, 1);
    if (!lib && build_phantoms(age_class, &sp, &ph, &err)) {
        phantoms_free(&ph);
        return hm_cli_report(&err);
    }
    hm_dosimetry_direct direct = {
        ph.have_h ? &ph.h : NULL, ph.have_m ? &ph.m : NULL, ph.have_f ? &ph.f : NULL,
        { hm_args_int(a, "histories", 200000), (uint64_t)hm_args_int(a, "seed", 1),
          (int)hm_args_int(a, "threads", 1) } };
    hm_dosimetry_align align = !strcmp(hm_args_str(a, "align", "heart"), "table") ? HM_ALIGN_TABLE
                                                                                  : HM_ALIGN_HEART;
    hm_dosimetry_procedure_dose d;
    int rc = hm_dosimetry_procedure(ev, n, &dev, align, age_class, sex,
                                    lib ? hm_dose_library_beam_fn : hm_dosimetry_direct_fn,
                                    lib ? (void *)&lc : (void *)&direct, &d, &err);
    phantoms_free(&ph);
    if (lc.out_of_grid)
        fprintf(stderr, "harmonic: %ld of %ld beams lay outside the library's grid (clamped to its "
                        "edge; --direct simulates them)\n", lc.out_of_grid, lc.lookups);
    if (rc) {
        hm_dose_library_free(lib);
        if (!err.file[0])
            snprintf(err.file, sizeof err.file, "%.255s", source);
        return hm_cli_report(&err);
    }
    if (hm_args_flag(a, "json")) {
        print_json(source, age_class, sex, &d, labels);
    } else {
        char title[512];
        if (lc.lib)
            snprintf(title, sizeof title, "%s: %zu event%s, age class %s, sex %c, library %s",
                     source, n, n == 1 ? "" : "s", age_class, sex,
                     hm_dose_library_get_info(lc.lib)->library_id);
        else
            snprintf(title, sizeof title, "%s: %zu event%s, age class %s, sex %c, direct Monte "
                     "Carlo (%lld histories per event and phantom)", source, n, n == 1 ? "" : "s",
                     age_class, sex, (long long)direct.params.histories);
        print_text(title, &d, labels);
    }
    hm_dosimetry_procedure_free(&d);
    hm_dose_library_free(lib);
    return 0;
}

static char sex_of(const hm_args *a, const char *report_sex)
{
    const char *s = hm_args_str(a, "sex", NULL);
    if (!s)
        s = report_sex;
    return s && (s[0] == 'M' || s[0] == 'F') ? s[0] : 'U';
}

/* Reads an RDSR; 0 with *rep, else the exit status (reported). */
static int read_report(const char *path, hm_rdsr_report **rep)
{
    hm_error err;
    hm_error_clear(&err);
    hm_rdsr_ctx *ctx = hm_rdsr_ctx_new(&err);
    if (!ctx)
        return hm_cli_report(&err);
    *rep = NULL;
    int rc = hm_rdsr_read_file(ctx, path, rep, &err);
    hm_rdsr_ctx_free(ctx);
    return rc ? hm_cli_report(&err) : 0;
}

static int run_rdsr(const hm_args *a)
{
    const char *path = a->pos[0];
    hm_rdsr_report *rep;
    int rc = read_report(path, &rep);
    if (rc)
        return rc;
    if (!rep->nevents) {
        hm_rdsr_report_free(rep);
        fprintf(stderr, "harmonic: %s: the report has no irradiation event (TID 10003)\n", path);
        return 1;
    }
    hm_dosimetry_event *ev = calloc(rep->nevents, sizeof *ev);
    char (*labels)[72] = calloc(rep->nevents, sizeof *labels);   /* a UID: 64 */
    const char **lab = calloc(rep->nevents, sizeof *lab);
    if (!ev || !labels || !lab) {
        free(ev); free(labels); free(lab);
        hm_rdsr_report_free(rep);
        return hm_cli_report(&(hm_error){ .code = HM_ENOMEM, .msg = "out of memory" });
    }
    int json = hm_args_flag(a, "json");
    for (size_t i = 0; i < rep->nevents; i++) {
        const hm_rdsr_event *r = &rep->events[i];
        hm_cli_rdsr_event(r, &ev[i]);
        if (json)
            snprintf(labels[i], sizeof labels[i], "%.67s", r->uid);
        else {
            /* "Fluoroscopy 72kV +30/-10", "?" for what the event lacks (a label: cut to fit) */
            char kv[8] = "?kV", ang[12] = "?/?";
            if (isfinite(r->kvp_kv) && fabs(r->kvp_kv) < 1000)
                snprintf(kv, sizeof kv, "%.0fkV", r->kvp_kv);
            if (isfinite(r->primary_angle_deg) && isfinite(r->secondary_angle_deg)
                && fabs(r->primary_angle_deg) < 1000 && fabs(r->secondary_angle_deg) < 1000)
                snprintf(ang, sizeof ang, "%+.0f/%+.0f", r->primary_angle_deg, r->secondary_angle_deg);
            snprintf(labels[i], sizeof labels[i], "%.13s %.7s %.11s", r->type, kv, ang);
        }
        lab[i] = labels[i];
    }
    rc = run_events(a, path, ev, rep->nevents, lab, age_days_of(a, rep->age_years),
                    sex_of(a, rep->sex));
    free(ev);
    free(labels);
    free(lab);
    hm_rdsr_report_free(rep);
    return rc;
}

static int run_event(const hm_args *a)
{
    hm_dosimetry_event e;
    hm_dosimetry_event_init(&e);
    struct { const char *opt; double *dst; } nums[] = {
        { "kvp", &e.kvp }, { "filter-al", &e.filter_al_mm }, { "filter-cu", &e.filter_cu_mm },
        { "primary", &e.primary_angle_deg }, { "secondary", &e.secondary_angle_deg },
        { "sid-mm", &e.source_isocentre_mm }, { "sdd-mm", &e.source_detector_mm },
        { "kap", &e.kap_gy_cm2 }, { "rp-mgy", &e.rp_air_kerma_mgy },
        { "field-area-cm2", &e.field_area_cm2 },
    };
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
        if (hm_args_count(a, nums[k].opt))
            *nums[k].dst = hm_args_num(a, nums[k].opt, NAN);
    const hm_arg_value *fv;
    if (hm_args_values(a, "field-mm", &fv) == 2) {
        e.field_width_mm = fv[0].number;
        e.field_height_mm = fv[1].number;
    }
    if (!hm_args_count(a, "kap"))
        e.kap_gy_cm2 = 1;                   /* doses per Gy cm2 */
    e.orientation = hm_args_str(a, "position", NULL);
    const char *label = "event";
    return run_events(a, "event", &e, 1, &label, age_days_of(a, NAN), sex_of(a, NULL));
}

#define O_PATIENT                                                                             \
    HM_OPT_NUM("age-years", "Y", "age at the procedure (years)", "the report's", 0, 30),      \
    HM_OPT_NUM("age-days", "D", "age at the procedure (days)", "the report's", 0, 11000),     \
    HM_OPT_CHOICE("sex", "S", "the patient's sex (U: unknown)", "the report's, else U",       \
                  "M|F|U"),                                                                   \
    HM_OPT_NUM("height-cm", "H", "scale the phantom to this height (with --mass-kg)", NULL,  \
               20, 250),                                                                      \
    HM_OPT_NUM("mass-kg", "M", "scale the phantom to this mass (with --height-cm)", NULL,    \
               0.5, 300)
#define O_ENGINE                                                                              \
    HM_OPT_INT("histories", "N", "photon histories per event and phantom", "200000", 1000,   \
               1e10),                                                                         \
    HM_OPT_INT("seed", "S", "random seed", "1", 0, 1e18),                                    \
    HM_OPT_INT("threads", "T", "worker threads", "1", 1, 256),                               \
    { "voxel-mm", 0, HM_OPT_T_NUMBER, "MM", "phantom voxel size (mm)", "3",                  \
      HM_OPT_BOUNDED | HM_OPT_MIN_EXCL, 0, 50, NULL, 0, 0 },                                 \
    HM_OPT_PATH("cache-dir", "D", "where voxelised phantoms are cached", "the user cache folder"), \
    HM_OPT_NUM("kap-calibration", "F", "KAP-meter calibration factor (true/displayed KAP)",  \
               "the device default", 0.1, 10),                                               \
    HM_OPT_CHOICE("align", "A", "isocentre on the heart, or moved by the table positions",   \
                  "heart", "heart|table"),                                                    \
    HM_OPT_PATH("library", "FILE", "organ doses from this conversion-coefficient library "   \
                "(harmonic dose table), or \"default\"", "direct Monte Carlo"),              \
    HM_OPT_FLAG("json", "print the doses as JSON")

static const hm_cli_opt rdsr_opts[] = { O_PATIENT, O_ENGINE, HM_OPT_END };
static const hm_cli_pos rdsr_pos[] = {
    { "FILE.dcm", "an X-ray radiation dose SR (TID 10001)", 1, 1, HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_cmd dose_rdsr = {
    "rdsr", "organ doses per event and per procedure from an RDSR",
    "Every irradiation event becomes a beam on the phantom of the patient's age class\n"
    "(C-arm angles, patient position, field, distances, filtration; missing values are\n"
    "imputed by documented rules and listed), is simulated, and is scaled by its KAP.\n"
    "See docs/dosimetry.md.\n",
    rdsr_opts, rdsr_pos, run_rdsr, NULL, 0
};

static const hm_cli_opt event_opts[] = {
    HM_OPT_NUM("kvp", "KV", "tube voltage", "70 (imputed)", 20, 150),
    HM_OPT_NUM("filter-al", "MM", "added aluminium filtration", "0", 0, 50),
    HM_OPT_NUM("filter-cu", "MM", "added copper filtration", "0", 0, 10),
    HM_OPT_NUM("primary", "DEG", "positioner primary angle (LAO +, RAO -)", "0", -360, 360),
    HM_OPT_NUM("secondary", "DEG", "positioner secondary angle (cranial +, caudal -)", "0", -360, 360),
    HM_OPT_NUM("sid-mm", "MM", "source to isocentre distance", "the device default", 100, 5000),
    HM_OPT_NUM("sdd-mm", "MM", "source to detector distance", "the device default", 100, 5000),
    { "field-mm", 0, HM_OPT_T_NUMBER, "W H", "collimated field at the detector (mm)", NULL,
      HM_OPT_BOUNDED | HM_OPT_MIN_EXCL, 0, 1000, NULL, 2, 0 },
    HM_OPT_NUM("field-area-cm2", "A", "collimated field area at the detector", NULL, 0, 3600),
    HM_OPT_NUM("kap", "GYCM2", "the event's kerma-area product", "1 (doses per Gy cm2)", 0, 1000),
    HM_OPT_NUM("rp-mgy", "MGY", "reference-point air kerma", NULL, 0, 50000),
    HM_OPT_STR("position", "TEXT", "patient position (e.g. HFS, \"feet first prone\")", "HFS"),
    O_PATIENT, O_ENGINE, HM_OPT_END
};
static const hm_cli_cmd dose_event = {
    "event", "organ doses of one irradiation event typed in", NULL, event_opts, NULL,
    run_event, NULL, 0
};

/* ---- dose skin ---- */

static int run_skin(const hm_args *a)
{
    const char *path = a->pos[0], *png = hm_args_str(a, "output", NULL);
    hm_error err;
    hm_error_clear(&err);
    hm_rdsr_report *rep;
    int rc = read_report(path, &rep);
    if (rc)
        return rc;
    const char *age = hm_dosimetry_age_class(age_days_of(a, rep->age_years));
    char sex = sex_of(a, rep->sex);
    if (!age) {
        hm_rdsr_report_free(rep);
        return hm_cli_usage_error(a, "the patient's age is not known: give --age-years or --age-days");
    }
    if ((hm_args_count(a, "height-cm") > 0) != (hm_args_count(a, "mass-kg") > 0)) {
        hm_rdsr_report_free(rep);
        return hm_cli_usage_error(a, "--height-cm and --mass-kg go together");
    }
    /* The skin is one phantom's: the patient's sex from 15 years, else H. */
    char psex = strcmp(age, "15y") ? 'H' : sex == 'F' ? 'F' : 'M';
    phantom_spec sp = spec_of(a, 1);
    hm_voxel_phantom v;
    hm_dosimetry_device dev;
    hm_skin_map *m = NULL;
    rc = hm_dosimetry_device_default(&dev, &err);
    if (rc == HM_OK && hm_args_count(a, "kap-calibration"))
        dev.kap_calibration = hm_args_num(a, "kap-calibration", 1);
    int have_v = 0;
    if (rc == HM_OK && (rc = one_phantom(age, psex, &sp, &v, &err)) == HM_OK)
        have_v = 1;
    hm_skin_options so;
    hm_skin_options_default(&so);
    if (rc == HM_OK)
        rc = hm_skin_map_new(&v, hm_args_num(a, "cell-cm", 1), &so, &m, &err);
    hm_dosimetry_event prev;
    for (size_t i = 0; rc == HM_OK && i < rep->nevents; i++) {
        hm_dosimetry_event e;
        hm_cli_rdsr_event(&rep->events[i], &e);
        hm_dosimetry_beam b;
        unsigned imp;
        rc = hm_dosimetry_event_beam(&e, i ? &prev : NULL, &dev, HM_ALIGN_HEART, NULL, &b, &imp, &err);
        if (rc == HM_OK && (isfinite(e.rp_air_kerma_mgy) || isfinite(e.kap_gy_cm2)))
            rc = hm_skin_map_add_event(m, &b, e.rp_air_kerma_mgy, e.kap_gy_cm2, &dev, &err);
        prev = e;
    }
    double psd = 0, where[3] = { 0, 0, 0 };
    if (rc == HM_OK)
        rc = hm_skin_map_peak(m, &psd, where);
    if (rc == HM_OK && png) {
        char title[300];
        snprintf(title, sizeof title, "%.200s (%s phantom)", path, age);
        rc = hm_skin_map_write_png(m, png, title, &err);
    }
    if (rc == HM_OK) {
        if (hm_args_flag(a, "json"))
            printf("{\"source\": \"%s\", \"age_class\": \"%s\", \"peak_skin_dose_mgy\": %.6g, "
                   "\"peak_at_cm\": [%.2f, %.2f, %.2f], \"reference_point_air_kerma_mgy\": %.6g}\n",
                   path, age, psd, where[0], where[1], where[2], rep->rp_total_mgy);
        else
            printf("%s: peak skin dose %.4g mGy at (%.1f, %.1f, %.1f) cm on the %s phantom "
                   "(total reference-point air kerma %.4g mGy)%s%s\n", path, psd, where[0], where[1],
                   where[2], age, rep->rp_total_mgy, png ? "; map: " : "", png ? png : "");
    }
    hm_skin_map_free(m);
    if (have_v)
        hm_voxel_phantom_free(&v);
    hm_rdsr_report_free(rep);
    return rc ? hm_cli_report(&err) : 0;
}

static const hm_cli_opt skin_opts[] = {
    { "output", 'o', HM_OPT_T_PATH, "MAP.png", "write the skin dose map", NULL, 0, 0, 0, NULL, 0, 0 },
    HM_OPT_NUM("cell-cm", "CM", "skin map cell size", "1", 0.2, 10),
    O_PATIENT,
    { "voxel-mm", 0, HM_OPT_T_NUMBER, "MM", "phantom voxel size (mm)", "3",
      HM_OPT_BOUNDED | HM_OPT_MIN_EXCL, 0, 50, NULL, 0, 0 },
    HM_OPT_PATH("cache-dir", "D", "where voxelised phantoms are cached", "the user cache folder"),
    HM_OPT_NUM("kap-calibration", "F", "KAP-meter calibration factor (true/displayed KAP)",
               "the device default", 0.1, 10),
    HM_OPT_FLAG("json", "print the result as JSON"),
    HM_OPT_END
};
static const hm_cli_cmd dose_skin = {
    "skin", "skin dose map and peak skin dose of an RDSR (as OpenREM's openSkin)",
    "D = K_rp x inverse square x backscatter x f x table transmission on every skin cell the\n"
    "beam reaches first; the map is the body surface unwrapped, front and back (docs/dosimetry.md,\n"
    "\"Skin dose\").\n",
    skin_opts, rdsr_pos, run_skin, NULL, 0
};

/* ---- dose table ---- */

static int run_table(const hm_args *a)
{
    hm_error err;
    hm_error_clear(&err);
    int threads = (int)hm_args_int(a, "threads", 1);
    const char *grid = hm_args_str(a, "grid", NULL), *out = hm_args_str(a, "output", NULL);
    char path[4096];
    double t0 = hm_now_s();
    int rc;
    if (!grid && !out) {
        rc = hm_dose_library_ensure_default(threads, lib_progress, NULL, path, sizeof path, &err);
    } else {
        hm_dose_grid g;
        hm_dose_library_params p;
        hm_dose_library_params_default(&p);
        rc = grid ? hm_dose_grid_read(grid, &g, &p, &err) : hm_dose_grid_default(&g, &p, &err);
        if (rc == HM_OK && hm_args_count(a, "histories"))
            p.histories_per_node = hm_args_int(a, "histories", 0);
        if (rc == HM_OK && hm_args_count(a, "seed"))
            p.seed = (uint64_t)hm_args_int(a, "seed", 1);
        p.threads = threads;
        if (!out)
            return hm_cli_usage_error(a, "--grid needs -o LIBRARY.csv");
        snprintf(path, sizeof path, "%s", out);
        if (rc == HM_OK)
            rc = hm_dose_library_build(&g, &p, path, lib_progress, NULL, &err);
    }
    if (rc)
        return hm_cli_report(&err);
    hm_dose_library *lib;
    if (hm_dose_library_load(path, &lib, &err))
        return hm_cli_report(&err);
    const hm_dose_library_info *in = hm_dose_library_get_info(lib);
    const hm_dose_grid *g = hm_dose_library_grid(lib);
    printf("%s\n  library %s, %zu phantoms x %zu nodes, %lld histories per node, seed %llu, "
           "voxels %.3g mm, built %s by harmonic %s (%.1f s now)\n", path, in->library_id,
           g->nphantoms, hm_dose_grid_nodes(g), in->histories_per_node,
           (unsigned long long)in->seed, in->voxel_mm, in->created, in->harmonic_version,
           hm_now_s() - t0);
    hm_dose_library_free(lib);
    return 0;
}

static const hm_cli_opt table_opts[] = {
    HM_OPT_PATH("grid", "FILE", "the grid (axes, phantoms, histories; docs/dosimetry.md)",
                "data/dosimetry/library_grid_default.csv"),
    { "output", 'o', HM_OPT_T_PATH, "LIBRARY.csv", "where to write the library",
      "the user cache (the default library)", 0, 0, 0, NULL, 0, 0 },
    HM_OPT_INT("histories", "N", "photon histories per node", "the grid's", 1000, 1e10),
    HM_OPT_INT("seed", "S", "random seed", "the grid's", 0, 1e18),
    HM_OPT_INT("threads", "T", "nodes computed in parallel", "1", 1, 256),
    HM_OPT_END
};
static const hm_cli_cmd dose_table = {
    "table", "build a conversion-coefficient library (organ dose per KAP on a grid of beams)",
    "Runs the engine on every node of the grid (phantom x kVp x Cu x angles x field) and\n"
    "writes a versioned file with its provenance.  An interrupted build resumes.  Without\n"
    "--grid and -o: the default library, built once into the user cache and reused.\n",
    table_opts, NULL, run_table, NULL, 0
};

/* ---- dose summary ---- */

static int run_summary(const hm_args *a)
{
    const char *url = hm_args_str(a, "db", "harmonic.db"), *run = hm_args_str(a, "run", NULL);
    hm_error err;
    hm_error_clear(&err);
    char run_id[160];
    if (!run) {                      /* the latest run */
        hm_db *db;
        hm_stmt *st;
        if (hm_db_open(url, &db, &err))
            return hm_cli_report(&err);
        run_id[0] = 0;
        if (!hm_db_prepare(db, "SELECT run_id FROM dose_run ORDER BY created_at DESC, run_id DESC",
                           &st, &err)) {
            if (hm_stmt_step(st, &err) == 1)
                snprintf(run_id, sizeof run_id, "%s", hm_stmt_column_text(st, 0));
            hm_stmt_finalize(st);
        }
        hm_db_close(db);
        if (!run_id[0]) {
            fprintf(stderr, "harmonic: %s: no dose run (harmonic dose cohort)\n", url);
            return 1;
        }
        run = run_id;
    }
    hm_doserun_age_row rows[5];
    if (hm_doserun_summary_by_age(url, run, rows, &err))
        return hm_cli_report(&err);
    printf("dose run %s: tier-1 procedures, dose per KAP by age class (ratio of sums)\n", run);
    printf("%-8s %6s %11s", "age", "n", "E/KAP");
    for (int o = 0; o < HM_DOSERUN_SUMMARY_NORGANS; o++)
        printf(" %11.11s", HM_DOSERUN_SUMMARY_ORGANS[o]);
    printf("   (mSv or mGy per Gy cm2)\n");
    for (int i = 0; i < 5; i++) {
        if (!rows[i].procedures)
            continue;
        printf("%-8s %6ld %11.3g", rows[i].age, rows[i].procedures,
               rows[i].effective_msv / rows[i].kap_gy_cm2);
        for (int o = 0; o < HM_DOSERUN_SUMMARY_NORGANS; o++)
            printf(" %11.3g", rows[i].organ_mgy[o] / rows[i].kap_gy_cm2);
        printf("\n");
    }
    printf("published E/KAP (anchors.md section 2): Karambatsakidou 2009 3.7, 1.9, 1.0, 0.6, 0.4 at "
           "0, 1, 5, 10, 15 y; Ubeda 2017 1.70, 0.89, 0.58, 0.40 at <1, 1-5, 5-10, 10-16 y\n");
    const char *png = hm_args_str(a, "png", NULL);
    if (png) {
        if (hm_doserun_plot_anchors(rows, png, "E/KAP by age: harmonic and the published values",
                                    &err))
            return hm_cli_report(&err);
        printf("plot: %s\n", png);
    }
    return 0;
}

static const hm_cli_opt summary_opts[] = {
    HM_OPT_STR("db", "PATH|URL", "the registry", "harmonic.db"),
    HM_OPT_STR("run", "ID", "the dose run", "the latest"),
    HM_OPT_PATH("png", "FILE", "also draw E/KAP by age against the published values", NULL),
    HM_OPT_END
};
static const hm_cli_cmd dose_summary = {
    "summary", "organ dose and effective dose per KAP by age class, against published values",
    NULL, summary_opts, NULL, run_summary, NULL, 0
};

/* ---- dose cohort ---- */

/* The direct engine: the age classes' phantoms, built when first needed;
 * with --size, phantoms scaled to the patient in steps of SIZE_STEP of the
 * lateral scale (a 2.5 % step changes in-field doses per KAP by about 1-2 %,
 * docs/dosimetry.md), the last NSIZED of them kept. */
#define SIZE_STEP 0.025
enum { NSIZED = 8 };
typedef struct direct_phantoms {
    int                 built, age;         /* age: index of the age class */
    double              scale;
    phantoms            ph;
    hm_dosimetry_direct direct;
} direct_phantoms;
typedef struct direct_engine {
    const hm_args   *a;
    direct_phantoms  ref[5];
    direct_phantoms  sized[NSIZED];
    int              next;                  /* slot of sized[] to reuse */
} direct_engine;

static int direct_build(const direct_engine *de, const char *age, double scale, direct_phantoms *d,
                        hm_error *err)
{
    phantom_spec sp = spec_of(de->a, 0);
    sp.lateral_scale = scale;
    int rc = build_phantoms(age, &sp, &d->ph, err);
    if (rc)
        return rc;
    d->built = 1;
    d->scale = scale;
    d->direct = (hm_dosimetry_direct){
        d->ph.have_h ? &d->ph.h : NULL, d->ph.have_m ? &d->ph.m : NULL, d->ph.have_f ? &d->ph.f : NULL,
        { hm_args_int(de->a, "histories", 200000), (uint64_t)hm_args_int(de->a, "seed", 1),
          (int)hm_args_int(de->a, "threads", 1) } };
    return HM_OK;
}

static void direct_free(direct_engine *de)
{
    for (int i = 0; i < 5; i++)
        if (de->ref[i].built)
            phantoms_free(&de->ref[i].ph);
    for (int i = 0; i < NSIZED; i++)
        if (de->sized[i].built)
            phantoms_free(&de->sized[i].ph);
}

static int direct_for_age(void *ctx, const char *age, double lateral_scale, hm_dosimetry_beam_fn *fn,
                          void **fn_ctx, hm_error *err)
{
    direct_engine *de = ctx;
    int i = hm_dosimetry_age_class_index(age);
    if (i < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age", "no phantom for '%s'", age);
    double step = round(lateral_scale / SIZE_STEP) * SIZE_STEP;
    direct_phantoms *d = &de->ref[i];
    if (fabs(step - 1) > 1e-9) {
        /* The phantom is a function of (age class, scale step): found among
         * those kept, else built in the oldest slot. */
        int k = 0;
        while (k < NSIZED && !(de->sized[k].built && de->sized[k].age == i && de->sized[k].scale == step))
            k++;
        if (k < NSIZED) {
            d = &de->sized[k];
        } else {
            d = &de->sized[de->next];
            de->next = (de->next + 1) % NSIZED;
            if (d->built)
                phantoms_free(&d->ph);
            memset(d, 0, sizeof *d);
            int rc = direct_build(de, age, step, d, err);
            if (rc)
                return rc;
            d->age = i;
        }
    } else if (!d->built) {
        int rc = direct_build(de, age, 1, d, err);
        if (rc)
            return rc;
    }
    *fn = hm_dosimetry_direct_fn;
    *fn_ctx = &d->direct;
    return HM_OK;
}

/* A progress bar with the ETA, on a terminal only. */
static void cohort_progress(void *arg, long done, long total, double seconds)
{
    (void)arg;
    static double last = -1;
    if (done < total && seconds - last < 0.25)
        return;
    last = seconds;
    double f = total > 0 ? (double)done / (double)total : 1;
    int w = 30, n = (int)(f * w + 0.5);
    double eta = f > 0 ? seconds * (1 - f) / f : 0;
    fprintf(stderr, "\r[%.*s%*s] %5.1f%%  %ld/%ld procedures  %.0f s, ETA %.0f s ", n,
            "==============================", w - n, "", 100 * f, done, total, seconds, eta);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int run_cohort(const hm_args *a)
{
    const char *url = hm_args_str(a, "db", "harmonic.db");
    hm_doserun_opts o;
    hm_doserun_opts_default(&o);
    o.run_id = hm_args_str(a, "run", NULL);
    o.seed = (uint64_t)hm_args_int(a, "seed", 1);
    o.realizations = (int)hm_args_int(a, "realizations", 200);
    o.organs = hm_args_str(a, "organs", NULL);
    o.uncertainty = hm_args_str(a, "uncertainty", NULL);
    o.align = !strcmp(hm_args_str(a, "align", "heart"), "table") ? HM_ALIGN_TABLE : HM_ALIGN_HEART;
    o.max_procedures = hm_args_int(a, "max-procedures", 0);
    o.skin = hm_args_flag(a, "skin");
    o.size = hm_args_flag(a, "size");
    if (hm_args_count(a, "skin-cell-cm"))
        o.skin_cell_cm = hm_args_num(a, "skin-cell-cm", 2);
    /* Under mpirun (Open MPI sets OMPI_COMM_WORLD_SIZE): this rank's share.
     * MPI is not initialised otherwise, so a plain run needs no MPI runtime. */
    int mpi = 0;
#ifdef HM_HAVE_MPI
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK")) {
        MPI_Init(NULL, NULL);
        MPI_Comm_rank(MPI_COMM_WORLD, &o.rank);
        MPI_Comm_size(MPI_COMM_WORLD, &o.nranks);
        mpi = 1;
    }
#endif
    if (!hm_args_flag(a, "quiet") && isatty(2) && o.rank == 0)
        o.progress = cohort_progress;
    direct_engine de;
    memset(&de, 0, sizeof de);
    de.a = a;
    hm_dose_library *lib = NULL;
    hm_doserun_library le;
    hm_error err;
    hm_error_clear(&err);
    hm_doserun_engine eng = { direct_for_age, &de, "direct", "direct" };
    int rc = HM_OK;
    if (hm_args_count(a, "library")) {
#ifdef HM_HAVE_MPI
        /* "default" may have to be built: by rank 0 alone (the ranks would
         * write one cache file at once), the others wait and then load it. */
        if (mpi && o.rank != 0)
            MPI_Barrier(MPI_COMM_WORLD);
        rc = open_library(a, &lib, &err);
        if (mpi && o.rank == 0)
            MPI_Barrier(MPI_COMM_WORLD);
#else
        rc = open_library(a, &lib, &err);
#endif
        if (rc == HM_OK)
            hm_doserun_library_engine(lib, &le, &eng);
    }
    hm_doserun_summary s;
    memset(&s, 0, sizeof s);
    if (rc == HM_OK)                 /* a rank without its library still joins the reductions */
        rc = hm_doserun_cohort(url, &eng, &o, &s, &err);
    long lookups = 0, oog = lib ? hm_doserun_library_out_of_grid(&le, &lookups) : 0;
    hm_dose_library_free(lib);
    direct_free(&de);
    /* Every rank reports; the run is complete when all have finished. */
    long total = s.procedures;
#ifdef HM_HAVE_MPI
    if (mpi) {
        int bad = rc != 0, any_bad = 0;
        MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        MPI_Allreduce(&s.procedures, &total, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        MPI_Finalize();
        if (!rc && any_bad)
            fprintf(stderr, "harmonic dose cohort: another rank failed; rerun with the same --run "
                            "to finish\n");
    }
#endif
    (void)mpi;
    if (rc)
        return hm_cli_report(&err);
    if (o.nranks > 1)
        printf("rank %d of %d: ", o.rank, o.nranks);
    printf("dose run %s: %ld procedures in %.1f s (%ld already done), tier 1 %ld, tier 2 %ld, "
           "tier 3 %ld; %ld events (%ld with imputed values); %ld best-estimate rows, %ld "
           "realization rows of %d\n", s.run_id, s.procedures, s.seconds, s.skipped_done, s.tier[1],
           s.tier[2], s.tier[3], s.events, s.events_imputed, s.rows_best, s.rows_realizations,
           o.realizations);
    if (o.skin)
        printf("skin dose maps: %ld procedures\n", s.skin_maps);
    if (o.size)
        printf("phantoms scaled to the patient: %ld tier-1 procedures; %ld without a weight (the "
               "reference phantom)\n", s.sized, s.size_unknown);
    if (o.nranks > 1 && o.rank == 0)
        printf("all %d ranks: %ld procedures\n", o.nranks, total);
    if (oog)
        printf("%ld of %ld library lookups lay outside the grid and were clamped to its edge\n", oog,
               lookups);
    return 0;
}

static const hm_cli_opt cohort_opts[] = {
    HM_OPT_STR("db", "PATH|URL", "the registry (SQLite file or postgresql:// URL)", "harmonic.db"),
    HM_OPT_STR("run", "ID", "run id (a rerun with the same id resumes)", "from the parameters"),
    HM_OPT_INT("realizations", "R", "dose realizations per procedure (2-D Monte Carlo)", "200", 0,
               100000),
    HM_OPT_STR("organs", "LIST", "organs to store, comma separated", "the ICRP 103 tissues, heart, thymus"),
    HM_OPT_PATH("uncertainty", "FILE", "error sources and GSDs", "data/dosimetry/uncertainty.csv"),
    HM_OPT_INT("max-procedures", "N", "stop after N procedures (tests)", "all", 0, 1e12),
    HM_OPT_FLAG("skin", "also a skin dose map and the peak skin dose of every tier-1 procedure"),
    HM_OPT_FLAG("size", "tier-1 doses for each patient's height and weight (a library with scaled "
                        "phantoms, or scaled phantoms with the direct simulation)"),
    HM_OPT_NUM("skin-cell-cm", "CM", "skin map cell size", "2", 0.2, 10),
    HM_OPT_FLAG("quiet", "no progress bar"),
    O_ENGINE,
    HM_OPT_END
};
static const hm_cli_cmd dose_cohort = {
    "cohort", "organ doses with uncertainty for every procedure of the registry",
    "Tier 1 (events): every event simulated on the age class's phantom; tier 2 (total KAP):\n"
    "KAP x the cohort's own tier-1 coefficients of the class; tier 3 (no dose data): the\n"
    "class's KAP distribution.  R realizations per procedure separate shared errors (KAP\n"
    "calibration per device, table per device model, phantom per age class, ...) from\n"
    "unshared ones.  A killed run resumes where it stopped (same --run).  See\n"
    "docs/dosimetry.md, \"The cohort run\".\n",
    cohort_opts, NULL, run_cohort, NULL, 0
};

static const hm_cli_cmd *const dose_subs[] = { &dose_rdsr, &dose_event, &dose_skin, &dose_table,
                                               &dose_cohort, &dose_summary, NULL };
static const hm_cli_opt group_opts[] = { HM_OPT_END };
const hm_cli_cmd hm_cli_dose = {
    "dose", "organ doses of irradiation events, procedures and the cohort",
    "Organ doses from DICOM RDSR events by Monte Carlo in the age-class phantoms\n"
    "(docs/dosimetry.md).\n",
    group_opts, NULL, NULL, dose_subs, 0
};
