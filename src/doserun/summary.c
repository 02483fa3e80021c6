/*
 * summary.c — organ dose and effective dose per KAP by age class over the
 * tier-1 procedures of a dose run, against the published values of
 * data/dosimetry/anchors_e_per_kap.csv (anchors.md section 2), and a plot.
 *
 * Ratios of sums (sum of doses / sum of calibrated KAP over the class's
 * procedures): the KAP-weighted mean, the quantity the published E/KAP of
 * clinical series estimate.
 */
#include "doserun_int.h"

#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846   /* C11 <math.h> does not promise it */
#endif

const char *const HM_DOSERUN_SUMMARY_ORGANS[HM_DOSERUN_SUMMARY_NORGANS] = {
    "lung", "heart", "oesophagus", "breast", "red_marrow" };

/* The class of an age in days (hm_dosimetry_age_class), -1 if none. */
static int class_of(hm_stmt *st, int col)
{
    if (hm_stmt_column_isnull(st, col))
        return -1;
    return hm_dosimetry_age_class_index(hm_dosimetry_age_class(hm_stmt_column_double(st, col)));
}

int hm_doserun_summary_by_age(const char *db_url, const char *run_id,
                              hm_doserun_age_row rows[5], hm_error *err)
{
    memset(rows, 0, 5 * sizeof *rows);
    for (int i = 0; i < 5; i++)
        snprintf(rows[i].age, sizeof rows[i].age, "%s", HM_DOSIMETRY_AGE_CLASSES[i]);
    hm_db *db;
    int rc = hm_db_open(db_url, &db, err);
    if (rc)
        return rc;
    /* One row per tier-1 procedure: its age, E and calibrated KAP. */
    hm_stmt *st;
    rc = hm_db_prepare(db,
        "SELECT COALESCE(p.age_days, p.proc_day), d.effective_dose_msv, k.kap FROM dose_procedure d "
        "JOIN procedure p ON p.centre_code = d.centre_code AND p.procedure_id = d.procedure_id "
        "JOIN (SELECT centre_code, procedure_id, SUM(kap_used_gy_cm2) AS kap FROM dose_event "
        "WHERE run_id = ? GROUP BY centre_code, procedure_id) k ON k.centre_code = d.centre_code "
        "AND k.procedure_id = d.procedure_id WHERE d.tier_used = 1 AND d.run_id = ?", &st, err);
    if (rc == HM_OK) {
        hm_stmt_bind_text(st, 1, run_id);
        hm_stmt_bind_text(st, 2, run_id);
        while ((rc = hm_stmt_step(st, err)) == 1) {
            int i = class_of(st, 0);
            if (i < 0)
                continue;
            rows[i].procedures++;
            rows[i].effective_msv += hm_stmt_column_double(st, 1);
            rows[i].kap_gy_cm2 += hm_stmt_column_double(st, 2);
        }
        hm_stmt_finalize(st);
    }
    /* One row per tier-1 procedure and summary organ: its age, organ and dose. */
    if (rc >= 0)
        rc = hm_db_prepare(db,
            "SELECT COALESCE(p.age_days, p.proc_day), o.organ, o.dose_mgy FROM organ_dose o JOIN "
            "dose_procedure d ON d.centre_code = o.centre_code AND d.procedure_id = o.source_id "
            "JOIN procedure p ON p.centre_code = o.centre_code AND p.procedure_id = o.source_id "
            "WHERE o.source_type = 'procedure' AND o.method = 'rdsr_mc' AND o.realization = 0 AND "
            "d.tier_used = 1 AND d.run_id = ?", &st, err);
    if (rc >= 0) {
        hm_stmt_bind_text(st, 1, run_id);
        while ((rc = hm_stmt_step(st, err)) == 1) {
            int i = class_of(st, 0);
            const char *organ = hm_stmt_column_text(st, 1);
            for (int o = 0; i >= 0 && organ && o < HM_DOSERUN_SUMMARY_NORGANS; o++)
                if (!strcmp(organ, HM_DOSERUN_SUMMARY_ORGANS[o]))
                    rows[i].organ_mgy[o] += hm_stmt_column_double(st, 2);
        }
        hm_stmt_finalize(st);
    }
    hm_db_close(db);
    return rc < 0 ? rc : HM_OK;
}

/* ------------------------------------------------------------ the plot */

typedef struct anchor { char source[48]; double age, from, to, e; } anchor;

static int load_anchors(anchor *a, int max, int *n, hm_error *err)
{
    char path[1024];
    hm_csv *csv;
    int rc = hm_data_csv_open("dosimetry/anchors_e_per_kap.csv", path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t nf;
    int header = 1;
    *n = 0;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) > 0) {
        rc = HM_OK;
        if (header) {
            header = 0;
            continue;
        }
        if (nf != 5 || *n == max) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), NULL, "expected 5 fields");
            break;
        }
        anchor *x = &a[(*n)++];
        snprintf(x->source, sizeof x->source, "%s", f[0]);
        x->age = atof(f[1]);
        x->from = atof(f[2]);
        x->to = atof(f[3]);
        x->e = atof(f[4]);
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : HM_OK;
}

/* Phantom ages of the classes (years), for the x axis. */
static const double CLASS_AGE[5] = { 0, 1, 5, 10, 15 };

int hm_doserun_plot_anchors(const hm_doserun_age_row rows[5], const char *png, const char *title,
                            hm_error *err)
{
    anchor a[32];
    int na;
    int rc = load_anchors(a, 32, &na, err);
    if (rc)
        return rc;
    const int W = 800, Hh = 560, L = 80, R = 220, T = 50, B = 60;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, Hh);
    cairo_t *c = cairo_create(s);
    cairo_set_source_rgb(c, 1, 1, 1);
    cairo_paint(c);
    /* log y from 0.1 to 10 mSv per Gy cm2, x from -1 to 17 years */
    double x0 = -1, x1 = 17, ly0 = log10(0.1), ly1 = log10(10);
