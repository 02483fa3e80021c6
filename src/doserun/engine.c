/* engine.c — a conversion-coefficient library as the cohort run's engine. */
#include "hm_doserun.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int library_for_age(void *ctx, const char *age, double lateral_scale,
                           hm_dosimetry_beam_fn *fn, void **fn_ctx, hm_error *err)
{
    hm_doserun_library *l = ctx;
    int i = hm_dosimetry_age_class_index(age);
    if (i < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age", "no phantom for age class '%s'", age);
    /* Between the library's scales of the phantom (log-linear in dose,
     * hm_dose_library_lookup_sized); a library without them flags the lookup. */
    l->age[i].lateral_scale = lateral_scale;
    *fn = hm_dose_library_beam_fn;
    *fn_ctx = &l->age[i];
    return HM_OK;
}

void hm_doserun_library_engine(const hm_dose_library *lib, hm_doserun_library *l,
                               hm_doserun_engine *engine)
{
    memset(l, 0, sizeof *l);
    for (int i = 0; i < 5; i++) {
        l->age[i].lib = lib;
        l->age[i].age = HM_DOSIMETRY_AGE_CLASSES[i];
    }
    /* "fnv1a64:0123..." -> "fnv1a64-0123...": a run id has no colon. */
    snprintf(l->id, sizeof l->id, "%s", hm_dose_library_get_info(lib)->library_id);
    for (char *c = l->id; *c; c++)
        if (*c == ':')
            *c = '-';
    *engine = (hm_doserun_engine){ library_for_age, l, "library", l->id };
}

int hm_doserun_lateral_scale(const char *age_class, char sex, double height_cm, double mass_kg,
                             double *scale, int *known, hm_error *err)
{
    *scale = 1;
    *known = 0;
    if (!(mass_kg >= 0.3 && mass_kg <= 300))
        return HM_OK;
    int adult = !strcmp(age_class, "15y") || !strcmp(age_class, "adult");
    char s = adult && (sex == 'M' || sex == 'F') ? sex : adult ? 'M' : 'H';
    double h_ref, m_ref;
    int rc = hm_dose_phantom_reference_size(age_class, s, &h_ref, &m_ref, err);
    if (rc)
        return rc;
    /* hm_phantom_scale (src/phantom): z by h/h_ref, x and y by
     * sqrt((m/m_ref)/(h/h_ref)), so the volume scales with the mass. */
    if (height_cm >= 20 && height_cm <= 250)
        *scale = sqrt((mass_kg / m_ref) / (height_cm / h_ref));
    else
        *scale = cbrt(mass_kg / m_ref);
    *known = 1;
    return HM_OK;
}

long hm_doserun_library_out_of_grid(const hm_doserun_library *l, long *lookups)
{
    long n = 0, oog = 0;
    for (int i = 0; i < 5; i++) {
        n += l->age[i].lookups;
        oog += l->age[i].out_of_grid;
    }
    if (lookups)
        *lookups = n;
    return oog;
}
