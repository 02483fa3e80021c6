/*
 * cmd_phantom.c — `harmonic phantom ...`: show, masses, build, convert, read
 * and dose.  Parses arguments and calls hm_phantom / hm_dosimetry.
 */
#include "cli.h"
#include "hm_dosimetry.h"
#include "hm_phantom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *what)
{
    fprintf(stderr, "harmonic phantom: %s\n", what);
    return 2;
}

typedef struct opts {
    const char *age, *png, *cache, *out, *format, *raw, *map, *ids, *organs, *media, *beam;
    char   sex;
    double voxel_mm[3], height_cm, mass_kg, kvp, al_mm, cu_mm, field_cm[2], sid_cm;
    int    dims[3], csv, nvox, threads;
    double histories, seed;
} opts;

static char default_sex(const char *age)
{
    const char *a = hm_phantom_age_name(age);
    return a && (!strcmp(a, "15y") || !strcmp(a, "adult")) ? 'M' : 'H';
}

/* Whether the sub-command's table has the option and it was given: the
 * sub-commands share one opts struct but not all options. */
static int given(const hm_args *a, const char *name)
{
    for (const hm_cli_opt *t = a->cmd->opts; t->name; t++)
        if (!strcmp(t->name, name))
            return hm_args_count(a, name) > 0;
    return 0;
}

static void from_args(const hm_args *a, opts *o)
{
    memset(o, 0, sizeof *o);
    o->voxel_mm[0] = o->voxel_mm[1] = o->voxel_mm[2] = -1;
    o->format = "icrp110";
    o->kvp = -1; o->al_mm = -1; o->cu_mm = -1; o->sid_cm = -1;   /* -1: the beam's default */
    o->histories = 2e5; o->seed = 1; o->threads = 1;
    o->beam = "cardiac";
    o->age = a->npos ? a->pos[0] : NULL;
    struct { const char *name; const char **dst; } strs[] = {
        { "age", &o->age }, { "png-prefix", &o->png }, { "cache-dir", &o->cache },
        { "out", &o->out }, { "format", &o->format }, { "raw", &o->raw }, { "map", &o->map },
        { "beam", &o->beam },
    };
    for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
        if (given(a, strs[k].name))
            *strs[k].dst = hm_args_str(a, strs[k].name, NULL);
    struct { const char *name; double *dst; } nums[] = {
        { "height-cm", &o->height_cm }, { "mass-kg", &o->mass_kg }, { "kvp", &o->kvp },
        { "filter-al", &o->al_mm }, { "filter-cu", &o->cu_mm }, { "sid-cm", &o->sid_cm },
        { "histories", &o->histories }, { "seed", &o->seed },
    };
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
        if (given(a, nums[k].name))
            *nums[k].dst = hm_args_num(a, nums[k].name, 0);
    if (given(a, "sex"))
        o->sex = hm_args_str(a, "sex", "H")[0];
    if (given(a, "threads"))
        o->threads = (int)hm_args_int(a, "threads", 1);
    o->csv = given(a, "csv");
    const hm_arg_value *v;
    if (given(a, "icrp110") && hm_args_values(a, "icrp110", &v) == 3) {
        o->ids = v[0].text;
        o->organs = v[1].text;
        o->media = v[2].text;
    }
    if (given(a, "dims") && hm_args_values(a, "dims", &v) == 3)
        for (int d = 0; d < 3; d++)
            o->dims[d] = (int)v[d].integer;
    if (given(a, "voxel-mm")) {
        o->nvox = hm_args_values(a, "voxel-mm", &v);
        for (int d = 0; d < 3; d++)
            o->voxel_mm[d] = v[d < o->nvox ? d : 0].number;
    }
    if (given(a, "field-cm") && hm_args_values(a, "field-cm", &v) == 2) {
        o->field_cm[0] = v[0].number;
        o->field_cm[1] = v[1].number;
    }
}

