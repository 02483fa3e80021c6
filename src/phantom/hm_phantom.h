/*
 * hm_phantom.h — computational phantoms for organ dosimetry.
 *
 * Two kinds of phantom:
 *  - hm_phantom: harmonic's own stylized age series (newborn, 1y, 5y, 10y, 15y,
 *    adult; sex M, F or H = hermaphrodite with both sets of sex organs), quadric
 *    solids whose layout and per-age dimensions are data (data/phantoms/), each
 *    organ scaled at build time so its mass matches the reference mass
 *    (docs/phantoms.md).  Masses are integrated analytically (quasi-random
 *    sampling of the exact solids, not voxels).
 *  - hm_voxel_phantom: a voxel grid of region ids with a region table (name,
 *    organs, skeletal site, medium, density) and media (elemental mass
 *    fractions).  Built-in phantoms are voxelised into it (cached on disk), and
 *    licensed ICRP 110/143 phantoms or raw + header files are read into it.
 *
 * Coordinates (cm): x towards the phantom's left, y posterior, z up; the trunk
 * base is z = 0 for built-in phantoms.  This is also the ICRP 110 voxel order
 * (columns right->left, rows front->back, slices toes->head).
 */
#ifndef HM_PHANTOM_H
#define HM_PHANTOM_H

#include "hm_core.h"

#include <stddef.h>
#include <stdint.h>

#define HM_PHANTOM_MAX_ELEMENTS 32

typedef struct hm_phantom_medium {
    char   name[48];
    int    nelements;
    int    z[HM_PHANTOM_MAX_ELEMENTS];
    double mass_fraction[HM_PHANTOM_MAX_ELEMENTS];  /* sum 1 */
} hm_phantom_medium;

typedef struct hm_phantom_region {
    char   name[48];
    char   organs[96];      /* '|'-separated ids of data/organs.csv this region's dose counts for */
    char   site[32];        /* skeletal site (data/phantoms/marrow_sites.csv) or "" */
    int    medium;          /* index into media, -1 = air/vacuum */
    double density_g_cm3;
    double mass_g;          /* analytic (hm_phantom) or voxel-counted (hm_voxel_phantom) */
} hm_phantom_region;

/* ---- the built-in stylized series ---------------------------------------- */

typedef struct hm_phantom hm_phantom;

/* age: "newborn", "1y", "5y", "10y", "15y", "adult" (also "0", "1", "5", "10",
 * "15"); sex: 'M', 'F' or 'H' (H only where the reference data are the same for
 * both sexes, i.e. below 15 y). */
int  hm_phantom_build(const char *age, char sex, hm_phantom **out, hm_error *err);
void hm_phantom_free(hm_phantom *p);
/* Canonical age name ("5y") of an age argument, or NULL if unknown. */
const char *hm_phantom_age_name(const char *age);
const char *hm_phantom_age(const hm_phantom *p);
char        hm_phantom_sex(const hm_phantom *p);

/* PCXMC-style scaling to a patient (Tapiovaara & Siiskonen 2008, STUK-A231):
 * z by height/height_ref, x and y by sqrt((mass/mass_ref)/(height/height_ref)),
 * so that the mass scales with the patient's mass. */
int hm_phantom_scale(hm_phantom *p, double height_cm, double mass_kg, hm_error *err);
double hm_phantom_height_cm(const hm_phantom *p);
double hm_phantom_mass_kg(const hm_phantom *p);   /* analytic total mass */

/* Regions are numbered 1..n; 0 is outside the body. */
int  hm_phantom_region_count(const hm_phantom *p);
const hm_phantom_region *hm_phantom_region_info(const hm_phantom *p, int id);
int  hm_phantom_region_at(const hm_phantom *p, const double pt_cm[3]);
int  hm_phantom_medium_count(const hm_phantom *p);
const hm_phantom_medium *hm_phantom_medium_info(const hm_phantom *p, int i);
void hm_phantom_bounds(const hm_phantom *p, double lo_cm[3], double hi_cm[3]);

/* Landmarks.  Heart centre: centre of the heart (wall + contents).  Skin
 * entrance: first point of the body surface met on the ray from `from_cm`
 * along `dir`; HM_ENOTFOUND if the ray misses the body. */
int hm_phantom_heart_centre(const hm_phantom *p, double c_cm[3]);
int hm_phantom_skin_entrance(const hm_phantom *p, const double from_cm[3], const double dir[3],
                             double out_cm[3], hm_error *err);

/* Mass of every fit group (organ) against its reference (data/phantoms/targets.csv). */
typedef struct hm_phantom_mass_row {
    char   group[48];
    double mass_g;          /* phantom, analytic */
    double ref_g;           /* reference */
    char   kind[16];        /* "icrp89", "ce" (Cristy-Eckerman), "estimate" */
    char   source[200];
} hm_phantom_mass_row;

int hm_phantom_mass_table(const hm_phantom *p, hm_phantom_mass_row **rows, size_t *n,
                          hm_error *err);

