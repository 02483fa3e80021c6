#!/usr/bin/env python3
"""dvh_ref.py DIR -- the numpy reference of bench_dvh (written for the benchmark).

Reads DIR/grid.txt, DIR/dose.f32 and DIR/contours.txt written by bench_dvh and computes
the same DVH metrics as hm_rt in the plainest vectorised way:
  - the same s x s sample points per voxel, at fractional index (g + 0.5)/s - 0.5;
  - inside by the even-odd crossing test (PNPOLY, W. R. Franklin), vectorised over all
    sample points of the ROI's bounding box, one edge at a time, all contours of a
    slice together;
  - the same slab rule (half-way to the neighbouring contour slices, end slices
    extended by half the adjacent spacing) and voxel plane extents (docs/rt.md);
  - nearest-voxel dose; D_V by a weighted sort (the dose at which the volume of the
    hottest part first reaches V), V_D by a sum over dose >= D.
Writes DIR/results_py.txt: "seconds WALL CPU", then one line per ROI with its 14 metrics.
"""
import sys
import time

import numpy as np


def read_grid(d):
    g = {}
    for line in open(d + "/grid.txt"):
        f = line.split()
        g[f[0]] = [float(v) for v in f[1:]]
    nx, ny, nz = int(g["nx"][0]), int(g["ny"][0]), int(g["nz"][0])
    dose = np.fromfile(d + "/dose.f32", dtype=np.float32).reshape(nz, ny, nx)
    return dict(nx=nx, ny=ny, nz=nz, dx=g["dx"][0], dy=g["dy"][0], x0=g["x0"][0],
                y0=g["y0"][0], s=int(g["subsample"][0]), z=np.array(g["z"]), dose=dose)


def read_rois(d):
    rois = []
    for line in open(d + "/contours.txt"):
        f = line.split()
        if f[0] == "roi":
            rois.append((f[1], []))
        else:
            z, n = float(f[1]), int(f[2])
            xy = np.array([float(v) for v in f[3:3 + 2 * n]]).reshape(n, 2)
            rois[-1][1].append((z, xy))
    return rois


def extents(z, dx):
    """Plane k spans half-way to its neighbours; end planes by half the adjacent gap."""
    n = len(z)
    lo, hi = np.empty(n), np.empty(n)
    for k in range(n):
        nb = [z[q] for q in (k - 1, k + 1) if 0 <= q < n]
        below = [(z[k] - v) / 2 for v in nb if v < z[k]]
        above = [(v - z[k]) / 2 for v in nb if v > z[k]]
        b = below[0] if below else (above[0] if above else dx / 2)
        a = above[0] if above else b
        lo[k], hi[k] = z[k] - b, z[k] + a
    return lo, hi


def slabs(contours, lo, hi, z, tol=0.01):
    cs = sorted(contours, key=lambda c: c[0])
    sl = []
    for zc, xy in cs:
        if sl and zc - sl[-1][0] <= tol:
            sl[-1][1].append(xy)
        else:
            sl.append([zc, [xy]])
    out = []
    for k, (zc, polys) in enumerate(sl):
        below = (zc - sl[k - 1][0]) / 2 if k > 0 else None
        above = (sl[k + 1][0] - zc) / 2 if k + 1 < len(sl) else None
        if below is None and above is None:
            q = int(np.argmin(np.abs(z - zc)))
            below = above = (hi[q] - lo[q]) / 2
        below = above if below is None else below
        above = below if above is None else above
        out.append((zc - below, zc + above, polys))
    return out


def inside(polys, X, Y):
    """Even-odd crossing test at every (X, Y) point, all polygons of the slice."""
    c = np.zeros(np.broadcast(X, Y).shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for P in polys:
            xa, ya = P[-1, 0], P[-1, 1]
            for xb, yb in P:
                cond = (ya > Y) != (yb > Y)
                xc = (xb - xa) * (Y - ya) / (yb - ya) + xa
                c ^= cond & (X < xc)
                xa, ya = xb, yb
    return c


def dvh(g, contours, lo, hi):
    s, dx, dy = g["s"], g["dx"], g["dy"]
    sl = slabs(contours, lo, hi, g["z"])
    # Contours to fractional index space (identity cosines in the benchmark).
    idx = [(a, b, [np.column_stack(((P[:, 0] - g["x0"]) * (1.0 / dx),
                                    (P[:, 1] - g["y0"]) * (1.0 / dy))) for P in polys])
           for a, b, polys in sl]
    allp = np.vstack([P for _, _, ps in idx for P in ps])
    i0 = max(0, int(np.floor(allp[:, 0].min() + 0.5)))
    i1 = min(g["nx"] - 1, int(np.floor(allp[:, 0].max() + 0.5)))
    j0 = max(0, int(np.floor(allp[:, 1].min() + 0.5)))
    j1 = min(g["ny"] - 1, int(np.floor(allp[:, 1].max() + 0.5)))
    bw, bh = i1 - i0 + 1, j1 - j0 + 1
    X = ((np.arange(i0 * s, (i1 + 1) * s) + 0.5) / s - 0.5)[None, :]
    Y = ((np.arange(j0 * s, (j1 + 1) * s) + 0.5) / s - 0.5)[:, None]
    counts = {}
    doses, weights = [], []
    for k in range(g["nz"]):
        for c, (a, b, polys) in enumerate(idx):
            ov = min(hi[k], b) - max(lo[k], a)
            if ov <= 0:
                continue
            if c not in counts:
                m = inside(polys, X, Y)
                counts[c] = m.reshape(bh, s, bw, s).sum(axis=(1, 3))
            n = counts[c]
            sel = n > 0
            weights.append(n[sel] * (dx * dy * ov / (s * s)))
            doses.append(g["dose"][k, j0:j1 + 1, i0:i1 + 1][sel].astype(np.float64))
    d = np.concatenate(doses)
    w = np.concatenate(weights)
    total = w.sum()
    order = np.argsort(-d, kind="stable")
    ds, cw = d[order], np.cumsum(w[order])

    def d_at(v):
        if v <= 0:
            return ds[0]
        if v >= total:
            return ds[-1]
        return ds[min(np.searchsorted(cw, v), len(ds) - 1)]

    vx = {t: w[d >= t].sum() for t in (5, 10, 20, 30)}
    return [total / 1000, (w * d).sum() / total, d.min(), d.max(),
            d_at(0.02 * total), d_at(0.50 * total), d_at(0.98 * total),
            d.max() if total < 30 else d_at(30.0),
            100 * vx[5] / total, 100 * vx[10] / total, 100 * vx[20] / total,
            100 * vx[30] / total, vx[20] / 1000, vx[30] / 1000]


def main():
    d = sys.argv[1]
    g = read_grid(d)
    rois = read_rois(d)
    t0, c0 = time.perf_counter(), time.process_time()
    lo, hi = extents(g["z"], g["dx"])
    res = [dvh(g, c, lo, hi) for _, c in rois]
    t, c = time.perf_counter() - t0, time.process_time() - c0
    with open(d + "/results_py.txt", "w") as f:
        f.write("seconds %.6f %.6f\n" % (t, c))
        for r, m in enumerate(res):
            f.write("%d %s\n" % (r, " ".join("%.17g" % v for v in m)))


if __name__ == "__main__":
    main()
