/*
 * load.c — the registry's procedures and events, streamed for the run, and
 * its devices.
 *
 * Procedures and events are two ordered statements merged on (centre,
 * procedure_id), each on a connection of its own: so memory is one
 * procedure whatever the cohort, PostgreSQL streams both (one connection
 * streams one statement at a time), and SQLite's long reads hold no
 * snapshot on the connection that writes (a writer on a WAL database must
 * not read an old snapshot, or its first write fails).  The order is byte
 * order on both back ends (COLLATE "C"), NULLs placed by COALESCE, so both
 * back ends see the events of a procedure in one order.
 */
#include "doserun_int.h"
#include "hm_pseudo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct dr_reader {
    hm_db   *dbp, *dbe;
    hm_stmt *sp, *se;
    int      have_event;        /* se holds an unread row */
    int      events_done;
    dr_proc  cur;
};

void dr_proc_free(dr_proc *p)
{
    free(p->events);
    free(p->uid);
    free(p->position);
    memset(p, 0, sizeof *p);
}

static double num(hm_stmt *st, int col)
{
    return hm_stmt_column_isnull(st, col) ? NAN : hm_stmt_column_double(st, col);
}

static void text(hm_stmt *st, int col, char *buf, size_t size)
{
    const char *t = hm_stmt_column_isnull(st, col) ? NULL : hm_stmt_column_text(st, col);
    snprintf(buf, size, "%s", t ? t : "");
}

/* YYYY of "YYYY-MM-DD", 0 if none. */
static int year_of(const char *date)
{
    return date && strlen(date) >= 4 ? atoi(date) : 0;
}

int dr_reader_open_url(const char *url, int postgres, dr_reader **out, hm_error *err)
{
    dr_reader *r = calloc(1, sizeof *r);
    if (!r)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    const char *c = postgres ? " COLLATE \"C\"" : "";
    char sp[1400], se[1400];
    snprintf(sp, sizeof sp,
             "SELECT p.centre_code, p.procedure_id, p.exam_type, c.country, p.device_id, "
             "p.device_manufacturer, p.device_model, pt.sex, p.dose_tier, p.proc_date, p.proc_day, "
             "p.age_days, pt.birth_year, pt.birth_date, p.weight_kg, p.height_cm, "
             "p.kap_total_gy_cm2 FROM procedure p JOIN patient pt ON pt.centre_code = "
             "p.centre_code AND pt.pseudonym = p.pseudonym JOIN centre c ON c.centre_code = "
             "p.centre_code ORDER BY p.centre_code%s, p.procedure_id%s", c, c);
    snprintf(se, sizeof se,
             "SELECT centre_code, procedure_id, event_uid, kvp, filter_al_mm, filter_cu_mm, "
             "primary_angle_deg, secondary_angle_deg, source_isocentre_mm, source_detector_mm, "
             "field_width_mm, field_height_mm, field_area_cm2, table_lat_mm, table_long_mm, "
             "table_height_mm, kap_gy_cm2, air_kerma_rp_mgy, patient_orientation "
             "FROM irradiation_event ORDER BY centre_code%s, procedure_id%s, "
             "COALESCE(event_datetime, '')%s, COALESCE(event_day, -1), "
             "COALESCE(event_time_s, -1), event_uid%s", c, c, c, c);
    int rc = hm_db_open(url, &r->dbp, err);
    if (rc == HM_OK)
        rc = hm_db_open(url, &r->dbe, err);
    if (rc == HM_OK)
        rc = hm_db_prepare(r->dbp, sp, &r->sp, err);
    if (rc == HM_OK)
        rc = hm_db_prepare(r->dbe, se, &r->se, err);
    if (rc) {
        dr_reader_close(r);
        return rc;
    }
    *out = r;
    return HM_OK;
}

void dr_reader_close(dr_reader *r)
{
    if (!r)
        return;
    hm_stmt_finalize(r->sp);
    hm_stmt_finalize(r->se);
    hm_db_close(r->dbp);
    hm_db_close(r->dbe);
    dr_proc_free(&r->cur);
    free(r);
}

