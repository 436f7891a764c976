/* worker.c - one worker: take the next request (from a held kept-alive
 * FastCGI connection or a newly accepted one), run the request pipeline,
 * write the response, reset the arena; until told to stop.
 *
 * The listening socket is non-blocking and waited on with poll(), together
 * with the held connections, so a stop signal wakes an idle worker at once;
 * a worker busy with a request finishes it first (graceful stop and
 * reload). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <fcgiapp.h>
#include <sodium.h>
#include "openbook/core/arena.h"
#include "openbook/core/cache.h"
#include "openbook/http/compress.h"
#include "openbook/db/db.h"
#include "openbook/http/http.h"
#include "openbook/core/log.h"
#include "openbook/http/router.h"
#include "openbook/pool/metrics.h"
#include "openbook/pool/pool.h"
#include "openbook/redis/redis.h"

static volatile sig_atomic_t stop_requested;   /* SIGTERM/SIGINT: leave now */
static volatile sig_atomic_t retire_requested; /* SIGHUP from the master: drain */

/* SIGTERM/SIGINT: finish the request in flight, then leave.  A second one
 * while that request still runs (--single under a terminal or a
 * supervisor), or SIGQUIT, leaves at once, as the master does. */
static void on_stop(int sig)
{
    if (sig == SIGQUIT || stop_requested)
        _exit(0);
    stop_requested = 1;
}

static void on_retire(int sig)
{
    (void)sig;
    retire_requested = 1;
}

int64_t ob_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long fcgx_read(void *io, char *dst, size_t n)
{
    FCGX_Request *req = io;
    int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
    return FCGX_GetStr(dst, chunk, req->in);
}

/* The change channel: the migration 0005 triggers announce every committed
 * change to the data on it. */
#define CHANGE_CHANNEL "openbook_change"

/* Moves the pool's generation when the database announced changes: from
 * other workers or hosts, from the CLI or psql, or this worker's own
 * COMMIT (delivered with it, so before this worker answers). */
static void note_changes(ob_db *db, ob_generation *gen, bool read_socket)
{
    if (ob_db_take_changes(db, read_socket) && gen)
        ob_generation_bump(gen);
}

/* Answers above this size go out as FastCGI records of up to 64 KiB
 * written straight to the connection: libfcgi's stream cuts everything into
 * 8 KiB records, one write(2) each, and for an answer of 90 KiB (a page of
 * library groups with their textbook ids) those writes and nginx's reads
 * of them cost more than building it. */
#define DIRECT_BODY_MIN (16 * 1024)
#define RECORD_MAX 65528 /* FastCGI allows 65535; a multiple of 8 needs no padding */

static bool write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                if (poll(&p, 1, 30000) > 0)
                    continue;
            }
            return false;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return true;
}

static void put_body(FCGX_Request *req, const char *data, size_t len)
{
    /* The head first, from libfcgi's buffer, so that the records stay in
     * order; FCGX_Finish_r then ends the stream as usual. */
    if (len < DIRECT_BODY_MIN || req->ipcFd < 0 || FCGX_FFlush(req->out) != 0) {
        FCGX_PutStr(data, (int)len, req->out);
        return;
    }
    while (len > 0) {
        size_t n = len < RECORD_MAX ? len : RECORD_MAX;
        unsigned char h[8] = {1, 6 /* FCGI_STDOUT */, (unsigned char)(req->requestId >> 8),
                              (unsigned char)req->requestId, (unsigned char)(n >> 8),
                              (unsigned char)n, 0, 0};
        struct iovec iov[2] = {{h, sizeof h}, {(void *)data, n}};
        if (!write_all(req->ipcFd, iov, 2))
            return; /* the peer is gone; FCGX_Finish_r notices too */
        data += n;
        len -= n;
    }
}

