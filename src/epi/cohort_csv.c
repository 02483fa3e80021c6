/*
 * cohort_csv.c — individual records from three CSV files (persons, doses,
 * events; docs/epi.md section 1).  Every problem names file, line and field;
 * nothing is kept from a file that fails.
 */
#include "cohort.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int col_index(char **f, size_t nf, const char *name)
{
    for (size_t c = 0; c < nf; c++)
        if (!strcmp(f[c], name))
            return (int)c;
    return -1;
}

static int header(hm_csv *csv, const char *path, const char **names, int nreq, int ntot, int *idx,
                  hm_error *err)
{
    char **f;
    size_t nf;
    int rc = hm_csv_next(csv, &f, &nf, err);
    if (rc <= 0)
        return rc < 0 ? rc : hm_error_set(err, HM_EPARSE, path, 1, NULL, "empty file: expected a header");
    if (hm_csv_header_check(csv, f, nf, err))
        return HM_EPARSE;
    for (int k = 0; k < ntot; k++) {
        idx[k] = col_index(f, nf, names[k]);
        if (k < nreq && idx[k] < 0)
            return hm_error_set(err, HM_EPARSE, path, 1, names[k], "missing column");
    }
    return HM_OK;
}

static int field_day(char **f, size_t nf, int idx, const char *path, long line, const char *name,
                     double *day, int optional, hm_error *err)
{
    if (idx < 0 || (size_t)idx >= nf || !f[idx][0]) {
        if (optional) {
            *day = NAN;
            return HM_OK;
        }
        return hm_error_set(err, HM_EPARSE, path, line, name, "empty: expected a date YYYY-MM-DD or a day number");
    }
    if (hm_epi_parse_day(f[idx], day) < 0)
        return hm_error_set(err, HM_EPARSE, path, line, name, "'%s': expected a date YYYY-MM-DD or a day number",
                            f[idx]);
    return HM_OK;
}

/* Adds the file's location to an error from the record-level API. */
static int locate(hm_error *err, int rc, const char *path, long line)
{
    if (err && rc < 0) {
        snprintf(err->file, sizeof err->file, "%.255s", path);
        err->line = line;
    }
    return rc;
}

