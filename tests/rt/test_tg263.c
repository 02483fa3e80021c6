/*
 * test_tg263.c — ROI names to TG-263 names and organ codes
 * (data/rt/tg263_map.csv): English, French, German and Dutch names, case,
 * blanks, underscores and accents, laterality in the four languages,
 * targets and helpers by prefix, unmapped names, and a bad map file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "hm_rt.h"

static hm_rt_tg263 *map;

static int setup(void **state)
{
    (void)state;
    hm_error err;
    int rc = hm_rt_tg263_load(NULL, &map, &err);
    if (rc)
        fprintf(stderr, "load: %s\n", err.msg);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    hm_rt_tg263_free(map);
    return 0;
}

static void expect(const char *name, int kind, const char *code, const char *tg263)
{
    char c[32], t[64];
    int got = hm_rt_map_roi(map, name, c, sizeof c, t, sizeof t, NULL);
    if (got != kind || strcmp(c, code) || strcmp(t, tg263)) {
        print_error("'%s': got %s '%s' '%s', expected %s '%s' '%s'\n", name,
                    hm_rt_map_kind_name(got), c, t, hm_rt_map_kind_name(kind), code, tg263);
        fail();
    }
}

static void test_languages(void **state)
{
    (void)state;
    const char *heart[] = { "Heart", "Coeur", "Cœur", "CŒUR", "Herz", "Hart", "HEART", NULL };
    for (int i = 0; heart[i]; i++)
        expect(heart[i], HM_RT_MAP_ORGAN, "heart", "Heart");
    const char *oes[] = { "Esophagus", "Oesophage", "Œsophage", "Speiseroehre", "Speiseröhre",
                          "Slokdarm", "oesophagus", NULL };
    for (int i = 0; oes[i]; i++)
        expect(oes[i], HM_RT_MAP_ORGAN, "oesophagus", "Esophagus");
    expect("Thyroid", HM_RT_MAP_ORGAN, "thyroid", "Glnd_Thyroid");
    expect("Glnd_Thyroid", HM_RT_MAP_ORGAN, "thyroid", "Glnd_Thyroid");
    expect("Thyroïde", HM_RT_MAP_ORGAN, "thyroid", "Glnd_Thyroid");
    expect("Schilddrüse", HM_RT_MAP_ORGAN, "thyroid", "Glnd_Thyroid");
    expect("schildklier", HM_RT_MAP_ORGAN, "thyroid", "Glnd_Thyroid");
    expect("Cerveau", HM_RT_MAP_ORGAN, "brain", "Brain");
    expect("Gehirn", HM_RT_MAP_ORGAN, "brain", "Brain");
    expect("Hersenen", HM_RT_MAP_ORGAN, "brain", "Brain");
    expect("Spinal Cord", HM_RT_MAP_OTHER, "other", "SpinalCord");
    expect("SPINAL_CORD", HM_RT_MAP_OTHER, "other", "SpinalCord");
    expect("Moelle épinière", HM_RT_MAP_OTHER, "other", "SpinalCord");
    expect("Rückenmark", HM_RT_MAP_OTHER, "other", "SpinalCord");
    expect("Ruggenmerg", HM_RT_MAP_OTHER, "other", "SpinalCord");
    expect("Liver", HM_RT_MAP_ORGAN, "liver", "Liver");
    expect("Foie", HM_RT_MAP_ORGAN, "liver", "Liver");
    expect("Leber", HM_RT_MAP_ORGAN, "liver", "Liver");
    expect("Lever", HM_RT_MAP_ORGAN, "liver", "Liver");
    expect("Vessie", HM_RT_MAP_ORGAN, "bladder", "Bladder");
    expect("Harnblase", HM_RT_MAP_ORGAN, "bladder", "Bladder");
    expect("Blaas", HM_RT_MAP_ORGAN, "bladder", "Bladder");
    expect("Bowel", HM_RT_MAP_OTHER, "other", "Bowel");
    expect("Bowel_Small", HM_RT_MAP_ORGAN, "small_intestine", "Bowel_Small");
    expect("Intestin grêle", HM_RT_MAP_ORGAN, "small_intestine", "Bowel_Small");
    expect("Dünndarm", HM_RT_MAP_ORGAN, "small_intestine", "Bowel_Small");
    expect("Estomac", HM_RT_MAP_ORGAN, "stomach", "Stomach");
    expect("Magen", HM_RT_MAP_ORGAN, "stomach", "Stomach");
    expect("Maag", HM_RT_MAP_ORGAN, "stomach", "Stomach");
    expect("Bone Marrow", HM_RT_MAP_ORGAN, "red_marrow", "Bone_Marrow");
    expect("Moelle osseuse", HM_RT_MAP_ORGAN, "red_marrow", "Bone_Marrow");
    expect("Knochenmark", HM_RT_MAP_ORGAN, "red_marrow", "Bone_Marrow");
    expect("Beenmerg", HM_RT_MAP_ORGAN, "red_marrow", "Bone_Marrow");
    expect("Ovaries", HM_RT_MAP_ORGAN, "ovaries", "Ovaries");
    expect("Testes", HM_RT_MAP_ORGAN, "testes", "Testes");
    expect("Hoden", HM_RT_MAP_ORGAN, "testes", "Testes");
    expect("Gonads", HM_RT_MAP_ORGAN, "gonads", "Gonads");
    expect("BODY", HM_RT_MAP_OTHER, "other", "External");
    expect("Außenkontur", HM_RT_MAP_OTHER, "other", "External");
}

static void test_laterality(void **state)
{
    (void)state;
    const char *left[] = { "Lung_L", "Lung L", "lung-l", "Left Lung", "Lung Left", "Poumon G",
                           "Poumon gauche", "Lunge li", "Lunge links", "Linke Lunge",
                           "Long links", "long_li", "LUNG LT", NULL };
    for (int i = 0; left[i]; i++)
        expect(left[i], HM_RT_MAP_ORGAN, "lung", "Lung_L");
    const char *right[] = { "Lung_R", "Poumon D", "Poumon droit", "Lunge re", "Lunge rechts",
                            "Rechte Lunge", "Long rechts", "Right lung", NULL };
    for (int i = 0; right[i]; i++)
        expect(right[i], HM_RT_MAP_ORGAN, "lung", "Lung_R");
    expect("Lungs", HM_RT_MAP_ORGAN, "lung", "Lungs");
    expect("Poumons", HM_RT_MAP_ORGAN, "lung", "Lungs");
    expect("Kidney_L", HM_RT_MAP_ORGAN, "kidneys", "Kidney_L");
    expect("Rein droit", HM_RT_MAP_ORGAN, "kidneys", "Kidney_R");
    expect("Niere li", HM_RT_MAP_ORGAN, "kidneys", "Kidney_L");
    expect("Nier rechts", HM_RT_MAP_ORGAN, "kidneys", "Kidney_R");
    expect("Parotid_R", HM_RT_MAP_ORGAN, "salivary_glands", "Parotid_R");
    expect("Parotide G", HM_RT_MAP_ORGAN, "salivary_glands", "Parotid_L");
    expect("Lens_L", HM_RT_MAP_ORGAN, "lens", "Lens_L");
    expect("Cristallin D", HM_RT_MAP_ORGAN, "lens", "Lens_R");
    expect("Linse links", HM_RT_MAP_ORGAN, "lens", "Lens_L");
    expect("Cochlea_R", HM_RT_MAP_OTHER, "other", "Cochlea_R");
    expect("Breast_L", HM_RT_MAP_ORGAN, "breast", "Breast_L");
    expect("Sein gauche", HM_RT_MAP_ORGAN, "breast", "Breast_L");
    expect("Ovaire D", HM_RT_MAP_ORGAN, "ovaries", "Ovary_R");
    expect("Hode re", HM_RT_MAP_ORGAN, "testes", "Testis_R");
}

static void test_prefixes_and_unmapped(void **state)
{
    (void)state;
    expect("PTV_54Gy", HM_RT_MAP_TARGET, "target", "PTV");
    expect("ptv1", HM_RT_MAP_TARGET, "target", "PTV");
    expect("CTV high", HM_RT_MAP_TARGET, "target", "CTV");
    expect("GTVp", HM_RT_MAP_TARGET, "target", "GTV");
    expect("ITV", HM_RT_MAP_TARGET, "target", "ITV");
    expect("z_Ring", HM_RT_MAP_HELPER, "other", "");
    expect("zzOpt", HM_RT_MAP_HELPER, "other", "");
    expect("_avoid", HM_RT_MAP_HELPER, "other", "");
    expect("opt_PTV", HM_RT_MAP_HELPER, "other", "");
    expect("Ring 2cm", HM_RT_MAP_HELPER, "other", "");
    expect("SpinalCord_PRV05", HM_RT_MAP_HELPER, "other", "");
    /* Not helpers although they start like one. */
    expect("Zunge", HM_RT_MAP_UNMAPPED, "", "");
    expect("Heart_X", HM_RT_MAP_UNMAPPED, "", "");
    expect("Pacemaker", HM_RT_MAP_UNMAPPED, "", "");
    expect("L", HM_RT_MAP_UNMAPPED, "", "");
    expect("", HM_RT_MAP_UNMAPPED, "", "");
    expect("   __ ", HM_RT_MAP_UNMAPPED, "", "");   /* no letter at all */
    /* Laterality on an unpaired organ still finds the organ. */
    expect("Liver L", HM_RT_MAP_ORGAN, "liver", "Liver");
}

static void test_bad_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/bad.csv", HM_TEST_TMPDIR);
    const char *bodies[] = {
        "tg263,organ,lateral,synonyms\nHeart,heart,0,Heart|Coeur\nHerz2,heart,0,Cœur\n",
        "tg263,organ,lateral,synonyms\nHeart,hearts,0,Heart\n",
        "tg263,organ,lateral,synonyms\nHeart,heart,2,Heart\n",
        "name,organ\nHeart,heart\n",
    };
    const int codes[] = { HM_EVALIDATE, HM_EVALIDATE, HM_EPARSE, HM_EPARSE };
    for (int b = 0; b < 4; b++) {
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(bodies[b], fp);
        fclose(fp);
        hm_rt_tg263 *m;
        hm_error err;
        assert_int_equal(hm_rt_tg263_load(path, &m, &err), codes[b]);
        assert_string_equal(err.file, path);
        assert_true(err.line >= 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_languages),
        cmocka_unit_test(test_laterality),
        cmocka_unit_test(test_prefixes_and_unmapped),
        cmocka_unit_test(test_bad_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
