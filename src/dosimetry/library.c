/*
 * library.c — the grid of a conversion-coefficient library, beams <-> axis
 * coordinates, phantoms by age, sex and size, and lookups (the
 * interpolation between nodes is library_interp.c's).
 */
#include "library_int.h"
#include "dos_internal.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
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
    /* Scale 1 keeps the old name, hence the old node seeds and file. */
    if (lib_key_scale(k) == 1)
        snprintf(buf, size, "%s_%c", k->age, k->sex);
    else
        snprintf(buf, size, "%s_%c_s%g", k->age, k->sex, lib_key_scale(k));
}

int lib_format_version(const hm_dose_grid *g)
{
    for (size_t i = 0; i < g->nphantoms; i++)
        if (lib_key_scale(&g->phantoms[i]) != 1)
            return 2;
    return 1;
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
        double s = lib_key_scale(k);
        if (!(s >= HM_DOSE_SCALE_MIN && s <= HM_DOSE_SCALE_MAX))
            return hm_error_set(err, HM_EINVAL, NULL, 0, "phantoms", "scale %g of %s:%c outside %g..%g", s, k->age,
                                k->sex, HM_DOSE_SCALE_MIN, HM_DOSE_SCALE_MAX);
        /* Names key the file's rows and the seeds: they must differ (scales
         * that print alike with %g would not). */
        char a[32], b[32];
        hm_dose_phantom_name(k, a, sizeof a);
        for (size_t j = 0; j < i; j++) {
            hm_dose_phantom_name(&g->phantoms[j], b, sizeof b);
            if (!strcmp(a, b))
                return hm_error_set(err, HM_EINVAL, NULL, 0, "phantoms", "phantom %s listed twice", a);
        }
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
        char *colon = strchr(t, ':'), *colon2 = colon ? strchr(colon + 1, ':') : NULL;
        double scale = 1;
        if (colon2) {
            *colon2 = 0;
            if (!parse_num(colon2 + 1, &scale) || !(scale >= HM_DOSE_SCALE_MIN && scale <= HM_DOSE_SCALE_MAX))
                return hm_error_set(err, HM_EPARSE, file, line, "phantoms",
                                    "'%s': the scale after the second colon must be a number %g..%g", colon2 + 1,
                                    HM_DOSE_SCALE_MIN, HM_DOSE_SCALE_MAX);
        }
        if (!colon || strlen(colon + 1) != 1 || colon - t >= (long)sizeof g->phantoms[0].age)
            return hm_error_set(err, HM_EPARSE, file, line, "phantoms",
                                "'%s': expected AGE:SEX or AGE:SEX:SCALE, e.g. 5y:H, adult:F or 5y:H:0.85", t);
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
        /* The reference is stored as 0 (read as 1), as in a grid made with
         * memset, so that grids round-trip through a file unchanged. */
        k->lateral_scale = scale == 1 ? 0 : scale;
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
        for (size_t k = 0; k < g->nphantoms; k++) {
            const hm_dose_phantom_key *p = &g->phantoms[k];
            ADD("%s%s:%c", k ? " " : "", p->age, p->sex);
            if (lib_key_scale(p) != 1)   /* scale 1 as before: old files hash the same */
                ADD(":%.10g", lib_key_scale(p));
        }
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

/* ---- lookups by age, sex and size (interpolation: library_interp.c) ------ */

/* The phantoms of (age, sex) with the fall-back of a sexed request to the
 * age's hermaphrodite: their indices in idx (up to HM_DOSE_MAX_PHANTOMS),
 * sorted by lateral scale; 0 when there are none. */
static size_t phantoms_of(const hm_dose_library *lib, const char *canon, char sex, size_t *idx)
{
    size_t n = 0;
    for (int pass = 0; pass < 2 && !n; pass++) {
        /* Pass 1: a sexed request falls back to the age's hermaphrodite. */
        char want = pass ? 'H' : sex;
        if (pass && sex != 'M' && sex != 'F')
            break;
        for (size_t i = 0; i < lib->grid.nphantoms; i++) {
            const hm_dose_phantom_key *k = &lib->grid.phantoms[i];
            if (!strcmp(k->age, canon) && k->sex == want)
                idx[n++] = i;
        }
    }
    for (size_t i = 1; i < n; i++)   /* insertion sort: a handful of scales */
        for (size_t j = i; j > 0 && lib_key_scale(&lib->grid.phantoms[idx[j]]) <
                                    lib_key_scale(&lib->grid.phantoms[idx[j - 1]]); j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    return n;
}

static int find_phantoms(const hm_dose_library *lib, const char *age, char sex, size_t *idx, size_t *n,
                         hm_error *err)
{
    const char *canon = age ? hm_phantom_age_name(age) : NULL;
    if (!canon)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age", "'%s' is not an age (newborn, 1y, 5y, 10y, 15y, adult)",
                            age ? age : "");
    sex = (char)toupper((unsigned char)sex);
    if (!(*n = phantoms_of(lib, canon, sex, idx)))
        return hm_error_set(err, HM_ENOTFOUND, NULL, 0, "phantom", "the library (%s) has no phantom %s:%c",
                            lib->info.library_id, canon, sex);
    return HM_OK;
}

int hm_dose_library_phantom(const hm_dose_library *lib, const char *age, char sex, size_t *index,
                            hm_error *err)
{
    size_t idx[HM_DOSE_MAX_PHANTOMS], n;
    int rc = find_phantoms(lib, age, sex, idx, &n, err);
    if (rc)
        return rc;
    /* Of several scales, the nearest to the reference. */
    size_t best = idx[0];
    for (size_t i = 1; i < n; i++)
        if (fabs(lib_key_scale(&lib->grid.phantoms[idx[i]]) - 1) < fabs(lib_key_scale(&lib->grid.phantoms[best]) - 1))
            best = idx[i];
    *index = best;
    return HM_OK;
}

/* The flags of a beam that do not come from the axes. */
static unsigned beam_flags(const hm_dose_library *lib, const hm_dosimetry_beam *b)
{
    unsigned flags = 0;
    if (fabs(b->offset_cm[0]) > 1e-9 || fabs(b->offset_cm[1]) > 1e-9)
        flags |= HM_DOSE_OFF_LATERAL;
    if (fabs(b->source_isocentre_cm - lib->grid.source_isocentre_cm) > 1)
        flags |= HM_DOSE_SOURCE_DISTANCE;
    return flags;
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
    if (out_of_grid)
        *out_of_grid = flags | beam_flags(lib, b);
    return HM_OK;
}

/*
 * Between two scales s0 < s1 of a phantom, log dose is linear in the scale:
 * D = D0^(1-t) D1^t, t = (s - s0)/(s1 - s0).  Doses per KAP fall about
 * exponentially with the depth of tissue in front of an organ (attenuation;
 * for patient size: AAPM Report 204, 2011, and Turner et al. 2010, Med Phys
 * 37:1816, fit organ dose against patient diameter with an exponential), and
 * the depth scales with s.  A zero dose on either side (an organ the beam
 * misses) falls back to linear.  Errors propagate as relative errors:
 * (sigma/D)^2 = ((1-t) sigma0/D0)^2 + (t sigma1/D1)^2.
 */
static void blend_log(hm_organ_dose *o, const hm_organ_dose *a, const hm_organ_dose *b, double t)
{
    double d0 = a->dose_mgy_per_gy_cm2, d1 = b->dose_mgy_per_gy_cm2;
    double s0 = a->sigma_mgy_per_gy_cm2, s1 = b->sigma_mgy_per_gy_cm2;
    o->mass_g = (1 - t) * a->mass_g + t * b->mass_g;
    if (d0 > 0 && d1 > 0) {
        double d = exp((1 - t) * log(d0) + t * log(d1));
        o->dose_mgy_per_gy_cm2 = d;
        o->sigma_mgy_per_gy_cm2 = d * hypot((1 - t) * s0 / d0, t * s1 / d1);
    } else {
        o->dose_mgy_per_gy_cm2 = (1 - t) * d0 + t * d1;
        o->sigma_mgy_per_gy_cm2 = hypot((1 - t) * s0, t * s1);
    }
}

/*
 * The scale steps of the voxel anatomy.  A phantom scaled continuously is
 * voxelised on a fixed grid (4 mm), so its organs gain and lose voxel rows
 * in steps: on the 5-year-old (PA, 80 kV, 0.1 mm Cu, 8 cm, 1e6 histories,
 * statistical sigma 0.2 %) the lymph nodes' dose per KAP at scales 0.9,
 * 0.925, ..., 1.1 is 0.674, 0.639, 0.640, 0.598, 0.613, 0.569, 0.563, 0.543,
 * 0.506, bone surface 0.816, 0.781, 0.762, 0.760, 0.696, 0.697, 0.678,
 * 0.643, 0.654: steps of 1-4 % about the log-linear trend, which no smooth
 * scheme follows and which a patient's own scaled phantom (the direct run)
 * has as well.  They are taken as independent of scale to scale (a step is
 * a voxel row, 2 % of a 5-year-old's 20 cm trunk, about the spacing of
 * the scales), of relative size sigma_j per organ, estimated from the
 * library's interior scales: the residual of log dose at scale i from the
 * line through its neighbours, r_i = ln D_i - (w- ln D_{i-1} + w+ ln D_{i+1}),
 * has variance sigma_j^2 (1 + w-^2 + w+^2) (curvature in log dose is small
 * against it: the trend is exponential, see blend_log), so
 *   sigma_j^2 = mean_i r_i^2 / (1 + w-^2 + w+^2).
 * Between two scales the lookup differs from the dose on the patient's own
 * phantom by that phantom's step less the blended steps of the two nodes:
 *   (sigma/D)^2 += sigma_j^2 (1 + (1-t)^2 + t^2).
 * It needs three scales of the phantom; on a node scale the node's phantom
 * is the patient's and nothing is added.  The residuals hold the nodes'
 * statistical noise too, so sigma_j is an upper estimate for noisy organs.
 */
static double scale_jitter(const hm_dosimetry_result *r, const double *sc, size_t n, size_t organ)
{
    double sum = 0;
    size_t m = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        double d0 = r[i - 1].organs[organ].dose_mgy_per_gy_cm2, d1 = r[i].organs[organ].dose_mgy_per_gy_cm2;
        double d2 = r[i + 1].organs[organ].dose_mgy_per_gy_cm2;
        if (!(d0 > 0 && d1 > 0 && d2 > 0))
            continue;
        double wp = (sc[i] - sc[i - 1]) / (sc[i + 1] - sc[i - 1]), wm = 1 - wp;
        double res = log(d1) - (wm * log(d0) + wp * log(d2));
        sum += res * res / (1 + wm * wm + wp * wp);
        m++;
    }
    return m ? sqrt(sum / (double)m) : 0;
}