static int add_event(dr_proc *p, hm_stmt *st, hm_error *err)
{
    if (p->nevents == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        hm_dosimetry_event *e = realloc(p->events, cap * sizeof *e);
        char (*u)[80] = realloc(p->uid, cap * sizeof *u);
        char (*o)[64] = realloc(p->position, cap * sizeof *o);
        if (e) p->events = e;
        if (u) p->uid = u;
        if (o) p->position = o;
        if (!e || !u || !o)
            return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
        p->cap = cap;
    }
    size_t i = p->nevents++;
    hm_dosimetry_event *e = &p->events[i];
    hm_dosimetry_event_init(e);
    text(st, 2, p->uid[i], sizeof p->uid[i]);
    double *dst[] = { &e->kvp, &e->filter_al_mm, &e->filter_cu_mm, &e->primary_angle_deg,
                      &e->secondary_angle_deg, &e->source_isocentre_mm, &e->source_detector_mm,
                      &e->field_width_mm, &e->field_height_mm, &e->field_area_cm2,
                      &e->table_lateral_mm, &e->table_longitudinal_mm, &e->table_height_mm,
                      &e->kap_gy_cm2, &e->rp_air_kerma_mgy };
    for (int k = 0; k < 15; k++)
        *dst[k] = num(st, 3 + k);
    text(st, 18, p->position[i], sizeof p->position[i]);
    return HM_OK;
}

/* Byte order of (centre, procedure) pairs, as the statements sort them. */
static int cmp_key(const char *c1, const char *p1, const char *c2, const char *p2)
{
    int c = strcmp(c1, c2);
    return c ? c : strcmp(p1, p2);
}

int dr_reader_next(dr_reader *r, dr_proc **out, hm_error *err)
{
    dr_proc *p = &r->cur;
    int rc = hm_stmt_step(r->sp, err);
    if (rc <= 0)
        return rc;
    p->nevents = 0;
    text(r->sp, 0, p->centre, sizeof p->centre);
    text(r->sp, 1, p->procedure_id, sizeof p->procedure_id);
    text(r->sp, 2, p->exam, sizeof p->exam);
    text(r->sp, 3, p->country, sizeof p->country);
    text(r->sp, 4, p->device_id, sizeof p->device_id);
    text(r->sp, 5, p->manufacturer, sizeof p->manufacturer);
    text(r->sp, 6, p->model, sizeof p->model);
    char sex[4], tier[4], proc_date[16], birth_date[16];
    text(r->sp, 7, sex, sizeof sex);
    p->sex = sex[0] == 'M' || sex[0] == 'F' ? sex[0] : 'U';
    text(r->sp, 8, tier, sizeof tier);
    p->tier = atoi(tier);
    text(r->sp, 9, proc_date, sizeof proc_date);
    double proc_day = num(r->sp, 10), age_days = num(r->sp, 11), birth_year = num(r->sp, 12);
    text(r->sp, 13, birth_date, sizeof birth_date);
    p->weight_kg = num(r->sp, 14);
    p->height_cm = num(r->sp, 15);
    p->kap_total_gy_cm2 = num(r->sp, 16);
    /* Age: as registered; else days since birth; else from the two dates. */
    long d1, d0;
    p->age_days = isfinite(age_days) ? age_days : isfinite(proc_day) ? proc_day
                : !hm_date_parse(proc_date, &d1) && !hm_date_parse(birth_date, &d0) ? (double)(d1 - d0)
                : NAN;
    p->year = year_of(proc_date);
    if (!p->year && isfinite(birth_year) && isfinite(p->age_days))
        p->year = (int)(birth_year + 0.5 + p->age_days / 365.25);
    /* The events of this procedure: those rows of the event stream with its key. */
    for (;;) {
        if (!r->have_event && !r->events_done) {
            int er = hm_stmt_step(r->se, err);
            if (er < 0)
                return er;
            if (er == 0)
                r->events_done = 1;
            else
                r->have_event = 1;
        }
        if (!r->have_event)
            break;
        const char *ec = hm_stmt_column_text(r->se, 0), *ep = hm_stmt_column_text(r->se, 1);
        int c = cmp_key(ec ? ec : "", ep ? ep : "", p->centre, p->procedure_id);
        if (c > 0)
            break;                     /* a later procedure's */
        r->have_event = 0;
        if (c < 0)
            continue;                  /* an event of no procedure (cannot be: a reference) */
        if ((rc = add_event(p, r->se, err)))
            return rc;
    }
    /* Strings last: the arrays may have moved while growing. */
    for (size_t i = 0; i < p->nevents; i++)
        p->events[i].orientation = p->position[i];
    *out = p;
    return 1;
}

