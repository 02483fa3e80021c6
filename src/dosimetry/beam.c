/*
 * beam.c — one beam on a voxel phantom: the Monte Carlo scene, the run, and
 * the normalisation per kerma-area product.
 *
 * Geometry: the isocentre is the centroid of the landmark organ (the heart for
 * cardiac work: aligning the phantom on the heart matters, Borrego 2017 Med
 * Phys 44:4928 and anchors.md section 3) plus an offset; the source sits at
 * source_isocentre_cm from it against the beam direction; the field is a
 * rectangle at the isocentre plane.  Doses per KAP: the engine reports the
 * beam's KAP per history (air kerma x field area in any plane, free in air).
 */
#include "dos_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;
/* Elements per material accepted by hm_mc_add_material_composition. */
enum { MC_MAX_ELEMENTS = 16 };

void hm_dosimetry_beam_default(hm_dosimetry_beam *b)
{
    memset(b, 0, sizeof *b);
    b->projection = "AP";
    b->source_isocentre_cm = 70;
    b->field_w_cm = b->field_h_cm = 10;
    b->kvp = 70;
    b->anode_angle_deg = 12;
    b->filter_al_mm = 3;
    b->filter_cu_mm = 0.1;
    b->landmark = "heart";
    b->dose_factor = 1;
}

void hm_dosimetry_result_free(hm_dosimetry_result *r)
{
    if (!r)
        return;
    free(r->organs);
    memset(r, 0, sizeof *r);
}

/* Central-ray direction (source -> isocentre) in phantom coordinates (x to the
 * patient's left, y posterior, z up); exported privately for library.c. */
int dos_beam_direction(const hm_dosimetry_beam *b, double d[3], hm_error *err)
{
    double n2 = b->direction[0] * b->direction[0] + b->direction[1] * b->direction[1]
              + b->direction[2] * b->direction[2];
    if (n2 > 0) {
        for (int k = 0; k < 3; k++)
            d[k] = b->direction[k] / sqrt(n2);
        return HM_OK;
    }
    const char *pj = b->projection ? b->projection : "AP";
    double base;   /* azimuth of the source around the body axis, radians from anterior */
    if (!strcmp(pj, "AP")) base = 0;
    else if (!strcmp(pj, "PA")) base = PI;
    else if (!strcmp(pj, "LLAT")) base = PI / 2;      /* source on the patient's left */
    else if (!strcmp(pj, "RLAT")) base = -PI / 2;
    else
        return hm_error_set(err, HM_EINVAL, NULL, 0, "projection", "expected AP, PA, LLAT or RLAT, got '%s'", pj);
    double az = base + b->primary_deg * PI / 180, el = b->secondary_deg * PI / 180;
    /* Source position direction s (unit, from isocentre): anterior is -y, left +x, cranial +z. */
    double s[3] = { sin(az) * cos(el), -cos(az) * cos(el), sin(el) };
    for (int k = 0; k < 3; k++)
        d[k] = -s[k];
    return HM_OK;
}

static int check_beam(const hm_dosimetry_beam *b, const hm_dosimetry_params *p, hm_error *err)
{
    if (!(b->kvp >= 20 && b->kvp <= 150))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "kvp", "kVp %g out of range 20..150", b->kvp);
    if (!(b->source_isocentre_cm > 10 && b->source_isocentre_cm < 500))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "source_isocentre_cm", "distance out of range 10..500 cm");
    if (!(b->field_w_cm > 0 && b->field_h_cm > 0 && b->field_w_cm < 100 && b->field_h_cm < 100))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "field_cm", "field sizes must be in 0..100 cm");
    if (b->filter_al_mm < 0 || b->filter_cu_mm < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "filter", "filter thickness must be >= 0");
    if (p->histories < 1000)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "histories", "at least 1000 histories");
    return HM_OK;
}