static int build(const opts *o, hm_phantom **p)
{
    hm_error err;
    hm_error_clear(&err);
    char sex = o->sex ? o->sex : default_sex(o->age);
    if (hm_phantom_build(o->age, sex, p, &err))
        return hm_cli_report(&err);
    if ((o->height_cm > 0) != (o->mass_kg > 0)) {
        hm_phantom_free(*p);
        return bad("--height-cm and --mass-kg go together");
    }
    if (o->height_cm > 0 && hm_phantom_scale(*p, o->height_cm, o->mass_kg, &err)) {
        hm_phantom_free(*p);
        return hm_cli_report(&err);
    }
    return 0;
}

static void print_regions(const hm_phantom_region *r, int n)
{
    printf("%-4s %-22s %-28s %-15s %10s\n", "id", "region", "organs", "site", "mass_g");
    for (int i = 1; i <= n; i++)
        if (r[i].medium >= 0 || r[i].name[0])
            printf("%-4d %-22s %-28s %-15s %10.3f\n", i, r[i].name, r[i].organs, r[i].site, r[i].mass_g);
}

static int cmd_show(const opts *o)
{
    hm_phantom *p;
    int rc = build(o, &p);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    printf("phantom %s sex %c: height %.1f cm, mass %.2f kg (analytic)\n", hm_phantom_age(p),
           hm_phantom_sex(p), hm_phantom_height_cm(p), hm_phantom_mass_kg(p));
    int n = hm_phantom_region_count(p);
    print_regions(hm_phantom_region_info(p, 0), n);
    double vmm = o->voxel_mm[0] > 0 ? o->voxel_mm[0] : 2.0, c[3];
    char prefix[900];
    snprintf(prefix, sizeof prefix, "%s", o->png ? o->png : "");
    if (!o->png)
        snprintf(prefix, sizeof prefix, "phantom-%s-%c", hm_phantom_age(p), hm_phantom_sex(p));
    hm_voxel_phantom v;
    if (hm_phantom_voxelise_cached(p, vmm, o->cache, &v, NULL, &err) || hm_phantom_heart_centre(p, c) ||
        hm_voxel_phantom_write_slices(&v, c, 1000.0 / hm_phantom_height_cm(p), prefix, &err)) {
        if (!err.code)
            hm_error_set(&err, HM_ENOTFOUND, NULL, 0, "heart", "no heart landmark");
        hm_voxel_phantom_free(&v);
        hm_phantom_free(p);
        return hm_cli_report(&err);
    }
    printf("slices through the heart centre (%.1f, %.1f, %.1f) cm: %s_axial.png %s_coronal.png %s_sagittal.png\n",
           c[0], c[1], c[2], prefix, prefix, prefix);
    hm_voxel_phantom_free(&v);
    hm_phantom_free(p);
    return 0;
}

static int masses_one(const char *age, char sex, int csv)
{
    hm_phantom *p;
    hm_error err;
    hm_error_clear(&err);
    if (hm_phantom_build(age, sex, &p, &err))
        return hm_cli_report(&err);
    hm_phantom_mass_row *rows;
    size_t n;
    if (hm_phantom_mass_table(p, &rows, &n, &err)) {
        hm_phantom_free(p);
        return hm_cli_report(&err);
    }
    for (size_t i = 0; i < n; i++) {
        double d = 100.0 * (rows[i].mass_g / rows[i].ref_g - 1);
        if (csv)
            printf("%s,%c,%s,%.4g,%.4g,%.2f,%s\n", hm_phantom_age(p), sex, rows[i].group, rows[i].mass_g,
                   rows[i].ref_g, d, rows[i].kind);
        else
            printf("%-8s %c %-18s %10.4g %10.4g %+7.2f%% %-8s %s\n", hm_phantom_age(p), sex, rows[i].group,
                   rows[i].mass_g, rows[i].ref_g, d, rows[i].kind, fabs(d) <= 10 ? "" : "OUT OF 10%");
    }
    free(rows);
    hm_phantom_free(p);
    return 0;
}

