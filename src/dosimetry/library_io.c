/*
 * library_io.c — a conversion-coefficient library in memory and its file:
 * a '#' header block (format version, provenance, grid, organ table) and one
 * CSV row per node and organ (format in docs/dosimetry.md).
 *
 * The library_id is FNV-1a 64 of every line but the library_id and created
 * lines, so two builds of the same grid and parameters have the same id and
 * a changed or damaged file is caught on loading.  Rows come in a fixed order
 * (phantom, node, organ), so the reader checks each row against the node it
 * must be instead of searching.
 */
#include "library_int.h"
#include "hm_mc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIB_COLUMNS "phantom,node,kvp_kv,filter_al_mm,filter_cu_mm,primary_deg,secondary_deg," \
                    "field_cm,offset_cm,organ,dose_mgy_per_gy_cm2,sigma_mgy_per_gy_cm2"
enum { LIB_NCOLUMNS = 12, LIB_LINE_MAX = 8192 };

void lib_engine_text(char *buf, size_t size)
{
    hm_mc_physics ph;
    hm_mc_physics_default(&ph);
    snprintf(buf, size,
             "hm_mc %s: photoelectric (local deposition)%s, Compton (%s%s)%s, cutoff %g keV, "
             "no electron transport (kerma), xraylib cross sections, xoshiro256+ keyed by Philox4x64-10",
             HM_VERSION_STRING, ph.fluorescence ? " with K fluorescence" : "",
             ph.compton_sf ? "incoherent scattering function" : "free-electron Klein-Nishina",
             ph.doppler ? ", Doppler broadening" : "", ph.rayleigh ? ", Rayleigh (form factor)" : "",
             ph.cutoff_kev);
}

/* ---- in memory ------------------------------------------------------------- */

int lib_reserve(lib_phantom *ph, size_t nodes, hm_error *err)
{
    if (nodes <= ph->cap_nodes)
        return HM_OK;
    size_t cap = ph->cap_nodes ? ph->cap_nodes : 16;
    while (cap < nodes)
        cap *= 2;
    size_t k = ph->norgans ? ph->norgans : 1;
    double *d = realloc(ph->dose, cap * k * sizeof *d);
    if (d)
        ph->dose = d;
    double *s = d ? realloc(ph->sigma, cap * k * sizeof *s) : NULL;
    if (s)
        ph->sigma = s;
    unsigned char *set = s ? realloc(ph->set, cap) : NULL;
    if (!set)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory (%zu library nodes)", nodes);
    memset(set + ph->cap_nodes, 0, cap - ph->cap_nodes);
    ph->set = set;
    ph->cap_nodes = cap;
    return HM_OK;
}

int lib_set_organs(lib_phantom *ph, const hm_organ_dose *o, size_t n, hm_error *err)
{
    if (n < 1 || n > LIB_MAX_ORGANS)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "organ", "%zu organs: expected 1..%d", n, LIB_MAX_ORGANS);
    ph->proto = calloc(n, sizeof *ph->proto);
    if (!ph->proto)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    memcpy(ph->proto, o, n * sizeof *o);
    ph->norgans = n;
    return HM_OK;
}

int hm_dose_library_create(const hm_dose_grid *g, const hm_dose_library_params *p, hm_dose_library **out,
                           hm_error *err)
{
    *out = NULL;
    int rc = hm_dose_grid_check(g, err);
    if (rc)
        return rc;
    hm_dose_library *lib = calloc(1, sizeof *lib);
    if (!lib)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    pthread_mutex_init(&lib->d2_lock, NULL);
    lib->grid = *g;
    lib->nnodes = hm_dose_grid_nodes(g);
    lib->info.format_version = lib_format_version(g);
    snprintf(lib->info.harmonic_version, sizeof lib->info.harmonic_version, "%s", HM_VERSION_STRING);
    lib_engine_text(lib->info.engine, sizeof lib->info.engine);
    lib->info.histories_per_node = p->histories_per_node;
    lib->info.seed = p->seed;
    lib->info.voxel_mm = p->voxel_mm;
    *out = lib;
    return HM_OK;
}

