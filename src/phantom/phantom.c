/* phantom.c — building a built-in phantom and its accessors. */
#include "ph_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const age_names[][3] = {
    { "newborn", "0", "0y" }, { "1y", "1", "1" }, { "5y", "5", "5" },
    { "10y", "10", "10" }, { "15y", "15", "15" }, { "adult", "a", "adult" },
};

const char *hm_phantom_age_name(const char *age)
{
    if (!age)
        return NULL;
    for (size_t i = 0; i < sizeof age_names / sizeof age_names[0]; i++)
        for (int k = 0; k < 3; k++)
            if (!strcmp(age, age_names[i][k]))
                return age_names[i][0];
    return NULL;
}

int hm_phantom_build(const char *age, char sex, hm_phantom **out, hm_error *err)
{
    *out = NULL;
    const char *a = hm_phantom_age_name(age);
    if (!a)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age",
                            "unknown age '%s' (expected newborn, 1y, 5y, 10y, 15y or adult)",
                            age ? age : "");
    if (sex == 'm') sex = 'M';
    if (sex == 'f') sex = 'F';
    if (sex == 'h') sex = 'H';
    if (sex != 'M' && sex != 'F' && sex != 'H')
        return hm_error_set(err, HM_EINVAL, NULL, 0, "sex", "expected M, F or H");
    hm_phantom *p = calloc(1, sizeof *p);
    if (!p)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    snprintf(p->age, sizeof p->age, "%s", a);
    p->sex = sex;
    p->sx = p->sy = p->sz = 1.0;
    int rc = ph_load(p, err);
    if (!rc)
        rc = ph_fit(p, err);
    if (rc) {
        hm_phantom_free(p);
        return rc;
    }
    ph_region_masses(p);
    *out = p;
    return HM_OK;
}

void hm_phantom_free(hm_phantom *p)
{
    if (!p)
        return;
    free(p->solids);
    free(p->groups);
    free(p->regions);
    free(p);
}

const char *hm_phantom_age(const hm_phantom *p) { return p->age; }
char hm_phantom_sex(const hm_phantom *p) { return p->sex; }
double hm_phantom_height_cm(const hm_phantom *p) { return p->ex.height_cm; }

double hm_phantom_mass_kg(const hm_phantom *p)
{
    double m = 0;
    for (int r = 1; r <= p->nregions; r++)
        m += p->regions[r].mass_g;
    return m / 1000.0;
}

int hm_phantom_region_count(const hm_phantom *p) { return p->nregions; }

const hm_phantom_region *hm_phantom_region_info(const hm_phantom *p, int id)
{
    return id >= 0 && id <= p->nregions ? &p->regions[id] : NULL;
}

int hm_phantom_medium_count(const hm_phantom *p) { return p->nmedia; }

const hm_phantom_medium *hm_phantom_medium_info(const hm_phantom *p, int i)
{
    return i >= 0 && i < p->nmedia ? &p->media[i] : NULL;
}
