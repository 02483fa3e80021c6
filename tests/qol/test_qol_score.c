/*
 * test_qol_score.c — the scoring rules of data/qol against scores computed
 * by hand from the PedsQL rules (http://www.pedsql.org/score.html): points
 * 0=100, 1=75, 2=50, 3=25, 4=0; scale = mean of the answered items; not
 * computed when more than half are missing; summaries = mean of all their
 * items.  Also the item checks (forms, respondents, response scales, ages)
 * and the data-file checks of the loader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hm_qol.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const hm_qol_defs *defs(void)
{
    const hm_qol_defs *d;
    hm_error err;
    int rc = hm_qol_defs_shared(&d, &err);
    if (rc)
        fprintf(stderr, "%s:%ld:%s: %s\n", err.file, err.line, err.field, err.msg);
    assert_int_equal(rc, HM_OK);
    return d;
}

/* One assessment: "ITEM=RESPONSE" words (RESPONSE NA = missing) on form. */
static size_t build(const char *instrument, const char *form, const char *respondent,
                    const char *spec, hm_qol_item *items, char (*ids)[32])
{
    size_t n = 0;
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
        char *eq = strchr(w, '=');
        assert_non_null(eq);
        *eq = 0;
        snprintf(ids[n], 32, "%s", w);
        hm_qol_item *it = &items[n];
        memset(it, 0, sizeof *it);
        it->centre = "FR01";
        it->assessment_id = "A1";
        it->item_id = ids[n];
        it->instrument = instrument;
        it->form = form;
        it->respondent = respondent;
        it->assessment_day = -1;
        it->response = strcmp(eq + 1, "NA") ? atoi(eq + 1) : -1;
        it->line = (long)n + 2;
        n++;
    }
    return n;
}

typedef struct scored {
    hm_qol_score s[HM_QOL_MAX_SCALES];
    size_t       n;
} scored;

static int score(const char *instrument, const char *form, const char *respondent,
                 const char *spec, scored *out, hm_error *err)
{
    hm_qol_item items[64];
    char ids[64][32];
    size_t n = build(instrument, form, respondent, spec, items, ids);
    return hm_qol_score_assessment(defs(), items, n, out->s, HM_QOL_MAX_SCALES, &out->n, err);
}

static const hm_qol_score *find(const scored *s, const char *scale)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->s[i].scale, scale))
            return &s->s[i];
    fail_msg("no scale %s", scale);
    return NULL;
}

/* The score of scale, which must be computed; tolerance for sums of thirds. */
static void expect(const scored *s, const char *scale, double want, int answered)
{
    const hm_qol_score *x = find(s, scale);
    if (!x->computed || fabs(x->score - want) > 1e-9 || x->n_answered != answered)
        fail_msg("%s: %s %.12g (%d answered), expected %.12g (%d)", scale,
                 x->computed ? "score" : "not computed", x->score, x->n_answered, want, answered);
}

static void expect_missing(const scored *s, const char *scale)
{
    const hm_qol_score *x = find(s, scale);
    if (x->computed)
        fail_msg("%s: computed %.12g, expected not computed", scale, x->score);
    assert_true(isnan(x->score));
}

static void test_forms_loaded(void **state)
{
    (void)state;
    scored s;
    hm_error err;
    /* Every form's item count: Generic Core 8+5+5+5 = 23 (toddler 8+5+5+3 = 21), MFS 18. */
    assert_int_equal(score("pedsql_generic", "gc_toddler_parent", "parent", "GC_PHYS_1=0", &s,
                           &err), HM_OK);
    assert_int_equal(find(&s, "total")->n_items, 21);
    assert_int_equal(find(&s, "school")->n_items, 3);
    const char *gc[] = { "gc_young_child_self", "gc_young_child_parent", "gc_child_self",
                         "gc_child_parent", "gc_teen_self", "gc_teen_parent" };
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(score("pedsql_generic", gc[i], NULL, "GC_PHYS_1=0", &s, &err), HM_OK);
        assert_int_equal(s.n, 6);
        assert_int_equal(find(&s, "total")->n_items, 23);
        assert_int_equal(find(&s, "psychosocial")->n_items, 15);
        assert_int_equal(find(&s, "physical")->n_items, 8);
    }
    assert_int_equal(score("pedsql_fatigue", "mfs_teen_self", NULL, "MFS_GEN_1=0", &s, &err),
                     HM_OK);
    assert_int_equal(s.n, 4);
    assert_int_equal(find(&s, "fatigue_total")->n_items, 18);
    assert_int_equal(find(&s, "cognitive_fatigue")->n_items, 6);
}

