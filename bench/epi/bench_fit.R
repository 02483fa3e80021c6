# bench_fit.R — the R peer for bench_epi: linear ERR Poisson model with the
# strata eliminated (gnm, eliminate=), on the CSV written by bench_epi.
# usage: Rscript bench_fit.R DATA.csv   -> prints name,value lines
suppressMessages(library(gnm))
args <- commandArgs(trailingOnly = TRUE)
cpu <- function() { p <- proc.time(); p[["user.self"]] + p[["sys.self"]] }
t0 <- proc.time()[["elapsed"]]
d <- read.csv(args[1])
d$stratum <- factor(d$stratum)
t1 <- proc.time()[["elapsed"]]; c1 <- cpu()
LinERR0 <- function(dose) {
  list(predictors = list(beta = 1), variables = list(substitute(dose)),
       term = function(p, v) sprintf("log(1 + %s * %s)", p[1], v[1]),
       start = function(theta) 0.001)
}
class(LinERR0) <- "nonlin"
f <- gnm(cases ~ -1 + LinERR0(dose) + offset(log(pyr)), eliminate = stratum, family = poisson,
         data = d, trace = FALSE, verbose = FALSE)
t2 <- proc.time()[["elapsed"]]; c2 <- cpu()
cat(sprintf("r_read_s,%.4f\nr_fit_s,%.4f\nr_fit_cpu_s,%.4f\nr_beta,%.10g\nr_deviance,%.10g\n", t1 - t0, t2 - t1, c2 - c1,
            coef(f)[[1]], deviance(f)))
