/*
 * cmd_synth.c — `harmonic keygen`, `harmonic pseudonymise` and
 * `harmonic synth`: argument parsing only; the work is in hm_pseudo and
 * hm_synth.
 */
#include "cli.h"
#include "hm_pseudo.h"
#ifdef HM_HAVE_SYNTH
#include "hm_synth.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run_keygen(const hm_args *a)
{
    const char *out = hm_args_str(a, "out", NULL);
    long version = (long)hm_args_int(a, "version", 1);
    hm_error err;
    hm_error_clear(&err);
    if (hm_pseudo_keygen(out, (int)version, &err))
        return hm_cli_report(&err);
    fprintf(stderr, "harmonic: wrote study key version %ld to %s (mode 0600)\n", version, out);
    return 0;
}

static const hm_cli_opt keygen_opts[] = {
    { "out", 0, HM_OPT_T_PATH, "KEYFILE", "the key file to create (never overwritten)", NULL,
      HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_INT("version", "V", "the key version", "1", 1, HM_PSEUDO_VERSION_MAX),
    HM_OPT_END
};
const hm_cli_cmd hm_cli_keygen = {
    "keygen", "generate a study pseudonymisation key",
    "Writes a new 32-byte study key (mode 0600; never overwrites).\n"
    "Keep it at the hospitals: the pooling centre must never hold it.\n",
    keygen_opts, NULL, run_keygen, NULL, 0
};

static int run_pseudonymise(const hm_args *a)
{
    const char *keyfile = hm_args_str(a, "key", NULL), *table = hm_args_str(a, "table", NULL);
    const char *const *paths = a->pos;
    int offset_dates = hm_args_flag(a, "offset-dates");
    hm_csv_dialect dialect;
    int drc = hm_cli_dialect(a, &dialect);
    if (drc)
        return drc;
    hm_error err;
    hm_error_clear(&err);
    char **known = NULL;
    size_t n_known = 0;
    if (hm_pseudo_dict_columns(table, &known, &n_known, &err))
        return hm_cli_report(&err);
    hm_pseudo_key key;
    if (hm_pseudo_key_load(keyfile, &key, &err)) {
        hm_pseudo_dict_free(known, n_known);
        return hm_cli_report(&err);
    }
    hm_pseudo_csv_opts opts = { table, offset_dates, (const char *const *)known, n_known };
    hm_pseudo_csv_result res;
    int rc = hm_pseudo_csv_ex(&key, &opts, &dialect, paths[0], paths[1], &res, &err);
    hm_pseudo_key_wipe(&key);
    hm_pseudo_dict_free(known, n_known);
    if (rc)
        return hm_cli_report(&err);
    hm_cli_dialect_note(paths[0], res.dialect);
    if (res.dropped[0])
        fprintf(stderr, "harmonic: %s: dropped columns not in the dictionary for table %s: %s\n",
                paths[0], table, res.dropped);
    fprintf(stderr, "harmonic: %s: %ld rows pseudonymised -> %s\n", paths[0], res.rows, paths[1]);
    return 0;
}

static const hm_cli_opt pseudonymise_opts[] = {
    { "key", 0, HM_OPT_T_PATH, "KEYFILE", "the study key (harmonic keygen)", NULL,
      HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    { "table", 0, HM_OPT_T_STRING, "TABLE", "the dictionary table IN.csv holds", NULL,
      HM_OPT_REQUIRED, 0, 0, NULL, 0, 0 },
    HM_OPT_FLAG("offset-dates", "<x>_date -> <x>_day (days since birth), birth_date -> birth_year"),
    HM_OPT_DIALECT,
    HM_OPT_END
};
static const hm_cli_pos pseudonymise_pos[] = {
    { "IN.csv", "the hospital file", 1, 1, HM_OPT_T_PATH },
    { "OUT.csv", "the poolable file to write", 1, 1, HM_OPT_T_PATH },
    HM_POS_END
};
const hm_cli_cmd hm_cli_pseudonymise = {
    "pseudonymise", "pseudonymise a hospital CSV with the study key",
    "Turns a hospital CSV into a poolable one: local_patient_id -> pseudonym\n"
    "(+ key_version), local_<x>_id -> <x>_id, local_<x>_uid -> <x>_uid (keyed\n"
    "HMAC-SHA-256); columns the dictionary does not define for TABLE (names,\n"
    "addresses, national ids...) are dropped and listed on stderr.  With\n"
    "--offset-dates every <x>_date becomes <x>_day (days since birth) and\n"
    "birth_date becomes birth_year.  Nothing is written if any row is bad.\n"
    "See docs/pseudonymisation.md.\n",
    pseudonymise_opts, pseudonymise_pos, run_pseudonymise, NULL, 0
};

#ifdef HM_HAVE_SYNTH
static int run_synth(const hm_args *a)
{
    hm_synth_opts o;
    memset(&o, 0, sizeof o);
    const char *keyfile = hm_args_str(a, "key", NULL);
    long n = (long)hm_args_int(a, "patients", 0), seed = (long)hm_args_int(a, "seed", -1);
    long reals = (long)hm_args_int(a, "realizations", 0);
    o.out_dir = hm_args_str(a, "out", NULL);
    o.err_per_100mgy = hm_args_num(a, "true-err-per-100mgy", 0);
    o.err_organ = hm_args_str(a, "err-organ", NULL);
    o.err_outcomes = hm_args_str(a, "err-outcomes", NULL);
    o.organs = hm_args_str(a, "organs", NULL);
    o.hospital_format = hm_args_flag(a, "hospital-format");
    o.no_events = hm_args_flag(a, "no-events");
    /* The registry's organ doses come from `harmonic dose cohort`; the
     * generator's true doses are truth, like truth.json. */
    o.doses_to_truth = !hm_args_flag(a, "organ-doses");
    /* "dir/" and "dir" are the same folder; the temporary folder sits beside it. */
    char out[4096];
    snprintf(out, sizeof out, "%s", o.out_dir);
    for (size_t len = strlen(out); len > 1 && out[len - 1] == '/'; len--)
        out[len - 1] = '\0';
    o.out_dir = out;
    o.n_patients = n;
    o.seed = (uint64_t)seed;
    o.realizations = (int)reals;
    o.rt_patients = (long)hm_args_int(a, "rt-patients", 0);
    o.biobank = hm_args_flag(a, "biobank");

    hm_error err;
    hm_error_clear(&err);
    hm_pseudo_key key;
    if (keyfile && hm_pseudo_key_load(keyfile, &key, &err))
        return hm_cli_report(&err);
    hm_synth_summary s;
    int rc = hm_synth_run_with_key(&o, keyfile ? &key : NULL, &s, &err);
    if (keyfile)
        hm_pseudo_key_wipe(&key);
    if (rc)
        return hm_cli_report(&err);
    printf("synthetic cohort in %s (%s format, seed %ld) in %.2f s\n", o.out_dir,
           o.hospital_format ? "hospital" : "pseudonymised", seed, s.seconds);
    printf("  patients      %ld (Down syndrome %ld, transplanted %ld, died %ld)\n", s.patients,
           s.down, s.transplants, s.deaths);
    printf("  procedures    %ld (%.2f per patient; tier 1 %ld, tier 2 %ld, tier 3 %ld)\n",
           s.procedures, s.patients ? (double)s.procedures / (double)s.patients : 0.0, s.tier[1], s.tier[2],
           s.tier[3]);
    printf("  events        %ld irradiation events of tier-1 procedures\n", s.events);
    printf("  organ doses   %ld rows (%d realizations besides the true dose)\n",
           s.organ_dose_rows, o.realizations);
    printf("  person-years  %.0f\n", s.person_years);
    printf("  cancers       leukaemia %ld, lymphoma %ld, CNS %ld, solid %ld\n", s.cancers[0],
           s.cancers[1], s.cancers[2], s.cancers[3]);
    printf("  true ERR      %g per 100 mGy (see %s/truth.json)\n", o.err_per_100mgy, o.out_dir);
    if (s.rt_patients)
        printf("  radiotherapy  %ld patients, %ld chemotherapy/surgery/transplant rows, %ld DICOM "
               "files (truth: %s/rt_truth.csv)\n", s.rt_patients, s.rt_treatment_rows,
               s.rt_dicom_files, o.out_dir);
    if (o.biobank)
        printf("  biobank       %ld patients, %ld samples, %ld aliquots, %ld events, %ld shipments, "
               "%ld withdrawals (%s/biobank/<centre>/events.csv); %ld questionnaire items "
               "(<centre>/qol_item.csv)\n", s.bio_patients, s.bio_samples, s.bio_aliquots,
               s.bio_events, s.bio_shipments, s.bio_withdrawals, o.out_dir, s.bio_qol_rows);
    return 0;
}

static const hm_cli_opt synth_opts[] = {
    { "patients", 0, HM_OPT_T_INT, "N", "number of patients", NULL,
      HM_OPT_REQUIRED | HM_OPT_BOUNDED, 0, 100000000, NULL, 0, 0 },
    { "seed", 0, HM_OPT_T_INT, "S", "random seed (same seed, same cohort)", NULL,
      HM_OPT_REQUIRED | HM_OPT_BOUNDED, 0, 2147483647, NULL, 0, 0 },
    { "out", 0, HM_OPT_T_PATH, "DIR", "folder to write (must not exist)", NULL, HM_OPT_REQUIRED,
      0, 0, NULL, 0, 0 },
    HM_OPT_NUM("true-err-per-100mgy", "B", "the true excess relative risk per 100 mGy", "0", 0,
               1000),
    HM_OPT_STR("err-organ", "ORGAN", "organ whose dose the ERR applies to", "red_marrow"),
    HM_OPT_STR("err-outcomes", "LIST", "outcome groups the ERR applies to (comma separated)",
               "by --err-organ"),
    HM_OPT_STR("organs", "LIST", "organs written (comma separated)",
               "all of data/synth/organ_ratios.csv"),
    HM_OPT_INT("realizations", "R", "dose realizations besides the true dose", "0", 0, 1000),
    HM_OPT_FLAG("hospital-format", "local ids, fake names and dates (input for pseudonymise)"),
    HM_OPT_PATH("key", "KEYFILE", "pseudonymise with this study key", "derived from the seed"),
    HM_OPT_FLAG("no-events", "write no irradiation events"),
    HM_OPT_INT("rt-patients", "N", "radiotherapy patients with DICOM RT courses (--patients may "
               "then be 0)", "0", 0, 100000),
    HM_OPT_FLAG("biobank", "the biobank sub-study too: sample events with logger files "
                "(DIR/biobank/<centre>/) and questionnaire items (<centre>/qol_item.csv)"),
    HM_OPT_FLAG("organ-doses", "write the true organ doses as importable organ_dose.csv "
                "(default: truth_organ_dose.csv, for comparison only)"),
    HM_OPT_END
};
const hm_cli_cmd hm_cli_synth = {
    "synth", "generate a synthetic multi-centre cohort",
    "Writes a synthetic multi-centre cardiac catheterization cohort: DIR/centres.csv,\n"
    "DIR/<centre>/{centre,patient,procedure,irradiation_event,outcome,followup}.csv,\n"
    "the true organ doses in DIR/<centre>/truth_organ_dose.csv (importable organ_dose.csv\n"
    "with --organ-doses) and DIR/truth.json.  Pseudonymised (importable) by default, with a key\n"
    "derived from the seed or --key; --hospital-format writes local ids, fake names and\n"
    "dates instead (input for `harmonic pseudonymise`).  With B > 0 the first\n"
    "cancers of the groups the ERR applies to (by --err-organ, default red_marrow:\n"
    "leukaemia and lymphoma; brain: cns; other organs: solid; or --err-outcomes)\n"
    "have RR = 1 + B x lagged organ dose / 100 mGy.  --organs limits the organs\n"
    "written (all dose ratios of data/synth/organ_ratios.csv by default).\n"
    "See docs/synth.md.\n",
    synth_opts, NULL, run_synth, NULL, 0
};
#endif
