/*
 * cmd_mc.c — `harmonic mc run|spectrum|hvl`: Monte Carlo scenes and X-ray
 * spectra from the command line (docs/mc.md).
 */
#include "cli.h"
#include "hm_mc.h"

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int cmd_run(const hm_args *a)
{
    const char *path = a->pos[0];
    int json = hm_args_flag(a, "json"), quiet = hm_args_flag(a, "quiet");
    long long threads = hm_args_int(a, "threads", -1), hist = hm_args_int(a, "histories", -1);
    long long seed = hm_args_int(a, "seed", -1);
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

static int cmd_spectrum(const hm_args *a)
{
    double kvp = hm_args_num(a, "kvp", 0), al = hm_args_num(a, "al-mm", 0);
    double cu = hm_args_num(a, "cu-mm", 0), ang = hm_args_num(a, "anode-deg", 12);
    double bin = hm_args_num(a, "bin-kev", 0.5);
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

static int cmd_hvl(const hm_args *a)
{
    const char *path = a->pos[0], *b = hm_args_str(a, "bins", "centre");
    int bins = !strcmp(b, "lower") ? HM_MC_BIN_LOWER : !strcmp(b, "point") ? HM_MC_BIN_POINT
             : HM_MC_BIN_CENTRE;
    hm_csv_dialect d, seen;
    int rc = hm_cli_dialect(a, &d);
    if (rc) return rc;
    char how[96];
    if (!hm_csv_dialect_detect(path, &d, &seen, NULL) && hm_csv_dialect_describe(&seen, how, sizeof how))
        hm_cli_dialect_note(path, how);
    hm_mc_spectrum s;
    hm_error err;
    hm_error_clear(&err);
    if (hm_mc_spectrum_read_dialect(path, bins, &d, &s, &err)) return hm_cli_report(&err);
    hm_mc_beam_quality q;
    rc = hm_mc_spectrum_quality(&s, &q, &err);
    hm_mc_spectrum_free(&s);
    if (rc) return hm_cli_report(&err);
    print_quality(&q, "");
    return 0;
}

static const hm_cli_opt run_opts[] = {
    HM_OPT_FLAG("json", "print the results as JSON"),
    HM_OPT_INT("threads", "N", "worker threads", "the scene's", 1, 256),
    HM_OPT_INT("histories", "N", "photon histories", "the scene's", 1, 10000000000000.0),
    HM_OPT_INT("seed", "N", "random seed", "the scene's", 0, 9007199254740992.0),
    HM_OPT_FLAG("quiet", "no progress bar on stderr"),
    HM_OPT_END
};
static const hm_cli_pos run_pos[] = {
    { "SCENE.json", "the scene: geometry, materials, source, tallies (docs/mc.md)", 1, 1,
      HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_cmd mc_run = {
    "run", "simulate a scene; prints energy imparted and dose per region",
    "Prints a table (or JSON with --json) of energy imparted and dose per region, the\n"
    "KAP and the air kerma tallies; a progress bar goes to stderr for long runs.\n",
    run_opts, run_pos, cmd_run, NULL, 0
};

static const hm_cli_opt spectrum_opts[] = {
    { "kvp", 0, HM_OPT_T_NUMBER, "KV", "tube voltage (kV)", NULL,
      HM_OPT_REQUIRED | HM_OPT_BOUNDED | HM_OPT_MIN_EXCL, 0, HUGE_VAL, NULL, 0, 0 },
    HM_OPT_REAL("al-mm", "MM", "aluminium filtration (mm)", "0"),
    HM_OPT_REAL("cu-mm", "MM", "copper filtration (mm)", "0"),
    HM_OPT_REAL("anode-deg", "DEG", "anode angle (degrees)", "12"),
    HM_OPT_REAL("bin-kev", "W", "energy bin width (keV)", "0.5"),
    HM_OPT_END
};
static const hm_cli_cmd mc_spectrum = {
    "spectrum", "tungsten-anode spectrum (CSV on stdout) with its HVL1, HVL2, mean energy",
    NULL, spectrum_opts, NULL, cmd_spectrum, NULL, 0
};

static const hm_cli_opt hvl_opts[] = {
    HM_OPT_CHOICE("bins", "KIND", "what each energy in the file is: bin centre, lower edge or a line",
                  "centre", "centre|lower|point"),
    HM_OPT_DIALECT,
    HM_OPT_END
};
static const hm_cli_pos hvl_pos[] = {
    { "SPECTRUM.csv", "energy_keV,relative_fluence rows", 1, 1, HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_cmd mc_hvl = {
    "hvl", "first and second half-value layers (mm Al) of a spectrum file", NULL, hvl_opts,
    hvl_pos, cmd_hvl, NULL, 0
};

static const hm_cli_cmd *const mc_subs[] = { &mc_run, &mc_spectrum, &mc_hvl, NULL };
static const hm_cli_opt group_opts[] = { HM_OPT_END };
const hm_cli_cmd hm_cli_mc = {
    "mc", "run a Monte Carlo photon transport scene",
    "Monte Carlo photon transport, X-ray spectra and half-value layers (docs/mc.md).\n",
    group_opts, NULL, NULL, mc_subs, 0
};
