/*
 * icrp110.c — reading and writing voxel phantoms in the ICRP Publication 110
 * layout (also used by ICRP 143): organ ids as ASCII integers, column (x,
 * right->left) fastest, then row (y, front->back), then slice (z, toes->head);
 * an organ list "id name... medium density"; a media list "number name
 * fractions..." (ICRP 110 elements H C N O Na Mg P S Cl K Ca Fe I, in percent).
 * And a generic raw + header format (header keys in hm_phantom.h).
 */
#include "hm_phantom.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const elements[] = {
    "", "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S",
    "Cl", "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge",
    "As", "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd",
    "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd",
    "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg",
    "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U" };
#define NEL ((int)(sizeof elements / sizeof elements[0]))

static int element_z(const char *sym)
{
    for (int z = 1; z < NEL; z++)
        if (!strcmp(elements[z], sym))
            return z;
    return 0;
}

/* Splits a line into at most max whitespace-separated tokens (in place). */
static int split(char *line, char **tok, int max)
{
    int n = 0;
    for (char *s = strtok(line, " \t\r\n,"); s && n < max; s = strtok(NULL, " \t\r\n,"))
        tok[n++] = s;
    return n;
}

static int parse_long(const char *s, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return end != s && !*end && !errno;
}

static int parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && !*end && !errno && isfinite(*v);
}

typedef struct media_list {
    int n;
    long number[256];
    hm_phantom_medium m[256];
} media_list;

static int read_media(const char *path, media_list *ml, hm_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot open media file: %s", strerror(errno));
    static const char *icrp[] = { "H", "C", "N", "O", "Na", "Mg", "P", "S", "Cl", "K", "Ca", "Fe", "I" };
    int z[HM_PHANTOM_MAX_ELEMENTS], nel = 13;
    for (int i = 0; i < 13; i++)
        z[i] = element_z(icrp[i]);
    char line[4096], *tok[128];
    long ln = 0;
    int rc = HM_OK;
    ml->n = 0;
    while (fgets(line, sizeof line, fp)) {
        ln++;
        int nt = split(line, tok, 128);
        long num;
        if (nt == 0 || tok[0][0] == '#')
            continue;
        if (!parse_long(tok[0], &num)) {
            /* A header: the element symbols it names set the columns. */
            int k = 0, zz[HM_PHANTOM_MAX_ELEMENTS];
            for (int i = 0; i < nt && k < HM_PHANTOM_MAX_ELEMENTS; i++)
                if (element_z(tok[i]))
                    zz[k++] = element_z(tok[i]);
            if (k > 0) {
                nel = k;
                memcpy(z, zz, sizeof(int) * (size_t)k);
            }
            continue;
        }
        if (nt < nel + 2) {
            rc = hm_error_set(err, HM_EPARSE, path, ln, NULL, "expected number, name and %d fractions", nel);
            break;
        }
        if (ml->n >= 256) {
            rc = hm_error_set(err, HM_EPARSE, path, ln, NULL, "more than 256 media");
            break;
        }
        hm_phantom_medium *m = &ml->m[ml->n];
        memset(m, 0, sizeof *m);
        /* The name is everything between the number and the fractions. */
        m->name[0] = 0;
        for (int i = 1; i < nt - nel; i++) {
            size_t l = strlen(m->name);
            snprintf(m->name + l, sizeof m->name - l, "%s%s", i > 1 ? " " : "", tok[i]);
        }
        double sum = 0;
        for (int i = 0; i < nel; i++) {
            double w;
            if (!parse_double(tok[nt - nel + i], &w) || w < 0) {
                rc = hm_error_set(err, HM_EPARSE, path, ln, elements[z[i]], "'%s' is not a fraction >= 0", tok[nt - nel + i]);
                break;
            }
            if (w > 0) {
                m->z[m->nelements] = z[i];
                m->mass_fraction[m->nelements++] = w;
                sum += w;
            }
        }
        if (rc)
            break;
        if (sum <= 0) {
            rc = hm_error_set(err, HM_EVALIDATE, path, ln, NULL, "medium %ld has no elements", num);
            break;
        }
        for (int i = 0; i < m->nelements; i++)
            m->mass_fraction[i] /= sum;
        ml->number[ml->n++] = num;
    }
    fclose(fp);
    if (!rc && ml->n == 0)
        rc = hm_error_set(err, HM_EPARSE, path, 0, NULL, "no media found");
    return rc;
}