int hm_dose_library_lookup_sized(const hm_dose_library *lib, const char *age, char sex, double lateral_scale,
                                 const hm_dosimetry_beam *b, hm_dosimetry_result *out, unsigned *out_of_grid,
                                 hm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!isfinite(lateral_scale))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "lateral_scale", "not a finite number");
    double s = lateral_scale > 0 ? lateral_scale : 1;
    size_t idx[HM_DOSE_MAX_PHANTOMS], n;
    double x[HM_DOSE_NAXES];
    int rc = find_phantoms(lib, age, sex, idx, &n, err);
    if (rc || (rc = hm_dose_beam_coords(b, x, err)))
        return rc;
    unsigned flags = beam_flags(lib, b), f0 = 0;
    const hm_dose_phantom_key *ph = lib->grid.phantoms;
    if (n == 1) {
        /* One scale: the reference doses, flagged for a patient off it. */
        if (fabs(s - lib_key_scale(&ph[idx[0]])) > 0.02)
            flags |= HM_DOSE_OFF_SIZE;
        if ((rc = hm_dose_library_lookup_at(lib, idx[0], x, out, &f0, err)))
            return rc;
        if (out_of_grid)
            *out_of_grid = flags | f0;
        return HM_OK;
    }
    double lo = lib_key_scale(&ph[idx[0]]), hi = lib_key_scale(&ph[idx[n - 1]]);
    if (s < lo || s > hi) {
        /* Clamped to the nearest scale (tolerance as for the one-scale case). */
        if (fabs(s - (s < lo ? lo : hi)) > 1e-9)
            flags |= HM_DOSE_OFF_SIZE;
        s = s < lo ? lo : hi;
    }
    size_t i = 0;
    while (i + 2 < n && s > lib_key_scale(&ph[idx[i + 1]]))
        i++;
    double s0 = lib_key_scale(&ph[idx[i]]), s1 = lib_key_scale(&ph[idx[i + 1]]);
    double t = (s - s0) / (s1 - s0);
    if (t <= 0 || t >= 1) {   /* on a node scale: that phantom alone, bit for bit */
        if ((rc = hm_dose_library_lookup_at(lib, idx[t <= 0 ? i : i + 1], x, out, &f0, err)))
            return rc;
        if (out_of_grid)
            *out_of_grid = flags | f0;
        return HM_OK;
    }
    /* Every scale of the phantom (for the steps), or the two around s. */
    size_t first = n >= 3 ? 0 : i, count = n >= 3 ? n : 2;
    hm_dosimetry_result r[HM_DOSE_MAX_PHANTOMS];
    double sc[HM_DOSE_MAX_PHANTOMS];
    unsigned fk = 0;
    for (size_t k = 0; k < count && !rc; k++) {
        sc[k] = lib_key_scale(&ph[idx[first + k]]);
        unsigned f = 0;
        rc = hm_dose_library_lookup_at(lib, idx[first + k], x, &r[k], &f, err);
        if (!rc) {
            fk |= first + k == i || first + k == i + 1 ? f : 0;
            if (r[k].n != r[0].n)
                rc = hm_error_set(err, HM_EINVAL, NULL, 0, "organ",
                                  "the library's scales %g and %g of %s have %zu and %zu organs", sc[0], sc[k],
                                  ph[idx[i]].age, r[0].n, r[k].n);
            for (size_t j = 0; j < r[k].n && !rc; j++)
                if (strcmp(r[0].organs[j].organ, r[k].organs[j].organ))
                    rc = hm_error_set(err, HM_EINVAL, NULL, 0, "organ",
                                      "the library's scales %g and %g of %s differ in organ %zu", sc[0], sc[k],
                                      ph[idx[i]].age, j);
            if (rc)
                hm_dosimetry_result_free(&r[k]);
        }
        if (rc)
            for (size_t m = 0; m < k; m++)
                hm_dosimetry_result_free(&r[m]);
    }
    if (rc)
        return rc;
    const hm_dosimetry_result *a = &r[i - first], *c = &r[i + 1 - first];
    *out = *a;
    out->organs = malloc((a->n ? a->n : 1) * sizeof *out->organs);
    if (!out->organs)
        rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t j = 0; !rc && j < a->n; j++) {
        out->organs[j] = a->organs[j];
        blend_log(&out->organs[j], &a->organs[j], &c->organs[j], t);
        double sj = count >= 3 ? scale_jitter(r, sc, count, j) : 0, d = out->organs[j].dose_mgy_per_gy_cm2;
        double sg = out->organs[j].sigma_mgy_per_gy_cm2;
        out->organs[j].sigma_mgy_per_gy_cm2 = sqrt(sg * sg + d * d * sj * sj * (1 + (1 - t) * (1 - t) + t * t));
    }
    for (size_t k = 0; k < count; k++)
        hm_dosimetry_result_free(&r[k]);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (out_of_grid)
        *out_of_grid = flags | fk;
    return HM_OK;
}

