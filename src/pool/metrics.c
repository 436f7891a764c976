/* metrics.c - the pool's shared counters and their Prometheus text (see
 * metrics.h).
 *
 * Layout of the shared mapping: a header written by the master (and by
 * the one worker that last counted the mail outbox), then one block of
 * `stride` 64-bit words per worker slot:
 *
 *   counters[OB_MC_COUNT]            ob_metric_inc() (core/counters.h)
 *   cache: hits, misses, evictions, flushes (counters), bytes, entries (gauges)
 *   ratelimit[RATE_SLOTS]            refusals per limit (ob_app.ratelimit_name order)
 *   statements[NSTMT + 1], sum       statements per request
 *   per route pattern (+1 "unmatched"):
 *     requests[NMETHODS][5]          by method and status class
 *     latency[NLAT + 1], sum_us
 *
 * Only the worker of a slot writes its block (and the master clears its
 * gauges after it ended), so an increment is a relaxed load and store.
 * The master reads every block below the highest slot ever used. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <libpq-fe.h>
#include "openbook/core/alloc.h"
#include "openbook/core/cache.h"
#include "openbook/core/log.h"
#include "openbook/core/promtext.h"
#include "openbook/db/db.h"
#include "openbook/http/http.h"
#include "openbook/http/metrics_http.h"
#include "openbook/http/router.h"
#include "openbook/pool/metrics.h"
#include "openbook/pool/pool.h"

typedef _Atomic uint64_t word;

/* Request latency buckets, in seconds and (for the hot path) microseconds:
 * a cached answer takes ~0.1-0.3 ms, a list from PostgreSQL a few ms. */
static const double lat_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1,    0.25,  0.5,    1,     2.5,  5,     10};
static const int64_t lat_bounds_us[] = {500,    1000,   2500,    5000,    10000,
                                        25000,  50000,  100000,  250000,  500000,
                                        1000000, 2500000, 5000000, 10000000};
#define NLAT (sizeof lat_bounds / sizeof lat_bounds[0])
/* Statements per request: 0 is an answer from the response cache. */
static const double stmt_bounds[] = {0, 1, 2, 4, 8, 16, 32, 64};
#define NSTMT (sizeof stmt_bounds / sizeof stmt_bounds[0])

#define NMETHODS 8 /* ob_method bits: GET HEAD POST PUT PATCH DELETE OPTIONS other */
static const char *const method_names[NMETHODS] = {"GET",   "HEAD",   "POST",    "PUT",
                                                   "PATCH", "DELETE", "OPTIONS", "other"};
static const char *const class_names[5] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
#define RATE_SLOTS 16 /* rate limits beyond these are not counted */

/* Word offsets inside a slot block. */
enum {
    W_COUNTERS = 0,
    W_CACHE_HITS = W_COUNTERS + OB_MC_COUNT,
    W_CACHE_MISSES,
    W_CACHE_EVICTIONS,
    W_CACHE_FLUSHES,
    W_CACHE_BYTES,   /* gauge */
    W_CACHE_ENTRIES, /* gauge */
    W_RATE,
    W_STMT = W_RATE + RATE_SLOTS,
    W_STMT_SUM = W_STMT + NSTMT + 1,
    W_ROUTES,
};
#define ROUTE_REQ 0
#define ROUTE_LAT (NMETHODS * 5)
#define ROUTE_LAT_SUM (ROUTE_LAT + NLAT + 1)
#define ROUTE_WORDS (ROUTE_LAT_SUM + 1)

typedef struct header {
    word high_water;            /* slots [0, high_water) have been used */
    word restarts[OB_EXIT_COUNT];
    word outbox_checked_ns;     /* CLOCK_MONOTONIC of the last count (a claim) */
    word outbox_ok;             /* the last count succeeded */
    word outbox[3];             /* queued, retrying, failed */
    word outbox_oldest_s;       /* age of the oldest queued message then */
    word outbox_at_unix;        /* wall clock of the last successful count */
    int64_t started_unix;
} header;

static struct {
    header *hdr;
    word *blocks;
    uint8_t *alive;             /* master's: per slot */
    struct ob_slot *slots;
    size_t max_slots, stride, map_bytes;
    ob_metrics_server *server;
    /* The application's (ob_app): set by the master before it forks, so
     * the workers have them too. */
    const ob_route *routes;
    size_t nroutes;
    const char *rate_names[RATE_SLOTS];
    size_t nrates;
} M;

