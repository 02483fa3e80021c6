/*
 * doppler.c — energy of a Compton-scattered photon in the impulse
 * approximation (Doppler broadening), sampled exactly from per-shell tables.
 *
 * Physics (F. Salvat, J. M. Fernández-Varea, J. Sempau, "PENELOPE-2008: a code
 * system for Monte Carlo simulation of electron and photon transport", OECD
 * NEA 6416, section 2.3 "Incoherent (Compton) scattering"; R. Ribberfors,
 * Phys. Rev. B 12 (1975) 2067):
 *   projection of the target electron's momentum on the scattering vector
 *     p_z = [E E' (1 - cos t) - m c^2 (E - E')] / (c |q|),
 *     c |q| = sqrt(E^2 + E'^2 - 2 E E' cos t);
 *   at polar angle t, shell i (occupation f_i, binding U_i) scatters with
 *   probability proportional to f_i Theta(E - U_i) n_i(p_z,max),
 *     p_z,max = p_z(E' = E - U_i),  n_i(p) = integral_{-inf}^{p} J_i(p') dp',
 *   and p_z follows J_i truncated to (-inf, p_z,max]; E' is the root of the
 *   p_z definition with the sign of p_z (the E'_+ / E'_- pair of the manual).
 * Profiles J_i: Biggs, Mendelsohn & Mann, At. Data Nucl. Data Tables 16
 * (1975) 201, through xraylib's ComptonProfile_Partial (atomic units, pz >= 0,
 * J(-p) = J(p), each shell normalised to one electron: the occupation comes
 * from ElectronConfig, binding energies from EdgeEnergy).
 *
 * Tables, per shell: the half profile on [0, P_MAX_AU] in the variable
 * x = p / (p + c) (c = 0.5 / J(0), the shell's momentum scale), which puts
 * fine steps where J is large and coarse ones in the p^-6 tail; on N_X
 * uniform x intervals we keep the cumulative H (Simpson, normalised to 1)
 * and, inside each interval, a density linear in x between its end values.
 * The shell weights n_i(p_z,max) and the inverse CDF use that same model, so
 * sampling is exact for it. 256 intervals: the sampled E' spectra match the
 * independently integrated ones to chi-square at 10^6 draws
 * (test_mc_doppler).
 *
 * Cost per call: O(1) on the usual path (shell by electron count through an
 * alias table, p_z from the whole profile, kept when p_z <= p_z,max), one
 * pass over the shells otherwise (mc_doppler_energy_shell explains why the
 * mixture is exact).
 */
#include "mc_doppler.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xraylib/xraylib.h>

#define ALPHA_INV   137.035999084   /* 1/alpha: p (a.u.) = p/(m c) * 1/alpha, CODATA 2018 */
#define P_MAX_AU    100.0           /* last point of the Biggs tables; xraylib gives 0 beyond */
#define N_X         256             /* x intervals per shell (32 already pass the tests) */
#define NSHELL_XRL  31              /* K .. Q3 in xraylib-shells.h */
#define MAX_SHELLS  (MC_MAXEL * NSHELL_XRL)

/* One x interval of a shell: the cumulative as a polynomial in the fraction t
 * of the interval, H = a + t (b + t c) (density linear in x); b and c are
 * increments of at most 1/N_X scale, kept in float to halve the table. */
typedef struct dop_seg { double a; float b, c; } dop_seg;

typedef struct dop_shell {
    double u_kev;          /* binding energy */
    double e_per_g;        /* electrons of this shell per gram, divided by N_A: f w / A */
    double c_au;           /* x = p / (p + c) */
    double inv_dx;         /* N_X / x(P_MAX_AU) */
    struct dop_seg *seg;   /* N_X + 1 (the last one a sentinel with a = 1) */
    uint16_t *guide;       /* N_X: guide[k] = last node j with H_j <= k / N_X */
    int    z;
} dop_shell;

