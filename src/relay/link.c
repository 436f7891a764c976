/* link.c - the relay's two Redis connections (hiredis async on libev).
 *
 * `sub` carries SUBSCRIBE/UNSUBSCRIBE and the published messages; `cmd`
 * runs everything else (SET NX for tickets, the replay script, XREVRANGE).
 * They are two because a subscribed connection cannot run commands.  The
 * link is "up" when both are connected, authenticated, `cmd` answered a
 * PING and `sub` holds the control channel.  Losing either drops both and
 * schedules a reconnect: 250 ms, doubling to 10 s (websocket.md §6).
 *
 * `sub` is always subscribed to openbook:control, so its subscription count
 * never falls to zero: hiredis 0.14 leaves subscribed mode at zero, and a
 * SUBSCRIBE reply arriving after that trips an assertion inside it.
 *
 * Published messages are read as soon as they arrive, whatever the state of
 * the browsers: fan-out only queues, it never waits for a socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/core/log.h"
#include "openbook/core/net.h"
#include "relay.h"

/* The libev adapter is a header of static functions written for older
 * compilers; keep our warning set from rejecting it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wcast-align"
#include <adapters/libev.h>
#pragma GCC diagnostic pop

#define BACKOFF_MIN 0.25
#define BACKOFF_MAX 10.0

static struct {
    redisAsyncContext *sub, *cmd;
    bool sub_ready, cmd_ready, up;
    double backoff;
    ev_timer retry;     /* reconnect after a back-off */
    ev_timer watchdog;  /* a connect that takes longer than redis.timeout */
    ev_timer keepalive; /* PING on cmd: notices a Redis that stopped answering */
    bool ping_outstanding;
    bool stopping;
    bool attempt_failed; /* a reconnect failed since the link was last up */
    bool was_up_once;    /* the next time it is up is a reconnect (metrics) */
} L;

static void schedule_retry(void);

static void log_failure(const char *what, const redisAsyncContext *ac)
{
    /* Only the first failure of a series is a warning; retries are debug. */
    if (L.backoff <= BACKOFF_MIN)
        ob_warn("redis %s: %s (%s); reconnecting", R.cfg.redis_address, what,
                ac && ac->errstr ? ac->errstr : "connection lost");
    else
        ob_debug("redis %s: %s (%s)", R.cfg.redis_address, what,
                 ac && ac->errstr ? ac->errstr : "connection lost");
}

/* Drops both connections.  Pending callbacks run (with NULL replies) from
 * inside redisAsyncFree, so the pointers are cleared first: those callbacks
 * must see the link as down. */
static void teardown(void)
{
    bool was_up = L.up;
    redisAsyncContext *s = L.sub, *c = L.cmd;
    L.sub = L.cmd = NULL;
    L.sub_ready = L.cmd_ready = L.up = false;
    L.ping_outstanding = false;
    ev_timer_stop(R.loop, &L.watchdog);
    ev_timer_stop(R.loop, &L.keepalive);
    if (was_up)
        channels_on_link_down();
    if (s)
        redisAsyncFree(s);
    if (c)
        redisAsyncFree(c);
}

static void link_fail(const char *what, const redisAsyncContext *ac)
{
    if (L.stopping)
        return;
    if (!L.up)
        L.attempt_failed = true; /* not a dropped link: Redis is unreachable */
    log_failure(what, ac);
    teardown();
    schedule_retry();
}

static void check_up(void)
{
    if (L.up || !L.sub_ready || !L.cmd_ready)
        return;
    L.up = true;
    if (L.was_up_once)
        R.redis_reconnects++;
    L.was_up_once = true;
    ev_timer_stop(R.loop, &L.watchdog);
    if (L.backoff > BACKOFF_MIN)
        ob_info("redis %s: connected again", R.cfg.redis_address);
    else
        ob_debug("redis %s: connected", R.cfg.redis_address);
    L.backoff = BACKOFF_MIN;
    ev_timer_again(R.loop, &L.keepalive);
    bool outage = L.attempt_failed;
    L.attempt_failed = false;
    channels_on_link_up(outage);
}

