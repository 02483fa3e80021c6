/*
 * main.c — `harmonic COMMAND [SUB] [ARGS]`: walks the command tree (the
 * tables of cmd_*.c), parses the leaf's options and runs it.  Also the
 * commands about commands: help, completion and version.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const hm_cli_cmd root;

static const hm_cli_opt no_opts[] = { HM_OPT_END };

static int run_version(const hm_args *a)
{
    (void)a;
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

static const hm_cli_cmd version_cmd = {
    "version", "print the version and the folder data files are read from", NULL, no_opts, NULL, run_version, NULL, 0
};

/* Prints the "unknown command" error of group (at path) for word. */
static int unknown_command(const hm_cli_cmd *group, const char *path, const char *word)
{
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; group->subs[i] && n < 64; i++)
        if (!group->subs[i]->hidden)
            names[n++] = group->subs[i]->name;
    const char *s = hm_cli_suggest(word, names, n);
    if (s)
        fprintf(stderr, "%s: unknown command '%s' (did you mean '%s'?)\n", path, word, s);
    else
        fprintf(stderr, "%s: unknown command '%s'\n", path, word);
    fprintf(stderr, "see '%s --help'\n", path);
    return 2;
}

/* `help [COMMAND [SUB]]` below group: the help of the command named. */
static int help_walk(const hm_cli_cmd *c, char *path, size_t size, int n, const char **words)
{
    for (int i = 0; i < n; i++) {
        const hm_cli_cmd *s = c->subs ? hm_cli_find_sub(c, words[i]) : NULL;
        if (!s) {
            if (!c->subs) {
                fprintf(stderr, "%s: has no sub-command '%s'\nsee '%s --help'\n", path, words[i],
                        path);
                return 2;
            }
            return unknown_command(c, path, words[i]);
        }
        size_t len = strlen(path);
        snprintf(path + len, size - len, " %s", s->name);
        c = s;
    }
    hm_cli_help(c, path, stdout);
    return 0;
}

static int run_help(const hm_args *a)
{
    char path[512] = "harmonic";
    return help_walk(&root, path, sizeof path, a->npos, a->pos);
}

static const hm_cli_pos help_pos[] = {
    { "COMMAND", "a command, then optionally its sub-command (e.g. mc run)", 0, -1,
      HM_OPT_T_STRING },
    HM_POS_END
};
static const hm_cli_cmd help_cmd = {
    "help", "print the help of a command (harmonic help mc run)", NULL, no_opts, help_pos,
    run_help, NULL, 0
};

static int run_completion_bash(const hm_args *a)
{
    (void)a;
    hm_cli_complete_bash(&root, "harmonic", stdout);
    return 0;
}

static int run_completion_list(const hm_args *a)
{
    (void)a;
    hm_cli_complete_list(&root, "harmonic", stdout);
    return 0;
}

static const hm_cli_cmd completion_bash = {
    "bash", "print a bash completion script",
    "Load it in the current shell with\n"
    "    source <(harmonic completion bash)\n"
    "or install it for every shell, e.g.\n"
    "    harmonic completion bash > ~/.local/share/bash-completion/completions/harmonic\n",
    no_opts, NULL, run_completion_bash, NULL, 0
};
/* Hidden: every command path and its options, one per line, for the tests
 * that walk the whole tree. */
static const hm_cli_cmd completion_list = {
    "list", "list every command and its options (PATH<TAB>OPTIONS)", NULL, no_opts, NULL,
    run_completion_list, NULL, 1
};
static const hm_cli_cmd *const completion_subs[] = { &completion_bash, &completion_list, NULL };
static const hm_cli_cmd completion_cmd = {
    "completion", "shell completion generated from the command tables", NULL, no_opts, NULL,
    NULL, completion_subs, 0
};

