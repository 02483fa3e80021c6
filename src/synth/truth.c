/* truth.c — DIR/truth.json: the model the analysis must recover, in words
 * and numbers (see docs/synth.md, "What the true ERR applies to"). */
#include "synth_int.h"

#include <errno.h>
#include <string.h>

static void json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

int sy_write_truth(const char *path, const hm_synth_opts *o, const sy_params *p,
                   const sy_truth *t, const hm_synth_summary *s, hm_error *err)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return hm_error_set(err, HM_EIO, path, 0, NULL, "cannot create: %s", strerror(errno));
    fprintf(fp, "{\n  \"generator\": \"harmonic synth %s\",\n", HM_VERSION_STRING);
    fprintf(fp, "  \"seed\": %llu,\n  \"patients\": %ld,\n", (unsigned long long)o->seed,
            o->n_patients);
    fprintf(fp, "  \"format\": \"%s\",\n", o->hospital_format ? "hospital" : "pseudonymised");
    fprintf(fp, "  \"true_err_per_100mgy\": %.10g,\n", t->err_per_100mgy);
    fprintf(fp, "  \"err_organ\": ");
    json_str(fp, p->organs[t->err_organ].organ);
    fprintf(fp, ",\n  \"dose_definition\": \"cumulative organ_dose.dose_mgy of err_organ, "
                "realization 0, method synthetic, over the patient's procedures dated at or "
                "before (t - lag); realization 0 is the true dose\",\n");
    fprintf(fp, "  \"risk_model\": \"for each outcome group with err_applies: hazard(t) = "
                "background(attained age) x background_rr(t) x (1 + true_err_per_100mgy x "
                "dose_lagged(t) / 100 mGy); other groups: background only\",\n");
    fprintf(fp, "  \"attained_age\": \"days since birth / 365.25\",\n");
    fprintf(fp, "  \"at_risk\": \"from the first procedure (cohort entry) to followup.end; "
                "each outcome group is simulated independently and at most the first cancer "
                "of each group is recorded, so person-time for group G ends at its first "
                "cancer or end of follow-up\",\n");
    fprintf(fp, "  \"background_rr\": {\"down_leukaemia_age_0_4\": %g, "
                "\"down_leukaemia_age_5_29\": %g, \"down_cns_and_solid\": %g, "
                "\"after_transplant_lymphoma\": %g, \"after_transplant_other\": %g},\n",
            p->down_leuk_0_4, p->down_leuk_5_29, p->down_solid, p->tx_lymphoma_rr, p->tx_all_rr);
    fprintf(fp, "  \"outcomes\": [\n");
    for (int k = 0; k < SY_NTYPES; k++) {
        fprintf(fp, "    {\"group\": \"%s\", \"err_applies\": %s, \"lag_years\": %g, "
                    "\"cases\": %ld, \"morphology\": [",
                sy_type_names[k], t->err_applies[k] ? "true" : "false", p->lag_years[k],
                s->cancers[k]);
        int first = 1;
        for (int c = 0; c < p->ncodes; c++)
            if (p->codes[c].type == k) {
                fprintf(fp, "%s\"%s %s\"", first ? "" : ", ", p->codes[c].topo,
                        p->codes[c].morph);
                first = 0;
            }
        fprintf(fp, "]}%s\n", k + 1 < SY_NTYPES ? "," : "");
    }
    fprintf(fp, "  ],\n");
    fprintf(fp, "  \"realizations\": %d,\n", o->realizations);
    fprintf(fp, "  \"counts\": {\"patients\": %ld, \"procedures\": %ld, \"tier1\": %ld, "
                "\"tier2\": %ld, \"tier3\": %ld, \"irradiation_events\": %ld, "
                "\"organ_dose_rows\": %ld, \"cancers\": %ld, "
                "\"deaths\": %ld, \"transplants\": %ld, \"down_syndrome\": %ld, "
                "\"person_years\": %.1f}\n}\n",
            s->patients, s->procedures, s->tier[1], s->tier[2], s->tier[3], s->events,
            s->organ_dose_rows,
            s->outcome_rows, s->deaths, s->transplants, s->down, s->person_years);
    if (ferror(fp) | fclose(fp))
        return hm_error_set(err, HM_EIO, path, 0, NULL, "write failed");
    return HM_OK;
}