/* ---- callbacks ------------------------------------------------------- */

static void on_connect(const redisAsyncContext *ac, int status)
{
    if (status == REDIS_OK)
        return;
    /* hiredis frees the context after this callback without calling the
     * disconnect callback. */
    if (ac == L.sub)
        L.sub = NULL;
    else if (ac == L.cmd)
        L.cmd = NULL;
    else
        return;
    link_fail("cannot connect", ac);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    if (ac == L.sub)
        L.sub = NULL;
    else if (ac == L.cmd)
        L.cmd = NULL;
    else
        return; /* one we already let go of */
    link_fail("disconnected", ac);
}

static bool reply_ok(const redisReply *r)
{
    return r && r->type != REDIS_REPLY_ERROR;
}

static void on_setup_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    const char *what = priv;
    redisReply *r = reply;
    if (!r)
        return; /* being freed */
    if (!reply_ok(r)) {
        ob_error("redis %s: %s refused: %s", R.cfg.redis_address, what, r->str);
        link_fail(what, ac);
    }
}

static void on_ping(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)priv;
    if (!reply || ac != L.cmd)
        return;
    L.ping_outstanding = false;
    if (!reply_ok(reply)) {
        link_fail("PING failed", ac);
        return;
    }
    if (!L.cmd_ready) {
        L.cmd_ready = true;
        check_up();
    }
}

/* Every reply on `sub` comes here: subscribe confirmations and messages. */
static void on_sub(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)priv;
    redisReply *r = reply;
    if (!r || ac != L.sub)
        return;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str;
    const char *name = r->element[1]->str;
    size_t nlen = r->element[1]->len;
    bool control = nlen == strlen(CONTROL_CHANNEL) && memcmp(name, CONTROL_CHANNEL, nlen) == 0;
    size_t pl = strlen(CHANNEL_PREFIX);
    if (strcmp(kind, "message") == 0) {
        if (r->element[2]->type != REDIS_REPLY_STRING)
            return;
        if (control)
            control_on_message(r->element[2]->str, r->element[2]->len);
        else if (nlen > pl && memcmp(name, CHANNEL_PREFIX, pl) == 0)
            channels_on_message(name + pl, nlen - pl, r->element[2]->str, r->element[2]->len);
    } else if (strcmp(kind, "subscribe") == 0) {
        if (control) {
            if (!L.sub_ready) {
                L.sub_ready = true;
                check_up();
            }
        } else if (nlen > pl && memcmp(name, CHANNEL_PREFIX, pl) == 0) {
            channels_on_subscribed(name + pl, nlen - pl);
        }
    } else if (strcmp(kind, "unsubscribe") == 0) {
        if (!control && nlen > pl && memcmp(name, CHANNEL_PREFIX, pl) == 0)
            channels_on_unsubscribed(name + pl, nlen - pl);
    }
}

/* ---- connecting ------------------------------------------------------ */

static redisAsyncContext *open_one(void)
{
    ob_net_addr a;
    const char *why;
    if (ob_net_parse(R.cfg.redis_address, 6379, &a, &why) != 0) {
        ob_error("relay: redis.address \"%s\": %s", R.cfg.redis_address, why);
        return NULL;
    }
    redisAsyncContext *ac = a.is_unix ? redisAsyncConnectUnix(a.path)
                                      : redisAsyncConnect(a.host, a.port);
    if (!ac)
        ob_oom(sizeof(redisAsyncContext));
    if (ac->err) {
        log_failure("cannot connect", ac);
        redisAsyncFree(ac);
        return NULL;
    }
    /* A dead peer on a half-open TCP connection is noticed by keepalive. */
    if (!a.is_unix)
        redisEnableKeepAlive(&ac->c);
    redisLibevAttach(R.loop, ac);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    if (*R.cfg.redis_password) {
        const char *argv[] = {"AUTH", R.cfg.redis_password};
        redisAsyncCommandArgv(ac, on_setup_reply, (void *)"AUTH", 2, argv, NULL);
    }
    return ac;
}

