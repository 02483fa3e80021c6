/* fuzz_batch.c — libFuzzer target for the batch-file parser of `harmonic biobank load`
 * (no protocols or loggers are loaded: dir NULL). */
#include "hm_biobank.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hm_bb_batch b;
    hm_error err;
    if (hm_bb_batch_parse((const char *)data, size, "fuzz", NULL, &b, &err) == HM_OK)
        hm_bb_batch_free(&b);
    return 0;
}
