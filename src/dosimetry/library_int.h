/* library_int.h — private to the conversion-coefficient library files
 * (library.c: grid and interpolation, library_io.c: the file,
 * library_build.c: the engine runs). */
#ifndef LIBRARY_INT_H
#define LIBRARY_INT_H

#include "hm_dosimetry.h"

#include <pthread.h>

/* Format 2 (phantoms with a lateral scale, AGE:SEX:SCALE) is written only
 * when a phantom has a scale other than 1, so libraries without scaled
 * phantoms keep format 1, their id and their cache key. */
#define LIB_FORMAT_VERSION 2
#define LIB_MAGIC "# harmonic organ-dose conversion-coefficient library"
#define LIB_MAX_ORGANS 128
/* The copper axis is interpolated in ln(1 + Cu / LIB_CU_T0_MM)
 * (library_interp.c, where the value is derived). */
#define LIB_CU_T0_MM 0.1
/* The cross-validation term's scaling from the coarser stencil to the
 * lookup's spacing where the axis is too short to measure it: that of a
 * smooth function, whose error at spacing 2h is about 4 times that at h
 * (library_loo.c). */
#define LIB_CV_SMOOTH_RATIO 0.25
/* Nodes over all phantoms: keeps a corrupt header from asking for terabytes. */
#define LIB_MAX_NODES 4000000

typedef struct lib_phantom {
    size_t         norgans;
    hm_organ_dose *proto;          /* organ ids, masses, present; doses unused */
    size_t         cap_nodes;      /* nodes allocated in dose/sigma/set */
    double        *dose, *sigma;   /* [node * norgans + organ] */
    unsigned char *set;            /* node filled */
    double        *d2[HM_DOSE_NAXES]; /* second differences along each curved axis, as dose
                                       * (library_interp.c; made on loading or the first lookup) */
    double        *loo[HM_DOSE_NAXES];/* cross-validation term per organ along each axis of 4+
                                       * points at the lookup's spacing: relative variance
                                       * (library_loo.c; made with d2) */
    double        *loo_raw[HM_DOSE_NAXES]; /* the same at the coarser stencil (leave-one-out) */
} lib_phantom;

struct hm_dose_library {
    hm_dose_grid         grid;
    hm_dose_library_info info;
    size_t               nnodes;   /* per phantom */
    lib_phantom          ph[HM_DOSE_MAX_PHANTOMS];
    pthread_mutex_t      d2_lock;  /* guards making d2 (lookups run on many threads) */
    int                  d2_ready;
};
/* Drops the second-difference and cross-validation tables (a node changed). */
void lib_d2_free(hm_dose_library *lib);
/* The interpolation tables (second differences, cross-validation terms) of
 * every phantom, once; hm_dose_library_read makes them on loading, a library
 * filled node by node on its first lookup. */
int lib_tables_make(const hm_dose_library *lib, hm_error *err);
/* The cross-validation term of phantom p (library_loo.c): ph->loo[a][organ]
 * for each axis of 4+ points. */
int lib_loo_make(hm_dose_library *lib, size_t p, hm_error *err);
void lib_loo_free(lib_phantom *ph);

/* A phantom's lateral scale (0 read as 1). */
static inline double lib_key_scale(const hm_dose_phantom_key *k)
{
    return k->lateral_scale > 0 ? k->lateral_scale : 1;
}
/* The format version a grid needs: 1, or 2 with a scaled phantom. */
int lib_format_version(const hm_dose_grid *g);

/* FNV-1a 64 (Fowler, Noll, Vo; IETF draft-eastlake-fnv) over bytes. */
uint64_t lib_fnv1a(uint64_t h, const void *data, size_t n);
#define LIB_FNV_OFFSET 0xcbf29ce484222325ULL

/* One "key,values" setting of a grid file or a library header. */
int lib_grid_set(hm_dose_grid *g, hm_dose_library_params *p, const char *key, const char *value,
                 const char *file, long line, hm_error *err);
/* Line i (0, 1, ...) of the grid as "key,values" into buf: 1, or 0 past the
 * last line, -1 when buf is too small. */
int lib_grid_line(const hm_dose_grid *g, size_t i, char *buf, size_t size);
/* Hash of the grid and the parameters a node's result depends on (not threads). */
uint64_t lib_build_key(const hm_dose_grid *g, const hm_dose_library_params *p);
/* Makes room for `nodes` nodes of phantom ph (organ list set). */
int lib_reserve(lib_phantom *ph, size_t nodes, hm_error *err);
/* Sets the organ list of a phantom from a result (copies ids, masses, present). */
int lib_set_organs(lib_phantom *ph, const hm_organ_dose *o, size_t n, hm_error *err);
/* The engine's physics, in words, for the header. */
void lib_engine_text(char *buf, size_t size);
/* The default cache folder (as the phantom cache's). */
void lib_cache_dir(char *buf, size_t size);

#endif
