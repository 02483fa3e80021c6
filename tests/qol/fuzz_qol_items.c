/*
 * fuzz_qol_items.c — arbitrary bytes through the item-response CSV reader
 * (harmonic qol score --items): parse, check each row against the forms,
 * group and score.  Invariants: no crash or sanitizer report; a file with
 * problems is never scored; every computed score lies in 0-100.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hm_qol.h"

static const hm_qol_defs *defs;
static char path[64];

static int check_scores(void *arg, const hm_qol_item *a, const hm_qol_score *sc, size_t n)
{
    (void)arg;
    (void)a;
    for (size_t i = 0; i < n; i++)
        if (sc[i].computed && !(sc[i].score >= 0 && sc[i].score <= 100))
            abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hm_error err;
    if (!defs) {
        if (!getenv("HARMONIC_DATA"))
            setenv("HARMONIC_DATA", HM_SOURCE_DATA_DIR, 1);
        if (hm_qol_defs_shared(&defs, &err))
            abort();
        snprintf(path, sizeof path, "/tmp/hm_fuzz_qol_%ld.csv", (long)getpid());
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        abort();
    fwrite(data, 1, size, fp);
    fclose(fp);
    hm_qol_itemset *set = NULL;
    long n_errors = 0;
    if (hm_qol_read_items(defs, path, NULL, NULL, NULL, &n_errors, &set, &err) == HM_OK) {
        if (n_errors == 0)
            hm_qol_itemset_score(defs, set, check_scores, NULL, &err);
        hm_qol_itemset_free(set);
    }
    return 0;
}
