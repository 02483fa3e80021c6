/* skin_internal.h — private to the skin dose files (skin*.c). */
#ifndef SKIN_INTERNAL_H
#define SKIN_INTERNAL_H

#include "dos_internal.h"

#include <stdint.h>

typedef struct skin_defaults {
    double table_width_cm;
    double min_cos_table;
    char   skin_medium[48];
} skin_defaults;
int skin_defaults_get(skin_defaults *d, hm_error *err);

/* Composition of a material of data/materials/compositions.csv. */
int skin_medium_load(const char *name, hm_phantom_medium *m, hm_error *err);
/* Kerma ratio medium a / medium b over a spectrum (energy-fluence weighted
 * mu_tr/rho, see skin_factors.c). */
double skin_kerma_ratio(const hm_phantom_medium *a, const hm_phantom_medium *b,
                        const hm_mc_spectrum *s);

struct hm_skin_map {
    const hm_voxel_phantom *v;
    uint8_t *body;             /* 1 where a voxel is inside the body */
    int      na, nh;
    double   cell_cm, z0_cm;
    double  *dose_mgy;         /* na * nh */
    double  *pos_cm;           /* 3 per cell */
    double  *normal;           /* 2 per cell: outward radial direction (x, y) */
    uint8_t *has;              /* 1 where the cell is on the skin */
    double   tol_cm;           /* visibility tolerance (about one voxel) */
    /* table */
    int      no_table, no_mattress;
    double   table_fixed;      /* > 0: fixed transmission */
    dos_ttable table;         /* own table (table_file), else nk == 0 */
    const dos_ttable *table_default;
    double   down[3];          /* unit vector towards the table (phantom frame) */
    double   table_plane;      /* body . down at the table top */
    int      lateral_axis;     /* axis along the table's width */
    double   table_centre;     /* lateral coordinate of the body midline */
    double   table_half_width_cm;
    double   min_cos_table;
    /* media for f */
    hm_phantom_medium skin, air;
    /* caches */
    char     landmark[48];
    double   landmark_cm[3];
    double   q_kvp, q_al, q_cu, q_anode, q_hvl, q_f;
    int      q_valid;
    int      events;
    double   k_rp_total_mgy;
};

#endif