static int cmd_masses(const opts *o)
{
    static const char *ages[] = { "newborn", "1y", "5y", "10y", "15y", "adult" };
    if (o->csv)
        printf("age,sex,group,phantom_g,reference_g,diff_percent,reference_kind\n");
    else
        printf("%-8s %s %-18s %10s %10s %8s %s\n", "age", "S", "organ", "phantom_g", "ref_g", "diff", "ref");
    for (size_t i = 0; i < 6; i++) {
        if (o->age && hm_phantom_age_name(o->age) != hm_phantom_age_name(ages[i]))
            continue;
        int sexed = i >= 4;
        const char *sx = sexed ? "MF" : "H";
        for (const char *s = sx; *s; s++) {
            int rc = masses_one(ages[i], *s, o->csv);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int voxelised(const opts *o, hm_phantom **p, hm_voxel_phantom *v, int *cached)
{
    int rc = build(o, p);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    if (hm_phantom_voxelise_cached(*p, o->voxel_mm[0] > 0 ? o->voxel_mm[0] : 2.0, o->cache, v, cached, &err)) {
        hm_phantom_free(*p);
        return hm_cli_report(&err);
    }
    return 0;
}

static int cmd_build(const opts *o)
{
    hm_phantom *p;
    hm_voxel_phantom v;
    int cached, rc = voxelised(o, &p, &v, &cached);
    if (rc)
        return rc;
    printf("phantom %s sex %c: %d x %d x %d voxels of %.3g mm (%s)\n", v.age, v.sex, v.nx, v.ny, v.nz,
           10 * v.voxel_cm[0], cached ? "from the cache" : "built and cached");
    print_regions(v.regions, v.nregions);
    hm_voxel_phantom_free(&v);
    hm_phantom_free(p);
    return 0;
}

static int cmd_convert(const opts *o)
{
    hm_phantom *p;
    hm_voxel_phantom v;
    int rc = voxelised(o, &p, &v, NULL);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    rc = !strcmp(o->format, "raw") ? hm_voxel_phantom_write_raw(&v, o->out, &err)
                                   : hm_voxel_phantom_write_icrp110(&v, o->out, &err);
    if (!rc)
        printf("wrote %s (%s): %d x %d x %d voxels of %.3g mm\n", o->out, o->format, v.nx, v.ny, v.nz, 10 * v.voxel_cm[0]);
    hm_voxel_phantom_free(&v);
    hm_phantom_free(p);
    return rc ? hm_cli_report(&err) : 0;
}

static int cmd_read(const opts *o)
{
    hm_voxel_phantom v;
    hm_error err;
    hm_error_clear(&err);
    int rc;
    if (o->raw)
        rc = hm_voxel_phantom_read_raw(o->raw, &v, &err);
    else if (o->ids) {
        if (!o->dims[0] || o->voxel_mm[0] <= 0)
            return bad("--icrp110 needs --dims NX NY NZ and --voxel-mm X Y Z");
        rc = hm_voxel_phantom_read_icrp110(o->ids, o->organs, o->media, o->map, o->dims[0], o->dims[1], o->dims[2],
                                           o->voxel_mm, &v, &err);
    } else
        return bad("read needs --raw HDR or --icrp110 IDS ORGANS MEDIA");
    if (rc)
        return hm_cli_report(&err);
    printf("%d x %d x %d voxels of %.3g x %.3g x %.3g mm, %d organ ids, %d media\n", v.nx, v.ny, v.nz,
           10 * v.voxel_cm[0], 10 * v.voxel_cm[1], 10 * v.voxel_cm[2], v.nregions, v.nmedia);
    print_regions(v.regions, v.nregions);
    hm_voxel_phantom_free(&v);
    return 0;
}

/* Organ doses per KAP for one beam; E/KAP averaged over a male and a female
 * phantom (one hermaphrodite phantom below 15 y). */
static int cmd_dose(const opts *o)
{
    hm_dosimetry_beam b;
    hm_dosimetry_beam_default(&b);
    hm_error err;
    hm_error_clear(&err);
    if (!strcmp(o->beam, "cardiac")) {
        /* The age's reference beam; explicit options below override it. */
        if (hm_dosimetry_beam_cardiac(o->age, &b, &err))
            return hm_cli_report(&err);
    } else if (!strcmp(o->beam, "ap-chest")) b.projection = "AP";
    else if (!strcmp(o->beam, "pa-chest")) b.projection = "PA";
    else b.projection = "LLAT";   /* lat-chest: the choices are checked by the parser */
    if (o->kvp > 0) b.kvp = o->kvp;
    if (o->al_mm >= 0) b.filter_al_mm = o->al_mm;
    if (o->cu_mm >= 0) b.filter_cu_mm = o->cu_mm;
    if (o->sid_cm > 0) b.source_isocentre_cm = o->sid_cm;
    if (o->field_cm[0] > 0) {
        b.field_w_cm = o->field_cm[0];
        b.field_h_cm = o->field_cm[1];
    }
    hm_dosimetry_params p = { (long long)o->histories, (uint64_t)o->seed, o->threads };
    char sexes[2];
    int ns;
    if (o->sex) { sexes[0] = o->sex; ns = 1; }
    else if (default_sex(o->age) == 'H') { sexes[0] = 'H'; ns = 1; }
    else { sexes[0] = 'M'; sexes[1] = 'F'; ns = 2; }
    hm_dosimetry_result res[2];
    memset(res, 0, sizeof res);
    int rc = 0;
    for (int i = 0; i < ns && !rc; i++) {
        opts oo = *o;
        oo.sex = sexes[i];
        if (oo.voxel_mm[0] <= 0)
            oo.voxel_mm[0] = 2;
        hm_phantom *ph;
        hm_voxel_phantom v;
        if ((rc = voxelised(&oo, &ph, &v, NULL)))
            break;
        if (hm_dosimetry_organ_doses(&v, &b, &p, &res[i], &err))
            rc = hm_cli_report(&err);
        else
            printf("# %s sex %c: %lld histories in %.3f s, KAP %.4g Gy cm2/history, isocentre (%.1f, %.1f, %.1f) cm,"
                   " skin entrance (%.1f, %.1f, %.1f) cm\n", v.age, sexes[i], res[i].histories, res[i].seconds,
                   res[i].kap_gy_cm2, res[i].isocentre_cm[0], res[i].isocentre_cm[1], res[i].isocentre_cm[2],
                   res[i].entrance_cm[0], res[i].entrance_cm[1], res[i].entrance_cm[2]);
        hm_voxel_phantom_free(&v);
        hm_phantom_free(ph);
    }
    if (!rc) {
        printf("%-16s", "organ");
        for (int i = 0; i < ns; i++)
            printf("  %c: mGy/(Gy cm2)   +-", sexes[i]);
        printf("\n");
        for (size_t k = 0; k < res[0].n; k++) {
            printf("%-16s", res[0].organs[k].organ);
            for (int i = 0; i < ns; i++) {
                const hm_organ_dose *d = &res[i].organs[k];
                if (d->present) printf("  %16.4g %6.2g", d->dose_mgy_per_gy_cm2, d->sigma_mgy_per_gy_cm2);
                else printf("  %16s %6s", "-", "");
            }
            printf("\n");
        }
        double e;
        if (ns == 1 && sexes[0] != 'H')
            printf("E/KAP needs both sexes: run without --sex\n");
        else if (hm_dosimetry_effective_dose(&res[0], &res[ns - 1], &e, &err))
            rc = hm_cli_report(&err);
        else
            printf("E/KAP (ICRP 103) %.4g mSv/(Gy cm2)\n", e);
    }
    for (int i = 0; i < ns; i++)
        hm_dosimetry_result_free(&res[i]);
    return rc;
}

/* One run() for all: the table says which sub-command it is. */
static const hm_cli_cmd ph_show, ph_masses, ph_build, ph_convert, ph_read, ph_dose;

static int run_phantom(const hm_args *a)
{
    opts o;
    from_args(a, &o);
    const hm_cli_cmd *c = a->cmd;
    return c == &ph_show ? cmd_show(&o) : c == &ph_masses ? cmd_masses(&o)
         : c == &ph_build ? cmd_build(&o) : c == &ph_convert ? cmd_convert(&o)
         : c == &ph_read ? cmd_read(&o) : cmd_dose(&o);
}

#define O_SEX(ch) HM_OPT_CHOICE("sex", "S", "M, F or H (hermaphrodite: both sets of sex organs)", \
                                "H below 15 y, else M", ch)
#define O_VOXEL(def) { "voxel-mm", 0, HM_OPT_T_NUMBER, "MM", "voxel size (mm)", def, \
                       HM_OPT_BOUNDED | HM_OPT_MIN_EXCL, 0, HUGE_VAL, NULL, 0, 0 }
#define O_CACHE HM_OPT_PATH("cache-dir", "D", "where voxelised phantoms are cached", \
                            "the user cache folder")
