/*
 * library_build.c — running the engine over a library's grid, with a resume
 * file, and the cached default library.
 *
 * Each node is one hm_dosimetry_organ_doses run with its own seed
 * (hm_dose_node_seed); the engine's result does not depend on its thread
 * count (its batches have their own streams), so neither does the file.
 * Finished nodes are appended to PATH.part with exact (hexadecimal) doubles
 * and flushed, so a killed build loses at most the node in progress and a
 * resumed build writes the same file as an uninterrupted one.  The progress
 * callback is called after each node from the worker threads, one call at a
 * time.
 */
#include "library_int.h"

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PART_MAGIC "# harmonic dose library part"

uint64_t lib_build_key(const hm_dose_grid *g, const hm_dose_library_params *p)
{
    char buf[4096];
    uint64_t h = LIB_FNV_OFFSET;
    int v = lib_format_version(g);
    h = lib_fnv1a(h, &v, sizeof v);
    for (size_t i = 0; lib_grid_line(g, i, buf, sizeof buf) > 0; i++)
        h = lib_fnv1a(h, buf, strlen(buf) + 1);
    snprintf(buf, sizeof buf, "%lld %llu %.10g %s", p->histories_per_node, (unsigned long long)p->seed, p->voxel_mm,
             HM_VERSION_STRING);
    h = lib_fnv1a(h, buf, strlen(buf) + 1);
    lib_engine_text(buf, sizeof buf);
    return lib_fnv1a(h, buf, strlen(buf) + 1);
}

