/*
 * test_masses.c — the built-in age series against its reference masses:
 * every organ within 10 % of its reference (ICRP 89 where the shared extract
 * has it), total body within 10 %, at every age and sex.  Argument "all" runs
 * every phantom (release build); without it, the newborn alone (sanitizers).
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

static int all_ages;

static void check(const char *age, char sex)
{
    hm_phantom *p;
    hm_error err;
    hm_error_clear(&err);
    int rc = hm_phantom_build(age, sex, &p, &err);
    if (rc)
        fprintf(stderr, "%s %c: %s\n", age, sex, err.msg);
    assert_int_equal(rc, 0);
    hm_phantom_mass_row *rows;
    size_t n;
    assert_int_equal(hm_phantom_mass_table(p, &rows, &n, &err), 0);
    assert_true(n > 25);
    int icrp = 0;
    for (size_t i = 0; i < n; i++) {
        double d = rows[i].mass_g / rows[i].ref_g - 1;
        if (fabs(d) > 0.10)
            fprintf(stderr, "%s %c %s: %g g vs %g g (%+.1f %%)\n", age, sex, rows[i].group, rows[i].mass_g,
                    rows[i].ref_g, 100 * d);
        assert_true(fabs(d) <= 0.10);
        icrp += !strcmp(rows[i].kind, "icrp89");
    }
    /* The ICRP 89 organs of the shared extract are all there. */
    assert_true(icrp >= 10);
    /* Sex organs follow the sex. */
    int has_testes = 0, has_uterus = 0;
    for (int r = 1; r <= hm_phantom_region_count(p); r++) {
        has_testes |= !strcmp(hm_phantom_region_info(p, r)->name, "testes");
        has_uterus |= !strcmp(hm_phantom_region_info(p, r)->name, "uterus");
    }
    assert_int_equal(has_testes, sex != 'F');
    assert_int_equal(has_uterus, sex != 'M');
    /* The reported total is the sum of the regions, near the reference. */
    assert_true(fabs(hm_phantom_mass_kg(p) * 1000 / rows[0].ref_g - 1) < 0.03);
    free(rows);
    hm_phantom_free(p);
}

static void test_newborn(void **state)
{
    (void)state;
    check("newborn", 'H');
}

static void test_all_ages(void **state)
{
    (void)state;
    if (!all_ages)
        skip();
    const char *young[] = { "1y", "5y", "10y" };
    for (int i = 0; i < 3; i++)
        check(young[i], 'H');
    check("15y", 'M');
    check("15y", 'F');
    check("adult", 'M');
    check("adult", 'F');
}

static void test_bad_arguments(void **state)
{
    (void)state;
    hm_phantom *p;
    hm_error err;
    hm_error_clear(&err);
    assert_int_equal(hm_phantom_build("7y", 'M', &p, &err), HM_EINVAL);
    assert_non_null(strstr(err.msg, "7y"));
    assert_null(p);
    assert_int_equal(hm_phantom_build("5y", 'X', &p, &err), HM_EINVAL);
    /* The 15-year-old has sex-specific references: no hermaphrodite. */
    assert_int_equal(hm_phantom_build("15y", 'H', &p, &err), HM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "use M or F"));
}

int main(int argc, char **argv)
{
    all_ages = argc > 1 && !strcmp(argv[1], "all");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newborn),
        cmocka_unit_test(test_all_ages),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
