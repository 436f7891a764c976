/* ratelimit.c - fixed-window counters in Redis, with an in-process
 * fallback (see ratelimit.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/core/log.h"
#include "openbook/pool/metrics.h"
#include "openbook/auth/ratelimit.h"
#include "openbook/redis/redis.h"

const ob_rate ob_rate_login_ip = {"login", 30, 60, true};
const ob_rate ob_rate_login_failed_ip = {"login_failed_ip", 10, 60, true};
const ob_rate ob_rate_login_failed_user = {"login_failed_user", 5, 300, false};
const ob_rate ob_rate_signup_ip = {"signup", 20, 60, true};
const ob_rate ob_rate_reset_ip = {"reset_password_ip", 20, 60, true};
const ob_rate ob_rate_reset_email = {"reset_password_email", 5, 60, false};
const ob_rate ob_rate_reset_key_ip = {"reset_password_from_key", 20, 60, true};
const ob_rate ob_rate_code_ip = {"request_login_code_ip", 20, 60, true};
const ob_rate ob_rate_code_email = {"request_login_code_email", 3, 60, false};
const ob_rate ob_rate_change_password = {"change_password", 5, 60, false};
const ob_rate ob_rate_manage_email = {"manage_email", 10, 60, false};
const ob_rate ob_rate_reauthenticate = {"reauthenticate", 10, 60, false};
/* Every limit above, in the order of the metrics' labels. */
static const ob_rate *const rates[] = {
    &ob_rate_login_ip,        &ob_rate_login_failed_ip, &ob_rate_login_failed_user,
    &ob_rate_signup_ip,       &ob_rate_reset_ip,        &ob_rate_reset_email,
    &ob_rate_reset_key_ip,    &ob_rate_code_ip,         &ob_rate_code_email,
    &ob_rate_change_password, &ob_rate_manage_email,    &ob_rate_reauthenticate,
};
#define NRATES (sizeof rates / sizeof rates[0])

const char *ob_ratelimit_name(size_t i)
{
    return i < NRATES ? rates[i]->action : NULL;
}

/* One round trip, atomic: the first hit of a window sets its expiry, so a
 * counter can never be left without one. */
static const char hit_script[] =
    "local c = redis.call('INCR', KEYS[1]) "
    "local t = redis.call('TTL', KEYS[1]) "
    "if t < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) t = tonumber(ARGV[1]) end "
    "return {c, t}";
/* Gives one back, never below 0 and never creating a counter (a DECR of
 * a key that expired meanwhile would leave one without expiry). */
static const char undo_script[] =
    "local c = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if c > 0 then c = redis.call('DECR', KEYS[1]) end "
    "return {c, redis.call('TTL', KEYS[1])}";

const char *ob_ratelimit_client(const ob_request *r)
{
    return r->remote_addr && *r->remote_addr ? r->remote_addr : "-";
}

/* Keys are hashed: usernames and addresses are user input of any length
 * and must not show up in Redis in clear. */
static void redis_key(const ob_rate *rate, const char *key, char out[128])
{
    char h[65];
    ob_sha256_hex(key, strlen(key), h);
    snprintf(out, 128, "openbook:rl:%s:%.32s", rate->action, h);
}

/* Runs a script; returns 0 with count and ttl, or -1 if Redis is down. */
static int redis_count(ob_request *r, const char *script, const ob_rate *rate, const char *key,
                       long *count, long *ttl)
{
    if (!r->redis)
        return -1;
    char k[128], win[24];
    redis_key(rate, key, k);
    snprintf(win, sizeof win, "%ld", rate->window);
    const char *argv[] = {"EVAL", script, "1", k, win};
    redisReply *rep = ob_redis_command(r->redis, 5, argv, NULL);
    if (!rep)
        return -1;
    int rc = -1;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_INTEGER && rep->element[1]->type == REDIS_REPLY_INTEGER) {
        *count = (long)rep->element[0]->integer;
        *ttl = (long)rep->element[1]->integer;
        rc = 0;
    }
    freeReplyObject(rep);
    return rc;
}

