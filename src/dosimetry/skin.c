/*
 * skin.c — skin dose maps on the surface of a voxel phantom, event by event
 * (hm_dosimetry.h, "skin dose"; method in docs/dosimetry.md, "Skin dose").
 *
 * The surface: rows of cell_cm along the body axis; in each row, cells by
 * angle around the centroid of the body in that slice, each placed where the
 * ray from the centroid leaves the body for the last time (the outline seen
 * from the body axis, as openSkin's unwrapped phantom).  Per event, a cell
 * gets dose when it lies inside the collimated field and the ray from the
 * focal spot reaches it before entering the body (voxel traversal,
 * Amanatides & Woo 1987, Eurographics '87: "A fast voxel traversal algorithm
 * for ray tracing"):
 *     D = K_rp (d_rp / d)^2 BSF f T
 * (inverse-square law from the reference point; BSF, f and T per event from
 * skin_factors.c; T only for rays that cross the table).
 */
#include "skin_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

static size_t vidx(const hm_voxel_phantom *v, int x, int y, int z)
{
    return (size_t)x + (size_t)v->nx * ((size_t)y + (size_t)v->ny * (size_t)z);
}

static int in_body(const hm_skin_map *m, const double q[3])
{
    const hm_voxel_phantom *v = m->v;
    int i[3], dims[3] = { v->nx, v->ny, v->nz };
    for (int d = 0; d < 3; d++) {
        double t = floor((q[d] - v->origin_cm[d]) / v->voxel_cm[d]);
        if (t < 0 || t >= dims[d])
            return 0;
        i[d] = (int)t;
    }
    return m->body[vidx(v, i[0], i[1], i[2])];
}

/* Towards the table, in the phantom frame, per patient position: the device's
 * "down" (+y for a head-first supine patient) turned into the patient frame
 * by the rotations of docs/dosimetry.md (e.g. left decubitus: the patient's
 * left, +x, is down). */
static void table_down(hm_patient_position pos, double g[3])
{
    g[0] = g[1] = g[2] = 0;
    switch (pos) {
    case HM_POS_HFP: case HM_POS_FFP: g[1] = -1; break;
    case HM_POS_HFDL: case HM_POS_FFDL: g[0] = 1; break;
    case HM_POS_HFDR: case HM_POS_FFDR: g[0] = -1; break;
    default: g[1] = 1; break;
    }
}

void hm_skin_map_free(hm_skin_map *m)
{
    if (!m)
        return;
    free(m->body);
    free(m->dose_mgy);
    free(m->pos_cm);
    free(m->normal);
    free(m->has);
    dos_ttable_free(&m->table);
    free(m);
}

void hm_skin_map_clear(hm_skin_map *m)
{
    memset(m->dose_mgy, 0, sizeof *m->dose_mgy * (size_t)m->na * (size_t)m->nh);
    m->events = 0;
    m->k_rp_total_mgy = 0;
}

/* Body mask, z extent of the body, its x-y half extents and, for the table,
 * the extreme of body . down and the lateral midline. */
static int build_body(hm_skin_map *m, int *zlo, int *zhi, double half[2])
{
    const hm_voxel_phantom *v = m->v;
    size_t n = (size_t)v->nx * v->ny * v->nz;
    m->body = malloc(n);
    if (!m->body)
        return HM_ENOMEM;
    double lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
    double plane = -INFINITY;
    *zlo = v->nz;
    *zhi = -1;
    for (int z = 0; z < v->nz; z++)
        for (int y = 0; y < v->ny; y++)
            for (int x = 0; x < v->nx; x++) {
                size_t i = vidx(v, x, y, z);
                uint16_t id = v->ids[i];
                int b = id != 0 && id <= v->nregions && v->regions[id].medium >= 0;
                m->body[i] = (uint8_t)b;
                if (!b)
                    continue;
                int ix[3] = { x, y, z };
                double c[3];
                for (int d = 0; d < 3; d++) {
                    c[d] = v->origin_cm[d] + (ix[d] + 0.5) * v->voxel_cm[d];
                    lo[d] = fmin(lo[d], c[d] - 0.5 * v->voxel_cm[d]);
                    hi[d] = fmax(hi[d], c[d] + 0.5 * v->voxel_cm[d]);
                }
                /* The far face of the voxel along down. */
                double p = 0;
                for (int d = 0; d < 3; d++)
                    p += m->down[d] * (c[d] + 0.5 * v->voxel_cm[d] * (m->down[d] > 0 ? 1 : m->down[d] < 0 ? -1 : 0));
                plane = fmax(plane, p);
                if (z < *zlo) *zlo = z;
                if (z > *zhi) *zhi = z;
            }
    if (*zhi < 0)
        return HM_ENOTFOUND;
    half[0] = 0.5 * (hi[0] - lo[0]);
    half[1] = 0.5 * (hi[1] - lo[1]);
    m->table_plane = plane;
    m->lateral_axis = fabs(m->down[0]) > 0.5 ? 1 : 0;
    m->table_centre = 0.5 * (lo[m->lateral_axis] + hi[m->lateral_axis]);
    return HM_OK;
}

