/*
 * opt.c — parsing argv against a command's option table, the readers of
 * the parsed values, and "did you mean" suggestions (opt.h).
 *
 * Hand-written rather than getopt_long: getopt_long permutes argv, accepts
 * abbreviations (--hist for --histories, which silently changes meaning when
 * an option is added) and prints its own messages; here every error is one
 * sentence in an hm_error and the caller decides how to show it.
 */
#include "opt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int nopts(const hm_cli_cmd *c)
{
    int n = 0;
    while (c->opts && c->opts[n].name)
        n++;
    return n;
}

static int find_long(const hm_cli_cmd *c, const char *name, size_t len)
{
    for (int i = 0; c->opts && c->opts[i].name; i++)
        if (strlen(c->opts[i].name) == len && !strncmp(c->opts[i].name, name, len))
            return i;
    return -1;
}

static int find_short(const hm_cli_cmd *c, char ch)
{
    for (int i = 0; c->opts && c->opts[i].name; i++)
        if (c->opts[i].short_name == ch)
            return i;
    return -1;
}

/* Integers print without an exponent up to 1e15, so bounds read naturally. */
static void fmt_bound(char *buf, size_t n, double v)
{
    if (v == floor(v) && fabs(v) < 1e16)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%g", v);
}

/* "an integer 1..256", "a number > 0", "one of text, csv, json". */
static void expected(const hm_cli_opt *o, char *buf, size_t n)
{
    char lo[32], hi[32];
    fmt_bound(lo, sizeof lo, o->min);
    fmt_bound(hi, sizeof hi, o->max);
    const char *what = o->type == HM_OPT_T_INT ? "an integer" : "a number";
    switch (o->type) {
    case HM_OPT_T_INT:
    case HM_OPT_T_NUMBER:
        if (!(o->flags & HM_OPT_BOUNDED))
            snprintf(buf, n, "%s", what);
        else if (isinf(o->max))
            snprintf(buf, n, "%s %s %s", what, o->flags & HM_OPT_MIN_EXCL ? ">" : ">=", lo);
        else if (o->flags & HM_OPT_MIN_EXCL)
            snprintf(buf, n, "%s > %s and <= %s", what, lo, hi);
        else
            snprintf(buf, n, "%s %s..%s", what, lo, hi);
        break;
    case HM_OPT_T_CHOICE: {
        size_t k = (size_t)snprintf(buf, n, "one of ");
        for (const char *p = o->choices; *p && k + 3 < n; p++) {
            if (*p == '|') {
                buf[k++] = ',';
                buf[k++] = ' ';
            } else {
                buf[k++] = *p;
            }
        }
        buf[k < n ? k : n - 1] = '\0';
        break;
    }
    default:
        snprintf(buf, n, "%s", o->value_name ? o->value_name : "a value");
    }
}

static int choice_ok(const char *choices, const char *s)
{
    size_t len = strlen(s);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && !strncmp(p, s, n))
            return 1;
        p = bar ? bar + 1 : p + n;
    }
    return 0;
}

/* Converts and range-checks one value; 0 ok, -1 not of the option's type. */
static int convert(const hm_cli_opt *o, const char *s, hm_arg_value *v)
{
    v->text = s;
    v->number = 0;
    v->integer = 0;
    char *end;
    if (o->type == HM_OPT_T_INT) {
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (end != s && !*end && !errno) {
            v->integer = i;
            v->number = (double)i;
        } else {
            /* 2e5 histories is a natural way to write 200000. */
            double d = strtod(s, &end);
            if (end == s || *end || !isfinite(d) || d != floor(d) || fabs(d) > 9.2e18)
                return -1;
            v->integer = (long long)d;
            v->number = d;
        }
    } else if (o->type == HM_OPT_T_NUMBER) {
        double d = strtod(s, &end);
        if (end == s || *end || !isfinite(d))
            return -1;
        v->number = d;
    } else if (o->type == HM_OPT_T_CHOICE) {
        return choice_ok(o->choices, s) ? 0 : -1;
    } else {
        return 0;
    }
    if (o->flags & HM_OPT_BOUNDED) {
        int low = o->flags & HM_OPT_MIN_EXCL ? v->number <= o->min : v->number < o->min;
        if (low || v->number > o->max)
            return -1;
    }
    return 0;
}

static int bad_value(const hm_cli_opt *o, const char *s, hm_error *err)
{
    char exp[256];
    expected(o, exp, sizeof exp);
    return hm_error_set(err, HM_EINVAL, NULL, 0, o->name,
                        "option '--%s': expected %s, found '%s'", o->name, exp, s);
}

