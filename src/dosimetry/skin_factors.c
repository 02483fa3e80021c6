/*
 * skin_factors.c — the data behind a skin dose: backscatter factors
 * (Benmakhlouf et al. 2011), table and mattress transmission, the map's
 * defaults, and the skin-to-air kerma ratio f over an event's spectrum.
 */
#include "skin_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xraylib/xraylib.h>

void hm_skin_options_default(hm_skin_options *o)
{
    memset(o, 0, sizeof *o);
    o->position = HM_POS_HFS;
}

/* A number in [lo, hi] from a CSV field, or an error naming file, line, field. */
static int num(const char *s, double lo, double hi, const char *path, long line,
               const char *field, double *out, hm_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi))
        return hm_error_set(err, HM_EPARSE, path, line, field,
                            "'%s': expected a number in [%g, %g]", s, lo, hi);
    *out = v;
    return HM_OK;
}

/* Header fields must start with `want` (nwant names). */
static int header_ok(char **f, size_t nf, const char *const *want, size_t nwant,
                     const char *path, long line, hm_error *err)
{
    for (size_t i = 0; i < nwant; i++)
        if (i >= nf || strcmp(f[i], want[i]))
            return hm_error_set(err, HM_EPARSE, path, line, i < nf ? f[i] : "",
                                "expected the header %s,%s,%s,%s", want[0], want[1], want[2],
                                want[3]);
    return HM_OK;
}

/* ---- backscatter factors ------------------------------------------------ */

typedef struct bsf_row { double kvp, hvl, side, bsf; } bsf_row;

static pthread_once_t bsf_once = PTHREAD_ONCE_INIT;
static bsf_row *bsf_rows;
static size_t bsf_n;
static hm_error bsf_err;

