/* engine.c — a conversion-coefficient library as the cohort run's engine. */
#include "hm_doserun.h"

#include <stdio.h>
#include <string.h>

static int library_for_age(void *ctx, const char *age, hm_dosimetry_beam_fn *fn, void **fn_ctx,
                           hm_error *err)
{
    hm_doserun_library *l = ctx;
    int i = hm_dosimetry_age_class_index(age);
    if (i < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age", "no phantom for age class '%s'", age);
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
