/* test_hospital.c — the hospital-format cohort carries local ids, names and
 * dates; pseudonymising each of its files with the study key (Norway with
 * date offsets) gives byte for byte the default (pseudonymised) output made
 * with the same key, and drops the direct identifiers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth_test_util.h"

static const char *const TABLES[] = { "patient", "procedure", "irradiation_event", "organ_dose",
                                      "outcome", "followup" };
#define NT 6

static void test_hospital_then_pseudonymise(void **state)
{
    (void)state;
    unsigned char raw[32];
    for (int i = 0; i < 32; i++)
        raw[i] = (unsigned char)(200 - i);
    hm_pseudo_key key;
    assert_int_equal(hm_pseudo_key_from_bytes(&key, raw, 32, 3, NULL), 0);
    char hosp[4096], pooled[4096], path[4300], out[4300], ref[4300];
    tu_fresh(hosp, sizeof hosp, "hospital");
    tu_fresh(pooled, sizeof pooled, "pooled");
    hm_synth_summary s1, s2;
    tu_synth(hosp, 400, 9, 1.5, 1, NULL, 1, &key, &s1);
    tu_synth(pooled, 400, 9, 1.5, 0, NULL, 1, &key, &s2);
    assert_int_equal(s1.procedures, s2.procedures);
    assert_int_equal(s1.outcome_rows, s2.outcome_rows);

    /* direct identifiers are in the hospital file */
    snprintf(path, sizeof path, "%s/GB01/patient.csv", hosp);
    char *text = tu_slurp(path, NULL);
    assert_int_equal(strncmp(text, "centre_code,local_patient_id,family_name,given_name,"
                                   "national_id,address,phone,", 77), 0);
    assert_non_null(strstr(text, "Synthetic Road"));
    free(text);

    char codes[64][16];
    size_t nc = tu_centres(codes, 64);
    for (size_t c = 0; c < nc; c++) {
        int norway = !strcmp(codes[c], "NO01");
        for (size_t t = 0; t < NT; t++) {
            char **known;
            size_t nknown;
            hm_error err;
            assert_int_equal(hm_pseudo_dict_columns(TABLES[t], &known, &nknown, &err), 0);
            hm_pseudo_csv_opts o = { TABLES[t], norway, (const char *const *)known, nknown };
            snprintf(path, sizeof path, "%s/%s/%s.csv", hosp, codes[c], TABLES[t]);
            snprintf(out, sizeof out, "%s/%s/%s.pseudo.csv", hosp, codes[c], TABLES[t]);
            hm_pseudo_csv_result r;
            int rc = hm_pseudo_csv(&key, &o, path, out, &r, &err);
            hm_pseudo_dict_free(known, nknown);
            if (rc) {
                char buf[1024];
                hm_error_format(&err, buf, sizeof buf);
                fail_msg("%s", buf);
            }
            if (t == 0)
                assert_string_equal(r.dropped, "family_name,given_name,national_id,address,phone");
            snprintf(ref, sizeof ref, "%s/%s/%s.csv", pooled, codes[c], TABLES[t]);
            size_t la, lb;
            char *a = tu_slurp(out, &la), *b = tu_slurp(ref, &lb);
            if (la != lb || memcmp(a, b, la))
                fail_msg("%s differs from %s", out, ref);
            free(a);
            free(b);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hospital_then_pseudonymise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
