/*
 * hm_dicom.h — the C face of harmonic's one C++ file (dcm_bridge.cc), which
 * alone talks to DCMTK.  It turns a DICOM Structured Report into plain C
 * data and back:
 *
 *   - reading: the header attributes harmonic needs (patient characteristics,
 *     study, device) and the SR content tree flattened depth-first into an
 *     array of items, each with its depth, so C code above can rebuild any
 *     parent/child relation it needs without touching DCMTK;
 *   - writing: the same structure written back as a DICOM SR file, which is
 *     how the test-fixture generator produces synthetic dose reports.
 *
 * The reader works on the dataset (ContentSequence) directly rather than
 * through dcmsr's DSRDocument, which refuses real vendor files over SR
 * rule violations (by-value relationship checks, missing template id) that
 * do not matter for dose extraction.
 */
#ifndef HM_DICOM_H
#define HM_DICOM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Inside the extern "C" block: hm_core.h has no C++ guards of its own. */
#include "hm_core.h"

/* A coded entry (code value, coding scheme designator, code meaning). */
typedef struct hm_dcm_code {
    char value[68];
    char scheme[20];
    char meaning[132];
} hm_dcm_code;

/* One SR content item.  Strings hold the raw bytes of the file (in its
 * Specific Character Set), truncated to the buffer size. */
typedef struct hm_dcm_item {
    int         depth;           /* 0 = the document root container */
    char        relationship[24];/* CONTAINS, HAS PROPERTIES, ... ("" at root) */
    char        value_type[16];  /* CONTAINER, NUM, CODE, TEXT, UIDREF, DATETIME, ... */
    hm_dcm_code concept;         /* concept name */
    int         has_number;      /* NUM: 1 when a numeric value is present */
    double      number;          /* NUM: the value, in `unit` */
    char        number_text[36]; /* NUM: the value as written (DS) */
    hm_dcm_code unit;            /* NUM: measurement unit */
    hm_dcm_code qualifier;       /* NUM: numeric value qualifier (e.g. value unknown) */
    hm_dcm_code coded;           /* CODE: the coded value */
    char        text[256];       /* TEXT, UIDREF, DATETIME, DATE, TIME, PNAME value */
} hm_dcm_item;

/* Header attributes (all as written, "" when absent). */
typedef struct hm_dcm_attrs {
    char sop_class_uid[68];
    char sop_instance_uid[68];
    char modality[20];
    char charset[68];            /* Specific Character Set */
    char transfer_syntax[68];
    char template_id[20];        /* Content Template Sequence: TemplateIdentifier */
    char completion_flag[20];
    char patient_id[68];
    char patient_birth_date[20];
    char patient_sex[20];
    char patient_age[20];        /* AS, e.g. "004Y" */
    char patient_weight_kg[36];  /* DS */
    char patient_size_m[36];     /* DS */
    char study_uid[68];
    char series_uid[68];
    char study_date[20];
    char study_time[36];
    char manufacturer[68];
    char model[68];
    char device_serial[68];
    char station[68];
    char institution[68];
} hm_dcm_attrs;

typedef struct hm_dcm_doc {
    hm_dcm_attrs attrs;
    hm_dcm_item *items;          /* depth-first; items[0] is the root (depth 0) */
    size_t       nitems;
    size_t       cap;
    int          implicit_vr;    /* read: dataset was implicit VR little endian */
} hm_dcm_doc;

/* Reads a DICOM file (Part 10, or a bare little-endian dataset).  Fails with
 * HM_EPARSE and a one-line reason for non-DICOM, truncated or corrupt input,
 * HM_EUNSUPPORTED for DICOM without SR content.  *doc is zeroed first and
 * must be released with hm_dcm_doc_free() whatever the result. */
int  hm_dcm_read_file(const char *path, hm_dcm_doc *doc, hm_error *err);
/* Same, from memory (name is used in messages). */
int  hm_dcm_read_memory(const void *data, size_t size, const char *name,
                        hm_dcm_doc *doc, hm_error *err);
void hm_dcm_doc_free(hm_dcm_doc *doc);

/* Building a document (used by the fixture generator).  Appends an item at
 * the given depth and returns it zeroed except depth, or NULL when out of
 * memory. */
hm_dcm_item *hm_dcm_doc_append(hm_dcm_doc *doc, int depth);

enum {
    HM_DCM_WRITE_IMPLICIT_VR  = 1 << 0, /* implicit VR little endian transfer syntax */
    HM_DCM_WRITE_NO_TEMPLATE  = 1 << 1  /* omit the Content Template Sequence */
};
/* Writes doc as a DICOM SR file (the root item becomes the dataset). */
int  hm_dcm_write_file(const char *path, const hm_dcm_doc *doc, int flags, hm_error *err);

#ifdef __cplusplus
}
#endif

#endif
