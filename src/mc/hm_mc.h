/*
 * hm_mc.h — Monte Carlo photon transport for diagnostic X-rays (1–150 keV).
 *
 * The engine knows nothing of patients: a scene holds materials, geometry
 * (a world box, analytic solids with a painter's rule, voxel grids), one
 * source and the tallies; hm_mc_run() returns energy imparted per region
 * (eV per history), absorbed dose (Gy per history) and 1-sigma statistical
 * uncertainties from independent batches.
 *
 * Physics (docs/mc.md): photoelectric absorption with local deposition,
 * Compton scattering (Klein–Nishina × incoherent scattering function S(x,Z)),
 * Rayleigh scattering (Thomson × F(x,Z)^2), cross sections from xraylib mixed
 * by mass fraction; Woodcock (delta) tracking; Philox counter-based random
 * numbers keyed by (seed, batch, history): the same seed and thread count give
 * bit-identical results (region tallies are even independent of threads).
 *
 * Coordinates are in cm, energies in keV, densities in g/cm3.  Every
 * function returns 0 or a negative hm_status after filling err.
 */
#ifndef HM_MC_H
#define HM_MC_H

#include "hm_core.h"

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------
 * Spectra
 * ------------------------------------------------------------------------- */

/* How the energy column of a binned spectrum is read. */
typedef enum hm_mc_bins {
    HM_MC_BIN_CENTRE = 0, /* energy_kev[i] is the centre of a bin of width bin_kev */
    HM_MC_BIN_LOWER  = 1, /* energy_kev[i] is the lower edge of the bin */
    HM_MC_BIN_POINT  = 2  /* discrete energies (lines), bin_kev ignored */
} hm_mc_bins;

typedef struct hm_mc_spectrum {
    size_t  n;
    double *energy_kev;   /* ascending */
    double *fluence;      /* relative photon fluence per bin (any scale, >= 0) */
    double  bin_kev;      /* bin width (uniform grid) */
    int     bins;         /* an hm_mc_bins */
} hm_mc_spectrum;

/* Reads "energy_keV,relative_fluence" CSV ('#' comments, optional header).
 * The bin width is taken from the spacing of the first two rows. */
int  hm_mc_spectrum_read(const char *path, int bins, hm_mc_spectrum *out, hm_error *err);
/* The same in a CSV dialect (hm_core.h; NULL: detect, e.g. "20;0,5" from Excel). */
int  hm_mc_spectrum_read_dialect(const char *path, int bins, const hm_csv_dialect *dialect,
                                 hm_mc_spectrum *out, hm_error *err);
/* A monoenergetic "spectrum" (one line). */
int  hm_mc_spectrum_mono(double energy_kev, hm_mc_spectrum *out, hm_error *err);
void hm_mc_spectrum_free(hm_mc_spectrum *s);

/* One filter layer: a material by name (data/materials) and thickness. */
typedef struct hm_mc_filter {
    const char *material;  /* e.g. "aluminium", "copper" */
    double      thickness_mm;
} hm_mc_filter;

/* Tungsten-anode spectrum (semi-empirical model, docs/mc.md, parameters in
 * data/spectra/tungsten_model.csv) for 20..150 kVp, anode angle in degrees,
 * then attenuated by the filters (inherent + added), on a bin_kev grid
 * (bins centred). */
int hm_mc_spectrum_tungsten(double kvp, double anode_angle_deg,
                            const hm_mc_filter *filters, size_t nfilters,
                            double bin_kev, hm_mc_spectrum *out, hm_error *err);
/* Attenuates s in place by thickness_mm of a named material (narrow beam). */
int hm_mc_spectrum_filter(hm_mc_spectrum *s, const char *material,
                          double thickness_mm, hm_error *err);

typedef struct hm_mc_beam_quality {
    double hvl1_mm_al;       /* first half-value layer (air kerma), mm Al */
    double hvl2_mm_al;       /* second HVL (QVL - HVL1), mm Al */
    double mean_energy_kev;  /* fluence-weighted */
    double kerma_per_fluence_gy_cm2; /* air kerma per unit photon fluence */
} hm_mc_beam_quality;

/* Narrow-beam HVLs in aluminium (density 2.699) and the mean energy.  Air
 * kerma uses mu_en/rho of dry air from data/materials/muen_air.csv (NIST). */
