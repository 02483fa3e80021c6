/*
 * test_db.h — helpers shared by the registry tests: a fresh database on the
 * back end named by HM_TEST_DB (tests/support/hm_testdb.h), fixture files,
 * imports, and reading a file back.
 */
#ifndef HM_TEST_DB_H
#define HM_TEST_DB_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The back-end helpers (tdb_new_url, tdb_open, tdb_cleanup, ...). */
#include "hm_testdb.h"

static void tdb_write(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static char *tdb_read(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = 0;
    fclose(fp);
    return buf;
}

/* One scalar from the database (e.g. a COUNT), as a number. */
static long tdb_count(hm_db *db, const char *sql)
{
    hm_stmt *st;
    hm_error err;
    assert_int_equal(hm_db_prepare(db, sql, &st, &err), HM_OK);
    assert_int_equal(hm_stmt_step(st, &err), 1);
    long v = (long)hm_stmt_column_int64(st, 0);
    hm_stmt_finalize(st);
    return v;
}

/* Imports text (written to a scratch file named name) and returns the status. */
static int tdb_import(hm_db *db, const char *centre, const char *table, const char *name,
                      const char *text, hm_import_report *rep)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", HM_TEST_TMPDIR, name);
    tdb_write(path, text);
    hm_import_report_init(rep);
    hm_error err;
    hm_error_clear(&err);
    int rc = hm_registry_import_csv(db, centre, table, path, rep, &err);
    if (rc && rc != HM_EVALIDATE)
        fprintf(stderr, "import %s: %s\n", name, err.msg);
    return rc;
}

/* Pseudonyms for fixtures: 64 hex digits built from a small number. */
#define PSEUDO(n) "00000000000000000000000000000000000000000000000000000000000000" n

/* A small valid cohort: two centres (FR01 with dates, NO01 with day offsets). */
static const char *FX_CENTRE_FR = "centre_code,country,name,cohort\nFR01,FR,Hopital Necker,both\n";
static const char *FX_CENTRE_NO = "centre_code,country,name,cohort\nNO01,NO,\"Oslo, Rikshospitalet\",cardiac\n";
static const char *FX_PATIENT_FR =
    "centre_code,pseudonym,key_version,cohort,sex,birth_year,birth_date,syndrome,transplant_date,transplant_day,immunosuppression,consent\n"
    "FR01," PSEUDO("01") ",1,cardiac,F,2005,2005-03-14,none,,,0,given\n"
    "FR01," PSEUDO("02") ",1,cardiac,M,2010,2010-12-31,down,2015-01-10,,1,given\n"
    "FR01," PSEUDO("03") ",1,radiotherapy,M,2008,2008-02-29,none,NA,NA,NA,waived\n";
static const char *FX_PATIENT_NO =
    "centre_code,pseudonym,key_version,cohort,sex,birth_year,birth_date,syndrome,transplant_date,transplant_day,immunosuppression,consent\n"
    "NO01," PSEUDO("01") ",2,cardiac,M,1980,,22q11,,3650,1,unknown\n";
static const char *FX_PROC_FR =
    "centre_code,procedure_id,pseudonym,proc_date,proc_day,age_days,weight_kg,height_cm,exam_type,category,kap_total_gy_cm2,fluoro_time_s,cine_frames,air_kerma_rp_mgy,dose_tier,study_uid,device_manufacturer,device_model\n"
    "FR01,P1," PSEUDO("01") ",2005-04-01,,18,3.6,51,diag_cath,diagnostic,1.25,300,1200,15.5,1,2.25.1234,Siemens,\"Artis zee, biplane\"\n"
    "FR01,P2," PSEUDO("01") ",2006-03-14,365,365,9.1,,asd_closure,interventional,0.10000000000000001,-9,NA,,2,,,\n"
    "FR01,P3," PSEUDO("02") ",2011-01-02,,,,,pda_closure,interventional,,,,,3,,,\n";
static const char *FX_PROC_NO =
    "centre_code,procedure_id,pseudonym,proc_date,proc_day,age_days,weight_kg,height_cm,exam_type,category,kap_total_gy_cm2,fluoro_time_s,cine_frames,air_kerma_rp_mgy,dose_tier,study_uid,device_manufacturer,device_model\n"
    "NO01,P1," PSEUDO("01") ",,120,120,4.8,55,diag_cath,diagnostic,6.63,410.5,3000,,2,,,\n";
static const char *FX_EVENT_FR =
    "centre_code,procedure_id,event_uid,plane,event_type,event_datetime,kvp,tube_current_ma,pulse_width_ms,pulse_rate_per_s,filter_cu_mm,field_width_mm,field_height_mm,field_area_cm2,primary_angle_deg,secondary_angle_deg,source_isocentre_mm,source_detector_mm,kap_gy_cm2,air_kerma_rp_mgy,units_note\n"
    "FR01,P1,1.2.3.4.1,A,fluoroscopy,2005-04-01T10:15:00,70,12.5,5,15,0.2,150,150,225,-30,0,765,1000,0.5,4.2,dGy.cm2->Gy.cm2\n"
    "FR01,P1,1.2.3.4.2,B,stationary_acquisition,2005-04-01T10:20:00.25,75,300,8,30,0.1,170,170,289,90,0,765,1100,0.75,11.3,\n";
static const char *FX_DOSE_FR =
    "centre_code,source_type,source_id,organ,method,realization,dose_mgy\n"
    "FR01,procedure,P1,lung,rdsr_mc,0,3.56\n"
    "FR01,procedure,P1,lung,rdsr_mc,1,3.9\n"
    "FR01,procedure,P1,heart,rdsr_mc,0,1.99\n"
    "FR01,procedure,P2,red_marrow,kap_coefficient,0,0.09\n";

#endif