/* ---- voxel phantoms -------------------------------------------------------- */

typedef struct hm_voxel_phantom {
    int       nx, ny, nz;
    double    voxel_cm[3];
    double    origin_cm[3];      /* corner of voxel (0,0,0) */
    uint16_t *ids;               /* nx*ny*nz region ids, x fastest; 0 = outside */
    int       nregions;          /* ids 1..nregions */
    hm_phantom_region *regions;  /* nregions + 1 entries; [0] = outside */
    int       nmedia;
    hm_phantom_medium *media;
    char      age[16];           /* canonical age or "" when unknown */
    char      sex;               /* 'M', 'F', 'H' or 0 */
} hm_voxel_phantom;

void hm_voxel_phantom_free(hm_voxel_phantom *v);
/* Region masses from voxel counts (fills regions[].mass_g). */
void hm_voxel_phantom_count_masses(hm_voxel_phantom *v);
/* Centroid of the voxels whose region carries `organ` (e.g. "heart"). */
int  hm_voxel_phantom_centroid(const hm_voxel_phantom *v, const char *organ, double c_cm[3],
                               hm_error *err);
/* The centroid of one side of a paired organ: side +1 the voxels left of
 * the whole organ's centroid (+x, the phantom's left), -1 those right of it,
 * 0 the whole organ (= hm_voxel_phantom_centroid). */
int  hm_voxel_phantom_centroid_side(const hm_voxel_phantom *v, const char *organ, int side,
                                    double c_cm[3], hm_error *err);
int  hm_voxel_phantom_skin_entrance(const hm_voxel_phantom *v, const double from_cm[3],
                                    const double dir[3], double out_cm[3], hm_error *err);

/* Voxel centres classified on the exact solids; voxel_mm > 0. */
int hm_phantom_voxelise(const hm_phantom *p, double voxel_mm, hm_voxel_phantom *out,
                        hm_error *err);
/* As above, through a disk cache keyed by a hash of the phantom's parameters
 * (data files, age, sex, scaling) and the resolution.  cache_dir NULL: the
 * default ($HARMONIC_CACHE, else $XDG_CACHE_HOME/harmonic, else
 * $HOME/.cache/harmonic).  *from_cache (may be NULL) tells which happened. */
int hm_phantom_voxelise_cached(const hm_phantom *p, double voxel_mm, const char *cache_dir,
                               hm_voxel_phantom *out, int *from_cache, hm_error *err);

/* ICRP Publication 110/143 format: `ids_path` holds ASCII organ ids, column
 * fastest, then row, then slice; `organs_path` lines "id name... medium density";
 * `media_path` lines "number name fractions..." with a header line naming the
 * elements (default ICRP 110 order H C N O Na Mg P S Cl K Ca Fe I, in percent or
 * fractions).  The grid size is not in the files: nx, ny, nz and voxel_mm.
 * map_path (may be NULL) is a CSV "id,organs,site" naming which organs and
 * skeletal sites each id carries (harmonic writes one beside its own files). */
int hm_voxel_phantom_read_icrp110(const char *ids_path, const char *organs_path,
                                  const char *media_path, const char *map_path,
                                  int nx, int ny, int nz, const double voxel_mm[3],
                                  hm_voxel_phantom *out, hm_error *err);
/* Writes PREFIX.dat, PREFIX_organs.dat, PREFIX_media.dat, PREFIX_map.csv. */
int hm_voxel_phantom_write_icrp110(const hm_voxel_phantom *v, const char *prefix, hm_error *err);

/* Generic raw + header: a text header of "key value..." lines
 *   dims NX NY NZ / voxel_mm X Y Z / origin_cm X Y Z / type uint8|uint16 /
 *   data FILE / organs FILE / media FILE / map FILE / age AGE / sex S
 * (files relative to the header; organs and media in the ICRP 110 layout),
 * the data little-endian, x fastest. */
int hm_voxel_phantom_read_raw(const char *header_path, hm_voxel_phantom *out, hm_error *err);
/* Writes PREFIX.hdr, PREFIX.raw (uint16), PREFIX_organs.dat, PREFIX_media.dat, PREFIX_map.csv. */
int hm_voxel_phantom_write_raw(const hm_voxel_phantom *v, const char *prefix, hm_error *err);

/* Three orthogonal slices through point c_cm (axial, coronal, sagittal) as
 * PNG files PREFIX_axial.png, PREFIX_coronal.png, PREFIX_sagittal.png,
 * coloured by region, `px_per_cm` pixels per cm. */
int hm_voxel_phantom_write_slices(const hm_voxel_phantom *v, const double c_cm[3],
                                  double px_per_cm, const char *prefix, hm_error *err);

/* Share (0..1) of the active marrow in skeletal `site` at `age`
 * (data/phantoms/marrow_sites.csv, renormalised). */
int hm_phantom_marrow_share(const char *age, const char *site, double *share, hm_error *err);

#endif
