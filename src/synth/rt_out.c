/* rt_out.c — the radiotherapy part of `harmonic synth` (--rt-patients N):
 * the radiotherapy centres of data/synth/rt_centres.csv, one folder each
 * with patient, chemotherapy, surgery, stem_cell_transplant and followup
 * CSVs (hospital layout, or through the pseudonymisation filter exactly as
 * the cardiac files), a DICOM RT folder per course DIR/<centre>/rt/<course>/
 * (rt_course.c) and DIR/rt_truth.csv.  rt_course rows are not written: the
 * course comes from its DICOM files (`harmonic rt import`); its diagnosis,
 * which DICOM RT does not carry, is in DIR/<centre>/rt_diagnosis.csv (the
 * file of `rt import --diagnoses`: local id and clear date in the hospital
 * format, the pseudonym in the pooled one). */
#include "rt_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

enum { RT_PATIENT, RT_CHEMO, RT_SURGERY, RT_SCT, RT_FOLLOWUP, RT_NTABLES };

static const char *const PATIENT_COLS[] = {
    "centre_code", "local_patient_id", "family_name", "given_name", "national_id", "address",
    "phone", "cohort", "sex", "birth_date", "syndrome", "transplant_date", "immunosuppression",
    "consent" };
static const char *const CHEMO_COLS[] = {
    "centre_code", "local_chemo_id", "local_patient_id", "birth_date", "agent",
    "cumulative_dose_mg_m2", "route", "start_date", "end_date" };
static const char *const SURGERY_COLS[] = {
    "centre_code", "local_surgery_id", "local_patient_id", "birth_date", "surgery_date", "kind",
    "extent", "site" };
static const char *const SCT_COLS[] = {
    "centre_code", "local_sct_id", "local_patient_id", "birth_date", "sct_date", "sct_type",
    "tbi", "tbi_dose_gy" };
static const char *const FOLLOWUP_COLS[] = {
    "centre_code", "local_patient_id", "birth_date", "vital_status", "end_date", "end_reason" };

/* The pooled columns of the treatment tables as the lead fixed them
 * (treatment_tables layout), for a dictionary that does not define them
 * yet; the dictionary's own list wins when it has the table. */
static const char *const CHEMO_KNOWN[] = {
    "centre_code", "chemo_id", "pseudonym", "course_id", "agent", "cumulative_dose_mg_m2",
    "route", "start_date", "start_day", "end_date", "end_day" };
static const char *const SURGERY_KNOWN[] = {
    "centre_code", "surgery_id", "pseudonym", "course_id", "surgery_date", "surgery_day", "kind",
    "extent", "site" };
static const char *const SCT_KNOWN[] = {
    "centre_code", "sct_id", "pseudonym", "course_id", "sct_date", "sct_day", "sct_type", "tbi",
    "tbi_dose_gy" };

static const struct {
    const char *table;
    const char *const *cols, *const *known;
    size_t n, nknown;
} TABLES[RT_NTABLES] = {
    { "patient", PATIENT_COLS, NULL, sizeof PATIENT_COLS / sizeof *PATIENT_COLS, 0 },
    { "chemotherapy", CHEMO_COLS, CHEMO_KNOWN, sizeof CHEMO_COLS / sizeof *CHEMO_COLS,
      sizeof CHEMO_KNOWN / sizeof *CHEMO_KNOWN },
    { "surgery", SURGERY_COLS, SURGERY_KNOWN, sizeof SURGERY_COLS / sizeof *SURGERY_COLS,
      sizeof SURGERY_KNOWN / sizeof *SURGERY_KNOWN },
    { "stem_cell_transplant", SCT_COLS, SCT_KNOWN, sizeof SCT_COLS / sizeof *SCT_COLS,
      sizeof SCT_KNOWN / sizeof *SCT_KNOWN },
    { "followup", FOLLOWUP_COLS, NULL, sizeof FOLLOWUP_COLS / sizeof *FOLLOWUP_COLS, 0 },
};

