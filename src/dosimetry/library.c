/*
 * library.c — the grid of a conversion-coefficient library, beams <-> axis
 * coordinates, and multilinear interpolation between nodes.
 *
 * Interpolation is multilinear (tensor-product linear) over the axes with
 * more than one point: the 2^k corners of the cell around a point get
 * weights prod_a (1 - t_a) or t_a.  The nodes are independent Monte Carlo
 * runs (own seeds), so the variance of the weighted sum is
 * sum_i w_i^2 sigma_i^2 (propagation of independent errors).
 */
#include "library_int.h"
#include "dos_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

static const char *const axis_names[HM_DOSE_NAXES] = {
    "kvp_kv", "filter_al_mm", "filter_cu_mm", "primary_deg", "secondary_deg", "field_cm", "offset_cm"
};

const char *hm_dose_axis_name(int axis)
{
    return axis >= 0 && axis < HM_DOSE_NAXES ? axis_names[axis] : NULL;
}

void hm_dose_phantom_name(const hm_dose_phantom_key *k, char *buf, size_t size)
{
    snprintf(buf, size, "%s_%c", k->age, k->sex);
}

size_t hm_dose_grid_nodes(const hm_dose_grid *g)
{
    size_t n = 1;
    for (int a = 0; a < HM_DOSE_NAXES; a++)
        n *= g->n[a] ? g->n[a] : 1;
    return n;
}

void hm_dose_library_params_default(hm_dose_library_params *p)
{
    memset(p, 0, sizeof *p);
    p->histories_per_node = 200000;
    p->seed = 1;
    p->threads = 1;
    p->voxel_mm = 5;
}

uint64_t lib_fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *c = data;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Valid range of each axis (what hm_dosimetry_organ_doses accepts; angles in
 * degrees; offsets within a body length). */
static const double axis_lo[HM_DOSE_NAXES] = { 20, 0, 0, -180, -90, 0.1, -100 };
static const double axis_hi[HM_DOSE_NAXES] = { 150, 50, 10, 180, 90, 99, 100 };

int hm_dose_grid_check(const hm_dose_grid *g, hm_error *err)
{
    if (g->nphantoms < 1 || g->nphantoms > HM_DOSE_MAX_PHANTOMS)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "phantoms", "expected 1..%d phantoms, got %zu",
                            HM_DOSE_MAX_PHANTOMS, g->nphantoms);
    for (size_t i = 0; i < g->nphantoms; i++) {
        const hm_dose_phantom_key *k = &g->phantoms[i];
        const char *canon = hm_phantom_age_name(k->age);
        if (!canon || strcmp(canon, k->age))
            return hm_error_set(err, HM_EINVAL, NULL, 0, "phantoms",
                                "'%s' is not a canonical age (newborn, 1y, 5y, 10y, 15y, adult)", k->age);
        if (k->sex != 'M' && k->sex != 'F' && k->sex != 'H')
            return hm_error_set(err, HM_EINVAL, NULL, 0, "phantoms", "sex of %s must be M, F or H", k->age);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(g->phantoms[j].age, k->age) && g->phantoms[j].sex == k->sex)
                return hm_error_set(err, HM_EINVAL, NULL, 0, "phantoms", "phantom %s:%c listed twice",
                                    k->age, k->sex);
    }
    double nodes = 1;
    for (int a = 0; a < HM_DOSE_NAXES; a++) {
        if (g->n[a] < 1 || g->n[a] > HM_DOSE_AXIS_MAX)
            return hm_error_set(err, HM_EINVAL, NULL, 0, axis_names[a], "expected 1..%d points, got %zu",
                                HM_DOSE_AXIS_MAX, g->n[a]);
        double hi = axis_hi[a];
        for (size_t i = 0; i < g->n[a]; i++) {
            double x = g->v[a][i];
            int bad = !isfinite(x) || x < axis_lo[a] || x > hi
                   || (a == HM_DOSE_AXIS_PRIMARY && g->primary_periodic && x >= 180);
            if (bad)
                return hm_error_set(err, HM_EINVAL, NULL, 0, axis_names[a],
                                    "point %g outside %g..%g%s", x, axis_lo[a], hi,
                                    a == HM_DOSE_AXIS_PRIMARY && g->primary_periodic ? " (180 excluded: periodic)" : "");
            if (i && !(x > g->v[a][i - 1]))
                return hm_error_set(err, HM_EINVAL, NULL, 0, axis_names[a],
                                    "points must increase strictly (%g after %g)", x, g->v[a][i - 1]);
        }
        nodes *= (double)g->n[a];
    }
    if (nodes * (double)g->nphantoms > LIB_MAX_NODES)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "grid", "%.0f nodes: at most %d", nodes * (double)g->nphantoms,
                            LIB_MAX_NODES);
    if (!(g->source_isocentre_cm > 10 && g->source_isocentre_cm < 500))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "source_isocentre_cm", "%g: expected 10..500 cm",
                            g->source_isocentre_cm);
    if (!(g->anode_angle_deg > 0 && g->anode_angle_deg < 45))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "anode_angle_deg", "%g: expected 0..45 degrees",
                            g->anode_angle_deg);
    return HM_OK;
}

