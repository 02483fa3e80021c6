/*
 * material.c — compositions, mixed cross sections and angular sampling
 * tables of one material.
 *
 * Cross sections of each element come from xraylib (CS_Photo, CS_Compt,
 * CS_Rayl in cm2/g) and are mixed by mass fraction (Bragg additivity):
 *   (mu/rho)_mix = sum_i w_i (mu/rho)_i.
 * The angular distributions use the mixed atomic form factor and incoherent
 * scattering function per gram, sum_i (w_i/A_i) F_i^2(q) and
 * sum_i (w_i/A_i) S_i(q), with q = sin(theta/2)/lambda (1/Angstrom, the
 * argument of xraylib's FF_Rayl and SF_Compt).
 */
#include "mc_internal.h"
#include "mc_doppler.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xraylib/xraylib.h>

/* ---- element tables on the MC energy grid, computed once per Z ---- */
static pthread_mutex_t el_lock = PTHREAD_MUTEX_INITIALIZER;
static float *el_tab[100];   /* 3*MC_NE: photo, compt, rayl (cm2/g) */

static const float *element_table(int z)
{
    pthread_mutex_lock(&el_lock);
    if (!el_tab[z]) {
        float *t = malloc(sizeof(float) * 3 * MC_NE);
        if (t) {
            for (int i = 0; i < MC_NE; i++) {
                /* the first point (E = 0) takes the value at half a step */
                double e = i ? i * MC_DE_KEV : 0.5 * MC_DE_KEV;
                t[3 * i]     = (float)CS_Photo(z, e, NULL);
                t[3 * i + 1] = (float)CS_Compt(z, e, NULL);
                t[3 * i + 2] = (float)CS_Rayl(z, e, NULL);
            }
        }
        el_tab[z] = t;
    }
    const float *r = el_tab[z];
    pthread_mutex_unlock(&el_lock);
    return r;
}

int mc_material_set(mc_material *m, const char *name, double density, size_t n,
                    const int *z, const double *w, hm_error *err)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    if (!(density > 0) || !isfinite(density))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "density",
                            "material '%s': density must be > 0 g/cm3 (got %g)", name, density);
    if (n == 0 || n > MC_MAXEL)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "elements",
                            "material '%s': expected 1..%d elements, got %zu", name, MC_MAXEL, n);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (z[i] < 1 || z[i] > 98)
            return hm_error_set(err, HM_EINVAL, NULL, 0, "Z",
                                "material '%s': atomic number %d outside 1..98", name, z[i]);
        if (!(w[i] >= 0) || !isfinite(w[i]))
            return hm_error_set(err, HM_EINVAL, NULL, 0, "mass_fraction",
                                "material '%s': mass fraction of Z=%d must be >= 0", name, z[i]);
        sum += w[i];
    }
    if (!(sum > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "mass_fraction",
                            "material '%s': mass fractions sum to 0", name);
    m->density_g_cm3 = density;
    m->nel = (int)n;
    for (size_t i = 0; i < n; i++) {
        m->z[i] = z[i];
        m->w[i] = w[i] / sum;
    }
    return 0;
}