#define O_SCALE HM_OPT_NUM("height-cm", "H", "scale to this height (with --mass-kg)", NULL, 20, 250), \
                HM_OPT_NUM("mass-kg", "M", "scale to this mass (with --height-cm)", NULL, 0.5, 300)

static const hm_cli_pos age_pos[] = {
    { "AGE", "newborn, 1y, 5y, 10y, 15y or adult", 1, 1, HM_OPT_T_STRING },
    HM_POS_END
};
#define AGES_NOTE "AGE: newborn, 1y, 5y, 10y, 15y, adult.  Sex H (hermaphrodite, default below 15 y)\n" \
                  "carries both sets of sex organs; 15y and adult need M or F (default M).\n"

static const hm_cli_opt show_opts[] = {
    O_SEX("M|F|H"),
    HM_OPT_STR("png-prefix", "P", "slice images P_axial.png, P_coronal.png, P_sagittal.png",
               "phantom-AGE-SEX"),
    O_VOXEL("2"), O_SCALE, O_CACHE,
    HM_OPT_END
};
static const hm_cli_cmd ph_show = {
    "show", "regions, organs and masses of a phantom, and three PNG slices",
    AGES_NOTE, show_opts, age_pos, run_phantom, NULL, 0
};

static const hm_cli_opt masses_opts[] = {
    HM_OPT_STR("age", "AGE", "only this age", "all ages"),
    HM_OPT_FLAG("csv", "print CSV"),
    HM_OPT_END
};
static const hm_cli_cmd ph_masses = {
    "masses", "organ masses of the age series against ICRP 89 reference values", NULL,
    masses_opts, NULL, run_phantom, NULL, 0
};

