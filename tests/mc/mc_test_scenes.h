/* mc_test_scenes.h — voxel scenes shared by the tests of the grid tracking
 * (test_mc_majorant_tree.c, test_mc_voxel_dda.c). */
#ifndef MC_TEST_SCENES_H
#define MC_TEST_SCENES_H

#include <stdint.h>

#include "mc_internal.h"

enum { NX = 40, NY = 30, NZ = 50 };
#define VOX_CM 0.4

/* splitmix64 (Steele et al. 2014): reproducible uniforms for the tests */
double mcts_u01(uint64_t *x);

/* A body in vacuum inside its grid box: elliptic soft-tissue trunk, two lungs,
 * a bone spine and an air pocket; soft tissue with per-voxel densities
 * 0.95..1.10 when `densities` (the tree's leaves must take the largest); a
 * cone of e_kev photons from below, wider than the body. */
hm_mc_scene *mcts_body_scene(int densities, double e_kev);

/* (b - a) / sqrt(sa^2 + sb^2); 0 when both are 0 +- 0 (a region no photon
 * reached in either run, such as the body's air pocket at 80 keV). */
double mcts_z(double a, double sa, double b, double sb);

#endif
