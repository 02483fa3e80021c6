/*
 * test_io.c — ICRP 110 and raw + header voxel formats: round trip of a
 * generated phantom, and clear errors (file, line, field) on bad files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm_phantom.h"

#define DIR HM_TEST_TMPDIR

static hm_voxel_phantom orig;

static int setup(void **state)
{
    (void)state;
    hm_phantom *p;
    hm_error err;
    if (hm_phantom_build("newborn", 'H', &p, &err))
        return -1;
    int rc = hm_phantom_voxelise(p, 5, &orig, &err);
    hm_phantom_free(p);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    hm_voxel_phantom_free(&orig);
    return 0;
}

static void same(const hm_voxel_phantom *a, const hm_voxel_phantom *b)
{
    assert_int_equal(a->nx, b->nx);
    assert_int_equal(a->ny, b->ny);
    assert_int_equal(a->nz, b->nz);
    for (int d = 0; d < 3; d++)
        assert_true(fabs(a->voxel_cm[d] - b->voxel_cm[d]) < 1e-9);
    assert_memory_equal(a->ids, b->ids, sizeof *a->ids * (size_t)a->nx * a->ny * a->nz);
    assert_int_equal(a->nregions, b->nregions);
    for (int r = 1; r <= a->nregions; r++) {
        assert_string_equal(a->regions[r].name, b->regions[r].name);
        assert_string_equal(a->regions[r].organs, b->regions[r].organs);
        assert_string_equal(a->regions[r].site, b->regions[r].site);
        assert_true(fabs(a->regions[r].density_g_cm3 - b->regions[r].density_g_cm3) < 1e-9);
        assert_true(fabs(a->regions[r].mass_g - b->regions[r].mass_g) < 1e-6 * (1 + a->regions[r].mass_g));
        const hm_phantom_medium *ma = &a->media[a->regions[r].medium], *mb = &b->media[b->regions[r].medium];
        assert_int_equal(ma->nelements, mb->nelements);
        for (int i = 0; i < ma->nelements; i++) {
            assert_int_equal(ma->z[i], mb->z[i]);
            assert_true(fabs(ma->mass_fraction[i] - mb->mass_fraction[i]) < 1e-8);
        }
    }
    assert_string_equal(a->age, b->age);
    assert_int_equal(a->sex, b->sex);
}

static void test_icrp110_round_trip(void **state)
{
    (void)state;
    hm_error err;
    hm_voxel_phantom back;
    assert_int_equal(hm_voxel_phantom_write_icrp110(&orig, DIR "/nb", &err), 0);
    double mm[3] = { 50, 50, 50 };  /* 5 mm voxels, in mm: set below */
    for (int d = 0; d < 3; d++)
        mm[d] = 10 * orig.voxel_cm[d];
    int rc = hm_voxel_phantom_read_icrp110(DIR "/nb.dat", DIR "/nb_organs.dat", DIR "/nb_media.dat", DIR "/nb_map.csv",
                                           orig.nx, orig.ny, orig.nz, mm, &back, &err);
    if (rc)
        fprintf(stderr, "%s:%ld: %s\n", err.file, err.line, err.msg);
    assert_int_equal(rc, 0);
    same(&orig, &back);
    hm_voxel_phantom_free(&back);
    /* Without the map: the anatomy is there, the organ assignment is not. */
    assert_int_equal(hm_voxel_phantom_read_icrp110(DIR "/nb.dat", DIR "/nb_organs.dat", DIR "/nb_media.dat", NULL,
                                                   orig.nx, orig.ny, orig.nz, mm, &back, &err), 0);
    assert_string_equal(back.regions[orig.nregions].name, orig.regions[orig.nregions].name);
    assert_string_equal(back.regions[1].organs, "");
    hm_voxel_phantom_free(&back);
}