/* ---- grid files ------------------------------------------------------------ */

static int parse_num(const char *s, double *x)
{
    char *end;
    *x = strtod(s, &end);
    return end != s && !*end && isfinite(*x);
}

static int parse_list(const char *value, double *out, size_t max, size_t *n)
{
    char buf[2048];
    if (strlen(value) >= sizeof buf)
        return -1;
    snprintf(buf, sizeof buf, "%s", value);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (*n == max || !parse_num(t, &out[*n]))
            return -1;
        (*n)++;
    }
    return *n ? 0 : -1;
}

static int set_phantoms(hm_dose_grid *g, const char *value, const char *file, long line, hm_error *err)
{
    char buf[1024];
    if (strlen(value) >= sizeof buf)
        return hm_error_set(err, HM_EPARSE, file, line, "phantoms", "list too long");
    snprintf(buf, sizeof buf, "%s", value);
    g->nphantoms = 0;
    for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        char *colon = strchr(t, ':');
        if (!colon || strlen(colon + 1) != 1 || colon - t >= (long)sizeof g->phantoms[0].age)
            return hm_error_set(err, HM_EPARSE, file, line, "phantoms",
                                "'%s': expected AGE:SEX, e.g. 5y:H or adult:F", t);
        if (g->nphantoms == HM_DOSE_MAX_PHANTOMS)
            return hm_error_set(err, HM_EPARSE, file, line, "phantoms", "at most %d phantoms",
                                HM_DOSE_MAX_PHANTOMS);
        *colon = 0;
        const char *canon = hm_phantom_age_name(t);
        char sex = (char)toupper((unsigned char)colon[1]);
        if (!canon || (sex != 'M' && sex != 'F' && sex != 'H'))
            return hm_error_set(err, HM_EPARSE, file, line, "phantoms",
                                "'%s:%s': age newborn, 1y, 5y, 10y, 15y or adult and sex M, F or H", t,
                                colon + 1);
        hm_dose_phantom_key *k = &g->phantoms[g->nphantoms++];
        snprintf(k->age, sizeof k->age, "%s", canon);
        k->sex = sex;
    }
    if (!g->nphantoms)
        return hm_error_set(err, HM_EPARSE, file, line, "phantoms", "no phantom listed");
    return HM_OK;
}