struct mc_doppler {
    int       nshell;
    dop_shell sh[MAX_SHELLS];
    /* hot copies for the per-call weight loop (structure of arrays) */
    double    hot_u[MAX_SHELLS], hot_epg[MAX_SHELLS], hot_c[MAX_SHELLS], hot_idx[MAX_SHELLS];
    const dop_seg *hot_seg[MAX_SHELLS];
    /* Walker alias table of the shells by electrons per gram (untruncated) */
    double    alias_p[MAX_SHELLS];
    int       alias_i[MAX_SHELLS];
};

/* Spin–orbit partner subshell (same n and l) in xraylib's numbering: some
 * elements have the profile tabulated under only one of the two (e.g. C 2p
 * under L2, while ElectronConfig splits it 2/3 : 4/3 between L2 and L3). */
static int partner(int s)
{
    static const int pairs[][2] = { {2, 3}, {5, 6}, {7, 8}, {10, 11}, {12, 13}, {14, 15},
                                    {17, 18}, {19, 20}, {21, 22}, {24, 25}, {26, 27},
                                    {29, 30} };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        if (pairs[i][0] == s) return pairs[i][1];
        if (pairs[i][1] == s) return pairs[i][0];
    }
    return -1;
}

/* xraylib value or -1 when it has no data (errors are not messages here:
 * a missing shell is simply absent). */
static double xrl_or(double (*fn)(int, int, xrl_error **), int z, int s)
{
    xrl_error *e = NULL;
    double v = fn(z, s, &e);
    if (e) { xrl_error_free(e); return -1; }
    return v;
}

static double profile0(int z, int s, xrl_error **e)
{
    return ComptonProfile_Partial(z, s, 0.0, e);
}

/* density of the (unnormalised) half profile in x at x: J(p) dp/dx */
static double dens_x(int z, int s, double c, double x)
{
    double p = c * x / (1.0 - x);
    if (p > P_MAX_AU) p = P_MAX_AU;
    double j = ComptonProfile_Partial(z, s, p, NULL);
    return j * c / ((1.0 - x) * (1.0 - x));
}

static int shell_tables(dop_shell *sh, int z, int s_prof)
{
    double j0 = ComptonProfile_Partial(z, s_prof, 0.0, NULL);
    sh->c_au = j0 > 0 ? 0.5 / j0 : 1.0;
    double xmax = P_MAX_AU / (P_MAX_AU + sh->c_au), dx = xmax / N_X;
    sh->inv_dx = N_X / xmax;
    double h[N_X + 1], g[N_X + 1];
    sh->seg = malloc(sizeof(dop_seg) * (N_X + 1));
    sh->guide = malloc(sizeof(uint16_t) * N_X);
    if (!sh->seg || !sh->guide) return HM_ENOMEM;
    /* Simpson per interval (ends + midpoint) for the node cumulatives */
    g[0] = dens_x(z, s_prof, sh->c_au, 0.0);
    h[0] = 0;
    for (int j = 0; j < N_X; j++) {
        double xm = (j + 0.5) * dx;
        g[j + 1] = dens_x(z, s_prof, sh->c_au, (j + 1) * dx);
        h[j + 1] = h[j] + dx / 6.0 * (g[j] + 4.0 * dens_x(z, s_prof, sh->c_au, xm) + g[j + 1]);
    }
    double tot = h[N_X];
    if (!(tot > 0)) return HM_ENUMERIC;
    /* Normalised to one electron: the Biggs profiles are, and xraylib's cut at
     * 100 a.u. only loses the far tail (0.2 % for Ca K, 2.5 % for I K, 9 % for
     * Pb K: the missing part is spread over the tabulated range). */
    for (int j = 0; j <= N_X; j++) h[j] /= tot;
    h[N_X] = 1.0;
    /* interval j: H = a + t (b + t c) for a density linear in x from g_j to
     * g_j+1 carrying the Simpson mass h_j+1 - h_j */
    for (int j = 0; j < N_X; j++) {
        double ga = g[j], gb = g[j + 1], dh = h[j + 1] - h[j];
        sh->seg[j].a = h[j];
        sh->seg[j].b = (float)(ga + gb > 0 ? dh * 2.0 * ga / (ga + gb) : dh);
        sh->seg[j].c = (float)(ga + gb > 0 ? dh * (gb - ga) / (ga + gb) : 0.0);
    }
    sh->seg[N_X] = (dop_seg){ 1.0, 0.0f, 0.0f };
    int j = 0;
    for (int k = 0; k < N_X; k++) {
        double v = (double)k / N_X;
        while (j < N_X - 1 && h[j + 1] <= v) j++;
        sh->guide[k] = (uint16_t)j;
    }
    return 0;
}

