/*
 * opt.h — the one table-driven option parser of the `harmonic` command.
 *
 * Every command and sub-command is one hm_cli_cmd: a name, a summary, a
 * description, a table of options (hm_cli_opt) and of positional arguments
 * (hm_cli_pos), and either a run() function (a leaf) or sub-commands (a
 * group).  Parsing, --help text, error messages and bash completion are all
 * derived from that table, so they cannot drift apart (docs/cli.md).
 *
 * Adding an option is one table line, e.g.
 *     HM_OPT_NUM("kvp", "KV", "tube voltage", "70", 20, 150),
 * plus reading it in run(): hm_args_num(a, "kvp", 70).
 *
 * The parser never prints: errors come back in an hm_error whose message
 * is the whole sentence; main.c prints it with the command path and a hint.
 */
#ifndef HM_CLI_OPT_H
#define HM_CLI_OPT_H

#include "hm_core.h"

#include <stdio.h>

typedef enum hm_opt_type {
    HM_OPT_T_FLAG,     /* no value */
    HM_OPT_T_STRING,   /* any text */
    HM_OPT_T_PATH,     /* a file or folder name (completes file names) */
    HM_OPT_T_INT,      /* an integer within [min, max] */
    HM_OPT_T_NUMBER,   /* a finite number within [min, max] */
    HM_OPT_T_CHOICE    /* one of the '|'-separated words in choices */
} hm_opt_type;

enum {
    HM_OPT_REQUIRED = 1u << 0,   /* must be given */
    HM_OPT_REPEAT   = 1u << 1,   /* may be given more than once (else the last wins) */
    HM_OPT_MIN_EXCL = 1u << 2,   /* the value must be > min, not >= min */
    HM_OPT_BOUNDED  = 1u << 3    /* min/max apply (set by the INT/NUM macros) */
};

typedef struct hm_cli_opt {
    const char *name;        /* long name without "--" */
    char short_name;         /* 'o' for -o, or 0 */
    hm_opt_type type;
    const char *value_name;  /* "N", "FILE" (NULL for a flag) */
    const char *help;
    const char *def;         /* default shown in --help, or NULL */
    unsigned flags;
    double min, max;         /* bounds of INT and NUMBER values */
    const char *choices;     /* "text|csv|json" for CHOICE */
    int nvalues;             /* values taken per use (0 means 1) */
    int nvalues_max;         /* > nvalues: further values taken while they parse */
} hm_cli_opt;

typedef struct hm_cli_pos {
    const char *name;        /* "SCENE.json" */
    const char *help;
    int min, max;            /* how many; max -1 means any number */
    hm_opt_type type;        /* HM_OPT_T_PATH completes file names */
} hm_cli_pos;

struct hm_args;
typedef struct hm_cli_cmd hm_cli_cmd;
struct hm_cli_cmd {
    const char *name;
    const char *summary;              /* one line, shown in the parent's list */
    const char *description;          /* paragraphs shown by --help, or NULL */
    const hm_cli_opt *opts;           /* ends with an entry whose name is NULL */
    const hm_cli_pos *pos;            /* ends with an entry whose name is NULL */
    int (*run)(const struct hm_args *a);   /* a leaf; returns the exit status */
    const hm_cli_cmd *const *subs;    /* a group: sub-commands, NULL-terminated */
    int hidden;                       /* left out of lists and help (still parsed) */
};

/* Table-entry helpers; each expands to one hm_cli_opt initialiser. */
#define HM_OPT_FLAG(n, help) { n, 0, HM_OPT_T_FLAG, NULL, help, NULL, 0, 0, 0, NULL, 0, 0 }
#define HM_OPT_STR(n, v, help, def) { n, 0, HM_OPT_T_STRING, v, help, def, 0, 0, 0, NULL, 0, 0 }
#define HM_OPT_PATH(n, v, help, def) { n, 0, HM_OPT_T_PATH, v, help, def, 0, 0, 0, NULL, 0, 0 }
#define HM_OPT_INT(n, v, help, def, lo, hi) \
    { n, 0, HM_OPT_T_INT, v, help, def, HM_OPT_BOUNDED, lo, hi, NULL, 0, 0 }
