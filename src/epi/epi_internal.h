/* epi_internal.h — shared between the files of src/epi (not public). */
#ifndef HM_EPI_INTERNAL_H
#define HM_EPI_INTERNAL_H

#include "hm_epi.h"

/* A model's design: rows with PY > 0 sorted by stratum. */
typedef struct epi_design {
    size_t n;
    int    nz, nx, ne, p, form;
    double *y, *lpy, *py;      /* cases, ln PY, PY */
    double *z, *x, *e;         /* row-major n x nz, n x nx, n x ne */
    size_t *sbeg;              /* rows of stratum s: sbeg[s] .. sbeg[s+1]-1 */
    double *O;                 /* cases per stratum */
    size_t nstrata, nstrata_cases;
    unsigned long long last_key;
    double cases, pyr, lfact, ylogy;  /* sum ln y!, sum (y ln y - y) */
} epi_design;

int  epi_design_build(const hm_epi_table *t, const hm_epi_model *m, epi_design *d, hm_error *err);
void epi_design_free(epi_design *d);

/* Log-likelihood (and gradient/Hessian when not NULL) at parameters th
 * (gamma, beta, tau); 0 ok, 1 infeasible (RR or rate <= 0), <0 error. */
int epi_eval(const epi_design *d, const double *th, double *ll, double *g, double *H);
int epi_eval_ear(const epi_design *d, const double *th, double *ll, double *g, double *H);

/* Newton-Raphson over the parameters not fixed; th in/out. 0 converged,
 * 1 infeasible start, <0 hm_status. */
int epi_maximize(const epi_design *d, double *th, const char *fixed, int max_iter, double *ll,
                 int *iters);
/* Chi-square(1) quantile at the confidence level. */
double epi_chi2_crit(double level);
/* Upper tail probability of chi-square with df degrees of freedom. */
double epi_chi2_q(double x, int df);
/* cov = (-H)^-1 for the n x n matrix H; 0 ok. */
int epi_invert_neg(const double *H, int n, double *cov);

/* Generic objective for profile CIs (Poisson design or Cox risk sets). */
typedef struct epi_objective {
    int  p;
    int (*eval)(void *ctx, const double *th, double *ll, double *g, double *H);
    void *ctx;
} epi_objective;
int epi_maximize_obj(const epi_objective *ob, double *th, const char *fixed, int max_iter,
                     double *ll, int *iters);
/* Profile-likelihood interval of parameter j around the optimum th_hat
 * (log-likelihood ll_hat); se guides the first step. */
void epi_profile_ci(const epi_objective *ob, const double *th_hat, double ll_hat, int j, double se,
                    double crit, const char *resettable, hm_epi_param *out);

#endif
