/*
 * uncertainty.c — age classes, the error sources of the 2-D Monte Carlo
 * (data/dosimetry/uncertainty.csv) and their counter-based random streams.
 *
 * A draw is a pure function of (seed, source, entity, realization): Philox
 * keyed by the seed, counted by (source, 64-bit hash of the entity name,
 * realization).  So the dose of any procedure in any realization can be
 * recomputed alone, on any MPI rank or thread, and every procedure of one
 * device (say) sees the same calibration error in a realization: that is
 * what makes an error shared (Simon et al., Radiat Res 183:27, 2015).
 */
#include "hm_dosimetry.h"

#include <Random123/philox.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const HM_DOSIMETRY_AGE_CLASSES[HM_DOSIMETRY_NAGE_CLASSES] = {
    "newborn", "1y", "5y", "10y", "15y" };

const char *hm_dosimetry_age_class(double age_days)
{
    if (!(age_days >= 0))
        return NULL;
    /* Months of 30.4375 days (365.25 / 12). */
    double months = age_days / 30.4375;
    const char *const *a = HM_DOSIMETRY_AGE_CLASSES;
    return months < 4 ? a[0] : months < 31 ? a[1] : months < 91 ? a[2] : months < 211 ? a[3] : a[4];
}

int hm_dosimetry_age_class_index(const char *age_class)
{
    for (int i = 0; age_class && i < HM_DOSIMETRY_NAGE_CLASSES; i++)
        if (!strcmp(age_class, HM_DOSIMETRY_AGE_CLASSES[i]))
            return i;
    return -1;
}

static const char *const source_names[HM_UNC_NSOURCES] = {
    "kap_calibration", "table_transmission", "phantom_anatomy", "library_systematic",
    "geometry_imputed", "anatomy_individual", "tier2_class", "tier2_individual",
    "tier3_sample",
};

const char *hm_unc_source_name(hm_unc_source s)
{
    return (unsigned)s < HM_UNC_NSOURCES ? source_names[s] : "unknown";
}

static int parse_gsd(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= 1 && v <= 10))
        return -1;
    *out = v;
    return 0;
}

int hm_dose_uncertainty_load(const char *path, hm_dose_uncertainty *u, hm_error *err)
{
    memset(u, 0, sizeof *u);
    char found[1024];
    hm_csv *csv = NULL;
    int rc;
    if (path) {
        snprintf(found, sizeof found, "%s", path);
        csv = hm_csv_open(path, 1, err);
        rc = csv ? HM_OK : (err ? err->code : HM_EIO);
    } else {
        rc = hm_data_csv_open("dosimetry/uncertainty.csv", found, sizeof found, &csv, err);
    }
    if (rc)
        return rc;
    int seen[HM_UNC_NSOURCES] = { 0 };
    char **f;
    size_t nf;
    int header = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        rc = HM_OK;
        long line = hm_csv_line(csv);
        if (header) {
            header = 0;
            if (nf != 4 || strcmp(f[0], "name") || strcmp(f[1], "shared_by") || strcmp(f[2], "gsd")
                || strcmp(f[3], "gsd_known")) {
                rc = hm_error_set(err, HM_EPARSE, found, line, NULL,
                                  "expected the header name,shared_by,gsd,gsd_known");
                break;
            }
            continue;
        }
        if (nf != 4) {
            rc = hm_error_set(err, HM_EPARSE, found, line, NULL, "expected 4 fields, found %zu", nf);
            break;
        }
        int s = 0;
        while (s < HM_UNC_TIER3_SAMPLE && strcmp(f[0], source_names[s]))
            s++;
        if (s == HM_UNC_TIER3_SAMPLE) {
            rc = hm_error_set(err, HM_EPARSE, found, line, "name",
                              "unknown error source '%s' (expected kap_calibration, "
                              "table_transmission, phantom_anatomy, library_systematic, "
                              "geometry_imputed, anatomy_individual, tier2_class or "
                              "tier2_individual)", f[0]);
            break;
        }
        if (parse_gsd(f[2], &u->gsd[s]) || parse_gsd(f[3], &u->gsd_known[s])) {
            rc = hm_error_set(err, HM_EPARSE, found, line, parse_gsd(f[2], &u->gsd[s]) ? "gsd"
                                                                                  : "gsd_known",
                              "expected a geometric standard deviation in [1, 10]");
            break;
        }
        snprintf(u->shared_by[s], sizeof u->shared_by[s], "%s", f[1]);
        seen[s] = 1;
    }
    hm_csv_close(csv);
    if (rc < 0)
        return rc;
    for (int s = 0; s < HM_UNC_TIER3_SAMPLE; s++)
        if (!seen[s])
            return hm_error_set(err, HM_EPARSE, found, 0, source_names[s],
                                "no row for this error source");
    /* Tier-3 KAP is drawn from the empirical distribution of its class, not a lognormal. */
    u->gsd[HM_UNC_TIER3_SAMPLE] = u->gsd_known[HM_UNC_TIER3_SAMPLE] = 1;
    snprintf(u->shared_by[HM_UNC_TIER3_SAMPLE], sizeof u->shared_by[0], "procedure");
    return HM_OK;
}

/* FNV-1a, 64 bits (Fowler, Noll, Vo): entity names to counter words. */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static philox4x32_ctr_t draw(uint64_t seed, hm_unc_source s, const char *entity, int realization)
{
    uint64_t h = fnv1a(entity);
    philox4x32_key_t k = { { (uint32_t)seed, (uint32_t)(seed >> 32) } };
    philox4x32_ctr_t c = { { (uint32_t)s, (uint32_t)h, (uint32_t)(h >> 32), (uint32_t)realization } };
    return philox4x32(c, k);
}

/* 53 bits from two words, half a step off 0 and 1. */
static double u01(uint32_t hi, uint32_t lo)
{
    uint64_t x = ((uint64_t)hi << 21) ^ (lo >> 11);
    return ((double)(x & ((1ULL << 53) - 1)) + 0.5) * (1.0 / 9007199254740992.0);
}

double hm_unc_uniform(uint64_t seed, hm_unc_source s, const char *entity, int realization)
{
    philox4x32_ctr_t r = draw(seed, s, entity, realization);
    return u01(r.v[0], r.v[1]);
}

double hm_unc_normal(uint64_t seed, hm_unc_source s, const char *entity, int realization)
{
    /* Box & Muller, Ann Math Stat 29:610 (1958), from the block's four words. */
    philox4x32_ctr_t r = draw(seed, s, entity, realization);
    double u1 = u01(r.v[0], r.v[1]), u2 = u01(r.v[2], r.v[3]);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
