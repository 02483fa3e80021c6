/*
 * spectrum.c — X-ray spectra: files, filtration, half-value layers, air
 * kerma coefficients (mu_en/rho of air from the NIST table).
 */
#include "mc_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void hm_mc_spectrum_free(hm_mc_spectrum *s)
{
    if (!s) return;
    free(s->energy_kev);
    free(s->fluence);
    memset(s, 0, sizeof *s);
}

int hm_mc_spectrum_mono(double energy_kev, hm_mc_spectrum *out, hm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!(energy_kev >= 1.0 && energy_kev < MC_EMAX_KEV - 1))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "energy_kev",
                            "energy must be in [1, %.0f) keV (got %g)", MC_EMAX_KEV - 1, energy_kev);
    out->energy_kev = malloc(sizeof(double));
    out->fluence = malloc(sizeof(double));
    if (!out->energy_kev || !out->fluence) {
        hm_mc_spectrum_free(out);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    out->n = 1;
    out->energy_kev[0] = energy_kev;
    out->fluence[0] = 1.0;
    out->bins = HM_MC_BIN_POINT;
    return 0;
}

int hm_mc_spectrum_read(const char *path, int bins, hm_mc_spectrum *out, hm_error *err)
{
    return hm_mc_spectrum_read_dialect(path, bins, NULL, out, err);
}

int hm_mc_spectrum_read_dialect(const char *path, int bins, const hm_csv_dialect *dialect,
                                hm_mc_spectrum *out, hm_error *err)
{
    memset(out, 0, sizeof *out);
    if (bins < HM_MC_BIN_CENTRE || bins > HM_MC_BIN_POINT)
        return hm_error_set(err, HM_EINVAL, path, 0, "bins", "unknown bin convention %d", bins);
    hm_csv *csv = hm_csv_open_dialect(path, 1, dialect, err);
    if (!csv) return err ? err->code : HM_EIO;
    size_t cap = 0;
    char **f;
    size_t nf;
    int rc;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        long line = hm_csv_line(csv);
        if (nf < 2) {
            /* a first record read with the wrong separator says which to use */
            if (out->n == 0 && hm_csv_header_check(csv, f, nf, err))
                rc = HM_EPARSE;
            else
                rc = hm_error_set(err, HM_EPARSE, path, line, NULL,
                                  "expected two columns: energy_keV,relative_fluence");
            break;
        }
        char *e1, *e2;
        double e = strtod(f[0], &e1), w = strtod(f[1], &e2);
        if (*e1 || *e2 || e1 == f[0] || e2 == f[1]) {
            if (out->n == 0 && (*e1 || e1 == f[0])) continue;   /* header row */
            rc = hm_error_set(err, HM_EPARSE, path, line, (*e1 || e1 == f[0]) ? "energy_keV" :
                              "relative_fluence", "expected a number");
            break;
        }
        if (!(e > 0) || !(e < MC_EMAX_KEV - 1) || !(w >= 0) || !isfinite(w)) {
            rc = hm_error_set(err, HM_EVALIDATE, path, line, !(w >= 0) || !isfinite(w) ?
                              "relative_fluence" : "energy_keV",
                              "expected 0 < energy < %.0f keV and fluence >= 0", MC_EMAX_KEV - 1);
            break;
        }
        if (out->n && e <= out->energy_kev[out->n - 1]) {
            rc = hm_error_set(err, HM_EVALIDATE, path, line, "energy_keV",
                              "energies must increase (%g after %g)", e,
                              out->energy_kev[out->n - 1]);
            break;
        }
        if (out->n == cap) {
            cap = cap ? 2 * cap : 256;
            double *a = realloc(out->energy_kev, cap * sizeof(double));
            if (a) out->energy_kev = a;
            double *b = realloc(out->fluence, cap * sizeof(double));
            if (b) out->fluence = b;
            if (!a || !b) { rc = hm_error_set(err, HM_ENOMEM, path, line, NULL, "out of memory"); break; }
        }
        out->energy_kev[out->n] = e;
        out->fluence[out->n] = w;
        out->n++;
    }
    hm_csv_close(csv);
    if (rc == 0 && out->n == 0)
        rc = hm_error_set(err, HM_EPARSE, path, 0, NULL, "no spectrum rows");
    if (rc == 0 && bins != HM_MC_BIN_POINT) {
        if (out->n < 2) {
            rc = hm_error_set(err, HM_EVALIDATE, path, 0, "energy_keV",
                              "a binned spectrum needs at least two rows (else use bins=point)");
        } else {
            double w = out->energy_kev[1] - out->energy_kev[0];
            for (size_t i = 1; i < out->n; i++)
                if (fabs(out->energy_kev[i] - out->energy_kev[i - 1] - w) > 1e-6 * (1 + w)) {
                    rc = hm_error_set(err, HM_EVALIDATE, path, (long)i + 1, "energy_keV",
                                      "binned spectra need a uniform energy grid (step %g keV)", w);
                    break;
                }
            out->bin_kev = w;
        }
    }
    if (rc < 0) { hm_mc_spectrum_free(out); return rc; }
    out->bins = bins;
    return 0;
}

