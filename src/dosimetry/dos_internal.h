/* dos_internal.h — private to src/dosimetry. */
#ifndef DOS_INTERNAL_H
#define DOS_INTERNAL_H

#include "hm_dosimetry.h"
#include "hm_mc.h"

/* (mu_en/rho)_soft / (mu_en/rho)_skeleton averaged over the spectrum; 1 when
 * the phantom has no separate skeleton medium (e.g. explicit marrow regions). */
double dos_marrow_factor(const hm_voxel_phantom *v, const hm_mc_spectrum *spec);

/* The central ray of a beam (source -> isocentre), unit, phantom frame (beam.c). */
int dos_beam_direction(const hm_dosimetry_beam *b, double d[3], hm_error *err);

/* A table by kVp and copper (data/dosimetry/table_transmission.csv layout):
 * a full grid, kvp fastest-varying is not required.  In skin_factors.c. */
typedef struct dos_ttable {
    int     nk, nc;
    double *kvp, *cu;          /* sorted unique values */
    double *t_table, *t_mat;   /* [ic * nk + ik] */
} dos_ttable;

int  dos_ttable_load(const char *path, dos_ttable *t, hm_error *err);
void dos_ttable_free(dos_ttable *t);
double dos_ttable_at(const dos_ttable *t, int mattress, double kvp, double cu_mm);
/* The default table, data/dosimetry/table_transmission.csv (loaded once per
 * process): the skin dose and, for devices without their own measurement,
 * the organ doses (hm_dosimetry_table_factor) use the same measured table. */
int  dos_ttable_default(const dos_ttable **t, hm_error *err);

#endif