typedef struct rt_run {
    const hm_synth_opts *o;
    const sy_params *sp;
    rt_params p;
    char  dir[4096];
    FILE *fp[RT_MAX_CENTRES][RT_NTABLES];
    hm_pseudo_filter *filter[RT_MAX_CENTRES][RT_NTABLES];
    long  lines[RT_MAX_CENTRES][RT_NTABLES];
    FILE *diag[RT_MAX_CENTRES];       /* rt_diagnosis.csv per centre */
    const hm_pseudo_key *key;         /* pooled format: the diagnoses' pseudonyms */
    FILE *truth;
    /* Phantoms built so far, by age and sex (a build takes ~2 s). */
    struct { char age[16]; char sex; hm_phantom *ph; hm_voxel_phantom coarse; } ph[16];
    int   nph;
    hm_synth_summary *s;
} rt_run;

static int row(rt_run *r, int centre, int t, const char *const *v, hm_error *err)
{
    FILE *fp = r->fp[centre][t];
    long line = ++r->lines[centre][t] + 1;
    if (r->filter[centre][t])
        return hm_pseudo_filter_write_row(r->filter[centre][t], fp, v, TABLES[t].n, line, err);
    for (size_t i = 0; i < TABLES[t].n; i++) {
        if (i)
            fputc(',', fp);
        hm_csv_write_field(fp, v[i]);
    }
    fputc('\n', fp);
    return HM_OK;
}

static int open_centres(rt_run *r, const hm_pseudo_key *key, int header, hm_error *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/centres.csv", r->dir);
    FILE *all = fopen(path, header ? "w" : "a");
    if (!all)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot open: %s", strerror(errno));
    if (header)
        fputs("centre_code,country,name,cohort\n", all);
    int rc = HM_OK;
    for (int c = 0; c < r->p.ncentres && rc == HM_OK; c++) {
        const rt_centre *ce = &r->p.centres[c];
        for (int f = 0; f < 2; f++) {
            FILE *fp = all;
            if (f) {
                snprintf(path, sizeof path, "%s/%s", r->dir, ce->code);
                if (mkdir(path, 0777) != 0)
                    return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s",
                                        strerror(errno));
                snprintf(path, sizeof path, "%s/%s/rt", r->dir, ce->code);
                if (mkdir(path, 0777) != 0)
                    return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s",
                                        strerror(errno));
                snprintf(path, sizeof path, "%s/%s/centre.csv", r->dir, ce->code);
                if (!(fp = fopen(path, "w")))
                    return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s",
                                        strerror(errno));
                fputs("centre_code,country,name,cohort\n", fp);
            }
            hm_csv_write_field(fp, ce->code);
            fputc(',', fp);
            hm_csv_write_field(fp, ce->country);
            fputc(',', fp);
            hm_csv_write_field(fp, ce->name);
            fputs(",radiotherapy\n", fp);
            if (f && fclose(fp) != 0)
                rc = hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
        }
        snprintf(path, sizeof path, "%s/%s/rt_diagnosis.csv", r->dir, ce->code);
        if (rc == HM_OK && !(r->diag[c] = fopen(path, "w")))
            rc = hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s", strerror(errno));
        if (rc == HM_OK)
            fprintf(r->diag[c], "centre_code,%s,diag_topography,diag_morphology,diag_date\n",
                    r->o->hospital_format ? "local_patient_id" : "pseudonym");
        for (int t = 0; t < RT_NTABLES && rc == HM_OK; t++) {
            snprintf(path, sizeof path, "%s/%s/%s.csv", r->dir, ce->code, TABLES[t].table);
            if (!(r->fp[c][t] = fopen(path, "w"))) {
                rc = hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s",
                                  strerror(errno));
                break;
            }
            if (r->o->hospital_format) {
                for (size_t i = 0; i < TABLES[t].n; i++)
                    fprintf(r->fp[c][t], "%s%s", i ? "," : "", TABLES[t].cols[i]);
                fputc('\n', r->fp[c][t]);
                continue;
            }
            char **known = NULL;
            size_t nknown = 0;
            hm_error e2;
            hm_error_clear(&e2);
            int drc = hm_pseudo_dict_columns(TABLES[t].table, &known, &nknown, &e2);
            if (drc != HM_OK && !(drc == HM_ENOTFOUND && TABLES[t].known)) {
                rc = drc;
                *err = e2;
                break;
            }
            hm_pseudo_csv_opts opts = { TABLES[t].table, 0,
                                        drc ? TABLES[t].known : (const char *const *)known,
                                        drc ? TABLES[t].nknown : nknown };
            rc = hm_pseudo_filter_new(key, &opts, TABLES[t].cols, TABLES[t].n, path,
                                      &r->filter[c][t], err);
            if (!drc)
                hm_pseudo_dict_free(known, nknown);
            if (rc == HM_OK)
                hm_pseudo_filter_write_header(r->filter[c][t], r->fp[c][t]);
        }
    }
    if (fclose(all) != 0 && rc == HM_OK)
        rc = hm_error_set(err, HM_EIO, r->dir, 0, NULL, "cannot write centres.csv");
    return rc;
}