/* Looks name up in data/materials/compositions.csv, then xraylib's NIST list. */
int mc_material_lookup(const char *name, mc_material *m, hm_error *err)
{
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("materials/compositions.csv", path, sizeof path, &csv, err);
    if (rc) return rc;
    int z[MC_MAXEL];
    double w[MC_MAXEL], density = 0;
    size_t n = 0;
    char **f;
    size_t nf;
    int header = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        if (header) { header = 0; if (nf && !strcmp(f[0], "material")) continue; }
        if (nf < 4) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), NULL,
                              "expected material,density_g_cm3,Z,mass_fraction");
            break;
        }
        if (strcmp(f[0], name)) continue;
        char *e1, *e2, *e3;
        double d = strtod(f[1], &e1);
        long zz = strtol(f[2], &e2, 10);
        double ww = strtod(f[3], &e3);
        if (*e1 || *e2 || *e3 || n >= MC_MAXEL) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), *e1 ? "density_g_cm3" :
                              *e2 ? "Z" : "mass_fraction",
                              "material '%s': expected numbers (at most %d elements)", name, MC_MAXEL);
            break;
        }
        density = d;
        z[n] = (int)zz;
        w[n] = ww;
        n++;
    }
    hm_csv_close(csv);
    if (rc < 0) return rc;
    if (n) {
        rc = mc_material_set(m, name, density, n, z, w, err);
        if (rc && err) snprintf(err->file, sizeof err->file, "%.255s", path);
        return rc;
    }
    /* xraylib's NIST compound list ("Water, Liquid", "Bone, Cortical (ICRP)") */
    struct compoundDataNIST *c = GetCompoundDataNISTByName(name, NULL);
    if (c) {
        double ww[MC_MAXEL];
        int zz[MC_MAXEL];
        size_t k = 0;
        for (int i = 0; i < c->nElements && k < MC_MAXEL; i++, k++) {
            zz[k] = c->Elements[i];
            ww[k] = c->massFractions[i];
        }
        rc = (c->nElements > MC_MAXEL)
            ? hm_error_set(err, HM_EUNSUPPORTED, NULL, 0, "material",
                           "NIST material '%s' has more than %d elements", name, MC_MAXEL)
            : mc_material_set(m, name, c->density, k, zz, ww, err);
        FreeCompoundDataNIST(c);
        return rc;
    }
    return hm_error_set(err, HM_ENOTFOUND, path, 0, "material",
                        "unknown material '%s' (not in compositions.csv nor xraylib's NIST list)",
                        name);
}

void mc_material_cs(const mc_material *m, double e_kev, double *photo, double *compt,
                    double *rayl)
{
    double p = 0, c = 0, r = 0;
    for (int i = 0; i < m->nel; i++) {
        p += m->w[i] * CS_Photo(m->z[i], e_kev, NULL);
        c += m->w[i] * CS_Compt(m->z[i], e_kev, NULL);
        r += m->w[i] * CS_Rayl(m->z[i], e_kev, NULL);
    }
    *photo = p; *compt = c; *rayl = r;
}

double mc_material_ff2(const mc_material *m, double q)
{
    double s = 0;
    for (int i = 0; i < m->nel; i++) {
        double f = FF_Rayl(m->z[i], q, NULL);
        s += m->w[i] / AtomicWeight(m->z[i], NULL) * f * f;
    }
    return s;
}

double mc_material_sf(const mc_material *m, double q)
{
    double s = 0;
    for (int i = 0; i < m->nel; i++)
        s += m->w[i] / AtomicWeight(m->z[i], NULL) * SF_Compt(m->z[i], q, NULL);
    return s;
}

/* Mixed functions tabulated on a log grid of q, interpolated linearly in
 * log q (q = 0 uses the first point: F(0) = Z, S(0) = 0 both smooth). */
#define NQG 1200
#define QG_MIN 1e-4
#define QG_MAX 100.0

/* lq = log(q / QG_MIN) */
static double qg_interp(const double *tab, double lq)
{
    if (lq <= 0) return tab[0];
    double x = lq / log(QG_MAX / QG_MIN) * (NQG - 1);
    int i = (int)x;
    if (i >= NQG - 1) return tab[NQG - 1];
    return tab[i] + (x - i) * (tab[i + 1] - tab[i]);
}

/* Klein–Nishina shape (Klein & Nishina 1929): dsigma/dOmega =
 * r_e^2/2 P^2 (P + 1/P - sin^2 theta), P = E'/E = 1/(1 + k (1 - mu)). */
static double kn_shape(double k, double mu)
{
    double p = 1.0 / (1.0 + k * (1.0 - mu));
    return p * p * (p + 1.0 / p - (1.0 - mu * mu));
}

#define NV 3000

/* The v where the CDF reaches c, and the pdf there (normalised), searching
 * upwards from *k. */
static void invert(const double *v, const double *pdf, const double *cdf, double tot, double c,
                   int *k, float *out)
{
    while (*k < NV - 1 && cdf[*k] < c) (*k)++;
    int i = *k;
    double span = cdf[i] - cdf[i - 1];
    double f = span > 0 ? (c - cdf[i - 1]) / span : 0.0;
    if (f > 1) f = 1;
    out[0] = (float)(v[i - 1] + f * (v[i] - v[i - 1]));
    out[1] = (float)((pdf[i - 1] + f * (pdf[i] - pdf[i - 1])) / tot);
}