int hm_dose_library_set_node(hm_dose_library *lib, size_t phantom, size_t node, const hm_dosimetry_result *r,
                             hm_error *err)
{
    if (phantom >= lib->grid.nphantoms || node >= lib->nnodes)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "node", "phantom %zu node %zu outside the grid", phantom, node);
    lib_phantom *ph = &lib->ph[phantom];
    int rc;
    if (!ph->proto && (rc = lib_set_organs(ph, r->organs, r->n, err)))
        return rc;
    if (r->n != ph->norgans)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "organ", "node %zu has %zu organs, the phantom's first node %zu",
                            node, r->n, ph->norgans);
    for (size_t j = 0; j < r->n; j++)
        if (strcmp(r->organs[j].organ, ph->proto[j].organ))
            return hm_error_set(err, HM_EINVAL, NULL, 0, "organ", "node %zu: organ %zu is %s, expected %s", node, j,
                                r->organs[j].organ, ph->proto[j].organ);
    if ((rc = lib_reserve(ph, lib->nnodes, err)))
        return rc;
    for (size_t j = 0; j < r->n; j++) {
        ph->dose[node * ph->norgans + j] = r->organs[j].dose_mgy_per_gy_cm2;
        ph->sigma[node * ph->norgans + j] = r->organs[j].sigma_mgy_per_gy_cm2;
    }
    ph->set[node] = 1;
    lib_d2_free(lib);
    return HM_OK;
}

void hm_dose_library_free(hm_dose_library *lib)
{
    if (!lib)
        return;
    lib_d2_free(lib);
    pthread_mutex_destroy(&lib->d2_lock);
    for (size_t i = 0; i < HM_DOSE_MAX_PHANTOMS; i++) {
        free(lib->ph[i].proto);
        free(lib->ph[i].dose);
        free(lib->ph[i].sigma);
        free(lib->ph[i].set);
    }
    free(lib);
}

/* ---- writing --------------------------------------------------------------- */

typedef struct writer {
    FILE    *fp;       /* NULL: hash only */
    uint64_t hash;
    int      failed;
} writer;

/* One line; hashed unless `unhashed`. */
__attribute__((format(printf, 3, 4)))
static void put(writer *w, int unhashed, const char *fmt, ...)
{
    char buf[LIB_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof buf - 1) {
        w->failed = 1;
        return;
    }
    buf[n++] = '\n';
    if (!unhashed)
        w->hash = lib_fnv1a(w->hash, buf, (size_t)n);
    if (w->fp && fwrite(buf, 1, (size_t)n, w->fp) != (size_t)n)
        w->failed = 1;
}

static void write_all(writer *w, const hm_dose_library *lib)
{
    const hm_dose_library_info *in = &lib->info;
    const hm_dose_grid *g = &lib->grid;
    put(w, 0, "%s (docs/dosimetry.md)", LIB_MAGIC);
    put(w, 0, "# format_version,%d", in->format_version);
    put(w, 1, "# library_id,%s", in->library_id);
    put(w, 1, "# created,%s", in->created);
    put(w, 0, "# harmonic_version,%s", in->harmonic_version);
    put(w, 0, "# engine,%s", in->engine);
    put(w, 0, "# histories_per_node,%lld", in->histories_per_node);
    put(w, 0, "# seed,%llu", (unsigned long long)in->seed);
    put(w, 0, "# voxel_mm,%.10g", in->voxel_mm);
    char line[LIB_LINE_MAX];
    int r;
    for (size_t i = 0; (r = lib_grid_line(g, i, line, sizeof line)) != 0; i++) {
        if (r < 0)
            w->failed = 1;
        else
            put(w, 0, "# %s", line);
    }
    char name[32];
    for (size_t p = 0; p < g->nphantoms; p++) {
        hm_dose_phantom_name(&g->phantoms[p], name, sizeof name);
        for (size_t j = 0; j < lib->ph[p].norgans; j++) {
            const hm_organ_dose *o = &lib->ph[p].proto[j];
            put(w, 0, "# organ,%s,%s,%.10g,%d", name, o->organ, o->mass_g, o->present);
        }
    }
    put(w, 0, "%s", LIB_COLUMNS);
    for (size_t p = 0; p < g->nphantoms; p++) {
        const lib_phantom *ph = &lib->ph[p];
        hm_dose_phantom_name(&g->phantoms[p], name, sizeof name);
        for (size_t k = 0; k < lib->nnodes; k++) {
            double x[HM_DOSE_NAXES];
            hm_dose_grid_node_coords(g, k, x);
            for (size_t j = 0; j < ph->norgans; j++)
                put(w, 0, "%s,%zu,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%s,%.7g,%.4g", name, k, x[0], x[1], x[2],
                    x[3], x[4], x[5], x[6], ph->proto[j].organ, ph->dose[k * ph->norgans + j],
                    ph->sigma[k * ph->norgans + j]);
        }
    }
}

