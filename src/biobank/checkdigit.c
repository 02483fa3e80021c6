/*
 * checkdigit.c — the check character of sample and aliquot ids: ISO/IEC
 * 7064:2003, pure system MOD 37-2 (alphanumeric: characters 0-9 = 0-9,
 * A-Z = 10-35, check character '*' = 36).  With the prime modulus 37 and the
 * weights 2^k (never 0 mod 37) it detects every single substitution and
 * every transposition of two adjacent characters (ISO/IEC 7064, clause 5).
 *
 * Recursive form (ISO/IEC 7064 annex): P = 0; for each character,
 * P = ((P + value) * 2) mod 37; the check value c makes (P + c) mod 37 = 1,
 * i.e. c = (38 - P) mod 37.
 */
#include "hm_biobank.h"

#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";

static int value_of(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return -1;
}

/* P after the characters s[0..n), or -1 for a character outside 0-9 A-Z. */
static int running(const char *s, size_t n)
{
    int p = 0;
    for (size_t i = 0; i < n; i++) {
        int v = value_of(s[i]);
        if (v < 0)
            return -1;
        p = ((p + v) * 2) % 37;
    }
    return p;
}

char hm_bb_check_char(const char *s)
{
    int p = running(s, strlen(s));
    if (p < 0 || !s[0])
        return 0;
    return alphabet[(38 - p) % 37];
}

int hm_bb_check_valid(const char *id)
{
    size_t n = strlen(id);
    if (n < 2)
        return 0;
    int p = running(id, n - 1);
    const char *c = strchr(alphabet, id[n - 1]);
    if (p < 0 || !c || !id[n - 1])
        return 0;
    return (p + (int)(c - alphabet)) % 37 == 1;
}