static const hm_cli_opt build_opts[] = {
    O_SEX("M|F|H"), O_VOXEL("2"), O_CACHE, O_SCALE,
    HM_OPT_END
};
static const hm_cli_cmd ph_build = {
    "build", "voxelise a phantom (cached) and list its regions", AGES_NOTE, build_opts, age_pos,
    run_phantom, NULL, 0
};

static const hm_cli_opt convert_opts[] = {
    { "out", 0, HM_OPT_T_PATH, "PREFIX", "output files PREFIX.*", NULL, HM_OPT_REQUIRED, 0, 0,
      NULL, 0, 0 },
    HM_OPT_CHOICE("format", "F", "file format", "icrp110", "icrp110|raw"),
    O_SEX("M|F|H"), O_VOXEL("2"), O_CACHE, O_SCALE,
    HM_OPT_END
};
static const hm_cli_cmd ph_convert = {
    "convert", "write a voxelised phantom as ICRP 110 or raw files", AGES_NOTE, convert_opts,
    age_pos, run_phantom, NULL, 0
};

static const hm_cli_opt read_opts[] = {
    HM_OPT_PATH("raw", "HDR", "a raw phantom (the .hdr written by convert --format raw)", NULL),
    { "icrp110", 0, HM_OPT_T_PATH, "IDS ORGANS MEDIA", "an ICRP 110/143 phantom: voxel ids, "
      "organ and media files", NULL, 0, 0, 0, NULL, 3, 0 },
    { "dims", 0, HM_OPT_T_INT, "NX NY NZ", "voxels along x, y, z (--icrp110)", NULL,
      HM_OPT_BOUNDED, 1, 100000, NULL, 3, 0 },
    { "voxel-mm", 0, HM_OPT_T_NUMBER, "X [Y Z]", "voxel size (mm; --icrp110)", NULL,
      HM_OPT_BOUNDED | HM_OPT_MIN_EXCL, 0, HUGE_VAL, NULL, 1, 3 },
    HM_OPT_PATH("map", "MAP.csv", "organ id to region map (--icrp110)", "the built-in map"),
    HM_OPT_END
};
static const hm_cli_cmd ph_read = {
    "read", "read a raw or ICRP 110 voxel phantom and list its regions",
    "Give --raw HDR, or --icrp110 IDS ORGANS MEDIA with --dims NX NY NZ and --voxel-mm X Y Z.\n",
    read_opts, NULL, run_phantom, NULL, 0
};