/* Organ list: fills v->regions (ids 1..max id) and v->media. */
static int read_organs(const char *path, const media_list *ml, hm_voxel_phantom *v, hm_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot open organ file: %s", strerror(errno));
    char line[4096], *tok[64];
    long ln = 0;
    int rc = HM_OK, maxid = 0;
    v->regions = calloc(65536, sizeof *v->regions);
    if (!v->regions) {
        fclose(fp);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    for (int i = 0; i < 65536; i++)
        v->regions[i].medium = -2;   /* "not listed" */
    while (fgets(line, sizeof line, fp)) {
        ln++;
        int nt = split(line, tok, 64);
        long id, med;
        double rho;
        if (nt == 0 || tok[0][0] == '#' || !parse_long(tok[0], &id))
            continue;   /* blank, comment or header line */
        if (nt < 4 || !parse_long(tok[nt - 2], &med) || !parse_double(tok[nt - 1], &rho)) {
            rc = hm_error_set(err, HM_EPARSE, path, ln, NULL, "expected 'id name... medium density'");
            break;
        }
        if (id < 1 || id > 65535) {
            rc = hm_error_set(err, HM_EPARSE, path, ln, "id", "organ id %ld out of range 1..65535", id);
            break;
        }
        if (!(rho > 0 && rho < 25)) {
            rc = hm_error_set(err, HM_EVALIDATE, path, ln, "density", "density %g g/cm3 out of range", rho);
            break;
        }
        int mi = -1;
        for (int i = 0; i < ml->n; i++)
            if (ml->number[i] == med)
                mi = i;
        if (mi < 0) {
            rc = hm_error_set(err, HM_EVALIDATE, path, ln, "medium", "medium %ld is not in the media file", med);
            break;
        }
        hm_phantom_region *r = &v->regions[id];
        memset(r, 0, sizeof *r);
        for (int i = 1; i < nt - 2; i++) {
            size_t l = strlen(r->name);
            snprintf(r->name + l, sizeof r->name - l, "%s%s", i > 1 ? " " : "", tok[i]);
        }
        r->medium = mi;
        r->density_g_cm3 = rho;
        if (id > maxid)
            maxid = (int)id;
    }
    fclose(fp);
    if (!rc && maxid == 0)
        rc = hm_error_set(err, HM_EPARSE, path, 0, NULL, "no organs found");
    if (rc)
        return rc;
    v->nregions = maxid;
    hm_phantom_region *shrunk = realloc(v->regions, sizeof *shrunk * (size_t)(maxid + 1));
    if (shrunk)
        v->regions = shrunk;
    snprintf(v->regions[0].name, sizeof v->regions[0].name, "outside");
    v->regions[0].medium = -1;
    v->nmedia = ml->n;
    v->media = malloc(sizeof *v->media * (size_t)ml->n);
    if (!v->media)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    memcpy(v->media, ml->m, sizeof *v->media * (size_t)ml->n);
    return HM_OK;
}

/* harmonic's map: "kind,id,organs,site" rows: region rows, plus age and sex. */
static int read_map(const char *path, hm_voxel_phantom *v, hm_error *err)
{
    hm_csv *csv = hm_csv_open(path, 1, err);
    if (!csv)
        return err ? err->code : HM_EIO;
    char **f;
    size_t nf;
    int rc;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        if (nf >= 1 && !strcmp(f[0], "kind"))
            continue;
        if (nf < 2) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), NULL, "expected kind,id,organs,site");
            break;
        }
        if (!strcmp(f[0], "age")) {
            const char *a = hm_phantom_age_name(f[1]);
            snprintf(v->age, sizeof v->age, "%s", a ? a : "");
            continue;
        }
        if (!strcmp(f[0], "sex")) {
            v->sex = (f[1][0] == 'M' || f[1][0] == 'F' || f[1][0] == 'H') ? f[1][0] : 0;
            continue;
        }
        long id;
        if (strcmp(f[0], "region") || nf < 4 || !parse_long(f[1], &id) || id < 1 || id > v->nregions) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), "id",
                              "expected 'region,ID,organs,site' with ID in the organ list");
            break;
        }
        snprintf(v->regions[id].organs, sizeof v->regions[id].organs, "%s", f[2]);
        snprintf(v->regions[id].site, sizeof v->regions[id].site, "%s", f[3]);
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : HM_OK;
}

