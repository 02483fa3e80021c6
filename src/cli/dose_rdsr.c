/*
 * dose_rdsr.c — an RDSR's irradiation events as dosimetry events: the one
 * place that knows both hm_rdsr_event (DICOM TID 10003 as read) and
 * hm_dosimetry_event (what a beam needs), so neither library depends on the
 * other.
 */
#include "dose_cli.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

/* "Copper or Copper compound" -> 'c', "Aluminum or Aluminum compound" -> 'a'
 * (DICOM CID 10006 X-Ray Filter Materials), case-blind; 0 for others. */
static char filter_kind(const char *material)
{
    char low[64];
    size_t n = 0;
    for (; material && *material && n + 1 < sizeof low; material++)
        low[n++] = (char)tolower((unsigned char)*material);
    low[n] = '\0';
    if (strstr(low, "copper") || !strcmp(low, "cu"))
        return 'c';
    if (strstr(low, "alumin") || !strcmp(low, "al"))
        return 'a';
    return 0;
}

/* A filter's thickness: the mean of its minimum and maximum (TID 10003b
 * gives a range for wedge-like filters), or the one given. */
static double filter_mm(const hm_rdsr_filter *f)
{
    double lo = f->thickness_min_mm, hi = f->thickness_max_mm;
    if (isfinite(lo) && isfinite(hi))
        return 0.5 * (lo + hi);
    return isfinite(lo) ? lo : hi;
}

void hm_cli_rdsr_event(const hm_rdsr_event *r, hm_dosimetry_event *e)
{
    hm_dosimetry_event_init(e);
    e->kvp = r->kvp_kv;
    for (int i = 0; i < r->nfilters; i++) {
        char k = filter_kind(r->filters[i].material);
        double mm = filter_mm(&r->filters[i]);
        if (!k || !isfinite(mm))
            continue;
        double *dst = k == 'c' ? &e->filter_cu_mm : &e->filter_al_mm;
        *dst = isfinite(*dst) ? *dst + mm : mm;
    }
    /* An event that lists its filters and has none of a kind has 0 of it. */
    if (r->nfilters > 0) {
        if (!isfinite(e->filter_cu_mm) && isfinite(e->filter_al_mm))
            e->filter_cu_mm = 0;
        if (!isfinite(e->filter_al_mm) && isfinite(e->filter_cu_mm))
            e->filter_al_mm = 0;
    }
    e->primary_angle_deg = r->primary_angle_deg;
    e->secondary_angle_deg = r->secondary_angle_deg;
    e->primary_end_angle_deg = r->primary_end_angle_deg;
    e->secondary_end_angle_deg = r->secondary_end_angle_deg;
    e->source_isocentre_mm = r->source_isocentre_mm;
    e->source_detector_mm = r->source_detector_mm;
    e->field_width_mm = r->field_width_mm;
    e->field_height_mm = r->field_height_mm;
    e->field_area_cm2 = r->field_area_cm2;
    e->table_lateral_mm = r->table_lateral_mm;
    e->table_longitudinal_mm = r->table_longitudinal_mm;
    e->table_height_mm = r->table_height_mm;
    e->kap_gy_cm2 = r->kap_gy_cm2;
    e->rp_air_kerma_mgy = r->rp_air_kerma_mgy;
    e->table_relationship = r->patient_table_relationship;
    e->orientation = r->patient_orientation;
    e->orientation_modifier = r->patient_orientation_modifier;
}
