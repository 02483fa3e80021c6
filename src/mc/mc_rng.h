/*
 * mc_rng.h — the random number streams of the photon transport (private).
 *
 * Each history owns a stream keyed by (seed, history number, stream): a
 * counter-based generator, Philox4x64-10 (Salmon et al., SC'11, "Parallel
 * random numbers: as easy as 1, 2, 3"), turns that key into the 256-bit state
 * of xoshiro256+ (Blackman & Vigna 2021, "Scrambled linear pseudorandom
 * number generators", ACM TOMS 47(4):36), which then draws the history's
 * numbers.  Results therefore do not depend on which thread ran a history,
 * and any history can be rerun alone.  Why not Philox for every number: a
 * history draws a few dozen (~27 in the 1y phantom), and Philox's ten rounds
 * of 64-bit products, the per-block bookkeeping and its refill branch (taken
 * at random points, so mispredicted) were a fifth of the time of a history in
 * a voxel phantom;
 * xoshiro256+ costs a few shifts and xors a number.  xoshiro256+ is the
 * authors' choice for floating-point output: its top 53 bits pass BigCrush
 * and PractRand; only the lowest bits are weak, and they are not used.
 * Distinct keys give states that are independent points of a 2^256 - 1
 * period: two histories' stretches of a few dozen numbers overlapping is not
 * a concern.
 */
#ifndef HM_MC_RNG_H
#define HM_MC_RNG_H

#include <stdint.h>
#include <Random123/philox.h>

typedef struct mc_rng {
    uint64_t s[4];                 /* xoshiro256+ state */
} mc_rng;

static inline void mc_rng_init(mc_rng *r, uint64_t seed, uint64_t history, uint32_t stream)
{
    philox4x64_key_t key = { { seed, 0x9E3779B97F4A7C15ull } };   /* fixed second word (golden ratio) */
    philox4x64_ctr_t ctr = { { history, stream, 0, 0 } };
    philox4x64_ctr_t out = philox4x64(ctr, key);
    for (int k = 0; k < 4; k++) r->s[k] = out.v[k];
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;   /* the one state it must avoid */
}

/* The next 64 bits (xoshiro256+, Blackman & Vigna, the reference algorithm). */
static inline __attribute__((always_inline)) uint64_t mc_rng_next(mc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = s[0] + s[3];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return out;
}

/* 53 bits to double through int64_t: the same value, but x86-64 converts a
 * signed integer in one instruction and an unsigned 64-bit one in about
 * eight. */
static inline double mc_rng_dbl53(uint64_t j) { return (double)(int64_t)j; }

/* Uniform in (0, 1): the top 53 bits + 1/2, scaled (never 0 or 1). */
static inline __attribute__((always_inline)) double mc_rng_u(mc_rng *r)
{
    return (mc_rng_dbl53(mc_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Exponential with mean 1 (the optical depth to the next collision) by the
 * ziggurat method (Marsaglia & Tsang 2000, "The ziggurat method for
 * generating random variables", J Stat Softw 5(8)), 256 layers: a layer
 * index from 8 bits and a 53-bit position from other bits of the same word
 * (separate bits, as Doornik 2005 advises); 98.9 % of draws are accepted at
 * once, without a logarithm.  Tables and the rare cases in rng.c. */
typedef struct mc_zig_tables {
    uint64_t k[256];               /* accept at once when the 53 bits are below k[i] */
    double   w[256];               /* x = bits * w[i] */
    double   f[256];               /* exp(-x) at the layers' right edges */
} mc_zig_tables;

extern mc_zig_tables mc_zig_exp;
void   mc_rng_tables_init(void);   /* once, before any draw (pthread_once inside) */
double mc_rng_exp_slow(mc_rng *r, uint64_t bits);

static inline __attribute__((always_inline)) double mc_rng_exp(mc_rng *r)
{
    uint64_t b = mc_rng_next(r);
    unsigned i = (unsigned)(b >> 3) & 255u;   /* bits 3..10 (the lowest three are xoshiro256+'s weak ones) */
    uint64_t j = b >> 11;
    if (__builtin_expect(j < mc_zig_exp.k[i], 1)) return mc_rng_dbl53(j) * mc_zig_exp.w[i];
    return mc_rng_exp_slow(r, b);
}

#endif
