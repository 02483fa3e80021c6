/*
 * sampling_api.c — the engine's angular samplers and the differential cross
 * sections they follow, exposed so that tests can compare the two.
 */
#include "mc_source.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RE_CM 2.8179403262e-13   /* classical electron radius, CODATA 2018 */
#define NA    6.02214076e23      /* Avogadro constant */

int hm_mc_sample_cos(const char *material, int interaction, double energy_kev, size_t n,
                     uint64_t seed, double *cos_out, hm_error *err)
{
    if (interaction != 1 && interaction != 2)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "interaction", "1 = Compton, 2 = Rayleigh");
    if (!(energy_kev >= 1 && energy_kev < MC_EMAX_KEV - 1))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "energy_kev", "energy out of range");
    mc_material m;
    int rc = mc_material_lookup(material, &m, err);
    if (rc) return rc;
    if ((rc = mc_material_build(&m, 1, 1, err))) return rc;
    for (size_t i = 0; i < n; i++) {
        mc_rng r;
        mc_rng_init(&r, seed, i, 1);
        double u1 = mc_rng_u(&r), u2 = mc_rng_u(&r);
        cos_out[i] = 1.0 - 2.0 * mc_sample_v(interaction == 1 ? m.compt_q : m.rayl_q, energy_kev,
                                             u1, u2);
    }
    mc_material_free(&m);
    return 0;
}

/* The last material looked up, so that tests evaluating many angles do not
 * re-read compositions.csv each time. */
static pthread_mutex_t dcs_lock = PTHREAD_MUTEX_INITIALIZER;
static mc_material dcs_mat;

int hm_mc_dcs(const char *material, int interaction, double energy_kev, double mu, double *dcs,
              hm_error *err)
{
    mc_material m;
    pthread_mutex_lock(&dcs_lock);
    int rc = 0;
    if (strcmp(dcs_mat.name, material)) rc = mc_material_lookup(material, &dcs_mat, err);
    m = dcs_mat;
    if (rc) dcs_mat.name[0] = 0;
    pthread_mutex_unlock(&dcs_lock);
    if (rc) return rc;
    double v = 0.5 * (1.0 - mu);
    double q = energy_kev / MC_HC_KEV_A * sqrt(v);
    if (interaction == 2) {
        /* Thomson × F^2 (Hubbell et al. 1975): r_e^2/2 (1 + mu^2) F^2(q) per atom */
        *dcs = 0.5 * RE_CM * RE_CM * (1 + mu * mu) * mc_material_ff2(&m, q) * NA;
    } else if (interaction == 1) {
        /* Klein–Nishina × S(q) (Hubbell et al. 1975) */
        double k = energy_kev / MC_ELECTRON_KEV;
        double p = 1.0 / (1.0 + k * (1.0 - mu));
        *dcs = 0.5 * RE_CM * RE_CM * p * p * (p + 1.0 / p - (1.0 - mu * mu)) *
               mc_material_sf(&m, q) * NA;
    } else {
        return hm_error_set(err, HM_EINVAL, NULL, 0, "interaction", "1 = Compton, 2 = Rayleigh");
    }
    return 0;
}