/* Child self-report (8-12), every scale by hand. */
static void test_child_form_by_hand(void **state)
{
    (void)state;
    scored s;
    hm_error err;
    int rc = score("pedsql_generic", "gc_child_self", "child",
                   "GC_PHYS_1=0 GC_PHYS_2=1 GC_PHYS_3=1 GC_PHYS_4=2 GC_PHYS_5=0 GC_PHYS_6=1 "
                   "GC_PHYS_7=3 GC_PHYS_8=1 "
                   "GC_EMO_1=0 GC_EMO_2=0 GC_EMO_3=1 GC_EMO_4=2 GC_EMO_5=4 "
                   "GC_SOC_1=1 GC_SOC_2=1 GC_SOC_3=1 GC_SOC_4=1 GC_SOC_5=1 "
                   "GC_SCH_1=2 GC_SCH_2=2 GC_SCH_3=3 GC_SCH_4=NA", &s, &err);
    assert_int_equal(rc, HM_OK);
    /* physical: 100+75+75+50+100+75+25+75 = 575 over 8 = 71.875 */
    expect(&s, "physical", 71.875, 8);
    /* emotional: 100+100+75+50+0 = 325 over 5 = 65 */
    expect(&s, "emotional", 65.0, 5);
    /* social: 5 x 75 = 75 */
    expect(&s, "social", 75.0, 5);
    /* school: 50+50+25 = 125 over 3 answered (GC_SCH_4 NA, GC_SCH_5 absent: 2 of 5
     * missing, not more than half) = 41.6666... */
    expect(&s, "school", 125.0 / 3.0, 3);
    /* psychosocial: items of emotional, social, school pooled: (325+375+125) / 13 =
     * 825/13 = 63.4615...; NOT the mean of the three scale scores, (65+75+41.667)/3 = 60.556 */
    expect(&s, "psychosocial", 825.0 / 13.0, 13);
    assert_true(fabs(find(&s, "psychosocial")->score - (65.0 + 75.0 + 125.0 / 3.0) / 3.0) > 2.9);
    /* total: (575 + 825) / 21 = 66.6666... */
    expect(&s, "total", 1400.0 / 21.0, 21);
}

/* Reverse scoring: each answer alone gives its points. */
static void test_reverse_scoring(void **state)
{
    (void)state;
    const double want[5] = { 100, 75, 50, 25, 0 };
    for (int r = 0; r <= 4; r++) {
        char spec[256];
        snprintf(spec, sizeof spec, "GC_EMO_1=%d GC_EMO_2=%d GC_EMO_3=%d GC_EMO_4=NA", r, r, r);
        scored s;
        hm_error err;
        assert_int_equal(score("pedsql_generic", "gc_teen_parent", "parent", spec, &s, &err),
                         HM_OK);
        expect(&s, "emotional", want[r], 3);
        expect_missing(&s, "physical");
    }
}

/* The missing-item rule on its boundary: exactly half missing is scored, one more is not. */
static void test_missing_boundary(void **state)
{
    (void)state;
    scored s;
    hm_error err;
    /* physical, 8 items: 4 answered (4 missing = half) -> (100+75+50+25)/4 = 62.5 */
    assert_int_equal(score("pedsql_generic", "gc_child_parent", "parent",
                           "GC_PHYS_1=0 GC_PHYS_2=1 GC_PHYS_3=2 GC_PHYS_4=3 GC_PHYS_5=NA",
                           &s, &err), HM_OK);
    expect(&s, "physical", 62.5, 4);
    /* 3 answered (5 missing > 4) -> not computed */
    assert_int_equal(score("pedsql_generic", "gc_child_parent", "parent",
                           "GC_PHYS_1=0 GC_PHYS_2=1 GC_PHYS_3=2 GC_PHYS_4=NA", &s, &err), HM_OK);
    expect_missing(&s, "physical");
    /* emotional, 5 items (odd): 3 answered (2 missing < 2.5) scored = (100+100+0)/3 */
    assert_int_equal(score("pedsql_generic", "gc_child_parent", "parent",
                           "GC_EMO_1=0 GC_EMO_2=0 GC_EMO_3=4", &s, &err), HM_OK);
    expect(&s, "emotional", 200.0 / 3.0, 3);
    /* 2 answered (3 missing > 2.5) not computed */
    assert_int_equal(score("pedsql_generic", "gc_child_parent", "parent", "GC_EMO_1=0 GC_EMO_2=0",
                           &s, &err), HM_OK);
    expect_missing(&s, "emotional");
    /* toddler school, 3 items: 2 answered scored (75+25)/2 = 50; 1 answered not */
    assert_int_equal(score("pedsql_generic", "gc_toddler_parent", "parent",
                           "GC_SCH_1=1 GC_SCH_2=3", &s, &err), HM_OK);
    expect(&s, "school", 50.0, 2);
    assert_int_equal(score("pedsql_generic", "gc_toddler_parent", "parent",
                           "GC_SCH_1=1 GC_SCH_2=NA GC_SCH_3=NA", &s, &err), HM_OK);
    expect_missing(&s, "school");
    /* The summary rule counts its own items: psychosocial of the toddler form has 13 items;
     * emotional 5 + social 2 answered = 7 (6 missing) -> (5x100 + 2x50)/7 */
    assert_int_equal(score("pedsql_generic", "gc_toddler_parent", "parent",
                           "GC_EMO_1=0 GC_EMO_2=0 GC_EMO_3=0 GC_EMO_4=0 GC_EMO_5=0 "
                           "GC_SOC_1=2 GC_SOC_2=2", &s, &err), HM_OK);
    expect(&s, "psychosocial", 600.0 / 7.0, 7);
    expect_missing(&s, "social");
    /* total 21 items, 7 answered -> not computed */
    expect_missing(&s, "total");
}

