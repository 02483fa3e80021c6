/* output.c — the cohort's files: one folder per centre with a CSV per
 * table, in hospital layout (local ids, direct identifiers, dates) or, by
 * default, passed through the pseudonymisation filter exactly as
 * `harmonic pseudonymise` would (Norway with --offset-dates). */
#include "synth_int.h"
#include "synth_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Hospital-side columns of each table, in order. */
static const char *const PATIENT_COLS[] = {
    "centre_code", "local_patient_id", "family_name", "given_name", "national_id", "address",
    "phone", "cohort", "sex", "birth_date", "syndrome", "transplant_date", "immunosuppression",
    "consent" };
static const char *const PROCEDURE_COLS[] = {
    "centre_code", "local_procedure_id", "local_patient_id", "birth_date", "proc_date",
    "age_days", "weight_kg", "height_cm", "exam_type", "category", "kap_total_gy_cm2",
    "fluoro_time_s", "cine_frames", "air_kerma_rp_mgy", "dose_tier", "local_study_uid",
    "device_manufacturer", "device_model" };
static const char *const EVENT_COLS[] = {
    "centre_code", "local_procedure_id", "local_event_uid", "birth_date", "event_datetime",
    "plane", "event_type", "protocol", "kvp", "tube_current_ma", "pulse_width_ms",
    "pulse_rate_per_s", "n_pulses", "irradiation_duration_s", "filter_cu_mm", "filter_al_mm",
    "filter_other", "field_width_mm", "field_height_mm", "field_area_cm2", "primary_angle_deg",
    "secondary_angle_deg", "source_isocentre_mm", "source_detector_mm", "table_long_mm",
    "table_lat_mm", "table_height_mm", "kap_gy_cm2", "air_kerma_rp_mgy", "patient_orientation",
    "units_note" };
static const char *const DOSE_COLS[] = {
    "centre_code", "source_type", "local_procedure_id", "organ", "method", "realization",
    "dose_mgy" };
static const char *const OUTCOME_COLS[] = {
    "centre_code", "local_outcome_id", "local_patient_id", "birth_date", "kind",
    "icdo3_topography", "icdo3_morphology", "icd10", "event_date" };
static const char *const FOLLOWUP_COLS[] = {
    "centre_code", "local_patient_id", "birth_date", "vital_status", "end_date", "end_reason" };

static const struct { const char *table; const char *const *cols; size_t n; } TABLES[SY_NTABLES] = {
    { "patient", PATIENT_COLS, sizeof PATIENT_COLS / sizeof *PATIENT_COLS },
    { "procedure", PROCEDURE_COLS, sizeof PROCEDURE_COLS / sizeof *PROCEDURE_COLS },
    { "irradiation_event", EVENT_COLS, sizeof EVENT_COLS / sizeof *EVENT_COLS },
    { "organ_dose", DOSE_COLS, sizeof DOSE_COLS / sizeof *DOSE_COLS },
    { "outcome", OUTCOME_COLS, sizeof OUTCOME_COLS / sizeof *OUTCOME_COLS },
    { "followup", FOLLOWUP_COLS, sizeof FOLLOWUP_COLS / sizeof *FOLLOWUP_COLS },
};

const char *sy_table_name(int t)
{
    return TABLES[t].table;
}

static int write_centre_row(FILE *fp, const sy_centre *c)
{
    hm_csv_write_field(fp, c->code);
    fputc(',', fp);
    hm_csv_write_field(fp, c->country);
    fputc(',', fp);
    hm_csv_write_field(fp, c->name);
    fputs(",cardiac\n", fp);
    return ferror(fp) ? HM_EIO : HM_OK;
}

