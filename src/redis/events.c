/* events.c - publishing events after COMMIT (see events.h). */
#include <stdio.h>
#include <string.h>
#include "openbook/core/buf.h"
#include "openbook/redis/events.h"
#include "openbook/core/json.h"
#include "openbook/core/log.h"
#include "openbook/redis/redis.h"
#include "openbook/core/ticket.h"

/* KEYS: stream1, pubsub1, stream2, pubsub2, ...
 * ARGV: data1, channel1 as a JSON string, data2, channel2, ...
 * Per event (websocket.md §6): XADD to the capped stream, refresh its
 * expiry, PUBLISH {"channel","id",<the rest of data>} with the stream id.
 * Scripts run atomically, so a subscriber can never see an event whose
 * stream entry does not exist yet. */
const char ob_events_script[] =
    "local ids = {}\n"
    "for i = 1, #KEYS, 2 do\n"
    "  local data = ARGV[i]\n"
    "  local id = redis.call('XADD', KEYS[i], 'MAXLEN', '~', "
    OB_EVENT_STR(OB_EVENT_STREAM_MAXLEN) ", '*', 'data', data)\n"
    "  redis.call('EXPIRE', KEYS[i], 604800)\n"
    "  redis.call('PUBLISH', KEYS[i + 1], '{\"channel\":' .. ARGV[i + 1] .. ',\"id\":\"' .. id "
    ".. '\",' .. string.sub(data, 2))\n"
    "  ids[#ids + 1] = id\n"
    "end\n"
    "return ids\n";

/* Events per script call: bounds the argument vector. */
#define BATCH 64

void ob_events_init(ob_events *ev, ob_arena *arena)
{
    ev->arena = arena;
    ev->head = ev->tail = NULL;
    ev->count = 0;
}

void ob_events_add(ob_events *ev, const char *channel, const char *type, int version,
                   const char *payload_json)
{
    if (!ob_ws_channel_valid(channel, strlen(channel))) {
        ob_error("events: invalid channel \"%s\" for %s; event dropped", channel, type);
        return;
    }
    ob_buf b;
    ob_buf_init(&b, ev->arena);
    ob_json j;
    ob_json_init(&j, &b);
    ob_json_object_begin(&j);
    ob_json_kv_string(&j, "type", type);
    ob_json_kv_int(&j, "version", version);
    ob_json_key(&j, "payload");
    ob_json_raw(&j, payload_json, strlen(payload_json));
    ob_json_object_end(&j);
    /* The relay adds "channel" and "id" (< 128 bytes) to what is stored. */
    if (b.len + 128 > OB_EVENT_MAX_BYTES) {
        ob_error("events: %s on %s is %zu bytes, over the limit; event dropped", type, channel,
                 b.len);
        return;
    }
    ob_event *e = ob_arena_calloc(ev->arena, 1, sizeof *e);
    e->channel = ob_arena_strdup(ev->arena, channel);
    e->data = b.data;
    e->data_len = b.len;
    if (ev->tail)
        ev->tail->next = e;
    else
        ev->head = e;
    ev->tail = e;
    ev->count++;
}

void ob_events_discard(ob_events *ev)
{
    ev->head = ev->tail = NULL;
    ev->count = 0;
}

static int publish_batch(ob_redis *redis, ob_arena *a, ob_event *first, size_t n)
{
    size_t argc = 3 + 4 * n;
    const char **argv = ob_arena_calloc(a, argc, sizeof *argv);
    size_t *lens = ob_arena_calloc(a, argc, sizeof *lens);
    char *numkeys = ob_arena_printf(a, "%zu", 2 * n);
    argv[0] = "EVAL";
    argv[1] = ob_events_script;
    argv[2] = numkeys;
    size_t k = 3, v = 3 + 2 * n;
    ob_event *e = first;
    for (size_t i = 0; i < n; i++, e = e->next) {
        argv[k++] = ob_arena_printf(a, OB_EVENT_STREAM_PREFIX "%s", e->channel);
        argv[k++] = ob_arena_printf(a, "openbook:%s", e->channel);
        argv[v++] = e->data;
        ob_buf cj;
        ob_buf_init(&cj, a);
        ob_json_escape(&cj, e->channel, strlen(e->channel));
        argv[v++] = cj.data;
    }
    for (size_t i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    e = first;
    for (size_t i = 0; i < n; i++, e = e->next)
        lens[3 + 2 * n + 2 * i] = e->data_len;
    redisReply *rep = ob_redis_command(redis, (int)argc, argv, lens);
    if (!rep)
        return -1;
    freeReplyObject(rep);
    return 0;
}

int ob_events_publish(ob_events *ev, ob_redis *redis)
{
    size_t total = ev->count;
    ob_event *e = ev->head;
    int published = 0;
    ob_events_discard(ev);
    while (e) {
        size_t n = 0;
        ob_event *start = e;
        while (e && n < BATCH) {
            e = e->next;
            n++;
        }
        if (!redis || publish_batch(redis, ev->arena, start, n) != 0) {
            /* ob_redis_command logged why.  The request still succeeds. */
            ob_warn("events: Redis unavailable, %zu event(s) not published (first: %s)",
                    total - (size_t)published, start->channel);
            return -1;
        }
        published += (int)n;
    }
    return published;
}

int ob_events_revoke_user(ob_redis *redis, int64_t user_id)
{
    char msg[64];
    snprintf(msg, sizeof msg, "{\"op\":\"revoke_user\",\"user_id\":%lld}", (long long)user_id);
    const char *argv[] = {"PUBLISH", "openbook:control", msg};
    redisReply *rep = redis ? ob_redis_command(redis, 3, argv, NULL) : NULL;
    if (!rep) {
        ob_warn("events: Redis unavailable, connections of user %lld not revoked",
                (long long)user_id);
        return -1;
    }
    freeReplyObject(rep);
    return 0;
}