static const hm_cli_cmd *const root_subs[] = {
#ifdef HM_HAVE_REGISTRY
    &hm_cli_dictionary, &hm_cli_import, &hm_cli_export, &hm_cli_report_cmd, &hm_cli_db,
#endif
#ifdef HM_HAVE_PSEUDO
    &hm_cli_keygen, &hm_cli_pseudonymise,
#endif
#ifdef HM_HAVE_SYNTH
    &hm_cli_synth,
#endif
#ifdef HM_HAVE_DICOM
    &hm_cli_rdsr,
#endif
#ifdef HM_HAVE_MC
    &hm_cli_mc,
#endif
#ifdef HM_HAVE_PHANTOM
    &hm_cli_phantom,
#endif
#ifdef HM_HAVE_DOSIMETRY
    &hm_cli_dose,
#endif
#ifdef HM_HAVE_RT
    &hm_cli_rt,
#endif
#ifdef HM_HAVE_EPI
    &hm_cli_epi,
#endif
#ifdef HM_HAVE_QOL
    &hm_cli_qol,
#endif
#ifdef HM_HAVE_BIOBANK
    &hm_cli_biobank,
#endif
#ifdef HM_HAVE_SERVER
    &hm_cli_serve, &hm_cli_user, &hm_cli_audit, &hm_cli_server,
#endif
    &help_cmd, &completion_cmd, &version_cmd, NULL
};

static const hm_cli_opt root_opts[] = {
    HM_OPT_FLAG("version", "print the version and exit"),
    HM_OPT_END
};

/* `harmonic` alone, or with options only: --version. */
static int run_root(const hm_args *a)
{
    if (hm_args_flag(a, "version"))
        return run_version(a);
    hm_cli_help(&root, "harmonic", stderr);
    return 2;
}

static const hm_cli_cmd root = {
    "harmonic", "the HARMONIC registry, dosimetry and risk-analysis toolkit",
    "Paediatric radiation epidemiology: a validated multi-centre registry, pseudonymisation,\n"
    "RDSR import, Monte Carlo organ dosimetry on age-specific phantoms and ERR models.\n",
    root_opts, NULL, run_root, root_subs, 0
};

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

int hm_cli_usage_error(const hm_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", a->path);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nsee '%s --help'\n", a->path);
    return 2;
}

/* Runs c on argv[0..argc), the words after c's name; path names c. */
static int dispatch(const hm_cli_cmd *c, char *path, size_t size, int argc, char **argv)
{
    if (c->subs && argc > 0 && argv[0][0] != '-') {
        const hm_cli_cmd *s = hm_cli_find_sub(c, argv[0]);
        if (!s && !strcmp(argv[0], "help"))   /* `harmonic mc help run` */
            return help_walk(c, path, size, argc - 1, (const char **)argv + 1);
        if (!s)
            return unknown_command(c, path, argv[0]);
        size_t len = strlen(path);
        snprintf(path + len, size - len, " %s", s->name);
        return dispatch(s, path, size, argc - 1, argv + 1);
    }
    if (c->subs && argc == 0 && !c->run) {   /* `harmonic mc`: its help, as an error */
        hm_cli_help(c, path, stderr);
        return 2;
    }
    hm_args a;
    hm_error err;
    hm_error_clear(&err);
    int rc = hm_args_parse(c, path, argc, argv, &a, &err);
    if (rc == 1) {
        hm_cli_help(c, path, stdout);
        return 0;
    }
    if (rc == HM_ENOMEM) {
        fprintf(stderr, "%s: out of memory\n", path);
        return 3;
    }
    if (rc) {
        fprintf(stderr, "%s: %s\nsee '%s --help'\n", path, err.msg, path);
        return 2;
    }
    if (!c->run) {   /* a group given options only */
        hm_args_free(&a);
        fprintf(stderr, "%s: missing command\nsee '%s --help'\n", path, path);
        return 2;
    }
    rc = c->run(&a);
    hm_args_free(&a);
    return rc;
}

int main(int argc, char **argv)
{
    char path[512] = "harmonic";
    return dispatch(&root, path, sizeof path, argc - 1, argv + 1);
}
