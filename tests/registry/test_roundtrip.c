/*
 * test_roundtrip.c — export -> re-import into a fresh database (each centre
 * from its own per-centre export) -> export again is byte-identical, and the
 * exported values are the expected ones.
 */
#include "test_db.h"

#include <dirent.h>

static void load_computed_only(hm_db *db);

static void load_all(hm_db *db)
{
    struct { const char *centre, *table, *text; } files[] = {
        { "FR01", "centre", NULL }, { "NO01", "centre", NULL },
        { "FR01", "patient", NULL }, { "NO01", "patient", NULL },
        { "FR01", "procedure", NULL }, { "NO01", "procedure", NULL },
        { "FR01", "irradiation_event", NULL }, { "FR01", "organ_dose", NULL },
    };
    files[0].text = FX_CENTRE_FR; files[1].text = FX_CENTRE_NO;
    files[2].text = FX_PATIENT_FR; files[3].text = FX_PATIENT_NO;
    files[4].text = FX_PROC_FR; files[5].text = FX_PROC_NO;
    files[6].text = FX_EVENT_FR; files[7].text = FX_DOSE_FR;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        hm_import_report rep;
        char name[64];
        snprintf(name, sizeof name, "in_%zu.csv", i);
        int rc = tdb_import(db, files[i].centre, files[i].table, name, files[i].text, &rep);
        if (rc)
            hm_import_report_print(&rep, stderr);
        assert_int_equal(rc, HM_OK);
        hm_import_report_free(&rep);
    }
    /* What a dose run writes (computed tables, bytes among them): the same
     * rows on both back ends must export to the same text. */
    load_computed_only(db);
}

/* Computed tables are exported but never imported: written again here. */
static void load_computed_only(hm_db *db)
{
    hm_error err;
    float v[4] = { 1.5f, 0.0f, 3.25e-3f, 1e30f };
    assert_int_equal(hm_registry_put_realizations(db, "FR01", "procedure", "P1", "lung", "rdsr_mc",
                                                  "r1", v, 4, &err), HM_OK);
    assert_int_equal(hm_registry_put_realizations(db, "FR01", "procedure", "P2", "lung", "kap_coefficient",
                                                  "r1", v + 1, 2, &err), HM_OK);
    hm_dose_event_row e = { "FR01", "P1", "1.2.3.4.1", "r1", "kvp,field", "library", 0.01, 0.5 };
    assert_int_equal(hm_registry_put_dose_event(db, &e, &err), HM_OK);
    unsigned char map[5] = { 0, 1, 92, 200, 255 };
    hm_dose_procedure_row p = { "FR01", "P1", "r1", 1, 0.2, 15.5, map, sizeof map };
    assert_int_equal(hm_registry_put_dose_procedure(db, &p, &err), HM_OK);
}

static void compare_dirs(const char *a, const char *b)
{
    DIR *d = opendir(a);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char pa[1200], pb[1200];
        snprintf(pa, sizeof pa, "%.900s/%.200s", a, e->d_name);
        snprintf(pb, sizeof pb, "%.900s/%.200s", b, e->d_name);
        char *x = tdb_read(pa), *y = tdb_read(pb);
        if (strcmp(x, y))
            fprintf(stderr, "differs: %s\n", e->d_name);
        assert_string_equal(x, y);
        free(x);
        free(y);
        n++;
    }
    closedir(d);
    assert_int_equal(n, 26);          /* 22 tables + 2 codebooks + R + Stata */
}

