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

#endif
