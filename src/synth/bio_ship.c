/*
 * bio_ship.c — the shipments of the synthetic biobank (`harmonic synth
 * --biobank`, bio_synth.c): each quarter the first aliquot of every sample
 * stored at a site goes to the central biobank on dry ice with a
 * temperature logger (a CSV per shipment; a planned share with an excursion
 * or longer than the protocol allows), is received, stored and QC-tested
 * there (a planned share below the threshold).  Rates in
 * data/synth/bio_params.csv.
 */
#include "bio_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_pending(const void *a, const void *b)
{
    const pending *x = a, *y = b;
    return (x->stored_s > y->stored_s) - (x->stored_s < y->stored_s);
}

/* The logger of one shipment: a reading every interval, dry ice at about
 * -78 C (sublimation point of CO2), an excursion above the protocol's
 * maximum in the middle of the trip for the planned share. */
static int write_logger(const char *path, double t0, double hours, int excursion, sy_rng *g,
                        double interval_min, double max_c, hm_error *err)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s", strerror(errno));
    fputs("timestamp,temperature_c\n", fp);
    long n = (long)(hours * 60.0 / interval_min) + 1;
    for (long k = 0; k < n; k++) {
        double t = t0 + k * interval_min * 60.0, x = (double)k / (double)n;
        double temp = -78.0 + 1.2 * sy_normal(g);
        if (excursion && x > 0.45 && x < 0.55)
            temp = max_c + 6.0 + 2.0 * sy_u01(g);
        char when[32];
        hm_bb_format_time(t, when);
        fprintf(fp, "%s,%.2f\n", when, temp);
    }
    if (ferror(fp) | fclose(fp))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
    return HM_OK;
}

/* Quarterly shipments of the first aliquots to the central biobank, their
 * receipt, storage and QC there. */
int bio_shipments(bio_run *r, centre_out *c, hm_error *err)
{
    const bio_params *bp = &r->bp;
    const hm_bb_protocol *pc = &r->proto[0];
    qsort(c->pend, c->npend, sizeof *c->pend, cmp_pending);
    int rc = HM_OK;
    char loc[64], logger[96], path[4400], value[32];
    for (size_t i = 0, j; i < c->npend && rc == HM_OK; i = j) {
        int y, m, d;
        hm_date_to_ymd((long)floor(c->pend[i].stored_s / 86400.0), &y, &m, &d);
        int q = (m - 1) / 3;
        for (j = i + 1; j < c->npend; j++) {
            int y2, m2, d2;
            hm_date_to_ymd((long)floor(c->pend[j].stored_s / 86400.0), &y2, &m2, &d2);
            if (y2 != y || (m2 - 1) / 3 != q)
                break;
        }
        /* Ship five days after the quarter's end, at 09:00. */
        char first[40];
        snprintf(first, sizeof first, "%04d-%02d-01", q == 3 ? y + 1 : y, q == 3 ? 1 : 3 * q + 4);
        long day;
        hm_date_parse(first, &day);
        double ship_s = (double)(day + 4) * 86400.0 + 9 * 3600.0;
        sy_rng g;
        sy_rng_init(&g, r->o->seed, (uint32_t)(y * 4 + q), SY_S_BIO_SHIP,
                    (uint32_t)(c - r->c));
        double u_exc = sy_u01(&g), u_long = sy_u01(&g), u_h = sy_u01(&g);
        double hours = u_long < bp->p_long_transport ? pc->transport_max_h * (1.05 + 0.2 * u_h)
                                                     : 20 + 28 * u_h;
        if (ship_s + (hours + 2) * 3600.0 > r->end_s)
            break;                                    /* after the study: stays at the site */
        snprintf(logger, sizeof logger, "loggers/%s_%04dQ%d.csv", c->code, y, q + 1);
        snprintf(path, sizeof path, "%s/biobank/%s/%s", r->dir, c->code, logger);
        if ((rc = write_logger(path, ship_s, hours, u_exc < bp->p_excursion, &g,
                               bp->logger_interval_min, pc->transport_max_c, err)))
            break;
        r->s->bio_shipments++;
        double recv_s = ship_s + (hours + 0.25) * 3600.0;
        for (size_t k = i; k < j && rc == HM_OK; k++) {
            const pending *pe = &c->pend[k];
            const char *vs[E_N] = { "ship", NULL, c->code, "lab", c->code, NULL, NULL,
                                    pe->aliquot, NULL, NULL, NULL, CB_SITE, NULL, NULL, NULL,
                                    logger };
            const char *vr[E_N] = { "receive", NULL, c->code, "cb_lab", CB_SITE, NULL, NULL,
                                    pe->aliquot };
            if ((rc = bio_add(r, c, ship_s, vs, err)) || (rc = bio_add(r, c, recv_s, vr, err)))
                break;
            bio_position(CB_SITE, r->cb_positions++, loc);
            const char *vt[E_N] = { "store", NULL, c->code, "cb_lab", CB_SITE, NULL, NULL,
                                    pe->aliquot, NULL, NULL, NULL, loc, NULL, "-80",
                                    "container=cryovial" };
            if ((rc = bio_add(r, c, recv_s + 3600.0, vt, err)))
                break;
            /* QC at the CB weeks later: DNA from EDTA blood and saliva, RNA
             * integrity from PAXgene; a planned share below the threshold. */
            double qc_s = recv_s + bio_uni(&g, 10, 60) * 86400.0;
            double u1 = sy_u01(&g), u2 = sy_u01(&g), z = sy_normal(&g);
            if (qc_s > r->end_s || !strcmp(pe->type, "serum"))
                continue;
            const char *metric[2] = { NULL, NULL };
            double v[2] = { 0, 0 };
            if (!strcmp(pe->type, "blood_paxgene")) {
                metric[0] = "rin";
                v[0] = u1 < bp->p_qc_low ? pc->qc_rin_min - 0.1 - 2 * u2
                                         : fmin(10, pc->qc_rin_min + 0.3 + 2.5 * u2);
            } else {
                metric[0] = "dna_yield_ug";
                v[0] = u1 < bp->p_qc_low ? pc->qc_dna_yield_ug_min * (0.2 + 0.75 * u2)
                                         : pc->qc_dna_yield_ug_min * (3 + 30 * u2);
                metric[1] = "a260_280";
                v[1] = fmin(pc->qc_a260_280_max, fmax(pc->qc_a260_280_min, 1.85 + 0.04 * z));
            }
            for (int mq = 0; mq < 2 && metric[mq] && rc == HM_OK; mq++) {
                snprintf(value, sizeof value, "%.2f", v[mq]);
                const char *vq[E_N] = { "qc", NULL, c->code, "cb_lab", CB_SITE, NULL,
                                        pe->sample, pe->aliquot, NULL, NULL, NULL, NULL,
                                        metric[mq], value };
                rc = bio_add(r, c, qc_s + mq * 60.0, vq, err);
            }
        }
    }
    return rc;
}

