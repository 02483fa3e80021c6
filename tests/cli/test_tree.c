/*
 * test_tree.c — the whole `harmonic` command tree through the program: the
 * tree comes from the program itself (`harmonic completion list`), so a new
 * command cannot escape.  Every command and sub-command answers --help (exit
 * 0, "usage:" on stdout, nothing on stderr, every option of its table in
 * the text) and `harmonic help PATH` the same; the bash completion script
 * has every option, passes `bash -n` and completes; error messages name the
 * option and the closest known one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hm_testcmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H HM_HARMONIC_EXE
#define T HM_TEST_TMPDIR

static char out[1 << 17], err[1 << 14];

/* Runs `harmonic ARGS` in the scratch folder; stdout in out, stderr in err. */
static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s", H, args);
    return hm_test_run_in(T, cmd, out, sizeof out, err, sizeof err);
}

/* The tree: lines "PATH<TAB>--opt -o --opt2 ... --help", PATH "" for the root. */
static char *tree_listing(void)
{
    assert_int_equal(run("completion list"), 0);
    assert_string_equal(err, "");
    char *s = strdup(out);
    assert_non_null(s);
    return s;
}

static void test_walk_help(void **state)
{
    (void)state;
    char *list = tree_listing();
    int ncmd = 0, nleaf = 0, have_mc_run = 0, have_epi_fit = 0;
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        const char *path = line;
        char opts[4096];
        snprintf(opts, sizeof opts, "%s", tab + 1);
        char args[600], usage[600];
        snprintf(args, sizeof args, "%s --help", path);
        snprintf(usage, sizeof usage, "usage: harmonic%s%s", path[0] ? " " : "", path);
        int rc = run(args);
        if (rc != 0 || !strstr(out, usage) || err[0])
            fail_msg("'harmonic %s': exit %d, stderr '%s', stdout:\n%s", args, rc, err, out);
        /* Every option of the table is in the help text, as --name (and -x). */
        char *save = NULL;
        for (char *o = strtok_r(opts, " ", &save); o; o = strtok_r(NULL, " ", &save)) {
            char word[80];
            snprintf(word, sizeof word, o[1] == '-' ? "%s" : "%s, ", o);
            if (!strstr(out, word))
                fail_msg("'harmonic %s --help' does not mention %s:\n%s", path, o, out);
        }
        /* harmonic help PATH prints the same text. */
        char *help = strdup(out);
        assert_non_null(help);
        snprintf(args, sizeof args, "help %s", path);
        assert_int_equal(run(args), 0);
        assert_string_equal(out, help);
        ncmd++;
        nleaf += strstr(help, "usage: harmonic") && !strstr(help, "COMMAND [OPTIONS]");
        have_mc_run |= !strcmp(path, "mc run");
        have_epi_fit |= !strcmp(path, "epi fit");
        free(help);
    }
    free(list);
    print_message("walked %d commands (%d runnable leaves), all answer --help\n", ncmd, nleaf);
    assert_true(ncmd >= 30);   /* a floor, so an empty or truncated listing fails */
    assert_true(have_mc_run && have_epi_fit);
}

static void test_bash_completion(void **state)
{
    (void)state;
    char *list = tree_listing();
    assert_int_equal(run("completion bash > " T "/harmonic.bash"), 0);
    assert_int_equal(run("completion bash"), 0);
    char *script = strdup(out);
    assert_non_null(script);
    /* Every visible command's case line lists all its options. */
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        char *tab = strchr(line, '\t');
        *tab = '\0';
        if (strstr(line, "completion list"))
            continue;   /* hidden */
        char want[4200];
        snprintf(want, sizeof want, "    \"%s\") echo \"%s\";;\n", line, tab + 1);
        if (!strstr(script, want))
            fail_msg("the completion script lacks: %s", want);
    }
    free(list);
    free(script);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "bash -n %s/harmonic.bash 2>&1", T);
    assert_int_equal(hm_test_run(cmd, out, sizeof out, 0), 0);
    assert_string_equal(out, "");
    /* Completing: options of a sub-command, choice values, sub-commands. */
    struct { const char *words, *want; } cases[] = {
        { "harmonic mc run --hist", "--histories" },
        { "harmonic mc hvl --bins ''", "centre lower point" },
        { "harmonic epi fit --format ''", "text csv json" },
        { "harmonic mc ''", "run spectrum hvl" },
        { "harmonic phan", "phantom" },
        { "harmonic phantom dose 5y --be", "--beam" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(cmd, sizeof cmd,
                 "bash -c 'source %s/harmonic.bash; COMP_WORDS=(%s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));"
                 " _harmonic; echo \"${COMPREPLY[*]}\"' 2>&1", T, cases[i].words);
        /* The words contain '' for an empty current word: quote for bash -c. */
        char quoted[2048];
        size_t k = 0;
        for (const char *p = cmd; *p && k + 8 < sizeof quoted; p++) {
            if (*p == '\'' && p[1] == '\'' && p > cmd && p[-1] == ' ') {
                memcpy(quoted + k, "\"\"", 2);
                k += 2;
                p++;
            } else {
                quoted[k++] = *p;
            }
        }
        quoted[k] = '\0';
        assert_int_equal(hm_test_run(quoted, out, sizeof out, 0), 0);
        char want[256];
        snprintf(want, sizeof want, "%s\n", cases[i].want);
        if (strcmp(out, want))
            fail_msg("completing '%s': got '%s', expected '%s'", cases[i].words, out, cases[i].want);
    }
}

