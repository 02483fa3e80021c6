/*
 * test_opt.c — the table-driven option parser (src/cli/opt.h) on a test
 * table: every value type, bounds, required options and arguments, the
 * --opt=value and -oVALUE forms, "--", repeated and multi-value options,
 * --help anywhere, "did you mean" suggestions, and the generated help.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "opt.h"

#include <stdlib.h>
#include <string.h>

static const hm_cli_opt opts[] = {
    { "name", 0, HM_OPT_T_STRING, "NAME", "a required name", NULL, HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_INT("count", "N", "how many", "3", 1, 10),
    HM_OPT_INT("histories", "N", "photon histories", "1000", 1, 1e13),
    HM_OPT_NUM("ratio", "R", "a ratio", NULL, -2, 2),
    { "size", 0, HM_OPT_T_NUMBER, "MM", "a size", NULL, HM_OPT_BOUNDED | HM_OPT_MIN_EXCL, 0,
      100, NULL, 1, 3 },
    { "dims", 0, HM_OPT_T_INT, "NX NY NZ", "three integers", NULL, HM_OPT_BOUNDED, 1, 99, NULL, 3, 0 },
    HM_OPT_CHOICE("mode", "M", "speed", "fast", "fast|slow|exact"),
    { "tag", 0, HM_OPT_T_STRING, "T", "a tag", NULL, HM_OPT_REPEAT, 0, 0, NULL, 0, 0 },
    { "output", 'o', HM_OPT_T_PATH, "FILE", "where to write", "stdout", 0, 0, 0, NULL, 0, 0 },
    HM_OPT_FLAG("json", "print JSON"),
    HM_OPT_END
};
static const hm_cli_pos pos[] = {
    { "IN", "the input", 1, 1, HM_OPT_T_PATH },
    { "MORE", "further inputs", 0, 2, HM_OPT_T_PATH },
    HM_POS_END
};
static const hm_cli_cmd cmd = { "t", "a test command", "Longer text.\n", opts, pos, NULL, NULL, 0 };

/* Parses a space-separated command line (no quoting needed here). */
static int parse(const char *line, hm_args *a, hm_error *err)
{
    static char buf[1024];
    static char *argv[64];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *t = strtok(buf, " "); t && argc < 64; t = strtok(NULL, " "))
        argv[argc++] = t;
    hm_error_clear(err);
    return hm_args_parse(&cmd, "prog t", argc, argv, a, err);
}

static void expect_error(const char *line, const char *msg)
{
    hm_args a;
    hm_error err;
    assert_int_equal(parse(line, &a, &err), HM_EINVAL);
    if (!strstr(err.msg, msg))
        fail_msg("'%s': message '%s' lacks '%s'", line, err.msg, msg);
}

static void test_values_and_defaults(void **state)
{
    (void)state;
    hm_args a;
    hm_error err;
    assert_int_equal(parse("--name x --count 7 --ratio=-1.5 --mode slow -oout.txt --json in.csv", &a, &err), 0);
    assert_string_equal(hm_args_str(&a, "name", NULL), "x");
    assert_int_equal(hm_args_int(&a, "count", 3), 7);
    assert_true(hm_args_num(&a, "ratio", 0) == -1.5);
    assert_string_equal(hm_args_str(&a, "mode", "fast"), "slow");
    assert_string_equal(hm_args_str(&a, "output", NULL), "out.txt");
    assert_true(hm_args_flag(&a, "json"));
    assert_int_equal(a.npos, 1);
    assert_string_equal(a.pos[0], "in.csv");
    hm_args_free(&a);
    /* Absent options read their defaults; -o VALUE and --output=VALUE forms. */
    assert_int_equal(parse("a.csv --name=y -o o2 b.csv", &a, &err), 0);
    assert_int_equal(hm_args_int(&a, "count", 3), 3);
    assert_false(hm_args_flag(&a, "json"));
    assert_string_equal(hm_args_str(&a, "mode", "fast"), "fast");
    assert_string_equal(hm_args_str(&a, "output", NULL), "o2");
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[1], "b.csv");
    hm_args_free(&a);
    /* 2e5 is an integer; exact integers beyond 2^53 are kept exactly. */
    assert_int_equal(parse("--name x --histories 2e5 in", &a, &err), 0);
    assert_int_equal(hm_args_int(&a, "histories", 0), 200000);
    hm_args_free(&a);
    assert_int_equal(parse("--name x --histories 9999999999999 in", &a, &err), 0);
    assert_int_equal(hm_args_int(&a, "histories", 0), 9999999999999LL);
    hm_args_free(&a);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_error("--name x --count 0 in", "option '--count': expected an integer 1..10, found '0'");
    expect_error("--name x --count 11 in", "expected an integer 1..10, found '11'");
    expect_error("--name x --count 2.5 in", "expected an integer 1..10, found '2.5'");
    expect_error("--name x --count abc in", "found 'abc'");
    expect_error("--name x --ratio 3 in", "option '--ratio': expected a number -2..2, found '3'");
    expect_error("--name x --ratio nan in", "found 'nan'");
    expect_error("--name x --size 0 in", "expected a number > 0 and <= 100, found '0'");
    expect_error("--name x --mode quick in",
                 "option '--mode': expected one of fast, slow, exact, found 'quick'");
    expect_error("--name x --json=yes in", "option '--json' takes no value (found 'yes')");
    expect_error("--name x in --count", "option '--count' needs a value (N: an integer 1..10)");
    expect_error("--name x in --dims 1 2", "option '--dims' needs 3 values (NX NY NZ)");
    expect_error("--name x in --dims 1 2 100", "option '--dims': expected an integer 1..99, found '100'");
}

