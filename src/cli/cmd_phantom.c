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

static void usage(FILE *fp)
{
    fprintf(fp,
        "usage: harmonic phantom show AGE [--sex M|F|H] [--png-prefix P] [--voxel-mm 2]\n"
        "                                 [--height-cm H --mass-kg M]\n"
        "       harmonic phantom masses [--age AGE] [--csv]\n"
        "       harmonic phantom build AGE [--sex S] [--voxel-mm 2] [--cache-dir D]\n"
        "       harmonic phantom convert AGE --out PREFIX [--format icrp110|raw] [--sex S] [--voxel-mm 2]\n"
        "       harmonic phantom read (--raw HDR | --icrp110 IDS ORGANS MEDIA --dims NX NY NZ\n"
        "                              --voxel-mm X Y Z [--map MAP.csv])\n"
        "       harmonic phantom dose AGE [--beam cardiac|ap-chest|pa-chest|lat-chest] [--kvp 70]\n"
        "                              [--filter-al 3] [--filter-cu 0.1] [--field-cm W H]\n"
        "                              [--sid-cm 70] [--histories N] [--voxel-mm 3] [--seed S]\n"
        "                              [--threads T] [--sex M|F]\n"
        "AGE: newborn, 1y, 5y, 10y, 15y, adult.  Sex H (hermaphrodite, default below 15 y)\n"
        "carries both sets of sex organs; 15y and adult need M or F (default M).\n");
}

static int bad(const char *what)
{
    fprintf(stderr, "harmonic phantom: %s\n", what);
    return 2;
}

static int num(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && !*end && isfinite(*v);
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

static int parse(int argc, char **argv, int first, opts *o)
{
    memset(o, 0, sizeof *o);
    o->voxel_mm[0] = o->voxel_mm[1] = o->voxel_mm[2] = -1;
    o->format = "icrp110";
    o->kvp = -1; o->al_mm = -1; o->cu_mm = -1; o->sid_cm = -1;   /* -1: the beam's default */
    o->histories = 2e5; o->seed = 1; o->threads = 1;
    o->beam = "cardiac";
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        int more = argc - i - 1;
        double v;
#define NEED(n) do { if (more < (n)) return bad("missing value after an option"); } while (0)
        if (!strcmp(a, "--sex")) { NEED(1); o->sex = argv[++i][0]; if (argv[i][1] || !strchr("MFH", o->sex)) return bad("--sex expects M, F or H"); }
        else if (!strcmp(a, "--png-prefix")) { NEED(1); o->png = argv[++i]; }
        else if (!strcmp(a, "--cache-dir")) { NEED(1); o->cache = argv[++i]; }
        else if (!strcmp(a, "--out")) { NEED(1); o->out = argv[++i]; }
        else if (!strcmp(a, "--format")) { NEED(1); o->format = argv[++i]; }
        else if (!strcmp(a, "--raw")) { NEED(1); o->raw = argv[++i]; }
        else if (!strcmp(a, "--map")) { NEED(1); o->map = argv[++i]; }
        else if (!strcmp(a, "--age")) { NEED(1); o->age = argv[++i]; }
        else if (!strcmp(a, "--beam")) { NEED(1); o->beam = argv[++i]; }
        else if (!strcmp(a, "--csv")) o->csv = 1;
        else if (!strcmp(a, "--icrp110")) { NEED(3); o->ids = argv[++i]; o->organs = argv[++i]; o->media = argv[++i]; }
        else if (!strcmp(a, "--dims")) {
            NEED(3);
            for (int d = 0; d < 3; d++) {
                if (!num(argv[++i], &v) || v < 1 || v > 100000 || v != floor(v)) return bad("--dims expects three positive integers");
                o->dims[d] = (int)v;
            }
        } else if (!strcmp(a, "--voxel-mm")) {
            NEED(1);
            o->nvox = 0;
            while (o->nvox < 3 && i + 1 < argc && num(argv[i + 1], &v)) {
                if (v <= 0) return bad("--voxel-mm must be > 0");
                o->voxel_mm[o->nvox++] = v;
                i++;
            }
            if (o->nvox == 0) return bad("--voxel-mm expects a number");
            for (int d = o->nvox; d < 3; d++) o->voxel_mm[d] = o->voxel_mm[0];
        } else if (!strcmp(a, "--field-cm")) {
            NEED(2);
            if (!num(argv[i + 1], &o->field_cm[0]) || !num(argv[i + 2], &o->field_cm[1]) || o->field_cm[0] <= 0 || o->field_cm[1] <= 0)
                return bad("--field-cm expects two sizes > 0 (cm)");
            i += 2;
        } else {
            struct { const char *name; double *dst; double lo, hi; } nums[] = {
                { "--height-cm", &o->height_cm, 20, 250 }, { "--mass-kg", &o->mass_kg, 0.5, 300 },
                { "--kvp", &o->kvp, 20, 150 }, { "--filter-al", &o->al_mm, 0, 30 },
                { "--filter-cu", &o->cu_mm, 0, 5 }, { "--sid-cm", &o->sid_cm, 20, 300 },
                { "--histories", &o->histories, 1000, 1e10 }, { "--seed", &o->seed, 0, 1e18 },
            };
            int hit = 0;
            for (size_t k = 0; k < sizeof nums / sizeof nums[0] && !hit; k++)
                if (!strcmp(a, nums[k].name)) {
                    NEED(1);
                    if (!num(argv[++i], nums[k].dst) || *nums[k].dst < nums[k].lo || *nums[k].dst > nums[k].hi) {
                        fprintf(stderr, "harmonic phantom: %s expects a number in %g..%g\n", a, nums[k].lo, nums[k].hi);
                        return 2;
                    }
                    hit = 1;
                }
            if (!hit && !strcmp(a, "--threads")) {
                NEED(1);
                if (!num(argv[++i], &v) || v < 1 || v > 256) return bad("--threads expects 1..256");
                o->threads = (int)v;
                hit = 1;
            }
            if (!hit) {
                if (a[0] == '-' || o->age) {
                    fprintf(stderr, "harmonic phantom: unexpected argument '%s'\n", a);
                    return 2;
                }
                o->age = a;
            }
        }
#undef NEED
    }
    return 0;
}

