# r_cox.R — the R peer for test_epi_cox: an independent partial-likelihood
# computation of the Cox linear ERR model h(t) = h0_sex(t) exp(g tx(t)) (1 + b d(t))
# on attained age, from the same CSV files (dates as day numbers), with
# profile-likelihood limits for b.  Breslow ties; entry at first exposure +
# exclusion; dose lagged; transplant time-dependent.
# usage: Rscript r_cox.R persons.csv doses.csv events.csv LAG EXCL OUT.csv
args <- commandArgs(trailingOnly = TRUE)
p <- read.csv(args[1], stringsAsFactors = FALSE)
d <- read.csv(args[2], stringsAsFactors = FALSE)
e <- read.csv(args[3], stringsAsFactors = FALSE)
lag <- as.numeric(args[4]); excl <- as.numeric(args[5]); Y <- 365.25
first <- tapply(d$date, d$id, min)
p$start <- first[p$id] + excl * Y
evd <- tapply(e$date, e$id, min)
p$evd <- ifelse(p$id %in% names(evd), evd[p$id], Inf)
p <- p[is.finite(p$start) & p$evd > p$start, ]
p$exit <- pmin(p$end, p$evd)
p$case <- p$evd <= p$end
p$entry_age <- p$start - p$birth
p$exit_age <- p$exit - p$birth
p$tx <- ifelse(is.na(p$transplant), Inf, p$transplant)
dose_of <- split(d, d$id)
dose_at <- function(id, day) { x <- dose_of[[id]]; sum(x$dose_mgy[x$date + lag * Y <= day]) }
rs <- lapply(which(p$case), function(k) {
  t <- p$exit_age[k]
  j <- which(p$sex == p$sex[k] & p$entry_age < t & p$exit_age >= t)
  days <- p$birth[j] + t
  list(dk = dose_at(p$id[k], p$birth[k] + t), zk = as.numeric(p$tx[k] <= p$birth[k] + t),
       dj = mapply(dose_at, p$id[j], days), zj = as.numeric(p$tx[j] <= days))
})
dmax <- max(sapply(rs, function(r) max(r$dj)))
ll <- function(g, b) {
  s <- 0
  for (r in rs) s <- s + g * r$zk + log(1 + b * r$dk) - log(sum(exp(g * r$zj) * (1 + b * r$dj)))
  s
}
prof <- function(b) optimize(function(g) ll(g, b), c(-10, 10), maximum = TRUE, tol = 1e-12)$objective
bmin <- -1 / dmax
opt <- optimize(prof, c(bmin * (1 - 1e-9), 10), maximum = TRUE, tol = 1e-12)
bhat <- opt$maximum; lhat <- opt$objective
ghat <- optimize(function(g) ll(g, bhat), c(-10, 10), maximum = TRUE, tol = 1e-12)$maximum
f <- function(b) 2 * (lhat - prof(b)) - qchisq(0.95, 1)
lo <- if (f(bmin * (1 - 1e-9)) > 0) uniroot(f, c(bmin * (1 - 1e-9), bhat), tol = 1e-13)$root else NA
hi <- uniroot(f, c(bhat, bhat + 1), extendInt = "upX", tol = 1e-13)$root
writeLines(c("name,value", sprintf("beta,%.12g", bhat), sprintf("gamma,%.12g", ghat),
             sprintf("loglik,%.12g", lhat), sprintf("lower,%.12g", lo), sprintf("upper,%.12g", hi),
             sprintf("cases,%d", length(rs))), args[6])