static void shell_free(dop_shell *sh)
{
    free(sh->seg);
    free(sh->guide);
}

/* Walker's alias method (A. J. Walker, ACM Trans. Math. Softw. 3 (1977) 253;
 * construction of M. D. Vose, IEEE Trans. Softw. Eng. 17 (1991) 972): one
 * uniform picks shell i with probability e_per_g_i / sum e_per_g in O(1). */
static void alias_build(mc_doppler *d)
{
    int n = d->nshell, small[MAX_SHELLS], large[MAX_SHELLS], ns = 0, nl = 0;
    double sum = 0, q[MAX_SHELLS];
    for (int i = 0; i < n; i++) sum += d->sh[i].e_per_g;
    for (int i = 0; i < n; i++) {
        q[i] = d->sh[i].e_per_g / sum * n;
        d->alias_i[i] = i;
        if (q[i] < 1.0) small[ns++] = i; else large[nl++] = i;
    }
    while (ns && nl) {
        int a = small[--ns], b = large[nl - 1];
        d->alias_p[a] = q[a];
        d->alias_i[a] = b;
        q[b] -= 1.0 - q[a];
        if (q[b] < 1.0) { nl--; small[ns++] = b; }
    }
    while (nl) d->alias_p[large[--nl]] = 1.0;   /* rounding leftovers hold 1 */
    while (ns) d->alias_p[small[--ns]] = 1.0;
}

int mc_doppler_build(const mc_material *m, mc_doppler **out, hm_error *err)
{
    *out = NULL;
    mc_doppler *d = calloc(1, sizeof *d);
    if (!d) return hm_error_set(err, HM_ENOMEM, NULL, 0, "doppler", "out of memory");
    for (int k = 0; k < m->nel; k++) {
        int z = m->z[k];
        if (!(m->w[k] > 0)) continue;
        double e_per_g_atom = m->w[k] / AtomicWeight(z, NULL);   /* atoms per gram / N_A */
        int first = d->nshell;
        for (int s = 0; s < NSHELL_XRL; s++) {
            double f = xrl_or(ElectronConfig, z, s);
            if (!(f > 0)) continue;
            int src = s;
            if (xrl_or(profile0, z, s) < 0) {
                src = partner(s);
                /* no profile for this shell nor its partner (in xraylib 4.0.0
                 * only outermost shells of Z >= 97): those electrons are left
                 * out, less than 1.1 % of the atom's electrons */
                if (src < 0 || xrl_or(profile0, z, src) < 0) continue;
            }
            double u = xrl_or(EdgeEnergy, z, s);
            if (u < 0 && partner(s) >= 0) u = xrl_or(EdgeEnergy, z, partner(s));
            if (u < 0) u = 0;   /* valence shells without an edge (eV-scale binding) */
            dop_shell *sh = &d->sh[d->nshell];
            sh->z = z;
            sh->u_kev = u;
            sh->e_per_g = e_per_g_atom * f;
            int rc = shell_tables(sh, z, src);
            if (rc) {
                d->nshell++;
                mc_doppler_free(d);
                return hm_error_set(err, rc, NULL, 0, "doppler",
                                    "material '%s': Compton profile of Z=%d shell %d unusable",
                                    m->name, z, src);
            }
            /* merge with an identical shell of the same element (L2/L3 pairs
             * with one binding energy and one profile): fewer shells per call */
            int merged = 0;
            for (int i = first; i < d->nshell && !merged; i++) {
                dop_shell *o = &d->sh[i];
                if (o->u_kev == u && o->c_au == sh->c_au &&
                    !memcmp(o->seg, sh->seg, sizeof(dop_seg) * (N_X + 1))) {
                    o->e_per_g += sh->e_per_g;
                    merged = 1;
                }
            }
            if (merged) {
                shell_free(sh);
                memset(sh, 0, sizeof *sh);
            } else {
                d->nshell++;
            }
        }
    }
    if (d->nshell == 0) {
        mc_doppler_free(d);
        return hm_error_set(err, HM_EINVAL, NULL, 0, "doppler",
                            "material '%s': no element with Compton profiles", m->name);
    }
    for (int i = 0; i < d->nshell; i++) {
        const dop_shell *sh = &d->sh[i];
        d->hot_u[i] = sh->u_kev;
        d->hot_epg[i] = sh->e_per_g;
        d->hot_c[i] = sh->c_au;
        d->hot_idx[i] = sh->inv_dx;
        d->hot_seg[i] = sh->seg;
    }
    alias_build(d);
    *out = d;
    return 0;
}

