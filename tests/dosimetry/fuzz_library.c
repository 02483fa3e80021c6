/*
 * fuzz_library.c — libFuzzer target for the conversion-coefficient library
 * reader (hm_dose_library_read): any bytes must give a library or an error,
 * never a crash, a leak or an unbounded allocation.  Seeds: corpus_library/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hm_dosimetry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    FILE *fp = fmemopen((void *)data, size, "r");
    if (!fp)
        return 0;
    hm_dose_library *lib = NULL;
    hm_error err;
    if (!hm_dose_library_read(fp, "fuzz", &lib, &err)) {
        /* A library that loads must answer lookups anywhere. */
        double x[HM_DOSE_NAXES] = { 70, 3.5, 0.2, 45, 10, 8, 0 };
        hm_dosimetry_result r;
        unsigned oog;
        if (!hm_dose_library_lookup_at(lib, 0, x, &r, &oog, &err))
            hm_dosimetry_result_free(&r);
        /* And sized lookups between (or beyond) its phantoms' scales. */
        const hm_dose_grid *g = hm_dose_library_grid(lib);
        hm_dosimetry_beam b;
        hm_dosimetry_beam_default(&b);
        b.direction[1] = -1;
        for (double s = 0.6; s < 1.6; s += 0.25)
            if (!hm_dose_library_lookup_sized(lib, g->phantoms[0].age, g->phantoms[0].sex, s, &b, &r, &oog, &err))
                hm_dosimetry_result_free(&r);
        hm_dose_library_free(lib);
    }
    fclose(fp);
    return 0;
}