/* One scene material per (medium, density) pair met in the region table. */
static int add_materials(hm_mc_scene *s, const hm_voxel_phantom *v, int *map, hm_error *err)
{
    map[0] = -1;
    for (int r = 1; r <= v->nregions; r++) {
        const hm_phantom_region *g = &v->regions[r];
        if (g->medium < 0 || g->medium >= v->nmedia) {
            map[r] = -1;
            continue;
        }
        char name[96];
        snprintf(name, sizeof name, "ph_%s_%.6g", v->media[g->medium].name, g->density_g_cm3);
        for (char *c = name; *c; c++)
            if (*c == ' ' || *c == ',')
                *c = '_';
        int m = hm_mc_find_material(s, name);
        if (m < 0) {
            /* The engine takes at most MC_MAX_ELEMENTS elements: keep the largest
             * fractions (the rest are traces below 0.01 %, e.g. Zr, Rb, Pb in
             * the ORNL skeleton); the engine renormalises. */
            const hm_phantom_medium *md = &v->media[g->medium];
            int z[HM_PHANTOM_MAX_ELEMENTS], nz = md->nelements;
            double w[HM_PHANTOM_MAX_ELEMENTS];
            memcpy(z, md->z, sizeof(int) * (size_t)nz);
            memcpy(w, md->mass_fraction, sizeof(double) * (size_t)nz);
            for (int i = 1; i < nz; i++)
                for (int j = i; j > 0 && w[j] > w[j - 1]; j--) {
                    double tw = w[j]; w[j] = w[j - 1]; w[j - 1] = tw;
                    int tz = z[j]; z[j] = z[j - 1]; z[j - 1] = tz;
                }
            if (nz > MC_MAX_ELEMENTS)
                nz = MC_MAX_ELEMENTS;
            m = hm_mc_add_material_composition(s, name, g->density_g_cm3, (size_t)nz, z, w, err);
        }
        if (m < 0)
            return m;
        map[r] = m;
    }
    return HM_OK;
}

static int build_scene(hm_mc_scene *s, const hm_voxel_phantom *v, const hm_dosimetry_beam *b,
                       const hm_mc_spectrum *spec, hm_dosimetry_result *out, hm_error *err)
{
    int rc;
    int *map = malloc(sizeof *map * (size_t)(v->nregions + 1));
    if (!map)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    if ((rc = add_materials(s, v, map, err))) {
        free(map);
        return rc;
    }
    double d[3], iso[3], src[3];
    if ((rc = dos_beam_direction(b, d, err)) ||
        (rc = hm_voxel_phantom_centroid(v, b->landmark ? b->landmark : "heart", iso, err))) {
        free(map);
        return rc;
    }
    for (int k = 0; k < 3; k++) {
        iso[k] += b->offset_cm[k];
        src[k] = iso[k] - b->source_isocentre_cm * d[k];
    }
    memcpy(out->isocentre_cm, iso, sizeof iso);
    /* World: the grid and the source, with a margin; vacuum outside the body. */
    double lo[3], hi[3];
    int dims[3] = { v->nx, v->ny, v->nz };
    for (int k = 0; k < 3; k++) {
        lo[k] = fmin(v->origin_cm[k], src[k]) - 1;
        hi[k] = fmax(v->origin_cm[k] + dims[k] * v->voxel_cm[k], src[k]) + 1;
    }
    hm_mc_voxels vx;
    memset(&vx, 0, sizeof vx);
    vx.nx = v->nx; vx.ny = v->ny; vx.nz = v->nz;
    memcpy(vx.voxel_cm, v->voxel_cm, sizeof vx.voxel_cm);
    memcpy(vx.origin_cm, v->origin_cm, sizeof vx.origin_cm);
    vx.mat16 = v->ids;               /* material by region id, through the map */
    vx.material_map = map;
    vx.nmaterial_map = v->nregions + 1;
    vx.region = v->ids;
    vx.region_default = 0;
    hm_mc_source src_def;
    memset(&src_def, 0, sizeof src_def);
    src_def.kind = HM_MC_SRC_RECT;
    memcpy(src_def.position_cm, src, sizeof src);
    memcpy(src_def.direction, d, sizeof d);
    /* u along the body axis where possible (cranio-caudal), else along y. */
    double up[3] = { 0, 0, 1 };
    if (fabs(d[2]) > 0.99) { up[1] = 1; up[2] = 0; }
    memcpy(src_def.up, up, sizeof up);
    src_def.plane_distance_cm = b->source_isocentre_cm;
    src_def.u_min_cm = -b->field_h_cm / 2; src_def.u_max_cm = b->field_h_cm / 2;
    src_def.v_min_cm = -b->field_w_cm / 2; src_def.v_max_cm = b->field_w_cm / 2;
    /* Bins below 1 keV carry no fluence after the filters, but the engine's
     * KAP integral looks up mu_en of air there (tabulated from 1 keV): start
     * the spectrum at the first bin whose lower edge is >= 1 keV. */
    hm_mc_spectrum trimmed = *spec;
    size_t skip = 0;
    while (skip + 1 < spec->n && spec->energy_kev[skip] - 0.5 * spec->bin_kev < 1.0)
        skip++;
    trimmed.n -= skip;
    trimmed.energy_kev += skip;
    trimmed.fluence += skip;
    src_def.spectrum = &trimmed;
    if ((rc = hm_mc_set_world(s, -1, lo, hi, err)) || (rc = hm_mc_add_voxels(s, &vx, err)) ||
        (rc = hm_mc_set_source(s, &src_def, err))) {
        free(map);
        return rc;
    }
    free(map);
    for (int r = 1; r <= v->nregions; r++)
        if (v->regions[r].medium >= 0 && (rc = hm_mc_set_region_name(s, r, v->regions[r].name, err)))
            return rc;
    /* The skin entrance of the central ray, for the report (and the user's
     * entrance-dose checks). */
    if (hm_voxel_phantom_skin_entrance(v, src, d, out->entrance_cm, NULL))
        memset(out->entrance_cm, 0, sizeof out->entrance_cm);
    return HM_OK;
}

