/*
 * realize.c — the realizations of one procedure's organ doses (2-D Monte
 * Carlo: Simon, Hoffman, Hofer, Radiat Res 183:27, 2015).
 *
 * Realization r multiplies the best estimate by one lognormal factor (median
 * 1) per error source, z ln(GSD) in the log; z comes from the stream of
 * (seed, source, entity, r) (hm_unc_normal), so every procedure naming the
 * same entity (device, device model, age class, tier-2 class) draws the
 * same z in realization r: that error is shared.  Unshared sources are named
 * by the procedure itself.  Which sources apply:
 *   all tiers:   library (everyone), phantom anatomy (age class and sex);
 *   tier 1:      KAP-meter calibration (device; its own GSD when measured),
 *                table transmission (device model), individual anatomy,
 *                imputed geometry (when an event's angles, field or
 *                distances were imputed);
 *   tier 2:      calibration, table, the tier-2 class coefficient (shared)
 *                and the procedure's deviation from it (unshared), each the
 *                larger of the cohort's own spread and the file's floor;
 *   tier 3:      the KAP drawn from the class (unshared) with the tier-2
 *                factors, instead of calibration and table (the drawn KAPs
 *                are other devices' calibrated ones).
 * The organs of a procedure share each z (one calibration error moves them
 * all), with organ-specific GSDs for the tier-2 factors.
 */
#include "doserun_int.h"

#include <math.h>
#include <string.h>

int dr_realize(const dr_unc_in *in, const hm_dose_uncertainty *u, uint64_t seed, int R,
               const double *best_mgy, size_t norgans, float *out, hm_error *err)
{
    if (norgans > DR_MAX_ORGANS)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "organs", "at most %d organs", DR_MAX_ORGANS);
    const double ln_lib = log(u->gsd[HM_UNC_LIBRARY]), ln_anat = log(u->gsd[HM_UNC_PHANTOM_ANATOMY]);
    const double ln_cal = log(in->calibration_known ? u->gsd_known[HM_UNC_KAP_CALIBRATION]
                                                    : u->gsd[HM_UNC_KAP_CALIBRATION]);
    const double ln_tab = log(u->gsd[HM_UNC_TABLE]);
    const double ln_ind = log(in->phantom_scaled ? u->gsd_known[HM_UNC_ANATOMY_INDIVIDUAL]
                                                 : u->gsd[HM_UNC_ANATOMY_INDIVIDUAL]);
    const double ln_geo = in->geometry_imputed ? log(u->gsd[HM_UNC_GEOMETRY_IMPUTED]) : 0;
    double ln_t2c[DR_MAX_ORGANS], ln_t2i[DR_MAX_ORGANS];
    if (in->tier >= 2)
        for (size_t o = 0; o < norgans; o++) {
            ln_t2c[o] = log(fmax(in->gsd_t2_cls[o], u->gsd[HM_UNC_TIER2_CLASS]));
            ln_t2i[o] = log(fmax(in->gsd_t2_ind[o], u->gsd[HM_UNC_TIER2_INDIVIDUAL]));
        }
    for (int r = 0; r < R; r++) {
        double lf = hm_unc_normal(seed, HM_UNC_LIBRARY, "all", r) * ln_lib
                  + hm_unc_normal(seed, HM_UNC_PHANTOM_ANATOMY, in->class_entity, r) * ln_anat;
        double zc = 0, zi = 0, kap_ratio = 1;
        if (in->tier <= 2)
            lf += hm_unc_normal(seed, HM_UNC_KAP_CALIBRATION, in->device_entity, r) * ln_cal
                + hm_unc_normal(seed, HM_UNC_TABLE, in->model_entity, r) * ln_tab;
        if (in->tier == 1) {
            lf += hm_unc_normal(seed, HM_UNC_ANATOMY_INDIVIDUAL, in->procedure_entity, r) * ln_ind;
            if (in->geometry_imputed)
                lf += hm_unc_normal(seed, HM_UNC_GEOMETRY_IMPUTED, in->procedure_entity, r) * ln_geo;
        } else {
            zc = hm_unc_normal(seed, HM_UNC_TIER2_CLASS, in->tier2_class, r);
            zi = hm_unc_normal(seed, HM_UNC_TIER2_INDIVIDUAL, in->procedure_entity, r);
        }
        if (in->tier == 3) {
            double median, drawn;
            int rc = hm_tier3_kap(in->t3, in->age_class, in->exam, in->country, in->era,
                                  hm_unc_uniform(seed, HM_UNC_TIER3_SAMPLE, in->procedure_entity, r),
                                  &median, &drawn, NULL, err);
            if (rc)
                return rc;
            kap_ratio = drawn / median;      /* the best estimate holds the median */
        }
        for (size_t o = 0; o < norgans; o++) {
            double l = lf;
            if (in->tier >= 2)
                l += zc * ln_t2c[o] + zi * ln_t2i[o];
            out[o * (size_t)R + (size_t)r] = (float)(best_mgy[o] * kap_ratio * exp(l));
        }
    }
    return HM_OK;
}
