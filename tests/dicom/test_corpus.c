/*
 * test_corpus.c — every file of ../shared/data/rdsr (real vendor RDSRs
 * published by OpenREM) gives exactly the event count and total
 * dose-area product of its MANIFEST.csv; the CT report is refused and the
 * DX report filed as radiography.  Skipped (77) when the corpus is absent.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "hm_rdsr.h"

#define CORPUS HM_SHARED_DATA_DIR "/rdsr"

static const hm_rdsr_note *find_repair(const hm_rdsr_report *r, const char *needle)
{
    for (size_t i = 0; i < r->nnotes; i++)
        if (r->notes[i].kind == HM_RDSR_NOTE_REPAIRED && strstr(r->notes[i].msg, needle))
            return &r->notes[i];
    return NULL;
}

static void manifest(void **state)
{
    (void)state;
    hm_error err;
    hm_error_clear(&err);
    hm_rdsr_ctx *ctx = hm_rdsr_ctx_new(&err);
    assert_non_null(ctx);
    /* The quirk column holds bare quotes (not RFC 4180), so the manifest is
     * split on its first five commas by hand. */
    FILE *fp = fopen(CORPUS "/MANIFEST.csv", "r");
    assert_non_null(fp);
    char line[2048];
    char *f[6];
    size_t nf;
    int header = 1, files = 0, rc;
    (void)nf;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        nf = 0;
        char *p = line;
        for (;;) {
            f[nf++] = p;
            if (nf == 6)
                break;
            char *c = strchr(p, ',');
            if (!c)
                break;
            *c = '\0';
            p = c + 1;
        }
        while (nf < 6)
            f[nf++] = (char *)"";
        if (header) {
            header = 0;
            assert_string_equal(f[0], "file");
            assert_string_equal(f[3], "irradiation_events");
            assert_string_equal(f[4], "dose_area_product_total_gy_cm2");
            continue;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", CORPUS, f[0]);
        hm_rdsr_report *r = NULL;
        hm_error_clear(&err);
        rc = hm_rdsr_read_file(ctx, path, &r, &err);
        files++;
        if (!strcmp(f[2], "CT")) {
            if (rc != HM_EUNSUPPORTED || !strstr(err.msg, "CT radiation dose report"))
                fail_msg("%s: expected a CT refusal, got %d %s", f[0], rc, err.msg);
            continue;
        }
        if (rc)
            fail_msg("%s: %s", f[0], err.msg);
        long events = strtol(f[3], NULL, 10);
        double kap = strtod(f[4], NULL);
        if ((long)r->nevents != events || fabs(r->kap_total_gy_cm2 - kap) > 1e-9 * fmax(1, kap))
            fail_msg("%s: %zu events, KAP %.12g Gy.cm2; manifest says %ld, %.12g", f[0],
                     r->nevents, r->kap_total_gy_cm2, events, kap);
        /* The device: the manifest's model name (its second word) is found
         * in what the report says, Device Observer items first. */
        char model[128];
        const char *sp = strchr(f[1], ' ');
        snprintf(model, sizeof model, "%s", sp ? sp + 1 : f[1]);
        model[strcspn(model, " ")] = '\0';
        if (!strstr(r->model, model))
            fail_msg("%s: model '%s', manifest says '%s'", f[0], r->model, f[1]);
        /* Filed under the right modality: DX stays radiography. */
        assert_string_equal(r->modality, !strcmp(f[2], "DX") ? "DX" : "RF");
        /* Every event has a UID (keys the registry) and a KAP. */
        for (size_t i = 0; i < r->nevents; i++) {
            assert_true(strlen(r->events[i].uid) > 0);
            assert_false(isnan(r->events[i].kap_gy_cm2));
        }
        if (strstr(f[5], "Gym2"))
            assert_non_null(find_repair(r, "Gym2"));
        /* Whatever the character set (ISO_IR 192, ISO 2022 IR 87), the JSON
         * output is valid and carries every event. */
        char *text = hm_rdsr_to_json(r);
        assert_non_null(text);
        json_error_t jerr;
        json_t *j = json_loads(text, 0, &jerr);
        if (!j)
            fail_msg("%s: invalid JSON: %s", f[0], jerr.text);
        assert_int_equal(json_array_size(json_object_get(j, "events")), r->nevents);
        json_decref(j);
        free(text);
        hm_rdsr_report_free(r);
    }
    assert_true(files >= 10);
    fclose(fp);
    hm_rdsr_ctx_free(ctx);
}

int main(void)
{
    if (access(CORPUS "/MANIFEST.csv", R_OK) != 0) {
        fprintf(stderr, "skipped: %s absent\n", CORPUS);
        return 77;
    }
    const struct CMUnitTest tests[] = { cmocka_unit_test(manifest) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
