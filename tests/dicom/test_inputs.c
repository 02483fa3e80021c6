/*
 * test_inputs.c — wrong inputs each get a one-line reason and the right
 * status: non-DICOM, empty, truncated, corrupted, non-SR DICOM, CT and
 * mammography dose reports, other SR documents; and the bridge writer
 * refuses a malformed tree.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hm_dicom.h"
#include "hm_rdsr.h"

static hm_rdsr_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    ctx = hm_rdsr_ctx_new(NULL);
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hm_rdsr_ctx_free(ctx);
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

/* Reads from memory, expects failure with `code` and a message containing
 * `needle` on one line. */
static void expect_fail(const void *data, size_t len, int code, const char *needle)
{
    hm_error err;
    hm_error_clear(&err);
    hm_rdsr_report *r = NULL;
    int rc = hm_rdsr_read_memory(ctx, data, len, "input.dcm", &r, &err);
    if (rc != code || !strstr(err.msg, needle))
        fail_msg("expected %d '%s', got %d '%s'", code, needle, rc, err.msg);
    assert_null(r);
    assert_null(strchr(err.msg, '\n'));
    assert_string_equal(err.file, "input.dcm");
}

static char *memmem_(char *hay, size_t n, const char *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m))
            return hay + i;
    return NULL;
}

static void fixture(const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", HM_TEST_TMPDIR, name);
    hm_rdsr_synth_spec s = { .nevents = 12, .seed = 1 };
    assert_int_equal(hm_rdsr_synth_write(path, &s, NULL, NULL), 0);
}

static void not_dicom(void **state)
{
    (void)state;
    const char text[] = "patient_id,kap\nP1,2.5\n";
    expect_fail(text, sizeof text - 1, HM_EPARSE, "not a DICOM file");
    expect_fail("", 0, HM_EPARSE, "not a DICOM file");
    char zeros[300] = { 0 };
    expect_fail(zeros, sizeof zeros, HM_EPARSE, "not a DICOM file");
    hm_error err;
    hm_rdsr_report *r = NULL;
    assert_int_equal(hm_rdsr_read_file(ctx, HM_TEST_TMPDIR "/does-not-exist.dcm", &r, &err),
                     HM_EIO);
    assert_non_null(strstr(err.msg, "cannot open"));
}

static void truncated_and_corrupt(void **state)
{
    (void)state;
    char path[512];
    fixture("whole.dcm", path, sizeof path);
    size_t len;
    char *buf = slurp(path, &len);
    hm_rdsr_report *r = NULL;
    hm_error err;
    assert_int_equal(hm_rdsr_read_memory(ctx, buf, len, "whole.dcm", &r, &err), 0);
    assert_int_equal(r->nevents, 12);
    hm_rdsr_report_free(r);
    /* Cut anywhere after the header: never a partial report. */
    for (size_t cut = 200; cut < len; cut += len / 7)
        expect_fail(buf, cut, HM_EPARSE, "truncated or corrupt");
    /* A text length that runs past the end of the file: (0040,A160) UT. */
    char *bad = malloc(len);
    memcpy(bad, buf, len);
    char *p = memmem_(bad, len, "\x40\x00\x60\xA1UT\0\0", 8);
    assert_non_null(p);
    memcpy(p + 8, "\xF0\xFF\xFF\x7F", 4);
    expect_fail(bad, len, HM_EPARSE, "truncated or corrupt");
    /* A non-standard VR: DCMTK then reads a 4-byte length (found by fuzzing:
     * it allocated that length before noticing the data end). */
    memcpy(bad, buf, len);
    p = memmem_(bad + 200, len - 200, "\x08\x00\x04\x01LO", 6);
    assert_non_null(p);
    memcpy(p + 4, "TO\0\0\xF0\xFF\xFF\x7F", 8);
    expect_fail(bad, len, HM_EPARSE, "truncated or corrupt");
    /* An item tag overwritten inside the content sequence. */
    memcpy(bad, buf, len);
    p = memmem_(bad + 5000, len - 5000, "\xFE\xFF\x00\xE0", 4);
    assert_non_null(p);
    memcpy(p, "\x12\x34\x56\x78", 4);
    expect_fail(bad, len, HM_EPARSE, "truncated or corrupt");
    free(bad);
    free(buf);
}

