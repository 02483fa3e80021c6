/* ph_internal.h — private to src/phantom: the solid model of built-in phantoms. */
#ifndef PH_INTERNAL_H
#define PH_INTERNAL_H

#include "hm_phantom.h"

enum { FR_TRUNK = 0, FR_HEAD = 1, FR_LEGS = 2 };
enum { SH_ELLIPSOID = 0, SH_ECYL = 1, SH_ECYLX = 2, SH_ELLSHELL = 3, SH_ECYLSHELL = 4 };

typedef struct ph_solid {
    int    region;          /* region id (1-based) */
    int    group;           /* fit group index, -1 = fixed size */
    int    frame, shape, ext;
    double c0[3], a0[3];    /* normalised centre and semi-axes (layout.csv) */
    double clip[4];         /* ylo, yhi, zlo, zhi in units of the semi-axis */
    double f0;              /* shells: relative thickness */
    /* resolved, cm */
    double c[3], a[3], f;
    double lo[3], hi[3];    /* bounding box */
} ph_solid;

typedef struct ph_group {
    char   name[48];
    double k;               /* fitted scale (axes, or shell thickness) */
    double target_g;
    char   kind[16];
    char   source[200];
    int    has_target;
} ph_group;

typedef struct ph_exterior {
    double height_cm, c_t, c_l, head_h, cap_frac, a_h, b_h, b_over_a, foot_frac;
    double a_t, b_t;        /* fitted */
    double skin_cm;         /* fitted skin thickness */
    double rho_soft, rho_lung, rho_skel;
} ph_exterior;

struct hm_phantom {
    char        age[16];
    char        sex;
    ph_exterior ex;
    double      sx, sy, sz;         /* patient scaling (1 = reference) */
    int         nsolids;
    ph_solid   *solids;
    int         ngroups;
    ph_group   *groups;
    int         nregions;           /* ids 1..nregions */
    hm_phantom_region *regions;     /* nregions + 1 */
    int         r_skin, r_soft_trunk, r_soft_head, r_soft_legs;
    int         nmedia;
    hm_phantom_medium media[3];     /* soft, lung, skeleton */
    double      total_target_g;
    uint64_t    param_hash;         /* of the data files read + age + sex */
};

/* params.c */
int  ph_load(hm_phantom *p, hm_error *err);
/* geom.c */
void ph_resolve(hm_phantom *p);
int  ph_in_body(const hm_phantom *p, const double q[3], double shrink_cm);
int  ph_classify(const hm_phantom *p, const double q[3], int *solid_out);
void ph_body_box(const hm_phantom *p, double lo[3], double hi[3]);
int  ph_solid_contains(const ph_solid *s, const double q[3]);
/* fit.c */
int  ph_fit(hm_phantom *p, hm_error *err);
void ph_halton(uint32_t i, double u[3]);
void ph_region_masses(hm_phantom *p);
/* shared helpers */
uint64_t ph_fnv1a(uint64_t h, const void *data, size_t n);
int  ph_media_load(hm_phantom_medium *media, int nmax, int *n, hm_error *err);
int  ph_file_hash(const char *path, uint64_t *h, hm_error *err);

#endif
