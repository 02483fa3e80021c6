/*
 * fuzz_rt.c — libFuzzer target: arbitrary bytes through the RT readers of
 * the DCMTK bridge (RT Plan / Ion Plan, RT Dose, RT Structure Set), then,
 * on whatever reads, the C above them (plan summary, contour validation,
 * frame lookup).  Seeds: harmonic-written RT fixtures (tests/dicom/seeds_rt).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "hm_rtdicom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hm_error err;
    hm_rtdcm_plan plan;
    if (hm_rtdcm_plan_read_memory(data, size, "fuzz", &plan, &err) == 0)
        hm_rtdcm_plan_summarise(&plan);
    hm_rtdcm_plan_free(&plan);

    hm_rtdcm_dose dose;
    if (hm_rtdcm_dose_read_memory(data, size, "fuzz", &dose, &err) == 0) {
        volatile double z = hm_rtdcm_dose_frame_mm(&dose, dose.nframes - 1);
        (void)z;
    }
    hm_rtdcm_dose_free(&dose);

    hm_rtdcm_struct ss;
    if (hm_rtdcm_struct_read_memory(data, size, "fuzz", &ss, &err) == 0)
        hm_rtdcm_struct_validate(&ss, "fuzz", 0.01, &err);
    hm_rtdcm_struct_free(&ss);
    return 0;
}