static int check_ids(const char *path, hm_voxel_phantom *v, hm_error *err)
{
    size_t n = (size_t)v->nx * v->ny * v->nz;
    for (size_t i = 0; i < n; i++)
        if (v->ids[i] && (v->ids[i] > v->nregions || v->regions[v->ids[i]].medium == -2))
            return hm_error_set(err, HM_EVALIDATE, path, (long)(i + 1), "id",
                                "voxel %zu (x %zu, y %zu, z %zu) has organ id %u, not in the organ list", i,
                                i % (size_t)v->nx, (i / (size_t)v->nx) % (size_t)v->ny,
                                i / ((size_t)v->nx * v->ny), v->ids[i]);
    for (int r = 1; r <= v->nregions; r++)
        if (v->regions[r].medium == -2)
            v->regions[r].medium = -1;
    return HM_OK;
}

static int check_dims(int nx, int ny, int nz, const double voxel_mm[3], hm_error *err)
{
    if (nx < 1 || ny < 1 || nz < 1 || (double)nx * ny * nz > 4e8)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "dims", "grid %d x %d x %d out of range", nx, ny, nz);
    for (int d = 0; d < 3; d++)
        if (!(voxel_mm[d] > 0 && voxel_mm[d] < 1000))
            return hm_error_set(err, HM_EINVAL, NULL, 0, "voxel_mm", "voxel size must be > 0");
    return HM_OK;
}

int hm_voxel_phantom_read_icrp110(const char *ids_path, const char *organs_path, const char *media_path,
                                  const char *map_path, int nx, int ny, int nz, const double voxel_mm[3],
                                  hm_voxel_phantom *v, hm_error *err)
{
    memset(v, 0, sizeof *v);
    int rc = check_dims(nx, ny, nz, voxel_mm, err);
    if (rc)
        return rc;
    media_list *ml = malloc(sizeof *ml);
    if (!ml)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    rc = read_media(media_path, ml, err);
    if (!rc)
        rc = read_organs(organs_path, ml, v, err);
    free(ml);
    if (!rc && map_path)
        rc = read_map(map_path, v, err);
    if (rc) {
        hm_voxel_phantom_free(v);
        return rc;
    }
    v->nx = nx; v->ny = ny; v->nz = nz;
    for (int d = 0; d < 3; d++) {
        v->voxel_cm[d] = voxel_mm[d] / 10.0;
        v->origin_cm[d] = 0;
    }
    /* Centre the grid laterally, feet at z = 0. */
    v->origin_cm[0] = -0.5 * nx * v->voxel_cm[0];
    v->origin_cm[1] = -0.5 * ny * v->voxel_cm[1];
    size_t n = (size_t)nx * ny * nz;
    v->ids = malloc(n * sizeof *v->ids);
    FILE *fp = v->ids ? fopen(ids_path, "r") : NULL;
    if (!fp) {
        rc = v->ids ? hm_error_set(err, HM_EIO, ids_path, 0, NULL, "cannot open: %s", strerror(errno))
                    : hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        hm_voxel_phantom_free(v);
        return rc;
    }
    /* A hand-rolled integer scanner: the files are large (7 M voxels). */
    size_t k = 0;
    long line = 1, val = -1;
    int c;
    while ((c = getc(fp)) != EOF) {
        if (c >= '0' && c <= '9') {
            val = (val < 0 ? 0 : val) * 10 + (c - '0');
            if (val > 65535) {
                rc = hm_error_set(err, HM_EPARSE, ids_path, line, "id", "organ id too large at value %zu", k + 1);
                break;
            }
            continue;
        }
        if (val >= 0) {
            if (k >= n) {
                rc = hm_error_set(err, HM_EPARSE, ids_path, line, NULL, "more than %d x %d x %d = %zu values", nx, ny, nz, n);
                break;
            }
            v->ids[k++] = (uint16_t)val;
            val = -1;
        }
        if (c == '\n')
            line++;
        else if (!isspace(c) && c != ',') {
            rc = hm_error_set(err, HM_EPARSE, ids_path, line, NULL, "unexpected character '%c' (expected organ ids)", c);
            break;
        }
    }
    if (!rc && val >= 0) {
        if (k < n) v->ids[k++] = (uint16_t)val;
        else rc = hm_error_set(err, HM_EPARSE, ids_path, line, NULL, "more than %zu values", n);
    }
    fclose(fp);
    if (!rc && k != n)
        rc = hm_error_set(err, HM_EPARSE, ids_path, line, NULL, "found %zu organ ids, expected %d x %d x %d = %zu",
                          k, nx, ny, nz, n);
    if (!rc)
        rc = check_ids(ids_path, v, err);
    if (rc) {
        hm_voxel_phantom_free(v);
        return rc;
    }
    hm_voxel_phantom_count_masses(v);
    return HM_OK;
}