/* The young child self-report: 3-point face scale 0/2/4, scored 100/50/0. */
static void test_young_child_face_scale(void **state)
{
    (void)state;
    scored s;
    hm_error err;
    /* physical: 100+50+0+100+50+0+100+50 = 450 over 8 = 56.25 */
    assert_int_equal(score("pedsql_generic", "gc_young_child_self", "child",
                           "GC_PHYS_1=0 GC_PHYS_2=2 GC_PHYS_3=4 GC_PHYS_4=0 GC_PHYS_5=2 "
                           "GC_PHYS_6=4 GC_PHYS_7=0 GC_PHYS_8=2", &s, &err), HM_OK);
    expect(&s, "physical", 56.25, 8);
    const hm_qol_defs *d = defs();
    /* 1 and 3 are not answers of the face scale; on the parent form of the same age they are */
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_young_child_self", "child",
                                       "GC_PHYS_1", "1", 6, NULL, NULL), 1);
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_young_child_self", "child",
                                       "GC_PHYS_1", "3", 6, NULL, NULL), 1);
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_young_child_self", "child",
                                       "GC_PHYS_1", "4", 6, NULL, NULL), 0);
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_young_child_parent", "parent",
                                       "GC_PHYS_1", "3", 6, NULL, NULL), 0);
    assert_int_equal(hm_qol_check_item(d, "pedsql_fatigue", "mfs_young_child_self", "child",
                                       "MFS_GEN_1", "1", 6, NULL, NULL), 1);
    /* ...and the scorer refuses them too (an item set built without the check) */
    assert_int_equal(score("pedsql_generic", "gc_young_child_self", "child", "GC_PHYS_1=3", &s,
                           &err), HM_EVALIDATE);
    assert_string_equal(err.field, "response");
}

/* Parent proxy and child self-report of the same child: same items, own forms. */
static void test_proxy_vs_self(void **state)
{
    (void)state;
    scored self, proxy;
    hm_error err;
    const char *spec = "GC_SOC_1=0 GC_SOC_2=1 GC_SOC_3=1 GC_SOC_4=3 GC_SOC_5=NA";
    assert_int_equal(score("pedsql_generic", "gc_child_self", "child", spec, &self, &err), 0);
    assert_int_equal(score("pedsql_generic", "gc_child_parent", "parent",
                           "GC_SOC_1=1 GC_SOC_2=2 GC_SOC_3=2 GC_SOC_4=4 GC_SOC_5=NA", &proxy,
                           &err), 0);
    /* self (100+75+75+25)/4 = 68.75; proxy (75+50+50+0)/4 = 43.75 */
    expect(&self, "social", 68.75, 4);
    expect(&proxy, "social", 43.75, 4);
    const hm_qol_defs *d = defs();
    /* who may answer which form */
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_child_self", "parent",
                                       "GC_SOC_1", "0", 9, NULL, NULL), 1);
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_child_parent", "child",
                                       "GC_SOC_1", "0", 9, NULL, NULL), 1);
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_toddler_parent", "child",
                                       "GC_SOC_1", "0", 3, NULL, NULL), 1);
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_toddler_parent", "parent",
                                       "GC_SOC_1", "0", 3, NULL, NULL), 0);
    /* one assessment is one form: a parent's item among the child's is refused */
    hm_qol_item items[2];
    char ids[2][32];
    build("pedsql_generic", "gc_child_self", "child", "GC_SOC_1=0 GC_SOC_2=0", items, ids);
    items[1].form = "gc_child_parent";
    items[1].respondent = "parent";
    size_t n;
    assert_int_equal(hm_qol_score_assessment(d, items, 2, self.s, HM_QOL_MAX_SCALES, &n, &err),
                     HM_EVALIDATE);
    assert_int_equal(err.line, 3);
    /* a respondent the form does not allow */
    build("pedsql_generic", "gc_teen_self", "parent", "GC_SOC_1=0", items, ids);
    assert_int_equal(hm_qol_score_assessment(d, items, 1, self.s, HM_QOL_MAX_SCALES, &n, &err),
                     HM_EVALIDATE);
    assert_string_equal(err.field, "respondent");
    /* and an item given twice */
    build("pedsql_generic", "gc_child_self", "child", "GC_SOC_1=0 GC_SOC_1=1", items, ids);
    assert_int_equal(hm_qol_score_assessment(d, items, 2, self.s, HM_QOL_MAX_SCALES, &n, &err),
                     HM_EVALIDATE);
    assert_non_null(strstr(err.msg, "twice"));
}

