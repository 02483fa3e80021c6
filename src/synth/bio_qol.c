/*
 * bio_qol.c — the synthetic questionnaires of the biobank sub-study
 * (`harmonic synth --biobank`): at each visit after which a form is due
 * (every visit but the one right after the procedure), the PedsQL 4.0 Generic
 * Core forms for the child's age (self-report from 5 years, the parent's
 * proxy report from 2), and for radiotherapy patients the Multidimensional
 * Fatigue Scale as well; a planned share of items unanswered (as NA or as an
 * absent row) and of forms mostly unanswered (their scales not scored).
 * Forms, ages and items are read from data/qol/forms.csv and items.csv, so
 * the rows are exactly those `harmonic import qol_item` checks.
 * Hospital format: local_patient_id, birth_date and assessment_date, for
 * `harmonic pseudonymise --table qol_item`; else pseudonymised on the way
 * out as the cohort's files are.
 */
#include "bio_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FORMS 32
#define MAX_ITEMS 512

typedef struct { char instrument[32], form[40], respondent[8]; int age_min, age_max, face; } qform;
typedef struct { int form; char item[24]; } qitem;

typedef struct { char code[16]; FILE *fp; hm_pseudo_filter *filter; } qcentre;

struct bio_qol {
    int     hospital;
    const hm_pseudo_key *key;
    char    dir[4096];
    qform   forms[MAX_FORMS]; int nforms;
    qitem   items[MAX_ITEMS]; int nitems;
    qcentre centres[SY_MAX_CENTRES + 16]; int ncentres;
    long    assessments;
};

static const char *const COLS[] = {
    "centre_code", "assessment_id", "item_id", "local_patient_id", "birth_date", "instrument",
    "form", "respondent", "assessment_date", "response"
};
enum { NCOLS = sizeof COLS / sizeof *COLS };

