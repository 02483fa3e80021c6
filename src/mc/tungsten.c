/*
 * tungsten.c — a semi-empirical tungsten-anode X-ray spectrum (parameters
 * and their sources in data/spectra/tungsten_model.csv).
 *
 * Bremsstrahlung (Kramers 1923 in depth form): an electron slowing from T0
 * produces, per unit energy loss dT, photons with a number spectrum ~ 1/E
 * for E < T.  Its kinetic energy at mass depth x follows Thomson–Whiddington,
 * T^2 = T0^2 - C x, so the photons of energy E leave the anode through
 * x / sin(alpha) of tungsten:
 *   N(E) = (1/E) int_E^T0 exp(-(mu/rho)_W(E) (T0^2 - T^2) / (C sin alpha)) dT.
 * K lines (E_K = K-edge energy): number per electron relative to the
 * bremsstrahlung constant k_yield (T0/E_K - 1)^n (Green & Cosslett 1968),
 * shared among the K lines by xraylib's radiative rates, attenuated from the
 * mean bremsstrahlung depth.
 */
#include "mc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xraylib/xraylib.h>

typedef struct tw_params {
    double c_kev2_cm2_g;
    double k_yield;
    double k_exponent;
} tw_params;

static int load_params(tw_params *p, hm_error *err)
{
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("spectra/tungsten_model.csv", path, sizeof path, &csv, err);
    if (rc) return rc;
    char **f;
    size_t nf;
    int got = 0;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        if (nf < 2 || !strcmp(f[0], "parameter")) continue;
        char *e;
        double v = strtod(f[1], &e);
        if (*e || e == f[1] || !(v > 0)) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), f[0],
                              "expected a positive number, got '%s'", f[1]);
            break;
        }
        if (!strcmp(f[0], "thomson_whiddington_c")) { p->c_kev2_cm2_g = v; got |= 1; }
        else if (!strcmp(f[0], "k_yield")) { p->k_yield = v; got |= 2; }
        else if (!strcmp(f[0], "k_exponent")) { p->k_exponent = v; got |= 4; }
    }
    hm_csv_close(csv);
    if (rc < 0) return rc;
    if (got != 7)
        return hm_error_set(err, HM_EPARSE, path, 0, "parameter",
                            "expected thomson_whiddington_c, k_yield and k_exponent");
    return 0;
}

/* The model with explicit parameters (used by the fit in bench/mc too). */
int mc_tungsten_model(double kvp, double angle_deg, double c, double k_yield, double k_exp,
                      double bin_kev, hm_mc_spectrum *out, hm_error *err);

int mc_tungsten_model(double kvp, double angle_deg, double c, double k_yield, double k_exp,
                      double bin_kev, hm_mc_spectrum *out, hm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!(kvp >= 20 && kvp <= 150))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "kvp", "tube voltage must be 20..150 kV");
    if (!(angle_deg >= 5 && angle_deg <= 45))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "anode_angle_deg",
                            "anode angle must be 5..45 degrees");
    if (!(bin_kev >= 0.05 && bin_kev <= 5))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "bin_kev", "bin width must be 0.05..5 keV");
    size_t n = (size_t)ceil(kvp / bin_kev - 1e-9);
    out->energy_kev = calloc(n, sizeof(double));
    out->fluence = calloc(n, sizeof(double));
    if (!out->energy_kev || !out->fluence) {
        hm_mc_spectrum_free(out);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    out->n = n;
    out->bin_kev = bin_kev;
    out->bins = HM_MC_BIN_CENTRE;
    double sina = sin(angle_deg * MC_PI / 180.0);
    const int NT = 48, NS = 4;
    double mean_depth_num = 0, mean_depth_den = 0;
    for (size_t i = 0; i < n; i++) {
        double lo = i * bin_kev, hi = fmin((i + 1) * bin_kev, kvp), acc = 0;
        out->energy_kev[i] = (i + 0.5) * bin_kev;
        for (int s = 0; s < NS; s++) {
            double e = lo + (s + 0.5) / NS * (hi - lo);
            if (e < 1.0) continue;
            double mu = CS_Total(74, e, NULL);
            double in = 0;
            for (int k = 0; k < NT; k++) {   /* midpoint rule over T in [E, T0] */
                double t = e + (k + 0.5) / NT * (kvp - e);
                double x = (kvp * kvp - t * t) / c;
                in += exp(-mu * x / sina);
                mean_depth_num += x;
                mean_depth_den += 1;
            }
            acc += in * (kvp - e) / NT / e;
        }
        out->fluence[i] = acc / NS * (hi - lo);
    }
    /* K lines (only above the K edge) */
    double ek = EdgeEnergy(74, K_SHELL, NULL);
    if (kvp > ek) {
        double depth = mean_depth_num / mean_depth_den;
        double total = k_yield * pow(kvp / ek - 1.0, k_exp);
        static const int lines[] = { KL2_LINE, KL3_LINE, KM2_LINE, KM3_LINE, KN2_LINE, KN3_LINE };
        double rsum = 0;
        for (size_t l = 0; l < sizeof lines / sizeof *lines; l++) rsum += RadRate(74, lines[l], NULL);
        for (size_t l = 0; l < sizeof lines / sizeof *lines; l++) {
            double el = LineEnergy(74, lines[l], NULL), r = RadRate(74, lines[l], NULL);
            if (!(el > 0) || !(r > 0) || el >= kvp) continue;
            size_t b = (size_t)(el / bin_kev);
            if (b >= n) continue;
            out->fluence[b] += total * r / rsum * exp(-CS_Total(74, el, NULL) * depth / sina);
        }
    }
    /* normalise to unit sum */
    double tot = 0;
    for (size_t i = 0; i < n; i++) tot += out->fluence[i];
    for (size_t i = 0; i < n; i++) out->fluence[i] /= tot;
    return 0;
}

int hm_mc_spectrum_tungsten(double kvp, double anode_angle_deg, const hm_mc_filter *filters,
                            size_t nfilters, double bin_kev, hm_mc_spectrum *out, hm_error *err)
{
    tw_params p;
    memset(out, 0, sizeof *out);
    int rc = load_params(&p, err);
    if (rc) return rc;
    rc = mc_tungsten_model(kvp, anode_angle_deg, p.c_kev2_cm2_g, p.k_yield, p.k_exponent, bin_kev,
                           out, err);
    for (size_t i = 0; !rc && i < nfilters; i++)
        rc = hm_mc_spectrum_filter(out, filters[i].material, filters[i].thickness_mm, err);
    if (rc) hm_mc_spectrum_free(out);
    return rc;
}