void mc_doppler_free(mc_doppler *d)
{
    if (!d) return;
    for (int i = 0; i < d->nshell; i++) shell_free(&d->sh[i]);
    free(d);
}

int mc_doppler_nshells(const mc_doppler *d)
{
    return d->nshell;
}

/* |p| with H(|p|) = v, v in [0, 1]: guide table, then the linear density's
 * inverse CDF in the cancellation-free form (as mc_sample_finish). */
static double shell_inv(const dop_shell *sh, double v)
{
    int k = (int)(v * N_X);
    if (k >= N_X) k = N_X - 1;
    if (k < 0) k = 0;
    int j = sh->guide[k];
    const dop_seg *q = sh->seg;
    while (j < N_X - 1 && q[j + 1].a <= v) j++;   /* at most to the next guide entry */
    double w = q[j + 1].a - q[j].a;
    double r = w > 0 ? (v - q[j].a) / w : 0.0;
    if (r < 0) r = 0;
    if (r > 1) r = 1;
    /* densities at the interval ends, up to a common factor: b and b + 2c */
    double ga = q[j].b, gb = q[j].b + 2.0 * (double)q[j].c;
    double den = ga + sqrt(ga * ga + r * (gb * gb - ga * ga));
    double t = den > 0 ? r * (ga + gb) / den : r;
    double x = (j + t) / sh->inv_dx;
    return sh->c_au * x / (1.0 - x);
}

double mc_doppler_eprime(double e_kev, double mu, double pz_au)
{
    /* Squaring the p_z definition gives, with a = 1 + (E/mc^2)(1 - mu) = E/E_C
     * and t = (p_z / m c)^2 (PENELOPE-2008 §2.3, E'_+- ):
     *   (a^2 - t) E'^2 - 2 E (a - t mu) E' + E^2 (1 - t) = 0,
     * discriminant/E^2 = t [(a - mu)^2 + (1 - mu^2)(1 - t)] >= 0 for t <= 1.
     * The larger root has p_z > 0; the smaller is written as
     * E (1 - t) / (b + sqrt D) to avoid cancellation. */
    double a = 1.0 + e_kev / MC_ELECTRON_KEV * (1.0 - mu);
    double pm = pz_au / ALPHA_INV;
    double t = pm * pm;
    double b = a - t * mu;
    double disc = t * ((a - mu) * (a - mu) + (1.0 - mu * mu) * (1.0 - t));
    double q = b + sqrt(disc > 0 ? disc : 0);
    return pz_au >= 0 ? e_kev * q / (a * a - t) : e_kev * (1.0 - t) / q;
}

/* n_i(p_z,max) of shell i: p_z,max = p_z(E' = E - U_i) from the definition;
 * the table variable x = |p| / (|p| + c) = |num| k / (|num| k + c c|q|) costs
 * one square root and one division. 0 when E <= U_i. */
