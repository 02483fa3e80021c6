/*
 * rt_diagnoses.c — the diagnoses file of `harmonic rt import --diagnoses`
 * (docs/rt.md "Import"): DICOM RT carries no diagnosis, so a centre sends one
 * row per patient beside its courses, and each new course takes its
 * patient's row.
 *
 * Two forms, told apart by the header:
 *   hospital: local_patient_id, diag_topography, diag_morphology, diag_date
 *             (the local id is pseudonymised here with the study key, namespace
 *             "patient", as rt_import.c does with the DICOM PatientID, so the
 *             clear id never leaves this file's reader);
 *   pooled:   pseudonym (64 hex) instead of local_patient_id, and diag_date
 *             or diag_day (days since birth, as `pseudonymise --offset-dates`
 *             writes dates).
 * An optional centre_code column must name the import's centre.  Codes are
 * checked as the dictionary's @icdo3_topography (Cnn.n) and
 * @icdo3_morphology (nnnn/b, behaviour 0 1 2 3 6 9; ICD-O-3, WHO 2013).
 * Every bad row is a file:line:field error; a patient given twice must be
 * given the same diagnosis.
 */
#include "hm_pseudo.h"
#include "hm_rt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { C_CENTRE, C_LOCAL, C_PSEUDO, C_TOPO, C_MORPH, C_DATE, C_DAY, NCOLS };
static const char *const COLS[NCOLS] = { "centre_code", "local_patient_id", "pseudonym",
                                         "diag_topography", "diag_morphology", "diag_date",
                                         "diag_day" };

static int is_topography(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    return strlen(s) == 5 && u[0] == 'C' && isdigit(u[1]) && isdigit(u[2]) && u[3] == '.'
           && isdigit(u[4]);
}

static int is_morphology(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    return strlen(s) == 6 && isdigit(u[0]) && isdigit(u[1]) && isdigit(u[2]) && isdigit(u[3])
           && u[4] == '/' && u[5] && strchr("012369", u[5]);
}

static int is_pseudonym(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isdigit((unsigned char)s[n]) && !(s[n] >= 'a' && s[n] <= 'f'))
            return 0;
    return n == 64;
}

/* One data row into *d; errors name file:line:field. */
static int parse_row(const char *path, long line, char **f, size_t nf, const int *col,
                     const char *centre, const hm_pseudo_key *key, hm_rt_diagnosis *d,
                     hm_error *err)
{
    const char *v[NCOLS];
    for (int k = 0; k < NCOLS; k++)
        v[k] = col[k] >= 0 && (size_t)col[k] < nf ? f[col[k]] : "";
    memset(d, 0, sizeof *d);
    d->line = line;
    if (col[C_CENTRE] >= 0 && centre && strcmp(v[C_CENTRE], centre))
        return hm_error_set(err, HM_EVALIDATE, path, line, "centre_code",
                            "'%.20s' in an import for centre %s: send each centre's diagnoses "
                            "with its own courses", v[C_CENTRE], centre);
    if (col[C_LOCAL] >= 0) {
        if (!v[C_LOCAL][0])
            return hm_error_set(err, HM_EVALIDATE, path, line, "local_patient_id",
                                "empty: every row names its patient");
        int rc = hm_pseudo_id(key, "patient", v[C_LOCAL], d->pseudonym, err);
        if (rc) {
            if (err) {
                snprintf(err->file, sizeof err->file, "%.*s", (int)sizeof err->file - 1, path);
                err->line = line;
                snprintf(err->field, sizeof err->field, "local_patient_id");
            }
            return rc;
        }
    } else {
        if (!is_pseudonym(v[C_PSEUDO]))
            return hm_error_set(err, HM_EVALIDATE, path, line, "pseudonym",
                                "'%.70s' is not a pseudonym (64 lower-case hex digits): give "
                                "the file pseudonymised with the study key, or its hospital "
                                "form with local_patient_id", v[C_PSEUDO]);
        snprintf(d->pseudonym, sizeof d->pseudonym, "%s", v[C_PSEUDO]);
    }
    if (!is_topography(v[C_TOPO]))
        return hm_error_set(err, HM_EVALIDATE, path, line, "diag_topography",
                            "'%.20s' is not an ICD-O-3 topography like C71.9", v[C_TOPO]);
    if (!is_morphology(v[C_MORPH]))
        return hm_error_set(err, HM_EVALIDATE, path, line, "diag_morphology",
                            "'%.20s' is not an ICD-O-3 morphology like 9470/3", v[C_MORPH]);
    snprintf(d->topography, sizeof d->topography, "%s", v[C_TOPO]);
    snprintf(d->morphology, sizeof d->morphology, "%s", v[C_MORPH]);
    int has_date = v[C_DATE][0] != '\0', has_day = v[C_DAY][0] != '\0';
    if (has_date == has_day)
        return hm_error_set(err, HM_EVALIDATE, path, line, has_date ? "diag_day" : "diag_date",
                            has_date ? "both diag_date and diag_day: give one"
                                     : "no diagnosis date: give diag_date (YYYY-MM-DD) or "
                                       "diag_day (days since birth)");
    if (has_date) {
        if (hm_date_parse(v[C_DATE], &d->date_days))
            return hm_error_set(err, HM_EVALIDATE, path, line, "diag_date",
                                "'%.20s' is not a date YYYY-MM-DD", v[C_DATE]);
        d->has_date = 1;
    } else {
        char *end;
        errno = 0;
        long day = strtol(v[C_DAY], &end, 10);
        /* The dictionary's range for rt_course.diag_day: 0..40000 days. */
        if (errno || *end || day < 0 || day > 40000)
            return hm_error_set(err, HM_EVALIDATE, path, line, "diag_day",
                                "'%.20s' is not a day count 0..40000 since birth", v[C_DAY]);
        d->day = day;
    }
    return HM_OK;
}