/* ---- writing ---------------------------------------------------------------- */

static int write_side_files(const hm_voxel_phantom *v, const char *prefix, hm_error *err)
{
    char path[1024];
    /* Media: a header with the union of the elements, fractions in percent. */
    int used[NEL] = { 0 }, zlist[NEL], nz = 0;
    for (int m = 0; m < v->nmedia; m++)
        for (int i = 0; i < v->media[m].nelements; i++)
            if (v->media[m].z[i] > 0 && v->media[m].z[i] < NEL)
                used[v->media[m].z[i]] = 1;
    for (int z = 1; z < NEL; z++)
        if (used[z])
            zlist[nz++] = z;
    if (nz > HM_PHANTOM_MAX_ELEMENTS)
        return hm_error_set(err, HM_EUNSUPPORTED, prefix, 0, NULL, "more than %d elements", HM_PHANTOM_MAX_ELEMENTS);
    snprintf(path, sizeof path, "%s_media.dat", prefix);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write: %s", strerror(errno));
    fprintf(fp, "Medium Name");
    for (int i = 0; i < nz; i++)
        fprintf(fp, " %s", elements[zlist[i]]);
    fprintf(fp, "\n");
    for (int m = 0; m < v->nmedia; m++) {
        fprintf(fp, "%d %s", m + 1, v->media[m].name);
        for (int i = 0; i < nz; i++) {
            double w = 0;
            for (int k = 0; k < v->media[m].nelements; k++)
                if (v->media[m].z[k] == zlist[i])
                    w = v->media[m].mass_fraction[k];
            fprintf(fp, " %.9g", 100.0 * w);
        }
        fprintf(fp, "\n");
    }
    if (fclose(fp))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
    snprintf(path, sizeof path, "%s_organs.dat", prefix);
    if (!(fp = fopen(path, "w")))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write: %s", strerror(errno));
    fprintf(fp, "Organ_ID Organ/Tissue Tissue_number Density\n");
    for (int r = 1; r <= v->nregions; r++)
        if (v->regions[r].medium >= 0)
            fprintf(fp, "%d %s %d %.9g\n", r, v->regions[r].name, v->regions[r].medium + 1, v->regions[r].density_g_cm3);
    if (fclose(fp))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
    snprintf(path, sizeof path, "%s_map.csv", prefix);
    if (!(fp = fopen(path, "w")))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write: %s", strerror(errno));
    fprintf(fp, "kind,id,organs,site\n");
    if (v->age[0])
        fprintf(fp, "age,%s,,\n", v->age);
    if (v->sex)
        fprintf(fp, "sex,%c,,\n", v->sex);
    for (int r = 1; r <= v->nregions; r++)
        if (v->regions[r].medium >= 0)
            fprintf(fp, "region,%d,%s,%s\n", r, v->regions[r].organs, v->regions[r].site);
    if (fclose(fp))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
    return HM_OK;
}