/* Writes a document built item by item; returns its path. */
static void write_doc(const char *name, hm_dcm_doc *doc, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", HM_TEST_TMPDIR, name);
    hm_error err;
    hm_error_clear(&err);
    if (hm_dcm_write_file(path, doc, 0, &err))
        fail_msg("%s", err.msg);
    hm_dcm_doc_free(doc);
}

static hm_dcm_item *add(hm_dcm_doc *doc, int depth, const char *vt, const char *code,
                        const char *scheme, const char *meaning)
{
    hm_dcm_item *it = hm_dcm_doc_append(doc, depth);
    strcpy(it->value_type, vt);
    strcpy(it->relationship, depth ? "CONTAINS" : "");
    strcpy(it->concept.value, code);
    strcpy(it->concept.scheme, scheme);
    strcpy(it->concept.meaning, meaning);
    return it;
}

static void read_expect(const char *path, int code, const char *needle)
{
    hm_error err;
    hm_error_clear(&err);
    hm_rdsr_report *r = NULL;
    int rc = hm_rdsr_read_file(ctx, path, &r, &err);
    if (rc != code || !strstr(err.msg, needle))
        fail_msg("%s: expected %d '%s', got %d '%s'", path, code, needle, rc, err.msg);
    assert_null(r);
}

static void ct_report(void **state)
{
    (void)state;
    hm_dcm_doc doc;
    memset(&doc, 0, sizeof doc);
    strcpy(doc.attrs.template_id, "10011");
    strcpy(doc.attrs.study_uid, "2.25.1");
    add(&doc, 0, "CONTAINER", "113701", "DCM", "X-Ray Radiation Dose Report");
    hm_dcm_item *p = add(&doc, 1, "CODE", "121058", "DCM", "Procedure reported");
    strcpy(p->coded.value, "P5-08000");
    strcpy(p->coded.scheme, "SRT");
    strcpy(p->coded.meaning, "Computed Tomography X-Ray");
    add(&doc, 1, "CONTAINER", "113811", "DCM", "CT Accumulated Dose Data");
    char path[512];
    write_doc("ct.dcm", &doc, path, sizeof path);
    read_expect(path, HM_EUNSUPPORTED, "CT radiation dose report");
}

static void mammography_report(void **state)
{
    (void)state;
    hm_dcm_doc doc;
    memset(&doc, 0, sizeof doc);
    add(&doc, 0, "CONTAINER", "113701", "DCM", "X-Ray Radiation Dose Report");
    hm_dcm_item *p = add(&doc, 1, "CODE", "121058", "DCM", "Procedure reported");
    strcpy(p->coded.value, "71651007");
    strcpy(p->coded.scheme, "SCT");
    strcpy(p->coded.meaning, "Mammography");
    add(&doc, 1, "CONTAINER", "113706", "DCM", "Irradiation Event X-Ray Data");
    char path[512];
    write_doc("mammo.dcm", &doc, path, sizeof path);
    read_expect(path, HM_EUNSUPPORTED, "mammography");
}

static void other_sr_and_non_sr(void **state)
{
    (void)state;
    hm_dcm_doc doc;
    memset(&doc, 0, sizeof doc);
    strcpy(doc.attrs.sop_class_uid, "1.2.840.10008.5.1.4.1.1.88.33");
    add(&doc, 0, "CONTAINER", "126000", "DCM", "Imaging Measurement Report");
    add(&doc, 1, "TEXT", "121106", "DCM", "Comment")->text[0] = 'x';
    char path[512];
    write_doc("other-sr.dcm", &doc, path, sizeof path);
    read_expect(path, HM_EUNSUPPORTED, "not an X-Ray Radiation Dose Report");

    /* A CT image header: no SR content at all. */
    memset(&doc, 0, sizeof doc);
    strcpy(doc.attrs.sop_class_uid, "1.2.840.10008.5.1.4.1.1.2");
    strcpy(doc.attrs.modality, "CT");
    add(&doc, 0, "", "", "", "");
    write_doc("ct-image.dcm", &doc, path, sizeof path);
    read_expect(path, HM_EUNSUPPORTED, "not a DICOM structured report");
}