int hm_mc_spectrum_quality(const hm_mc_spectrum *s, hm_mc_beam_quality *q, hm_error *err);

/* mu_en/rho of dry air in cm2/g at energy_kev (NIST table, log-log interp). */
int hm_mc_muen_air(double energy_kev, double *muen_cm2_g, hm_error *err);

/* ---------------------------------------------------------------------------
 * Materials
 * ------------------------------------------------------------------------- */

/* Total mass attenuation coefficient (photo + Compton + Rayleigh, xraylib,
 * mixed by mass fraction) of a named material in cm2/g; for tests and
 * filters. */
int hm_mc_material_mu_rho(const char *name, double energy_kev, double *mu_rho_cm2_g,
                          double *density_g_cm3, hm_error *err);

/* ---------------------------------------------------------------------------
 * Scene
 * ------------------------------------------------------------------------- */

typedef struct hm_mc_scene hm_mc_scene;

int  hm_mc_scene_new(hm_mc_scene **out, hm_error *err);
void hm_mc_scene_free(hm_mc_scene *s);

/* Materials.  Returns the material index (>= 0) or a negative hm_status.
 * By name: looked up in data/materials/compositions.csv (docs/mc.md);
 * density_g_cm3 <= 0 keeps the tabulated density.  "vacuum" is index -1 and
 * needs no call. */
int hm_mc_add_material(hm_mc_scene *s, const char *name, double density_g_cm3, hm_error *err);
/* Any composition: n elements (Z) with mass fractions (normalised here). */
int hm_mc_add_material_composition(hm_mc_scene *s, const char *name, double density_g_cm3,
                                   size_t n, const int *z, const double *mass_fraction,
                                   hm_error *err);
/* Material index by name already in the scene, or HM_ENOTFOUND. */
int hm_mc_find_material(const hm_mc_scene *s, const char *name);

/* The world: an axis-aligned box filled with a material (-1 = vacuum);
 * photons leaving it are lost.  Region 0 is the world. */
int hm_mc_set_world(hm_mc_scene *s, int material, const double lo_cm[3],
                    const double hi_cm[3], hm_error *err);

/* Analytic solids, axis-aligned.  Painter's rule: a later solid replaces
 * earlier ones where they overlap.  hm_mc_add_solid, hm_mc_add_score_box and
 * hm_mc_add_voxels return 0 or a negative hm_status. */
typedef enum hm_mc_solid_kind {
    HM_MC_BOX = 0,       /* half_cm = half sizes */
    HM_MC_CYLINDER = 1,  /* elliptic cylinder along `axis`: half_cm[axis] = half length,
                            the two others = semi-axes of the cross-section */
    HM_MC_ELLIPSOID = 2  /* half_cm = semi-axes */
} hm_mc_solid_kind;

typedef struct hm_mc_solid {
    int    kind;          /* hm_mc_solid_kind */
    double center_cm[3];
    double half_cm[3];
    int    axis;          /* 0,1,2 = x,y,z (cylinder only) */
    int    material;      /* index from hm_mc_add_material*, -1 vacuum */
    int    region;        /* tally region id, >= 1 (0 is the world) */
} hm_mc_solid;

int hm_mc_add_solid(hm_mc_scene *s, const hm_mc_solid *solid, hm_error *err);

/* A scoring-only box: energy deposited inside it is also added to `region`
 * (it does not change materials).  For VOIs inside a uniform body. */
int hm_mc_add_score_box(hm_mc_scene *s, const double lo_cm[3], const double hi_cm[3],
                        int region, hm_error *err);

/* A voxel grid, tracked with Woodcock tracking; it takes part in the
 * painter's rule like a solid (its bounding box).  Voxel (ix,iy,iz) has
 * index ix + nx*(iy + ny*iz) (x fastest) and spans
 * origin_cm + [i, i+1) * voxel_cm.  Exactly one of mat8/mat16 is set; a
 * voxel value v maps to scene material material_map[v] (-1 = vacuum).
 * region: per-voxel region id (NULL: all voxels get region_default).
 * density_g_cm3: optional per-voxel density (NULL: the material's).
 * The arrays are copied. */
