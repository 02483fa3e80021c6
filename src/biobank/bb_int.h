/* bb_int.h — what the biobank's files share and nobody else sees. */
#ifndef HM_BB_INT_H
#define HM_BB_INT_H

#include "hm_biobank.h"

/* A string -> int map (open addressing, linear probing, tombstones): the
 * replay looks samples, aliquots, positions and consents up by id. */
typedef struct bb_map {
    char  **keys;        /* NULL empty, &bb_tomb deleted */
    int    *vals;
    size_t  cap, used;   /* used counts live keys and tombstones */
} bb_map;

int  bb_map_get(const bb_map *m, const char *key);          /* -1 if absent */
int  bb_map_put(bb_map *m, const char *key, int val);       /* HM_OK or HM_ENOMEM */
void bb_map_del(bb_map *m, const char *key);
void bb_map_free(bb_map *m);

typedef struct bb_index {
    bb_map sample, aliquot, location, consent;
} bb_index;

/* A number of a "k=v;k=v" detail (ship events). */
int  bb_detail_num(const char *detail, const char *key, double *v);

/* A text value of a "k=v;k=v" detail; -1 when absent, empty or too long. */
int  bb_detail_str(const char *detail, const char *key, char *out, size_t size);

/* Called by bb_record before event i is checked and applied, with the state
 * replayed so far (a batch fills a shipment's logger summary there). */
typedef int (*bb_prepare_fn)(const hm_bb_state *st, hm_bb_event *e, size_t i, void *ctx,
                             hm_error *err);
/* hm_bb_record with any number of protocols (texts[k] stored when not yet
 * in bio_protocol; texts NULL: none stored) and a per-event hook: ONE
 * transaction, all or nothing. */
int  bb_record(hm_db *db, hm_bb_event *events, size_t n, const hm_bb_protocol *protocols,
               char *const *texts, size_t nprotocols, bb_prepare_fn prepare, void *ctx,
               hm_error *err);

#endif
