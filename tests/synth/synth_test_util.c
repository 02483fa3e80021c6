/* synth_test_util.c — helpers shared by the synth tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth_test_util.h"

void tu_fresh(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", HM_TEST_TMPDIR, name);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", buf);
    assert_int_equal(system(cmd), 0);
}

void tu_synth(const char *dir, long patients, long seed, double err, int hospital,
              const char *organs, int realizations, const hm_pseudo_key *key,
              hm_synth_summary *s)
{
    hm_synth_opts o;
    memset(&o, 0, sizeof o);
    o.n_patients = patients;
    o.seed = (uint64_t)seed;
    o.out_dir = dir;
    o.err_per_100mgy = err;
    o.hospital_format = hospital;
    o.organs = organs;
    o.realizations = realizations;
    hm_error e;
    hm_error_clear(&e);
    int rc = hm_synth_run_with_key(&o, key, s, &e);
    if (rc) {
        char buf[1024];
        hm_error_format(&e, buf, sizeof buf);
        fail_msg("synth failed: %s", buf);
    }
}

char *tu_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, fp);
    buf[got] = '\0';
    fclose(fp);
    if (len)
        *len = got;
    return buf;
}

int tu_col(char **head, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(head[i], name))
            return (int)i;
    return -1;
}

long tu_rows(const char *path)
{
    hm_error err;
    hm_csv *c = hm_csv_open(path, 0, &err);
    assert_non_null(c);
    char **f;
    size_t n;
    long rows = -1;
    while (hm_csv_next(c, &f, &n, &err) == 1)
        rows++;
    hm_csv_close(c);
    return rows;
}

size_t tu_centres(char codes[][16], size_t max)
{
    char path[4096];
    hm_error err;
    assert_int_equal(hm_data_path("synth/centres.csv", path, sizeof path, &err), 0);
    hm_csv *c = hm_csv_open(path, 1, &err);
    assert_non_null(c);
    char **f;
    size_t n, k = 0;
    int first = 1;
    while (hm_csv_next(c, &f, &n, &err) == 1) {
        if (first) {
            first = 0;
            continue;
        }
        if (k < max)
            snprintf(codes[k++], 16, "%s", f[0]);
    }
    hm_csv_close(c);
    return k;
}