static void test_export_reimport_identical(void **state)
{
    (void)state;
    char url1[1024], url2[1024], all1[1024], all2[1024], fr[1024], no[1024];
    tdb_new_url("rt1", url1, sizeof url1);
    tdb_new_url("rt2", url2, sizeof url2);
    snprintf(all1, sizeof all1, "%s/all1", HM_TEST_TMPDIR);
    snprintf(all2, sizeof all2, "%s/all2", HM_TEST_TMPDIR);
    snprintf(fr, sizeof fr, "%s/fr", HM_TEST_TMPDIR);
    snprintf(no, sizeof no, "%s/no", HM_TEST_TMPDIR);
    hm_error err;
    hm_db *db = tdb_open(url1);
    load_all(db);
    assert_int_equal(hm_registry_export(db, all1, NULL, &err), HM_OK);
    assert_int_equal(hm_registry_export(db, fr, "FR01", &err), HM_OK);
    assert_int_equal(hm_registry_export(db, no, "NO01", &err), HM_OK);
    hm_db_close(db);

    /* Exact content: natural-key order, derived days, shortest doubles, quoting. */
    char path[1200];
    snprintf(path, sizeof path, "%s/procedure.csv", all1);
    char *proc = tdb_read(path);
    assert_string_equal(proc,
        "centre_code,procedure_id,pseudonym,proc_date,proc_day,age_days,weight_kg,height_cm,exam_type,category,kap_total_gy_cm2,fluoro_time_s,cine_frames,air_kerma_rp_mgy,dose_tier,study_uid,device_manufacturer,device_model,device_id,device_serial\n"
        "FR01,P1," PSEUDO("01") ",2005-04-01,18,18,3.6,51,diag_cath,diagnostic,1.25,300,1200,15.5,1,2.25.1234,Siemens,\"Artis zee, biplane\",,\n"
        "FR01,P2," PSEUDO("01") ",2006-03-14,365,365,9.1,,asd_closure,interventional,0.1,,,,2,,,,,\n"
        "FR01,P3," PSEUDO("02") ",2011-01-02,2,,,,pda_closure,interventional,,,,,3,,,,,\n"
        "NO01,P1," PSEUDO("01") ",,120,120,4.8,55,diag_cath,diagnostic,6.63,410.5,3000,,2,,,,,\n");
    free(proc);
    snprintf(path, sizeof path, "%s/organ_dose.csv", all1);
    char *dose = tdb_read(path);
    assert_string_equal(dose,
        "centre_code,source_type,source_id,organ,method,realization,dose_mgy\n"
        "FR01,procedure,P1,heart,rdsr_mc,0,1.99\n"
        "FR01,procedure,P1,lung,rdsr_mc,0,3.56\n"
        "FR01,procedure,P1,lung,rdsr_mc,1,3.9\n"
        "FR01,procedure,P2,red_marrow,kap_coefficient,0,0.09\n");
    free(dose);
    /* Realizations as base64 of little-endian float32 (1.5f = 00 00 c0 3f). */
    snprintf(path, sizeof path, "%s/organ_dose_real.csv", all1);
    char *real = tdb_read(path);
    assert_string_equal(real,
        "centre_code,source_type,source_id,organ,method,run_id,n_real,dose_mgy\n"
        "FR01,procedure,P1,lung,rdsr_mc,r1,4,AADAPwAAAAD0/VQ7yvJJcQ==\n"
        "FR01,procedure,P2,lung,kap_coefficient,r1,2,AAAAAPT9VDs=\n");
    free(real);

    db = tdb_open(url2);
    const hm_dict *d = hm_db_dict(db);
    for (size_t i = 0; i < hm_dict_ntables(d); i++) {
        const char *t = hm_dict_table_at(d, i)->name;
        if (hm_dict_table_at(d, i)->computed)
            continue;
        const char *dirs[2] = { fr, no }, *centres[2] = { "FR01", "NO01" };
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s/%s.csv", dirs[k], t);
            hm_import_report rep;
            hm_import_report_init(&rep);
            int rc = hm_registry_import_csv(db, centres[k], t, path, &rep, &err);
            if (rc)
                hm_import_report_print(&rep, stderr);
            assert_int_equal(rc, HM_OK);
            hm_import_report_free(&rep);
        }
    }
    load_computed_only(db);
    assert_int_equal(hm_registry_export(db, all2, NULL, &err), HM_OK);
    hm_db_close(db);
    compare_dirs(all1, all2);

    /* PostgreSQL and SQLite export the same content byte for byte. */
    if (tdb_is_pg()) {
        char sq[1024], all3[1024];
        snprintf(sq, sizeof sq, "%s/cross.db", HM_TEST_TMPDIR);
        snprintf(all3, sizeof all3, "%s/all3", HM_TEST_TMPDIR);
        remove(sq);
        db = tdb_open(sq);
        load_all(db);
        assert_int_equal(hm_registry_export(db, all3, NULL, &err), HM_OK);
        hm_db_close(db);
        compare_dirs(all1, all3);
    }
}

int main(void)
{
    if (tdb_skip())
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_reimport_identical),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tdb_cleanup();
    return rc;
}