/* Phantom age of an age in years (anchors.md section 1: < 4 months newborn,
 * 4-30 months 1y, 31-90 months 5y, 91-210 months 10y, >= 211 months 15y,
 * adult from 21 years). */
static const char *phantom_age(double years)
{
    double months = years * 12;
    return months < 4 ? "newborn" : months <= 30 ? "1y" : months <= 90 ? "5y"
         : months <= 210 ? "10y" : years < 21 ? "15y" : "adult";
}

static int get_phantom(rt_run *r, const rt_patient *pt, int *slot, hm_error *err)
{
    const char *age = phantom_age(pt->age_years);
    /* The patient's own sex at every age: the H phantom (both sets of sex
     * organs) would contour ovaries on a boy. */
    char sex = pt->male ? 'M' : 'F';
    for (int i = 0; i < r->nph; i++)
        if (!strcmp(r->ph[i].age, age) && r->ph[i].sex == sex) {
            *slot = i;
            return HM_OK;
        }
    if (r->nph == (int)(sizeof r->ph / sizeof *r->ph))
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "too many phantoms");
    int i = r->nph;
    int rc = hm_phantom_build(age, sex, &r->ph[i].ph, err);
    if (rc == HM_OK)
        rc = hm_phantom_voxelise(r->ph[i].ph, 10.0, &r->ph[i].coarse, err);
    if (rc) {
        hm_phantom_free(r->ph[i].ph);
        return rc;
    }
    snprintf(r->ph[i].age, sizeof r->ph[i].age, "%s", age);
    r->ph[i].sex = sex;
    r->nph++;
    *slot = i;
    return HM_OK;
}

static void ymd(long days, char *dicom)
{
    int y, m, d;
    hm_date_to_ymd(days, &y, &m, &d);
    snprintf(dicom, 9, "%04d%02d%02d", y, m, d);
}

