/*
 * scene.c — building a scene through the C API: materials, world, solids,
 * voxel grids, score boxes, source, kerma tallies, physics switches.
 */
#include "mc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hm_mc_physics_default(hm_mc_physics *p)
{
    p->rayleigh = 1;
    p->compton_sf = 1;
    p->fluorescence = 1;
    p->doppler = 0;
    p->cutoff_kev = 1.0;
}

int hm_mc_scene_new(hm_mc_scene **out, hm_error *err)
{
    hm_mc_scene *s = calloc(1, sizeof *s);
    if (!s) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    s->world_mat = -1;
    hm_mc_physics_default(&s->phys);
    *out = s;
    return 0;
}

void hm_mc_scene_free(hm_mc_scene *s)
{
    if (!s) return;
    for (int i = 0; i < s->nmat; i++) mc_material_free(&s->mat[i]);
    free(s->mat);
    for (int i = 0; i < s->nel; i++) {
        mc_voxgrid *g = s->el[i].vox;
        if (g) {
            free(g->mat); free(g->region); free(g->density); free(g->maj);
            mc_dda_free(g->dda);
            mc_mtree_free(g->tree);
            free(g);
        }
    }
    free(s->el);
    free(s->sb);
    hm_mc_spectrum_free(&s->spec);
    free(s->kpoints);
    free(s->discs);
    for (int i = 0; i < s->nregion_names; i++) free(s->region_names[i]);
    free(s->region_names);
    free(s->region_mass);
    free(s);
}

static int grow(void **p, int *cap, int need, size_t size, hm_error *err)
{
    if (need <= *cap) return 0;
    int nc = *cap ? *cap * 2 : 8;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, (size_t)nc * size);
    if (!q) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    *p = q;
    *cap = nc;
    return 0;
}

int hm_mc_find_material(const hm_mc_scene *s, const char *name)
{
    if (!strcmp(name, "vacuum")) return -1;
    for (int i = 0; i < s->nmat; i++)
        if (!strcmp(s->mat[i].name, name)) return i;
    return HM_ENOTFOUND;
}

static int push_material(hm_mc_scene *s, const mc_material *m, hm_error *err)
{
    if (s->nmat >= 65000)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "materials", "too many materials");
    int rc = grow((void **)&s->mat, &s->capmat, s->nmat + 1, sizeof *s->mat, err);
    if (rc) return rc;
    s->mat[s->nmat] = *m;
    return s->nmat++;
}

int hm_mc_add_material(hm_mc_scene *s, const char *name, double density_g_cm3, hm_error *err)
{
    mc_material m;
    int rc = mc_material_lookup(name, &m, err);
    if (rc) return rc;
    if (density_g_cm3 > 0) m.density_g_cm3 = density_g_cm3;
    return push_material(s, &m, err);
}

int hm_mc_add_material_composition(hm_mc_scene *s, const char *name, double density_g_cm3,
                                   size_t n, const int *z, const double *mass_fraction,
                                   hm_error *err)
{
    mc_material m;
    int rc = mc_material_set(&m, name, density_g_cm3, n, z, mass_fraction, err);
    if (rc) return rc;
    return push_material(s, &m, err);
}

static int check_mat(const hm_mc_scene *s, int m, hm_error *err)
{
    if (m < -1 || m >= s->nmat)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "material",
                            "material index %d not in the scene (0..%d, -1 vacuum)", m, s->nmat - 1);
    return 0;
}

int hm_mc_set_world(hm_mc_scene *s, int material, const double lo_cm[3], const double hi_cm[3],
                    hm_error *err)
{
    int rc = check_mat(s, material, err);
    if (rc) return rc;
    for (int k = 0; k < 3; k++)
        if (!(hi_cm[k] > lo_cm[k]))
            return hm_error_set(err, HM_EINVAL, NULL, 0, "world",
                                "world box: hi must exceed lo on axis %d", k);
    s->world_mat = material;
    memcpy(s->world_lo, lo_cm, sizeof s->world_lo);
    memcpy(s->world_hi, hi_cm, sizeof s->world_hi);
    s->world_set = 1;
    return 0;
}

static void note_region(hm_mc_scene *s, int r)
{
    if (r > s->max_region) s->max_region = r;
}

