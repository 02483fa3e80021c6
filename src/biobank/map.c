/* map.c — the string -> int map of the replay (bb_int.h). */
#include "bb_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char bb_tomb;

/* FNV-1a, 64 bit (Fowler, Noll, Vo; www.isthe.com/chongo/tech/comp/fnv). */
static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t slot(const bb_map *m, const char *key, int *found)
{
    size_t i = (size_t)hash(key) & (m->cap - 1), first_tomb = (size_t)-1;
    for (;; i = (i + 1) & (m->cap - 1)) {
        char *k = m->keys[i];
        if (!k) {
            *found = 0;
            return first_tomb != (size_t)-1 ? first_tomb : i;
        }
        if (k == &bb_tomb) {
            if (first_tomb == (size_t)-1)
                first_tomb = i;
        } else if (!strcmp(k, key)) {
            *found = 1;
            return i;
        }
    }
}

int bb_map_get(const bb_map *m, const char *key)
{
    if (!m->cap)
        return -1;
    int found;
    size_t i = slot(m, key, &found);
    return found ? m->vals[i] : -1;
}

static int grow(bb_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    bb_map n = { calloc(ncap, sizeof(char *)), calloc(ncap, sizeof(int)), ncap, 0 };
    if (!n.keys || !n.vals) {
        free(n.keys);
        free(n.vals);
        return HM_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i] && m->keys[i] != &bb_tomb) {
            int found;
            size_t j = slot(&n, m->keys[i], &found);
            n.keys[j] = m->keys[i];
            n.vals[j] = m->vals[i];
            n.used++;
        }
    free(m->keys);
    free(m->vals);
    *m = n;
    return HM_OK;
}

int bb_map_put(bb_map *m, const char *key, int val)
{
    if ((m->used + 1) * 2 > m->cap && grow(m))
        return HM_ENOMEM;
    int found;
    size_t i = slot(m, key, &found);
    if (!found) {
        char *k = strdup(key);
        if (!k)
            return HM_ENOMEM;
        if (m->keys[i] != &bb_tomb)
            m->used++;
        m->keys[i] = k;
    }
    m->vals[i] = val;
    return HM_OK;
}

void bb_map_del(bb_map *m, const char *key)
{
    if (!m->cap)
        return;
    int found;
    size_t i = slot(m, key, &found);
    if (found) {
        free(m->keys[i]);
        m->keys[i] = &bb_tomb;
    }
}

void bb_map_free(bb_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i] != &bb_tomb)
            free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