typedef struct hm_mc_voxels {
    int             nx, ny, nz;
    double          voxel_cm[3];
    double          origin_cm[3];
    const uint8_t  *mat8;
    const uint16_t *mat16;
    const int      *material_map;
    int             nmaterial_map;
    const uint16_t *region;
    int             region_default;
    const float    *density_g_cm3;
    int             score_voxels;    /* 1: tally energy per voxel too */
} hm_mc_voxels;

int hm_mc_add_voxels(hm_mc_scene *s, const hm_mc_voxels *v, hm_error *err);

/* Sources.  Every history is one photon emitted into the collimated field,
 * directions uniform in solid angle (isotropic point source). */
typedef enum hm_mc_source_kind {
    HM_MC_SRC_RECT = 0,     /* point source, rectangular field on a plane */
    HM_MC_SRC_CONE = 1,     /* point source, circular cone of half_angle_deg */
    HM_MC_SRC_PARALLEL = 2  /* parallel beam from a rectangle centred at position */
} hm_mc_source_kind;

typedef struct hm_mc_source {
    int    kind;
    double position_cm[3];
    double direction[3];     /* central axis (normalised here) */
    double up[3];            /* fixes the field's u axis: u = up projected normal to
                                direction; v = direction x u.  Default (0,1,0) or (1,0,0). */
    /* RECT: the field is u in [u_min,u_max], v in [v_min,v_max] on the plane
     * normal to `direction` at plane_distance_cm (asymmetric fields allowed).
     * PARALLEL: the same rectangle, at the source plane. A fan beam is a RECT
     * with a thin v extent. */
    double plane_distance_cm;
    double u_min_cm, u_max_cm, v_min_cm, v_max_cm;
    double half_angle_deg;   /* CONE */
    double energy_kev;       /* > 0: monoenergetic; else the spectrum */
    const hm_mc_spectrum *spectrum;  /* copied by hm_mc_set_source */
} hm_mc_source;

int hm_mc_set_source(hm_mc_scene *s, const hm_mc_source *src, hm_error *err);

/* Air-kerma tallies, used to normalise doses.
 * Point: primary air kerma free in air (no attenuation, inverse square) at p,
 *        computed from the source (exact, no noise).
 * Disc:  photons crossing a disc (centre, normal, radius) are scored as planar
 *        fluence × E × mu_en/rho(air): air kerma behind filters, with scatter
 *        (TG-195 case 1). */
int hm_mc_add_kerma_point(hm_mc_scene *s, const double p_cm[3], hm_error *err);
int hm_mc_add_kerma_disc(hm_mc_scene *s, const double centre_cm[3], const double normal[3],
                         double radius_cm, hm_error *err);

/* Physics switches (defaults: all on but doppler). */
typedef struct hm_mc_physics {
    int    rayleigh;          /* 1: Rayleigh scattering on */
    int    compton_sf;        /* 1: incoherent scattering function; 0: free-electron KN */
    int    fluorescence;      /* 1: K-shell fluorescence after photoabsorption */
    int    doppler;           /* 1: Compton energy from the shell Compton profiles
                               * (impulse approximation, Doppler broadening); 0 (default):
                               * the free-electron Compton energy */
    double cutoff_kev;        /* photons below are absorbed locally (default 1) */
} hm_mc_physics;

int hm_mc_set_physics(hm_mc_scene *s, const hm_mc_physics *p, hm_error *err);
void hm_mc_physics_default(hm_mc_physics *p);

/* Region names (optional, for printing), region id >= 0. */
int hm_mc_set_region_name(hm_mc_scene *s, int region, const char *name, hm_error *err);
const char *hm_mc_region_name(const hm_mc_scene *s, int region);
/* Explicit region mass in g (else computed: exact for voxels, by a fine
 * midpoint grid for solids). */
int hm_mc_set_region_mass(hm_mc_scene *s, int region, double mass_g, hm_error *err);

/* ---------------------------------------------------------------------------
 * Running
 * ------------------------------------------------------------------------- */

typedef struct hm_mc_run_params {
    long long histories;      /* total photons */
    uint64_t  seed;
    int       threads;        /* >= 1 */
    int       batches;        /* >= 2, for the uncertainty (default 20) */
    /* Called from the calling thread now and then with the fraction done. */
    void    (*progress)(double fraction, void *user);
    void     *progress_user;
} hm_mc_run_params;