static void test_required_and_positionals(void **state)
{
    (void)state;
    expect_error("in.csv", "missing required option '--name NAME'");
    expect_error("--name x", "missing argument IN (the input)");
    expect_error("--name x a b c d", "unexpected argument 'd'");
    hm_args a;
    hm_error err;
    /* After "--" everything is an argument, even --help. */
    assert_int_equal(parse("--name x -- --json --help", &a, &err), 0);
    assert_false(hm_args_flag(&a, "json"));
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[0], "--json");
    hm_args_free(&a);
    /* A lone "-" (stdin) is an argument. */
    assert_int_equal(parse("--name x -", &a, &err), 0);
    assert_string_equal(a.pos[0], "-");
    hm_args_free(&a);
}

static void test_help_anywhere(void **state)
{
    (void)state;
    hm_args a;
    hm_error err;
    /* --help wins over errors elsewhere on the line (missing --name, bad count). */
    assert_int_equal(parse("--count 99 --help", &a, &err), 1);
    assert_int_equal(parse("-h", &a, &err), 1);
}

static void test_repeat_and_multi(void **state)
{
    (void)state;
    hm_args a;
    hm_error err;
    assert_int_equal(parse("--name a --tag x --name b --tag y --tag z in", &a, &err), 0);
    assert_int_equal(hm_args_count(&a, "tag"), 3);
    assert_string_equal(hm_args_str(&a, "tag", NULL), "z");       /* the last use */
    assert_string_equal(hm_args_str(&a, "name", NULL), "b");
    static const char *const tags[] = { "x", "y", "z" };
    int seen = 0;
    for (int i = 0; i < a.nvalues; i++)
        if (!strcmp(cmd.opts[a.values[i].opt].name, "tag")) {
            assert_string_equal(a.values[i].text, tags[seen]);
            seen++;
        }
    assert_int_equal(seen, 3);
    hm_args_free(&a);
    const hm_arg_value *v;
    /* --size takes 1 to 3 numbers, stopping at the first word that is not one. */
    assert_int_equal(parse("--name a --size 2 in", &a, &err), 0);
    assert_int_equal(hm_args_values(&a, "size", &v), 1);
    assert_true(v[0].number == 2);
    assert_string_equal(a.pos[0], "in");
    hm_args_free(&a);
    assert_int_equal(parse("--name a --size 2 3 4 in --dims 5 6 7", &a, &err), 0);
    assert_int_equal(hm_args_values(&a, "size", &v), 3);
    assert_true(v[0].number == 2 && v[1].number == 3 && v[2].number == 4);
    assert_int_equal(hm_args_values(&a, "dims", &v), 3);
    assert_int_equal(v[2].integer, 7);
    assert_int_equal(a.npos, 1);
    hm_args_free(&a);
}

static void test_unknown_and_suggestions(void **state)
{
    (void)state;
    expect_error("--name x --cuont 3 in", "unknown option '--cuont' (did you mean '--count'?)");
    expect_error("--name x --histores=5 in", "unknown option '--histores' (did you mean '--histories'?)");
    expect_error("--name x --jsno in", "(did you mean '--json'?)");
    expect_error("--name x -json in", "unknown option '-json' (did you mean '--json'?)");
    hm_args a;
    hm_error err;
    assert_int_equal(parse("--name x --frobnicate in", &a, &err), HM_EINVAL);
    assert_string_equal(err.msg, "unknown option '--frobnicate'");
    assert_int_equal(hm_cli_edit_distance("jsno", "json"), 1);
    assert_int_equal(hm_cli_edit_distance("", "abc"), 3);
    assert_int_equal(hm_cli_edit_distance("kitten", "sitting"), 3);
    const char *subs[] = { "run", "spectrum", "hvl" };
    assert_string_equal(hm_cli_suggest("rn", subs, 3), "run");
    assert_string_equal(hm_cli_suggest("spec", subs, 3), "spectrum");   /* a unique prefix */
    assert_string_equal(hm_cli_suggest("hlv", subs, 3), "hvl");
    assert_null(hm_cli_suggest("frobnicate", subs, 3));
    assert_null(hm_cli_suggest("x", subs, 3));
}

static void test_help_text(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    assert_non_null(fp);
    hm_cli_help(&cmd, "prog t", fp);
    fclose(fp);
    const char *want[] = {
        "usage: prog t --name NAME [OPTIONS] IN [MORE]\n",
        "a test command\n", "Longer text.\n", "arguments:\n", "  IN ", "the input",
        "--count N", "how many; integer 1..10 (default: 3)",
        "--size MM", "number > 0 and <= 100",
        "--mode M", "one of fast, slow, exact (default: fast)",
        "--name NAME", "(required)", "(may be repeated)",
        "-o, --output FILE", "(default: stdout)", "--json", "-h, --help",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i]))
            fail_msg("help lacks '%s':\n%s", want[i], text);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_defaults),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_required_and_positionals),
        cmocka_unit_test(test_help_anywhere),
        cmocka_unit_test(test_repeat_and_multi),
        cmocka_unit_test(test_unknown_and_suggestions),
        cmocka_unit_test(test_help_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