int hm_dosimetry_organ_doses(const hm_voxel_phantom *v, const hm_dosimetry_beam *b,
                             const hm_dosimetry_params *p, hm_dosimetry_result *out, hm_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_beam(b, p, err);
    if (rc)
        return rc;
    hm_mc_filter filters[2] = { { "aluminium", b->filter_al_mm }, { "copper", b->filter_cu_mm } };
    hm_mc_spectrum spec;
    memset(&spec, 0, sizeof spec);
    rc = hm_mc_spectrum_tungsten(b->kvp, b->anode_angle_deg > 0 ? b->anode_angle_deg : 12, filters, 2, 1.0,
                                 &spec, err);
    if (rc)
        return rc;
    hm_mc_scene *s = NULL;
    hm_mc_results res;
    memset(&res, 0, sizeof res);
    if (!(rc = hm_mc_scene_new(&s, err)) && !(rc = build_scene(s, v, b, &spec, out, err))) {
        hm_mc_run_params rp;
        hm_mc_run_params_default(&rp);
        rp.histories = p->histories;
        rp.seed = p->seed;
        rp.threads = p->threads > 0 ? p->threads : 1;
        rc = hm_mc_run(s, &rp, &res, err);
    }
    if (rc) {
        hm_mc_spectrum_free(&spec);
        hm_mc_scene_free(s);
        return rc;
    }
    if (!(res.kap_gy_cm2 > 0) || res.nregions < v->nregions + 1) {
        rc = hm_error_set(err, HM_ENUMERIC, NULL, 0, "kap", "the run returned no KAP or too few regions");
    } else {
        /* Per KAP: Gy per history / (Gy cm2 per history) -> x 1000 for mGy per Gy cm2. */
        double *dose = calloc((size_t)v->nregions + 1, sizeof *dose);
        double *sig = calloc((size_t)v->nregions + 1, sizeof *sig);
        if (!dose || !sig) {
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        } else {
            for (int r = 1; r <= v->nregions; r++) {
                dose[r] = 1000.0 * res.dose_gy[r] / res.kap_gy_cm2;
                sig[r] = 1000.0 * res.dose_gy_sigma[r] / res.kap_gy_cm2;
            }
            double ent[3], iso[3];
            memcpy(ent, out->entrance_cm, sizeof ent);
            memcpy(iso, out->isocentre_cm, sizeof iso);
            rc = hm_dosimetry_gather(v, dose, sig, dos_marrow_factor(v, &spec), out, err);
            memcpy(out->entrance_cm, ent, sizeof ent);
            memcpy(out->isocentre_cm, iso, sizeof iso);
            out->kap_gy_cm2 = res.kap_gy_cm2;
            out->seconds = res.seconds;
            out->histories = res.histories;
        }
        free(dose);
        free(sig);
    }
    hm_mc_spectrum_free(&spec);
    hm_mc_results_free(&res);
    hm_mc_scene_free(s);
    return rc;
}
