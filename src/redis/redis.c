/* redis.c - the worker's Redis connection (see redis.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "openbook/core/alloc.h"
#include "openbook/core/counters.h"
#include "openbook/core/log.h"
#include "openbook/core/net.h"
#include "openbook/redis/redis.h"

struct ob_redis {
    char *address;
    long db;
    char *password;
    long timeout_ms;
    redisContext *ctx;
    time_t last_attempt;
    bool connected_once;  /* the next connection is a reconnect (metrics) */
};

ob_redis *ob_redis_new(const char *address, long db, const char *password, long timeout_ms)
{
    ob_redis *r = ob_calloc(1, sizeof *r);
    r->address = ob_strdup(address);
    r->db = db;
    r->password = ob_strdup(password ? password : "");
    r->timeout_ms = timeout_ms;
    return r;
}

static void drop(ob_redis *r)
{
    if (r->ctx)
        redisFree(r->ctx);
    r->ctx = NULL;
}

void ob_redis_free(ob_redis *r)
{
    if (!r)
        return;
    drop(r);
    ob_free(r->address);
    ob_free(r->password);
    ob_free(r);
}

int ob_redis_connected(const ob_redis *r)
{
    return r->ctx != NULL;
}

static int simple_ok(redisContext *c, int argc, const char **argv)
{
    redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
    int ok = rep && rep->type != REDIS_REPLY_ERROR;
    if (rep && !ok)
        ob_warn("redis: %s: %s", argv[0], rep->str);
    if (rep)
        freeReplyObject(rep);
    return ok;
}

static int connect_now(ob_redis *r)
{
    time_t now = time(NULL);
    if (r->last_attempt == now)
        return -1; /* one attempt per second while Redis is down */
    r->last_attempt = now;
    struct timeval tv = {.tv_sec = r->timeout_ms / 1000, .tv_usec = (r->timeout_ms % 1000) * 1000};
    ob_net_addr a;
    const char *why;
    if (ob_net_parse(r->address, 6379, &a, &why) != 0) {
        ob_warn("redis: redis.address \"%s\": %s", r->address, why);
        return -1;
    }
    redisContext *c = a.is_unix ? redisConnectUnixWithTimeout(a.path, tv)
                                : redisConnectWithTimeout(a.host, a.port, tv);
    if (!c)
        ob_oom(sizeof(redisContext));
    if (c->err) {
        ob_warn("redis: cannot connect to %s: %s", r->address, c->errstr);
        ob_metric_inc(OB_MC_REDIS_CONNECT_ERRORS);
        redisFree(c);
        return -1;
    }
    redisSetTimeout(c, tv);
    if (*r->password) {
        const char *auth[] = {"AUTH", r->password};
        if (!simple_ok(c, 2, auth)) {
            ob_metric_inc(OB_MC_REDIS_CONNECT_ERRORS);
            redisFree(c);
            return -1;
        }
    }
    if (r->db) {
        char db[16];
        snprintf(db, sizeof db, "%ld", r->db);
        const char *sel[] = {"SELECT", db};
        if (!simple_ok(c, 2, sel)) {
            ob_metric_inc(OB_MC_REDIS_CONNECT_ERRORS);
            redisFree(c);
            return -1;
        }
    }
    r->ctx = c;
    if (r->connected_once)
        ob_metric_inc(OB_MC_REDIS_RECONNECTS);
    r->connected_once = true;
    return 0;
}

redisReply *ob_redis_command(ob_redis *r, int argc, const char **argv, const size_t *argvlen)
{
    if (!r->ctx && connect_now(r) != 0)
        return NULL;
    redisReply *rep = redisCommandArgv(r->ctx, argc, argv, argvlen);
    if (!rep) {
        /* I/O error: the connection is unusable; reconnect next time. */
        ob_warn("redis: %s failed: %s", argv[0], r->ctx->errstr);
        ob_metric_inc(OB_MC_REDIS_IO_ERRORS);
        drop(r);
        r->last_attempt = 0;
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        ob_warn("redis: %s: %s", argv[0], rep->str);
        ob_metric_inc(OB_MC_REDIS_REPLY_ERRORS);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}
