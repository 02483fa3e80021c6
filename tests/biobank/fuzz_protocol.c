/* fuzz_protocol.c — libFuzzer target: any bytes given to the protocol parser
 * must give HM_OK or a clean error, never a crash or a leak. */
#include "hm_biobank.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hm_bb_protocol p;
    hm_error err;
    hm_bb_protocol_parse((const char *)data, size, "fuzz", &p, &err);
    return 0;
}