/* The cells of one row: slice centroid, then the last body point along each
 * angle. */
static void build_row(hm_skin_map *m, int ih)
{
    const hm_voxel_phantom *v = m->v;
    double zc = m->z0_cm + (ih + 0.5) * m->cell_cm;
    int z = (int)floor((zc - v->origin_cm[2]) / v->voxel_cm[2]);
    if (z < 0 || z >= v->nz)
        return;
    double sx = 0, sy = 0, n = 0;
    for (int y = 0; y < v->ny; y++)
        for (int x = 0; x < v->nx; x++)
            if (m->body[vidx(v, x, y, z)]) {
                sx += x;
                sy += y;
                n += 1;
            }
    if (n == 0)
        return;
    double c[2] = { v->origin_cm[0] + (sx / n + 0.5) * v->voxel_cm[0],
                    v->origin_cm[1] + (sy / n + 0.5) * v->voxel_cm[1] };
    double step = 0.25 * fmin(v->voxel_cm[0], v->voxel_cm[1]);
    double rmax = hypot(v->nx * v->voxel_cm[0], v->ny * v->voxel_cm[1]);
    for (int ia = 0; ia < m->na; ia++) {
        double phi = hm_skin_map_angle_deg(m, ia) * PI / 180;
        double dir[2] = { sin(phi), -cos(phi) };   /* 0 = anterior (-y), +90 = left (+x) */
        double last = -1;
        for (double r = 0; r <= rmax; r += step) {
            double q[3] = { c[0] + r * dir[0], c[1] + r * dir[1], zc };
            if (in_body(m, q))
                last = r;
        }
        if (last < 0)
            continue;
        size_t k = (size_t)ih * m->na + ia;
        double r = last + 0.5 * step;
        m->pos_cm[3 * k] = c[0] + r * dir[0];
        m->pos_cm[3 * k + 1] = c[1] + r * dir[1];
        m->pos_cm[3 * k + 2] = zc;
        m->normal[2 * k] = dir[0];
        m->normal[2 * k + 1] = dir[1];
        m->has[k] = 1;
    }
}

