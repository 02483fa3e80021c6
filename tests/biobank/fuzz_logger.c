/* fuzz_logger.c — libFuzzer target for the temperature-logger CSV parser. */
#include "hm_biobank.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hm_bb_logger_summary s;
    hm_error err;
    hm_bb_logger_parse((const char *)data, size, "fuzz", -100, -60, &s, &err);
    return 0;
}
