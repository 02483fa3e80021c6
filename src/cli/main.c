/*
 * main.c — `harmonic COMMAND [ARGS]`: finds the command and hands it argv.
 * All work is in libharmonic; commands live in cmd_*.c beside this file.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
#ifdef HM_HAVE_REGISTRY
    { "dictionary",  hm_cmd_dictionary,  "print the data dictionary (text, CSV, JSON)" },
    { "import",      hm_cmd_import,      "validate and import a CSV file into the registry" },
    { "export",      hm_cmd_export,      "export analysis-ready CSVs, codebook, R and Stata scripts" },
    { "report",      hm_cmd_report,      "data-quality and per-centre completeness report" },
    { "db",          hm_cmd_db,          "create or migrate a registry database" },
#endif
#ifdef HM_HAVE_PSEUDO
    { "keygen",      hm_cmd_keygen,      "generate a study pseudonymisation key" },
    { "pseudonymise",hm_cmd_pseudonymise,"pseudonymise a hospital CSV with the study key" },
#endif
#ifdef HM_HAVE_SYNTH
    { "synth",       hm_cmd_synth,       "generate a synthetic multi-centre cohort" },
#endif
#ifdef HM_HAVE_DICOM
    { "rdsr",        hm_cmd_rdsr,        "read DICOM radiation dose SRs (show, import)" },
#endif
#ifdef HM_HAVE_MC
    { "mc",          hm_cmd_mc,          "run a Monte Carlo photon transport scene" },
#endif
#ifdef HM_HAVE_PHANTOM
    { "phantom",     hm_cmd_phantom,     "build, show and convert computational phantoms" },
#endif
#ifdef HM_HAVE_EPI
    { "epi",         hm_cmd_epi,         "person-years and excess relative risk models" },
#endif
    { NULL, NULL, NULL }
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: harmonic COMMAND [ARGS]   (harmonic COMMAND --help for details)\n\n");
    for (size_t i = 0; commands[i].name; i++)
        fprintf(fp, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp, "  %-13s %s\n", "version", "print the version");
}

int hm_cli_report(const hm_error *err)
{
    char buf[1024];
    hm_error_format(err, buf, sizeof buf);
    fprintf(stderr, "harmonic: %s\n", buf);
    switch (err->code) {
    case HM_EINVAL: return 2;
    case HM_ENOMEM: return 3;
    default:        return 1;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("harmonic %s\n", HM_VERSION_STRING);
        /* Where data files come from: what a packager or a user with two
         * installs needs to know (see hm_data_path). */
        char path[4096];
        if (hm_data_path("dictionary.csv", path, sizeof path, NULL) == HM_OK) {
            char *slash = strrchr(path, '/');
            if (slash)
                *slash = '\0';
            printf("data: %s\n", path);
        } else {
            printf("data: not found (set HARMONIC_DATA)\n");
        }
        return 0;
    }
    for (size_t i = 0; commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "harmonic: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