/* The reference sizes, computed once per phantom (building one takes its
 * masses' integration). */
static struct { char age[16]; char sex; double height_cm, mass_kg; } ref_sizes[24];
static size_t n_ref_sizes;
static pthread_mutex_t ref_lock = PTHREAD_MUTEX_INITIALIZER;

int hm_dose_phantom_reference_size(const char *age, char sex, double *height_cm, double *mass_kg, hm_error *err)
{
    const char *canon = age ? hm_phantom_age_name(age) : NULL;
    if (!canon)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "age", "'%s' is not an age (newborn, 1y, 5y, 10y, 15y, adult)",
                            age ? age : "");
    sex = (char)toupper((unsigned char)sex);
    pthread_mutex_lock(&ref_lock);
    int rc = HM_OK;
    size_t i = 0;
    while (i < n_ref_sizes && (strcmp(ref_sizes[i].age, canon) || ref_sizes[i].sex != sex))
        i++;
    if (i == n_ref_sizes) {
        hm_phantom *p;
        if (!(rc = hm_phantom_build(canon, sex, &p, err))) {
            if (n_ref_sizes < sizeof ref_sizes / sizeof ref_sizes[0]) {
                snprintf(ref_sizes[i].age, sizeof ref_sizes[i].age, "%s", canon);
                ref_sizes[i].sex = sex;
                ref_sizes[i].height_cm = hm_phantom_height_cm(p);
                ref_sizes[i].mass_kg = hm_phantom_mass_kg(p);
                n_ref_sizes++;
            }
            *height_cm = hm_phantom_height_cm(p);
            *mass_kg = hm_phantom_mass_kg(p);
            hm_phantom_free(p);
        }
    } else {
        *height_cm = ref_sizes[i].height_cm;
        *mass_kg = ref_sizes[i].mass_kg;
    }
    pthread_mutex_unlock(&ref_lock);
    return rc;
}

const hm_dose_grid *hm_dose_library_grid(const hm_dose_library *lib) { return &lib->grid; }
const hm_dose_library_info *hm_dose_library_get_info(const hm_dose_library *lib) { return &lib->info; }

int hm_dose_library_beam_fn(void *ctx, const hm_dosimetry_beam *b, char sex,
                            hm_dosimetry_result *out, hm_error *err)
{
    hm_dose_library_beam *c = ctx;
    unsigned oog = 0;
    int rc = hm_dose_library_lookup_sized(c->lib, c->age, sex, c->lateral_scale, b, out, &oog, err);
    c->lookups++;
    c->out_of_grid += (oog & ~(unsigned)HM_DOSE_SOURCE_DISTANCE) != 0;
    return rc;
}