static int unknown_option(const hm_cli_cmd *c, const char *arg, hm_error *err)
{
    const char *word = arg;
    while (*word == '-')
        word++;
    size_t len = strcspn(word, "=");
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), word);
    int n = nopts(c);
    const char *cands[256];
    size_t nc = 0;
    for (int i = 0; i < n && nc < 256; i++)
        cands[nc++] = c->opts[i].name;
    const char *s = hm_cli_suggest(name, cands, nc);
    char shown[160];
    snprintf(shown, sizeof shown, "%.*s", (int)strcspn(arg, "="), arg);
    if (s)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL,
                            "unknown option '%.150s' (did you mean '--%s'?)", shown, s);
    return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "unknown option '%.150s'", shown);
}

static int is_help(const char *s)
{
    return !strcmp(s, "--help") || !strcmp(s, "-h");
}

static int push(hm_args *a, int opt, const hm_cli_opt *o, const char *s, hm_error *err)
{
    hm_arg_value *v = &a->values[a->nvalues];
    if (convert(o, s, v))
        return bad_value(o, s, err);
    v->opt = opt;
    v->use = a->count[opt];
    a->nvalues++;
    return 0;
}

/* The values of one use of option k; arg is "--name", "--name=v", "-o" or
 * "-ov"; inline is the text after '=' (or after -o), or NULL. */
static int take_values(hm_args *a, int k, const char *inl, int argc, char **argv, int *i,
                       hm_error *err)
{
    const hm_cli_opt *o = &a->cmd->opts[k];
    if (o->type == HM_OPT_T_FLAG) {
        if (inl)
            return hm_error_set(err, HM_EINVAL, NULL, 0, o->name,
                                "option '--%s' takes no value (found '%s')", o->name, inl);
        a->count[k]++;
        return 0;
    }
    int need = o->nvalues > 0 ? o->nvalues : 1, most = o->nvalues_max > need ? o->nvalues_max : need;
    int got = 0, rc;
    if (inl) {
        if ((rc = push(a, k, o, inl, err)))
            return rc;
        got++;
    }
    for (; got < need; got++) {
        if (*i + 1 >= argc) {
            char exp[256];
            expected(o, exp, sizeof exp);
            if (need > 1)
                return hm_error_set(err, HM_EINVAL, NULL, 0, o->name,
                                    "option '--%s' needs %d values (%s), each %s", o->name,
                                    need, o->value_name ? o->value_name : "", exp);
            return hm_error_set(err, HM_EINVAL, NULL, 0, o->name,
                                "option '--%s' needs a value (%s%s%s)", o->name,
                                o->value_name ? o->value_name : "",
                                o->type == HM_OPT_T_INT || o->type == HM_OPT_T_NUMBER
                                    || o->type == HM_OPT_T_CHOICE ? ": " : "",
                                o->type == HM_OPT_T_INT || o->type == HM_OPT_T_NUMBER
                                    || o->type == HM_OPT_T_CHOICE ? exp : "");
        }
        if ((rc = push(a, k, o, argv[++*i], err)))
            return rc;
    }
    /* Optional further values (--voxel-mm 2 or --voxel-mm 2 2 3): taken
     * while the next word is of the option's type. */
    for (; got < most && *i + 1 < argc; got++) {
        hm_arg_value probe;
        const char *next = argv[*i + 1];
        char *end;
        if (o->type == HM_OPT_T_INT || o->type == HM_OPT_T_NUMBER) {
            strtod(next, &end);
            if (end == next || *end)
                break;
        } else if (next[0] == '-' || convert(o, next, &probe)) {
            break;
        }
        if ((rc = push(a, k, o, argv[++*i], err)))
            return rc;
    }
    a->count[k]++;
    return 0;
}

static int check_complete(const hm_args *a, hm_error *err)
{
    const hm_cli_cmd *c = a->cmd;
    for (int k = 0; c->opts && c->opts[k].name; k++)
        if ((c->opts[k].flags & HM_OPT_REQUIRED) && !a->count[k]) {
            const hm_cli_opt *o = &c->opts[k];
            return hm_error_set(err, HM_EINVAL, NULL, 0, o->name,
                                "missing required option '--%s%s%s'", o->name,
                                o->value_name ? " " : "", o->value_name ? o->value_name : "");
        }
    int need = 0, most = 0, unlimited = 0;
    for (int p = 0; c->pos && c->pos[p].name; p++) {
        need += c->pos[p].min;
        if (need > a->npos)
            return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "missing argument %s (%s)",
                                c->pos[p].name, c->pos[p].help);
        if (c->pos[p].max < 0)
            unlimited = 1;
        else
            most += c->pos[p].max;
    }
    if (!unlimited && a->npos > most)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "unexpected argument '%s'%s",
                            a->pos[most], most ? "" : " (this command takes no arguments)");
    return 0;
}

