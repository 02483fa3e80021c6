#!/usr/bin/env python3
"""Fit of the out-of-field photon model of data/rt/out_of_field.csv (docs/rt.md).

3D-CRT, 6 MV, dose in % of the prescription at distance d (cm) from the field edge:
    D(d) = A_ps exp(-d/l_ps) + A_cs exp(-d/l_cs) + A_hl            (head leakage flat)
the sum-of-exponentials form reviewed by AAPM TG-158 (Kry et al. 2017, Med Phys 44:e391).
A_hl is fixed (not fitted): 0.03 % of the prescription, the order of the 6 MV head
leakage measured for conventional fields (Kry et al. 2005, IJROBP 62:1195; IEC 60601-2-1
caps leakage at 0.1 % of the isocentre dose).  The two exponentials are fitted to the
points below by variable projection: a grid over (l_ps, l_cs), the amplitudes by
weighted linear least squares, the objective the sum of squared log residuals.

Points: 6 MV, 10 x 10 cm2 field, 10 cm depth, total peripheral dose in % of the
central-axis dose, read from the AAPM TG-36 report (Stovall et al. 1995, Med Phys
22:63, table/figure of peripheral dose vs distance from the field edge).  They are the
values as read (to about +-20 %), not exact table entries: check them against the report
before relying on the fit for anything but the anchor checks of tests/rt/test_oof.c.

No numpy needed (plain Python 3).  Run: python3 scripts/rt/fit_oof.py
"""
import math

POINTS = [(10, 1.4), (15, 0.75), (20, 0.45), (30, 0.20), (40, 0.10), (50, 0.07)]
A_HL_PCT = 0.03


def fit():
    best = None
    for i in range(20, 200):          # l_ps 2.0 .. 19.9 cm
        l1 = i / 10
        for j in range(100, 600, 2):  # l_cs 10 .. 59.8 cm
            l2 = j / 10
            if l2 <= l1:
                continue
            # weighted LSQ for y - A_hl = a1 e1 + a2 e2, weights 1/y^2 (relative error)
            s11 = s12 = s22 = b1 = b2 = 0.0
            for d, y in POINTS:
                w = 1 / (y * y)
                e1, e2, r = math.exp(-d / l1), math.exp(-d / l2), y - A_HL_PCT
                s11 += w * e1 * e1; s12 += w * e1 * e2; s22 += w * e2 * e2
                b1 += w * e1 * r; b2 += w * e2 * r
            det = s11 * s22 - s12 * s12
            if abs(det) < 1e-300:
                continue
            a1 = (b1 * s22 - b2 * s12) / det
            a2 = (s11 * b2 - s12 * b1) / det
            if a1 <= 0 or a2 <= 0:
                continue
            obj = 0.0
            for d, y in POINTS:
                m = a1 * math.exp(-d / l1) + a2 * math.exp(-d / l2) + A_HL_PCT
                obj += math.log(m / y) ** 2
            if best is None or obj < best[0]:
                best = (obj, a1, l1, a2, l2)
    return best


def main():
    obj, a1, l1, a2, l2 = fit()
    print(f"patient scatter   A_ps = {a1:.4g} %  l_ps = {l1:.3g} cm")
    print(f"collimator scat.  A_cs = {a2:.4g} %  l_cs = {l2:.3g} cm")
    print(f"head leakage      A_hl = {A_HL_PCT} % (fixed)")
    print(f"rms log residual {math.sqrt(obj / len(POINTS)):.3f}")
    for d, y in POINTS:
        m = a1 * math.exp(-d / l1) + a2 * math.exp(-d / l2) + A_HL_PCT
        print(f"  d {d:3d} cm  read {y:.3f} %  model {m:.3f} %")
    # Two-point exponential fits for protons (the points named in the CSV header).
    for name, (d1, y1), (d2, y2) in [
            ("pbs photons mGy/Gy (Stolarczyk 2018)", (10, 0.5), (30, 0.02)),
            ("pbs neutrons mSv/Gy (Stolarczyk 2018)", (10, 0.7), (30, 0.06)),
            ("ps neutrons mSv/Gy (Zheng 2007 iso, Yan 2002 50 cm)", (0, 20.0), (45, 2.2))]:
        lam = (d2 - d1) / math.log(y1 / y2)
        amp = y1 * math.exp(d1 / lam)
        print(f"{name}: A = {amp:.4g}  l = {lam:.4g} cm")


if __name__ == "__main__":
    main()
