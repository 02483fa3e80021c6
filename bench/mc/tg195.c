/*
 * tg195.c — TG-195 cases 1 and 2 against the reference codes (see tg195.h).
 */
#include "tg195.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref {
    char case_[32], volume[32], spectrum[32], mode[32];
    double mean, spread;
} ref;

static int load_refs(const char *dir, ref *r, int max, hm_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/TG195results.txt", dir);
    hm_csv *csv = hm_csv_open(path, 1, err);
    if (!csv) return err->code;
    char **f;
    size_t nf;
    int n = 0, rc;
    while ((rc = hm_csv_next(csv, &f, &nf, err)) == 1) {
        if (nf < 12 || !strcmp(f[0], "Case") || n >= max) continue;
        ref *x = &r[n++];
        snprintf(x->case_, sizeof x->case_, "%s", f[0]);
        snprintf(x->volume, sizeof x->volume, "%s", f[1]);
        snprintf(x->spectrum, sizeof x->spectrum, "%s", f[2]);
        snprintf(x->mode, sizeof x->mode, "%s", f[3]);
        double s = 0, lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < 4; k++) {
            double v = atof(f[4 + 2 * k]);
            s += v;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        x->mean = s / 4;
        x->spread = (hi - lo) / x->mean;
    }
    hm_csv_close(csv);
    return rc < 0 ? rc : n;
}

static const ref *find(const ref *r, int n, const char *c, const char *vol, const char *spec,
                       const char *mode)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(r[i].case_, c) && !strcmp(r[i].volume, vol) && !strcmp(r[i].spectrum, spec) &&
            !strcmp(r[i].mode, mode))
            return &r[i];
    return NULL;
}

static int run_scene(const tg195_opts *o, const char *file, long long hist, hm_mc_results *res,
                     hm_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", o->dir, file);
    hm_mc_scene *s;
    hm_mc_run_params p;
    int rc = hm_mc_scene_load(path, &s, &p, err);
    if (rc) return rc;
    hm_mc_physics ph;
    hm_mc_physics_default(&ph);
    ph.rayleigh = o->rayleigh;
    ph.compton_sf = o->compton_sf;
    ph.doppler = o->doppler;
    if ((rc = hm_mc_set_physics(s, &ph, err))) { hm_mc_scene_free(s); return rc; }
    p.histories = hist;
    p.threads = o->threads;
    rc = hm_mc_run(s, &p, res, err);
    hm_mc_scene_free(s);
    return rc;
}

int tg195_run(const tg195_opts *o, tg195_row *rows, int max, hm_error *err)
{
    ref refs[128];
    int nref = load_refs(o->dir, refs, 128, err);
    if (nref < 0) return nref;
    int n = 0, rc;
    /* case 1: kerma behind 0, HVL and QVL of Al; ratios */
    static const char *c1[4][3] = { { "30keV", "30 keV", "monoenergetic" },
                                    { "100keV", "100 keV", "monoenergetic" },
                                    { "30kVp", "30 kVp", "polyenergetic" },
                                    { "100kVp", "100 kVp", "polyenergetic" } };
    for (int b = 0; b < 4 && o->case1_histories > 0; b++) {
        double k[3], s[3];
        static const char *filt[3] = { "none", "hvl", "qvl" };
        for (int f = 0; f < 3; f++) {
            char file[64];
            snprintf(file, sizeof file, "case1_%s_%s.json", c1[b][0], filt[f]);
            hm_mc_results r;
            if ((rc = run_scene(o, file, o->case1_histories, &r, err))) return rc;
            k[f] = r.kerma_disc_gy[0];
            s[f] = r.kerma_disc_gy_sigma[0];
            hm_mc_results_free(&r);
        }
        for (int f = 1; f < 3 && n < max; f++) {
            const ref *x = find(refs, nref, "Case 1 HVL", f == 1 ? "HVL" : "QVL", c1[b][1], c1[b][2]);
            if (!x) continue;
            tg195_row *w = &rows[n++];
            snprintf(w->name, sizeof w->name, "case 1 %s %s/none kerma ratio", c1[b][1],
                     f == 1 ? "HVL" : "QVL");
            w->case_no = 1;
            w->ref = x->mean;
            w->ref_spread = x->spread;
            w->val = k[f] / k[0];
            w->sigma = w->val * sqrt(pow(s[f] / k[f], 2) + pow(s[0] / k[0], 2));
        }
    }
    /* case 2: energy imparted to the body and 9 VOIs */
    static const char *c2[2][2] = { { "56keV", "56.4 keV" }, { "120kVp", "120 kVp" } };
    static const char *modes[2] = { "radiography", "tomosynthesis" };
    for (int b = 0; b < 2 && o->case2_histories > 0; b++) {
        if (b == 1 && o->case2_mono_only) break;
        for (int m = 0; m < 2; m++) {
            if (m == 1 && o->only_case2_mode == 1) break;
            char file[96];
            snprintf(file, sizeof file, "case2_%s_%s.json", c2[b][0], modes[m]);
            hm_mc_results r;
            if ((rc = run_scene(o, file, o->case2_histories, &r, err))) return rc;
            for (int v = 0; v <= 9 && n < max; v++) {
                char vol[16];
                if (v == 0) snprintf(vol, sizeof vol, "Total body");
                else snprintf(vol, sizeof vol, "VOI %d", v);
                const ref *x = find(refs, nref, "Case 2", vol, c2[b][1], modes[m]);
                if (!x || r.nregions <= v + 1) continue;
                tg195_row *w = &rows[n++];
                snprintf(w->name, sizeof w->name, "case 2 %s %s %s (eV)", c2[b][1], modes[m], vol);
                w->case_no = 2;
                w->ref = x->mean;
                w->ref_spread = x->spread;
                w->val = r.edep_ev[v + 1];
                w->sigma = r.edep_ev_sigma[v + 1];
            }
            hm_mc_results_free(&r);
        }
    }
    return n;
}

void tg195_print(FILE *fp, const tg195_row *rows, int n)
{
    fprintf(fp, "%-58s %12s %12s %8s %8s %8s %6s\n", "quantity", "ref_mean", "harmonic",
            "dev_%", "sd_%", "codes_%", "tol_%");
    for (int i = 0; i < n; i++) {
        const tg195_row *r = &rows[i];
        double dev = 100 * (r->val / r->ref - 1), sd = 100 * r->sigma / r->val;
        fprintf(fp, "%-58s %12.6g %12.6g %+8.3f %8.3f %8.3f %6.1f%s\n", r->name, r->ref, r->val, dev,
                sd, 100 * r->ref_spread, r->case_no == 1 ? 1.0 : 2.0,
                fabs(dev) <= (r->case_no == 1 ? 1.0 : 2.0) ? "" : "  <-- outside");
    }
}