static void test_raw_round_trip(void **state)
{
    (void)state;
    hm_error err;
    hm_voxel_phantom back;
    assert_int_equal(hm_voxel_phantom_write_raw(&orig, DIR "/nbraw", &err), 0);
    assert_int_equal(hm_voxel_phantom_read_raw(DIR "/nbraw.hdr", &back, &err), 0);
    same(&orig, &back);
    for (int d = 0; d < 3; d++)
        assert_true(fabs(orig.origin_cm[d] - back.origin_cm[d]) < 1e-6);
    hm_voxel_phantom_free(&back);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_bad_files(void **state)
{
    (void)state;
    hm_error err;
    hm_voxel_phantom v;
    double mm[3] = { 2, 2, 2 };
    write_file(DIR "/m.dat", "Medium Name H O\n1 water 11.19 88.81\n");
    write_file(DIR "/o.dat", "ID Name Medium Density\n1 body 1 1.0\n2 bone 1 1.9\n");
    write_file(DIR "/ok.dat", "0 1 1 2\n2 1 1 0\n");
    assert_int_equal(hm_voxel_phantom_read_icrp110(DIR "/ok.dat", DIR "/o.dat", DIR "/m.dat", NULL, 2, 2, 2, mm, &v, &err), 0);
    assert_int_equal(v.nregions, 2);
    assert_true(fabs(v.regions[2].mass_g - 2 * 0.008 * 1.9) < 1e-12);
    assert_int_equal(v.media[0].nelements, 2);
    assert_true(fabs(v.media[0].mass_fraction[0] - 0.1119) < 1e-12);
    hm_voxel_phantom_free(&v);
    /* Too few values: the count is named. */
    write_file(DIR "/short.dat", "0 1 1 2\n2 1 1\n");
    assert_int_equal(hm_voxel_phantom_read_icrp110(DIR "/short.dat", DIR "/o.dat", DIR "/m.dat", NULL, 2, 2, 2, mm, &v, &err), HM_EPARSE);
    assert_non_null(strstr(err.msg, "found 7 organ ids"));
    assert_null(v.ids);
    /* An id missing from the organ list: the voxel is named. */
    write_file(DIR "/bad.dat", "0 1 1 2\n2 1 7 0\n");
    assert_int_equal(hm_voxel_phantom_read_icrp110(DIR "/bad.dat", DIR "/o.dat", DIR "/m.dat", NULL, 2, 2, 2, mm, &v, &err), HM_EVALIDATE);
    assert_non_null(strstr(err.msg, "organ id 7"));
    /* Garbage in the ids file: line given. */
    write_file(DIR "/junk.dat", "0 1 1 2\n2 x 1 0\n");
    assert_int_equal(hm_voxel_phantom_read_icrp110(DIR "/junk.dat", DIR "/o.dat", DIR "/m.dat", NULL, 2, 2, 2, mm, &v, &err), HM_EPARSE);
    assert_int_equal(err.line, 2);
    /* Organ list naming a medium that does not exist. */
    write_file(DIR "/o2.dat", "1 body 4 1.0\n");
    assert_int_equal(hm_voxel_phantom_read_icrp110(DIR "/ok.dat", DIR "/o2.dat", DIR "/m.dat", NULL, 2, 2, 2, mm, &v, &err), HM_EVALIDATE);
    assert_string_equal(err.field, "medium");
    assert_int_equal(err.line, 1);
    /* Media row with a bad fraction. */
    write_file(DIR "/m2.dat", "Medium Name H O\n1 water 11.19 abc\n");
    assert_int_equal(hm_voxel_phantom_read_icrp110(DIR "/ok.dat", DIR "/o.dat", DIR "/m2.dat", NULL, 2, 2, 2, mm, &v, &err), HM_EPARSE);
    assert_string_equal(err.field, "O");
    /* Raw: a header key that does not exist, and a data file of the wrong size. */
    write_file(DIR "/r.hdr", "dims 2 2 2\nvoxel_mm 2 2 2\ntype uint8\ndata r.raw\norgans o.dat\nmedia m.dat\ncolour blue\n");
    assert_int_equal(hm_voxel_phantom_read_raw(DIR "/r.hdr", &v, &err), HM_EPARSE);
    assert_string_equal(err.field, "colour");
    assert_int_equal(err.line, 7);
    write_file(DIR "/r.hdr", "dims 2 2 2\nvoxel_mm 2 2 2\ntype uint8\ndata r.raw\norgans o.dat\nmedia m.dat\n");
    write_file(DIR "/r.raw", "\001\001\002");
    assert_int_equal(hm_voxel_phantom_read_raw(DIR "/r.hdr", &v, &err), HM_EPARSE);
    assert_non_null(strstr(err.msg, "shorter"));
    FILE *fp = fopen(DIR "/r.raw", "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite("\001\001\002\002\001\001\001\000", 1, 8, fp), 8);
    fclose(fp);
    assert_int_equal(hm_voxel_phantom_read_raw(DIR "/r.hdr", &v, &err), 0);
    assert_int_equal(v.ids[7], 0);
    assert_int_equal(v.ids[2], 2);
    hm_voxel_phantom_free(&v);
}

static void test_slices(void **state)
{
    (void)state;
    hm_error err;
    double c[3] = { 0, 0, 15 };
    assert_int_equal(hm_voxel_phantom_write_slices(&orig, c, 10, DIR "/nb", &err), 0);
    static const char *names[] = { DIR "/nb_axial.png", DIR "/nb_coronal.png", DIR "/nb_sagittal.png" };
    for (int i = 0; i < 3; i++) {
        FILE *fp = fopen(names[i], "rb");
        assert_non_null(fp);
        unsigned char sig[8];
        assert_int_equal(fread(sig, 1, 8, fp), 8);
        fclose(fp);
        assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    }
    assert_int_equal(hm_voxel_phantom_write_slices(&orig, c, 10, DIR "/no/such/dir/x", &err), HM_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_icrp110_round_trip),
        cmocka_unit_test(test_raw_round_trip),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_slices),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