/* ---- mu_en/rho of air (data/materials/muen_air_nist.csv) ---- */
static pthread_once_t muen_once = PTHREAD_ONCE_INIT;
static double muen_e[64], muen_v[64];
static size_t muen_n;
static hm_error muen_err;

static void muen_load(void)
{
    char path[1024];
    hm_csv *csv;
    if (hm_data_csv_open("materials/muen_air_nist.csv", path, sizeof path, &csv, &muen_err)) return;
    char **f;
    size_t nf;
    int rc;
    while ((rc = hm_csv_next(csv, &f, &nf, &muen_err)) == 1) {
        if (nf < 3) { rc = hm_error_set(&muen_err, HM_EPARSE, path, hm_csv_line(csv), NULL,
                                        "expected energy_kev,mu_rho,muen_rho"); break; }
        char *e1, *e2;
        double e = strtod(f[0], &e1), v = strtod(f[2], &e2);
        if (*e1 || e1 == f[0]) { if (muen_n == 0) continue; }
        if (*e1 || *e2 || !(e > 0) || !(v > 0) || muen_n >= 64) {
            rc = hm_error_set(&muen_err, HM_EPARSE, path, hm_csv_line(csv), "muen_rho_cm2_g",
                              "expected positive numbers");
            break;
        }
        muen_e[muen_n] = e;
        muen_v[muen_n] = v;
        muen_n++;
    }
    hm_csv_close(csv);
    if (rc < 0 || muen_n < 2) {
        if (rc >= 0) hm_error_set(&muen_err, HM_EPARSE, path, 0, NULL, "too few rows");
        muen_n = 0;
    }
}

int hm_mc_muen_air(double energy_kev, double *muen, hm_error *err)
{
    pthread_once(&muen_once, muen_load);
    if (muen_n == 0) {
        if (err) *err = muen_err;
        return muen_err.code ? muen_err.code : HM_EIO;
    }
    if (!(energy_kev >= muen_e[0] && energy_kev <= muen_e[muen_n - 1]))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "energy_kev",
                            "mu_en/rho of air tabulated for %g..%g keV (asked %g)", muen_e[0],
                            muen_e[muen_n - 1], energy_kev);
    size_t i = 1;
    /* the edge appears twice: the first row at or above E decides the side */
    while (i < muen_n - 1 && muen_e[i] < energy_kev) i++;
    if (muen_e[i] == muen_e[i - 1]) i++;
    /* log-log interpolation, as recommended with the NIST tables (Hubbell & Seltzer 1996) */
    double x0 = log(muen_e[i - 1]), x1 = log(muen_e[i]);
    double y0 = log(muen_v[i - 1]), y1 = log(muen_v[i]);
    *muen = exp(y0 + (log(energy_kev) - x0) / (x1 - x0) * (y1 - y0));
    return 0;
}

/* ---- filtration and half-value layers ---- */