#define PX(x) (L + ((x) - x0) / (x1 - x0) * (W - L - R))
#define PY(y) (Hh - B - (log10(y) - ly0) / (ly1 - ly0) * (Hh - T - B))
    cairo_set_source_rgb(c, 0, 0, 0);
    cairo_set_line_width(c, 1);
    cairo_rectangle(c, L, T, W - L - R, Hh - T - B);
    cairo_stroke(c);
    cairo_select_font_face(c, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(c, 12);
    char lab[64];
    const double yt[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10 };
    for (int i = 0; i < 7; i++) {
        cairo_move_to(c, L - 6, PY(yt[i]));
        cairo_line_to(c, L, PY(yt[i]));
        cairo_stroke(c);
        snprintf(lab, sizeof lab, "%g", yt[i]);
        cairo_move_to(c, L - 36, PY(yt[i]) + 4);
        cairo_show_text(c, lab);
    }
    for (int x = 0; x <= 16; x += 2) {
        cairo_move_to(c, PX(x), Hh - B);
        cairo_line_to(c, PX(x), Hh - B + 6);
        cairo_stroke(c);
        snprintf(lab, sizeof lab, "%d", x);
        cairo_move_to(c, PX(x) - 4, Hh - B + 20);
        cairo_show_text(c, lab);
    }
    cairo_move_to(c, L + 120, Hh - 15);
    cairo_show_text(c, "age at the procedure (years; harmonic: the phantom's age)");
    cairo_save(c);
    cairo_move_to(c, 22, Hh - B - 40);
    cairo_rotate(c, -M_PI / 2);
    cairo_show_text(c, "effective dose per KAP, mSv per Gy cm2 (log)");
    cairo_restore(c);
    cairo_set_font_size(c, 15);
    cairo_move_to(c, L, 30);
    cairo_show_text(c, title ? title : "E/KAP by age class");
    cairo_set_font_size(c, 12);
    /* Published: Karambatsakidou as squares, Ubeda as bands with a dot. */
    for (int i = 0; i < na; i++) {
        int kara = strstr(a[i].source, "Karambatsakidou") != NULL;
        cairo_set_source_rgb(c, kara ? 0.1 : 0.0, kara ? 0.4 : 0.6, kara ? 0.8 : 0.2);
        if (a[i].to > a[i].from) {
            cairo_set_line_width(c, 2);
            cairo_move_to(c, PX(a[i].from), PY(a[i].e));
            cairo_line_to(c, PX(a[i].to), PY(a[i].e));
            cairo_stroke(c);
        }
        if (kara)
            cairo_rectangle(c, PX(a[i].age) - 5, PY(a[i].e) - 5, 10, 10);
        else
            cairo_arc(c, PX(a[i].age), PY(a[i].e), 4, 0, 2 * M_PI);
        cairo_fill(c);
    }
    /* harmonic: red circles with the class's procedures. */
    cairo_set_source_rgb(c, 0.85, 0.1, 0.1);
    int prev = -1;
    for (int i = 0; i < 5; i++) {
        if (!(rows[i].kap_gy_cm2 > 0) || !(rows[i].effective_msv > 0))
            continue;
        double e = rows[i].effective_msv / rows[i].kap_gy_cm2;
        if (e < 0.1 || e > 10)
            continue;
        if (prev >= 0) {
            double ep = rows[prev].effective_msv / rows[prev].kap_gy_cm2;
            cairo_set_line_width(c, 1.5);
            cairo_move_to(c, PX(CLASS_AGE[prev]), PY(ep));
            cairo_line_to(c, PX(CLASS_AGE[i]), PY(e));
            cairo_stroke(c);
        }
        cairo_arc(c, PX(CLASS_AGE[i]), PY(e), 6, 0, 2 * M_PI);
        cairo_fill(c);
        snprintf(lab, sizeof lab, "%.2f (n=%ld)", e, rows[i].procedures);
        cairo_move_to(c, PX(CLASS_AGE[i]) + 8, PY(e) - 8);
        cairo_show_text(c, lab);
        prev = i;
    }
    /* legend */
    double lx = W - R + 15, ly = T + 20;
    cairo_set_source_rgb(c, 0.85, 0.1, 0.1);
    cairo_arc(c, lx + 5, ly - 4, 6, 0, 2 * M_PI);
    cairo_fill(c);
    cairo_set_source_rgb(c, 0, 0, 0);
    cairo_move_to(c, lx + 18, ly);
    cairo_show_text(c, "harmonic (this cohort)");
    cairo_set_source_rgb(c, 0.1, 0.4, 0.8);
    cairo_rectangle(c, lx, ly + 20, 10, 10);
    cairo_fill(c);
    cairo_set_source_rgb(c, 0, 0, 0);
    cairo_move_to(c, lx + 18, ly + 30);
    cairo_show_text(c, "Karambatsakidou 2009");
    cairo_set_source_rgb(c, 0.0, 0.6, 0.2);
    cairo_arc(c, lx + 5, ly + 56, 4, 0, 2 * M_PI);
    cairo_fill(c);
    cairo_set_source_rgb(c, 0, 0, 0);
    cairo_move_to(c, lx + 18, ly + 60);
    cairo_show_text(c, "Ubeda 2017 (age bands)");
#undef PX
#undef PY
    cairo_destroy(c);
    cairo_status_t st = cairo_surface_write_to_png(s, png);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS)
        return hm_error_set(err, HM_EIO, png, 0, NULL, "cannot write the PNG: %s",
                            cairo_status_to_string(st));
    return HM_OK;
}