int hm_voxel_phantom_write_icrp110(const hm_voxel_phantom *v, const char *prefix, hm_error *err)
{
    int rc = write_side_files(v, prefix, err);
    if (rc)
        return rc;
    char path[1024];
    snprintf(path, sizeof path, "%s.dat", prefix);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write: %s", strerror(errno));
    size_t n = (size_t)v->nx * v->ny * v->nz;
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%u%c", v->ids[i], (i + 1) % 20 ? ' ' : '\n');
    fprintf(fp, "\n");
    if (fclose(fp))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
    return HM_OK;
}

int hm_voxel_phantom_write_raw(const hm_voxel_phantom *v, const char *prefix, hm_error *err)
{
    int rc = write_side_files(v, prefix, err);
    if (rc)
        return rc;
    char path[1024];
    const char *base = strrchr(prefix, '/');
    base = base ? base + 1 : prefix;
    snprintf(path, sizeof path, "%s.raw", prefix);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write: %s", strerror(errno));
    size_t n = (size_t)v->nx * v->ny * v->nz;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        unsigned char b[2] = { (unsigned char)(v->ids[i] & 0xff), (unsigned char)(v->ids[i] >> 8) };
        ok = fwrite(b, 1, 2, fp) == 2;
    }
    if (fclose(fp) || !ok)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
    snprintf(path, sizeof path, "%s.hdr", prefix);
    if (!(fp = fopen(path, "w")))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot write: %s", strerror(errno));
    fprintf(fp, "# harmonic raw voxel phantom\ndims %d %d %d\nvoxel_mm %.9g %.9g %.9g\n"
                "origin_cm %.9g %.9g %.9g\ntype uint16\ndata %s.raw\norgans %s_organs.dat\n"
                "media %s_media.dat\nmap %s_map.csv\n",
            v->nx, v->ny, v->nz, 10 * v->voxel_cm[0], 10 * v->voxel_cm[1], 10 * v->voxel_cm[2],
            v->origin_cm[0], v->origin_cm[1], v->origin_cm[2], base, base, base, base);
    if (v->age[0])
        fprintf(fp, "age %s\n", v->age);
    if (v->sex)
        fprintf(fp, "sex %c\n", v->sex);
    if (fclose(fp))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
    return HM_OK;
}