int hm_mc_add_solid(hm_mc_scene *s, const hm_mc_solid *so, hm_error *err)
{
    int rc = check_mat(s, so->material, err);
    if (rc) return rc;
    if (so->kind < HM_MC_BOX || so->kind > HM_MC_ELLIPSOID)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "type", "unknown solid kind %d", so->kind);
    if (so->region < 0 || so->region >= MC_MAXREGIONS)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "region", "region must be 0..%d",
                            MC_MAXREGIONS - 1);
    if (so->kind == HM_MC_CYLINDER && (so->axis < 0 || so->axis > 2))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "axis", "cylinder axis must be 0, 1 or 2");
    for (int k = 0; k < 3; k++)
        if (!(so->half_cm[k] > 0) || !isfinite(so->half_cm[k]) || !isfinite(so->center_cm[k]))
            return hm_error_set(err, HM_EINVAL, NULL, 0, "half",
                                "solid half sizes must be finite and > 0 (axis %d)", k);
    rc = grow((void **)&s->el, &s->capel, s->nel + 1, sizeof *s->el, err);
    if (rc) return rc;
    mc_element *e = &s->el[s->nel];
    memset(e, 0, sizeof *e);
    e->kind = MC_EL_SOLID;
    e->s = *so;
    for (int k = 0; k < 3; k++) {
        e->lo[k] = so->center_cm[k] - so->half_cm[k];
        e->hi[k] = so->center_cm[k] + so->half_cm[k];
    }
    note_region(s, so->region);
    s->nel++;
    return 0;
}

int hm_mc_add_score_box(hm_mc_scene *s, const double lo_cm[3], const double hi_cm[3], int region,
                        hm_error *err)
{
    if (region < 1 || region >= MC_MAXREGIONS)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "region", "score box region must be 1..%d",
                            MC_MAXREGIONS - 1);
    for (int k = 0; k < 3; k++)
        if (!(hi_cm[k] > lo_cm[k]))
            return hm_error_set(err, HM_EINVAL, NULL, 0, "hi", "score box: hi must exceed lo");
    int rc = grow((void **)&s->sb, &s->capsb, s->nsb + 1, sizeof *s->sb, err);
    if (rc) return rc;
    memcpy(s->sb[s->nsb].lo, lo_cm, sizeof(double) * 3);
    memcpy(s->sb[s->nsb].hi, hi_cm, sizeof(double) * 3);
    s->sb[s->nsb].region = region;
    note_region(s, region);
    s->nsb++;
    return 0;
}

int hm_mc_add_voxels(hm_mc_scene *s, const hm_mc_voxels *v, hm_error *err)
{
    if (v->nx < 1 || v->ny < 1 || v->nz < 1)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "dims", "voxel grid dimensions must be >= 1");
    if ((!v->mat8) == (!v->mat16))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "materials",
                            "exactly one of mat8 and mat16 must be given");
    if (!v->material_map || v->nmaterial_map < 1)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "material_map", "material map missing");
    for (int i = 0; i < v->nmaterial_map; i++) {
        int rc = check_mat(s, v->material_map[i], err);
        if (rc) return rc;
    }
    for (int k = 0; k < 3; k++)
        if (!(v->voxel_cm[k] > 0))
            return hm_error_set(err, HM_EINVAL, NULL, 0, "voxel_cm", "voxel size must be > 0");
    size_t n = (size_t)v->nx * v->ny * v->nz;
    mc_voxgrid *g = calloc(1, sizeof *g);
    if (!g) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    g->mat = malloc(n * sizeof *g->mat);
    if (v->region) g->region = malloc(n * sizeof *g->region);
    if (v->density_g_cm3) g->density = malloc(n * sizeof *g->density);
    if (!g->mat || (v->region && !g->region) || (v->density_g_cm3 && !g->density)) {
        free(g->mat); free(g->region); free(g->density); free(g);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory for %zu voxels", n);
    }
    int maxreg = v->region_default;
    for (size_t i = 0; i < n; i++) {
        int id = v->mat8 ? v->mat8[i] : v->mat16[i];
        if (id >= v->nmaterial_map) {
            free(g->mat); free(g->region); free(g->density); free(g);
            return hm_error_set(err, HM_EINVAL, NULL, (long)i + 1, "material",
                                "voxel %zu has material id %d beyond the map (%d entries)",
                                i, id, v->nmaterial_map);
        }
        g->mat[i] = (uint16_t)(v->material_map[id] + 1);
        if (v->region) {
            g->region[i] = v->region[i];
            if (v->region[i] > maxreg) maxreg = v->region[i];
        }
        if (v->density_g_cm3) {
            float d = v->density_g_cm3[i];
            if (!(d >= 0) || !isfinite(d)) {
                free(g->mat); free(g->region); free(g->density); free(g);
                return hm_error_set(err, HM_EINVAL, NULL, (long)i + 1, "density",
                                    "voxel %zu: density must be finite and >= 0", i);
            }
            g->density[i] = d;
        }
    }
    g->nx = v->nx; g->ny = v->ny; g->nz = v->nz;
    for (int k = 0; k < 3; k++) {
        g->d[k] = v->voxel_cm[k];
        g->inv_d[k] = 1.0 / v->voxel_cm[k];
        g->origin[k] = v->origin_cm[k];
    }
    g->region_default = v->region_default;
    g->score = v->score_voxels;
    int rc = grow((void **)&s->el, &s->capel, s->nel + 1, sizeof *s->el, err);
    if (rc) { free(g->mat); free(g->region); free(g->density); free(g); return rc; }
    mc_element *e = &s->el[s->nel];
    memset(e, 0, sizeof *e);
    e->kind = MC_EL_VOXELS;
    e->vox = g;
    e->s.kind = HM_MC_BOX;
    e->s.material = -1;
    e->s.region = v->region_default;
    e->lo[0] = g->origin[0]; e->hi[0] = g->origin[0] + g->nx * g->d[0];
    e->lo[1] = g->origin[1]; e->hi[1] = g->origin[1] + g->ny * g->d[1];
    e->lo[2] = g->origin[2]; e->hi[2] = g->origin[2] + g->nz * g->d[2];
    for (int k = 0; k < 3; k++) {
        e->s.center_cm[k] = 0.5 * (e->lo[k] + e->hi[k]);
        e->s.half_cm[k] = 0.5 * (e->hi[k] - e->lo[k]);
    }
    note_region(s, maxreg);
    s->nel++;
    return 0;
}