/* One row of the sampling table (layout in mc_sample_v). */
static void quantiles(const double *v, const double *pdf, double *cdf, float *out)
{
    cdf[0] = 0;
    for (int k = 1; k < NV; k++)
        cdf[k] = cdf[k - 1] + 0.5 * (pdf[k] + pdf[k - 1]) * (v[k] - v[k - 1]);
    double tot = cdf[NV - 1];
    if (!(tot > 0)) tot = 1;
    int k = 1;
    for (int m = 0; m <= MC_NQ; m++) {
        if (m == 0) { out[0] = 0.0f; out[1] = (float)(pdf[0] / tot); continue; }
        if (m == MC_NQ) { out[2 * m] = 1.0f; out[2 * m + 1] = (float)(pdf[NV - 1] / tot); continue; }
        invert(v, pdf, cdf, tot, tot * m / MC_NQ, &k, out + 2 * m);
    }
    float *lo = out + 2 * (MC_NQ + 1), *hi = lo + 2 * (MC_NR + 1);
    k = 1;
    for (int m = 0; m <= MC_NR; m++) {
        if (m == 0) { lo[0] = out[0]; lo[1] = out[1]; continue; }
        invert(v, pdf, cdf, tot, tot * m / ((double)MC_NQ * MC_NR), &k, lo + 2 * m);
    }
    k = 1;
    for (int m = 0; m <= MC_NR; m++) {
        if (m == MC_NR) { hi[2 * m] = out[2 * MC_NQ]; hi[2 * m + 1] = out[2 * MC_NQ + 1]; continue; }
        invert(v, pdf, cdf, tot, tot * ((MC_NQ - 1) + (double)m / MC_NR) / MC_NQ, &k, hi + 2 * m);
    }
}

