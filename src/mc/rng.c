/*
 * rng.c — the ziggurat tables for exponential optical depths (mc_rng.h).
 */
#include "mc_rng.h"

#include <math.h>
#include <pthread.h>

mc_zig_tables mc_zig_exp;

/* Marsaglia & Tsang 2000 (J Stat Softw 5(8)), section 4 and their zigset():
 * 256 layers of equal area v under exp(-x), the base layer holding the tail
 * beyond r.  The constants are theirs (r solves the equal-area condition). */
#define ZIG_R 7.697117470131487
#define ZIG_V 3.949659822581572e-3
#define ZIG_M 9007199254740992.0   /* 2^53: the position's range */

static void tables_make(void)
{
    mc_zig_tables *z = &mc_zig_exp;
    double de = ZIG_R, te = de;
    double q = ZIG_V / exp(-de);
    z->k[0] = (uint64_t)((de / q) * ZIG_M);
    z->k[1] = 0;
    z->w[0] = q / ZIG_M;
    z->w[255] = de / ZIG_M;
    z->f[0] = 1.0;
    z->f[255] = exp(-de);
    for (int i = 254; i >= 1; i--) {
        de = -log(ZIG_V / de + exp(-de));
        z->k[i + 1] = (uint64_t)((de / te) * ZIG_M);
        te = de;
        z->f[i] = exp(-de);
        z->w[i] = de / ZIG_M;
    }
}

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

void mc_rng_tables_init(void)
{
    pthread_once(&tables_once, tables_make);
}

/* The 1.1 % of draws not accepted at once (Marsaglia & Tsang's efix): the
 * base layer's tail beyond r is r + a fresh exponential (memoryless); in
 * another layer, x is accepted under the curve by a uniform height between
 * the layer's edges, else a new word is drawn. */
double mc_rng_exp_slow(mc_rng *r, uint64_t bits)
{
    const mc_zig_tables *z = &mc_zig_exp;
    for (;;) {
        unsigned i = (unsigned)(bits >> 3) & 255u;
        uint64_t j = bits >> 11;
        if (j < z->k[i]) return mc_rng_dbl53(j) * z->w[i];
        if (i == 0) return ZIG_R - log(mc_rng_u(r));
        double x = mc_rng_dbl53(j) * z->w[i];
        if (z->f[i] + mc_rng_u(r) * (z->f[i - 1] - z->f[i]) < exp(-x)) return x;
        bits = mc_rng_next(r);
    }
}
