/*
 * bench_logger — the temperature-logger check of `harmonic biobank ship`:
 * hm_bb_logger_read on a generated file of N readings (default 10^6, one a
 * second, dry-ice temperatures with an excursion), best of 3, printed as
 * time and readings/s, beside awk reading the same file for the same
 * answer (count, min, max, readings outside the range) in the same run.
 *
 *   bench_biobank [readings=1000000] [workdir=/tmp]
 */
#include "hm_biobank.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    char path[1024];
    snprintf(path, sizeof path, "%s/bench_logger_%ld.csv", dir, (long)getpid());
    FILE *fp = fopen(path, "w");
    if (!fp || n < 1) {
        fprintf(stderr, "bench_biobank: cannot write %s\n", path);
        return 1;
    }
    fputs("timestamp,temperature_c\n", fp);
    /* 2024-01-01T00:00:00 + i seconds; -78.5 C with a +-1.5 C ripple; from 60 % of the
     * run the dry ice is gone for 2000 s (-55 C). */
    const double t0 = 1704067200.0;
    long excursion = n * 6 / 10;
    for (long i = 0; i < n; i++) {
        char when[32];
        hm_bb_format_time(t0 + (double)i, when);
        double c = (i >= excursion && i < excursion + 2000) ? -55.0 : -78.5 + (double)(i % 31) / 10.0 - 1.5;
        fprintf(fp, "%sZ,%.1f\n", when, c);
    }
    fclose(fp);
    hm_bb_logger_summary s;
    hm_error err;
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t = hm_now_s();
        if (hm_bb_logger_read(path, -100, -60, &s, &err)) {
            char msg[900];
            hm_error_format(&err, msg, sizeof msg);
            fprintf(stderr, "bench_biobank: %s\n", msg);
            remove(path);
            return 1;
        }
        t = hm_now_s() - t;
        if (t < best)
            best = t;
    }
    printf("harmonic  %ld readings in %.3f s (%.2f M readings/s): min %.1f max %.1f, %ld outside "
           "-100..-60 C\n", s.readings, best, s.readings / best / 1e6, s.min_c, s.max_c,
           s.out_of_range);
    /* The peer: awk with the same count, min, max and out-of-range test. */
    char cmd[2048], line[512] = "";
    snprintf(cmd, sizeof cmd,
             "awk -F, 'NR>1{n++; v=$2+0; if(n==1||v<mn)mn=v; if(n==1||v>mx)mx=v; "
             "if(v<-100||v>-60)o++} END{printf \"%%d %%.1f %%.1f %%d\\n\", n, mn, mx, o}' %s",
             path);
    double t = hm_now_s();
    FILE *p = popen(cmd, "r");
    if (p && fgets(line, sizeof line, p) && pclose(p) == 0) {
        t = hm_now_s() - t;
        printf("awk       %.3f s (%.2f M readings/s): %s", t, n / t / 1e6, line);
    } else {
        if (p)
            pclose(p);
        printf("awk       not available\n");
    }
    remove(path);
    int ok = s.readings == n && s.out_of_range == (n - excursion < 2000 ? n - excursion : 2000);
    printf("target    < 1 s for 10^6 readings: %s\n", best < 1.0 ? "met" : "NOT met");
    return ok ? 0 : 1;
}
