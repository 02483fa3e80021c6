#!/usr/bin/env python3
"""Writes the TG-195 case 1 and case 2 scenes (AAPM Report 195, Sechopoulos et al. 2015;
geometry as in shared/data/tg195/geometry_and_scoring.md) as harmonic scene files."""
import json, math

def dump(name, scene):
    with open(name, "w") as f:
        json.dump(scene, f, indent=1)
        f.write("\n")

# ---- case 1: HVL/QVL in a narrow beam ----
case1 = {
    "30keV": ({"energy_kev": 30.0}, 0.2273, 0.4546),
    "100keV": ({"energy_kev": 100.0}, 1.511, 3.022),
    "30kVp": ({"spectrum": {"file": "spectrum_Mo_30kVp.csv", "bins": "centre"}}, 0.03431, 0.07663),
    "100kVp": ({"spectrum": {"file": "spectrum_W_100kVp_RQR8.csv", "bins": "centre"}}, 0.3950, 0.9840),
}
for beam, (energy, hvl, qvl) in case1.items():
    for filt, t in (("none", 0.0), ("hvl", hvl), ("qvl", qvl)):
        src = {"type": "cone", "position_cm": [0, 0, 0], "direction": [0, 0, -1],
               "half_angle_deg": math.degrees(math.atan(0.5 / 100.0))}
        src.update(energy)
        sc = {
            "description": f"TG-195 case 1, {beam}, filter {filt} ({t} cm Al)",
            "materials": [{"name": "tg195_air"}, {"name": "tg195_aluminium"}],
            "world": {"material": "tg195_air", "lo_cm": [-5, -5, -101], "hi_cm": [5, 5, 1]},
            "solids": [],
            "source": src,
            "tallies": {"kerma_discs": [{"centre_cm": [0, 0, -100], "normal": [0, 0, 1],
                                          "radius_cm": 0.5}]},
            "run": {"histories": 2000000, "seed": 1, "threads": 1, "batches": 20},
        }
        if t > 0:
            sc["solids"].append({"type": "cylinder", "axis": "z", "name": "filter",
                                 "center_cm": [0, 0, -10 - t / 2], "half_cm": [2, 2, t / 2],
                                 "material": "tg195_aluminium", "region": 1})
        dump(f"case1_{beam}_{filt}.json", sc)

# ---- case 2: radiography and tomosynthesis of a soft-tissue slab ----
vois = [(0, -15, 0), (-15, 0, 0), (0, 0, 0), (15, 0, 0), (0, 15, 0),
        (0, 0, -6), (0, 0, -3), (0, 0, 3), (0, 0, 6)]
h = 180.0 * math.tan(math.radians(15.0))
for beam, energy in (("56keV", {"energy_kev": 56.4}),
                     ("120kVp", {"spectrum": {"file": "spectrum_W_120kVp.csv", "bins": "centre"}})):
    for mode in ("radiography", "tomosynthesis"):
        y0 = 0.0 if mode == "radiography" else -h
        src = {"type": "rect", "position_cm": [0, y0, 0], "direction": [0, 0, 1],
               "u_axis": [1, 0, 0], "plane_distance_cm": 180.0,
               "u_cm": [-19.5, 19.5], "v_cm": [-19.5 - y0, 19.5 - y0]}
        src.update(energy)
        sc = {
            "description": f"TG-195 case 2, {beam}, {mode}",
            "materials": [{"name": "tg195_air"}, {"name": "tg195_soft_tissue"}],
            "world": {"material": "tg195_air", "lo_cm": [-100, -100, -10], "hi_cm": [100, 100, 200]},
            "solids": [
                {"type": "box", "name": "Total body", "center_cm": [0, 0, 165],
                 "half_cm": [19.5, 19.5, 10], "material": "tg195_soft_tissue", "region": 1},
                {"type": "box", "name": "receptor", "center_cm": [0, 0, 180.05],
                 "half_cm": [19.5, 19.5, 0.05], "material": "tg195_air", "region": 11},
            ],
            "score_boxes": [{"name": f"VOI {i + 1}", "center_cm": [x, y, 165 + z],
                             "half_cm": [1.5, 1.5, 1.5], "region": i + 2}
                            for i, (x, y, z) in enumerate(vois)],
            "source": src,
            "run": {"histories": 10000000, "seed": 1, "threads": 2, "batches": 20},
        }
        dump(f"case2_{beam}_{mode}.json", sc)