static int read_persons(hm_epi_cohort *c, const char *path, const hm_csv_dialect *d, hm_error *err)
{
    static const char *names[] = { "id", "sex", "birth", "end", "country", "syndrome", "transplant" };
    int idx[7];
    hm_csv *csv = hm_csv_open_dialect(path, 1, d, err);
    if (!csv)
        return err ? err->code : HM_EIO;
    int rc = header(csv, path, names, 4, 7, idx, err);
    char **f;
    size_t nf;
    while (rc >= 0 && (rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        long line = hm_csv_line(csv);
        double birth, end, tx;
        int syn = 0;
        if ((rc = field_day(f, nf, idx[2], path, line, "birth", &birth, 0, err)) < 0 ||
            (rc = field_day(f, nf, idx[3], path, line, "end", &end, 0, err)) < 0 ||
            (rc = field_day(f, nf, idx[6], path, line, "transplant", &tx, 1, err)) < 0)
            break;
        if (idx[5] >= 0 && (size_t)idx[5] < nf && f[idx[5]][0]) {
            if (strcmp(f[idx[5]], "0") && strcmp(f[idx[5]], "1")) {
                rc = hm_error_set(err, HM_EPARSE, path, line, "syndrome", "'%s': expected 0 or 1", f[idx[5]]);
                break;
            }
            syn = f[idx[5]][0] == '1';
        }
        const char *country = idx[4] >= 0 && (size_t)idx[4] < nf ? f[idx[4]] : NULL;
        rc = locate(err, hm_epi_cohort_add_person(c, (size_t)idx[0] < nf ? f[idx[0]] : "",
                                                  (size_t)idx[1] < nf ? f[idx[1]] : "", birth, end,
                                                  country, syn, tx, err), path, line);
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : HM_OK;
}

static int read_doses(hm_epi_cohort *c, const char *path, const char *organ, const hm_csv_dialect *d,
                      hm_error *err)
{
    static const char *names[] = { "id", "date", "dose_mgy", "organ", "realization" };
    int idx[5];
    hm_csv *csv = hm_csv_open_dialect(path, 1, d, err);
    if (!csv)
        return err ? err->code : HM_EIO;
    int rc = header(csv, path, names, 3, 5, idx, err);
    if (rc >= 0 && organ && idx[3] < 0)
        rc = hm_error_set(err, HM_EPARSE, path, 1, "organ", "an organ was asked for but the file has no organ column");
    char **f;
    size_t nf;
    char first_organ[64] = "";
    while (rc >= 0 && (rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        long line = hm_csv_line(csv);
        if (nf < 3) {
            rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "expected at least 3 fields");
            break;
        }
        if (idx[3] >= 0 && (size_t)idx[3] < nf) {
            if (organ && strcmp(f[idx[3]], organ))
                continue;
            if (!organ) {
                if (!first_organ[0])
                    snprintf(first_organ, sizeof first_organ, "%s", f[idx[3]]);
                else if (strcmp(first_organ, f[idx[3]])) {
                    rc = hm_error_set(err, HM_EINVAL, path, line, "organ",
                                      "doses of several organs (%s, %s): choose one with --organ", first_organ,
                                      f[idx[3]]);
                    break;
                }
            }
        }
        double day, dose;
        char *end;
        if ((rc = field_day(f, nf, idx[1], path, line, "date", &day, 0, err)) < 0)
            break;
        dose = strtod(f[idx[2]], &end);
        if (!f[idx[2]][0] || *end) {
            rc = hm_error_set(err, HM_EPARSE, path, line, "dose_mgy", "'%s': expected a number (mGy)", f[idx[2]]);
            break;
        }
        long real = 0;
        if (idx[4] >= 0 && (size_t)idx[4] < nf) {
            real = strtol(f[idx[4]], &end, 10);
            if (!f[idx[4]][0] || *end) {
                rc = hm_error_set(err, HM_EPARSE, path, line, "realization", "'%s': expected an integer",
                                  f[idx[4]]);
                break;
            }
        }
        rc = locate(err, hm_epi_cohort_add_dose(c, f[idx[0]], day, (int)real, dose, err), path, line);
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : HM_OK;
}

static int read_events(hm_epi_cohort *c, const char *path, const hm_csv_dialect *d, hm_error *err)
{
    static const char *names[] = { "id", "date", "morphology", "topography" };
    int idx[4];
    hm_csv *csv = hm_csv_open_dialect(path, 1, d, err);
    if (!csv)
        return err ? err->code : HM_EIO;
    int rc = header(csv, path, names, 3, 4, idx, err);
    char **f;
    size_t nf;
    while (rc >= 0 && (rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        long line = hm_csv_line(csv);
        double day;
        if (nf < 3) {
            rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "expected at least 3 fields");
            break;
        }
        if ((rc = field_day(f, nf, idx[1], path, line, "date", &day, 0, err)) < 0)
            break;
        const char *topo = idx[3] >= 0 && (size_t)idx[3] < nf ? f[idx[3]] : "";
        rc = locate(err, hm_epi_cohort_add_event(c, f[idx[0]], day, f[idx[2]], topo, err), path, line);
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : HM_OK;
}

int hm_epi_cohort_read_csv(const char *persons, const char *doses, const char *events,
                           const char *organ, hm_epi_cohort **out, hm_error *err)
{
    return hm_epi_cohort_read_csv_dialect(persons, doses, events, organ, NULL, out, err);
}

int hm_epi_cohort_read_csv_dialect(const char *persons, const char *doses, const char *events,
                                   const char *organ, const hm_csv_dialect *dialect,
                                   hm_epi_cohort **out, hm_error *err)
{
    *out = NULL;
    hm_epi_cohort *c = hm_epi_cohort_new();
    if (!c)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    int rc = read_persons(c, persons, dialect, err);
    if (rc >= 0 && doses)
        rc = read_doses(c, doses, organ, dialect, err);
    if (rc >= 0 && events)
        rc = read_events(c, events, dialect, err);
    if (rc >= 0)
        rc = hm_epi_cohort_finish(c, err);
    if (rc < 0) {
        hm_epi_cohort_free(c);
        return rc;
    }
    *out = c;
    return HM_OK;
}