int hm_skin_map_new(const hm_voxel_phantom *v, double cell_cm, const hm_skin_options *opt,
                    hm_skin_map **out, hm_error *err)
{
    *out = NULL;
    if (!(cell_cm >= 0.2 && cell_cm <= 10))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "cell_cm", "%g cm: expected a cell size in 0.2..10 cm", cell_cm);
    if (!v || !v->ids || v->nx < 1 || v->ny < 1 || v->nz < 1)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "phantom", "the voxel phantom is empty");
    hm_skin_options dflt;
    if (!opt) {
        hm_skin_options_default(&dflt);
        opt = &dflt;
    }
    if (opt->table_transmission < 0 || opt->table_transmission > 1)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "table_transmission",
                            "%g: expected a transmission in (0, 1], or 0 for the data file",
                            opt->table_transmission);
    if (opt->table_width_cm < 0 || opt->table_width_cm > 200)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "table_width_cm", "%g cm: expected 0..200 cm",
                            opt->table_width_cm);
    skin_defaults dd;
    int rc = skin_defaults_get(&dd, err);
    if (rc)
        return rc;
    hm_skin_map *m = calloc(1, sizeof *m);
    if (!m)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    m->v = v;
    m->cell_cm = cell_cm;
    m->no_table = opt->no_table;
    m->no_mattress = opt->no_mattress;
    m->table_fixed = opt->table_transmission;
    m->table_half_width_cm = 0.5 * (opt->table_width_cm > 0 ? opt->table_width_cm : dd.table_width_cm);
    m->min_cos_table = dd.min_cos_table;
    m->tol_cm = 1.5 * fmax(v->voxel_cm[0], fmax(v->voxel_cm[1], v->voxel_cm[2]));
    table_down(opt->position, m->down);
    if (!m->no_table && !(m->table_fixed > 0)) {
        rc = opt->table_file ? dos_ttable_load(opt->table_file, &m->table, err)
                             : dos_ttable_default(&m->table_default, err);
        if (rc) {
            hm_skin_map_free(m);
            return rc;
        }
    }
    /* Media for f: the reference tissue in which skin doses are reported
     * (data/dosimetry/skin_defaults.csv), not the phantom's own mixture. */
    if ((rc = skin_medium_load(dd.skin_medium, &m->skin, err))) {
        hm_skin_map_free(m);
        return rc;
    }
    if ((rc = skin_medium_load("air", &m->air, err))) {
        hm_skin_map_free(m);
        return rc;
    }
    int zlo, zhi;
    double half[2];
    if ((rc = build_body(m, &zlo, &zhi, half))) {
        hm_skin_map_free(m);
        return rc == HM_ENOMEM ? hm_error_set(err, rc, NULL, 0, NULL, "out of memory")
                               : hm_error_set(err, rc, NULL, 0, "phantom", "the phantom has no body voxels");
    }
    m->z0_cm = v->origin_cm[2] + zlo * v->voxel_cm[2];
    double ztop = v->origin_cm[2] + (zhi + 1) * v->voxel_cm[2];
    m->nh = (int)ceil((ztop - m->z0_cm) / cell_cm - 1e-9);
    /* Around the body: the widest outline's perimeter (Ramanujan's ellipse
     * approximation, 1914) in cells of cell_cm, a multiple of 4 so that the
     * front and back halves and the sides fall on cell edges. */
    double a = half[0], b = half[1];
    double perim = PI * (3 * (a + b) - sqrt((3 * a + b) * (a + 3 * b)));
    m->na = 4 * (int)ceil(perim / cell_cm / 4);
    if (m->na < 8)
        m->na = 8;
    size_t nc = (size_t)m->na * m->nh;
    m->dose_mgy = calloc(nc, sizeof *m->dose_mgy);
    m->pos_cm = calloc(3 * nc, sizeof *m->pos_cm);
    m->normal = calloc(2 * nc, sizeof *m->normal);
    m->has = calloc(nc, 1);
    if (!m->dose_mgy || !m->pos_cm || !m->normal || !m->has) {
        hm_skin_map_free(m);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    for (int ih = 0; ih < m->nh; ih++)
        build_row(m, ih);
    *out = m;
    return HM_OK;
}

double hm_skin_map_angle_deg(const hm_skin_map *m, int ia)
{
    return -180.0 + (ia + 0.5) * 360.0 / m->na;
}

void hm_skin_map_grid(const hm_skin_map *m, hm_skin_grid *g)
{
    g->n_angle = m->na;
    g->n_height = m->nh;
    g->cell_cm = m->cell_cm;
    g->z0_cm = m->z0_cm;
    g->events = m->events;
    g->k_rp_total_mgy = m->k_rp_total_mgy;
}

int hm_skin_map_cell(const hm_skin_map *m, int ia, int ih, double *dose_mgy, double pos_cm[3])
{
    if (ia < 0 || ia >= m->na || ih < 0 || ih >= m->nh)
        return HM_EINVAL;
    size_t k = (size_t)ih * m->na + ia;
    if (!m->has[k])
        return HM_ENOTFOUND;
    if (dose_mgy)
        *dose_mgy = m->dose_mgy[k];
    if (pos_cm)
        memcpy(pos_cm, m->pos_cm + 3 * k, 3 * sizeof *pos_cm);
    return HM_OK;
}

