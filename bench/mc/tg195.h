/*
 * tg195.h — runs the AAPM TG-195 cases 1 and 2 example scenes
 * (examples/mc/tg195) and compares them with the mean of the four reference
 * codes (TG195results.txt).  Shared by bench_mc --tg195-full and the test
 * test_mc_tg195.
 */
#ifndef HM_BENCH_TG195_H
#define HM_BENCH_TG195_H

#include "hm_mc.h"

#include <stdio.h>

typedef struct tg195_row {
    char   name[96];
    int    case_no;       /* 1 or 2 */
    double ref;           /* mean of EGSnrc, Geant4, MCNP, PENELOPE */
    double ref_spread;    /* (max - min) / mean of the four codes */
    double val;
    double sigma;         /* 1-sigma of val */
} tg195_row;

typedef struct tg195_opts {
    const char *dir;          /* examples/mc/tg195 */
    long long   case1_histories;
    long long   case2_histories;
    int         threads;
    int         rayleigh;     /* 0: switch Rayleigh off (physics-error check) */
    int         compton_sf;
    int         doppler;      /* 1: impulse-approximation Compton energies */
    int         only_case2_mode;  /* 0 all, 1 radiography only */
    int         case2_mono_only;  /* 1: skip the 120 kVp case 2 runs */
} tg195_opts;

/* Fills up to max rows; returns the row count or a negative hm_status. */
int tg195_run(const tg195_opts *o, tg195_row *rows, int max, hm_error *err);
void tg195_print(FILE *fp, const tg195_row *rows, int n);

#endif
