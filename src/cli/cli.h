/*
 * cli.h — the `harmonic` command's sub-commands.  Each cmd_ file declares
 * its commands as option tables (opt.h) with a run() function that reads
 * the parsed values and calls the library; main.c only walks the tree.  A
 * command returns the process exit status: 0 success, 1 the input had
 * problems (validation, a file failed), 2 usage error, 3 internal error.
 */
#ifndef HM_CLI_H
#define HM_CLI_H

#include "hm_core.h"
#include "opt.h"

/* Prints "harmonic: file:line:field: message" to stderr; returns exit code. */
int hm_cli_report(const hm_error *err);
/* Prints "PATH: message" and "see 'PATH --help'" to stderr; returns 2.  For
 * usage problems the table cannot express (options that go together). */
int hm_cli_usage_error(const hm_args *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* CSV dialect options of every command that reads outside CSV (dialect.c):
 * --delimiter, --decimal, --encoding, each "auto" (detect) by default. */
#define HM_OPT_DIALECT                                                                        \
    HM_OPT_STR("delimiter", "SEP", "CSV separator: ',', ';' or tab", "auto"),                  \
    HM_OPT_STR("decimal", "MARK", "decimal mark of numbers: '.' or ','", "auto"),             \
    HM_OPT_STR("encoding", "ENC",                                                             \
               "utf-8, windows-1252, latin-1, utf-16, utf-16le or utf-16be", "auto")
/* Reads those options into d; on a bad value prints one message and
 * returns 2 (the exit status), else 0. */
int hm_cli_dialect(const hm_args *a, hm_csv_dialect *d);
/* "harmonic: FILE: read as ';'-separated, decimal comma, Windows-1252" on
 * stderr when how (hm_csv_dialect_describe) is not empty. */
void hm_cli_dialect_note(const char *file, const char *how);

/* registry (cmd_registry.c) */
extern const hm_cli_cmd hm_cli_dictionary, hm_cli_import, hm_cli_export, hm_cli_report_cmd,
    hm_cli_db;
/* pseudonymisation and synthetic cohorts (cmd_synth.c) */
extern const hm_cli_cmd hm_cli_keygen, hm_cli_pseudonymise, hm_cli_synth;
/* DICOM RDSR (cmd_rdsr.c) */
extern const hm_cli_cmd hm_cli_rdsr;
/* Monte Carlo (cmd_mc.c) */
extern const hm_cli_cmd hm_cli_mc;
/* phantoms (cmd_phantom.c) */
extern const hm_cli_cmd hm_cli_phantom;
/* organ doses of events, procedures, the cohort (cmd_dose.c) */
extern const hm_cli_cmd hm_cli_dose;
/* radiotherapy courses (cmd_rt.c) */
extern const hm_cli_cmd hm_cli_rt;
/* quality-of-life questionnaire scores (cmd_qol.c) */
extern const hm_cli_cmd hm_cli_qol;
/* epidemiology (cmd_epi.c) */
extern const hm_cli_cmd hm_cli_epi;
/* the multi-centre server, its accounts and audit chain (cmd_serve.c, cmd_user.c,
 * cmd_audit.c) */
extern const hm_cli_cmd hm_cli_serve, hm_cli_user, hm_cli_audit;
/* `harmonic server install`: the owner's half of the install/run split (cmd_serve.c) */
extern const hm_cli_cmd hm_cli_server;
/* biobank (cmd_biobank.c) */
extern const hm_cli_cmd hm_cli_biobank;

#endif