static void handle(const ob_config *cfg, const ob_app *app, ob_db *db, ob_redis *redis,
                   ob_cache *cache, ob_generation *gen, ob_arena *arena, FCGX_Request *req)
{
    ob_request r;
    memset(&r, 0, sizeof r);
    r.start_ns = ob_now_ns();
    r.db = db;
    r.redis = redis;
    r.cache = cache;
    r.io = req;
    r.read_body = fcgx_read;
    int ok = ob_request_init(&r, arena, cfg, req->envp);
    ob_log_set_request_id(r.request_id); /* every line logged for this request */
    if (ok == 0) {
        /* Reconnects after a database restart; if that fails, handlers
         * see a broken connection and answer 503. */
        ob_db_ensure(db);
        note_changes(db, gen, true);
        app->handle(&r);
        ob_db_rollback(db); /* a handler that failed mid-transaction */
        /* Before answering: read-your-writes.  The request's own COMMIT
         * brought its notification with the answer; no need to read. */
        note_changes(db, gen, false);
    }
    /* After the cache kept its copy (already compressed, then left
     * alone here): errors and uncached answers are compressed too. */
    ob_response_compress(&r);
    ob_buf out;
    ob_buf_init(&out, arena);
    ob_response_head(&r, &out);
    FCGX_PutStr(out.data, (int)out.len, req->out);
    /* The body from where it is: no copy behind the head. */
    if (ob_response_sends_body(&r, r.method == OB_HEAD) && r.res.body.len)
        put_body(req, r.res.body.data, r.res.body.len);
    int64_t elapsed_ns = ob_now_ns() - r.start_ns;
    if (cfg->access_log)
        ob_log_access(&(ob_access_entry){.method = r.method_name, .uri = r.raw_uri,
                                         .route = r.route ? r.route->pattern : NULL,
                                         .status = r.res.status, .bytes = r.res.body.len,
                                         .duration_us = elapsed_ns / 1000,
                                         .cached = r.cache_hit});
    ob_metrics_request(&r, elapsed_ns); /* METRICS HOOK (metrics.h) */
    ob_log_set_request_id(NULL);
}

/* Connections held open at once by one worker (kept alive by nginx);
 * nginx keeps at most `keepalive` idle ones per worker process. */
#define MAX_CONNS 32

