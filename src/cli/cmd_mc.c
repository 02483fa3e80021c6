/*
 * cmd_mc.c — `harmonic mc run|spectrum|hvl`: Monte Carlo scenes and X-ray
 * spectra from the command line (docs/mc.md).
 */
#include "cli.h"
#include "hm_mc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: harmonic mc run SCENE.json [--json] [--threads N] [--histories N] [--seed N] [--quiet]\n"
            "       harmonic mc spectrum --kvp KV [--al-mm MM] [--cu-mm MM] [--anode-deg DEG] [--bin-kev W]\n"
            "       harmonic mc hvl SPECTRUM.csv [--bins centre|lower|point]\n"
            "\n"
            "  run       simulate a scene; prints energy imparted and dose per region\n"
            "            (a table, or JSON with --json); progress on stderr\n"
            "  spectrum  tungsten-anode spectrum (CSV on stdout) with its HVL1, HVL2, mean energy\n"
            "  hvl       first and second half-value layers (mm Al) of a spectrum file\n");
}

static int parse_long(const char *s, long long lo, long long hi, long long *out)
{
    char *e;
    double v = strtod(s, &e);
    if (*e || e == s || v < (double)lo || v > (double)hi) return -1;
    *out = (long long)v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *e;
    *out = strtod(s, &e);
    return (*e || e == s) ? -1 : 0;
}

static void progress(double f, void *user)
{
    (void)user;
    int w = 40, n = (int)(f * w + 0.5);
    if (n > w) n = w;
    fprintf(stderr, "\r[%.*s%*s] %5.1f%%", n, "========================================", w - n, "",
            100.0 * f);
    if (f >= 1.0) fputc('\n', stderr);
    fflush(stderr);
}

static int cmd_run(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0, quiet = 0;
    long long threads = -1, hist = -1, seed = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (!strcmp(a, "--threads") && i + 1 < argc) {
            if (parse_long(argv[++i], 1, 256, &threads)) { fprintf(stderr, "harmonic mc run: --threads expects 1..256\n"); return 2; }
        } else if (!strcmp(a, "--histories") && i + 1 < argc) {
            if (parse_long(argv[++i], 1, 10000000000000LL, &hist)) { fprintf(stderr, "harmonic mc run: --histories expects a positive count\n"); return 2; }
        } else if (!strcmp(a, "--seed") && i + 1 < argc) {
            if (parse_long(argv[++i], 0, 9007199254740992LL, &seed)) { fprintf(stderr, "harmonic mc run: --seed expects a non-negative integer\n"); return 2; }
        } else if (a[0] == '-') { usage(stderr); return 2; }
        else if (!path) path = a;
        else { usage(stderr); return 2; }
    }
    if (!path) { usage(stderr); return 2; }
    hm_error err;
    hm_error_clear(&err);
    hm_mc_scene *s;
    hm_mc_run_params p;
    int rc = hm_mc_scene_load(path, &s, &p, &err);
    if (rc) return hm_cli_report(&err);
    if (threads > 0) p.threads = (int)threads;
    if (hist > 0) p.histories = hist;
    if (seed >= 0) p.seed = (uint64_t)seed;
    if (!quiet && isatty(2) && p.histories >= 200000) p.progress = progress;
    hm_mc_results r;
    rc = hm_mc_run(s, &p, &r, &err);
    if (rc) { hm_mc_scene_free(s); return hm_cli_report(&err); }
    if (json) {
        hm_mc_results_write_json(s, &r, stdout);
    } else {
        printf("%lld histories, %d thread(s), %.2f s (%.3g histories/s)\n", r.histories, r.threads,
               r.seconds, r.histories / (r.seconds > 0 ? r.seconds : 1e-9));
        double k0 = r.nkerma_points ? r.kerma_point_gy[0] : 0;
        printf("%-6s %-20s %12s %14s %9s %14s %12s %14s\n", "region", "name", "mass_g",
               "edep_eV/hist", "rel_sd_%", "dose_Gy/hist", "dose/Kair", "dose/KAP_cm-2");
        for (int i = 0; i < r.nregions; i++) {
            const char *nm = hm_mc_region_name(s, i);
            if (r.edep_ev[i] == 0 && !nm) continue;
            printf("%-6d %-20s %12.5g %14.6g %9.3f %14.6g %12.5g %14.6g\n", i, nm ? nm : "",
                   r.mass_g[i], r.edep_ev[i],
                   r.edep_ev[i] > 0 ? 100 * r.edep_ev_sigma[i] / r.edep_ev[i] : 0, r.dose_gy[i],
                   k0 > 0 ? r.dose_gy[i] / k0 : 0, r.kap_gy_cm2 > 0 ? r.dose_gy[i] / r.kap_gy_cm2 : 0);
        }
        printf("KAP %.6g Gy cm2 per history\n", r.kap_gy_cm2);
        for (size_t i = 0; i < r.nkerma_points; i++)
            printf("air kerma at point %zu: %.6g Gy per history (primary, free in air)\n", i,
                   r.kerma_point_gy[i]);
        for (size_t i = 0; i < r.nkerma_discs; i++)
            printf("air kerma on disc %zu: %.6g +- %.2g Gy per history (fluence %.6g /cm2)\n", i,
                   r.kerma_disc_gy[i], r.kerma_disc_gy_sigma[i], r.disc_fluence_cm2[i]);
    }
    hm_mc_results_free(&r);
    hm_mc_scene_free(s);
    return 0;
}