int lib_grid_set(hm_dose_grid *g, hm_dose_library_params *p, const char *key, const char *value,
                 const char *file, long line, hm_error *err)
{
    for (int a = 0; a < HM_DOSE_NAXES; a++)
        if (!strcmp(key, axis_names[a])) {
            if (parse_list(value, g->v[a], HM_DOSE_AXIS_MAX, &g->n[a]))
                return hm_error_set(err, HM_EPARSE, file, line, key,
                                    "expected 1..%d blank-separated numbers, got '%.60s'", HM_DOSE_AXIS_MAX, value);
            return HM_OK;
        }
    if (!strcmp(key, "phantoms"))
        return set_phantoms(g, value, file, line, err);
    double x;
    if (!parse_num(value, &x))
        return hm_error_set(err, HM_EPARSE, file, line, key, "expected a number, got '%.60s'", value);
    if (!strcmp(key, "primary_periodic")) {
        if (x != 0 && x != 1)
            return hm_error_set(err, HM_EPARSE, file, line, key, "expected 0 or 1");
        g->primary_periodic = (int)x;
    } else if (!strcmp(key, "source_isocentre_cm")) {
        g->source_isocentre_cm = x;
    } else if (!strcmp(key, "anode_angle_deg")) {
        g->anode_angle_deg = x;
    } else if (!strcmp(key, "histories_per_node")) {
        if (!(x >= 1000 && x <= 1e12 && x == floor(x)))
            return hm_error_set(err, HM_EPARSE, file, line, key, "expected a whole number >= 1000");
        if (p)
            p->histories_per_node = (long long)x;
    } else if (!strcmp(key, "seed")) {
        if (!(x >= 0 && x < 18446744073709551616.0 && x == floor(x)))
            return hm_error_set(err, HM_EPARSE, file, line, key, "expected a whole number >= 0");
        if (p)  /* strtoull: exact above 2^53 */
            p->seed = strtoull(value, NULL, 10);
    } else if (!strcmp(key, "voxel_mm")) {
        if (!(x >= 0.5 && x <= 50))
            return hm_error_set(err, HM_EPARSE, file, line, key, "expected 0.5..50 mm");
        if (p)
            p->voxel_mm = x;
    } else {
        return hm_error_set(err, HM_EPARSE, file, line, key,
                            "unknown key (expected phantoms, an axis name, primary_periodic, "
                            "source_isocentre_cm, anode_angle_deg, histories_per_node, seed or voxel_mm)");
    }
    return HM_OK;
}

int lib_grid_line(const hm_dose_grid *g, size_t i, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
#define ADD(...) (len += (size_t)snprintf(buf + len, len < size ? size - len : 0, __VA_ARGS__))
    if (i == 0) {
        ADD("phantoms,");
        for (size_t k = 0; k < g->nphantoms; k++)
            ADD("%s%s:%c", k ? " " : "", g->phantoms[k].age, g->phantoms[k].sex);
    } else if (i <= HM_DOSE_NAXES) {
        int a = (int)i - 1;
        ADD("%s,", axis_names[a]);
        for (size_t k = 0; k < g->n[a]; k++)
            ADD("%s%.10g", k ? " " : "", g->v[a][k]);
    } else if (i == HM_DOSE_NAXES + 1) {
        ADD("primary_periodic,%d", g->primary_periodic);
    } else if (i == HM_DOSE_NAXES + 2) {
        ADD("source_isocentre_cm,%.10g", g->source_isocentre_cm);
    } else if (i == HM_DOSE_NAXES + 3) {
        ADD("anode_angle_deg,%.10g", g->anode_angle_deg);
    } else {
        return 0;
    }
#undef ADD
    return len < size ? 1 : -1;
}

static void grid_init(hm_dose_grid *g)
{
    memset(g, 0, sizeof *g);
    g->source_isocentre_cm = 75;   /* device default, data/dosimetry/device_defaults.csv */
    g->anode_angle_deg = 12;
    g->primary_periodic = 1;
}

