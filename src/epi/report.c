/* report.c — fit results as a readable table, CSV or JSON. */
#include "hm_epi.h"

#include <math.h>
#include <string.h>

static const char *bound_word(int status)
{
    return status == HM_EPI_B_BOUNDARY ? "not estimable (RR>0 boundary)"
         : status == HM_EPI_B_NONE     ? "not estimable" : "";
}

/* A log-linear estimate drifting to +-infinity (e.g. no case in one level of
 * a 0/1 covariate) stops with a huge estimate and an enormous SE. */
static int diverges(const hm_epi_param *q)
{
    return q->kind == HM_EPI_P_LOGLIN && fabs(q->est) > 10 && !(q->se < 1e3 * fabs(q->est));
}

static void fmt_limit(char *buf, size_t n, double v, int status)
{
    if (status == HM_EPI_B_OK)
        snprintf(buf, n, "%.5g", v);
    else if (status == HM_EPI_B_BOUNDARY)
        snprintf(buf, n, "<%.4g (NE)", v);
    else
        snprintf(buf, n, "NE");
}

void hm_epi_fit_print_text(const hm_epi_fit *fit, const char *title, FILE *fp)
{
    if (title && *title)
        fprintf(fp, "%s\n", title);
    if (fit->pyr > 0) {
        fprintf(fp, "rows %zu, strata with cases %d, cases %.10g, person-years %.10g\n", fit->nobs,
                fit->nstrata, fit->cases, fit->pyr);
        fprintf(fp, "deviance %.6f, ", fit->deviance);
    } else {  /* Cox: persons and partial likelihood */
        fprintf(fp, "persons %zu, cases %.10g\npartial ", fit->nobs, fit->cases);
    }
    fprintf(fp, "log-likelihood %.6f, AIC %.4f, %s after %d iterations\n", fit->loglik, fit->aic,
            fit->converged ? "converged" : "NOT CONVERGED", fit->iterations);
    fprintf(fp, "%-32s %12s %12s %14s %14s\n", "parameter", "estimate", "Wald SE", "lower", "upper");
    for (int a = 0; a < fit->np; a++) {
        const hm_epi_param *q = &fit->p[a];
        char lo[40], hi[40];
        if (isnan(q->lo) && isnan(q->hi)) {
            snprintf(lo, sizeof lo, "-");
            snprintf(hi, sizeof hi, "-");
        } else {
            fmt_limit(lo, sizeof lo, q->lo, q->lo_status);
            fmt_limit(hi, sizeof hi, q->hi, q->hi_status);
        }
        fprintf(fp, "%-32s %12.6g %12.4g %14s %14s%s\n", q->name, q->est, q->se, lo, hi,
                diverges(q) ? "  diverges: not estimable (a level without cases?)" : "");
    }
    fprintf(fp, "(%g%% profile-likelihood CI; NE = not estimable", 100 * fit->ci_level);
    fprintf(fp, "; excess parameters are per unit of the dose column)\n");
    if (fit->lrt_df > 0)
        fprintf(fp, "dose trend: LRT chi2 = %.4f on %d df, p = %.4g\n", fit->lrt_chi2, fit->lrt_df,
                fit->lrt_p);
}

void hm_epi_fit_print_csv(const hm_epi_fit *fit, FILE *fp)
{
    fprintf(fp, "parameter,estimate,se,lower,upper,lower_status,upper_status,deviance,loglik,aic,"
                "cases,pyr,lrt_chi2,lrt_df,lrt_p,converged\n");
    for (int a = 0; a < fit->np; a++) {
        const hm_epi_param *q = &fit->p[a];
        hm_csv_write_field(fp, q->name);
        fprintf(fp, ",%.10g,%.10g,%.10g,%.10g,", q->est, q->se, q->lo, q->hi);
        hm_csv_write_field(fp, isnan(q->lo) ? "" : q->lo_status ? bound_word(q->lo_status) : "ok");
        fputc(',', fp);
        hm_csv_write_field(fp, isnan(q->hi) ? "" : q->hi_status ? bound_word(q->hi_status) : "ok");
        fprintf(fp, ",%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%d,%.6g,%d\n", fit->deviance, fit->loglik,
                fit->aic, fit->cases, fit->pyr, fit->lrt_chi2, fit->lrt_df, fit->lrt_p,
                fit->converged);
    }
}

static void json_num(FILE *fp, double v)
{
    if (isfinite(v))
        fprintf(fp, "%.10g", v);
    else
        fputs("null", fp);
}

/* A JSON string: quotes, backslashes and control characters escaped (RFC 8259). */
static void json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(fp, "\\%c", c);
        else if (c < 0x20)
            fprintf(fp, "\\u%04x", c);
        else
            fputc(c, fp);
    }
    fputc('"', fp);
}

void hm_epi_fit_print_json(const hm_epi_fit *fit, FILE *fp)
{
    fprintf(fp, "{\"deviance\": ");
    json_num(fp, fit->deviance);
    fprintf(fp, ", \"loglik\": ");
    json_num(fp, fit->loglik);
    fprintf(fp, ", \"aic\": ");
    json_num(fp, fit->aic);
    fprintf(fp, ", \"rows\": %zu, \"strata\": %d, \"cases\": %.10g, \"pyr\": %.10g, "
                "\"converged\": %s, \"ci_level\": %g, \"lrt\": {\"chi2\": ",
            fit->nobs, fit->nstrata, fit->cases, fit->pyr, fit->converged ? "true" : "false",
            fit->ci_level);
    json_num(fp, fit->lrt_chi2);
    fprintf(fp, ", \"df\": %d, \"p\": ", fit->lrt_df);
    json_num(fp, fit->lrt_p);
    fprintf(fp, "},\n \"parameters\": [");
    for (int a = 0; a < fit->np; a++) {
        const hm_epi_param *q = &fit->p[a];
        fprintf(fp, "%s\n  {\"name\": ", a ? "," : "");
        json_str(fp, q->name);
        fprintf(fp, ", \"estimate\": ");
        json_num(fp, q->est);
        fprintf(fp, ", \"se\": ");
        json_num(fp, q->se);
        fprintf(fp, ", \"lower\": ");
        json_num(fp, q->lo_status == HM_EPI_B_OK ? q->lo : NAN);
        fprintf(fp, ", \"upper\": ");
        json_num(fp, q->hi_status == HM_EPI_B_OK ? q->hi : NAN);
        fprintf(fp, ", \"lower_note\": \"%s\", \"upper_note\": \"%s\", \"diverges\": %s}",
                isnan(q->lo) ? "" : bound_word(q->lo_status), isnan(q->hi) ? "" : bound_word(q->hi_status),
                diverges(q) ? "true" : "false");
    }
    fprintf(fp, "]}\n");
}
