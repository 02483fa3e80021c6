/* device.c — an X-ray device's defaults (data/dosimetry/device_defaults.csv). */
#include "dos_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int hm_dosimetry_device_default(hm_dosimetry_device *d, hm_error *err)
{
    memset(d, 0, sizeof *d);
    double table[3] = { NAN, NAN, NAN };
    struct { const char *name; double *dst; double lo, hi; } want[] = {
        { "inherent_filter_al_mm", &d->inherent_filter_al_mm, 0, 20 },
        { "source_isocentre_mm", &d->source_isocentre_mm, 100, 5000 },
        { "source_detector_mm", &d->source_detector_mm, 100, 5000 },
        { "isocentre_to_reference_point_mm", &d->isocentre_to_reference_point_mm, 0, 1000 },
        { "kap_calibration", &d->kap_calibration, 0.1, 10 },
        { "field_at_detector_mm", &d->field_at_detector_mm, 10, 1000 },
        { "table_lateral_sign", &table[0], -1, 1 },
        { "table_longitudinal_sign", &table[1], -1, 1 },
        { "table_height_sign", &table[2], -1, 1 },
    };
    size_t nwant = sizeof want / sizeof want[0];
    for (size_t i = 0; i < nwant; i++)
        *want[i].dst = NAN;
    /* No default transmission per kV: the measured table by kV and copper
     * (data/dosimetry/table_transmission.csv) stands in for a device that has
     * none of its own (hm_dosimetry_table_factor). */
    for (int k = 0; k < 4; k++)
        d->table_transmission[k] = NAN;
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("dosimetry/device_defaults.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    int header = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        rc = HM_OK;
        long line = hm_csv_line(csv);
        if (header) {
            header = 0;
            if (nf < 2 || strcmp(f[0], "name") || strcmp(f[1], "value")) {
                rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "expected the header name,value,unit");
                break;
            }
            continue;
        }
        size_t i = 0;
        while (i < nwant && (nf < 1 || strcmp(f[0], want[i].name)))
            i++;
        if (i == nwant || nf < 2) {
            rc = hm_error_set(err, HM_EPARSE, path, line, "name", "unknown parameter '%s'",
                              nf ? f[0] : "");
            break;
        }
        char *end;
        errno = 0;
        double v = strtod(f[1], &end);
        if (end == f[1] || *end || errno || !(v >= want[i].lo && v <= want[i].hi)) {
            rc = hm_error_set(err, HM_EPARSE, path, line, want[i].name,
                              "'%s': expected a number in [%g, %g]", f[1], want[i].lo, want[i].hi);
            break;
        }
        *want[i].dst = v;
    }
    hm_csv_close(csv);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < nwant; i++)
        if (!isfinite(*want[i].dst))
            return hm_error_set(err, HM_EPARSE, path, 0, want[i].name, "parameter missing");
    for (int k = 0; k < 3; k++) {
        if (table[k] != 1 && table[k] != -1)
            return hm_error_set(err, HM_EPARSE, path, 0, want[6 + k].name, "expected 1 or -1");
        d->table_sign[k] = (int)table[k];
    }
    return HM_OK;
}

int hm_dosimetry_table_factor(const hm_dosimetry_device *dev, double kvp, double cu_mm,
                              double cos_from_vertical, double *factor, hm_error *err)
{
    *factor = 1;
    if (!(cos_from_vertical > 0.5))
        return HM_OK;
    if (!(kvp > 0) || !(cu_mm >= 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, !(kvp > 0) ? "kvp" : "filter_cu_mm",
                            "%g: expected a positive tube voltage and a copper thickness >= 0",
                            !(kvp > 0) ? kvp : cu_mm);
    static const double kv[4] = { 60, 80, 100, 120 };
    double own[4];
    int nown = 0;
    for (int k = 0; k < 4; k++)
        nown += isfinite(own[k] = dev->table_transmission[k]);
    const dos_ttable *tt = NULL;
    if (nown < 4) {
        int rc = dos_ttable_default(&tt, err);
        if (rc)
            return rc;
    }
    double t;
    if (nown == 0) {
        t = dos_ttable_at(tt, 1, kvp, cu_mm);
    } else {
        for (int k = 0; k < 4; k++)
            if (!isfinite(own[k]))
                own[k] = dos_ttable_at(tt, 1, kv[k], cu_mm);
        if (!(kvp > kv[0]))
            t = own[0];
        else if (kvp >= kv[3])
            t = own[3];
        else {
            int i = kvp < kv[1] ? 0 : kvp < kv[2] ? 1 : 2;
            double w = (kvp - kv[i]) / (kv[i + 1] - kv[i]);
            t = (1 - w) * own[i] + w * own[i + 1];
        }
    }
    *factor = pow(t, 1 / cos_from_vertical);
    return HM_OK;
}
