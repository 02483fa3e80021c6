/* rt_contour.c — closed planar contours of a voxel mask slice, for the
 * synthetic RT Structure Sets.
 *
 * Boundary tracing along pixel edges (the crack-following form of contour
 * tracing; e.g. Rosenfeld & Kak, Digital Picture Processing, 2nd ed., 1982,
 * vol. 2, §11.2): every edge between an in-pixel and an out-pixel (or the
 * grid's border) is a directed segment with the in-pixel on its left; the
 * segments link into closed loops.  The loops enclose exactly the in-pixels
 * (area = pixel count), and a hole is a loop of its own, so the even-odd
 * rule of the DVH engine (docs/rt.md) recovers the mask.  Where two
 * in-pixels touch only at a corner (a saddle), the loop turns left so the
 * pixels stay apart (4-connected objects) and the corner is cut by eps on
 * both edges: no loop then touches itself or another one, and the area
 * changes by eps^2/2 per saddle. */
#include "rt_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct { int from, to, dir, used; } edge;   /* dir 0 +x, 1 +y, 2 -x, 3 -y */

static const int DX[4] = { 1, 0, -1, 0 }, DY[4] = { 0, 1, 0, -1 };

static int grow(double **xy, size_t *cap, size_t n, hm_error *err)
{
    if (n + 4 <= *cap)
        return HM_OK;
    size_t nc = *cap ? 2 * *cap : 256;
    double *t = realloc(*xy, 2 * nc * sizeof **xy);
    if (!t)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    *xy = t;
    *cap = nc;
    return HM_OK;
}

int rt_trace_mask(const unsigned char *mask, int nx, int ny, double eps, double **xy_out,
                  int **start_out, hm_error *err)
{
    *xy_out = NULL;
    *start_out = NULL;
    const int vx = nx + 1;
    size_t nv = (size_t)vx * (size_t)(ny + 1);
#define IN(i, j) ((i) >= 0 && (j) >= 0 && (i) < nx && (j) < ny && mask[(size_t)(j) * nx + (i)])
    size_t ne = 0;
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++)
            if (IN(i, j))
                ne += !IN(i, j - 1) + !IN(i + 1, j) + !IN(i, j + 1) + !IN(i - 1, j);
    edge *e = malloc((ne ? ne : 1) * sizeof *e);
    int *out = malloc(2 * nv * sizeof *out);   /* up to 2 outgoing edges per vertex */
    int *start = malloc(sizeof *start);
    double *xy = NULL;
    size_t cap = 0, n = 0;
    int nloops = 0, rc = HM_OK;
    if (!e || !out || !start) {
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        goto done;
    }
    for (size_t v = 0; v < 2 * nv; v++)
        out[v] = -1;
    ne = 0;
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            if (!IN(i, j))
                continue;
            /* The pixel's corners counterclockwise: (i,j) (i+1,j) (i+1,j+1) (i,j+1). */
            const int ci[4] = { i, i + 1, i + 1, i }, cj[4] = { j, j, j + 1, j + 1 };
            const int nb[4] = { !IN(i, j - 1), !IN(i + 1, j), !IN(i, j + 1), !IN(i - 1, j) };
            for (int s = 0; s < 4; s++) {
                if (!nb[s])
                    continue;
                int a = ci[s] + vx * cj[s], b = ci[(s + 1) % 4] + vx * cj[(s + 1) % 4];
                e[ne] = (edge){ a, b, s, 0 };
                out[2 * (size_t)a + (out[2 * (size_t)a] >= 0)] = (int)ne;
                ne++;
            }
        }
#undef IN
    for (size_t k0 = 0; k0 < ne && rc == HM_OK; k0++) {
        if (e[k0].used)
            continue;
        int *ns = realloc(start, (size_t)(nloops + 2) * sizeof *start);
        if (!ns) {
            rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
            break;
        }
        start = ns;
        start[nloops] = (int)n;
        size_t k = k0;
        do {
            e[k].used = 1;
            int v = e[k].to, d = e[k].dir;
            int a = out[2 * (size_t)v], b = out[2 * (size_t)v + 1];
            int saddle = b >= 0, next = a;
            if (saddle)   /* turn left: the pixel on our left stays on its own */
                next = e[a].dir == (d + 1) % 4 ? a : b;
            int dn = e[next].dir;
            if ((rc = grow(&xy, &cap, n, err)))
                break;
            double x = v % vx, y = v / vx;
            if (saddle) {
                xy[2 * n] = x - eps * DX[d];
                xy[2 * n + 1] = y - eps * DY[d];
                n++;
                xy[2 * n] = x + eps * DX[dn];
                xy[2 * n + 1] = y + eps * DY[dn];
                n++;
            } else if (dn != d) {   /* a corner; straight runs need no point */
                xy[2 * n] = x;
                xy[2 * n + 1] = y;
                n++;
            }
            k = (size_t)next;
        } while (k != k0 && rc == HM_OK);
        nloops++;
        start[nloops] = (int)n;
    }
done:
    free(e);
    free(out);
    if (rc) {
        free(xy);
        free(start);
        return rc;
    }
    *xy_out = xy;
    *start_out = start;
    return nloops;
}