static void writer_refuses_bad_tree(void **state)
{
    (void)state;
    hm_dcm_doc doc;
    memset(&doc, 0, sizeof doc);
    add(&doc, 0, "CONTAINER", "113701", "DCM", "X-Ray Radiation Dose Report");
    add(&doc, 2, "TEXT", "121106", "DCM", "Comment");   /* skips depth 1 */
    hm_error err;
    hm_error_clear(&err);
    char path[512];
    snprintf(path, sizeof path, "%s/bad-tree.dcm", HM_TEST_TMPDIR);
    remove(path);
    assert_int_equal(hm_dcm_write_file(path, &doc, 0, &err), HM_EINVAL);
    assert_non_null(strstr(err.msg, "not a tree"));
    FILE *fp = fopen(path, "rb");
    assert_null(fp);        /* nothing written */
    hm_dcm_doc_free(&doc);
}

static void bridge_items(void **state)
{
    (void)state;
    char path[512];
    fixture("items.dcm", path, sizeof path);
    hm_dcm_doc doc;
    hm_error err;
    assert_int_equal(hm_dcm_read_file(path, &doc, &err), 0);
    assert_string_equal(doc.items[0].concept.value, "113701");
    assert_int_equal(doc.items[0].depth, 0);
    int events = 0, nums = 0;
    for (size_t i = 1; i < doc.nitems; i++) {
        const hm_dcm_item *it = &doc.items[i];
        assert_true(it->depth >= 1 && it->depth <= doc.items[i - 1].depth + 1);
        if (!strcmp(it->concept.value, "113706")) {
            events++;
            assert_string_equal(it->relationship, "CONTAINS");
            assert_int_equal(it->depth, 1);
        }
        if (!strcmp(it->value_type, "NUM") && it->has_number) {
            nums++;
            assert_string_equal(it->unit.scheme, "UCUM");
        }
    }
    assert_int_equal(events, 12);
    assert_true(nums > 12 * 15);
    assert_string_equal(doc.attrs.sop_class_uid, "1.2.840.10008.5.1.4.1.1.88.67");
    assert_string_equal(doc.attrs.patient_sex, "F");
    hm_dcm_doc_free(&doc);
}

/* The concept table is data: a wrong row is refused with file, line and
 * field when the tables load, never half-used. */
static void broken_tables(void **state)
{
    (void)state;
    assert_int_equal(system("rm -rf " HM_TEST_TMPDIR "/data && mkdir -p " HM_TEST_TMPDIR
                            "/data/rdsr && cp " HM_SOURCE_DATA_DIR "/rdsr/units.csv "
                            HM_TEST_TMPDIR "/data/rdsr/"), 0);
    FILE *fp = fopen(HM_TEST_TMPDIR "/data/rdsr/concepts.csv", "w");
    assert_non_null(fp);
    fputs("context,code,scheme,kind,field,unit,std_unit,meaning\n"
          "event,113733,DCM,num,kvp_kv,kV,kV,KVP\n"
          "event,122130,DCM,num,kap_gy_cm2,Gy.cm2,s,Dose Area Product\n", fp);
    fclose(fp);
    const char *old = getenv("HARMONIC_DATA");
    char *saved = old ? strdup(old) : NULL;
    setenv("HARMONIC_DATA", HM_TEST_TMPDIR "/data", 1);
    hm_error err;
    hm_error_clear(&err);
    hm_rdsr_ctx *bad = hm_rdsr_ctx_new(&err);
    assert_null(bad);
    assert_int_equal(err.code, HM_EPARSE);
    assert_int_equal(err.line, 3);
    assert_string_equal(err.field, "unit");
    assert_non_null(strstr(err.file, "concepts.csv"));
    assert_non_null(strstr(err.msg, "measure different things"));
    if (saved) {
        setenv("HARMONIC_DATA", saved, 1);
        free(saved);
    } else {
        unsetenv("HARMONIC_DATA");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(not_dicom),
        cmocka_unit_test(truncated_and_corrupt),
        cmocka_unit_test(ct_report),
        cmocka_unit_test(mammography_report),
        cmocka_unit_test(other_sr_and_non_sr),
        cmocka_unit_test(writer_refuses_bad_tree),
        cmocka_unit_test(bridge_items),
        cmocka_unit_test(broken_tables),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