static inline double shell_nmax(const mc_doppler *d, int i, double e_kev, double mu)
{
    const double k_au = ALPHA_INV / MC_ELECTRON_KEV;
    double u = d->hot_u[i];
    if (!(e_kev > u)) return 0;
    double e1 = e_kev - u;
    double num = e_kev * e1 * (1.0 - mu) - MC_ELECTRON_KEV * u;
    double cq = sqrt(e_kev * e_kev + e1 * e1 - 2.0 * e_kev * e1 * mu);
    double an = fabs(num) * k_au;           /* |p_z,max| c|q| */
    double half = 1.0;
    if (an < P_MAX_AU * cq) {
        double s = an / (an + d->hot_c[i] * cq) * d->hot_idx[i];
        int j = (int)s;
        if (j >= N_X) j = N_X - 1;
        double t = s - j;
        const dop_seg *q = d->hot_seg[i] + j;
        half = q->a + t * (q->b + t * q->c);
    }
    return num >= 0 ? 0.5 + 0.5 * half : 0.5 - 0.5 * half;
}

double mc_doppler_energy_shell(const mc_doppler *d, double e_kev, double mu, double u1,
                               double u2, double u3, double *binding_kev)
{
    if (!(mu < 1.0)) {                      /* forward: nothing transferred */
        if (binding_kev) *binding_kev = 0;
        return e_kev;
    }
    /* Fast path, O(1): shell i with probability e_i / sum e (alias table, u1),
     * p_z from its whole profile (u2); kept when p_z <= p_z,max, i.e. when
     * u2 < n_i(p_z,max). Kept draws have density e_i J_i(p_z) Theta / S
     * (S = sum e_i); with probability 1 - T/S (T = sum e_i n_i(p_z,max)) the
     * draw is replaced by one from the exact T-normalised law below, and
     * e J Theta / S + (1 - T/S) e J Theta / T = e J Theta / T: the mixture is
     * exactly the target, at a bounded cost (one try, then one exact draw). */
    int i;
    double nt;
    {
        double x = u1 * d->nshell;
        int k = (int)x;
        if (k >= d->nshell) k = d->nshell - 1;
        i = (x - k < d->alias_p[k]) ? k : d->alias_i[k];
        nt = u2 < shell_nmax(d, i, e_kev, mu) ? u2 : -1.0;
    }
    if (nt < 0) {
        /* exact draw: shell by weights e_i n_i(p_z,max) with u3, and the
         * remainder of u3 within the chosen shell's slot (uniform and
         * independent of the choice) as the fraction of n_i(p_z,max) */
        double cum[MAX_SHELLS], nmax[MAX_SHELLS];
        double tot = 0;
        for (int j = 0; j < d->nshell; j++) {
            nmax[j] = shell_nmax(d, j, e_kev, mu);
            tot += d->hot_epg[j] * nmax[j];
            cum[j] = tot;
        }
        if (!(tot > 0)) {                   /* E below every binding energy */
            if (binding_kev) *binding_kev = 0;
            return e_kev / (1.0 + e_kev / MC_ELECTRON_KEV * (1.0 - mu));
        }
        double target = u3 * tot;
        i = 0;
        while (i < d->nshell - 1 && !(cum[i] > target)) i++;
        while (i > 0 && !(nmax[i] > 0)) i--;    /* u3 -> 1 rounding: last open shell */
        double lo = i ? cum[i - 1] : 0.0, w = cum[i] - lo;
        double r = w > 0 ? (target - lo) / w : 0.0;
        if (r < 0) r = 0;
        if (r >= 1) r = 1 - 0x1.0p-53;
        nt = r * nmax[i];
    }
    const dop_shell *sh = &d->sh[i];
    /* p_z with n_i(p_z) = nt, from the symmetric half-profile table */
    double pz = nt >= 0.5 ? shell_inv(sh, 2.0 * nt - 1.0) : -shell_inv(sh, 1.0 - 2.0 * nt);
    double e1 = mc_doppler_eprime(e_kev, mu, pz);
    double top = e_kev - sh->u_kev;
    if (e1 > top) e1 = top;                 /* rounding at p_z = p_z,max */
    if (!(e1 > 0)) e1 = top * 1e-12;        /* cannot happen for |p_z| < m c; kept as a guard */
    if (binding_kev) *binding_kev = sh->u_kev;
    return e1;
}

double mc_doppler_energy(const mc_doppler *d, double e_kev, double mu, double u1, double u2,
                         double u3)
{
    return mc_doppler_energy_shell(d, e_kev, mu, u1, u2, u3, NULL);
}
