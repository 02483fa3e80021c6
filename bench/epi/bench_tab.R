# bench_tab.R — the R peer for bench_epi's tabulation: the same person-year
# table (attained age x cumulative lagged dose category x sex) with the
# survival package: tmerge() builds the lagged cumulative dose as a
# time-dependent covariate (cumtdc), survSplit() cuts attained age, and
# aggregate() sums person-years and cases per cell.  Time scale: age in days.
# usage: Rscript bench_tab.R persons.csv doses.csv events.csv LAG EXCL AGECUTS DOSECUTS
suppressMessages(library(survival))
a <- commandArgs(trailingOnly = TRUE)
cpu <- function() { p <- proc.time(); p[["user.self"]] + p[["sys.self"]] }
t0 <- proc.time()[["elapsed"]]
p <- read.csv(a[1], stringsAsFactors = FALSE)
d <- read.csv(a[2])
e <- read.csv(a[3])
t1 <- proc.time()[["elapsed"]]; c1 <- cpu()
Y <- 365.25; lag <- as.numeric(a[4]) * Y; excl <- as.numeric(a[5]) * Y
agecuts <- as.numeric(strsplit(a[6], ",")[[1]]); dosecuts <- as.numeric(strsplit(a[7], ",")[[1]])
first <- tapply(d$date, d$id, min)
p$start <- first[p$id] - p$birth + excl
ev <- tapply(e$date, e$id, min)
p$ev <- ifelse(p$id %in% names(ev), ev[p$id] - p$birth, Inf)
p <- p[is.finite(p$start) & p$ev > p$start, ]
p$stop <- pmin(p$end - p$birth, p$ev)
p <- p[p$stop > p$start, ]
p$case <- as.numeric(p$ev <= p$stop)
base <- data.frame(id = p$id, sex = p$sex, tstart = p$start, tstop = p$stop, case = p$case)
dd <- data.frame(id = d$id, t = d$date - p$birth[match(d$id, p$id)] + lag, dose = d$dose_mgy)
dd <- dd[!is.na(dd$t), ]
tm <- tmerge(base, base, id = id, tstart = tstart, tstop = tstop, ev = event(tstop, case))
tm <- tmerge(tm, dd, id = id, cum = cumtdc(t, dose, 0))
tm$ev[is.na(tm$ev)] <- 0
sp <- survSplit(Surv(tstart, tstop, ev) ~ ., data = tm, cut = agecuts * Y, episode = "agecat")
sp$pyr <- (sp$tstop - sp$tstart) / Y
sp$dcat <- findInterval(sp$cum, dosecuts)
sp$pyd <- sp$pyr * sp$cum
tab <- aggregate(cbind(pyr, ev, pyd) ~ agecat + dcat + sex, data = sp, FUN = sum)
t2 <- proc.time()[["elapsed"]]; c2 <- cpu()
cat(sprintf("r_read_s,%.4f\nr_tab_s,%.4f\nr_tab_cpu_s,%.4f\nr_cells,%d\nr_pyr,%.10g\nr_cases,%d\n", t1 - t0, t2 - t1, c2 - c1,
            nrow(tab), sum(tab$pyr), sum(tab$ev)))
