/*
 * rt_int.h — internal interface between the RT part of the DCMTK bridge
 * (dcm_rt_bridge.cc) and the C above it (rt_plan.c, rt_check.c, rt_ct.c).
 */
#ifndef HM_RT_INT_H
#define HM_RT_INT_H

#include "hm_rtdicom.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One CT image's header: common attributes, the slice and its geometry.
 * HM_EUNSUPPORTED when the file is DICOM but not a CT image. */
int hm_rtdcm__ct_image_read(const char *path, hm_rtdcm_common *c, hm_rtdcm_ct_slice *slice,
                            double iop[6], double spacing_mm[2], double *thickness_mm,
                            int *rows, int *cols, hm_error *err);
/* Writes one CT image (slice k of ct) with 16-bit HU pixels. */
int hm_rtdcm__ct_image_write(const char *path, const hm_rtdcm_ct *ct, size_t k,
                             const int16_t *hu, hm_error *err);
/* A new UID (dcmGenerateUniqueIdentifier) into buf (HM_RTDCM_UID_LEN). */
void hm_rtdcm__new_uid(char *buf);

#ifdef __cplusplus
}
#endif

#endif