int mc_material_build(mc_material *m, int compton_sf, int rayleigh, hm_error *err)
{
    if (m->built) return 0;
    m->xs = malloc(sizeof(mc_xs) * MC_NE);
    m->compt_q = malloc(sizeof(float) * MC_NSE * MC_ROW);
    m->rayl_q = malloc(sizeof(float) * MC_NSE * MC_ROW);
    m->el_photo = malloc(sizeof(float) * MC_NE * (size_t)(m->nel + 1));
    double *ff2 = malloc(sizeof(double) * NQG), *sf = malloc(sizeof(double) * NQG);
    double *v = malloc(sizeof(double) * NV), *pr = malloc(sizeof(double) * NV);
    double *pc = malloc(sizeof(double) * NV), *cdf = malloc(sizeof(double) * NV);
    double *logv = malloc(sizeof(double) * NV);
    int rc = 0;
    if (!m->xs || !m->compt_q || !m->rayl_q || !m->el_photo || !ff2 || !sf || !v || !pr ||
        !pc || !cdf || !logv) {
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory building material '%s'",
                          m->name);
        goto out;
    }
    for (int i = 0; i < MC_NE; i++) {
        double p = 0, c = 0, r = 0;
        for (int e = 0; e < m->nel; e++) {
            const float *t = element_table(m->z[e]);
            if (!t) { rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory"); goto out; }
            p += m->w[e] * t[3 * i];
            c += m->w[e] * t[3 * i + 1];
            r += m->w[e] * t[3 * i + 2];
        }
        m->xs[i].mu_photo = (float)p;
        m->xs[i].mu_photo_compt = (float)(p + c);
        m->xs[i].mu_tot = (float)(p + c + (rayleigh ? r : 0.0));
    }
    /* K-shell fluorescence data (xraylib: EdgeEnergy, JumpFactor, FluorYield,
     * LineEnergy, RadRate) */
    for (int e = 0; e < m->nel; e++) {
        static const int lines[MC_KLINES] = { KL2_LINE, KL3_LINE, KM2_LINE, KM3_LINE, KN2_LINE,
                                              KN3_LINE };
        mc_kshell *k = &m->k[e];
        int z = m->z[e];
        m->el_xs[e] = element_table(z);
        memset(k, 0, sizeof *k);
        double jump = JumpFactor(z, K_SHELL, NULL), omega = FluorYield(z, K_SHELL, NULL);
        k->edge_kev = (float)EdgeEnergy(z, K_SHELL, NULL);
        if (!(jump > 1) || !(omega > 0) || !(k->edge_kev > 0)) { k->edge_kev = 1e9f; continue; }
        k->p_emit = (float)((1.0 - 1.0 / jump) * omega);
        double rsum = 0, cum = 0;
        for (int l = 0; l < MC_KLINES; l++) rsum += fmax(0.0, RadRate(z, lines[l], NULL));
        for (int l = 0; l < MC_KLINES; l++) {
            double r = fmax(0.0, RadRate(z, lines[l], NULL));
            cum += rsum > 0 ? r / rsum : 0;
            k->line_kev[l] = r > 0 ? (float)LineEnergy(z, lines[l], NULL) : 0.0f;
            k->line_cum[l] = (float)cum;
        }
        if (!(rsum > 0)) k->p_emit = 0;
        for (int l = 0; l < MC_KLINES && k->p_emit > 0; l++)
            if (k->line_kev[l] > k->line_max_kev) k->line_max_kev = k->line_kev[l];
    }
    /* the K x-ray draw's table (see mc_material.el_photo): elements by
     * decreasing most energetic K x-ray (insertion sort, stable), so that
     * those above any cutoff come first */
    for (int e = 0; e < m->nel; e++) {
        int j = e;
        for (; j > 0 && m->k[m->k_order[j - 1]].line_max_kev < m->k[e].line_max_kev; j--)
            m->k_order[j] = m->k_order[j - 1];
        m->k_order[j] = e;
    }
    for (int j = 0; j < m->nel; j++) m->k_lmax_ord[j] = m->k[m->k_order[j]].line_max_kev;
    for (int i = 0; i < MC_NE; i++) {
        float *row = m->el_photo + (size_t)i * (m->nel + 1);
        double p = 0;
        for (int j = 0; j < m->nel; j++) {
            int e = m->k_order[j];
            p += m->w[e] * element_table(m->z[e])[3 * i];   /* cached above */
            row[1 + j] = (float)p;                          /* running sum */
        }
        row[0] = (float)p;
    }
    for (int k = 0; k < NQG; k++) {
        double q = QG_MIN * pow(QG_MAX / QG_MIN, (double)k / (NQG - 1));
        ff2[k] = mc_material_ff2(m, q);
        sf[k] = mc_material_sf(m, q);
    }
    /* v grid: 0, then log-spaced 1e-9 .. 1 (Rayleigh peaks sharply at v = 0) */
    v[0] = 0;
    for (int k = 1; k < NV; k++) {
        v[k] = 1e-9 * pow(1e9, (double)(k - 1) / (NV - 2));
        logv[k] = log(v[k]);
    }
    for (int j = 0; j < MC_NSE; j++) {
        double e = j ? j * MC_SDE_KEV : 0.25 * MC_SDE_KEV;
        double kk = e / MC_ELECTRON_KEV;
        double le = log(e / MC_HC_KEV_A / QG_MIN);
        for (int k = 0; k < NV; k++) {
            double mu = 1.0 - 2.0 * v[k];
            double lq = k ? le + 0.5 * logv[k] : -INFINITY;   /* q = E/hc sqrt(v) */
            pr[k] = (1.0 + mu * mu) * qg_interp(ff2, lq);
            pc[k] = kn_shape(kk, mu) * (compton_sf ? (lq > 0 ? qg_interp(sf, lq) : 0.0) : 1.0);
        }
        quantiles(v, pr, cdf, m->rayl_q + (size_t)j * MC_ROW);
        quantiles(v, pc, cdf, m->compt_q + (size_t)j * MC_ROW);
    }
    m->built = 1;
out:
    free(ff2); free(sf); free(v); free(pr); free(pc); free(cdf); free(logv);
    if (rc) {
        free(m->xs); free(m->compt_q); free(m->rayl_q); free(m->el_photo);
        m->xs = NULL; m->compt_q = m->rayl_q = NULL; m->el_photo = NULL;
    }
    return rc;
}

void mc_material_free(mc_material *m)
{
    mc_doppler_free(m->doppler);
    m->doppler = NULL;
    free(m->xs);
    free(m->compt_q);
    free(m->rayl_q);
    free(m->el_photo);
    m->xs = NULL;
    m->compt_q = m->rayl_q = NULL;
    m->el_photo = NULL;
    m->built = 0;
}