void hm_mc_run_params_default(hm_mc_run_params *p);

typedef struct hm_mc_results {
    long long histories;
    int       threads;
    double    seconds;
    int       nregions;            /* region ids 0..nregions-1 */
    double   *edep_ev;             /* energy imparted per history, eV */
    double   *edep_ev_sigma;       /* 1-sigma of the mean */
    double   *mass_g;              /* region mass (0 for the world/vacuum) */
    double   *dose_gy;             /* Gy per history */
    double   *dose_gy_sigma;
    size_t    nkerma_points;
    double   *kerma_point_gy;      /* primary air kerma per history at each point */
    size_t    nkerma_discs;
    double   *kerma_disc_gy;       /* per history */
    double   *kerma_disc_gy_sigma;
    double   *disc_fluence_cm2;    /* planar fluence per history, cm^-2 */
    double    kap_gy_cm2;          /* kerma-area product of the beam per history */
    size_t    nvoxels;             /* per-voxel tally of the first scored grid */
    double   *voxel_edep_ev;       /* per history, or NULL */
} hm_mc_results;

int  hm_mc_run(hm_mc_scene *s, const hm_mc_run_params *p, hm_mc_results *out, hm_error *err);

/* Tracking counts summed over every run of the process since the last reset
 * (for benchmarks): histories, tentative collisions (distance samples that
 * end inside the flight; with exact tracking of a grid, its collisions),
 * real interactions, and voxel-grid leaf look-ups (one per grid entry and
 * leaf crossing; only with HM_MC_GRID_MODE=tree, docs/mc.md). */
typedef struct hm_mc_stats {
    long long histories, tentative, real, leaf_locates;
    /* the majorant tree last built (of the last grid of the last run) */
    int       grid_leaves, grid_classes;
    double    grid_tree_seconds;       /* its build time */
    double    grid_tree_cost_ratio;    /* its model cost / that of the grid as one leaf; a tree
                                        * is used only below HM_MC_GRID_TREE_KEEP, default 0.8 (grid_leaves 0 if not) */
    double    cpu_seconds;             /* CPU time of the worker threads (transport only) */
    long long voxel_steps;             /* steps of exact tracking (uniform cubes crossed) */
    int       grid_dda;                /* the last grid prepared: 1 exact tracking, 2 its own Woodcock
                                        * loop (HM_MC_GRID_MODE dda / delta / auto), 0 neither */
    double    grid_dda_cost_ratio;     /* its cost model, exact / Woodcock (0 if not evaluated);
                                        * auto takes exact tracking below 1 */
} hm_mc_stats;
void hm_mc_stats_get(hm_mc_stats *out);
void hm_mc_stats_reset(void);
void hm_mc_results_free(hm_mc_results *r);

/* ---------------------------------------------------------------------------
 * Scene files (JSON, schema in docs/mc.md)
 * ------------------------------------------------------------------------- */

/* Loads a scene; run parameters found in the file fill *params (which may be
 * NULL).  Relative file names (spectra) are resolved against the scene's
 * folder, then data/. */
int hm_mc_scene_load(const char *path, hm_mc_scene **out, hm_mc_run_params *params,
                     hm_error *err);
/* Writes results as JSON (regions with names, mass, edep, dose, kerma). */
int hm_mc_results_write_json(const hm_mc_scene *s, const hm_mc_results *r, FILE *fp);

/* ---------------------------------------------------------------------------
 * Sampling internals exposed for the tests (angular distributions).
 * ------------------------------------------------------------------------- */

/* Samples n cosines of the scattering angle for a photon of energy_kev in the
 * named material (interaction 1 = Compton, 2 = Rayleigh) using the engine's
 * tables; seed as for runs. */
int hm_mc_sample_cos(const char *material, int interaction, double energy_kev,
                     size_t n, uint64_t seed, double *cos_out, hm_error *err);
/* Differential cross section dsigma/dOmega (cm2/g/sr) of the same model. */
int hm_mc_dcs(const char *material, int interaction, double energy_kev, double cos_theta,
              double *dcs, hm_error *err);

#endif
