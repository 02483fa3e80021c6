/*
 * rt_fixtures.h — small RT objects built in C for the RT tests and the fuzz
 * seeds: a 4-slice CT, a structure set on it, photon (3D-CRT, IMRT, VMAT,
 * arc) and proton (PBS, passive scattering) plans and an analytic dose grid.
 * Values are chosen exactly representable in DS (decimal) and FL (float) so
 * a round trip can be compared with ==.
 */
#ifndef HM_TEST_RT_FIXTURES_H
#define HM_TEST_RT_FIXTURES_H

#include "hm_rtdicom.h"

/* CT of 4 axial slices, 8 columns x 6 rows, given out of z order. */
void rtfx_ct(hm_rtdcm_ct *ct);
/* Structure set on ct: BODY (EXTERNAL, a square per slice), PTV (a triangle
 * on two slices, with image references) and ISO (a POINT). */
void rtfx_struct(hm_rtdcm_struct *ss, const hm_rtdcm_ct *ct);
/* Plans: technique one of HM_RTDCM_TECH_3DCRT, IMRT, ARC, VMAT, ION_PBS,
 * ION_PASSIVE.  ref_struct may be NULL. */
void rtfx_plan(hm_rtdcm_plan *p, int technique, const char *ref_struct_uid);
/* Dose of cols x rows x frames on ct's frame of reference: dose(i, j, k) =
 * rtfx_dose_value(i, j, k) Gy. */
void rtfx_dose(hm_rtdcm_dose *d, const hm_rtdcm_ct *ct, int bits, const char *ref_plan_uid);
double rtfx_dose_value(int i, int j, int k);
/* A dose grid of 40 x 40 x 21 voxels of 1 mm centred on the origin (z from
 * -10 mm) on ct's frame, D = scale * (10 + 0.1 x/mm) Gy: every mean over a
 * region is scale * (10 + 0.1 * its mean x). */
void rtfx_dose_gradient(hm_rtdcm_dose *d, const hm_rtdcm_ct *ct, const char *ref_plan_uid,
                        double scale);

#endif
