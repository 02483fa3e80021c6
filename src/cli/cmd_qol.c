/*
 * cmd_qol.c — `harmonic qol score`: questionnaire scale and summary scores,
 * either of every assessment in the registry's qol_item table (written to
 * qol_score) or of a CSV of item responses (printed).  The scoring is in
 * hm_qol (docs/qol.md).
 */
#include "cli.h"
#include "hm_qol.h"
#include "hm_registry.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_issue(void *arg, long line, const char *field, const char *msg)
{
    fprintf(stderr, "%s:%ld:%s: %s\n", (const char *)arg, line, field, msg);
}

typedef struct out_ctx {
    int     json;
    json_t *list;
} out_ctx;

static const char *or_na(const char *s) { return s ? s : "NA"; }

static int print_scores(void *arg, const hm_qol_item *a, const hm_qol_score *sc, size_t n)
{
    out_ctx *o = arg;
    if (!o->json) {
        for (size_t i = 0; i < n; i++) {
            char score[32] = "NA";
            if (sc[i].computed)
                snprintf(score, sizeof score, "%.3f", sc[i].score);
            printf("%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", a->assessment_id, a->instrument, a->form,
                   or_na(a->respondent), sc[i].scale, sc[i].n_items, sc[i].n_answered, score);
        }
        return 0;
    }
    json_t *scores = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(scores, json_pack("{s:s, s:b, s:i, s:i, s:o}", "scale",
                              sc[i].scale, "summary", sc[i].summary, "items", sc[i].n_items,
                              "answered", sc[i].n_answered, "score",
                              sc[i].computed ? json_real(sc[i].score) : json_null()));
    json_t *o1 = json_pack("{s:s, s:s, s:s, s:o}", "assessment_id", a->assessment_id,
                           "instrument", a->instrument, "form", a->form, "scores", scores);
    if (!o1)
        return HM_ENOMEM;
    json_object_set_new(o1, "centre_code", a->centre ? json_string(a->centre) : json_null());
    json_object_set_new(o1, "respondent",
                        a->respondent ? json_string(a->respondent) : json_null());
    json_array_append_new(o->list, o1);
    return 0;
}

static int score_items(const hm_args *a, const char *path)
{
    hm_csv_dialect dialect;
    int rc = hm_cli_dialect(a, &dialect);
    if (rc)
        return rc;
    hm_error err;
    hm_error_clear(&err);
    const hm_qol_defs *d;
    if (hm_qol_defs_shared(&d, &err))
        return hm_cli_report(&err);
    hm_qol_itemset *set;
    long n_errors;
    if (hm_qol_read_items(d, path, &dialect, print_issue, (void *)path, &n_errors, &set, &err))
        return hm_cli_report(&err);
    if (n_errors) {
        fprintf(stderr, "harmonic: %s: %ld problem%s, nothing scored\n", path, n_errors,
                n_errors == 1 ? "" : "s");
        hm_qol_itemset_free(set);
        return 1;
    }
    out_ctx o = { hm_args_flag(a, "json"), NULL };
    if (o.json)
        o.list = json_array();
    else
        printf("assessment_id\tinstrument\tform\trespondent\tscale\titems\tanswered\tscore\n");
    rc = hm_qol_itemset_score(d, set, print_scores, &o, &err);
    hm_qol_itemset_free(set);
    if (rc) {
        json_decref(o.list);
        if (err.code == HM_EVALIDATE && !err.file[0])
            snprintf(err.file, sizeof err.file, "%s", path);
        return hm_cli_report(&err);
    }
    if (o.json) {
        json_t *root = json_pack("{s:s, s:o}", "file", path, "assessments", o.list);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        printf("\n");
        json_decref(root);
    }
    return 0;
}

static int score_db(const hm_args *a)
{
    const char *env = getenv("HARMONIC_DB");
    const char *url = hm_args_str(a, "db", env && env[0] ? env : "harmonic.db");
    const char *centre = hm_args_str(a, "centre", NULL);
    hm_error err;
    hm_error_clear(&err);
    hm_db *db;
    if (hm_db_open(url, &db, &err))
        return hm_cli_report(&err);
    hm_qol_db_result res;
    int rc = hm_qol_score_db(db, centre, &res, &err);
    hm_db_close(db);
    if (rc)
        return hm_cli_report(&err);
    fprintf(stderr, "harmonic: %ld assessments scored from %ld items: %ld scores written, "
            "%ld not computed (more than half of their items missing)\n", res.assessments,
            res.items, res.scores_written, res.scores_missing);
    return 0;
}

static int run_score(const hm_args *a)
{
    const char *items = hm_args_str(a, "items", NULL);
    if (items && (hm_args_count(a, "db") || hm_args_count(a, "centre")))
        return hm_cli_usage_error(a, "--items scores a file without the registry: "
                                     "give --items or --db/--centre, not both");
    if (!items && hm_args_flag(a, "json"))
        return hm_cli_usage_error(a, "--json goes with --items (--db writes qol_score)");
    return items ? score_items(a, items) : score_db(a);
}

static const hm_cli_opt score_opts[] = {
    HM_OPT_STR("db", "URL", "registry: a SQLite file or postgresql:// URL",
               "$HARMONIC_DB, else harmonic.db"),
    HM_OPT_STR("centre", "C", "score this centre's assessments only", NULL),
    HM_OPT_PATH("items", "FILE.csv", "score a CSV of item responses (qol_item columns) and "
                "print the scores; no registry", NULL),
    HM_OPT_FLAG("json", "with --items: print JSON instead of a table"),
    HM_OPT_DIALECT,
    HM_OPT_END
};

static const hm_cli_cmd score_cmd = {
    "score", "questionnaire scale and summary scores (PedsQL Generic Core, Fatigue)",
    "Scores every assessment of the registry's qol_item table into qol_score (one\n"
    "transaction; scoring again gives the same rows; a scale with more than half of its\n"
    "items missing is not computed and its old row removed), or, with --items, the item\n"
    "responses of a CSV file laid out as qol_item (harmonic dictionary --template\n"
    "qol_item), printed as a table or JSON.  Items are reverse-scored 0=100 ... 4=0; a\n"
    "scale is the mean of its answered items; summaries (psychosocial, total,\n"
    "fatigue_total) the mean of all their items.  Rules: data/qol, docs/qol.md.\n",
    score_opts, NULL, run_score, NULL, 0
};

static const hm_cli_cmd *const qol_subs[] = { &score_cmd, NULL };
static const hm_cli_opt no_opts[] = { HM_OPT_END };

const hm_cli_cmd hm_cli_qol = {
    "qol", "health-related quality of life: questionnaire scores", NULL, no_opts, NULL, NULL,
    qol_subs, 0
};