int hm_mc_spectrum_filter(hm_mc_spectrum *s, const char *material, double thickness_mm,
                          hm_error *err)
{
    if (!(thickness_mm >= 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "thickness_mm", "thickness must be >= 0");
    if (thickness_mm == 0) return 0;
    mc_material m;
    int rc = mc_material_lookup(material, &m, err);
    if (rc) return rc;
    double rho = m.density_g_cm3;
    for (size_t i = 0; i < s->n; i++) {
        /* attenuation averaged over the bin (Beer–Lambert, narrow beam) */
        int sub = s->bins == HM_MC_BIN_POINT ? 1 : 4;
        double w = s->bins == HM_MC_BIN_POINT ? 0 : s->bin_kev;
        double e0 = s->energy_kev[i] - (s->bins == HM_MC_BIN_CENTRE ? 0.5 * w : 0);
        double acc = 0;
        for (int k = 0; k < sub; k++) {
            double e = e0 + (sub > 1 ? (k + 0.5) / sub * w : 0);
            if (e < 1) e = 1;
            double ph, co, ra;
            mc_material_cs(&m, e, &ph, &co, &ra);
            acc += exp(-(ph + co + ra) * rho * thickness_mm * 0.1);
        }
        s->fluence[i] *= acc / sub;
    }
    return 0;
}

#define QSUB 4

int hm_mc_spectrum_quality(const hm_mc_spectrum *s, hm_mc_beam_quality *q, hm_error *err)
{
    memset(q, 0, sizeof *q);
    if (!s->n) return hm_error_set(err, HM_EINVAL, NULL, 0, "spectrum", "empty spectrum");
    size_t n = s->n * QSUB;
    double *k0 = malloc(n * sizeof(double)), *mu = malloc(n * sizeof(double));
    if (!k0 || !mu) { free(k0); free(mu); return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory"); }
    double ftot = 0, etot = 0, ktot = 0;
    mc_material al;
    int rc = mc_material_lookup("aluminium", &al, err);
    for (size_t i = 0; i < s->n && !rc; i++) {
        int sub = s->bins == HM_MC_BIN_POINT ? 1 : QSUB;
        double w = s->bins == HM_MC_BIN_POINT ? 0 : s->bin_kev;
        double e0 = s->energy_kev[i] - (s->bins == HM_MC_BIN_CENTRE ? 0.5 * w : 0);
        for (int k = 0; k < QSUB; k++) {
            size_t j = i * QSUB + k;
            k0[j] = 0; mu[j] = 0;
            if (k >= sub) continue;
            double e = e0 + (sub > 1 ? (k + 0.5) / sub * w : 0), me, ph, co, ra;
            if (e < 1) e = 1;
            if ((rc = hm_mc_muen_air(e, &me, err))) break;
            mc_material_cs(&al, e, &ph, &co, &ra);
            double f = s->fluence[i] / sub;
            /* air kerma K = sum phi E (mu_en/rho)_air (ICRU 85a), arbitrary scale */
            k0[j] = f * e * me;
            mu[j] = (ph + co + ra) * al.density_g_cm3 * 0.1;   /* 1/mm */
            ftot += f; etot += f * e; ktot += k0[j];
        }
    }
    if (!rc && !(ktot > 0)) rc = hm_error_set(err, HM_EINVAL, NULL, 0, "spectrum", "no photons");
    if (rc) { free(k0); free(mu); return rc; }
    double t_half = 0, t_quarter = 0;
    for (int pass = 0; pass < 2; pass++) {
        double target = pass ? 0.25 : 0.5, lo = 0, hi = 1;
        for (;;) {  /* bracket */
            double kk = 0;
            for (size_t j = 0; j < n; j++) kk += k0[j] * exp(-mu[j] * hi);
            if (kk < target * ktot || hi > 1e4) break;
            hi *= 2;
        }
        for (int it = 0; it < 80; it++) {  /* bisection */
            double mid = 0.5 * (lo + hi), kk = 0;
            for (size_t j = 0; j < n; j++) kk += k0[j] * exp(-mu[j] * mid);
            if (kk > target * ktot) lo = mid; else hi = mid;
        }
        if (pass) t_quarter = 0.5 * (lo + hi); else t_half = 0.5 * (lo + hi);
    }
    free(k0); free(mu);
    q->hvl1_mm_al = t_half;
    q->hvl2_mm_al = t_quarter - t_half;
    q->mean_energy_kev = etot / ftot;
    q->kerma_per_fluence_gy_cm2 = ktot / ftot * MC_KEV_TO_J * 1000.0;
    return 0;
}
