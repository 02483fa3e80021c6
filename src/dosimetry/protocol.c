/* protocol.c — per-age reference beams (data/phantoms/cardiac_beams.csv). */
#include "hm_dosimetry.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int hm_dosimetry_beam_cardiac(const char *age, hm_dosimetry_beam *b, hm_error *err)
{
    const char *a = hm_phantom_age_name(age);
    if (!a)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age", "unknown age '%s'", age ? age : "");
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("phantoms/cardiac_beams.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    int header = 1, found = 0;
    static const char *names[] = { "kvp", "filter_al_mm", "filter_cu_mm", "field_cm", "source_isocentre_cm" };
    while (!found && (rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        rc = 0;
        if (header) {
            header = 0;
            continue;
        }
        if (nf != 7) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), NULL, "expected 7 fields, got %zu", nf);
            break;
        }
        if (strcmp(f[0], a))
            continue;
        double v[5];
        for (int i = 0; i < 5 && !rc; i++) {
            char *end;
            errno = 0;
            v[i] = strtod(f[2 + i], &end);
            if (end == f[2 + i] || *end || errno || !isfinite(v[i]) || v[i] < 0)
                rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), names[i], "'%s' is not a number >= 0", f[2 + i]);
        }
        if (rc)
            break;
        hm_dosimetry_beam_default(b);
        static const char *proj[] = { "AP", "PA", "LLAT", "RLAT" };
        b->projection = NULL;
        for (int i = 0; i < 4; i++)
            if (!strcmp(f[1], proj[i]))
                b->projection = proj[i];
        if (!b->projection) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), "projection", "expected AP, PA, LLAT or RLAT");
            break;
        }
        b->kvp = v[0];
        b->filter_al_mm = v[1];
        b->filter_cu_mm = v[2];
        b->field_w_cm = b->field_h_cm = v[3];
        b->source_isocentre_cm = v[4];
        found = 1;
    }
    hm_csv_close(csv);
    if (rc < 0)
        return rc;
    if (!found)
        return hm_error_set(err, HM_ENOTFOUND, path, 0, "age", "no beam for age %s", a);
    return HM_OK;
}
