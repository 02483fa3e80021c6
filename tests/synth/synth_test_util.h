/* synth_test_util.h — helpers shared by the synth tests. */
#ifndef SYNTH_TEST_UTIL_H
#define SYNTH_TEST_UTIL_H

#include <stddef.h>

#include "hm_synth.h"

/* HM_TEST_TMPDIR/name, after removing whatever was there (rm -rf). */
void tu_fresh(char *buf, size_t size, const char *name);
/* Runs the generator or fails the test. */
void tu_synth(const char *dir, long patients, long seed, double err, int hospital,
              const char *organs, int realizations, const hm_pseudo_key *key,
              hm_synth_summary *s);
/* Whole file as a NUL-terminated string (caller frees); NULL if unreadable. */
char *tu_slurp(const char *path, size_t *len);
/* Column index in a header or -1. */
int tu_col(char **head, size_t n, const char *name);
/* Number of data rows (after the header) of a CSV file. */
long tu_rows(const char *path);
/* The centre codes of data/synth/centres.csv, in file order. */
size_t tu_centres(char codes[][16], size_t max);

#endif
