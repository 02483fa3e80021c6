/*
 * dcm_internal.hh — what the two C++ files of the DCMTK bridge share
 * (dcm_bridge.cc for SR, dcm_rt_bridge.cc for RT objects).  C++ only; not
 * part of the C API.
 */
#ifndef HM_DCM_INTERNAL_HH
#define HM_DCM_INTERNAL_HH

#include "hm_dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

/* Checks the element lengths of a Part 10 file or bare little-endian
 * dataset against its size, then parses it into ff.  Values over 4 KiB stay
 * deferred and are loaded from `data` when accessed: keep it alive while ff
 * is used.  HM_EPARSE with a one-line reason on bad input. */
int hm_dcm_parse_buffer(const void *data, size_t size, const char *name, DcmFileFormat &ff,
                        hm_error *err);

extern "C" {
/* Reads a whole file (at most 256 MiB) into a malloc'ed buffer. */
int hm_dcm_slurp(const char *path, unsigned char **out, size_t *outlen, hm_error *err);
}

#endif