/* Per worker process: the cache's own counters as last seen, so each
 * request adds what changed. */
static ob_cache_stats cache_seen;
static unsigned long stmts_seen;

static size_t route_count(void)
{
    return M.nroutes + 1; /* the last one: no route matched */
}

static inline void bump(word *w, uint64_t n)
{
    atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void set(word *w, uint64_t v)
{
    atomic_store_explicit(w, v, memory_order_relaxed);
}

static inline uint64_t get(const word *w)
{
    return atomic_load_explicit(w, memory_order_relaxed);
}

static word *block(size_t idx)
{
    return M.blocks + idx * M.stride;
}

void ob_metrics_pool_start(const ob_config *cfg, const ob_app *app, struct ob_slot *slots,
                           size_t max_slots)
{
    if (!*cfg->metrics_listen)
        return;
    if (app->router) {
        M.routes = app->router->routes;
        M.nroutes = app->router->nroutes;
    }
    const char *name;
    while (app->ratelimit_name && M.nrates < RATE_SLOTS &&
           (name = app->ratelimit_name(M.nrates)) != NULL)
        M.rate_names[M.nrates++] = name;
    M.stride = W_ROUTES + route_count() * ROUTE_WORDS;
    size_t head = (sizeof(header) + 63) & ~(size_t)63;
    M.map_bytes = head + max_slots * M.stride * sizeof(word);
    /* NORESERVE: only the pages of slots in use are ever touched. */
    void *p = mmap(NULL, M.map_bytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        ob_error("metrics: no shared memory (%s); serving without metrics", strerror(errno));
        return;
    }
    M.hdr = p;
    M.hdr->started_unix = (int64_t)time(NULL);
    M.blocks = (word *)(void *)((char *)p + head);
    M.alive = ob_calloc(max_slots, 1);
    M.slots = slots;
    M.max_slots = max_slots;
    M.server = ob_metrics_server_open(cfg->metrics_listen, "metrics.listen",
                                      ob_metrics_pool_render, NULL);
    if (!M.server)
        ob_error("metrics: serving without metrics (metrics.listen \"%s\")",
                 cfg->metrics_listen);
}

int ob_metrics_pool_fd(void)
{
    return ob_metrics_server_fd(M.server);
}

void ob_metrics_pool_run(void)
{
    ob_metrics_server_run(M.server);
}

void ob_metrics_pool_stop(void)
{
    ob_metrics_server_close(M.server);
    M.server = NULL;
    if (M.hdr)
        munmap(M.hdr, M.map_bytes);
    ob_free(M.alive);
    memset(&M, 0, sizeof M);
}

void ob_metrics_worker_started(size_t idx)
{
    if (!M.hdr || idx >= M.max_slots)
        return;
    M.alive[idx] = 1;
    if (get(&M.hdr->high_water) < idx + 1)
        set(&M.hdr->high_water, idx + 1);
}

void ob_metrics_worker_exited(size_t idx, ob_worker_exit how)
{
    if (!M.hdr || idx >= M.max_slots)
        return;
    M.alive[idx] = 0;
    set(&block(idx)[W_CACHE_BYTES], 0);
    set(&block(idx)[W_CACHE_ENTRIES], 0);
    if (how < OB_EXIT_COUNT)
        bump(&M.hdr->restarts[how], 1);
}

/* ---- in the worker ---- */

void ob_metrics_worker_bind(size_t idx)
{
    if (!M.hdr || idx >= M.max_slots)
        return;
    /* The master's listening socket and epoll set are not the worker's
     * (and the epoll set, shared since fork, must stay as it is). */
    ob_metrics_server_abandon(M.server);
    M.server = NULL;
    word *b = block(idx);
    set(&b[W_CACHE_BYTES], 0);
    set(&b[W_CACHE_ENTRIES], 0);
    memset(&cache_seen, 0, sizeof cache_seen);
    stmts_seen = 0;
    ob_metrics_mine = b;
}

static size_t method_index(ob_method m)
{
    for (size_t i = 0; i < NMETHODS - 1; i++)
        if (m == (ob_method)(1u << i))
            return i;
    return NMETHODS - 1;
}

void ob_metrics_request(const ob_request *r, int64_t elapsed_ns)
{
    word *b = ob_metrics_mine;
    if (!b)
        return;
    /* An entry of the application's table (compared as integers: a route
     * of some other table is not an error here, just "unmatched"). */
    uintptr_t off = (uintptr_t)r->route - (uintptr_t)M.routes;
    size_t route = r->route && M.routes && off < M.nroutes * sizeof *M.routes
                       ? off / sizeof *M.routes
                       : M.nroutes;
    word *rw = b + W_ROUTES + route * ROUTE_WORDS;
    int cls = r->res.status / 100 - 1;
    if (cls < 0 || cls > 4)
        cls = 4;
    bump(&rw[ROUTE_REQ + method_index(r->method) * 5 + (size_t)cls], 1);
    int64_t us = elapsed_ns / 1000;
    size_t k = 0;
    while (k < NLAT && us > lat_bounds_us[k])
        k++;
    bump(&rw[ROUTE_LAT + k], 1);
    bump(&rw[ROUTE_LAT_SUM], (uint64_t)(us > 0 ? us : 0));

    if (r->db) {
        unsigned long q = ob_db_query_count(r->db);
        uint64_t n = q - stmts_seen;
        stmts_seen = q;
        size_t s = 0;
        while (s < NSTMT && (double)n > stmt_bounds[s])
            s++;
        bump(&b[W_STMT + s], 1);
        bump(&b[W_STMT_SUM], n);
    }
    if (r->cache) {
        ob_cache_stats cs;
        ob_cache_get_stats(r->cache, &cs);
        bump(&b[W_CACHE_HITS], cs.hits - cache_seen.hits);
        bump(&b[W_CACHE_MISSES], cs.misses - cache_seen.misses);
        bump(&b[W_CACHE_EVICTIONS], cs.evictions - cache_seen.evictions);
        bump(&b[W_CACHE_FLUSHES], cs.flushes - cache_seen.flushes);
        set(&b[W_CACHE_BYTES], cs.bytes);
        set(&b[W_CACHE_ENTRIES], cs.entries);
        cache_seen = cs;
    }
}

void ob_metrics_ratelimit_refused(size_t i)
{
    word *b = ob_metrics_mine;
    if (b && i < M.nrates)
        bump(&b[W_RATE + i], 1);
}

/* The outbox by state, from the table every sender works on: right
 * whether send-mail runs as a service, from cron or on another host. */
#define OUTBOX_INTERVAL_NS (10LL * 1000000000LL)
static const char outbox_sql[] =
    "SELECT count(*) FILTER (WHERE attempts = 0),"
    " count(*) FILTER (WHERE attempts > 0 AND attempts < $1),"
    " count(*) FILTER (WHERE attempts >= $1),"
    " COALESCE(floor(EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE attempts < $1))), 0)"
    " FROM mail_outbox WHERE sent_at IS NULL";

void ob_metrics_tick(struct ob_db *db, const ob_config *cfg)
{
    if (!ob_metrics_mine || !M.hdr)
        return;
    int64_t now = ob_now_ns();
    uint64_t last = get(&M.hdr->outbox_checked_ns);
    if (last && now - (int64_t)last < OUTBOX_INTERVAL_NS)
        return;
    /* One worker of the pool claims this turn; the others go on. */
    if (!atomic_compare_exchange_strong_explicit(&M.hdr->outbox_checked_ns, &last,
                                                 (uint64_t)now, memory_order_relaxed,
                                                 memory_order_relaxed))
        return;
    /* An idle worker may not have connected yet (or lost the connection):
     * the figures must not wait for a request. */
    if (ob_db_ensure(db) != 0) {
        set(&M.hdr->outbox_ok, 0);
        return;
    }
    char max[24];
    snprintf(max, sizeof max, "%ld", cfg->mail_max_attempts);
    const char *params[] = {max};
    PGresult *res = ob_db_query(db, NULL, outbox_sql, 1, params);
    if (!res || PQntuples(res) != 1) {
        set(&M.hdr->outbox_ok, 0);
        if (res)
            PQclear(res);
        return;
    }
    for (int i = 0; i < 3; i++)
        set(&M.hdr->outbox[i], strtoull(PQgetvalue(res, 0, i), NULL, 10));
    set(&M.hdr->outbox_oldest_s, strtoull(PQgetvalue(res, 0, 3), NULL, 10));
    set(&M.hdr->outbox_at_unix, (uint64_t)time(NULL));
    set(&M.hdr->outbox_ok, 1);
    PQclear(res);
}

/* ---- the text (in the master) ---- */

void ob_metrics_pool_render(ob_buf *out, void *unused)
{
    (void)unused;
    if (!M.hdr)
        return;
    size_t hw = get(&M.hdr->high_water);
    if (hw > M.max_slots)
        hw = M.max_slots;
    /* Sums over every slot ever used: dead workers' counts stay in. */
    uint64_t *sum = ob_calloc(M.stride, sizeof *sum);
    for (size_t i = 0; i < hw; i++) {
        const word *b = block(i);
        for (size_t w = 0; w < M.stride; w++)
            sum[w] += get(&b[w]);
    }
    uint64_t busy = 0, idle = 0;
    for (size_t i = 0; i < hw; i++)
        if (M.alive[i]) {
            if (M.slots[i].request_start_ns)
                busy++;
            else
                idle++;
        }

    ob_prom_family(out, "openbook_build_info", "gauge", "The running version (value 1).");
    ob_prom_label ver = {"version", OB_VERSION};
    ob_prom_sample(out, "openbook_build_info", &ver, 1, 1);
    ob_prom_gauge(out, "openbook_start_time_seconds", "When the master started (Unix time).",
                  (uint64_t)M.hdr->started_unix);

    const char *states[] = {"busy", "idle"};
    uint64_t st[] = {busy, idle};
    ob_prom_by_label(out, "openbook_workers", "gauge",
                     "Worker processes alive, by whether a request is in progress.", "state",
                     states, st, 2);
    const char *causes[OB_EXIT_COUNT] = {"crash", "timeout", "recycle", "retired"};
    uint64_t rs[OB_EXIT_COUNT];
    for (size_t i = 0; i < OB_EXIT_COUNT; i++)
        rs[i] = get(&M.hdr->restarts[i]);
    ob_prom_by_label(out, "openbook_worker_restarts_total", "counter",
                     "Workers that ended and were replaced, by cause (retired: reload or stop).",
                     "cause", causes, rs, OB_EXIT_COUNT);

    /* Requests by route pattern (a bounded set: never the raw path). */
    size_t nr = route_count();
    ob_prom_family(out, "openbook_http_requests_total", "counter",
                   "Requests answered, by route pattern, method and status class.");
    for (size_t r = 0; r < nr; r++) {
        const uint64_t *rw = sum + W_ROUTES + r * ROUTE_WORDS;
        const char *route = r < M.nroutes ? M.routes[r].pattern : "unmatched";
        for (size_t m = 0; m < NMETHODS; m++)
            for (size_t c = 0; c < 5; c++) {
                uint64_t v = rw[ROUTE_REQ + m * 5 + c];
                if (!v)
                    continue;
                ob_prom_label l[] = {{"route", route}, {"method", method_names[m]},
                                     {"status", class_names[c]}};
                ob_prom_sample(out, "openbook_http_requests_total", l, 3, v);
            }
    }
    ob_prom_family(out, "openbook_http_request_duration_seconds", "histogram",
                   "Time from the request's arrival at the worker to the last byte of the "
                   "answer, by route pattern.");
    for (size_t r = 0; r < nr; r++) {
        const uint64_t *rw = sum + W_ROUTES + r * ROUTE_WORDS;
        uint64_t n = 0;
        for (size_t k = 0; k <= NLAT; k++)
            n += rw[ROUTE_LAT + k];
        if (!n)
            continue;
        ob_prom_label l = {"route", r < M.nroutes ? M.routes[r].pattern : "unmatched"};
        ob_prom_histogram(out, "openbook_http_request_duration_seconds", &l, 1, lat_bounds, NLAT,
                          rw + ROUTE_LAT, (double)rw[ROUTE_LAT_SUM] / 1e6);
    }
    ob_prom_family(out, "openbook_db_statements_per_request", "histogram",
                   "SQL statements run per request (0: answered from the response cache "
                   "or without the database).");
    ob_prom_histogram(out, "openbook_db_statements_per_request", NULL, 0, stmt_bounds, NSTMT,
                      sum + W_STMT, (double)sum[W_STMT_SUM]);

    ob_prom_counter(out, "openbook_response_cache_hits_total",
                    "Answers served from a response cache.", sum[W_CACHE_HITS]);
    ob_prom_counter(out, "openbook_response_cache_misses_total",
                    "Cacheable requests that were not in the cache.", sum[W_CACHE_MISSES]);
    ob_prom_counter(out, "openbook_response_cache_evictions_total",
                    "Answers dropped to stay within cache.max_bytes.", sum[W_CACHE_EVICTIONS]);
    ob_prom_counter(out, "openbook_response_cache_flushes_total",
                    "Caches emptied because the data changed.", sum[W_CACHE_FLUSHES]);
    ob_prom_gauge(out, "openbook_response_cache_bytes",
                  "Bytes held by the response caches of live workers.", sum[W_CACHE_BYTES]);
    ob_prom_gauge(out, "openbook_response_cache_entries",
                  "Answers held by the response caches of live workers.", sum[W_CACHE_ENTRIES]);

    ob_prom_counter(out, "openbook_db_reconnects_total",
                    "PostgreSQL connections made again after one was lost.",
                    sum[W_COUNTERS + OB_MC_DB_RECONNECTS]);
    const char *dbk[] = {"connect", "lost", "statement"};
    uint64_t dbv[] = {sum[W_COUNTERS + OB_MC_DB_CONNECT_ERRORS], sum[W_COUNTERS + OB_MC_DB_LOST],
                      sum[W_COUNTERS + OB_MC_DB_STATEMENT_ERRORS]};
    ob_prom_by_label(out, "openbook_db_errors_total", "counter",
                     "PostgreSQL errors: failed connection attempts, connections lost, failed "
                     "statements.",
                     "kind", dbk, dbv, 3);
    ob_prom_counter(out, "openbook_redis_reconnects_total",
                    "Redis connections made again after one was lost.",
                    sum[W_COUNTERS + OB_MC_REDIS_RECONNECTS]);
    const char *rk[] = {"connect", "io", "reply"};
    uint64_t rv[] = {sum[W_COUNTERS + OB_MC_REDIS_CONNECT_ERRORS],
                     sum[W_COUNTERS + OB_MC_REDIS_IO_ERRORS],
                     sum[W_COUNTERS + OB_MC_REDIS_REPLY_ERRORS]};
    ob_prom_by_label(out, "openbook_redis_errors_total", "counter",
                     "Redis errors: failed connection attempts, commands without an answer "
                     "(connection dropped), error replies.",
                     "kind", rk, rv, 3);

    ob_prom_family(out, "openbook_ratelimit_refusals_total", "counter",
                   "Requests refused by a rate limit (api-auth.md section 7), by limit.");
    for (size_t i = 0; i < M.nrates; i++) {
        ob_prom_label l = {"limit", M.rate_names[i]};
        ob_prom_sample(out, "openbook_ratelimit_refusals_total", &l, 1, sum[W_RATE + i]);
    }

    if (get(&M.hdr->outbox_at_unix)) {
        const char *ob[] = {"queued", "retrying", "failed"};
        uint64_t ov[3];
        for (int i = 0; i < 3; i++)
            ov[i] = get(&M.hdr->outbox[i]);
        ob_prom_by_label(out, "openbook_mail_outbox_messages", "gauge",
                         "Unsent mail in the outbox: queued (not tried yet), retrying (failed "
                         "before), failed (given up after mail.max_attempts).",
                         "state", ob, ov, 3);
        ob_prom_gauge(out, "openbook_mail_outbox_oldest_age_seconds",
                      "Age of the oldest message still to be sent, when last counted.",
                      get(&M.hdr->outbox_oldest_s));
        ob_prom_gauge(out, "openbook_mail_outbox_counted_timestamp_seconds",
                      "When the outbox was last counted (Unix time; every 10 s while the pool "
                      "runs).",
                      get(&M.hdr->outbox_at_unix));
    }
    ob_prom_gauge(out, "openbook_mail_outbox_up",
                  "1 if the last count of the outbox succeeded, 0 if the database did not answer.",
                  get(&M.hdr->outbox_ok));
    ob_free(sum);
}
