/*
 * marrow.c — the active-marrow share of each skeletal site by age
 * (data/phantoms/marrow_sites.csv; Cristy 1981, Phys Med Biol 26:389).
 */
#include "hm_phantom.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int hm_phantom_marrow_share(const char *age, const char *site, double *share, hm_error *err)
{
    const char *a = hm_phantom_age_name(age);
    if (!a)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age", "unknown age '%s'", age ? age : "");
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("phantoms/marrow_sites.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    int col = -1;
    double total = 0, mine = -1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        if (col < 0) {
            for (size_t i = 1; i < nf; i++)
                if (!strcmp(f[i], a))
                    col = (int)i;
            if (col < 0) {
                rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), a, "no column for age %s", a);
                break;
            }
            continue;
        }
        if ((size_t)col >= nf) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), a, "missing value");
            break;
        }
        char *end;
        errno = 0;
        double v = strtod(f[col], &end);
        if (end == f[col] || *end || errno || !(v >= 0) || !isfinite(v)) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), a, "'%s' is not a percentage >= 0", f[col]);
            break;
        }
        total += v;
        if (!strcmp(f[0], site))
            mine = v;
    }
    hm_csv_close(csv);
    if (rc < 0)
        return rc;
    if (total <= 0)
        return hm_error_set(err, HM_EPARSE, path, 0, a, "no marrow shares");
    *share = mine < 0 ? 0 : mine / total;
    return HM_OK;
}
