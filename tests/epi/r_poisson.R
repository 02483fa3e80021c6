# r_poisson.R — the R peer for test_epi_r: fits the data set written by the
# test with gnm (eliminate= for the strata) and computes profile-likelihood
# limits with glm (stratum dummies; the data set is small) and uniroot.
# usage: Rscript r_poisson.R DATA.csv OUT.csv
suppressMessages(library(gnm))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d$stratum <- factor(d$stratum)
out <- character(0)
put <- function(name, value) out <<- c(out, sprintf("%s,%.12g", name, value))
crit <- qchisq(0.95, 1)
ctl <- glm.control(epsilon = 1e-13, maxit = 100)

# Linear ERR with log-linear effect modifier: log(1 + beta d exp(tau e)).
LinERR <- function(dose, mod) {
  list(predictors = list(beta = 1, tau = 1),
       variables = list(substitute(dose), substitute(mod)),
       term = function(p, v) sprintf("log(1 + %s * %s * exp(%s * %s))", p[1], v[1], p[2], v[2]),
       start = function(theta) c(0.001, 0))
}
class(LinERR) <- "nonlin"
LinERR0 <- function(dose) {
  list(predictors = list(beta = 1), variables = list(substitute(dose)),
       term = function(p, v) sprintf("log(1 + %s * %s)", p[1], v[1]),
       start = function(theta) 0.001)
}
class(LinERR0) <- "nonlin"
LQ <- function(dose) {
  list(predictors = list(b1 = 1, b2 = 1), variables = list(substitute(dose)),
       term = function(p, v) sprintf("log(1 + %s * %s + %s * %s^2)", p[1], v[1], p[2], v[1]),
       start = function(theta) c(0.001, 0))
}
class(LQ) <- "nonlin"

# Model 1: strata + loglin(z) + err(dose).
f1 <- gnm(cases ~ -1 + z + LinERR0(dose) + offset(log(pyr)), eliminate = stratum,
          family = poisson, data = d, tolerance = 1e-12, iterMax = 500, trace = FALSE, verbose = FALSE)
b1 <- coef(f1)[grep("beta", names(coef(f1)))]
put("m1_beta", b1); put("m1_gamma", coef(f1)["z"]); put("m1_deviance", deviance(f1)); put("m1_aic", AIC(f1))
dev1 <- function(b) deviance(glm(cases ~ stratum + z + offset(log(pyr) + log(1 + b * dose)),
                                 family = poisson, data = d, control = ctl))
dmin <- dev1(b1)
bmin <- -1 / max(d$dose)
put("m1_lower", uniroot(function(b) dev1(b) - dmin - crit, c(bmin * 0.999999, b1), tol = 1e-13)$root)
put("m1_upper", uniroot(function(b) dev1(b) - dmin - crit, c(b1, b1 + 10 * (b1 - bmin)), tol = 1e-13)$root)

# Model 2: strata + err(dose | e).
f2 <- gnm(cases ~ -1 + LinERR(dose, e) + offset(log(pyr)), eliminate = stratum,
          family = poisson, data = d, tolerance = 1e-12, iterMax = 500, trace = FALSE, verbose = FALSE)
cf <- coef(f2)
b2 <- cf[grep("beta", names(cf))]; t2 <- cf[grep("tau", names(cf))]
put("m2_beta", b2); put("m2_tau", t2); put("m2_deviance", deviance(f2))
dev2 <- function(b, t) deviance(glm(cases ~ stratum + offset(log(pyr) + log(1 + b * dose * exp(t * e))),
                                    family = poisson, data = d, control = ctl))
prof2 <- function(b) optimize(function(t) dev2(b, t), c(t2 - 5, t2 + 5), tol = 1e-11)$objective
dmin2 <- dev2(b2, t2)
put("m2_upper", uniroot(function(b) prof2(b) - dmin2 - crit, c(b2, 5 * b2 + 0.05), tol = 1e-13)$root)

# Model 3: strata + lq(dose).
f3 <- gnm(cases ~ -1 + LQ(dose) + offset(log(pyr)), eliminate = stratum,
          family = poisson, data = d, tolerance = 1e-12, iterMax = 500, trace = FALSE, verbose = FALSE)
cf <- coef(f3)
put("m3_b1", cf[grep("b1", names(cf))]); put("m3_b2", cf[grep("b2", names(cf))])
put("m3_deviance", deviance(f3))

# Model 4: excess absolute rate, rate = B_s + beta d (identity link on rates).
f4 <- glm(cases ~ 0 + I(pyr * dose) + pyr:stratum, family = poisson(link = "identity"), data = d,
          start = c(0, rep(sum(d$cases) / sum(d$pyr), nlevels(d$stratum))), control = ctl)
put("m4_beta", coef(f4)["I(pyr * dose)"]); put("m4_deviance", deviance(f4))

writeLines(c("name,value", out), args[2])