static int build(const opts *o, hm_phantom **p)
{
    hm_error err;
    hm_error_clear(&err);
    if (!o->age)
        return bad("missing AGE");
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
    if (!o->out)
        return bad("convert needs --out PREFIX");
    if (strcmp(o->format, "icrp110") && strcmp(o->format, "raw"))
        return bad("--format expects icrp110 or raw");
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
    if (!o->age)
        return bad("missing AGE");
    if (!strcmp(o->beam, "cardiac")) {
        /* The age's reference beam; explicit options below override it. */
        if (hm_dosimetry_beam_cardiac(o->age, &b, &err))
            return hm_cli_report(&err);
    } else if (!strcmp(o->beam, "ap-chest")) b.projection = "AP";
    else if (!strcmp(o->beam, "pa-chest")) b.projection = "PA";
    else if (!strcmp(o->beam, "lat-chest")) b.projection = "LLAT";
    else return bad("--beam expects cardiac, ap-chest, pa-chest or lat-chest");
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
            printf("# %s sex %c: %lld histories in %.1f s, KAP %.4g Gy cm2/history, isocentre (%.1f, %.1f, %.1f) cm,"
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

int hm_cmd_phantom(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    opts o;
    int rc = parse(argc, argv, 2, &o);
    if (rc)
        return rc;
    const char *c = argv[1];
    if (!strcmp(c, "show")) return cmd_show(&o);
    if (!strcmp(c, "masses")) return cmd_masses(&o);
    if (!strcmp(c, "build")) return cmd_build(&o);
    if (!strcmp(c, "convert")) return cmd_convert(&o);
    if (!strcmp(c, "read")) return cmd_read(&o);
    if (!strcmp(c, "dose")) return cmd_dose(&o);
    fprintf(stderr, "harmonic phantom: unknown sub-command '%s'\n", c);
    usage(stderr);
    return 2;
}