int hm_skin_map_peak(const hm_skin_map *m, double *psd_mgy, double where_cm[3])
{
    size_t nc = (size_t)m->na * m->nh, best = nc;
    double psd = 0;
    for (size_t k = 0; k < nc; k++)
        if (m->has[k] && m->dose_mgy[k] > psd) {
            psd = m->dose_mgy[k];
            best = k;
        }
    *psd_mgy = psd;
    if (where_cm) {
        for (int d = 0; d < 3; d++)
            where_cm[d] = best < nc ? m->pos_cm[3 * best + d] : NAN;
    }
    return HM_OK;
}

int hm_skin_map_pack(const hm_skin_map *m, float **cells, size_t *n, hm_skin_grid *grid,
                     hm_error *err)
{
    size_t nc = (size_t)m->na * m->nh;
    float *c = malloc(nc * sizeof *c);
    if (!c)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    for (size_t k = 0; k < nc; k++)
        c[k] = m->has[k] ? (float)m->dose_mgy[k] : -1.0f;
    *cells = c;
    *n = nc;
    if (grid)
        hm_skin_map_grid(m, grid);
    return HM_OK;
}

/* ---- one event ----------------------------------------------------------- */

/* Central-ray direction (source -> isocentre), phantom frame: the beam's
 * direction when set (hm_dosimetry_event_beam), else its projection and
 * angles, by the convention of beam.c (docs/dosimetry.md). */
static int beam_dir(const hm_dosimetry_beam *b, double d[3], hm_error *err)
{
    double n2 = b->direction[0] * b->direction[0] + b->direction[1] * b->direction[1]
              + b->direction[2] * b->direction[2];
    if (n2 > 0) {
        for (int k = 0; k < 3; k++)
            d[k] = b->direction[k] / sqrt(n2);
        return HM_OK;
    }
    const char *pj = b->projection ? b->projection : "AP";
    double base;
    if (!strcmp(pj, "AP")) base = 0;
    else if (!strcmp(pj, "PA")) base = PI;
    else if (!strcmp(pj, "LLAT")) base = PI / 2;
    else if (!strcmp(pj, "RLAT")) base = -PI / 2;
    else
        return hm_error_set(err, HM_EINVAL, NULL, 0, "projection", "expected AP, PA, LLAT or RLAT, got '%s'", pj);
    double az = base + b->primary_deg * PI / 180, el = b->secondary_deg * PI / 180;
    d[0] = -sin(az) * cos(el);
    d[1] = cos(az) * cos(el);
    d[2] = -sin(el);
    return HM_OK;
}

