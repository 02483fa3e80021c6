/*
 * results_json.c — results as JSON (one object; regions with their names).
 */
#include "mc_internal.h"

#include <jansson.h>

int hm_mc_results_write_json(const hm_mc_scene *s, const hm_mc_results *r, FILE *fp)
{
    json_t *o = json_object();
    json_object_set_new(o, "histories", json_integer(r->histories));
    json_object_set_new(o, "threads", json_integer(r->threads));
    json_object_set_new(o, "seconds", json_real(r->seconds));
    json_object_set_new(o, "kap_gy_cm2_per_history", json_real(r->kap_gy_cm2));
    json_t *regs = json_array();
    for (int i = 0; i < r->nregions; i++) {
        const char *nm = hm_mc_region_name(s, i);
        if (r->edep_ev[i] == 0 && !nm) continue;
        json_t *x = json_object();
        json_object_set_new(x, "region", json_integer(i));
        if (nm) json_object_set_new(x, "name", json_string(nm));
        json_object_set_new(x, "mass_g", json_real(r->mass_g[i]));
        json_object_set_new(x, "edep_ev_per_history", json_real(r->edep_ev[i]));
        json_object_set_new(x, "edep_ev_sigma", json_real(r->edep_ev_sigma[i]));
        json_object_set_new(x, "dose_gy_per_history", json_real(r->dose_gy[i]));
        json_object_set_new(x, "dose_gy_sigma", json_real(r->dose_gy_sigma[i]));
        if (r->kap_gy_cm2 > 0)
            json_object_set_new(x, "dose_per_kap_gy_per_gy_cm2", json_real(r->dose_gy[i] / r->kap_gy_cm2));
        if (r->nkerma_points && r->kerma_point_gy[0] > 0)
            json_object_set_new(x, "dose_per_air_kerma", json_real(r->dose_gy[i] / r->kerma_point_gy[0]));
        json_array_append_new(regs, x);
    }
    json_object_set_new(o, "regions", regs);
    json_t *kp = json_array();
    for (size_t i = 0; i < r->nkerma_points; i++)
        json_array_append_new(kp, json_real(r->kerma_point_gy[i]));
    json_object_set_new(o, "kerma_points_gy_per_history", kp);
    json_t *kd = json_array();
    for (size_t i = 0; i < r->nkerma_discs; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "air_kerma_gy_per_history", json_real(r->kerma_disc_gy[i]));
        json_object_set_new(x, "air_kerma_sigma", json_real(r->kerma_disc_gy_sigma[i]));
        json_object_set_new(x, "planar_fluence_cm2_per_history", json_real(r->disc_fluence_cm2[i]));
        json_array_append_new(kd, x);
    }
    json_object_set_new(o, "kerma_discs", kd);
    int rc = json_dumpf(o, fp, JSON_INDENT(2) | JSON_REAL_PRECISION(8));
    fputc('\n', fp);
    json_decref(o);
    return rc ? HM_EIO : 0;
}