/* ------------------------------------------------------------ devices */

typedef struct dr_device {
    char centre[16], id[80];
    hm_dosimetry_device dev;
    int  calibration_known;
} dr_device;

struct dr_devices {
    dr_device *d;
    size_t     n;
};

int dr_devices_load(hm_db *db, dr_devices **out, hm_error *err)
{
    dr_devices *ds = calloc(1, sizeof *ds);
    if (!ds)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    hm_dosimetry_device defaults;
    int rc = hm_dosimetry_device_default(&defaults, err);
    hm_stmt *st = NULL;
    if (rc == HM_OK)
        rc = hm_db_prepare(db, "SELECT centre_code, device_id, kap_calibration, "
                               "inherent_filter_al_mm, source_isocentre_mm, source_detector_mm, "
                               "isocentre_to_reference_point_mm, table_transmission_60kv, "
                               "table_transmission_80kv, table_transmission_100kv, "
                               "table_transmission_120kv, table_lateral_sign, "
                               "table_longitudinal_sign, table_height_sign FROM device", &st, err);
    size_t cap = 0;
    while (rc == HM_OK && (rc = hm_stmt_step(st, err)) == 1) {
        rc = HM_OK;
        if (ds->n == cap) {
            cap = cap ? 2 * cap : 16;
            dr_device *nd = realloc(ds->d, cap * sizeof *nd);
            if (!nd) {
                rc = hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
                break;
            }
            ds->d = nd;
        }
        dr_device *d = &ds->d[ds->n++];
        text(st, 0, d->centre, sizeof d->centre);
        text(st, 1, d->id, sizeof d->id);
        d->dev = defaults;
        d->calibration_known = !hm_stmt_column_isnull(st, 2);
        double *dst[] = { &d->dev.kap_calibration, &d->dev.inherent_filter_al_mm,
                          &d->dev.source_isocentre_mm, &d->dev.source_detector_mm,
                          &d->dev.isocentre_to_reference_point_mm, &d->dev.table_transmission[0],
                          &d->dev.table_transmission[1], &d->dev.table_transmission[2],
                          &d->dev.table_transmission[3] };
        for (int k = 0; k < 9; k++)
            if (!hm_stmt_column_isnull(st, 2 + k))
                *dst[k] = hm_stmt_column_double(st, 2 + k);
        for (int k = 0; k < 3; k++)
            if (!hm_stmt_column_isnull(st, 11 + k))
                d->dev.table_sign[k] = (int)hm_stmt_column_int64(st, 11 + k);
    }
    hm_stmt_finalize(st);
    if (rc < 0) {
        dr_devices_free(ds);
        return rc;
    }
    *out = ds;
    return HM_OK;
}

void dr_devices_get(const dr_devices *ds, const hm_dosimetry_device *defaults, const dr_proc *p,
                    hm_dosimetry_device *dev, int *known)
{
    *dev = *defaults;
    *known = 0;
    if (!p->device_id[0])
        return;
    for (size_t i = 0; i < ds->n; i++)
        if (!strcmp(ds->d[i].centre, p->centre) && !strcmp(ds->d[i].id, p->device_id)) {
            *dev = ds->d[i].dev;
            *known = ds->d[i].calibration_known;
            return;
        }
}

void dr_devices_free(dr_devices *ds)
{
    if (!ds)
        return;
    free(ds->d);
    free(ds);
}
