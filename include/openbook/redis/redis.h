/* redis.h - the worker's lazily opened Redis connection.
 *
 * Nothing is connected until the first command.  A failed command drops
 * the connection; the next command reconnects, but at most once per
 * second, so a Redis outage costs each request one failed check instead
 * of a connect timeout.  Callers treat NULL as "Redis unavailable" and
 * degrade (events are best effort; rate limits fall back in process). */
#ifndef OPENBOOK_REDIS_H
#define OPENBOOK_REDIS_H

#include <hiredis.h>

typedef struct ob_redis ob_redis;

/* address: "unix:/path" or "host:port". */
ob_redis *ob_redis_new(const char *address, long db, const char *password, long timeout_ms);
void ob_redis_free(ob_redis *r);

/* Runs a command (argv form, binary-safe).  Returns the reply, which the
 * caller frees with freeReplyObject(), or NULL when Redis is unavailable
 * or answered an error (the error text is logged). */
redisReply *ob_redis_command(ob_redis *r, int argc, const char **argv, const size_t *argvlen);

/* True while a connection is open. */
int ob_redis_connected(const ob_redis *r);

#endif