int sy_out_open(sy_out *o, const sy_params *p, const char *dir, int hospital,
                int doses_to_truth, const hm_pseudo_key *key, hm_error *err)
{
    memset(o, 0, sizeof *o);
    o->hospital = hospital;
    o->doses_to_truth = doses_to_truth;
    o->ncentres = p->ncentres;
    snprintf(o->dir, sizeof o->dir, "%s", dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/centres.csv", dir);
    FILE *all = fopen(path, "w");
    if (!all)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s", strerror(errno));
    fputs("centre_code,country,name,cohort\n", all);
    int rc = HM_OK;
    for (int c = 0; c < p->ncentres && rc == HM_OK; c++) {
        rc = write_centre_row(all, &p->centres[c]);
        snprintf(path, sizeof path, "%s/%s", dir, p->centres[c].code);
        if (mkdir(path, 0777) != 0) {
            rc = hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s", strerror(errno));
            break;
        }
        snprintf(path, sizeof path, "%s/%s/centre.csv", dir, p->centres[c].code);
        FILE *one = fopen(path, "w");
        if (!one) {
            rc = hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s", strerror(errno));
            break;
        }
        fputs("centre_code,country,name,cohort\n", one);
        rc = write_centre_row(one, &p->centres[c]);
        if (fclose(one) != 0 || rc)
            rc = hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
        for (int t = 0; t < SY_NTABLES && rc == HM_OK; t++) {
            /* The true doses, when they are truth only, under a name that is
             * no registry table (import --dir reads TABLE.csv files only). */
            snprintf(path, sizeof path, "%s/%s/%s%s.csv", dir, p->centres[c].code,
                     t == SY_T_DOSE && doses_to_truth ? "truth_" : "", TABLES[t].table);
            if (!(o->fp[c][t] = fopen(path, "w"))) {
                rc = hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s",
                                  strerror(errno));
                break;
            }
            if (hospital) {
                for (size_t i = 0; i < TABLES[t].n; i++)
                    fprintf(o->fp[c][t], "%s%s", i ? "," : "", TABLES[t].cols[i]);
                fputc('\n', o->fp[c][t]);
                continue;
            }
            /* The dictionary's columns for the table decide what survives. */
            char **known;
            size_t nknown;
            if ((rc = hm_pseudo_dict_columns(TABLES[t].table, &known, &nknown, err)))
                break;
            hm_pseudo_csv_opts opts = { TABLES[t].table, p->centres[c].day_offsets,
                                        (const char *const *)known, nknown };
            rc = hm_pseudo_filter_new(key, &opts, TABLES[t].cols, TABLES[t].n, path,
                                      &o->filter[c][t], err);
            hm_pseudo_dict_free(known, nknown);
            if (rc == HM_OK)
                hm_pseudo_filter_write_header(o->filter[c][t], o->fp[c][t]);
        }
    }
    if (fclose(all) != 0 && rc == HM_OK)
        rc = hm_error_set(err, HM_EIO, dir, 0, NULL, "cannot write centres.csv");
    return rc;
}

int sy_out_row(sy_out *o, int centre, int table, const char *const *values, hm_error *err)
{
    FILE *fp = o->fp[centre][table];
    long line = ++o->lines[centre][table] + 1;
    if (!o->hospital)
        return hm_pseudo_filter_write_row(o->filter[centre][table], fp, values, TABLES[table].n,
                                          line, err);
    for (size_t i = 0; i < TABLES[table].n; i++) {
        if (i)
            fputc(',', fp);
        hm_csv_write_field(fp, values[i]);
    }
    fputc('\n', fp);
    return HM_OK;
}

int sy_out_close(sy_out *o, hm_error *err)
{
    int rc = HM_OK;
    for (int c = 0; c < o->ncentres; c++)
        for (int t = 0; t < SY_NTABLES; t++) {
            if (o->fp[c][t] && (ferror(o->fp[c][t]) | fclose(o->fp[c][t])) && rc == HM_OK)
                rc = hm_error_set(err, HM_EIO, o->dir, 0, NULL, "writing %s failed",
                                  TABLES[t].table);
            o->fp[c][t] = NULL;
            hm_pseudo_filter_free(o->filter[c][t]);
            o->filter[c][t] = NULL;
        }
    return rc;
}