static void expect_usage_error(const char *args, const char *message)
{
    int rc = run(args);
    if (rc != 2 || strcmp(err, message) || out[0])
        fail_msg("'harmonic %s': exit %d, stdout '%s', stderr:\n%s\nexpected:\n%s", args, rc, out,
                 err, message);
}

static void test_error_messages(void **state)
{
    (void)state;
    expect_usage_error("mc run --histores 5 scene.json",
                       "harmonic mc run: unknown option '--histores' (did you mean '--histories'?)\n"
                       "see 'harmonic mc run --help'\n");
    expect_usage_error("mc rn scene.json",
                       "harmonic mc: unknown command 'rn' (did you mean 'run'?)\n"
                       "see 'harmonic mc --help'\n");
    expect_usage_error("frobnicate", "harmonic: unknown command 'frobnicate'\nsee 'harmonic --help'\n");
    expect_usage_error("dictionry", "harmonic: unknown command 'dictionry' (did you mean 'dictionary'?)\n"
                                    "see 'harmonic --help'\n");
    expect_usage_error("mc run --threads 0 s.json",
                       "harmonic mc run: option '--threads': expected an integer 1..256, found '0'\n"
                       "see 'harmonic mc run --help'\n");
    expect_usage_error("phantom dose 5y --kvp",
                       "harmonic phantom dose: option '--kvp' needs a value (KV: a number 20..150)\n"
                       "see 'harmonic phantom dose --help'\n");
    expect_usage_error("epi fit --format xml --model m d.csv",
                       "harmonic epi fit: option '--format': expected one of text, csv, json, found 'xml'\n"
                       "see 'harmonic epi fit --help'\n");
    expect_usage_error("keygen", "harmonic keygen: missing required option '--out KEYFILE'\n"
                                 "see 'harmonic keygen --help'\n");
    expect_usage_error("mc hvl", "harmonic mc hvl: missing argument SPECTRUM.csv "
                                 "(energy_keV,relative_fluence rows)\nsee 'harmonic mc hvl --help'\n");
    expect_usage_error("report --json=1", "harmonic report: option '--json' takes no value (found '1')\n"
                                          "see 'harmonic report --help'\n");
    /* No command: the overview, on stderr. */
    assert_int_equal(run(""), 2);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "usage: harmonic COMMAND"));
    /* --help and help at the top. */
    assert_int_equal(run("--help"), 0);
    assert_non_null(strstr(out, "usage: harmonic COMMAND"));
    assert_non_null(strstr(out, "\n  mc "));
    assert_string_equal(err, "");
    assert_int_equal(run("help mc run"), 0);
    assert_non_null(strstr(out, "usage: harmonic mc run [OPTIONS] SCENE.json\n"));
    assert_non_null(strstr(out, "--histories N"));
    assert_int_equal(run("mc help run"), 0);
    assert_non_null(strstr(out, "usage: harmonic mc run [OPTIONS] SCENE.json\n"));
    assert_int_equal(run("help mc rnu"), 2);
    assert_non_null(strstr(err, "unknown command 'rnu' (did you mean 'run'?)"));
    /* --version and version. */
    assert_int_equal(run("--version"), 0);
    assert_true(!strncmp(out, "harmonic ", 9));
    char *v = strdup(out);
    assert_non_null(v);
    assert_int_equal(run("version"), 0);
    assert_string_equal(out, v);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_help),
        cmocka_unit_test(test_bash_completion),
        cmocka_unit_test(test_error_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
