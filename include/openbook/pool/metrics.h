/* metrics.h - the pool's figures for Prometheus (metrics.listen), kept in
 * memory shared by the master and every worker.
 *
 * Each worker slot of the master (pool.h: ob_slot) has a block of 64-bit
 * counters that only the worker in that slot writes, with relaxed atomic
 * loads and stores (plain instructions, no lock, no system call: a few
 * nanoseconds per request).  The master sums the blocks when it is
 * scraped.  The blocks outlive the processes: a worker that crashes, is
 * killed or recycled leaves its counts where its successor in the slot goes
 * on counting, so a pool-wide counter never goes down.  Gauges of a slot
 * (cache bytes) are cleared when its worker ends.
 *
 * The counters of the database and Redis clients (core/counters.h: the
 * layers below the pool count without knowing it) are the first words of
 * each block.  Requests are counted by the route pattern of the
 * application's table and refusals by the names of its rate limits
 * (ob_app.router, ob_app.ratelimit_name): the pool knows no route itself.
 *
 * With metrics.listen empty (the default), in --single mode and in the
 * command-line tools nothing is mapped and every hook below returns at its
 * first test. */
#ifndef OPENBOOK_METRICS_H
#define OPENBOOK_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "openbook/core/config.h"
#include "openbook/core/counters.h"

struct ob_request;
struct ob_db;
struct ob_slot;
struct ob_app;

/* ---- master ---- */

/* How a worker ended. */
typedef enum {
    OB_EXIT_CRASH,    /* died of a signal or exited non-zero, unasked */
    OB_EXIT_TIMEOUT,  /* killed: a request ran past server.request_timeout */
    OB_EXIT_RECYCLE,  /* left after server.max_requests */
    OB_EXIT_RETIRED,  /* asked to leave: reload or shutdown */
    OB_EXIT_COUNT
} ob_worker_exit;

/* Maps the shared blocks (one per slot of `slots`, max_slots of them) and
 * opens the endpoint on cfg->metrics_listen; nothing when that is empty.
 * app names the routes and rate limits counted.  A failure is logged and
 * the pool serves without metrics. */
void ob_metrics_pool_start(const ob_config *cfg, const struct ob_app *app, struct ob_slot *slots,
                           size_t max_slots);
/* The descriptor the master waits on (-1: none) and what it calls then
 * (answers scrapes without blocking; harmless at any time). */
int ob_metrics_pool_fd(void);
void ob_metrics_pool_run(void);
void ob_metrics_pool_stop(void);
/* The master started the worker of slot idx / saw it end. */
void ob_metrics_worker_started(size_t idx);
void ob_metrics_worker_exited(size_t idx, ob_worker_exit how);

/* ---- worker ---- */

/* In the worker process, before it serves: its block is slot idx's. */
void ob_metrics_worker_bind(size_t idx);
/* After a request was answered (r->route, r->res.status, r->method). */
void ob_metrics_request(const struct ob_request *r, int64_t elapsed_ns);
/* A request refused by rate limit i (ob_app.ratelimit_name(i)). */
void ob_metrics_ratelimit_refused(size_t i);
/* Between requests and when idle: at most every few seconds, one worker
 * of the pool counts the mail outbox (one query). */
void ob_metrics_tick(struct ob_db *db, const ob_config *cfg);

/* The text the endpoint serves (tests; the endpoint calls it). */
struct ob_buf;
void ob_metrics_pool_render(struct ob_buf *out, void *unused);

#endif