int hm_mc_set_source(hm_mc_scene *s, const hm_mc_source *src, hm_error *err)
{
    double n = sqrt(src->direction[0] * src->direction[0] + src->direction[1] * src->direction[1] +
                    src->direction[2] * src->direction[2]);
    if (!(n > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "direction", "source direction is zero");
    if (src->kind < HM_MC_SRC_RECT || src->kind > HM_MC_SRC_PARALLEL)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "type", "unknown source kind %d", src->kind);
    if (src->kind == HM_MC_SRC_RECT && !(src->plane_distance_cm > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "plane_distance_cm",
                            "rectangular field needs plane_distance_cm > 0");
    if (src->kind != HM_MC_SRC_CONE &&
        !(src->u_max_cm > src->u_min_cm && src->v_max_cm > src->v_min_cm))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "field",
                            "field needs u_max > u_min and v_max > v_min");
    if (src->kind == HM_MC_SRC_RECT) {
        double D = src->plane_distance_cm;
        double m = fmax(fmax(fabs(src->u_min_cm), fabs(src->u_max_cm)),
                        fmax(fabs(src->v_min_cm), fabs(src->v_max_cm)));
        if (m / D > 3.0)
            return hm_error_set(err, HM_EINVAL, NULL, 0, "field",
                                "rectangular field wider than +-71 degrees is not supported");
    }
    if (src->kind == HM_MC_SRC_CONE && !(src->half_angle_deg > 0 && src->half_angle_deg < 90))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "half_angle_deg",
                            "cone half angle must be in (0, 90) degrees");
    hm_mc_spectrum_free(&s->spec);
    int rc;
    if (src->energy_kev > 0) {
        rc = hm_mc_spectrum_mono(src->energy_kev, &s->spec, err);
    } else if (src->spectrum && src->spectrum->n) {
        const hm_mc_spectrum *sp = src->spectrum;
        s->spec.n = sp->n;
        s->spec.bin_kev = sp->bin_kev;
        s->spec.bins = sp->bins;
        s->spec.energy_kev = malloc(sp->n * sizeof(double));
        s->spec.fluence = malloc(sp->n * sizeof(double));
        if (!s->spec.energy_kev || !s->spec.fluence) {
            hm_mc_spectrum_free(&s->spec);
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        }
        memcpy(s->spec.energy_kev, sp->energy_kev, sp->n * sizeof(double));
        memcpy(s->spec.fluence, sp->fluence, sp->n * sizeof(double));
        rc = 0;
    } else {
        return hm_error_set(err, HM_EINVAL, NULL, 0, "energy",
                            "source needs energy_kev > 0 or a spectrum");
    }
    if (rc) return rc;
    double emax = s->spec.energy_kev[s->spec.n - 1] +
                  (s->spec.bins == HM_MC_BIN_POINT ? 0 : s->spec.bin_kev);
    if (emax > MC_EMAX_KEV - 1)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "energy",
                            "source energies must stay below %.0f keV", MC_EMAX_KEV - 1);
    s->src = *src;
    s->src.spectrum = NULL;
    for (int k = 0; k < 3; k++) s->src.direction[k] /= n;
    s->src_set = 1;
    return 0;
}