static double dot(const double a[3], const double b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/* Field axes as in beam.c: u along the body axis where possible (field
 * height), v = d x u (field width). */
static void field_axes(const double d[3], double u[3], double w[3])
{
    double up[3] = { 0, 0, 1 };
    if (fabs(d[2]) > 0.99) { up[1] = 1; up[2] = 0; }
    double k = dot(up, d), n = 0;
    for (int i = 0; i < 3; i++) {
        u[i] = up[i] - k * d[i];
        n += u[i] * u[i];
    }
    for (int i = 0; i < 3; i++)
        u[i] /= sqrt(n);
    w[0] = d[1] * u[2] - d[2] * u[1];
    w[1] = d[2] * u[0] - d[0] * u[2];
    w[2] = d[0] * u[1] - d[1] * u[0];
}

/* 1 when the segment from s reaches a body voxel more than tol before p.
 * tol is about one voxel, longer at grazing incidence (cos_in, the cosine
 * between the ray and the cell's outward direction), where the voxel
 * staircase of the surface would otherwise shade cells at random. */
static int blocked(const hm_skin_map *m, const double s[3], const double p[3], double cos_in)
{
    const hm_voxel_phantom *v = m->v;
    double dir[3], len = 0;
    for (int k = 0; k < 3; k++) {
        dir[k] = p[k] - s[k];
        len += dir[k] * dir[k];
    }
    len = sqrt(len);
    for (int k = 0; k < 3; k++)
        dir[k] /= len;
    double t0 = 0, t1 = len - m->tol_cm / fmax(cos_in, 0.25);
    int dims[3] = { v->nx, v->ny, v->nz };
    for (int k = 0; k < 3 && t0 < t1; k++) {
        double lo = v->origin_cm[k], hi = lo + dims[k] * v->voxel_cm[k];
        if (fabs(dir[k]) < 1e-12) {
            if (s[k] < lo || s[k] >= hi)
                return 0;
            continue;
        }
        double ta = (lo - s[k]) / dir[k], tb = (hi - s[k]) / dir[k];
        if (ta > tb) { double t = ta; ta = tb; tb = t; }
        t0 = fmax(t0, ta);
        t1 = fmin(t1, tb);
    }
    if (!(t0 < t1))
        return 0;
    int i[3], step[3];
    double tmax[3], tdelta[3];
    for (int k = 0; k < 3; k++) {
        double q = s[k] + (t0 + 1e-9) * dir[k];
        int c = (int)floor((q - v->origin_cm[k]) / v->voxel_cm[k]);
        i[k] = c < 0 ? 0 : c >= dims[k] ? dims[k] - 1 : c;
        step[k] = dir[k] > 0 ? 1 : -1;
        if (fabs(dir[k]) < 1e-12) {
            tmax[k] = tdelta[k] = INFINITY;
        } else {
            double edge = v->origin_cm[k] + (i[k] + (dir[k] > 0)) * v->voxel_cm[k];
            tmax[k] = (edge - s[k]) / dir[k];
            tdelta[k] = v->voxel_cm[k] / fabs(dir[k]);
        }
    }
    for (;;) {
        if (m->body[vidx(v, i[0], i[1], i[2])])
            return 1;
        int k = tmax[0] < tmax[1] ? (tmax[0] < tmax[2] ? 0 : 2) : (tmax[1] < tmax[2] ? 1 : 2);
        if (tmax[k] >= t1)
            return 0;
        i[k] += step[k];
        if (i[k] < 0 || i[k] >= dims[k])
            return 0;
        tmax[k] += tdelta[k];
    }
}

/* First body point on the ray from s along d (marching by a quarter voxel). */
static int entrance(const hm_skin_map *m, const double s[3], const double d[3], double out[3])
{
    const hm_voxel_phantom *v = m->v;
    double step = 0.25 * fmin(v->voxel_cm[0], fmin(v->voxel_cm[1], v->voxel_cm[2]));
    double reach = 2 * hypot(hypot(v->nx * v->voxel_cm[0], v->ny * v->voxel_cm[1]), v->nz * v->voxel_cm[2])
                 + sqrt(dot(s, s)) + 1000;
    for (double t = 0; t <= reach; t += step) {
        double q[3] = { s[0] + t * d[0], s[1] + t * d[1], s[2] + t * d[2] };
        if (in_body(m, q)) {
            memcpy(out, q, sizeof q);
            return 1;
        }
    }
    return 0;
}

static double table_t_normal(const hm_skin_map *m, double kvp, double cu_mm)
{
    if (m->no_table)
        return 1;
    if (m->table_fixed > 0)
        return m->table_fixed;
    const dos_ttable *t = m->table.nk ? &m->table : m->table_default;
    return dos_ttable_at(t, !m->no_mattress, kvp, cu_mm);
}

/* Transmission for the ray s -> p: the table top is the plane body.down =
 * table_plane under the patient; a ray from a source beyond it crosses it,
 * within the table's width, along 1/cos(theta) of its thickness. */
static double table_t_ray(const hm_skin_map *m, double t_normal, const double s[3], const double p[3])
{
    if (t_normal >= 1)
        return 1;
    double ss = dot(s, m->down), ps = dot(p, m->down);
    if (ss <= m->table_plane || ps >= ss)
        return 1;
    double t = (ss - m->table_plane) / (ss - ps);
    int a = m->lateral_axis;
    double lat = s[a] + t * (p[a] - s[a]);
    if (fabs(lat - m->table_centre) > m->table_half_width_cm)
        return 1;
    double r[3] = { p[0] - s[0], p[1] - s[1], p[2] - s[2] };
    double c = fabs(dot(r, m->down)) / sqrt(dot(r, r));
    if (c < m->min_cos_table)
        c = m->min_cos_table;
    return pow(t_normal, 1.0 / c);
}

/* HVL and f of a beam's spectrum (cached: a procedure's events repeat them). */
static int beam_quality(hm_skin_map *m, const hm_dosimetry_beam *b, double *hvl, double *f,
                        hm_error *err)
{
    double anode = b->anode_angle_deg > 0 ? b->anode_angle_deg : 12;
    if (m->q_valid && m->q_kvp == b->kvp && m->q_al == b->filter_al_mm && m->q_cu == b->filter_cu_mm
        && m->q_anode == anode) {
        *hvl = m->q_hvl;
        *f = m->q_f;
        return HM_OK;
    }
    hm_mc_filter filters[2] = { { "aluminium", b->filter_al_mm }, { "copper", b->filter_cu_mm } };
    hm_mc_spectrum spec;
    memset(&spec, 0, sizeof spec);
    int rc = hm_mc_spectrum_tungsten(b->kvp, anode, filters, 2, 0.5, &spec, err);
    if (rc)
        return rc;
    /* The air-kerma table starts at 1 keV: drop bins below it (they carry
     * no fluence after any filter). */
    hm_mc_spectrum trimmed = spec;
    size_t skip = 0;
    while (skip + 1 < spec.n && spec.energy_kev[skip] - 0.5 * spec.bin_kev < 1.0)
        skip++;
    trimmed.n -= skip;
    trimmed.energy_kev += skip;
    trimmed.fluence += skip;
    hm_mc_beam_quality q;
    rc = hm_mc_spectrum_quality(&trimmed, &q, err);
    if (!rc) {
        m->q_hvl = *hvl = q.hvl1_mm_al;
        m->q_f = *f = skin_kerma_ratio(&m->skin, &m->air, &trimmed);
        m->q_kvp = b->kvp;
        m->q_al = b->filter_al_mm;
        m->q_cu = b->filter_cu_mm;
        m->q_anode = anode;
        m->q_valid = 1;
    }
    hm_mc_spectrum_free(&spec);
    return rc;
}

int hm_skin_event_factors(hm_skin_map *m, const hm_dosimetry_beam *b, double k_rp_mgy,
                          double kap_gy_cm2, const hm_dosimetry_device *dev,
                          hm_skin_factors *f, hm_error *err)
{
    memset(f, 0, sizeof *f);
    hm_dosimetry_device dd;
    int rc;
    if (!dev) {
        if ((rc = hm_dosimetry_device_default(&dd, err)))
            return rc;
        dev = &dd;
    }
    if (!(b->kvp >= 20 && b->kvp <= 150))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "kvp", "kVp %g out of range 20..150", b->kvp);
    if (!(b->source_isocentre_cm > 10 && b->source_isocentre_cm < 500))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "source_isocentre_cm",
                            "%g cm: expected 10..500 cm", b->source_isocentre_cm);
    if (!(b->field_w_cm > 0 && b->field_h_cm > 0 && b->field_w_cm < 100 && b->field_h_cm < 100))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "field_cm", "field sizes must be in 0..100 cm");
    if (b->filter_al_mm < 0 || b->filter_cu_mm < 0)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "filter", "filter thickness must be >= 0");
    double sid = b->source_isocentre_cm;
    f->source_rp_cm = sid - 0.1 * dev->isocentre_to_reference_point_mm;
    if (!(f->source_rp_cm > 1))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "isocentre_to_reference_point_mm",
                            "%g mm: the reference point must lie between the source and the isocentre",
                            dev->isocentre_to_reference_point_mm);
    /* K_rp as reported, else KAP over the field area at the reference point
     * (KAP = K x A in any plane, free in air); either is a reading of the
     * same chamber, corrected by the device's calibration factor. */
    double cal = dev->kap_calibration > 0 ? dev->kap_calibration : 1;
    if (isfinite(k_rp_mgy) && k_rp_mgy > 0) {
        f->k_rp_mgy = k_rp_mgy * cal;
    } else if (isfinite(kap_gy_cm2) && kap_gy_cm2 > 0) {
        double s = f->source_rp_cm / sid;
        double area_rp_cm2 = b->field_w_cm * b->field_h_cm * s * s;
        f->k_rp_mgy = 1000.0 * kap_gy_cm2 / area_rp_cm2 * cal;
    } else {
        return hm_error_set(err, HM_EINVAL, NULL, 0, "rp_air_kerma_mgy",
                            "the event has neither a reference-point air kerma nor a KAP");
    }
    if ((rc = beam_dir(b, f->direction, err)))
        return rc;
    const char *lm = b->landmark ? b->landmark : "heart";
    if (strcmp(m->landmark, lm)) {
        if ((rc = hm_voxel_phantom_centroid(m->v, lm, m->landmark_cm, err)))
            return rc;
        snprintf(m->landmark, sizeof m->landmark, "%s", lm);
    }
    for (int k = 0; k < 3; k++) {
        f->isocentre_cm[k] = m->landmark_cm[k] + b->offset_cm[k];
        f->source_cm[k] = f->isocentre_cm[k] - sid * f->direction[k];
    }
    double skin_cm = sid;
    if (entrance(m, f->source_cm, f->direction, f->entrance_cm)) {
        double r[3] = { f->entrance_cm[0] - f->source_cm[0], f->entrance_cm[1] - f->source_cm[1],
                        f->entrance_cm[2] - f->source_cm[2] };
        f->source_skin_cm = skin_cm = sqrt(dot(r, r));
    } else {
        f->entrance_cm[0] = f->entrance_cm[1] = f->entrance_cm[2] = f->source_skin_cm = NAN;
    }
    /* BSF for the square of equal area at the skin entrance. */
    f->field_side_cm = sqrt(b->field_w_cm * b->field_h_cm) * skin_cm / sid;
    if ((rc = beam_quality(m, b, &f->hvl_mm_al, &f->f_skin_air, err)) ||
        (rc = hm_skin_backscatter(b->kvp, f->hvl_mm_al, f->field_side_cm, &f->bsf, err)))
        return rc;
    f->table_t = table_t_normal(m, b->kvp, b->filter_cu_mm);
    f->table_crossed = dot(f->source_cm, m->down) > m->table_plane;
    return HM_OK;
}