void lib_cache_dir(char *buf, size_t size)
{
    const char *e = getenv("HARMONIC_CACHE"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (e && *e)
        snprintf(buf, size, "%s", e);
    else if (x && *x)
        snprintf(buf, size, "%s/harmonic", x);
    else
        snprintf(buf, size, "%s/.cache/harmonic", h && *h ? h : "/tmp");
}

/* ---- the resume file --------------------------------------------------------- */

static void part_write_node(FILE *fp, const hm_dose_library *lib, size_t p, size_t k)
{
    const lib_phantom *ph = &lib->ph[p];
    fprintf(fp, "%zu %zu %zu", p, k, ph->norgans);
    for (size_t j = 0; j < ph->norgans; j++)
        fprintf(fp, " %s %a %d %a %a", ph->proto[j].organ, ph->proto[j].mass_g, ph->proto[j].present,
                ph->dose[k * ph->norgans + j], ph->sigma[k * ph->norgans + j]);
    fputc('\n', fp);
}

/* One node line into lib; 0 when it is not a complete, valid line. */
static int part_read_node(hm_dose_library *lib, char *line)
{
    char *save = NULL, *t[5];
    size_t v[3];
    for (int i = 0; i < 3; i++) {
        char *s = strtok_r(i ? NULL : line, " \n", &save), *end;
        if (!s)
            return 0;
        v[i] = (size_t)strtoull(s, &end, 10);
        if (*end)
            return 0;
    }
    if (v[0] >= lib->grid.nphantoms || v[1] >= lib->nnodes || v[2] < 1 || v[2] > LIB_MAX_ORGANS)
        return 0;
    hm_organ_dose *o = calloc(v[2], sizeof *o);
    if (!o)
        return 0;
    int ok = 1;
    for (size_t j = 0; j < v[2] && ok; j++) {
        for (int i = 0; i < 5 && ok; i++)
            ok = (t[i] = strtok_r(NULL, " \n", &save)) != NULL;
        if (!ok || strlen(t[0]) >= sizeof o[j].organ)
            ok = 0;
        else {
            char *e1, *e2, *e3, *e4;
            snprintf(o[j].organ, sizeof o[j].organ, "%s", t[0]);
            o[j].mass_g = strtod(t[1], &e1);
            o[j].present = (int)strtol(t[2], &e2, 10);
            o[j].dose_mgy_per_gy_cm2 = strtod(t[3], &e3);
            o[j].sigma_mgy_per_gy_cm2 = strtod(t[4], &e4);
            ok = !*e1 && !*e2 && !*e3 && !*e4;
        }
    }
    if (ok)
        ok = !strtok_r(NULL, " \n", &save);
    hm_dosimetry_result r = { .n = v[2], .organs = o };
    ok = ok && !hm_dose_library_set_node(lib, v[0], v[1], &r, NULL);
    free(o);
    return ok;
}

/* Nodes of an earlier build of the same key; the part file is then rewritten
 * with exactly those (dropping a line cut short by a kill). */
static int part_resume(hm_dose_library *lib, const char *part, uint64_t key, size_t *resumed, FILE **out,
                       hm_error *err)
{
    *resumed = 0;
    char head[128];
    snprintf(head, sizeof head, "%s,%016llx", PART_MAGIC, (unsigned long long)key);
    FILE *fp = fopen(part, "r");
    if (fp) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n = getline(&line, &cap, fp);
        if (n > 0 && !strncmp(line, head, strlen(head)))
            while (getline(&line, &cap, fp) > 0)
                if (line[strlen(line) - 1] == '\n')
                    *resumed += (size_t)part_read_node(lib, line);
        free(line);
        fclose(fp);
    }
    char tmp[1200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", part) >= sizeof tmp)
        return hm_error_set(err, HM_EINVAL, part, 0, NULL, "path too long");
    FILE *w = fopen(tmp, "w");
    if (!w)
        return hm_error_set(err, HM_EIO, tmp, 0, NULL, "cannot create: %s", strerror(errno));
    fprintf(w, "%s\n", head);
    for (size_t p = 0; p < lib->grid.nphantoms; p++)
        for (size_t k = 0; lib->ph[p].set && k < lib->nnodes; k++)
            if (lib->ph[p].set[k])
                part_write_node(w, lib, p, k);
    if (fclose(w) || rename(tmp, part)) {
        remove(tmp);
        return hm_error_set(err, HM_EIO, part, 0, NULL, "cannot write the resume file: %s", strerror(errno));
    }
    if (!(*out = fopen(part, "a")))
        return hm_error_set(err, HM_EIO, part, 0, NULL, "cannot append: %s", strerror(errno));
    return HM_OK;
}

/* ---- the build --------------------------------------------------------------- */

/* The nodes of one phantom are shared out to worker threads, one node at a
 * time, each node on one engine thread (the engine's setup per run is serial,
 * so whole nodes in parallel scale better); what they share sits under the
 * mutex. */
typedef struct job {
    hm_dose_library              *lib;
    size_t                        p, next;
    const hm_voxel_phantom       *v;
    const hm_dose_library_params *prm;
    int                           engine_threads;
    FILE                         *part;
    hm_dose_progress             *pr;
    size_t                       *computed;
    double                        t0;
    hm_dose_progress_fn           progress;
    void                         *user;
    pthread_mutex_t               lock;
    int                           rc;
    hm_error                      err;
} job;

static int node_error(hm_error *err, const hm_dose_phantom_key *k, size_t node, int rc)
{
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    snprintf(err->msg, sizeof err->msg, "phantom %s:%c node %zu: %.400s", k->age, k->sex, node, msg);
    return rc;
}

static void *worker(void *arg)
{
    job *J = arg;
    const hm_dose_phantom_key *key = &J->lib->grid.phantoms[J->p];
    lib_phantom *ph = &J->lib->ph[J->p];
    for (;;) {
        pthread_mutex_lock(&J->lock);
        while (J->next < J->lib->nnodes && ph->set && ph->set[J->next])
            J->next++;
        size_t k = J->next++;
        int stop = J->rc || k >= J->lib->nnodes;
        pthread_mutex_unlock(&J->lock);
        if (stop)
            break;
        hm_dosimetry_beam b;
        hm_dosimetry_result r;
        hm_error err;
        hm_error_clear(&err);
        hm_dosimetry_params dp = { J->prm->histories_per_node, hm_dose_node_seed(J->prm->seed, key, k),
                                   J->engine_threads };
        int rc = hm_dose_grid_node_beam(&J->lib->grid, k, &b, &err);
        if (!rc && (rc = hm_dosimetry_organ_doses(J->v, &b, &dp, &r, &err)))
            rc = node_error(&err, key, k, rc);
        pthread_mutex_lock(&J->lock);
        if (!rc) {
            rc = hm_dose_library_set_node(J->lib, J->p, k, &r, &err);
            hm_dosimetry_result_free(&r);
        }
        if (!rc) {
            part_write_node(J->part, J->lib, J->p, k);
            if (fflush(J->part))
                rc = hm_error_set(&err, HM_EIO, NULL, 0, NULL, "cannot write the resume file (disk full?)");
        }
        if (rc && !J->rc) {
            J->rc = rc;
            J->err = err;
        }
        if (!rc) {
            hm_dose_progress *pr = J->pr;
            pr->done++;
            (*J->computed)++;
            pr->elapsed_s = hm_now_s() - J->t0;
            pr->eta_s = pr->elapsed_s / (double)*J->computed * (double)(pr->total - pr->done);
            if (J->progress && J->progress(pr, J->user) && !J->rc)
                J->rc = hm_error_set(&J->err, HM_EINVAL, NULL, 0, NULL,
                                     "interrupted after %zu of %zu nodes; run again to resume", pr->done, pr->total);
        }
        pthread_mutex_unlock(&J->lock);
    }
    return NULL;
}

static int build_phantom(hm_dose_library *lib, size_t p, size_t missing, const hm_dose_library_params *prm,
                         FILE *part, hm_dose_progress *pr, size_t *computed, double t0,
                         hm_dose_progress_fn progress, void *user, hm_error *err)
{
    const hm_dose_phantom_key *key = &lib->grid.phantoms[p];
    hm_phantom *ph;
    hm_voxel_phantom v;
    int rc = hm_phantom_build(key->age, key->sex, &ph, err);
    if (rc)
        return rc;
    /* A scaled phantom: x and y by the scale, z unchanged (hm_phantom_scale
     * with the reference height and the mass times scale^2); the voxel
     * cache's key includes the scaling (the phantom's parameter hash). */
    double s = lib_key_scale(key);
    if (s != 1 && (rc = hm_phantom_scale(ph, hm_phantom_height_cm(ph), hm_phantom_mass_kg(ph) * s * s, err))) {
        hm_phantom_free(ph);
        return rc;
    }
    rc = hm_phantom_voxelise_cached(ph, prm->voxel_mm, prm->cache_dir, &v, NULL, err);
    hm_phantom_free(ph);
    if (rc)
        return rc;
    char name[32];
    hm_dose_phantom_name(key, name, sizeof name);
    pr->phantom = name;
    job J;
    memset(&J, 0, sizeof J);
    J.lib = lib; J.p = p; J.v = &v; J.prm = prm; J.part = part; J.pr = pr; J.computed = computed;
    J.t0 = t0; J.progress = progress; J.user = user;
    int nw = prm->threads < (int)missing ? prm->threads : (int)missing;
    J.engine_threads = prm->threads / nw;
    pthread_mutex_init(&J.lock, NULL);
    pthread_t th[256];
    int started = 0;
    while (started < nw - 1 && !pthread_create(&th[started], NULL, worker, &J))
        started++;
    worker(&J);   /* this thread too */
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&J.lock);
    pr->phantom = NULL;
    hm_voxel_phantom_free(&v);
    if (J.rc && err)
        *err = J.err;
    return J.rc;
}