typedef struct msgs { char text[4][300]; int n; } msgs;

static void collect(void *arg, const char *field, const char *msg)
{
    msgs *m = arg;
    if (m->n < 4)
        snprintf(m->text[m->n++], 300, "%s: %s", field, msg);
}

static void test_item_checks(void **state)
{
    (void)state;
    const hm_qol_defs *d = defs();
    msgs m = { .n = 0 };
    /* the toddler form has 3 school items */
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_toddler_parent", "parent",
                                       "GC_SCH_4", "0", 3, collect, &m), 1);
    assert_non_null(strstr(m.text[0], "item_id: 'GC_SCH_4' is not an item of form "
                                      "gc_toddler_parent"));
    /* a fatigue item on a Generic Core form, an unknown form and instrument */
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_child_self", "child",
                                       "MFS_GEN_1", "0", -1, NULL, NULL), 1);
    m.n = 0;
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "mfs_child_self", "child",
                                       "MFS_GEN_1", "0", -1, collect, &m), 1);
    assert_non_null(strstr(m.text[0], "form: 'mfs_child_self' is not a form of pedsql_generic"));
    assert_int_equal(hm_qol_check_item(d, "sf36", "x", "child", "A", "0", -1, NULL, NULL), 1);
    /* ages: the teen form at 9 names the child form for that age */
    m.n = 0;
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_teen_self", "child",
                                       "GC_PHYS_1", "0", 9, collect, &m), 1);
    assert_non_null(strstr(m.text[0], "gc_teen_self is for ages 13 to 18, but the patient was 9"));
    assert_non_null(strstr(m.text[0], "gc_child_self"));
    /* both ends of a range are in it; missing responses are always allowed */
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_teen_self", "child",
                                       "GC_PHYS_1", NULL, 13, NULL, NULL), 0);
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_teen_self", "child",
                                       "GC_PHYS_1", NULL, 18, NULL, NULL), 0);
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_teen_self", "child",
                                       "GC_PHYS_1", NULL, 19, NULL, NULL), 1);
    /* several problems of one row are all reported */
    m.n = 0;
    assert_int_equal(hm_qol_check_item(d, "pedsql_generic", "gc_young_child_self", "parent",
                                       "GC_PHYS_1", "3", 12, collect, &m), 3);
    assert_int_equal(m.n, 3);
}

static void test_age_years(void **state)
{
    (void)state;
    /* calendar age: the 8th birthday is 2018-05-10 */
    assert_int_equal(hm_qol_age_years("2010-05-10", "2018-05-09", -1), 7);
    assert_int_equal(hm_qol_age_years("2010-05-10", "2018-05-10", -1), 8);
    assert_int_equal(hm_qol_age_years("2010-05-10", "2018-04-30", 9999), 7);   /* dates win */
    /* days since birth over 365.25: 8 x 365.25 = 2922 */
    assert_int_equal(hm_qol_age_years(NULL, NULL, 2921), 7);
    assert_int_equal(hm_qol_age_years(NULL, "2018-05-10", 2922), 8);
    assert_int_equal(hm_qol_age_years(NULL, NULL, -1), -1);
    assert_int_equal(hm_qol_age_years("2010-05-10", "2009-01-01", -1), -1);
}