#define HM_OPT_NUM(n, v, help, def, lo, hi) \
    { n, 0, HM_OPT_T_NUMBER, v, help, def, HM_OPT_BOUNDED, lo, hi, NULL, 0, 0 }
#define HM_OPT_REAL(n, v, help, def) { n, 0, HM_OPT_T_NUMBER, v, help, def, 0, 0, 0, NULL, 0, 0 }
#define HM_OPT_CHOICE(n, v, help, def, ch) \
    { n, 0, HM_OPT_T_CHOICE, v, help, def, 0, 0, 0, ch, 0, 0 }
#define HM_OPT_END { NULL, 0, HM_OPT_T_FLAG, NULL, NULL, NULL, 0, 0, 0, NULL, 0, 0 }
#define HM_POS_END { NULL, NULL, 0, 0, HM_OPT_T_STRING }

/* One value given on the command line, already checked against its option. */
typedef struct hm_arg_value {
    int opt;              /* index in cmd->opts */
    int use;              /* which use of the option (0, 1, ...) it belongs to */
    const char *text;     /* as typed (points into argv) */
    double number;        /* INT and NUMBER values */
    long long integer;    /* INT values, exact */
} hm_arg_value;

typedef struct hm_args {
    const hm_cli_cmd *cmd;
    const char *path;     /* "harmonic mc run", for messages */
    int *count;           /* uses per option */
    hm_arg_value *values; /* in command-line order */
    int nvalues;
    const char **pos;     /* positional arguments in order */
    int npos;
} hm_args;

/* Parses argv[0..argc) (the words after the command's name) against cmd's
 * table.  Returns 0 and fills a (free with hm_args_free), 1 when --help or -h
 * was given (nothing to free), or HM_EINVAL with err->msg saying what was
 * wrong and what was expected. */
int hm_args_parse(const hm_cli_cmd *cmd, const char *path, int argc, char **argv, hm_args *a,
                  hm_error *err);
void hm_args_free(hm_args *a);

/* Readers by long name; a name not in the table is a programming error and
 * aborts, so a typo cannot silently read a default. */
int         hm_args_count(const hm_args *a, const char *name);       /* uses */
int         hm_args_flag(const hm_args *a, const char *name);        /* 0/1 */
const char *hm_args_str(const hm_args *a, const char *name, const char *def);
long long   hm_args_int(const hm_args *a, const char *name, long long def);
double      hm_args_num(const hm_args *a, const char *name, double def);
/* The k-th value of the last use (multi-value options such as --dims X Y Z);
 * returns the number of values of that use, 0 when the option is absent. */
int hm_args_values(const hm_args *a, const char *name, const hm_arg_value **first);

/* Command tree helpers. */
const hm_cli_cmd *hm_cli_find_sub(const hm_cli_cmd *group, const char *name);
/* The closest name in cands[0..n) to word by edit distance, when close enough
 * to be a likely typo (or word is a prefix of exactly one); else NULL. */
const char *hm_cli_suggest(const char *word, const char *const *cands, size_t n);
size_t hm_cli_edit_distance(const char *a, const char *b);

/* --help text of cmd (usage line, description, arguments, options with
 * defaults, or sub-commands) on fp. */
void hm_cli_help(const hm_cli_cmd *cmd, const char *path, FILE *fp);
/* "usage: PATH ..." line(s) only. */
void hm_cli_usage(const hm_cli_cmd *cmd, const char *path, FILE *fp);

/* Completion (opt_complete.c): a bash script for the tree under root
 * (program name prog), and a plain listing "PATH<TAB>--opt ..." of every
 * command, group and leaf, visible ones only, for the tests. */
void hm_cli_complete_bash(const hm_cli_cmd *root, const char *prog, FILE *fp);
void hm_cli_complete_list(const hm_cli_cmd *root, const char *prog, FILE *fp);

#endif