static void utc_now(char *buf, size_t size)
{
    /* SOURCE_DATE_EPOCH (reproducible-builds.org) pins the date for
     * byte-identical files. */
    const char *e = getenv("SOURCE_DATE_EPOCH");
    time_t t = e && *e ? (time_t)strtoll(e, NULL, 10) : time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, size, "unknown");
}

int hm_dose_library_save(hm_dose_library *lib, const char *path, hm_error *err)
{
    for (size_t p = 0; p < lib->grid.nphantoms; p++)
        for (size_t k = 0; k < lib->nnodes; k++)
            if (!lib->ph[p].set || !lib->ph[p].set[k])
                return hm_error_set(err, HM_EINVAL, path, 0, "node", "phantom %zu node %zu has no result yet", p, k);
    /* Pass 1: the id; pass 2: the file. */
    writer w = { NULL, LIB_FNV_OFFSET, 0 };
    snprintf(lib->info.library_id, sizeof lib->info.library_id, "pending");
    write_all(&w, lib);
    snprintf(lib->info.library_id, sizeof lib->info.library_id, "fnv1a64:%016llx", (unsigned long long)w.hash);
    if (!lib->info.created[0])
        utc_now(lib->info.created, sizeof lib->info.created);
    char tmp[1100];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return hm_error_set(err, HM_EINVAL, path, 0, NULL, "path too long");
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        return hm_error_set(err, HM_EIO, tmp, 0, NULL, "cannot create: %s", strerror(errno));
    writer out = { fp, LIB_FNV_OFFSET, 0 };
    write_all(&out, lib);
    int bad = out.failed | ferror(fp);
    bad |= fclose(fp) != 0;
    if (bad || out.hash != w.hash) {
        remove(tmp);
        return hm_error_set(err, HM_EIO, tmp, 0, NULL, "writing failed (disk full?)");
    }
    if (rename(tmp, path)) {
        int e = errno;
        remove(tmp);
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot rename %s to it: %s", tmp, strerror(e));
    }
    return HM_OK;
}

/* ---- reading --------------------------------------------------------------- */

typedef struct reader {
    const char           *name;
    long                  line;
    hm_dose_library      *lib;
    hm_dose_library_params prm;
    unsigned              seen;     /* bits of the required header keys */
    uint64_t              hash;
    size_t                p, k, j;  /* the row expected next */
} reader;

enum { SEEN_VERSION = 1, SEEN_ID = 2, SEEN_CREATED = 4, SEEN_HVER = 8, SEEN_ENGINE = 16, SEEN_HIST = 32,
       SEEN_SEED = 64, SEEN_VOXEL = 128, SEEN_PHANTOMS = 256, SEEN_AXES = 512 /* + axis */ };
static const char *const seen_names[] = { "format_version", "library_id", "created", "harmonic_version", "engine",
                                          "histories_per_node", "seed", "voxel_mm", "phantoms" };