static void print_quality(const hm_mc_beam_quality *q, const char *prefix)
{
    printf("%sHVL1 %.3f mm Al, HVL2 %.3f mm Al, homogeneity %.3f, mean energy %.2f keV\n", prefix,
           q->hvl1_mm_al, q->hvl2_mm_al, q->hvl1_mm_al / q->hvl2_mm_al, q->mean_energy_kev);
}

static int cmd_spectrum(int argc, char **argv)
{
    double kvp = 0, al = 0, cu = 0, ang = 12, bin = 0.5;
    for (int i = 1; i < argc; i++) {
        double *dst = !strcmp(argv[i], "--kvp") ? &kvp : !strcmp(argv[i], "--al-mm") ? &al
                    : !strcmp(argv[i], "--cu-mm") ? &cu : !strcmp(argv[i], "--anode-deg") ? &ang
                    : !strcmp(argv[i], "--bin-kev") ? &bin : NULL;
        if (!dst || i + 1 >= argc || parse_double(argv[++i], dst)) { usage(stderr); return 2; }
    }
    if (kvp <= 0) { fprintf(stderr, "harmonic mc spectrum: --kvp is required\n"); return 2; }
    hm_mc_filter f[2] = { { "aluminium", al }, { "copper", cu } };
    hm_mc_spectrum s;
    hm_error err;
    hm_error_clear(&err);
    if (hm_mc_spectrum_tungsten(kvp, ang, f, 2, bin, &s, &err)) return hm_cli_report(&err);
    hm_mc_beam_quality q;
    if (hm_mc_spectrum_quality(&s, &q, &err)) { hm_mc_spectrum_free(&s); return hm_cli_report(&err); }
    printf("# tungsten anode %.1f kVp, anode %.1f deg, %.3f mm Al + %.3f mm Cu, bins centred, %.3g keV\n",
           kvp, ang, al, cu, bin);
    print_quality(&q, "# ");
    printf("energy_keV,relative_fluence\n");
    for (size_t i = 0; i < s.n; i++) printf("%.4f,%.6e\n", s.energy_kev[i], s.fluence[i]);
    hm_mc_spectrum_free(&s);
    return 0;
}

static int cmd_hvl(int argc, char **argv)
{
    const char *path = NULL;
    int bins = HM_MC_BIN_CENTRE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bins") && i + 1 < argc) {
            const char *b = argv[++i];
            bins = !strcmp(b, "centre") ? HM_MC_BIN_CENTRE : !strcmp(b, "lower") ? HM_MC_BIN_LOWER
                 : !strcmp(b, "point") ? HM_MC_BIN_POINT : -1;
            if (bins < 0) { usage(stderr); return 2; }
        } else if (!path && argv[i][0] != '-') path = argv[i];
        else { usage(stderr); return 2; }
    }
    if (!path) { usage(stderr); return 2; }
    hm_mc_spectrum s;
    hm_error err;
    hm_error_clear(&err);
    if (hm_mc_spectrum_read(path, bins, &s, &err)) return hm_cli_report(&err);
    hm_mc_beam_quality q;
    int rc = hm_mc_spectrum_quality(&s, &q, &err);
    hm_mc_spectrum_free(&s);
    if (rc) return hm_cli_report(&err);
    print_quality(&q, "");
    return 0;
}

int hm_cmd_mc(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "spectrum")) return cmd_spectrum(argc - 1, argv + 1);
    if (!strcmp(argv[1], "hvl")) return cmd_hvl(argc - 1, argv + 1);
    fprintf(stderr, "harmonic mc: unknown sub-command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
