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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "harmonic: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: %s\n", usage);
    return 2;
}

/* Strict integer parse of an option value. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static const char KEYGEN_USAGE[] = "harmonic keygen --out KEYFILE [--version V]";

int hm_cmd_keygen(int argc, char **argv)
{
    const char *out = NULL;
    long version = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: %s\n\nWrites a new 32-byte study key (mode 0600; never overwrites).\n"
                   "Keep it at the hospitals: the pooling centre must never hold it.\n"
                   "V is the key version, an integer 1..%d (default 1).\n",
                   KEYGEN_USAGE, HM_PSEUDO_VERSION_MAX);
            return 0;
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--version") && i + 1 < argc) {
            if (!parse_long(argv[++i], 1, HM_PSEUDO_VERSION_MAX, &version))
                return usage_error(KEYGEN_USAGE, "--version '%s': expected an integer 1..1000",
                                   argv[i]);
        } else {
            return usage_error(KEYGEN_USAGE, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!out)
        return usage_error(KEYGEN_USAGE, "%s", "--out KEYFILE is required");
    hm_error err;
    hm_error_clear(&err);
    if (hm_pseudo_keygen(out, (int)version, &err))
        return hm_cli_report(&err);
    fprintf(stderr, "harmonic: wrote study key version %ld to %s (mode 0600)\n", version, out);
    return 0;
}

static const char PSEUDO_USAGE[] =
    "harmonic pseudonymise --key KEYFILE --table TABLE [--offset-dates] IN.csv OUT.csv";

int hm_cmd_pseudonymise(int argc, char **argv)
{
    const char *keyfile = NULL, *table = NULL, *paths[2] = { NULL, NULL };
    int offset_dates = 0, npaths = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: %s\n\n"
                   "Turns a hospital CSV into a poolable one: local_patient_id -> pseudonym\n"
                   "(+ key_version), local_<x>_id -> <x>_id, local_<x>_uid -> <x>_uid (keyed\n"
                   "HMAC-SHA-256); columns the dictionary does not define for TABLE (names,\n"
                   "addresses, national ids...) are dropped and listed on stderr.  With\n"
                   "--offset-dates every <x>_date becomes <x>_day (days since birth) and\n"
                   "birth_date becomes birth_year.  Nothing is written if any row is bad.\n"
                   "See docs/pseudonymisation.md.\n", PSEUDO_USAGE);
            return 0;
        } else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
            keyfile = argv[++i];
        } else if (!strcmp(argv[i], "--table") && i + 1 < argc) {
            table = argv[++i];
        } else if (!strcmp(argv[i], "--offset-dates")) {
            offset_dates = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error(PSEUDO_USAGE, "unknown option '%s'", argv[i]);
        } else if (npaths < 2) {
            paths[npaths++] = argv[i];
        } else {
            return usage_error(PSEUDO_USAGE, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!keyfile || !table || npaths != 2)
        return usage_error(PSEUDO_USAGE, "%s", "--key, --table, IN.csv and OUT.csv are required");

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
    int rc = hm_pseudo_csv(&key, &opts, paths[0], paths[1], &res, &err);
    hm_pseudo_key_wipe(&key);
    hm_pseudo_dict_free(known, n_known);
    if (rc)
        return hm_cli_report(&err);
    if (res.dropped[0])
        fprintf(stderr, "harmonic: %s: dropped columns not in the dictionary for table %s: %s\n",
                paths[0], table, res.dropped);
    fprintf(stderr, "harmonic: %s: %ld rows pseudonymised -> %s\n", paths[0], res.rows, paths[1]);
    return 0;
}

#ifdef HM_HAVE_SYNTH
static const char SYNTH_USAGE[] =
    "harmonic synth --patients N --seed S --out DIR [--true-err-per-100mgy B]\n"
    "       [--err-organ ORGAN] [--err-outcomes LIST] [--organs LIST] [--realizations R]\n"
    "       [--hospital-format] [--key KEYFILE] [--no-events]";

int hm_cmd_synth(int argc, char **argv)
{
    hm_synth_opts o;
    memset(&o, 0, sizeof o);
    const char *keyfile = NULL;
    long n = 0, seed = -1, reals = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: %s\n\n"
                   "Writes a synthetic multi-centre cardiac catheterization cohort: DIR/centres.csv,\n"
                   "DIR/<centre>/{centre,patient,procedure,irradiation_event,organ_dose,outcome,\n"
                   "followup}.csv and "
                   "DIR/truth.json.  Pseudonymised (importable) by default, with a key derived\n"
                   "from the seed or --key; --hospital-format writes local ids, fake names and\n"
                   "dates instead (input for `harmonic pseudonymise`).  With B > 0 the first\n"
                   "cancers of the groups the ERR applies to (by --err-organ, default red_marrow:\n"
                   "leukaemia and lymphoma; brain: cns; other organs: solid; or --err-outcomes)\n"
                   "have RR = 1 + B x lagged organ dose / 100 mGy.  --organs limits the organs\n"
                   "written (all dose ratios of data/synth/organ_ratios.csv by default).\n"
                   "See docs/synth.md.\n", SYNTH_USAGE);
            return 0;
        } else if (!strcmp(a, "--patients") && more) {
            if (!parse_long(argv[++i], 1, 100000000L, &n))
                return usage_error(SYNTH_USAGE, "--patients '%s': expected 1..100000000", argv[i]);
        } else if (!strcmp(a, "--seed") && more) {
            if (!parse_long(argv[++i], 0, 2147483647L, &seed))
                return usage_error(SYNTH_USAGE, "--seed '%s': expected 0..2147483647", argv[i]);
        } else if (!strcmp(a, "--out") && more) {
            o.out_dir = argv[++i];
        } else if (!strcmp(a, "--true-err-per-100mgy") && more) {
            char *end;
            errno = 0;
            o.err_per_100mgy = strtod(argv[++i], &end);
            if (errno || end == argv[i] || *end || !(o.err_per_100mgy >= 0)
                || o.err_per_100mgy > 1000)
                return usage_error(SYNTH_USAGE, "--true-err-per-100mgy '%s': expected 0..1000",
                                   argv[i]);
        } else if (!strcmp(a, "--err-organ") && more) {
            o.err_organ = argv[++i];
        } else if (!strcmp(a, "--err-outcomes") && more) {
            o.err_outcomes = argv[++i];
        } else if (!strcmp(a, "--organs") && more) {
            o.organs = argv[++i];
        } else if (!strcmp(a, "--realizations") && more) {
            if (!parse_long(argv[++i], 0, 1000, &reals))
                return usage_error(SYNTH_USAGE, "--realizations '%s': expected 0..1000", argv[i]);
        } else if (!strcmp(a, "--hospital-format")) {
            o.hospital_format = 1;
        } else if (!strcmp(a, "--key") && more) {
            keyfile = argv[++i];
        } else if (!strcmp(a, "--no-events")) {
            o.no_events = 1;
        } else {
            return usage_error(SYNTH_USAGE, "unexpected argument '%s'", a);
        }
    }
    if (n < 1 || seed < 0 || !o.out_dir)
        return usage_error(SYNTH_USAGE, "%s", "--patients, --seed and --out are required");
    /* "dir/" and "dir" are the same folder; the temporary folder sits beside it. */
    char out[4096];
    snprintf(out, sizeof out, "%s", o.out_dir);
    for (size_t len = strlen(out); len > 1 && out[len - 1] == '/'; len--)
        out[len - 1] = '\0';
    o.out_dir = out;
    o.n_patients = n;
    o.seed = (uint64_t)seed;
    o.realizations = (int)reals;

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
           s.procedures, (double)s.procedures / (double)s.patients, s.tier[1], s.tier[2],
           s.tier[3]);
    printf("  events        %ld irradiation events of tier-1 procedures\n", s.events);
    printf("  organ doses   %ld rows (%d realizations besides the true dose)\n",
           s.organ_dose_rows, o.realizations);
    printf("  person-years  %.0f\n", s.person_years);
    printf("  cancers       leukaemia %ld, lymphoma %ld, CNS %ld, solid %ld\n", s.cancers[0],
           s.cancers[1], s.cancers[2], s.cancers[3]);
    printf("  true ERR      %g per 100 mGy (see %s/truth.json)\n", o.err_per_100mgy, o.out_dir);
    return 0;
}
#endif