/* Reads one line into buf (without the line end); 1, 0 at end of file, or an error. */
static int read_line(FILE *fp, char *buf, size_t size, reader *rd, hm_error *err)
{
    size_t n = 0;
    int c;
    while ((c = getc(fp)) != EOF && c != '\n') {
        if (c == 0)
            return hm_error_set(err, HM_EPARSE, rd->name, rd->line + 1, NULL, "NUL byte: not a text file");
        if (n + 1 >= size)
            return hm_error_set(err, HM_EPARSE, rd->name, rd->line + 1, NULL, "line longer than %zu characters",
                                size - 1);
        buf[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return ferror(fp) ? hm_error_set(err, HM_EIO, rd->name, rd->line, NULL, "read error") : 0;
    if (n && buf[n - 1] == '\r')
        n--;
    buf[n] = 0;
    rd->line++;
    return 1;
}

static int find_phantom(const hm_dose_grid *g, const char *name, size_t *p)
{
    char nm[32];
    for (size_t i = 0; i < g->nphantoms; i++) {
        hm_dose_phantom_name(&g->phantoms[i], nm, sizeof nm);
        if (!strcmp(nm, name)) {
            *p = i;
            return 1;
        }
    }
    return 0;
}

static int split(char *s, char **f, int max)
{
    int n = 0;
    f[n++] = s;
    for (char *c = s; *c; c++)
        if (*c == ',') {
            if (n == max)
                return max + 1;
            *c = 0;
            f[n++] = c + 1;
        }
    return n;
}

static int organ_line(reader *rd, char *value, hm_error *err)
{
    hm_dose_library *lib = rd->lib;
    char *f[5];
    if (!(rd->seen & SEEN_PHANTOMS))
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "organ", "organ lines must follow the phantoms line");
    if (split(value, f, 4) != 4)
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "organ", "expected organ,PHANTOM,ORGAN,MASS_G,PRESENT");
    size_t p;
    if (!find_phantom(&lib->grid, f[0], &p))
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "organ", "phantom '%s' is not in the phantoms line", f[0]);
    lib_phantom *ph = &lib->ph[p];
    if (!*f[1] || strlen(f[1]) >= sizeof ph->proto[0].organ)
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "organ", "organ id empty or longer than 31 characters");
    char *end;
    double m = strtod(f[2], &end);
    if (end == f[2] || *end || !isfinite(m) || m < 0)
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "mass_g", "'%s' is not a mass >= 0", f[2]);
    if (strcmp(f[3], "0") && strcmp(f[3], "1"))
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "present", "expected 0 or 1, got '%s'", f[3]);
    if (ph->norgans == LIB_MAX_ORGANS)
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "organ", "more than %d organs", LIB_MAX_ORGANS);
    for (size_t j = 0; j < ph->norgans; j++)
        if (!strcmp(ph->proto[j].organ, f[1]))
            return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "organ", "%s listed twice for %s", f[1], f[0]);
    hm_organ_dose *np = realloc(ph->proto, (ph->norgans + 1) * sizeof *np);
    if (!np)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    ph->proto = np;
    hm_organ_dose *o = &ph->proto[ph->norgans++];
    memset(o, 0, sizeof *o);
    snprintf(o->organ, sizeof o->organ, "%s", f[1]);
    o->mass_g = m;
    o->present = f[3][0] == '1';
    return HM_OK;
}

static int header_line(reader *rd, char *text, hm_error *err)
{
    hm_dose_library *lib = rd->lib;
    if (strncmp(text, "# ", 2))
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, NULL, "expected '# key,value'");
    char *key = text + 2, *comma = strchr(key, ',');
    if (!comma)
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, NULL, "expected '# key,value'");
    *comma = 0;
    char *value = comma + 1;
    hm_dose_library_info *in = &lib->info;
    if (!strcmp(key, "organ"))
        return organ_line(rd, value, err);
    for (size_t i = 0; i < sizeof seen_names / sizeof seen_names[0]; i++)
        if (!strcmp(key, seen_names[i])) {
            if (rd->seen & (1u << i))
                return hm_error_set(err, HM_EPARSE, rd->name, rd->line, key, "given twice");
            rd->seen |= 1u << i;
        }
    for (int a = 0; a < HM_DOSE_NAXES; a++)
        if (!strcmp(key, hm_dose_axis_name(a))) {
            if (rd->seen & ((unsigned)SEEN_AXES << a))
                return hm_error_set(err, HM_EPARSE, rd->name, rd->line, key, "given twice");
            rd->seen |= (unsigned)SEEN_AXES << a;
        }
    if (!strcmp(key, "format_version")) {
        char *end;
        long v = strtol(value, &end, 10);
        if (end == value || *end || v < 1)
            return hm_error_set(err, HM_EPARSE, rd->name, rd->line, key, "expected a version number, got '%.40s'", value);
        if (v > LIB_FORMAT_VERSION)
            return hm_error_set(err, HM_EUNSUPPORTED, rd->name, rd->line, key,
                                "format %ld is newer than this harmonic reads (%d): update harmonic or rebuild the library",
                                v, LIB_FORMAT_VERSION);
        in->format_version = (int)v;
        return HM_OK;
    }
    struct { const char *key; char *dst; size_t size; } text_keys[] = {
        { "library_id", in->library_id, sizeof in->library_id },
        { "created", in->created, sizeof in->created },
        { "harmonic_version", in->harmonic_version, sizeof in->harmonic_version },
        { "engine", in->engine, sizeof in->engine } };
    for (size_t i = 0; i < sizeof text_keys / sizeof text_keys[0]; i++)
        if (!strcmp(key, text_keys[i].key)) {
            if (strlen(value) >= text_keys[i].size)
                return hm_error_set(err, HM_EPARSE, rd->name, rd->line, key, "longer than %zu characters",
                                    text_keys[i].size - 1);
            memcpy(text_keys[i].dst, value, strlen(value) + 1);
            return HM_OK;
        }
    return lib_grid_set(&lib->grid, &rd->prm, key, value, rd->name, rd->line, err);
}