static void bsf_load(void)
{
    char path[1024];
    hm_csv *csv;
    if (hm_data_csv_open("dosimetry/backscatter_water.csv", path, sizeof path, &csv, &bsf_err))
        return;
    static const char *const want[] = { "kvp", "hvl_mm_al", "field_side_cm", "bsf" };
    char **f;
    size_t nf, cap = 0;
    int rc, header = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, &bsf_err)) > 0) {
        long line = hm_csv_line(csv);
        if (header) {
            header = 0;
            if ((rc = header_ok(f, nf, want, 4, path, line, &bsf_err)))
                break;
            continue;
        }
        if (nf < 4) {
            rc = hm_error_set(&bsf_err, HM_EPARSE, path, line, NULL, "expected 4 or more fields");
            break;
        }
        if (bsf_n == cap) {
            cap = cap ? 2 * cap : 512;
            bsf_row *r = realloc(bsf_rows, cap * sizeof *r);
            if (!r) {
                rc = hm_error_set(&bsf_err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            bsf_rows = r;
        }
        bsf_row *r = &bsf_rows[bsf_n];
        if ((rc = num(f[0], 20, 150, path, line, want[0], &r->kvp, &bsf_err)) ||
            (rc = num(f[1], 0.1, 30, path, line, want[1], &r->hvl, &bsf_err)) ||
            (rc = num(f[2], 1, 100, path, line, want[2], &r->side, &bsf_err)) ||
            (rc = num(f[3], 1, 2, path, line, want[3], &r->bsf, &bsf_err)))
            break;
        /* Interpolation walks rows in order: within a kVp, HVL must not fall
         * and, within an HVL, field sides must rise. */
        if (bsf_n > 0) {
            const bsf_row *p = r - 1;
            if (p->kvp == r->kvp && (r->hvl < p->hvl || (r->hvl == p->hvl && r->side <= p->side))) {
                rc = hm_error_set(&bsf_err, HM_EPARSE, path, line, "hvl_mm_al",
                                  "rows of one kVp must be sorted by HVL, then field side");
                break;
            }
        }
        bsf_n++;
    }
    hm_csv_close(csv);
    if (rc < 0 || bsf_n == 0) {
        if (rc >= 0)
            hm_error_set(&bsf_err, HM_EPARSE, path, 0, NULL, "no backscatter factors");
        free(bsf_rows);
        bsf_rows = NULL;
        bsf_n = 0;
    }
}

static double lerp(double x, double x0, double x1, double y0, double y1)
{
    if (x1 == x0)
        return y0;
    double t = (x - x0) / (x1 - x0);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return y0 + t * (y1 - y0);
}

/* BSF at one field side among rows [i0, i1) of one (kVp, HVL). */
static double bsf_side(size_t i0, size_t i1, double side)
{
    size_t j = i0;
    while (j + 1 < i1 && bsf_rows[j + 1].side < side)
        j++;
    if (j + 1 >= i1)
        return bsf_rows[j].bsf;
    return lerp(side, bsf_rows[j].side, bsf_rows[j + 1].side, bsf_rows[j].bsf, bsf_rows[j + 1].bsf);
}

static size_t group_end(size_t g0, size_t i1)
{
    size_t g1 = g0;
    while (g1 < i1 && bsf_rows[g1].hvl == bsf_rows[g0].hvl)
        g1++;
    return g1;
}

/* BSF at (hvl, side) among rows [i0, i1) of one kVp: between the two groups
 * of equal HVL around hvl (clamped at the first and last). */
static double bsf_kvp(size_t i0, size_t i1, double hvl, double side)
{
    size_t g0 = i0, g1 = group_end(g0, i1);
    if (g1 >= i1 || hvl <= bsf_rows[g0].hvl)
        return bsf_side(g0, g1, side);
    for (;;) {
        size_t h0 = g1, h1 = group_end(h0, i1);
        if (h1 >= i1 || hvl <= bsf_rows[h0].hvl)
            return lerp(hvl, bsf_rows[g0].hvl, bsf_rows[h0].hvl, bsf_side(g0, g1, side),
                        bsf_side(h0, h1, side));
        g0 = h0;
        g1 = h1;
    }
}

int hm_skin_backscatter(double kvp, double hvl_mm_al, double field_side_cm, double *bsf,
                        hm_error *err)
{
    pthread_once(&bsf_once, bsf_load);
    if (!bsf_n) {
        if (err)
            *err = bsf_err;
        return bsf_err.code ? bsf_err.code : HM_EPARSE;
    }
    if (!(kvp > 0) || !(hvl_mm_al > 0) || !(field_side_cm > 0))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "kvp", "kVp, HVL and field side must be > 0");
    /* Blocks of one kVp, in file order; the two around kvp (clamped). */
    size_t lo0 = 0, lo1 = 0, hi0 = 0, hi1 = 0;
    for (size_t i = 0; i < bsf_n;) {
        size_t j = i;
        while (j < bsf_n && bsf_rows[j].kvp == bsf_rows[i].kvp)
            j++;
        if (bsf_rows[i].kvp <= kvp && (lo1 == 0 || bsf_rows[i].kvp > bsf_rows[lo0].kvp)) {
            lo0 = i;
            lo1 = j;
        }
        if (bsf_rows[i].kvp >= kvp && (hi1 == 0 || bsf_rows[i].kvp < bsf_rows[hi0].kvp)) {
            hi0 = i;
            hi1 = j;
        }
        i = j;
    }
    if (lo1 == 0) { lo0 = hi0; lo1 = hi1; }
    if (hi1 == 0) { hi0 = lo0; hi1 = lo1; }
    double a = bsf_kvp(lo0, lo1, hvl_mm_al, field_side_cm);
    double b = bsf_kvp(hi0, hi1, hvl_mm_al, field_side_cm);
    *bsf = lerp(kvp, bsf_rows[lo0].kvp, bsf_rows[hi0].kvp, a, b);
    return HM_OK;
}

/* ---- table transmission ------------------------------------------------- */

void dos_ttable_free(dos_ttable *t)
{
    free(t->kvp);
    free(t->cu);
    free(t->t_table);
    free(t->t_mat);
    memset(t, 0, sizeof *t);
}

static int add_unique(double *list, int *n, double x)
{
    int i = 0;
    while (i < *n && list[i] < x)
        i++;
    if (i < *n && list[i] == x)
        return i;
    memmove(list + i + 1, list + i, sizeof *list * (size_t)(*n - i));
    list[i] = x;
    (*n)++;
    return i;
}

