/* cache.c - a per-process response cache (see cache.h).
 *
 * A chained hash table over the entries, and the entries in a list by age:
 * the oldest is evicted first when the byte bound is reached.  Plain FIFO
 * rather than LRU: what is hot is re-added right after a flush anyway, and
 * a flush (every change to the data) empties everything. */
#include <string.h>
#include <sys/mman.h>
#include "openbook/core/alloc.h"
#include "openbook/core/cache.h"

#define NBUCKETS 1024 /* power of two */

typedef struct entry {
    struct entry *chain;        /* next in the bucket */
    struct entry *older, *newer;
    uint64_t hash;
    int64_t born_ns;
    size_t size;                /* what this entry counts against max_bytes */
    ob_cached v;                /* pointers into data[] */
    size_t klen;
    char data[];                /* key, content type + NUL, headers, body */
} entry;

struct ob_cache {
    size_t max_bytes, used, count;
    int64_t max_age_ns;
    ob_generation *gen;
    uint64_t seen;              /* the generation the entries belong to */
    entry *buckets[NBUCKETS];
    entry *oldest, *newest;
    unsigned long hits, misses, flushes, evictions;
};

ob_generation *ob_generation_new_shared(void)
{
    void *p = mmap(NULL, sizeof(ob_generation), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    ob_generation *g = p;
    atomic_init(g, 1);
    return g;
}

void ob_generation_bump(ob_generation *g)
{
    if (g)
        atomic_fetch_add_explicit(g, 1, memory_order_acq_rel);
}

uint64_t ob_generation_get(ob_generation *g)
{
    return g ? atomic_load_explicit(g, memory_order_acquire) : 0;
}

static uint64_t hash_of(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ULL;
    }
    return h;
}

ob_cache *ob_cache_new(size_t max_bytes, long max_age_ms, ob_generation *gen)
{
    ob_cache *c = ob_calloc(1, sizeof *c);
    c->max_bytes = max_bytes;
    c->max_age_ns = (int64_t)max_age_ms * 1000000LL;
    c->gen = gen;
    c->seen = ob_generation_get(gen);
    return c;
}

static void unlink_entry(ob_cache *c, entry *e)
{
    entry **p = &c->buckets[e->hash & (NBUCKETS - 1)];
    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    c->used -= e->size;
    c->count--;
    ob_free(e);
}

static void flush(ob_cache *c)
{
    while (c->oldest)
        unlink_entry(c, c->oldest);
}

void ob_cache_free(ob_cache *c)
{
    if (!c)
        return;
    flush(c);
    ob_free(c);
}

/* Empties the cache if the generation moved since its entries were made. */
static void follow_generation(ob_cache *c)
{
    uint64_t g = ob_generation_get(c->gen);
    if (g != c->seen) {
        if (c->count)
            c->flushes++;
        flush(c);
        c->seen = g;
    }
}

uint64_t ob_cache_generation(ob_cache *c)
{
    return ob_generation_get(c->gen);
}

static entry *find(ob_cache *c, const char *key, size_t klen, uint64_t h)
{
    for (entry *e = c->buckets[h & (NBUCKETS - 1)]; e; e = e->chain)
        if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0)
            return e;
    return NULL;
}

bool ob_cache_get(ob_cache *c, const char *key, size_t klen, int64_t now_ns, ob_cached *out)
{
    follow_generation(c);
    entry *e = find(c, key, klen, hash_of(key, klen));
    if (e && now_ns - e->born_ns >= c->max_age_ns) {
        unlink_entry(c, e);
        e = NULL;
    }
    if (!e) {
        c->misses++;
        return false;
    }
    c->hits++;
    *out = e->v;
    return true;
}

void ob_cache_put(ob_cache *c, const char *key, size_t klen, uint64_t gen, int64_t now_ns,
                  const ob_cached *v)
{
    follow_generation(c);
    if (gen != c->seen || c->max_age_ns <= 0)
        return; /* built before the latest change was known: may be stale */
    size_t ctl = v->content_type ? strlen(v->content_type) + 1 : 0;
    size_t size = sizeof(entry) + klen + ctl + v->headers_len + v->body_len;
    if (size > c->max_bytes / 8)
        return;
    uint64_t h = hash_of(key, klen);
    entry *old = find(c, key, klen, h);
    if (old)
        unlink_entry(c, old);
    while (c->oldest && c->used + size > c->max_bytes) {
        unlink_entry(c, c->oldest);
        c->evictions++;
    }
    entry *e = ob_malloc(size);
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->born_ns = now_ns;
    e->size = size;
    e->klen = klen;
    char *p = e->data;
    memcpy(p, key, klen);
    p += klen;
    e->v.status = v->status;
    if (ctl) {
        memcpy(p, v->content_type, ctl);
        e->v.content_type = p;
        p += ctl;
    }
    if (v->headers_len)
        memcpy(p, v->headers, v->headers_len);
    e->v.headers = p;
    e->v.headers_len = v->headers_len;
    p += v->headers_len;
    if (v->body_len)
        memcpy(p, v->body, v->body_len);
    e->v.body = p;
    e->v.body_len = v->body_len;
    e->v.gzip = v->gzip;
    entry **b = &c->buckets[h & (NBUCKETS - 1)];
    e->chain = *b;
    *b = e;
    e->older = c->newest;
    if (c->newest)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
    c->used += size;
    c->count++;
}

void ob_cache_get_stats(const ob_cache *c, ob_cache_stats *s)
{
    *s = (ob_cache_stats){.entries = c->count,
                          .bytes = c->used,
                          .hits = c->hits,
                          .misses = c->misses,
                          .flushes = c->flushes,
                          .evictions = c->evictions};
}
