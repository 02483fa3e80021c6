/*
 * scoreindex.c — a lookup table that finds the score boxes containing a
 * point in a few instructions (see mc_sbindex in mc_internal.h).
 *
 * Testing every box at every energy deposit costs ~30 instructions per box
 * (TG-195 case 2 has nine), and branching on the outcome is unpredictable.
 * Per axis, the bounding box of all score boxes is cut into MC_SB_CELLS
 * cells, and each cell holds the bit set of the boxes overlapping it along
 * that axis; the AND of a point's three sets lists its candidate boxes, which
 * for most deposits is empty.  Candidates are then tested exactly.
 */
#include "mc_internal.h"

#include <stdlib.h>
#include <string.h>

void mc_sbindex_free(mc_sbindex *x)
{
    free(x->mask);
    memset(x, 0, sizeof *x);
}

int mc_sbindex_build(mc_sbindex *x, const mc_scorebox *sb, int nsb, hm_error *err)
{
    memset(x, 0, sizeof *x);
    if (nsb <= 0) return 0;
    x->nw = (nsb + 63) / 64;
    x->mask = calloc((size_t)3 * MC_SB_STRIDE * x->nw, sizeof(uint64_t));
    if (!x->mask) return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (int k = 0; k < 3; k++) {
        double lo = sb[0].lo[k], hi = sb[0].hi[k];
        for (int b = 1; b < nsb; b++) {
            if (sb[b].lo[k] < lo) lo = sb[b].lo[k];
            if (sb[b].hi[k] > hi) hi = sb[b].hi[k];
        }
        x->lo[k] = lo;
        /* a flat bounding box: every point maps to cell 1, which holds all boxes */
        x->inv_cell[k] = hi > lo ? MC_SB_CELLS / (hi - lo) : 0.0;
        for (int b = 0; b < nsb; b++) {
            /* cells 1..MC_SB_CELLS cover [lo, hi); the range is taken one cell
             * wide on either side of rounding, as the exact test follows */
            int c0 = 1 + (int)((sb[b].lo[k] - lo) * x->inv_cell[k]);
            int c1 = 1 + (int)((sb[b].hi[k] - lo) * x->inv_cell[k]);
            if (c0 > 1) c0--;
            if (c1 > MC_SB_CELLS) c1 = MC_SB_CELLS;
            for (int c = c0; c <= c1; c++)
                x->mask[((size_t)k * MC_SB_STRIDE + c) * x->nw + b / 64] |= 1ull << (b % 64);
        }
    }
    return 0;
}
