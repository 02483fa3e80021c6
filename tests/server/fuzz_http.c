/*
 * fuzz_http.c — raw request bytes into the request-head parser and the
 * router (hm_route_parse_head), which must never crash, read out of bounds
 * or route a non-plain name.
 */
#include "hm_server.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char method[16], path[512];
    hm_route_match m;
    int st = hm_route_parse_head((const char *)data, size, method, sizeof method, path,
                                 sizeof path, &m);
    if (st == 200) {
        /* A routed parameter is a plain name: no '/', '.', '%' or NUL-cut text. */
        for (const char *p = m.centre; *p; p++)
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", *p))
                abort();
        for (const char *p = m.table; *p; p++)
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", *p))
                abort();
    }
    return 0;
}
