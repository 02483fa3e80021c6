/* dose_cli.h — private to the `harmonic dose` commands (cmd_dose.c, dose_rdsr.c). */
#ifndef HM_DOSE_CLI_H
#define HM_DOSE_CLI_H

#include "hm_dosimetry.h"
#include "hm_rdsr.h"

/* An RDSR event as a dosimetry event (its strings point into r). */
void hm_cli_rdsr_event(const hm_rdsr_event *r, hm_dosimetry_event *e);

#endif