/* The column line: every header key given, the grid valid, organs listed. */
static int header_done(reader *rd, hm_error *err)
{
    hm_dose_library *lib = rd->lib;
    for (size_t i = 0; i < sizeof seen_names / sizeof seen_names[0]; i++)
        if (!(rd->seen & (1u << i)))
            return hm_error_set(err, HM_EPARSE, rd->name, rd->line, seen_names[i], "header key missing");
    for (int a = 0; a < HM_DOSE_NAXES; a++)
        if (!(rd->seen & ((unsigned)SEEN_AXES << a)))
            return hm_error_set(err, HM_EPARSE, rd->name, rd->line, hm_dose_axis_name(a), "header axis missing");
    int rc = hm_dose_grid_check(&lib->grid, err);
    if (rc) {
        err->line = rd->line;
        snprintf(err->file, sizeof err->file, "%s", rd->name);
        return HM_EPARSE;
    }
    if (lib->info.format_version < lib_format_version(&lib->grid))
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "format_version",
                            "format %d has no scaled phantoms (AGE:SEX:SCALE needs format 2)",
                            lib->info.format_version);
    lib->nnodes = hm_dose_grid_nodes(&lib->grid);
    lib->info.histories_per_node = rd->prm.histories_per_node;
    lib->info.seed = rd->prm.seed;
    lib->info.voxel_mm = rd->prm.voxel_mm;
    char nm[32];
    for (size_t p = 0; p < lib->grid.nphantoms; p++)
        if (!lib->ph[p].norgans) {
            hm_dose_phantom_name(&lib->grid.phantoms[p], nm, sizeof nm);
            return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "organ", "no organ lines for phantom %s", nm);
        }
    return HM_OK;
}

static int num_field(reader *rd, const char *s, const char *field, double lo, double *x, hm_error *err)
{
    char *end;
    *x = strtod(s, &end);
    if (end == s || *end || !isfinite(*x) || *x < lo)
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, field, "'%.40s' is not a number >= %g", s, lo);
    return HM_OK;
}

static int data_line(reader *rd, char *text, hm_error *err)
{
    hm_dose_library *lib = rd->lib;
    const hm_dose_grid *g = &lib->grid;
    if (rd->p >= g->nphantoms)
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, NULL, "row after the last node of the last phantom");
    lib_phantom *ph = &lib->ph[rd->p];
    char *f[LIB_NCOLUMNS + 1];
    int n = split(text, f, LIB_NCOLUMNS);
    if (n != LIB_NCOLUMNS)
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, NULL, "expected %d fields, got %s%d", LIB_NCOLUMNS,
                            n > LIB_NCOLUMNS ? "more than " : "", n > LIB_NCOLUMNS ? LIB_NCOLUMNS : n);
    char nm[32];
    hm_dose_phantom_name(&g->phantoms[rd->p], nm, sizeof nm);
    if (strcmp(f[0], nm))
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "phantom", "expected %s, got '%.40s'", nm, f[0]);
    char want[32];
    snprintf(want, sizeof want, "%zu", rd->k);
    if (strcmp(f[1], want))
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "node", "expected node %s, got '%.40s'", want, f[1]);
    double x[HM_DOSE_NAXES], v;
    hm_dose_grid_node_coords(g, rd->k, x);
    int rc;
    for (int a = 0; a < HM_DOSE_NAXES; a++) {
        if ((rc = num_field(rd, f[2 + a], hm_dose_axis_name(a), -1e300, &v, err)))
            return rc;
        if (fabs(v - x[a]) > 1e-8 * fmax(1, fabs(x[a])))
            return hm_error_set(err, HM_EPARSE, rd->name, rd->line, hm_dose_axis_name(a),
                                "%g is not node %zu's value %g of the header's axis", v, rd->k, x[a]);
    }
    if (strcmp(f[9], ph->proto[rd->j].organ))
        return hm_error_set(err, HM_EPARSE, rd->name, rd->line, "organ", "expected %s (the organ lines' order), got '%.40s'",
                            ph->proto[rd->j].organ, f[9]);
    double d, s;
    if ((rc = num_field(rd, f[10], "dose_mgy_per_gy_cm2", 0, &d, err)) ||
        (rc = num_field(rd, f[11], "sigma_mgy_per_gy_cm2", 0, &s, err)))
        return rc;
    if ((rc = lib_reserve(ph, rd->k + 1, err)))
        return rc;
    ph->dose[rd->k * ph->norgans + rd->j] = d;
    ph->sigma[rd->k * ph->norgans + rd->j] = s;
    if (++rd->j == ph->norgans) {
        ph->set[rd->k] = 1;
        rd->j = 0;
        if (++rd->k == lib->nnodes) {
            rd->k = 0;
            rd->p++;
        }
    }
    return HM_OK;
}