int ob_worker_run(const ob_config *cfg, const ob_app *app, int listen_fd, ob_slot *slot,
                  ob_generation *gen, bool single)
{
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a stop signal must interrupt poll() and the read of a
     * kept-alive connection's next request. */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    /* Retiring (reload) is different: closing a kept-alive FastCGI
     * connection while nginx may be sending a request on it makes nginx
     * answer 502 to non-idempotent requests.  So a retiring worker keeps
     * serving its connections until nginx closes them (upstream
     * keepalive_timeout), and only then exits; SA_RESTART keeps the signal
     * from breaking that read. */
    struct sigaction ra = {.sa_handler = on_retire, .sa_flags = SA_RESTART};
    sigemptyset(&ra.sa_mask);
    if (single)
        signal(SIGHUP, SIG_IGN);
    else
        sigaction(SIGHUP, &ra, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (single && cfg->request_timeout > 0)
        signal(SIGALRM, SIG_DFL);

    if (sodium_init() < 0)
        ob_fatal("libsodium failed to initialise");
    if (app->worker_init)
        app->worker_init(cfg);
    if (FCGX_Init() != 0)
        ob_fatal("FCGX_Init failed");
    int fl = fcntl(listen_fd, F_GETFL);
    fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK);

    /* Kept-alive FastCGI connections (fastcgi_keep_conn) are held open
     * between requests, several per worker: while one of them is idle the
     * worker still serves the others and accepts new ones.  A worker that
     * held only one connection and waited on it would be pinned to it while
     * nginx keeps it idle in its upstream cache, and the requests nginx
     * sends on new connections would queue in the listen backlog behind
     * fewer workers: that was the tail latency (p99 10x the median) under
     * load. */
    FCGX_Request conns[MAX_CONNS];
    for (size_t i = 0; i < MAX_CONNS; i++)
        FCGX_InitRequest(&conns[i], listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
    ob_db *db = ob_db_new(cfg->database_url, cfg->database_connect_timeout,
                          cfg->database_statement_timeout);
    ob_redis *redis = ob_redis_new(cfg->redis_address, cfg->redis_db, cfg->redis_password,
                                   cfg->redis_timeout);
    ob_arena arena;
    ob_arena_init(&arena, 64 * 1024);
    /* The response cache needs the generation shared by the whole pool:
     * without it (--single, where other processes of the same pool may
     * write) an entry could outlive a change made elsewhere. */
    ob_cache *cache = NULL;
    if (gen && cfg->cache_enabled && cfg->cache_max_bytes > 0 && cfg->cache_max_age_ms > 0)
        cache = ob_cache_new((size_t)cfg->cache_max_bytes, cfg->cache_max_age_ms, gen);
    ob_db_listen(db, CHANGE_CHANNEL);

    uint64_t limit = 0;
    if (!single && cfg->max_requests > 0)
        limit = (uint64_t)cfg->max_requests +
                (cfg->max_requests_jitter > 0
                     ? randombytes_uniform((uint32_t)cfg->max_requests_jitter + 1)
                     : 0);
    uint64_t served = 0;
    int64_t retire_deadline = 0;
    size_t next = 0; /* round robin over the ready descriptors */
    while (!stop_requested) {
        bool retiring = retire_requested || (limit && served >= limit);
        if (retiring && !retire_deadline)
            retire_deadline = ob_now_ns() + (cfg->graceful_timeout + 1) * 1000000000LL;
        struct pollfd pfd[MAX_CONNS + 1];
        size_t who[MAX_CONNS + 1]; /* conns index, MAX_CONNS = the listening socket */
        size_t n = 0, free_slot = MAX_CONNS;
        for (size_t i = 0; i < MAX_CONNS; i++) {
            if (conns[i].ipcFd < 0) {
                if (free_slot == MAX_CONNS)
                    free_slot = i;
                continue;
            }
            pfd[n] = (struct pollfd){.fd = conns[i].ipcFd, .events = POLLIN};
            who[n++] = i;
        }
        if (retiring && n == 0)
            break; /* no connection held: nothing to drain */
        if (retiring && ob_now_ns() > retire_deadline)
            break; /* connections busy for longer than graceful_timeout */
        /* A retiring worker takes no new connection; it serves the ones it
         * holds until nginx closes them (see the signal handlers above). */
        if (!retiring && free_slot < MAX_CONNS) {
            pfd[n] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
            who[n++] = MAX_CONNS;
        }
        int pr = poll(pfd, (nfds_t)n, 1000);
        /* Idle: read the announcements anyway, so they do not pile up in
         * the connection while no request comes. */
        if (pr == 0) {
            note_changes(db, gen, true);
            ob_metrics_tick(db, cfg); /* METRICS HOOK: the mail outbox, now and then */
        }
        /* A reload that arrived meanwhile: look again without the listening
         * socket. */
        if (pr <= 0 || stop_requested || (retire_requested && !retiring))
            continue;
        if (!single && getppid() == 1)
            break; /* the master is gone: do not linger as an orphan */
        /* One request per turn, the ready descriptors in turn, so neither
         * the held connections nor the backlog wait behind the other. */
        size_t pick = n;
        for (size_t k = 0; k < n && pick == n; k++) {
            size_t j = (next + k) % n;
            if (pfd[j].revents)
                pick = j;
        }
        if (pick == n)
            continue;
        next = pick + 1;
        FCGX_Request *req = &conns[who[pick] < MAX_CONNS ? who[pick] : free_slot];
        /* On a held connection this reads its next request; when nginx has
         * closed it, libfcgi closes it too and tries the (non-blocking)
         * listening socket instead. */
        if (FCGX_Accept_r(req) < 0)
            continue; /* another worker took it, or the peer went away */
        if (slot)
            slot->request_start_ns = ob_now_ns();
        if (single && cfg->request_timeout > 0)
            alarm((unsigned)cfg->request_timeout);
        handle(cfg, app, db, redis, cache, gen, &arena, req);
        FCGX_Finish_r(req);
        ob_metrics_tick(db, cfg); /* METRICS HOOK: after the answer went out */
        if (single)
            alarm(0);
        ob_arena_reset(&arena);
        served++;
        if (slot) {
            slot->requests = served;
            slot->request_start_ns = 0;
        }
    }
    for (size_t i = 0; i < MAX_CONNS; i++)
        FCGX_Free(&conns[i], 1);
    ob_arena_destroy(&arena);
    ob_cache_free(cache);
    ob_db_free(db);
    ob_redis_free(redis);
    if (limit && served >= limit)
        ob_debug("worker: recycled after %llu requests", (unsigned long long)served);
    return 0;
}