static int index_of(const double *list, int n, double x)
{
    for (int i = 0; i < n; i++)
        if (list[i] == x)
            return i;
    return -1;
}

enum { TT_MAX = 32 };   /* kVp or Cu values in a table file */

int dos_ttable_load(const char *path, dos_ttable *t, hm_error *err)
{
    memset(t, 0, sizeof *t);
    hm_csv *csv = hm_csv_open(path, 1, err);
    if (!csv)
        return err && err->code ? err->code : HM_EIO;
    static const char *const want[] = { "kvp", "cu_mm", "table", "table_mattress" };
    double rows[TT_MAX * TT_MAX][4];
    int nrows = 0, rc, header = 1;
    long lines[TT_MAX * TT_MAX];
    char **f;
    size_t nf;
    double kv[TT_MAX], cu[TT_MAX];
    int nk = 0, nc = 0;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        long line = hm_csv_line(csv);
        if (header) {
            header = 0;
            if ((rc = header_ok(f, nf, want, 4, path, line, err)))
                break;
            continue;
        }
        if (nf < 4) {
            rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "expected kvp,cu_mm,table,table_mattress");
            break;
        }
        if (nrows == TT_MAX * TT_MAX) {
            rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "more than %d rows", TT_MAX * TT_MAX);
            break;
        }
        double *r = rows[nrows];
        if ((rc = num(f[0], 20, 150, path, line, want[0], &r[0], err)) ||
            (rc = num(f[1], 0, 5, path, line, want[1], &r[1], err)) ||
            (rc = num(f[2], 0.05, 1, path, line, want[2], &r[2], err)) ||
            (rc = num(f[3], 0.05, 1, path, line, want[3], &r[3], err)))
            break;
        if ((index_of(kv, nk, r[0]) < 0 && nk == TT_MAX) || (index_of(cu, nc, r[1]) < 0 && nc == TT_MAX)) {
            rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "more than %d kVp or Cu values", TT_MAX);
            break;
        }
        add_unique(kv, &nk, r[0]);
        add_unique(cu, &nc, r[1]);
        lines[nrows++] = line;
    }
    hm_csv_close(csv);
    if (rc < 0)
        return rc;
    if (nrows == 0)
        return hm_error_set(err, HM_EPARSE, path, 0, NULL, "no transmission rows");
    t->nk = nk;
    t->nc = nc;
    t->kvp = malloc(sizeof *t->kvp * (size_t)nk);
    t->cu = malloc(sizeof *t->cu * (size_t)nc);
    t->t_table = malloc(sizeof *t->t_table * (size_t)(nk * nc));
    t->t_mat = malloc(sizeof *t->t_mat * (size_t)(nk * nc));
    if (!t->kvp || !t->cu || !t->t_table || !t->t_mat) {
        dos_ttable_free(t);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    memcpy(t->kvp, kv, sizeof *kv * (size_t)nk);
    memcpy(t->cu, cu, sizeof *cu * (size_t)nc);
    for (int i = 0; i < nk * nc; i++)
        t->t_table[i] = NAN;
    for (int i = 0; i < nrows; i++) {
        int k = index_of(kv, nk, rows[i][0]), c = index_of(cu, nc, rows[i][1]);
        if (!isnan(t->t_table[c * nk + k])) {
            dos_ttable_free(t);
            return hm_error_set(err, HM_EPARSE, path, lines[i], "kvp", "kVp %g with %g mm Cu given twice",
                                rows[i][0], rows[i][1]);
        }
        t->t_table[c * nk + k] = rows[i][2];
        t->t_mat[c * nk + k] = rows[i][3];
    }
    for (int c = 0; c < nc; c++)
        for (int k = 0; k < nk; k++)
            if (isnan(t->t_table[c * nk + k])) {
                double kk = kv[k], cc = cu[c];
                dos_ttable_free(t);
                return hm_error_set(err, HM_EPARSE, path, 0, "kvp",
                                    "no row for kVp %g with %g mm Cu: the table must be a full "
                                    "grid of kVp by Cu", kk, cc);
            }
    return HM_OK;
}