static int write_patient(rt_run *r, const rt_patient *pt, hm_error *err)
{
    const rt_params *p = &r->p;
    const sy_params *sp = r->sp;
    const rt_centre *c = &p->centres[pt->centre];
    const rt_site *s = &p->sites[pt->site];
    /* Fake names of the centre's country (data/synth/names.csv); Denmark has
     * none there and takes the Norwegian ones. */
    int ci = -1;
    for (int i = 0; i < sp->ncountries; i++)
        if (!strcmp(sp->countries[i], c->country))
            ci = i;
    for (int i = 0; ci < 0 && i < sp->ncountries; i++)
        if (!strcmp(sp->countries[i], "NO"))
            ci = i;
    if (ci < 0)
        ci = 0;
    sy_rng rn;
    sy_rng_init(&rn, r->o->seed, (uint32_t)pt->index, SY_S_RT_NAMES, 0);
    char id[48], nat[24], addr[96], phone[32], birth[11], date[11], date2[11], lid[64];
    snprintf(id, sizeof id, "%s-R%07ld", c->code, pt->index + 1);
    const char *given = sp->given[ci][(int)(sy_u01(&rn) * sp->ngiven[ci])];
    const char *family = sp->family[ci][(int)(sy_u01(&rn) * sp->nfamily[ci])];
    snprintf(nat, sizeof nat, "%05ld%06ld", (long)(sy_u01(&rn) * 1e5), (long)(sy_u01(&rn) * 1e6));
    snprintf(addr, sizeof addr, "%d Synthetic Road, %s", 1 + (int)(sy_u01(&rn) * 200), c->country);
    snprintf(phone, sizeof phone, "0%09ld", (long)(sy_u01(&rn) * 1e9));
    hm_date_format(pt->birth, birth);
    int y, m, d;
    hm_date_to_ymd(pt->diag, &y, &m, &d);
    /* Consent: waived for the retrospective part (diagnosis before 2021, the
     * registry's start; NCT04746729), given afterwards. */
    const char *pv[] = { c->code, id, family, given, nat, addr, phone, "radiotherapy",
                         pt->male ? "M" : "F", birth, "none", "", "0",
                         y < 2021 ? "waived" : "given" };
    int rc = row(r, pt->centre, RT_PATIENT, pv, err);

    /* The diagnosis of the course (rt import --diagnoses): the site's
     * ICD-O-3 codes and the diagnosis date, as in rt_truth.csv. */
    char pid[HM_PSEUDO_HEX_SIZE];
    if (rc == HM_OK && !r->o->hospital_format)
        rc = hm_pseudo_id(r->key, "patient", id, pid, err);
    if (rc == HM_OK) {
        hm_date_format(pt->diag, date);
        FILE *fd = r->diag[pt->centre];
        hm_csv_write_field(fd, c->code);
        fputc(',', fd);
        hm_csv_write_field(fd, r->o->hospital_format ? id : pid);
        fprintf(fd, ",%s,%s,%s\n", s->topo, s->morph, date);
    }

    /* Chemotherapy: one row per agent of the site's protocol. */
    int a = 0;
    for (int k = 0; rc == HM_OK && k < p->nchemo; k++) {
        const rt_chemo *ch = &p->chemo[k];
        if (strcmp(ch->protocol, s->chemo))
            continue;
        char dose[32];
        snprintf(lid, sizeof lid, "CH%07ld%02d", pt->index + 1, a + 1);
        snprintf(dose, sizeof dose, "%.2f", ch->dose_mg_m2 * pt->chemo_factor[a]);
        hm_date_format(pt->chemo_start, date);
        hm_date_format(pt->chemo_end, date2);
        const char *cv[] = { c->code, lid, id, birth, ch->agent, dose, ch->route, date, date2 };
        rc = row(r, pt->centre, RT_CHEMO, cv, err);
        r->s->rt_treatment_rows++;
        a++;
    }
    if (rc == HM_OK && pt->surgery) {
        int biopsy = !strcmp(s->surgery_kind, "biopsy");
        snprintf(lid, sizeof lid, "SU%07ld01", pt->index + 1);
        hm_date_format(pt->surgery_date, date);
        const char *sv[] = { c->code, lid, id, birth, date, s->surgery_kind,
                             biopsy ? "biopsy_only" : pt->gross_total ? "gross_total" : "subtotal",
                             s->label };
        rc = row(r, pt->centre, RT_SURGERY, sv, err);
        r->s->rt_treatment_rows++;
    }
    if (rc == HM_OK && pt->sct) {
        snprintf(lid, sizeof lid, "SC%07ld01", pt->index + 1);
        hm_date_format(pt->sct_date, date);
        const char *tv[] = { c->code, lid, id, birth, date, s->sct_type, "0", "" };
        rc = row(r, pt->centre, RT_SCT, tv, err);
        r->s->rt_treatment_rows++;
    }
    static const char *const status[4] = { "alive", "dead", "alive", "lost" };
    static const char *const reason[4] = { "study_end", "death", "emigration", "lost" };
    hm_date_format(pt->exit, date);
    const char *fv[] = { c->code, id, birth, status[pt->exit_reason], date,
                         reason[pt->exit_reason] };
    if (rc == HM_OK)
        rc = row(r, pt->centre, RT_FOLLOWUP, fv, err);

    /* The course's DICOM folder. */
    int slot = 0;
    char course[32], dir[4400], bd[16], sd[16];
    snprintf(course, sizeof course, "C%07ld", pt->index + 1);
    snprintf(dir, sizeof dir, "%s/%s/rt/%s", r->dir, c->code, course);
    if (rc == HM_OK && mkdir(dir, 0777) != 0)
        rc = hm_error_set(err, HM_EIO, dir, 0, NULL, "cannot create: %s", strerror(errno));
    if (rc == HM_OK)
        rc = get_phantom(r, pt, &slot, err);
    if (rc == HM_OK) {
        ymd(pt->birth, bd);
        ymd(pt->rt_start - 7, sd);   /* planning CT a week before the first fraction */
        rt_course_in in = { &r->p, pt, r->ph[slot].ph, &r->ph[slot].coarse, r->o->seed, dir,
                            id, course, bd, sd, r->truth, 3.0 };
        rc = rt_course_write(&in, &r->s->rt_dicom_files, err);
    }
    r->s->rt_patients++;
    return rc;
}

