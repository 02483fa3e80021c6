/* fuzz_pseudo.c — libFuzzer target for the two parsers of outside input in
 * src/pseudo: the hospital CSV filter (both with and without date offsets)
 * and the key file reader.  The first byte picks the parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hm_pseudo.h"

static const char *KNOWN[] = { "centre_code", "pseudonym", "key_version", "birth_year",
                               "birth_date", "procedure_id", "proc_date", "proc_day",
                               "event_uid", "event_day", "event_time_s", "source_id",
                               "kap_total_gy_cm2" };

static void filter(const uint8_t *data, size_t size, int offset)
{
    FILE *in = fmemopen((void *)data, size, "r");
    FILE *out = fopen("/dev/null", "w");
    if (!in || !out) {
        if (in) fclose(in);
        if (out) fclose(out);
        return;
    }
    unsigned char raw[32] = { 1, 2, 3 };
    hm_pseudo_key key;
    hm_pseudo_key_from_bytes(&key, raw, sizeof raw, 1, NULL);
    hm_pseudo_csv_opts opts = { "fuzz", offset, KNOWN, sizeof KNOWN / sizeof *KNOWN };
    hm_csv *csv = hm_csv_from_file(in, "fuzz.csv", 0);
    char **f;
    size_t n;
    hm_error err;
    hm_pseudo_filter *flt = NULL;
    if (hm_csv_next(csv, &f, &n, &err) == 1
        && hm_pseudo_filter_new(&key, &opts, (const char *const *)f, n, "fuzz.csv", &flt,
                                &err) == HM_OK) {
        hm_pseudo_filter_write_header(flt, out);
        while (hm_csv_next(csv, &f, &n, &err) == 1)
            if (hm_pseudo_filter_write_row(flt, out, (const char *const *)f, n,
                                           hm_csv_line(csv), &err))
                break;
    }
    hm_pseudo_filter_free(flt);
    hm_csv_close(csv);
    fclose(in);
    fclose(out);
}

static void keyfile(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_pseudo_key.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    if (write(fd, data, size) == (ssize_t)size) {
        hm_pseudo_key key;
        hm_error err;
        if (hm_pseudo_key_load(path, &key, &err) == HM_OK) {
            char hex[HM_PSEUDO_HEX_SIZE];
            hm_pseudo_id(&key, "patient", "12345", hex, &err);
        }
    }
    close(fd);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0: filter(data + 1, size - 1, 0); break;
    case 1: filter(data + 1, size - 1, 1); break;
    default: keyfile(data + 1, size - 1); break;
    }
    return 0;
}