static const hm_cli_opt dose_opts[] = {
    HM_OPT_CHOICE("beam", "B", "beam geometry", "cardiac", "cardiac|ap-chest|pa-chest|lat-chest"),
    HM_OPT_NUM("kvp", "KV", "tube voltage", "the beam's", 20, 150),
    HM_OPT_NUM("filter-al", "MM", "aluminium filtration (mm)", "the beam's", 0, 30),
    HM_OPT_NUM("filter-cu", "MM", "copper filtration (mm)", "the beam's", 0, 5),
    { "field-cm", 0, HM_OPT_T_NUMBER, "W H", "field size at the isocentre (cm)", "the beam's",
      HM_OPT_BOUNDED | HM_OPT_MIN_EXCL, 0, HUGE_VAL, NULL, 2, 0 },
    HM_OPT_NUM("sid-cm", "CM", "source to isocentre distance", "the beam's", 20, 300),
    HM_OPT_INT("histories", "N", "photon histories per phantom", "200000", 1000, 1e10),
    O_VOXEL("2"),
    HM_OPT_INT("seed", "S", "random seed", "1", 0, 1e18),
    HM_OPT_INT("threads", "T", "worker threads", "1", 1, 256),
    HM_OPT_CHOICE("sex", "S", "one phantom of this sex (E/KAP needs both)",
                  "M and F averaged (H below 15 y)", "M|F|H"),
    O_CACHE, O_SCALE,
    HM_OPT_END
};
static const hm_cli_cmd ph_dose = {
    "dose", "organ doses per KAP and ICRP 103 effective dose for one beam (Monte Carlo)",
    AGES_NOTE "E/KAP averages a male and a female phantom (one hermaphrodite below 15 y).\n",
    dose_opts, age_pos, run_phantom, NULL, 0
};

static const hm_cli_cmd *const phantom_subs[] = { &ph_show, &ph_masses, &ph_build, &ph_convert,
                                                  &ph_read, &ph_dose, NULL };
static const hm_cli_opt group_opts[] = { HM_OPT_END };
const hm_cli_cmd hm_cli_phantom = {
    "phantom", "build, show and convert computational phantoms",
    "The built-in stylized paediatric age series and voxel phantoms (docs/phantoms.md).\n",
    group_opts, NULL, NULL, phantom_subs, 0
};
