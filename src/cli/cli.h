/*
 * cli.h — the `harmonic` command's sub-commands.  Each cmd_ file parses
 * its own arguments and calls the library; main.c only dispatches.  A
 * command returns the process exit status: 0 success, 1 the input had
 * problems (validation, a file failed), 2 usage error, 3 internal error.
 */
#ifndef HM_CLI_H
#define HM_CLI_H

#include "hm_core.h"

/* Prints "harmonic: file:line:field: message" to stderr; returns exit code. */
int hm_cli_report(const hm_error *err);

/* registry (cmd_registry.c) */
int hm_cmd_dictionary(int argc, char **argv);
int hm_cmd_import(int argc, char **argv);
int hm_cmd_export(int argc, char **argv);
int hm_cmd_report(int argc, char **argv);
int hm_cmd_db(int argc, char **argv);
/* pseudonymisation and synthetic cohorts (cmd_synth.c) */
int hm_cmd_keygen(int argc, char **argv);
int hm_cmd_pseudonymise(int argc, char **argv);
int hm_cmd_synth(int argc, char **argv);
/* DICOM RDSR (cmd_rdsr.c) */
int hm_cmd_rdsr(int argc, char **argv);
/* Monte Carlo (cmd_mc.c) */
int hm_cmd_mc(int argc, char **argv);
/* phantoms (cmd_phantom.c) */
int hm_cmd_phantom(int argc, char **argv);
/* epidemiology (cmd_epi.c) */
int hm_cmd_epi(int argc, char **argv);

#endif