int hm_voxel_phantom_read_raw(const char *hdr, hm_voxel_phantom *v, hm_error *err)
{
    memset(v, 0, sizeof *v);
    FILE *fp = fopen(hdr, "r");
    if (!fp)
        return hm_error_set(err, HM_EIO, hdr, 0, NULL, "cannot open: %s", strerror(errno));
    char line[1024], *tok[8], data[512] = "", organs[512] = "", media[512] = "", map[512] = "", age[16] = "";
    int dims[3] = { 0, 0, 0 }, bytes = 0, have_origin = 0, rc = HM_OK;
    double vox[3] = { 0, 0, 0 }, org[3] = { 0, 0, 0 };
    char sex = 0;
    long ln = 0;
    while (fgets(line, sizeof line, fp) && !rc) {
        ln++;
        int nt = split(line, tok, 8);
        if (nt == 0 || tok[0][0] == '#')
            continue;
        const char *k = tok[0];
        if (!strcmp(k, "dims") && nt == 4) {
            for (int d = 0; d < 3; d++) {
                long x;
                if (!parse_long(tok[1 + d], &x) || x < 1 || x > 100000)
                    rc = hm_error_set(err, HM_EPARSE, hdr, ln, "dims", "expected three positive integers");
                else
                    dims[d] = (int)x;
            }
        } else if ((!strcmp(k, "voxel_mm") || !strcmp(k, "origin_cm")) && nt == 4) {
            double *dst = k[0] == 'v' ? vox : org;
            for (int d = 0; d < 3 && !rc; d++)
                if (!parse_double(tok[1 + d], &dst[d]))
                    rc = hm_error_set(err, HM_EPARSE, hdr, ln, k, "expected three numbers");
            have_origin |= k[0] == 'o';
        } else if (!strcmp(k, "type") && nt == 2) {
            bytes = !strcmp(tok[1], "uint8") ? 1 : !strcmp(tok[1], "uint16") ? 2 : 0;
            if (!bytes)
                rc = hm_error_set(err, HM_EPARSE, hdr, ln, "type", "expected uint8 or uint16, got '%s'", tok[1]);
        } else if (nt == 2 && (!strcmp(k, "data") || !strcmp(k, "organs") || !strcmp(k, "media") || !strcmp(k, "map"))) {
            char *dst = k[0] == 'd' ? data : k[0] == 'o' ? organs : k[1] == 'e' ? media : map;
            if (tok[1][0] == '/') {
                snprintf(dst, 512, "%s", tok[1]);
            } else {
                const char *slash = strrchr(hdr, '/');
                snprintf(dst, 512, "%.*s%s", slash ? (int)(slash - hdr + 1) : 0, hdr, tok[1]);
            }
        } else if (!strcmp(k, "age") && nt == 2) {
            snprintf(age, sizeof age, "%s", tok[1]);
        } else if (!strcmp(k, "sex") && nt == 2) {
            sex = tok[1][0];
        } else {
            rc = hm_error_set(err, HM_EPARSE, hdr, ln, k, "unknown or malformed header line");
        }
    }
    fclose(fp);
    if (rc)
        return rc;
    if (!dims[0] || !bytes || !data[0] || !organs[0] || !media[0])
        return hm_error_set(err, HM_EPARSE, hdr, 0, NULL, "header needs dims, voxel_mm, type, data, organs and media");
    if ((rc = check_dims(dims[0], dims[1], dims[2], vox, err)))
        return rc;
    media_list *ml = malloc(sizeof *ml);
    if (!ml)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    rc = read_media(media, ml, err);
    if (!rc)
        rc = read_organs(organs, ml, v, err);
    free(ml);
    if (!rc && map[0])
        rc = read_map(map, v, err);
    if (rc) {
        hm_voxel_phantom_free(v);
        return rc;
    }
    v->nx = dims[0]; v->ny = dims[1]; v->nz = dims[2];
    for (int d = 0; d < 3; d++) {
        v->voxel_cm[d] = vox[d] / 10;
        v->origin_cm[d] = have_origin ? org[d] : (d < 2 ? -0.5 * dims[d] * vox[d] / 10 : 0);
    }
    if (age[0]) {
        const char *a = hm_phantom_age_name(age);
        snprintf(v->age, sizeof v->age, "%s", a ? a : "");
    }
    if (sex)
        v->sex = sex;
    size_t n = (size_t)dims[0] * dims[1] * dims[2];
    v->ids = malloc(n * sizeof *v->ids);
    unsigned char *buf = malloc(n * (size_t)bytes);
    fp = buf && v->ids ? fopen(data, "rb") : NULL;
    if (!fp) {
        rc = buf && v->ids ? hm_error_set(err, HM_EIO, data, 0, NULL, "cannot open: %s", strerror(errno))
                           : hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    } else {
        size_t got = fread(buf, (size_t)bytes, n, fp);
        int extra = fgetc(fp) != EOF;
        fclose(fp);
        if (got != n || extra)
            rc = hm_error_set(err, HM_EPARSE, data, 0, NULL, "expected exactly %zu voxels of %d byte(s), file %s",
                              n, bytes, got != n ? "is shorter" : "is longer");
    }
    if (!rc) {
        for (size_t i = 0; i < n; i++)
            v->ids[i] = bytes == 1 ? buf[i] : (uint16_t)(buf[2 * i] | (buf[2 * i + 1] << 8));
        rc = check_ids(data, v, err);
    }
    free(buf);
    if (rc) {
        hm_voxel_phantom_free(v);
        return rc;
    }
    hm_voxel_phantom_count_masses(v);
    return HM_OK;
}