/* Reads a data/qol file: each record's fields to fn. */
static int read_qol(const char *rel, int want, int (*fn)(bio_qol *, char **, const char *,
                                                        long, hm_error *),
                    bio_qol *q, hm_error *err)
{
    char path[4096];
    hm_csv *csv;
    int rc = hm_data_csv_open(rel, path, sizeof path, &csv, err);
    if (rc)
        return rc;
    char **f;
    size_t n;
    int header = 1;
    while ((rc = hm_csv_next(csv, &f, &n, err)) == 1) {
        if (header) {
            header = 0;
            continue;
        }
        if ((int)n != want) {
            rc = hm_error_set(err, HM_EPARSE, path, hm_csv_line(csv), NULL,
                              "expected %d fields, found %zu", want, n);
            break;
        }
        if ((rc = fn(q, f, path, hm_csv_line(csv), err)))
            break;
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : HM_OK;
}

/* forms.csv: instrument,form,respondent,age_min_years,age_max_years,response_scale,responses */
static int add_form(bio_qol *q, char **f, const char *path, long line, hm_error *err)
{
    if (q->nforms == MAX_FORMS || strchr(f[2], ';'))
        return hm_error_set(err, HM_EPARSE, path, line, "form",
                            "too many forms, or a form with several respondents");
    qform *m = &q->forms[q->nforms++];
    snprintf(m->instrument, sizeof m->instrument, "%s", f[0]);
    snprintf(m->form, sizeof m->form, "%s", f[1]);
    snprintf(m->respondent, sizeof m->respondent, "%s", f[2]);
    m->age_min = atoi(f[3]);
    m->age_max = atoi(f[4]);
    m->face = !strcmp(f[6], "0;2;4");
    return HM_OK;
}

/* items.csv: instrument,form,item,scale,transform */
static int add_item(bio_qol *q, char **f, const char *path, long line, hm_error *err)
{
    int k = 0;
    while (k < q->nforms && strcmp(q->forms[k].form, f[1]))
        k++;
    if (k == q->nforms || q->nitems == MAX_ITEMS)
        return hm_error_set(err, HM_EPARSE, path, line, "form", "unknown form or too many items");
    q->items[q->nitems].form = k;
    snprintf(q->items[q->nitems].item, sizeof q->items[q->nitems].item, "%s", f[2]);
    q->nitems++;
    return HM_OK;
}

int bio_qol_open(bio_qol **out, const char *dir, int hospital, const hm_pseudo_key *key,
                 hm_error *err)
{
    bio_qol *q = calloc(1, sizeof *q);
    if (!q)
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    q->hospital = hospital;
    q->key = key;
    snprintf(q->dir, sizeof q->dir, "%s", dir);
    int rc = read_qol("qol/forms.csv", 7, add_form, q, err);
    if (rc == HM_OK)
        rc = read_qol("qol/items.csv", 5, add_item, q, err);
    if (rc) {
        free(q);
        return rc;
    }
    *out = q;
    return HM_OK;
}

static int centre_file(bio_qol *q, const bio_subject *s, qcentre **out, hm_error *err)
{
    for (int i = 0; i < q->ncentres; i++)
        if (!strcmp(q->centres[i].code, s->centre)) {
            *out = &q->centres[i];
            return HM_OK;
        }
    qcentre *c = &q->centres[q->ncentres];
    memset(c, 0, sizeof *c);
    snprintf(c->code, sizeof c->code, "%s", s->centre);
    char path[4400];
    snprintf(path, sizeof path, "%s/%s/qol_item.csv", q->dir, s->centre);
    if (!(c->fp = fopen(path, "w")))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s", strerror(errno));
    q->ncentres++;
    *out = c;
    if (q->hospital) {
        for (int k = 0; k < NCOLS; k++)
            fprintf(c->fp, "%s%s", k ? "," : "", COLS[k]);
        fputc('\n', c->fp);
        return HM_OK;
    }
    char **known;
    size_t nknown;
    int rc = hm_pseudo_dict_columns("qol_item", &known, &nknown, err);
    if (rc)
        return rc;
    hm_pseudo_csv_opts opts = { "qol_item", s->day_offsets != 0, (const char *const *)known,
                                nknown };
    rc = hm_pseudo_filter_new(q->key, &opts, COLS, NCOLS, path, &c->filter, err);
    hm_pseudo_dict_free(known, nknown);
    if (rc == HM_OK)
        hm_pseudo_filter_write_header(c->filter, c->fp);
    return rc;
}

/* Completed years between two days (calendar age). */
static int age_years(long birth, long day)
{
    int by, bm, bd, y, m, d;
    hm_date_to_ymd(birth, &by, &bm, &bd);
    hm_date_to_ymd(day, &y, &m, &d);
    return y - by - (m < bm || (m == bm && d < bd));
}

int bio_qol_subject(bio_qol *q, const bio_params *bp, uint64_t seed, const bio_subject *s,
                    const bio_visit *visits, int nvisits, long *rows, hm_error *err)
{
    sy_rng g;
    sy_rng_init(&g, seed, (uint32_t)s->index, SY_S_BIO_QOL, (uint32_t)s->rt);
    char birth[11], date[11], aid[32], resp[4];
    hm_date_format(s->birth, birth);
    int rc = HM_OK;
    for (int v = 0; v < nvisits && rc == HM_OK; v++) {
        if (v > 0 && visits[v].day == visits[0].day)
            continue;                              /* right after the procedure: no form */
        int age = age_years(s->birth, visits[v].day);
        hm_date_format(visits[v].day, date);
        for (int f = 0; f < q->nforms && rc == HM_OK; f++) {
            const qform *m = &q->forms[f];
            if (age < m->age_min || age > m->age_max ||
                (!s->rt && strcmp(m->instrument, "pedsql_generic")))
                continue;
            qcentre *c;
            if ((rc = centre_file(q, s, &c, err)))
                break;
            /* One assessment per form; ids are the site's counter, never the patient's id. */
            snprintf(aid, sizeof aid, "QA%07ld", ++q->assessments);
            double level = 0.6 * sy_u01(&g);       /* how much of a problem, 0 = never */
            double p_miss = sy_u01(&g) < bp->p_form_mostly_missing ? 0.6 : bp->p_item_missing;
            for (int k = 0; k < q->nitems && rc == HM_OK; k++) {
                if (q->items[k].form != f)
                    continue;
                double u_miss = sy_u01(&g), u_na = sy_u01(&g), z = sy_normal(&g);
                if (u_miss < p_miss && u_na < 0.5)
                    continue;                      /* an absent row */
                int r = (int)lround(4.0 * fmin(1.0, fmax(0.0, level + 0.2 * z)));
                if (m->face)
                    r = r <= 1 ? 0 : r <= 2 ? 2 : 4;
                snprintf(resp, sizeof resp, "%d", r);
                const char *row[NCOLS] = { s->centre, aid, q->items[k].item, s->local_id, birth,
                                           m->instrument, m->form, m->respondent, date,
                                           u_miss < p_miss ? "NA" : resp };
                if (q->hospital) {
                    for (int j = 0; j < NCOLS; j++) {
                        if (j)
                            fputc(',', c->fp);
                        hm_csv_write_field(c->fp, row[j]);
                    }
                    fputc('\n', c->fp);
                } else
                    rc = hm_pseudo_filter_write_row(c->filter, c->fp, row, NCOLS, *rows + 2, err);
                (*rows)++;
            }
        }
    }
    return rc;
}

int bio_qol_close(bio_qol *q, hm_error *err)
{
    int rc = HM_OK;
    for (int i = 0; i < q->ncentres; i++) {
        if ((ferror(q->centres[i].fp) | fclose(q->centres[i].fp)) && rc == HM_OK)
            rc = hm_error_set(err, HM_EIO, q->dir, 0, NULL, "writing %s/qol_item.csv failed",
                              q->centres[i].code);
        hm_pseudo_filter_free(q->centres[i].filter);
    }
    free(q);
    return rc;
}