int sy_rt_run(const hm_synth_opts *o, const sy_params *sp, const hm_pseudo_key *key,
              const char *dir, int write_centres_header, hm_synth_summary *s, hm_error *err)
{
    if (o->rt_patients <= 0)
        return HM_OK;
    rt_run *r = calloc(1, sizeof *r);
    if (!r)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    r->o = o;
    r->sp = sp;
    r->s = s;
    r->key = key;
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    int rc = rt_params_load(&r->p, err);
    if (rc == HM_OK)
        rc = open_centres(r, key, write_centres_header, err);
    char path[4400];
    snprintf(path, sizeof path, "%s/rt_truth.csv", dir);
    if (rc == HM_OK && !(r->truth = fopen(path, "w")))
        rc = hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s", strerror(errno));
    if (rc == HM_OK)
        fputs("centre_code,local_course_id,local_patient_id,roi_number,roi_name,organ,"
              "roi_type,site,icdo3_topography,icdo3_morphology,technique,prescription_gy,"
              "fractions,age_years,voxels,volume_cc,mean_gy,voxels_in_grid,"
              "volume_in_grid_cc,mean_in_grid_gy\n", r->truth);
    rt_patient pt;
    for (long i = 0; rc == HM_OK && i < o->rt_patients; i++) {
        rt_simulate(&r->p, sp, o->seed, i, &pt);
        rc = write_patient(r, &pt, err);
    }
    if (r->truth && (ferror(r->truth) | fclose(r->truth)) && rc == HM_OK)
        rc = hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
    for (int c = 0; c < r->p.ncentres; c++) {
        if (r->diag[c] && (ferror(r->diag[c]) | fclose(r->diag[c])) && rc == HM_OK)
            rc = hm_error_set(err, HM_EIO, dir, 0, NULL, "writing rt_diagnosis.csv failed");
        for (int t = 0; t < RT_NTABLES; t++) {
            if (r->fp[c][t] && (ferror(r->fp[c][t]) | fclose(r->fp[c][t])) && rc == HM_OK)
                rc = hm_error_set(err, HM_EIO, dir, 0, NULL, "writing %s failed",
                                  TABLES[t].table);
            hm_pseudo_filter_free(r->filter[c][t]);
        }
    }
    for (int i = 0; i < r->nph; i++) {
        hm_phantom_free(r->ph[i].ph);
        hm_voxel_phantom_free(&r->ph[i].coarse);
    }
    free(r);
    return rc;
}

void sy_rt_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[4400];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            sy_rt_remove_tree(path);
        else
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}