int hm_dose_library_build(const hm_dose_grid *g, const hm_dose_library_params *p, const char *path,
                          hm_dose_progress_fn progress, void *user, hm_error *err)
{
    if (p->histories_per_node < 1000)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "histories_per_node", "at least 1000");
    if (!(p->voxel_mm >= 0.5 && p->voxel_mm <= 50))
        return hm_error_set(err, HM_EINVAL, NULL, 0, "voxel_mm", "expected 0.5..50 mm");
    if (p->threads < 1 || p->threads > 256)
        return hm_error_set(err, HM_EINVAL, NULL, 0, "threads", "expected 1..256");
    hm_dose_library *lib;
    int rc = hm_dose_library_create(g, p, &lib, err);
    if (rc)
        return rc;
    char part[1100];
    if ((size_t)snprintf(part, sizeof part, "%s.part", path) >= sizeof part - 8) {
        hm_dose_library_free(lib);
        return hm_error_set(err, HM_EINVAL, path, 0, NULL, "path too long");
    }
    FILE *pf = NULL;
    hm_dose_progress pr;
    memset(&pr, 0, sizeof pr);
    pr.total = g->nphantoms * lib->nnodes;
    rc = part_resume(lib, part, lib_build_key(g, p), &pr.resumed, &pf, err);
    pr.done = pr.resumed;
    size_t computed = 0;
    double t0 = hm_now_s();
    for (size_t i = 0; i < g->nphantoms && !rc; i++) {
        size_t missing = 0;
        for (size_t k = 0; k < lib->nnodes; k++)
            missing += !(lib->ph[i].set && lib->ph[i].set[k]);
        if (missing)
            rc = build_phantom(lib, i, missing, p, pf, &pr, &computed, t0, progress, user, err);
    }
    if (pf)
        fclose(pf);
    if (!rc && !(rc = hm_dose_library_save(lib, path, err)))
        remove(part);
    hm_dose_library_free(lib);
    return rc;
}

/* ---- the default library ------------------------------------------------------ */

int hm_dose_library_default_path(char *buf, size_t size, hm_error *err)
{
    hm_dose_grid g;
    hm_dose_library_params p;
    int rc = hm_dose_grid_default(&g, &p, err);
    if (rc)
        return rc;
    char dir[1024];
    lib_cache_dir(dir, sizeof dir);
    if ((size_t)snprintf(buf, size, "%s/dose_library_%016llx.csv", dir, (unsigned long long)lib_build_key(&g, &p))
        >= size)
        return hm_error_set(err, HM_EINVAL, NULL, 0, NULL, "buffer too small for the cache path");
    return HM_OK;
}

/* mkdir -p for the cache folder. */
static int make_dirs(const char *path, hm_error *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *c = buf + 1;; c++) {
        if (*c == '/' || !*c) {
            char keep = *c;
            *c = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return hm_error_set(err, HM_EIO, buf, 0, NULL, "cannot create the folder: %s", strerror(errno));
            *c = keep;
            if (!keep)
                break;
        }
    }
    return HM_OK;
}

int hm_dose_library_ensure_default(int threads, hm_dose_progress_fn progress, void *user, char *path, size_t size,
                                   hm_error *err)
{
    int rc = hm_dose_library_default_path(path, size, err);
    if (rc || access(path, R_OK) == 0)
        return rc;
    if (threads < 1)
        return hm_error_set(err, HM_ENOTFOUND, path, 0, NULL,
                            "no default dose library yet: build it (harmonic dose table, or "
                            "hm_dose_library_ensure_default with threads > 0)");
    hm_dose_grid g;
    hm_dose_library_params p;
    if ((rc = hm_dose_grid_default(&g, &p, err)))
        return rc;
    p.threads = threads;
    char dir[1024];
    lib_cache_dir(dir, sizeof dir);
    if ((rc = make_dirs(dir, err)))
        return rc;
    return hm_dose_library_build(&g, &p, path, progress, user, err);
}