/* Multidimensional Fatigue Scale: scales of 6 items, total of all 18. */
static void test_fatigue(void **state)
{
    (void)state;
    scored s;
    hm_error err;
    assert_int_equal(score("pedsql_fatigue", "mfs_child_parent", "parent",
                           "MFS_GEN_1=0 MFS_GEN_2=0 MFS_GEN_3=0 MFS_GEN_4=0 MFS_GEN_5=0 MFS_GEN_6=1 "
                           "MFS_SLP_1=4 MFS_SLP_2=4 MFS_SLP_3=3 MFS_SLP_4=NA MFS_SLP_5=NA "
                           "MFS_SLP_6=NA "
                           "MFS_COG_1=2 MFS_COG_2=2", &s, &err), HM_OK);
    /* general: (5 x 100 + 75)/6 = 95.8333... */
    expect(&s, "general_fatigue", 575.0 / 6.0, 6);
    /* sleep/rest: 3 of 6 missing (exactly half) -> (0+0+25)/3 */
    expect(&s, "sleep_rest_fatigue", 25.0 / 3.0, 3);
    /* cognitive: 4 of 6 missing -> not computed */
    expect_missing(&s, "cognitive_fatigue");
    /* total: 11 of 18 answered: (575 + 25 + 100) / 11 = 63.6363... */
    expect(&s, "fatigue_total", 700.0 / 11.0, 11);
}

/* A data file that does not hold together is refused naming its line. */
static void copy_file(const char *from_dir, const char *to_dir, const char *name,
                      const char *append)
{
    char a[1024], b[1024], line[1024];
    snprintf(a, sizeof a, "%s/%s", from_dir, name);
    snprintf(b, sizeof b, "%s/%s", to_dir, name);
    FILE *in = fopen(a, "r"), *out = fopen(b, "w");
    assert_non_null(in);
    assert_non_null(out);
    while (fgets(line, sizeof line, in))
        fputs(line, out);
    if (append)
        fputs(append, out);
    fclose(in);
    fclose(out);
}

static void test_bad_rules(void **state)
{
    (void)state;
    const char *src = HM_SOURCE_DATA_DIR "/qol", *dir = HM_TEST_TMPDIR;
    const char *files[] = { "instruments.csv", "transforms.csv", "scales.csv", "forms.csv",
                            "items.csv" };
    struct { const char *file, *append, *field; } cases[] = {
        /* a form offering an answer its items' transform gives no points */
        { "forms.csv", "pedsql_generic,gc_x,child,8,12,likert7,0;1;2;3;4;5;6\n", NULL },
        { "items.csv", "pedsql_generic,gc_x,GC_PHYS_1,physical,reverse_0_4\n", "transform" },
        /* an item on a summary, and a summary of another instrument's scale */
        { "items.csv", "pedsql_generic,gc_child_self,GC_X_1,total,reverse_0_4\n", "scale" },
        { "scales.csv", "pedsql_generic,mixed,summary,physical;general_fatigue,0.5\n", "of" },
        /* a scale id used by two instruments, a repeated item, a bad fraction */
        { "scales.csv", "pedsql_fatigue,physical,scale,,0.5\n", "scale" },
        { "items.csv", "pedsql_generic,gc_child_self,GC_PHYS_1,physical,reverse_0_4\n", "item" },
        { "scales.csv", "pedsql_generic,extra,scale,,1.5\n", "max_missing_fraction" },
    };
    hm_qol_defs *d;
    hm_error err;
    for (size_t i = 0; i < 5; i++)
        copy_file(src, dir, files[i], NULL);
    assert_int_equal(hm_qol_defs_load(dir, &d, &err), HM_OK);   /* the copy as it is loads */
    hm_qol_defs_free(d);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        for (size_t i = 0; i < 5; i++)
            copy_file(src, dir, files[i], NULL);
        copy_file(src, dir, cases[c].file, cases[c].append);
        if (c == 1)   /* the form of case 0 with its item */
            copy_file(src, dir, "forms.csv", cases[0].append);
        if (!cases[c].field)
            continue;
        hm_error_clear(&err);
        int rc = hm_qol_defs_load(dir, &d, &err);
        if (rc != HM_EPARSE || strcmp(err.field, cases[c].field) || !strstr(err.file,
                                                                              cases[c].file))
            fail_msg("case %zu: rc %d, %s:%ld:%s: %s", c, rc, err.file, err.line, err.field,
                     err.msg);
        assert_true(err.line > 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_loaded),
        cmocka_unit_test(test_child_form_by_hand),
        cmocka_unit_test(test_reverse_scoring),
        cmocka_unit_test(test_missing_boundary),
        cmocka_unit_test(test_young_child_face_scale),
        cmocka_unit_test(test_proxy_vs_self),
        cmocka_unit_test(test_item_checks),
        cmocka_unit_test(test_age_years),
        cmocka_unit_test(test_fatigue),
        cmocka_unit_test(test_bad_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