int hm_skin_map_add_event(hm_skin_map *m, const hm_dosimetry_beam *b, double k_rp_mgy,
                          double kap_gy_cm2, const hm_dosimetry_device *dev, hm_error *err)
{
    hm_skin_factors f;
    int rc = hm_skin_event_factors(m, b, k_rp_mgy, kap_gy_cm2, dev, &f, err);
    if (rc)
        return rc;
    double u[3], w[3];
    field_axes(f.direction, u, w);
    double sid = b->source_isocentre_cm;
    double hu = 0.5 * b->field_h_cm, hw = 0.5 * b->field_w_cm;
    double k0 = f.k_rp_mgy * f.source_rp_cm * f.source_rp_cm * f.bsf * f.f_skin_air;
    size_t nc = (size_t)m->na * m->nh;
    for (size_t k = 0; k < nc; k++) {
        if (!m->has[k])
            continue;
        const double *p = m->pos_cm + 3 * k;
        double r[3] = { p[0] - f.source_cm[0], p[1] - f.source_cm[1], p[2] - f.source_cm[2] };
        double t = dot(r, f.direction);
        if (t <= 0)
            continue;
        /* Inside the collimated field: the projection on the isocentre plane. */
        if (fabs(dot(r, u) / t * sid) > hu || fabs(dot(r, w) / t * sid) > hw)
            continue;
        double d2 = dot(r, r);
        const double *nrm = m->normal + 2 * k;
        double cos_in = -(r[0] * nrm[0] + r[1] * nrm[1]) / sqrt(d2);
        if (blocked(m, f.source_cm, p, cos_in > 0 ? cos_in : 1))
            continue;
        m->dose_mgy[k] += k0 / d2 * table_t_ray(m, f.table_t, f.source_cm, p);
    }
    m->events++;
    m->k_rp_total_mgy += f.k_rp_mgy;
    return HM_OK;
}