/* ---- in-process fallback ---- */

#define LOCAL_SLOTS 1024 /* power of two */
#define LOCAL_PROBE 8

static struct local_slot {
    uint64_t hash;
    long count;
    int64_t window_end; /* monotonic seconds; 0 = free */
} local[LOCAL_SLOTS];

void ob_ratelimit_reset_local(void)
{
    memset(local, 0, sizeof local);
}

static int64_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec + 1; /* never 0, which marks a free slot */
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ^ 0xff;
}

static uint64_t slot_hash(const ob_rate *rate, const char *key)
{
    return fnv(fnv(1469598103934665603ULL, rate->action), key);
}

/* The live slot for (action, key), or NULL. */
static struct local_slot *local_find(uint64_t h, int64_t now)
{
    for (unsigned i = 0; i < LOCAL_PROBE; i++) {
        struct local_slot *s = &local[(h + i) & (LOCAL_SLOTS - 1)];
        if (s->window_end > now && s->hash == h)
            return s;
    }
    return NULL;
}

/* The slot for (action, key): the live one, else a free or expired one,
 * else the one whose window ends first (evicting it). */
static struct local_slot *local_slot(const ob_rate *rate, const char *key, int64_t now)
{
    uint64_t h = slot_hash(rate, key);
    struct local_slot *s = local_find(h, now);
    if (s)
        return s;
    struct local_slot *victim = NULL;
    for (unsigned i = 0; i < LOCAL_PROBE; i++) {
        s = &local[(h + i) & (LOCAL_SLOTS - 1)];
        if (!victim || s->window_end < victim->window_end)
            victim = s;
    }
    victim->hash = h;
    victim->count = 0;
    victim->window_end = now + rate->window;
    return victim;
}

/* A limit per client address is raised by auth.ip_limit_factor: many
 * people may share one address (a school behind NAT). */
static long limit_of(const ob_request *r, const ob_rate *rate)
{
    long f = rate->per_ip && r->cfg && r->cfg->auth_ip_limit_factor > 1 ? r->cfg->auth_ip_limit_factor : 1;
    return rate->limit * f;
}

/* Conservative: the workers count separately, so each gets its share. */
static long local_limit(const ob_request *r, const ob_rate *rate)
{
    long workers = r->cfg && r->cfg->workers > 0 ? r->cfg->workers : 1;
    long l = limit_of(r, rate) / workers;
    return l < 1 ? 1 : l;
}

static long local_count(ob_request *r, const ob_rate *rate, const char *key)
{
    int64_t now = now_s();
    struct local_slot *s = local_slot(rate, key, now);
    long left = (long)(s->window_end - now);
    return ++s->count > local_limit(r, rate) ? (left < 1 ? 1 : left) : 0;
}

static long refused(const ob_rate *rate, long wait)
{
    if (wait)
        for (size_t i = 0; i < NRATES; i++)
            if (rates[i] == rate)
                ob_metrics_ratelimit_refused(i);
    return wait;
}

long ob_ratelimit_hit(ob_request *r, const ob_rate *rate, const char *key)
{
    long count, ttl;
    key = key ? key : "";
    if (redis_count(r, hit_script, rate, key, &count, &ttl) != 0)
        return refused(rate, local_count(r, rate, key));
    if (count <= limit_of(r, rate))
        return 0;
    return refused(rate, ttl < 1 ? 1 : ttl);
}

void ob_ratelimit_undo(ob_request *r, const ob_rate *rate, const char *key)
{
    long count, ttl;
    key = key ? key : "";
    if (redis_count(r, undo_script, rate, key, &count, &ttl) == 0)
        return;
    struct local_slot *s = local_find(slot_hash(rate, key), now_s());
    if (s && s->count > 0)
        s->count--;
}
