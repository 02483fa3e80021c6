/* fuzz_csv.c — libFuzzer target for the CSV reader in every dialect mode.
 * The first byte picks separator, decimal mark, encoding and blank
 * handling (forced or detected), the second comment skipping; the rest is
 * the file.  Besides not crashing, every field handed over must be valid
 * UTF-8, whatever the input encoding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_core.h"

static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        int len = *s < 0x80 ? 1 : (*s & 0xE0) == 0xC0 ? 2 : (*s & 0xF0) == 0xE0 ? 3
                : (*s & 0xF8) == 0xF0 ? 4 : 0;
        if (!len || (len == 2 && *s < 0xC2) || (len == 4 && *s > 0xF4))
            return 0;
        for (int i = 1; i < len; i++)
            if ((s[i] & 0xC0) != 0x80)
                return 0;
        s += len;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char SEPS[4] = { 0, ',', ';', '\t' }, DECS[4] = { 0, '.', ',', 0 };
    hm_csv_dialect d = { SEPS[data[0] & 3], DECS[(data[0] >> 2) & 3], (data[0] >> 4) & 7,
                         data[0] >> 7 };
    if (d.encoding > HM_CSV_ENC_UTF16BE)
        d.encoding = HM_CSV_ENC_AUTO;
    FILE *in = fmemopen((void *)(data + 2), size - 2, "r");
    if (!in)
        return 0;
    hm_csv *csv = hm_csv_from_file_dialect(in, "fuzz.csv", data[1] & 1, &d);
    char **f;
    size_t n;
    hm_error err;
    char desc[96];
    hm_csv_dialect_describe(hm_csv_dialect_seen(csv), desc, sizeof desc);
    long records = 0;
    while (hm_csv_next(csv, &f, &n, &err) == 1) {
        if (records++ == 0)
            hm_csv_header_check(csv, f, n, &err);
        for (size_t i = 0; i < n; i++)
            if (!valid_utf8((const unsigned char *)f[i]))
                abort();
    }
    hm_csv_close(csv);
    fclose(in);
    return 0;
}