int hm_mc_add_kerma_point(hm_mc_scene *s, const double p_cm[3], hm_error *err)
{
    double *q = realloc(s->kpoints, (s->nkpoints + 1) * 3 * sizeof(double));
    if (!q) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    s->kpoints = q;
    memcpy(q + 3 * s->nkpoints, p_cm, 3 * sizeof(double));
    s->nkpoints++;
    return 0;
}

int hm_mc_add_kerma_disc(hm_mc_scene *s, const double c[3], const double n[3], double r,
                         hm_error *err)
{
    double nn = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    if (!(nn > 0) || !(r > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "kerma_disc",
                            "disc needs a non-zero normal and radius > 0");
    mc_disc *q = realloc(s->discs, (s->ndiscs + 1) * sizeof *q);
    if (!q) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    s->discs = q;
    for (int k = 0; k < 3; k++) {
        q[s->ndiscs].c[k] = c[k];
        q[s->ndiscs].n[k] = n[k] / nn;
    }
    q[s->ndiscs].r = r;
    s->ndiscs++;
    return 0;
}

int hm_mc_set_physics(hm_mc_scene *s, const hm_mc_physics *p, hm_error *err)
{
    if (!(p->cutoff_kev >= 0.5 && p->cutoff_kev < 50))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "cutoff_kev",
                            "energy cutoff must be in [0.5, 50) keV");
    if (p->compton_sf != s->phys.compton_sf || p->rayleigh != s->phys.rayleigh)
        for (int i = 0; i < s->nmat; i++) mc_material_free(&s->mat[i]);
    s->phys = *p;
    return 0;
}

static int ensure_regions(hm_mc_scene *s, int region, hm_error *err)
{
    if (region < 0 || region >= MC_MAXREGIONS)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "region", "region must be 0..%d",
                            MC_MAXREGIONS - 1);
    if (region < s->nregion_names) return 0;
    int n = region + 1;
    char **nn = realloc(s->region_names, n * sizeof *nn);
    if (!nn) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    s->region_names = nn;
    double *mm = realloc(s->region_mass, n * sizeof *mm);
    if (!mm) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    s->region_mass = mm;
    for (int i = s->nregion_names; i < n; i++) { nn[i] = NULL; mm[i] = -1; }
    s->nregion_names = n;
    return 0;
}

int hm_mc_set_region_name(hm_mc_scene *s, int region, const char *name, hm_error *err)
{
    int rc = ensure_regions(s, region, err);
    if (rc) return rc;
    char *c = strdup(name);
    if (!c) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    free(s->region_names[region]);
    s->region_names[region] = c;
    return 0;
}

const char *hm_mc_region_name(const hm_mc_scene *s, int region)
{
    if (region >= 0 && region < s->nregion_names && s->region_names[region])
        return s->region_names[region];
    return region == 0 ? "world" : NULL;
}

int hm_mc_set_region_mass(hm_mc_scene *s, int region, double mass_g, hm_error *err)
{
    if (!(mass_g > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "mass_g", "region mass must be > 0");
    int rc = ensure_regions(s, region, err);
    if (rc) return rc;
    s->region_mass[region] = mass_g;
    return 0;
}

void hm_mc_run_params_default(hm_mc_run_params *p)
{
    memset(p, 0, sizeof *p);
    p->histories = 1000000;
    p->seed = 1;
    p->threads = 1;
    p->batches = 20;
}

int hm_mc_material_mu_rho(const char *name, double energy_kev, double *mu_rho, double *density,
                          hm_error *err)
{
    mc_material m;
    int rc = mc_material_lookup(name, &m, err);
    if (rc) return rc;
    if (!(energy_kev >= 1 && energy_kev <= 1000))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "energy_kev", "energy must be 1..1000 keV");
    double p, c, r;
    mc_material_cs(&m, energy_kev, &p, &c, &r);
    *mu_rho = p + c + r;
    if (density) *density = m.density_g_cm3;
    return 0;
}