int hm_dose_grid_read(const char *path, hm_dose_grid *g, hm_dose_library_params *params, hm_error *err)
{
    grid_init(g);
    hm_csv *csv = hm_csv_open(path, 1, err);
    if (!csv)
        return err ? err->code : HM_EIO;
    char **f;
    size_t nf;
    int rc, header = 1;
    /* Where each key was set, for the messages of the checks at the end. */
    struct { char key[32]; long line; } seen[64];
    size_t nseen = 0;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        long line = hm_csv_line(csv);
        if (nf >= 1 && nseen < sizeof seen / sizeof seen[0]) {
            snprintf(seen[nseen].key, sizeof seen[nseen].key, "%s", f[0]);
            seen[nseen++].line = line;
        }
        if (header) {
            header = 0;
            if (nf != 2 || strcmp(f[0], "key") || strcmp(f[1], "values")) {
                rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "expected the header 'key,values'");
                break;
            }
            continue;
        }
        if (nf != 2) {
            rc = hm_error_set(err, HM_EPARSE, path, line, NULL, "expected 2 fields (key,values), got %zu", nf);
            break;
        }
        if ((rc = lib_grid_set(g, params, f[0], f[1], path, line, err)))
            break;
    }
    hm_csv_close(csv);
    if (rc < 0)
        return rc;
    for (int a = 0; a < HM_DOSE_NAXES; a++)
        if (!g->n[a])
            return hm_error_set(err, HM_EPARSE, path, 0, axis_names[a], "axis missing (give one point to fix it)");
    if ((rc = hm_dose_grid_check(g, err)) && err) {
        snprintf(err->file, sizeof err->file, "%s", path);
        for (size_t i = 0; i < nseen; i++)
            if (!strcmp(seen[i].key, err->field))
                err->line = seen[i].line;
    }
    return rc;
}

int hm_dose_grid_default(hm_dose_grid *g, hm_dose_library_params *params, hm_error *err)
{
    char path[1024];
    int rc = hm_data_path("dosimetry/library_grid_default.csv", path, sizeof path, err);
    if (params)
        hm_dose_library_params_default(params);
    return rc ? rc : hm_dose_grid_read(path, g, params, err);
}

/* ---- nodes and beams ------------------------------------------------------- */

int hm_dose_grid_node_coords(const hm_dose_grid *g, size_t node, double x[HM_DOSE_NAXES])
{
    if (node >= hm_dose_grid_nodes(g))
        return HM_EINVAL;
    for (int a = HM_DOSE_NAXES - 1; a >= 0; a--) {
        x[a] = g->v[a][node % g->n[a]];
        node /= g->n[a];
    }
    return HM_OK;
}

int hm_dose_grid_node_beam(const hm_dose_grid *g, size_t node, hm_dosimetry_beam *b, hm_error *err)
{
    double x[HM_DOSE_NAXES];
    if (hm_dose_grid_node_coords(g, node, x))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "node", "node %zu outside 0..%zu", node,
                            hm_dose_grid_nodes(g) - 1);
    hm_dosimetry_beam_default(b);
    b->kvp = x[HM_DOSE_AXIS_KVP];
    b->filter_al_mm = x[HM_DOSE_AXIS_AL];
    b->filter_cu_mm = x[HM_DOSE_AXIS_CU];
    /* The receptor direction of hm_dosimetry_event_beam for a head-first
     * supine patient (DICOM PS3.3 C.8.7.5): d = (sin a cos b, -cos a cos b, sin b). */
    double a = x[HM_DOSE_AXIS_PRIMARY] * PI / 180, c = x[HM_DOSE_AXIS_SECONDARY] * PI / 180;
    b->direction[0] = sin(a) * cos(c);
    b->direction[1] = -cos(a) * cos(c);
    b->direction[2] = sin(c);
    b->field_w_cm = b->field_h_cm = x[HM_DOSE_AXIS_FIELD];
    b->offset_cm[2] = x[HM_DOSE_AXIS_OFFSET];
    b->source_isocentre_cm = g->source_isocentre_cm;
    b->anode_angle_deg = g->anode_angle_deg;
    b->landmark = "heart";
    return HM_OK;
}

/* splitmix64's finaliser (Steele, Lea, Flood 2014, OOPSLA "Fast splittable
 * pseudorandom number generators"): a bijective 64-bit mix. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t hm_dose_node_seed(uint64_t seed, const hm_dose_phantom_key *k, size_t node)
{
    char name[32];
    hm_dose_phantom_name(k, name, sizeof name);
    uint64_t h = lib_fnv1a(LIB_FNV_OFFSET, name, strlen(name));
    return mix64(mix64(seed) ^ mix64(h + 0x9e3779b97f4a7c15ULL * ((uint64_t)node + 1)));
}

int hm_dose_beam_coords(const hm_dosimetry_beam *b, double x[HM_DOSE_NAXES], hm_error *err)
{
    double d[3];
    int rc = dos_beam_direction(b, d, err);
    if (rc)
        return rc;
    x[HM_DOSE_AXIS_KVP] = b->kvp;
    x[HM_DOSE_AXIS_AL] = b->filter_al_mm;
    x[HM_DOSE_AXIS_CU] = b->filter_cu_mm;
    /* Inverse of d = (sin a cos b, -cos a cos b, sin b). */
    x[HM_DOSE_AXIS_PRIMARY] = atan2(d[0], -d[1]) * 180 / PI;
    x[HM_DOSE_AXIS_SECONDARY] = asin(fmax(-1, fmin(1, d[2]))) * 180 / PI;
    /* A rectangle as the square of the same area. */
    x[HM_DOSE_AXIS_FIELD] = sqrt(b->field_w_cm * b->field_h_cm);
    x[HM_DOSE_AXIS_OFFSET] = b->offset_cm[2];
    return HM_OK;
}