/* Bracket of x in a sorted list (clamped): i0, i1 and the weight of i1. */
static void bracket(const double *list, int n, double x, int *i0, int *i1, double *w)
{
    int i = 0;
    while (i + 1 < n && list[i + 1] < x)
        i++;
    *i0 = i;
    *i1 = i + 1 < n ? i + 1 : i;
    *w = *i1 == *i0 ? 0 : (x - list[*i0]) / (list[*i1] - list[*i0]);
    *w = *w < 0 ? 0 : *w > 1 ? 1 : *w;
}

double dos_ttable_at(const dos_ttable *t, int mattress, double kvp, double cu_mm)
{
    int k0, k1, c0, c1;
    double wk, wc;
    bracket(t->kvp, t->nk, kvp, &k0, &k1, &wk);
    bracket(t->cu, t->nc, cu_mm, &c0, &c1, &wc);
    const double *v = mattress ? t->t_mat : t->t_table;
    double a = v[c0 * t->nk + k0] * (1 - wk) + v[c0 * t->nk + k1] * wk;
    double b = v[c1 * t->nk + k0] * (1 - wk) + v[c1 * t->nk + k1] * wk;
    return a * (1 - wc) + b * wc;
}

static pthread_once_t tt_once = PTHREAD_ONCE_INIT;
static dos_ttable tt_default;
static hm_error tt_err;
static int tt_rc;

static void tt_load(void)
{
    char path[1024];
    tt_rc = hm_data_path("dosimetry/table_transmission.csv", path, sizeof path, &tt_err);
    if (!tt_rc)
        tt_rc = dos_ttable_load(path, &tt_default, &tt_err);
}

int dos_ttable_default(const dos_ttable **t, hm_error *err)
{
    pthread_once(&tt_once, tt_load);
    if (tt_rc) {
        if (err)
            *err = tt_err;
        return tt_rc;
    }
    *t = &tt_default;
    return HM_OK;
}

int hm_skin_table_transmission(const hm_skin_options *opt, double kvp, double cu_mm, double *t,
                               hm_error *err)
{
    hm_skin_options dflt;
    if (!opt) {
        hm_skin_options_default(&dflt);
        opt = &dflt;
    }
    if (opt->no_table) {
        *t = 1;
        return HM_OK;
    }
    if (opt->table_transmission > 0) {
        if (opt->table_transmission > 1)
            return hm_error_set(err, HM_EINVAL, NULL, 0, "table_transmission",
                                "%g: expected a transmission in (0, 1]", opt->table_transmission);
        *t = opt->table_transmission;
        return HM_OK;
    }
    int rc;
    if (opt->table_file) {
        dos_ttable own;
        if ((rc = dos_ttable_load(opt->table_file, &own, err)))
            return rc;
        *t = dos_ttable_at(&own, !opt->no_mattress, kvp, cu_mm);
        dos_ttable_free(&own);
        return HM_OK;
    }
    const dos_ttable *d;
    if ((rc = dos_ttable_default(&d, err)))
        return rc;
    *t = dos_ttable_at(d, !opt->no_mattress, kvp, cu_mm);
    return HM_OK;
}

/* ---- defaults ----------------------------------------------------------- */

int skin_defaults_get(skin_defaults *d, hm_error *err)
{
    memset(d, 0, sizeof *d);
    d->table_width_cm = d->min_cos_table = NAN;
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("dosimetry/skin_defaults.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    int header = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        rc = HM_OK;
        long line = hm_csv_line(csv);
        if (header) {
            header = 0;
            continue;
        }
        if (nf < 2) {
            rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "expected name,value,unit");
            break;
        }
        if (!strcmp(f[0], "table_width_cm"))
            rc = num(f[1], 1, 200, path, line, f[0], &d->table_width_cm, err);
        else if (!strcmp(f[0], "min_cos_table"))
            rc = num(f[1], 0.01, 1, path, line, f[0], &d->min_cos_table, err);
        else if (!strcmp(f[0], "skin_medium"))
            snprintf(d->skin_medium, sizeof d->skin_medium, "%s", f[1]);
        else
            rc = hm_error_set(err, HM_EPARSE, path, line, "name", "unknown parameter '%s'", f[0]);
        if (rc)
            break;
    }
    hm_csv_close(csv);
    if (rc < 0)
        return rc;
    if (!isfinite(d->table_width_cm) || !isfinite(d->min_cos_table) || !d->skin_medium[0])
        return hm_error_set(err, HM_EPARSE, path, 0, NULL,
                            "expected table_width_cm, min_cos_table and skin_medium");
    return HM_OK;
}

