/*
 * fuzz_rdsr.c — libFuzzer target: arbitrary bytes through the DCMTK bridge
 * and the RDSR mapping (the path every file of `rdsr show/import` takes),
 * plus the JSON writer on whatever maps.  Seeds: synthetic RDSRs with the
 * vendor quirks (tests/dicom/seeds).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "hm_rdsr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hm_rdsr_ctx *ctx;
    if (!ctx) {
        ctx = hm_rdsr_ctx_new(NULL);
        if (!ctx)
            abort();   /* data/rdsr tables missing: a set-up error, not a finding */
    }
    hm_rdsr_report *rep = NULL;
    hm_error err;
    if (hm_rdsr_read_memory(ctx, data, size, "fuzz", &rep, &err) == 0) {
        char *json = hm_rdsr_to_json(rep);
        free(json);
        hm_rdsr_report_free(rep);
    }
    return 0;
}
