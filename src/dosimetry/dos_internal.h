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

#endif
