/*
 * cmd_user.c — `harmonic user add|token|revoke|remove|list`: accounts and
 * API tokens of the server, written straight into the registry database by
 * whoever administers it (each change with its audit entry).
 */
#include "cli.h"
#include "hm_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *cli_user(void)
{
    const char *u = getenv("USER");
    return u && u[0] ? u : "cli";
}

static int open_db(const hm_args *a, hm_db **db)
{
    hm_error err;
    hm_error_clear(&err);
    if (hm_db_open(hm_args_str(a, "db", NULL), db, &err))
        return hm_cli_report(&err);
    return 0;
}

static int run_user_add(const hm_args *a)
{
    hm_role role = hm_role_parse(hm_args_str(a, "role", NULL));
    /* The password is read from the first line of standard input, so it is
     * never on a command line (ps, shell history). */
    char pw[1024];
    if (!fgets(pw, sizeof pw, stdin))
        return hm_cli_usage_error(a, "expected the password on the first line of standard input");
    pw[strcspn(pw, "\r\n")] = 0;
    hm_db *db;
    int rc = open_db(a, &db);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    rc = hm_user_add(db, hm_args_str(a, "name", NULL), role, hm_args_str(a, "centre", ""), pw,
                     cli_user(), "cli", &err);
    memset(pw, 0, sizeof pw);
    hm_db_close(db);
    if (rc)
        return hm_cli_report(&err);
    printf("user %s added (%s)\n", hm_args_str(a, "name", NULL), hm_role_name(role));
    return 0;
}

static int run_user_token(const hm_args *a)
{
    hm_db *db;
    int rc = open_db(a, &db);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    char token[80];
    rc = hm_token_issue(db, hm_args_str(a, "name", NULL), hm_args_num(a, "days", 30), cli_user(),
                        "cli", token, sizeof token, &err);
    hm_db_close(db);
    if (rc)
        return hm_cli_report(&err);
    /* Shown once: only its SHA-256 is stored. */
    printf("%s\n", token);
    return 0;
}

static int run_user_revoke(const hm_args *a)
{
    const char *prefix = hm_args_str(a, "token", NULL);
    int all = hm_args_flag(a, "all");
    if (!prefix == !all)
        return hm_cli_usage_error(a, "expected either --token PREFIX or --all");
    hm_db *db;
    int rc = open_db(a, &db);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    long n = 0;
    const char *name = hm_args_str(a, "name", NULL);
    rc = hm_token_revoke(db, name, all ? NULL : prefix, cli_user(), "cli", &n, &err);
    hm_db_close(db);
    if (rc)
        return hm_cli_report(&err);
    /* A running server may accept a revoked token for up to 10 s more (its cache). */
    printf("%ld token%s of %s revoked\n", n, n == 1 ? "" : "s", name);
    return 0;
}

static int run_user_remove(const hm_args *a)
{
    hm_db *db;
    int rc = open_db(a, &db);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    const char *name = hm_args_str(a, "name", NULL);
    rc = hm_user_remove(db, name, cli_user(), "cli", &err);
    hm_db_close(db);
    if (rc)
        return hm_cli_report(&err);
    printf("user %s removed (tokens revoked, sessions ended; rows kept for the audit log)\n",
           name);
    return 0;
}

static int run_user_list(const hm_args *a)
{
    hm_db *db;
    int rc = open_db(a, &db);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    rc = hm_user_list(db, stdout, &err);
    hm_db_close(db);
    return rc ? hm_cli_report(&err) : 0;
}

#define O_DB { "db", 0, HM_OPT_T_STRING, "URL", "registry: a SQLite file or postgresql:// URL", \
               NULL, HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 }
#define O_NAME { "name", 0, HM_OPT_T_STRING, "N", "user name (letters, digits, _ - .)", NULL, \
                 HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 }

static const hm_cli_opt add_opts[] = {
    O_DB, O_NAME,
    { "role", 0, HM_OPT_T_CHOICE, "R", "what the user may do", NULL, HM_OPT_REQUIRED, 0, 0,
      "centre_manager|analyst|auditor|admin", 0, 0 },
    HM_OPT_STR("centre", "C", "the centre of a centre_manager", NULL),
    HM_OPT_END
};
static const hm_cli_opt token_opts[] = {
    O_DB, O_NAME,
    { "days", 0, HM_OPT_T_NUMBER, "D", "days the token is valid", "30", HM_OPT_BOUNDED, -1, 3650,
      NULL, 0, 0 },
    HM_OPT_END
};
static const hm_cli_cmd user_add = {
    "add", "add a server account (password on standard input, hashed with Argon2id)",
    "Roles: centre_manager (its own centre's records only: --centre), analyst (pooled\n"
    "pseudonymised rows, never submits), auditor (the audit log), admin.\n",
    add_opts, NULL, run_user_add, NULL, 0
};
static const hm_cli_cmd user_token = {
    "token", "issue an API token (printed once; only its SHA-256 is stored)", NULL,
    token_opts, NULL, run_user_token, NULL, 0
};
static const hm_cli_opt revoke_opts[] = {
    O_DB, O_NAME,
    HM_OPT_STR("token", "PREFIX", "the token: the start of its SHA-256 (8+ hex digits, as "
               "`user list` shows) or the token itself", NULL),
    HM_OPT_FLAG("all", "every token of the user"),
    HM_OPT_END
};
static const hm_cli_opt db_name_opts[] = { O_DB, O_NAME, HM_OPT_END };
static const hm_cli_opt db_opts[] = { O_DB, HM_OPT_END };
static const hm_cli_cmd user_revoke = {
    "revoke", "revoke API tokens of a user (--token PREFIX or --all)",
    "A running server may still accept a revoked token for up to 10 s (its token cache);\n"
    "revoked through POST /api/v1/tokens/revoke, at once on that server.\n",
    revoke_opts, NULL, run_user_revoke, NULL, 0
};
static const hm_cli_cmd user_remove = {
    "remove", "disable an account: its tokens and sessions stop working, rows are kept",
    NULL, db_name_opts, NULL, run_user_remove, NULL, 0
};
static const hm_cli_cmd user_list = {
    "list", "list the accounts and their tokens (by the start of the token's SHA-256)", NULL,
    db_opts, NULL, run_user_list, NULL, 0
};
static const hm_cli_cmd *const user_subs[] = { &user_add, &user_token, &user_revoke,
                                               &user_remove, &user_list, NULL };
static const hm_cli_opt no_opts[] = { HM_OPT_END };
const hm_cli_cmd hm_cli_user = {
    "user", "server accounts and API tokens", NULL, no_opts, NULL, NULL, user_subs, 0
};
