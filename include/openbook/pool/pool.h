/* pool.h - the process model: a listening socket, the worker loop and the
 * supervising master (`openbook serve`). */
#ifndef OPENBOOK_POOL_H
#define OPENBOOK_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "openbook/core/cache.h"
#include "openbook/core/config.h"
#include "openbook/http/http.h"

/* One slot per worker in memory shared with the master, so the master can
 * see which request has run too long without asking anyone. */
typedef struct ob_slot {
    volatile pid_t pid;
    volatile int64_t request_start_ns; /* 0 while idle */
    volatile uint64_t requests;
} ob_slot;

/* Where the listening socket came from. */
typedef enum { OB_LISTEN_OWN, OB_LISTEN_FD0, OB_LISTEN_SYSTEMD } ob_listen_origin;

/* What the application does in a worker: the pool runs processes, holds
 * the connections (FastCGI, PostgreSQL, Redis) and the response cache,
 * and knows nothing of what a request means (OpenBook's: app.h). */
typedef struct ob_app {
    /* Once per worker process, before its first request; may be NULL. */
    void (*worker_init)(const ob_config *cfg);
    /* Answers one request: r is initialised, with the worker's database
     * connection (reconnected if it had broken; broken if that failed),
     * Redis client and cache.  Whatever transaction it leaves open is
     * rolled back. */
    void (*handle)(ob_request *r);
    /* For the metrics of metrics.listen (pool/metrics.h), both may be NULL.
     * The routing table requests are counted by: handle sets r->route to
     * an entry of router->routes (other requests count as "unmatched").
     * The names of the rate limits, ratelimit_name(i) for i = 0, 1, ...
     * until NULL, whose refusals the application counts with
     * ob_metrics_ratelimit_refused(i). */
    const struct ob_router *router;
    const char *(*ratelimit_name)(size_t i);
} ob_app;

/* Returns a listening fd: systemd's LISTEN_FDS, an inherited listening fd 0
 * (spawn-fcgi, mod_fcgid, systemd StandardInput=socket), or a socket opened
 * from cfg->listen.  Returns -1 with a message on stderr. */
int ob_listen_open(const ob_config *cfg, ob_listen_origin *origin);

/* Serves requests on listen_fd until told to stop or recycled.  slot and
 * gen (the pool's data generation, see cache.h) are NULL in single-process
 * mode, which then has no response cache.  Returns an exit code. */
int ob_worker_run(const ob_config *cfg, const ob_app *app, int listen_fd, ob_slot *slot,
                  ob_generation *gen, bool single);

/* The master: pre-forks cfg->workers workers and supervises them.
 * config_path is re-read on SIGHUP.  Returns an exit code. */
int ob_master_run(ob_config *cfg, const ob_app *app, const char *config_path, char **envp,
                  int listen_fd);

int64_t ob_now_ns(void);
long ob_cpu_count(void);

#endif