/* ---- interpolation --------------------------------------------------------- */

/* Cell of x on axis a: indices i0, i1 and the weight t of i1.  Sets *out when
 * x was clamped. */
static void locate(const hm_dose_grid *g, int a, double x, size_t *i0, size_t *i1, double *t, int *out)
{
    const double *v = g->v[a];
    size_t n = g->n[a];
    double tol = 1e-6 * fmax(1, fabs(x));
    *out = 0;
    if (n == 1) {
        *i0 = *i1 = 0;
        *t = 0;
        *out = fabs(x - v[0]) > tol;
        return;
    }
    if (a == HM_DOSE_AXIS_PRIMARY && g->primary_periodic) {
        /* Into [v0, v0 + 360); the last cell closes the circle to v0 + 360. */
        double y = fmod(x - v[0], 360);
        if (y < 0)
            y += 360;
        y += v[0];
        size_t i = 0;
        while (i + 1 < n && y >= v[i + 1])
            i++;
        double hi = i + 1 < n ? v[i + 1] : v[0] + 360;
        *i0 = i;
        *i1 = i + 1 < n ? i + 1 : 0;
        *t = (y - v[i]) / (hi - v[i]);
        return;
    }
    if (x <= v[0]) {
        *i0 = 0; *i1 = 1; *t = 0;
        *out = x < v[0] - tol;
        return;
    }
    if (x >= v[n - 1]) {
        *i0 = n - 2; *i1 = n - 1; *t = 1;
        *out = x > v[n - 1] + tol;
        return;
    }
    size_t i = 0;
    while (x >= v[i + 1])
        i++;
    *i0 = i; *i1 = i + 1;
    *t = (x - v[i]) / (v[i + 1] - v[i]);
}

int hm_dose_library_lookup_at(const hm_dose_library *lib, size_t phantom, const double x[HM_DOSE_NAXES],
                              hm_dosimetry_result *out, unsigned *out_of_grid, hm_error *err)
{
    memset(out, 0, sizeof *out);
    if (phantom >= lib->grid.nphantoms)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "phantom", "index %zu outside the library's %zu phantoms",
                            phantom, lib->grid.nphantoms);
    const hm_dose_grid *g = &lib->grid;
    const lib_phantom *ph = &lib->ph[phantom];
    size_t i0[HM_DOSE_NAXES], i1[HM_DOSE_NAXES];
    double t[HM_DOSE_NAXES];
    unsigned flags = 0;
    for (int a = 0; a < HM_DOSE_NAXES; a++) {
        if (!isfinite(x[a]))
            return hm_error_set(err, HM_EINVAL, NULL, 0, axis_names[a], "not a finite number");
        int o;
        locate(g, a, x[a], &i0[a], &i1[a], &t[a], &o);
        if (o)
            flags |= 1u << a;
    }
    out->organs = calloc(ph->norgans ? ph->norgans : 1, sizeof *out->organs);
    double *var = calloc(ph->norgans ? ph->norgans : 1, sizeof *var);
    if (!out->organs || !var) {
        free(out->organs);
        free(var);
        out->organs = NULL;
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    out->n = ph->norgans;
    memcpy(out->organs, ph->proto, ph->norgans * sizeof *out->organs);
    for (size_t j = 0; j < ph->norgans; j++)
        out->organs[j].dose_mgy_per_gy_cm2 = out->organs[j].sigma_mgy_per_gy_cm2 = 0;
    /* Corner c: bit a set = the upper index on axis a (one-point axes only
     * take corner bit 0). */
    for (unsigned c = 0; c < (1u << HM_DOSE_NAXES); c++) {
        double w = 1;
        size_t node = 0;
        int skip = 0;
        for (int a = 0; a < HM_DOSE_NAXES && !skip; a++) {
            int up = (c >> a) & 1;
            if (up && g->n[a] == 1) {
                skip = 1;
                break;
            }
            w *= up ? t[a] : 1 - t[a];
            node = node * g->n[a] + (up ? i1[a] : i0[a]);
        }
        if (skip || w == 0)
            continue;
        const double *d = &ph->dose[node * ph->norgans], *s = &ph->sigma[node * ph->norgans];
        for (size_t j = 0; j < ph->norgans; j++) {
            out->organs[j].dose_mgy_per_gy_cm2 += w * d[j];
            var[j] += w * w * s[j] * s[j];
        }
    }
    for (size_t j = 0; j < ph->norgans; j++)
        out->organs[j].sigma_mgy_per_gy_cm2 = sqrt(var[j]);
    free(var);
    out->histories = lib->info.histories_per_node;
    if (out_of_grid)
        *out_of_grid = flags;
    return HM_OK;
}

