/*
 * voxslab.h — the TG-195 case 2 slab (120 kVp radiography) as a 78x78x40
 * voxel grid of 0.5 cm with a lung-like and a bone-like insert, so that
 * Woodcock tracking in a grid sees several materials and densities.  Shared
 * by bench_mc and bench_mc_grid.
 */
#ifndef HM_BENCH_VOXSLAB_H
#define HM_BENCH_VOXSLAB_H

#include "hm_mc.h"

/* The scene with its source (the TG-195 120 kVp spectrum from dir); regions
 * 1 tissue, 2 lung, 3 bone.  NULL on error. */
hm_mc_scene *voxslab_scene(const char *dir, hm_error *err);

#endif
