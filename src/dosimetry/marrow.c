/*
 * marrow.c — from the dose in a homogeneous skeleton region to the dose in
 * the soft tissues inside it (active marrow, endosteum).
 *
 * Stylized phantoms mix bone and marrow into one "skeleton" medium.  Energy
 * deposited there per unit mass overstates the marrow dose at diagnostic
 * energies, where photoabsorption in calcium dominates.  In the kerma
 * approximation (charged-particle ranges << marrow cavities), the marrow dose
 * is the photon fluence times E times mu_en/rho of marrow, so
 *     D_marrow = D_skeleton * (mu_en/rho)_soft / (mu_en/rho)_skeleton,
 * the fluence-to-dose approach of Cristy & Eckerman's phantoms and PCXMC
 * (Tapiovaara & Siiskonen 2008, STUK-A231).  The ratio is averaged over the
 * incident spectrum weighted by energy fluence; mu_en is approximated by the
 * energy-transfer coefficient mu_tr = tau + sigma_C * <T>/E (fluorescence
 * escape and bremsstrahlung neglected below 150 keV; Attix 1986, ch. 7), with
 * tau and sigma_C from xraylib (CS_Energy is wrong in xraylib 4.0.0,
 * anchors.md section 3) and <T>/E, the mean fraction of the photon energy
 * given to the Compton electron, from the Klein-Nishina cross section.
 */
#include "dos_internal.h"

#include <math.h>
#include <string.h>
#include <xraylib/xraylib.h>

/* Mean fraction of E given to the electron in a Klein-Nishina scattering
 * (Klein & Nishina 1929), by Simpson integration over cos(theta). */
static double kn_transfer_fraction(double e_kev)
{
    const double k = e_kev / 510.998950;
    const int n = 200;
    double num = 0, den = 0;
    for (int i = 0; i <= n; i++) {
        double mu = -1.0 + 2.0 * i / n, w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
        double r = 1.0 / (1.0 + k * (1.0 - mu));          /* E'/E */
        double dcs = r * r * (r + 1.0 / r - (1.0 - mu * mu));
        num += w * dcs * (1.0 - r);
        den += w * dcs;
    }
    return num / den;
}

static double mu_tr(const hm_phantom_medium *m, double e_kev)
{
    double f = kn_transfer_fraction(e_kev), s = 0;
    for (int i = 0; i < m->nelements; i++) {
        double tau = CS_Photo(m->z[i], e_kev, NULL), sc = CS_Compt(m->z[i], e_kev, NULL);
        s += m->mass_fraction[i] * (tau + sc * f);
    }
    return s;
}

double dos_marrow_factor(const hm_voxel_phantom *v, const hm_mc_spectrum *spec)
{
    int skel = -1, soft = -1;
    for (int r = 1; r <= v->nregions; r++) {
        const hm_phantom_region *g = &v->regions[r];
        if (g->medium < 0 || g->medium >= v->nmedia)
            continue;
        if (g->site[0] && skel < 0)
            skel = g->medium;
        if (!g->site[0] && soft < 0 && strstr(g->organs, "muscle"))
            soft = g->medium;
    }
    if (skel < 0 || soft < 0 || skel == soft)
        return 1.0;
    double num = 0, den = 0;
    for (size_t i = 0; i < spec->n; i++) {
        double e = spec->energy_kev[i], w = spec->fluence[i] * e;
        if (e < 1.0 || !(w > 0))
            continue;
        double a = mu_tr(&v->media[soft], e), b = mu_tr(&v->media[skel], e);
        if (a > 0 && b > 0) {
            num += w * a / b;
            den += w;
        }
    }
    return den > 0 ? num / den : 1.0;
}