int hm_args_parse(const hm_cli_cmd *cmd, const char *path, int argc, char **argv, hm_args *a,
                  hm_error *err)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
        if (is_help(argv[i]))
            return 1;
    a->cmd = cmd;
    a->path = path;
    int n = nopts(cmd);
    a->count = calloc((size_t)n + 1, sizeof *a->count);
    a->values = calloc((size_t)argc + 1, sizeof *a->values);
    a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
    if (!a->count || !a->values || !a->pos) {
        hm_args_free(a);
        return hm_error_set(err, HM_ENOMEM, NULL, 0, NULL, "out of memory");
    }
    int rc = 0, done = 0;
    for (int i = 0; i < argc && !rc; i++) {
        const char *s = argv[i];
        if (done || s[0] != '-' || !s[1]) {
            a->pos[a->npos++] = s;
        } else if (!strcmp(s, "--")) {
            done = 1;
        } else if (s[1] == '-') {
            size_t len = strcspn(s + 2, "=");
            int k = find_long(cmd, s + 2, len);
            if (k < 0)
                rc = unknown_option(cmd, s, err);
            else
                rc = take_values(a, k, s[2 + len] == '=' ? s + 3 + len : NULL, argc, argv, &i, err);
        } else {
            int k = find_short(cmd, s[1]);
            if (k >= 0 && s[2] && cmd->opts[k].type == HM_OPT_T_FLAG)
                k = -1;   /* no bundling of flags; -oFILE and -o=FILE are fine */
            if (k < 0)
                rc = unknown_option(cmd, s, err);
            else
                rc = take_values(a, k, s[2] ? s + 2 + (s[2] == '=') : NULL, argc, argv, &i, err);
        }
    }
    if (!rc)
        rc = check_complete(a, err);
    if (rc)
        hm_args_free(a);
    return rc;
}

void hm_args_free(hm_args *a)
{
    free(a->count);
    free(a->values);
    free(a->pos);
    a->count = NULL;
    a->values = NULL;
    a->pos = NULL;
    a->nvalues = a->npos = 0;
}

static int index_of(const hm_args *a, const char *name)
{
    int k = find_long(a->cmd, name, strlen(name));
    if (k < 0) {
        /* A reader asking for an option its table lacks: a bug in cmd_*.c. */
        fprintf(stderr, "harmonic: internal error: %s has no option --%s\n", a->path, name);
        abort();
    }
    return k;
}

int hm_args_count(const hm_args *a, const char *name)
{
    return a->count[index_of(a, name)];
}

int hm_args_flag(const hm_args *a, const char *name)
{
    return hm_args_count(a, name) > 0;
}

int hm_args_values(const hm_args *a, const char *name, const hm_arg_value **first)
{
    int k = index_of(a, name), last = a->count[k] - 1, n = 0;
    *first = NULL;
    for (int i = 0; i < a->nvalues; i++)
        if (a->values[i].opt == k && a->values[i].use == last) {
            if (!n)
                *first = &a->values[i];
            n++;
        }
    return n;
}

const char *hm_args_str(const hm_args *a, const char *name, const char *def)
{
    const hm_arg_value *v;
    return hm_args_values(a, name, &v) ? v->text : def;
}

long long hm_args_int(const hm_args *a, const char *name, long long def)
{
    const hm_arg_value *v;
    return hm_args_values(a, name, &v) ? v->integer : def;
}

double hm_args_num(const hm_args *a, const char *name, double def)
{
    const hm_arg_value *v;
    return hm_args_values(a, name, &v) ? v->number : def;
}

const hm_cli_cmd *hm_cli_find_sub(const hm_cli_cmd *group, const char *name)
{
    for (size_t i = 0; group->subs && group->subs[i]; i++)
        if (!strcmp(group->subs[i]->name, name))
            return group->subs[i];
    return NULL;
}

/* Optimal string alignment distance: insertions, deletions, substitutions
 * and swaps of adjacent letters ("--jsno") each count 1. */
size_t hm_cli_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63)
        return (size_t)-1;
    size_t d[64][64];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
                && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *hm_cli_suggest(const char *word, const char *const *cands, size_t n)
{
    size_t len = strlen(word), best = (size_t)-1;
    const char *pick = NULL, *prefix = NULL;
    int nprefix = 0;
    for (size_t i = 0; i < n; i++) {
        size_t d = hm_cli_edit_distance(word, cands[i]);
        if (d < best) {
            best = d;
            pick = cands[i];
        }
        if (len >= 2 && !strncmp(cands[i], word, len)) {
            prefix = cands[i];
            nprefix++;
        }
    }
    if (!len)
        return NULL;
    /* Close enough to be a typo: one edit, or up to a third of the letters
     * (at most 3), so "--frobnicate" suggests nothing. */
    if (pick) {
        size_t longest = len > strlen(pick) ? len : strlen(pick);
        if (best == 1 ? len >= 2 : (best <= 3 && 3 * best <= longest))
            return pick;
    }
    return nprefix == 1 ? prefix : NULL;
}
