/*
 * fit_tungsten.c — fits the two free constants of the tungsten spectrum model
 * (Thomson–Whiddington C and the K-line yield) to a reference spectrum by
 * least squares on a grid, then prints the HVLs of the fitted model.
 * usage: fit_tungsten REF.csv KVP ANODE_DEG AL_MM
 * (used once with examples/mc/tg195/spectrum_W_100kVp_RQR8.csv 100 11 2.708;
 * the result is in data/spectra/tungsten_model.csv)
 */
#include "hm_mc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int mc_tungsten_model(double kvp, double angle_deg, double c, double k_yield, double k_exp,
                      double bin_kev, hm_mc_spectrum *out, hm_error *err);

static double misfit(const hm_mc_spectrum *ref, double kvp, double ang, double al, double c,
                     double ky, hm_mc_spectrum *m)
{
    hm_error err;
    if (mc_tungsten_model(kvp, ang, c, ky, 1.63, ref->bin_kev, m, &err) ||
        hm_mc_spectrum_filter(m, "aluminium", al, &err))
        return INFINITY;
    double sr = 0, sm = 0;
    for (size_t i = 0; i < ref->n; i++) sr += ref->fluence[i];
    for (size_t i = 0; i < m->n; i++) sm += m->fluence[i];
    double chi = 0;
    for (size_t i = 0; i < ref->n; i++) {
        size_t j = (size_t)(ref->energy_kev[i] / m->bin_kev);
        double mv = j < m->n ? m->fluence[j] / sm : 0;
        double d = mv - ref->fluence[i] / sr;
        chi += d * d;
    }
    return chi;
}

int main(int argc, char **argv)
{
    if (argc != 5) { fprintf(stderr, "usage: fit_tungsten REF.csv KVP ANODE_DEG AL_MM\n"); return 2; }
    hm_error err;
    hm_mc_spectrum ref, m = { 0 };
    if (hm_mc_spectrum_read(argv[1], HM_MC_BIN_CENTRE, &ref, &err)) {
        fprintf(stderr, "%s\n", err.msg); return 1;
    }
    double kvp = atof(argv[2]), ang = atof(argv[3]), al = atof(argv[4]);
    double best = INFINITY, bc = 0, bk = 0;
    for (double lc = 4.0; lc <= 7.0; lc += 0.05)
        for (double lk = -2.0; lk <= 2.0; lk += 0.05) {
            double c = pow(10, lc), k = pow(10, lk);
            double f = misfit(&ref, kvp, ang, al, c, k, &m);
            hm_mc_spectrum_free(&m);
            if (f < best) { best = f; bc = c; bk = k; }
        }
    printf("best C = %.4g keV2 cm2/g, k_yield = %.4g, rms = %.3g\n", bc, bk,
           sqrt(best / ref.n));
    hm_mc_beam_quality q, qr;
    mc_tungsten_model(kvp, ang, bc, bk, 1.63, ref.bin_kev, &m, &err);
    hm_mc_spectrum_filter(&m, "aluminium", al, &err);
    hm_mc_spectrum_quality(&m, &q, &err);
    hm_mc_spectrum_quality(&ref, &qr, &err);
    printf("model HVL1 %.3f mm Al, HVL2 %.3f, mean %.2f keV; reference HVL1 %.3f, HVL2 %.3f, mean %.2f\n",
           q.hvl1_mm_al, q.hvl2_mm_al, q.mean_energy_kev, qr.hvl1_mm_al, qr.hvl2_mm_al,
           qr.mean_energy_kev);
    hm_mc_spectrum_free(&m);
    hm_mc_spectrum_free(&ref);
    return 0;
}