int hm_dose_library_read(FILE *fp, const char *name, hm_dose_library **out, hm_error *err)
{
    *out = NULL;
    reader rd;
    memset(&rd, 0, sizeof rd);
    rd.name = name;
    rd.hash = LIB_FNV_OFFSET;
    hm_dose_library_params_default(&rd.prm);
    rd.lib = calloc(1, sizeof *rd.lib);
    if (!rd.lib)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    pthread_mutex_init(&rd.lib->d2_lock, NULL);
    rd.lib->grid.anode_angle_deg = 12;
    rd.lib->grid.source_isocentre_cm = 75;
    rd.lib->grid.primary_periodic = 1;
    char *buf = malloc(LIB_LINE_MAX);
    if (!buf) {
        hm_dose_library_free(rd.lib);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    int rc, in_header = 1;
    while ((rc = read_line(fp, buf, LIB_LINE_MAX, &rd, err)) > 0) {
        size_t len = strlen(buf);
        int unhashed = !strncmp(buf, "# library_id,", 13) || !strncmp(buf, "# created,", 10);
        if (!unhashed) {
            rd.hash = lib_fnv1a(rd.hash, buf, len);
            rd.hash = lib_fnv1a(rd.hash, "\n", 1);
        }
        if (rd.line == 1) {
            if (strncmp(buf, LIB_MAGIC, strlen(LIB_MAGIC))) {
                rc = hm_error_set(err, HM_EPARSE, name, 1, NULL,
                                  "not a harmonic dose library (first line must start '%s')", LIB_MAGIC);
                break;
            }
        } else if (in_header && buf[0] == '#') {
            if ((rc = header_line(&rd, buf, err)))
                break;
        } else if (in_header) {
            if (strcmp(buf, LIB_COLUMNS)) {
                rc = hm_error_set(err, HM_EPARSE, name, rd.line, NULL, "expected the column line '%s'", LIB_COLUMNS);
                break;
            }
            if ((rc = header_done(&rd, err)))
                break;
            in_header = 0;
        } else if ((rc = data_line(&rd, buf, err))) {
            break;
        }
    }
    free(buf);
    if (!rc && in_header)
        rc = hm_error_set(err, HM_EPARSE, name, rd.line, NULL, "%s", rd.line ? "no column line and no rows: truncated header"
                                                                              : "empty file");
    if (!rc && rd.p < rd.lib->grid.nphantoms) {
        char nm[32];
        hm_dose_phantom_name(&rd.lib->grid.phantoms[rd.p], nm, sizeof nm);
        rc = hm_error_set(err, HM_EPARSE, name, rd.line + 1, NULL,
                          "the file ends before phantom %s node %zu organ %s: truncated library, rebuild it", nm, rd.k,
                          rd.lib->ph[rd.p].proto[rd.j].organ);
    }
    if (!rc) {
        char id[40];
        snprintf(id, sizeof id, "fnv1a64:%016llx", (unsigned long long)rd.hash);
        if (strcmp(id, rd.lib->info.library_id))
            rc = hm_error_set(err, HM_EVALIDATE, name, 0, "library_id",
                              "the content hash is %s, the header says %s: the file was changed or damaged; rebuild it",
                              id, rd.lib->info.library_id);
    }
    /* The interpolation tables and the cross-validation term, once
     * (library_loo.c; well under a second for the default library). */
    if (!rc)
        rc = lib_tables_make(rd.lib, err);
    if (rc) {
        hm_dose_library_free(rd.lib);
        return rc;
    }
    *out = rd.lib;
    return HM_OK;
}

int hm_dose_library_load(const char *path, hm_dose_library **out, hm_error *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot open: %s", strerror(errno));
    int rc = hm_dose_library_read(fp, path, out, err);
    fclose(fp);
    return rc;
}