/* A patient twice: the same diagnosis (kept once), else an error. */
static int check_duplicate(const char *path, const hm_rt_diagnoses *ds, const hm_rt_diagnosis *d,
                           int *dup, hm_error *err)
{
    *dup = 0;
    for (size_t i = 0; i < ds->n; i++) {
        const hm_rt_diagnosis *o = &ds->rows[i];
        if (strcmp(o->pseudonym, d->pseudonym))
            continue;
        if (strcmp(o->topography, d->topography) || strcmp(o->morphology, d->morphology)
            || o->has_date != d->has_date
            || (o->has_date ? o->date_days != d->date_days : o->day != d->day))
            return hm_error_set(err, HM_EVALIDATE, path, d->line, "diag_topography",
                                "the patient of line %ld again with another diagnosis: a course "
                                "takes one diagnosis; keep the one treated by the course",
                                o->line);
        *dup = 1;
    }
    return HM_OK;
}

int hm_rt_diagnoses_read(const char *path, const char *centre, const struct hm_pseudo_key *key,
                         hm_rt_diagnoses *ds, hm_error *err)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->path, sizeof ds->path, "%s", path);
    hm_csv *csv = hm_csv_open(path, 1, err);
    if (!csv)
        return err ? err->code : HM_EIO;   /* hm_csv_open named the file */
    char **f;
    size_t nf;
    int rc = hm_csv_next(csv, &f, &nf, err);
    if (rc == 0)
        rc = hm_error_set(err, HM_EPARSE, path, 1, NULL, "empty file: a header is needed");
    int col[NCOLS];
    for (int k = 0; k < NCOLS; k++)
        col[k] = -1;
    for (size_t i = 0; rc == 1 && i < nf; i++)
        for (int k = 0; k < NCOLS; k++)
            if (!strcmp(f[i], COLS[k]))
                col[k] = (int)i;
    if (rc == 1) {
        const char *miss = (col[C_LOCAL] < 0) == (col[C_PSEUDO] < 0) ? "local_patient_id"
                         : col[C_TOPO] < 0 ? "diag_topography"
                         : col[C_MORPH] < 0 ? "diag_morphology"
                         : col[C_DATE] < 0 && col[C_DAY] < 0 ? "diag_date" : NULL;
        if (miss)
            rc = hm_error_set(err, HM_EPARSE, path, 1, miss,
                              "the header needs local_patient_id (hospital) or pseudonym "
                              "(pooled), but not both, diag_topography, diag_morphology and "
                              "diag_date or diag_day");
        else
            rc = HM_OK;
    }
    size_t cap = 0;
    while (rc == HM_OK && (rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        if (nf == 1 && !f[0][0]) {        /* a blank line */
            rc = HM_OK;
            continue;
        }
        hm_rt_diagnosis d;
        int dup = 0;
        rc = parse_row(path, hm_csv_line(csv), f, nf, col, centre, key, &d, err);
        if (rc == HM_OK)
            rc = check_duplicate(path, ds, &d, &dup, err);
        if (rc == HM_OK && !dup) {
            if (ds->n == cap) {
                cap = cap ? 2 * cap : 64;
                hm_rt_diagnosis *g = realloc(ds->rows, cap * sizeof *g);
                if (!g) {
                    rc = hm_error_set(err, HM_ENOMEM, path, 0, NULL, "out of memory");
                    break;
                }
                ds->rows = g;
            }
            ds->rows[ds->n++] = d;
        }
    }
    hm_csv_close(csv);
    if (rc < 0) {
        hm_rt_diagnoses_free(ds);
        return rc;
    }
    return HM_OK;
}

const hm_rt_diagnosis *hm_rt_diagnoses_find(const hm_rt_diagnoses *ds, const char *pseudonym)
{
    for (size_t i = 0; ds && i < ds->n; i++)
        if (!strcmp(ds->rows[i].pseudonym, pseudonym))
            return &ds->rows[i];
    return NULL;
}

void hm_rt_diagnoses_free(hm_rt_diagnoses *ds)
{
    if (!ds)
        return;
    free(ds->rows);
    ds->rows = NULL;
    ds->n = 0;
}
