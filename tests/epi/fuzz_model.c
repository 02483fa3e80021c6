/* fuzz_model.c — libFuzzer target: the model language, outcome-code
 * matching and the table CSV reader on arbitrary bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hm_epi.h"

static hm_epi_outcomes *oc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hm_error err;
    if (!oc && hm_epi_outcomes_load(NULL, &oc, &err) < 0)
        return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    /* Model text against a small table. */
    hm_epi_table t;
    hm_epi_table_init(&t);
    const char *names[] = { "cases", "pyr", "dose", "s", "z" };
    for (int c = 0; c < 5; c++)
        hm_epi_table_add_col(&t, names[c], &err);
    hm_epi_table_resize(&t, 4, &err);
    for (size_t r = 0; r < 4; r++) {
        t.cols[0][r] = (double)(r % 3);
        t.cols[1][r] = 100.0 + (double)r;
        t.cols[2][r] = 10.0 * (double)r;
        t.cols[3][r] = (double)(r % 2);
        t.cols[4][r] = (double)(r / 2);
    }
    hm_epi_model m;
    if (hm_epi_model_parse(s, &t, &m, &err) == 0) {
        hm_epi_fit fit;
        hm_epi_fit_options o;
        hm_epi_fit_options_default(&o);
        o.profile_ci = 0;
        o.max_iter = 20;
        hm_epi_fit_poisson(&t, &m, &o, &fit, &err);
    }
    hm_epi_table_free(&t);
    /* ICD-O-3 codes: split at the first comma. */
    char *comma = strchr(s, ',');
    if (comma) {
        *comma = '\0';
        for (int g = 0; g < hm_epi_outcomes_count(oc); g++)
            hm_epi_outcomes_match(oc, g, s, comma + 1, &err);
        *comma = ',';
    }
    /* The same bytes as a CSV table. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_epi_%d.csv", (int)getpid());
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fwrite(data, 1, size, fp);
        fclose(fp);
        if (hm_epi_table_read_csv(path, &t, &err) == 0)
            hm_epi_table_free(&t);
        remove(path);
    }
    free(s);
    return 0;
}
