/* rng.c — counter-based random streams.
 *
 * Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as
 * easy as 1, 2, 3", SC'11; Random123): key = the 64-bit seed, counter =
 * (a, b, c, n) where (a, b, c) names the stream (patient, purpose, index)
 * and n counts blocks of four 32-bit outputs.  Any stream can be produced
 * on its own, so output does not depend on the order of generation. */
#include "synth_int.h"

#include <math.h>

void sy_rng_init(sy_rng *r, uint64_t seed, uint32_t a, uint32_t b, uint32_t c)
{
    r->key.v[0] = (uint32_t)seed;
    r->key.v[1] = (uint32_t)(seed >> 32);
    r->ctr.v[0] = a;
    r->ctr.v[1] = b;
    r->ctr.v[2] = c;
    r->ctr.v[3] = 0;
    r->pos = 4;
}

static uint32_t next32(sy_rng *r)
{
    if (r->pos == 4) {
        r->out = philox4x32(r->ctr, r->key);
        r->ctr.v[3]++;
        r->pos = 0;
    }
    return r->out.v[r->pos++];
}

double sy_u01(sy_rng *r)
{
    /* 53 random bits, shifted by half a step so 0 and 1 never occur. */
    uint64_t x = ((uint64_t)next32(r) << 21) ^ (next32(r) >> 11);
    return ((double)(x & ((1ULL << 53) - 1)) + 0.5) * (1.0 / 9007199254740992.0);
}

double sy_normal(sy_rng *r)
{
    /* Box & Muller, Ann Math Stat 29:610 (1958); one of the pair is used so
     * each call consumes a fixed number of draws. */
    double u1 = sy_u01(r), u2 = sy_u01(r);
    const double two_pi = 6.283185307179586;
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

double sy_exp1(sy_rng *r)
{
    return -log(sy_u01(r));
}
