/*
 * dialect.c — the CSV dialect options shared by import, pseudonymise, the
 * epi commands and mc hvl (docs/csv.md): what the user forces, and the note
 * that says how a file was read when it was not plain CSV.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int hm_cli_dialect(const hm_args *a, hm_csv_dialect *d)
{
    hm_error err;
    hm_error_clear(&err);
    if (hm_csv_dialect_parse(hm_args_str(a, "delimiter", NULL), hm_args_str(a, "decimal", NULL),
                             hm_args_str(a, "encoding", NULL), d, &err) == HM_OK)
        return 0;
    return hm_cli_usage_error(a, "%s%s%s", err.field, err.field[0] ? ": " : "", err.msg);
}

void hm_cli_dialect_note(const char *file, const char *how)
{
    if (how && how[0])
        fprintf(stderr, "harmonic: %s: read as %s\n", file, how);
}
