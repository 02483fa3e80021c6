/*
 * opt_help.c — usage lines and --help text, generated from a command's
 * table (opt.h), so what is printed is what is parsed.
 */
#include "opt.h"

#include <math.h>
#include <string.h>

#define HELP_COL 26     /* where option help text starts */
#define HELP_WIDTH 79   /* wrap help text before this column */

static void fmt_bound(char *buf, size_t n, double v)
{
    if (v == floor(v) && fabs(v) < 1e16)
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%g", v);
}

/* Prints text word-wrapped from column col (the first line starts wherever
 * the cursor is, at column at). */
static void wrap(FILE *fp, const char *text, int at, int col)
{
    const char *p = text;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (at > col && at + 1 + (int)w > HELP_WIDTH) {
            fprintf(fp, "\n%*s", col, "");
            at = col;
        } else if (at > col) {
            fputc(' ', fp);
            at++;
        }
        fprintf(fp, "%.*s", (int)w, p);
        at += (int)w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', fp);
}

static void pos_word(const hm_cli_pos *p, FILE *fp)
{
    const char *dots = p->max < 0 ? "..." : "";
    if (p->min > 0)
        fprintf(fp, " %s%s", p->name, dots);
    else
        fprintf(fp, " [%s%s]", p->name, dots);
    for (int k = 1; k < p->max && k < p->min; k++)
        fprintf(fp, " %s", p->name);
}

void hm_cli_usage(const hm_cli_cmd *cmd, const char *path, FILE *fp)
{
    fprintf(fp, "usage: %s", path);
    if (cmd->subs) {
        fprintf(fp, " COMMAND [OPTIONS]\n");
        return;
    }
    for (const hm_cli_opt *o = cmd->opts; o && o->name; o++) {
        if (!(o->flags & HM_OPT_REQUIRED))
            continue;
        fprintf(fp, " --%s", o->name);
        if (o->value_name)
            fprintf(fp, " %s", o->value_name);
    }
    fprintf(fp, " [OPTIONS]");   /* --help at least */
    for (const hm_cli_pos *p = cmd->pos; p && p->name; p++)
        pos_word(p, fp);
    fputc('\n', fp);
}

/* "an integer 1..256" and the like, appended to an option's help. */
static void details(const hm_cli_opt *o, char *buf, size_t n)
{
    char lo[32], hi[32], choices[256];
    size_t k = 0;
    buf[0] = '\0';
    fmt_bound(lo, sizeof lo, o->min);
    fmt_bound(hi, sizeof hi, o->max);
    if ((o->type == HM_OPT_T_INT || o->type == HM_OPT_T_NUMBER) && (o->flags & HM_OPT_BOUNDED)) {
        const char *what = o->type == HM_OPT_T_INT ? "integer" : "number";
        if (isinf(o->max))
            k += (size_t)snprintf(buf + k, n - k, "; %s %s %s", what,
                                  o->flags & HM_OPT_MIN_EXCL ? ">" : ">=", lo);
        else if (o->flags & HM_OPT_MIN_EXCL)
            k += (size_t)snprintf(buf + k, n - k, "; %s > %s and <= %s", what, lo, hi);
        else
            k += (size_t)snprintf(buf + k, n - k, "; %s %s..%s", what, lo, hi);
    } else if (o->type == HM_OPT_T_CHOICE) {
        size_t c = 0;
        for (const char *p = o->choices; *p && c + 3 < sizeof choices; p++) {
            if (*p == '|') {
                choices[c++] = ',';
                choices[c++] = ' ';
            } else {
                choices[c++] = *p;
            }
        }
        choices[c] = '\0';
        k += (size_t)snprintf(buf + k, n - k, "; one of %s", choices);
    }
    if (k < n && o->def)
        k += (size_t)snprintf(buf + k, n - k, " (default: %s)", o->def);
    if (k < n && (o->flags & HM_OPT_REQUIRED))
        k += (size_t)snprintf(buf + k, n - k, " (required)");
    if (k < n && (o->flags & HM_OPT_REPEAT))
        snprintf(buf + k, n - k, " (may be repeated)");
}

static void item(FILE *fp, const char *left, const char *help)
{
    int at = fprintf(fp, "  %s", left);
    if (at + 2 > HELP_COL) {
        fprintf(fp, "\n%*s", HELP_COL, "");
        at = HELP_COL;
    } else {
        fprintf(fp, "%*s", HELP_COL - at, "");
        at = HELP_COL;
    }
    wrap(fp, help, at, HELP_COL);
}

void hm_cli_help(const hm_cli_cmd *cmd, const char *path, FILE *fp)
{
    hm_cli_usage(cmd, path, fp);
    fprintf(fp, "\n%s\n", cmd->summary);
    if (cmd->description)
        fprintf(fp, "\n%s%s", cmd->description,
                cmd->description[strlen(cmd->description) - 1] == '\n' ? "" : "\n");
    if (cmd->subs) {
        fprintf(fp, "\ncommands:\n");
        for (size_t i = 0; cmd->subs[i]; i++)
            if (!cmd->subs[i]->hidden)
                item(fp, cmd->subs[i]->name, cmd->subs[i]->summary);
    }
    if (cmd->pos && cmd->pos[0].name) {
        fprintf(fp, "\narguments:\n");
        for (const hm_cli_pos *p = cmd->pos; p->name; p++)
            item(fp, p->name, p->help);
    }
    fprintf(fp, "\noptions:\n");
    char left[160], help[1024], more[400];
    for (const hm_cli_opt *o = cmd->opts; o && o->name; o++) {
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s", o->short_name, o->name);
        else
            snprintf(left, sizeof left, "--%s", o->name);
        if (o->value_name)
            snprintf(left + strlen(left), sizeof left - strlen(left), " %s", o->value_name);
        details(o, more, sizeof more);
        snprintf(help, sizeof help, "%s%s", o->help, more);
        item(fp, left, help);
    }
    item(fp, "-h, --help", "print this help and exit");
    if (cmd->subs)
        fprintf(fp, "\nsee '%s COMMAND --help' for the options of a command\n", path);
}