int hm_dose_library_phantom(const hm_dose_library *lib, const char *age, char sex, size_t *index,
                            hm_error *err)
{
    const char *canon = age ? hm_phantom_age_name(age) : NULL;
    if (!canon)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age", "'%s' is not an age (newborn, 1y, 5y, 10y, 15y, adult)",
                            age ? age : "");
    sex = (char)toupper((unsigned char)sex);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < lib->grid.nphantoms; i++) {
            const hm_dose_phantom_key *k = &lib->grid.phantoms[i];
            /* Pass 1: a sexed request falls back to the age's hermaphrodite. */
            char want = pass ? 'H' : sex;
            if (!strcmp(k->age, canon) && k->sex == want && (!pass || sex == 'M' || sex == 'F')) {
                *index = i;
                return HM_OK;
            }
        }
    return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "phantom", "the library (%s) has no phantom %s:%c",
                        lib->info.library_id, canon, sex);
}

int hm_dose_library_lookup(const hm_dose_library *lib, const char *age, char sex, const hm_dosimetry_beam *b,
                           hm_dosimetry_result *out, unsigned *out_of_grid, hm_error *err)
{
    memset(out, 0, sizeof *out);
    size_t p;
    double x[HM_DOSE_NAXES];
    int rc = hm_dose_library_phantom(lib, age, sex, &p, err);
    if (rc || (rc = hm_dose_beam_coords(b, x, err)))
        return rc;
    unsigned flags = 0;
    if ((rc = hm_dose_library_lookup_at(lib, p, x, out, &flags, err)))
        return rc;
    if (fabs(b->offset_cm[0]) > 1e-9 || fabs(b->offset_cm[1]) > 1e-9)
        flags |= HM_DOSE_OFF_LATERAL;
    if (fabs(b->source_isocentre_cm - lib->grid.source_isocentre_cm) > 1)
        flags |= HM_DOSE_SOURCE_DISTANCE;
    if (out_of_grid)
        *out_of_grid = flags;
    return HM_OK;
}

const hm_dose_grid *hm_dose_library_grid(const hm_dose_library *lib) { return &lib->grid; }
const hm_dose_library_info *hm_dose_library_get_info(const hm_dose_library *lib) { return &lib->info; }

int hm_dose_library_beam_fn(void *ctx, const hm_dosimetry_beam *b, char sex,
                            hm_dosimetry_result *out, hm_error *err)
{
    hm_dose_library_beam *c = ctx;
    unsigned oog = 0;
    int rc = hm_dose_library_lookup(c->lib, c->age, sex, b, out, &oog, err);
    c->lookups++;
    c->out_of_grid += (oog & ~(unsigned)HM_DOSE_SOURCE_DISTANCE) != 0;
    return rc;
}