/* ---- media and the kerma ratio f ---------------------------------------- */

int skin_medium_load(const char *name, hm_phantom_medium *m, hm_error *err)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("materials/compositions.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    int header = 1;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        rc = HM_OK;
        if (header) {
            header = 0;
            continue;
        }
        if (nf < 4 || strcmp(f[0], name))
            continue;
        long line = hm_csv_line(csv);
        double z = 0, w = 0;
        if ((rc = num(f[2], 1, 100, path, line, "Z", &z, err)) ||
            (rc = num(f[3], 0, 1, path, line, "mass_fraction", &w, err)))
            break;
        if (m->nelements == HM_PHANTOM_MAX_ELEMENTS) {
            rc = hm_error_set(err, HM_EPARSE, path, line, "Z", "more than %d elements",
                              HM_PHANTOM_MAX_ELEMENTS);
            break;
        }
        m->z[m->nelements] = (int)z;
        m->mass_fraction[m->nelements++] = w;
    }
    hm_csv_close(csv);
    if (rc < 0)
        return rc;
    if (m->nelements == 0)
        return hm_error_set(err, HM_ENOTFOUND, path, 0, "material", "no material '%s'", name);
    return HM_OK;
}

/* Mean fraction of E given to the electron in a Klein-Nishina scattering
 * (Klein & Nishina 1929), Simpson's rule over cos(theta): the same model as
 * the marrow factor (marrow.c). */
static double kn_transfer_fraction(double e_kev)
{
    const double k = e_kev / 510.998950;
    const int n = 200;
    double num_ = 0, den = 0;
    for (int i = 0; i <= n; i++) {
        double mu = -1.0 + 2.0 * i / n, w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
        double r = 1.0 / (1.0 + k * (1.0 - mu));
        double dcs = r * r * (r + 1.0 / r - (1.0 - mu * mu));
        num_ += w * dcs * (1.0 - r);
        den += w * dcs;
    }
    return num_ / den;
}

/* mu_tr/rho = tau + sigma_C <T>/E (Attix 1986, ch. 7; fluorescence escape and
 * bremsstrahlung neglected below 150 keV), tau and sigma_C from xraylib
 * (CS_Energy is wrong in xraylib 4.0.0: anchors.md section 3). */
static double mu_tr(const hm_phantom_medium *m, double e_kev, double kn)
{
    double s = 0, wsum = 0;
    for (int i = 0; i < m->nelements; i++) {
        s += m->mass_fraction[i] * (CS_Photo(m->z[i], e_kev, NULL) + CS_Compt(m->z[i], e_kev, NULL) * kn);
        wsum += m->mass_fraction[i];
    }
    return wsum > 0 ? s / wsum : 0;
}

/* f = K_a / K_b = sum Phi(E) E mu_tr,a(E) / sum Phi(E) E mu_tr,b(E): the ratio
 * of kerma in two media for the same photon fluence (ICRU Report 74, 2005,
 * section 3: dose to tissue from air kerma by the ratio of mass
 * energy-absorption coefficients averaged over the energy fluence). */
double skin_kerma_ratio(const hm_phantom_medium *a, const hm_phantom_medium *b,
                        const hm_mc_spectrum *s)
{
    double na = 0, nb = 0;
    for (size_t i = 0; i < s->n; i++) {
        double e = s->energy_kev[i], psi = s->fluence[i] * e;
        if (e < 1.0 || !(psi > 0))
            continue;
        double kn = kn_transfer_fraction(e);
        na += psi * mu_tr(a, e, kn);
        nb += psi * mu_tr(b, e, kn);
    }
    return nb > 0 ? na / nb : 1.0;
}