static void connect_now(void)
{
    if (L.stopping || L.sub || L.cmd)
        return;
    L.cmd = open_one();
    if (L.cmd)
        L.sub = open_one();
    if (!L.cmd || !L.sub) {
        L.attempt_failed = true;
        teardown();
        schedule_retry();
        return;
    }
    if (R.cfg.redis_db) {
        char db[24];
        snprintf(db, sizeof db, "%ld", R.cfg.redis_db);
        const char *argv[] = {"SELECT", db};
        redisAsyncCommandArgv(L.cmd, on_setup_reply, (void *)"SELECT", 2, argv, NULL);
    }
    const char *ping[] = {"PING"};
    L.ping_outstanding = true;
    redisAsyncCommandArgv(L.cmd, on_ping, NULL, 1, ping, NULL);
    const char *sub[] = {"SUBSCRIBE", CONTROL_CHANNEL};
    redisAsyncCommandArgv(L.sub, on_sub, NULL, 2, sub, NULL);
    /* hiredis 0.14 has no connect timeout of its own. */
    ev_timer_set(&L.watchdog, (double)R.cfg.redis_timeout / 1000.0 + 0.05, 0.);
    ev_timer_start(R.loop, &L.watchdog);
}

static void schedule_retry(void)
{
    if (L.stopping)
        return;
    double d = L.backoff;
    L.backoff = L.backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : L.backoff * 2;
    ev_timer_stop(R.loop, &L.retry);
    ev_timer_set(&L.retry, d, 0.);
    ev_timer_start(R.loop, &L.retry);
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    connect_now();
}

static void on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    if (!L.up)
        link_fail("no answer within redis.timeout", NULL);
}

static void on_keepalive(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    if (!L.up)
        return;
    if (L.ping_outstanding) {
        /* The previous PING is still unanswered after a whole interval:
         * Redis hangs, or the connection died without a FIN. */
        link_fail("PING unanswered", NULL);
        return;
    }
    const char *ping[] = {"PING"};
    L.ping_outstanding = true;
    redisAsyncCommandArgv(L.cmd, on_ping, NULL, 1, ping, NULL);
}

void link_init(void)
{
    memset(&L, 0, sizeof L);
    L.backoff = BACKOFF_MIN;
    ev_timer_init(&L.retry, on_retry, 0., 0.);
    ev_timer_init(&L.watchdog, on_watchdog, 0., 0.);
    ev_init(&L.keepalive, on_keepalive);
    L.keepalive.repeat = 5.0;
}

void link_start(void)
{
    L.stopping = false;
    connect_now();
}

void link_stop(void)
{
    L.stopping = true;
    teardown();
    ev_timer_stop(R.loop, &L.retry);
}

void link_reconfigure(const ob_config *old)
{
    if (strcmp(old->redis_address, R.cfg.redis_address) == 0 &&
        old->redis_db == R.cfg.redis_db &&
        strcmp(old->redis_password, R.cfg.redis_password) == 0)
        return;
    ob_info("redis settings changed: reconnecting to %s", R.cfg.redis_address);
    teardown();
    L.backoff = BACKOFF_MIN;
    ev_timer_stop(R.loop, &L.retry);
    connect_now();
}

bool link_up(void)
{
    return L.up;
}

int link_command(redisCallbackFn *fn, void *priv, int argc, const char **argv,
                 const size_t *argvlen)
{
    if (!L.up)
        return -1;
    if (redisAsyncCommandArgv(L.cmd, fn, priv, argc, argv, argvlen) != REDIS_OK)
        return -1;
    return 0;
}

static int sub_cmd(const char *verb, const char *name)
{
    if (!L.up)
        return -1;
    char full[OB_WS_CHANNEL_MAX + 16];
    snprintf(full, sizeof full, "%s%s", CHANNEL_PREFIX, name);
    const char *argv[] = {verb, full};
    return redisAsyncCommandArgv(L.sub, on_sub, NULL, 2, argv, NULL) == REDIS_OK ? 0 : -1;
}

int link_subscribe(const char *name)
{
    return sub_cmd("SUBSCRIBE", name);
}

int link_unsubscribe(const char *name)
{
    return sub_cmd("UNSUBSCRIBE", name);
}
