/* cache.h - a per-process cache of whole responses.
 *
 * Bounded in bytes (oldest entries go first) and in age, and emptied as a
 * whole whenever a generation number shared by every worker of the pool
 * moves.  The generation moves after every committed change to the data
 * (see ob_db_take_changes and read_cache.c), so an entry is never served
 * once something it was built from has changed; the age bound covers what
 * changes without a write: validity dates that pass.
 *
 * The cache knows nothing of HTTP: keys and values are bytes. */
#ifndef OPENBOOK_CACHE_H
#define OPENBOOK_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef _Atomic uint64_t ob_generation;

/* A generation counter in memory shared with processes forked afterwards
 * (MAP_SHARED).  NULL if the mapping fails. */
ob_generation *ob_generation_new_shared(void);
void ob_generation_bump(ob_generation *g);
uint64_t ob_generation_get(ob_generation *g);

/* One stored response. */
typedef struct ob_cached {
    int status;
    const char *content_type; /* NULL = the default */
    const char *headers;      /* extra header lines, as ob_response keeps them */
    size_t headers_len;
    const char *body;
    size_t body_len;
    bool gzip;                /* body is gzip-compressed */
} ob_cached;

typedef struct ob_cache ob_cache;

/* max_bytes bounds keys plus values; an entry larger than an eighth of it
 * is not kept.  max_age_ms bounds how long an entry is served. */
ob_cache *ob_cache_new(size_t max_bytes, long max_age_ms, ob_generation *gen);
void ob_cache_free(ob_cache *c);

/* The generation to pass to ob_cache_put for a response built from now on. */
uint64_t ob_cache_generation(ob_cache *c);

/* Fills *out (pointing into the cache: valid until the next put or get)
 * and returns true on a fresh hit. */
bool ob_cache_get(ob_cache *c, const char *key, size_t klen, int64_t now_ns, ob_cached *out);

/* Keeps a copy of v under key, unless the generation has moved since
 * `gen` was read: the response may then predate a change. */
void ob_cache_put(ob_cache *c, const char *key, size_t klen, uint64_t gen, int64_t now_ns,
                  const ob_cached *v);

typedef struct ob_cache_stats {
    size_t entries, bytes;
    unsigned long hits, misses, flushes, evictions;
} ob_cache_stats;
void ob_cache_get_stats(const ob_cache *c, ob_cache_stats *s);

#endif
