/*
 * fuzz_import.c — arbitrary bytes through the CSV importer (parse, validate,
 * cross-field rules, upsert) into an in-memory SQLite registry holding one
 * centre and one patient.  The first byte picks the table.  Invariants: no
 * crash or sanitizer report, and a rejected file changes nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hm_registry.h"

static hm_db *db;
static char path[64];

static long count_rows(void)
{
    hm_stmt *st;
    hm_error err;
    long n = 0;
    const hm_dict *d = hm_db_dict(db);
    for (size_t i = 0; i < hm_dict_ntables(d); i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", hm_dict_table_at(d, i)->name);
        if (hm_db_prepare(db, sql, &st, &err))
            abort();
        if (hm_stmt_step(st, &err) == 1)
            n += (long)hm_stmt_column_int64(st, 0);
        hm_stmt_finalize(st);
    }
    return n;
}

static void setup(void)
{
    hm_error err;
    if (!getenv("HARMONIC_DATA"))
        setenv("HARMONIC_DATA", HM_SOURCE_DATA_DIR, 1);
    if (hm_db_open(":memory:", &db, &err))
        abort();
    snprintf(path, sizeof path, "/tmp/hm_fuzz_import_%ld.csv", (long)getpid());
    const char *names[] = { "centre_code", "country", "name", "cohort" };
    const char *vals[] = { "FR01", "FR", "Necker", "both" };
    if (hm_registry_upsert_row(db, "FR01", "centre", names, vals, 4, &err))
        abort();
    const char *pn[] = { "centre_code", "pseudonym", "key_version", "cohort", "sex",
                         "birth_year", "birth_date", "syndrome", "consent" };
    const char *pv[] = { "FR01", "0000000000000000000000000000000000000000000000000000000000000001",
                         "1", "cardiac", "F", "2005", "2005-03-14", "none", "given" };
    if (hm_registry_upsert_row(db, "FR01", "patient", pn, pv, 9, &err))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db)
        setup();
    if (size < 1)
        return 0;
    const hm_dict *d = hm_db_dict(db);
    const char *table = hm_dict_table_at(d, data[0] % hm_dict_ntables(d))->name;
    FILE *fp = fopen(path, "wb");
    if (!fp)
        abort();
    fwrite(data + 1, 1, size - 1, fp);
    fclose(fp);
    long before = count_rows();
    hm_import_report rep;
    hm_import_report_init(&rep);
    hm_error err;
    hm_error_clear(&err);
    int rc = hm_registry_import_csv(db, "FR01", table, path, &rep, &err);
    if (rc != HM_OK && count_rows() != before)
        abort();                      /* a rejected file must change nothing */
    if (rc == HM_OK && rep.n_errors)
        abort();
    if (rc == HM_OK) {
        /* Keep the in-memory registry small: back to the one centre and patient. */
        for (size_t i = 0; i < hm_dict_ntables(d); i++) {
            const char *name = hm_dict_table_at(d, i)->name;
            char sql[160];
            if (!strcmp(name, "centre"))
                snprintf(sql, sizeof sql, "DELETE FROM centre WHERE centre_code <> 'FR01'");
            else if (!strcmp(name, "patient"))
                snprintf(sql, sizeof sql, "DELETE FROM patient WHERE pseudonym <> "
                         "'0000000000000000000000000000000000000000000000000000000000000001'");
            else
                snprintf(sql, sizeof sql, "DELETE FROM %s", name);
            if (hm_db_exec(db, sql, &err))
                abort();
        }
    }
    hm_import_report_free(&rep);
    remove(path);
    return 0;
}
