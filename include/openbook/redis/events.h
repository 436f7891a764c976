/* events.h - the app side of live events (websocket.md §6, §9).
 *
 * A request that changes data collects its events while it works and
 * publishes them only after its COMMIT succeeded; a rolled-back change
 * publishes nothing:
 *
 *     ob_events ev;
 *     ob_events_init(&ev, r->arena);
 *     ... ob_events_add(&ev, "course:<uuid>", "course.updated", 1, payload_json) ...
 *     if (ob_db_commit(r->db) == 0)
 *         ob_events_publish(&ev, r->redis);
 *     else
 *         ob_events_discard(&ev);
 *
 * Publishing appends each event to the capped stream openbook:stream:<ch>
 * and PUBLISHes it on openbook:<ch>, atomically per event (one Lua script
 * for the whole batch, one round trip).  A Redis outage is logged and
 * never fails the request: the lost events surface as "recovered": false
 * when a client resumes.
 *
 * Lives in src/redis/ (not src/core/) because it talks to Redis. */
#ifndef OPENBOOK_EVENTS_H
#define OPENBOOK_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include "openbook/core/arena.h"

struct ob_redis;

/* Each channel's stream: the key prefix and the length it is capped at
 * (websocket.md §6: XADD ... MAXLEN ~ 1000).  `openbook cleanup` trims
 * what the approximate cap left over to exactly this. */
#define OB_EVENT_STREAM_PREFIX "openbook:stream:"
#define OB_EVENT_STREAM_MAXLEN 1000
#define OB_EVENT_STR_(x) #x
#define OB_EVENT_STR(x) OB_EVENT_STR_(x)

/* Events larger than this are never published (websocket.md §7). */
#define OB_EVENT_MAX_BYTES 8192

typedef struct ob_event {
    struct ob_event *next;
    const char *channel;  /* "course:<uuid>", "user:<id>", ... */
    const char *data;     /* {"type":..,"version":..,"payload":..} */
    size_t data_len;
} ob_event;

typedef struct ob_events {
    ob_arena *arena;      /* the request's: the list dies with it */
    ob_event *head, *tail;
    size_t count;
} ob_events;

void ob_events_init(ob_events *ev, ob_arena *arena);

/* Queues one event.  payload_json is a JSON object (ids only, as in the
 * catalogue of websocket.md §9).  An invalid channel name or an event over
 * OB_EVENT_MAX_BYTES is a programming error: logged and dropped. */
void ob_events_add(ob_events *ev, const char *channel, const char *type, int version,
                   const char *payload_json);

/* After COMMIT: publishes every queued event in order and empties the
 * list.  Returns the number published, or -1 when Redis was unavailable
 * (already logged; the caller answers the request normally). */
int ob_events_publish(ob_events *ev, struct ob_redis *redis);

/* After ROLLBACK: forgets the queued events. */
void ob_events_discard(ob_events *ev);

/* Closes every relay connection of the user (close code 4401): on logout
 * of the last session, password change or reset, deactivation or deletion,
 * and removal of a role assignment.  PUBLISH on openbook:control.  Returns
 * 0, or -1 when Redis was unavailable (logged; the connections then end at
 * the latest with their ticket's max_lifetime). */
int ob_events_revoke_user(struct ob_redis *redis, int64_t user_id);

/* The publish script (exposed for tests that check it against Redis). */
extern const char ob_events_script[];

#endif
