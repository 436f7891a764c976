/* proto.c - the client side of websocket.md §5: actions in, answers out.
 *
 * Every client message is a text frame holding {"action", "payload"}.
 * Errors are answered with {"action":"error"} and do not close the
 * connection, unless a client makes more than 20 of them within 60 s
 * (close 1008).  "subscribed" answers wait until Redis confirmed the
 * subscriptions, so a client that acts on it (e.g. changes something
 * through REST) cannot miss the resulting event. */
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/core/alloc.h"
#include "openbook/core/json.h"
#include "openbook/core/log.h"
#include "relay.h"

#define ERROR_LIMIT 20
#define ERROR_WINDOW 60

struct pending_reply {
    pending_reply *next;
    uint32_t n;
    channel *chs[]; /* pinned */
};

/* ---- output helpers -------------------------------------------------- */

static void begin(ob_buf *b, ob_json *j, const char *action)
{
    ob_buf_init(b, NULL);
    ob_json_init(j, b);
    ob_json_object_begin(j);
    ob_json_kv_string(j, "action", action);
    ob_json_key(j, "payload");
}

static void finish(conn *c, ob_buf *b, ob_json *j)
{
    ob_json_object_end(j);
    conn_send_json(c, b);
    ob_buf_free(b);
}

static void send_channels(conn *c, const char *action, channel *const *chs, const char *const *names,
                          size_t n)
{
    ob_buf b;
    ob_json j;
    begin(&b, &j, action);
    ob_json_object_begin(&j);
    ob_json_key(&j, "channels");
    ob_json_array_begin(&j);
    for (size_t i = 0; i < n; i++)
        ob_json_string(&j, chs ? chs[i]->name : names[i]);
    ob_json_array_end(&j);
    ob_json_object_end(&j);
    finish(c, &b, &j);
}

void proto_count_error(conn *c)
{
    uint32_t now = now_s();
    if (now - c->t_errwin >= ERROR_WINDOW) {
        c->t_errwin = now;
        c->errors = 0;
    }
    if (++c->errors > ERROR_LIMIT)
        conn_close(c, WS_POLICY);
}

void proto_send_error(conn *c, const char *detail)
{
    if (!conn_is_open(c))
        return;
    ob_buf b;
    ob_json j;
    begin(&b, &j, "error");
    ob_json_object_begin(&j);
    ob_json_kv_string(&j, "detail", detail);
    ob_json_object_end(&j);
    finish(c, &b, &j);
    proto_count_error(c);
}

static void send_errorf(conn *c, const char *fmt, const char *arg)
{
    ob_buf m;
    ob_buf_init(&m, NULL);
    ob_buf_printf(&m, fmt, arg);
    proto_send_error(c, ob_buf_cstr(&m));
    ob_buf_free(&m);
}

void proto_send_resumed(conn *c, const char *channel_name, bool recovered)
{
    if (!conn_is_open(c))
        return;
    ob_buf b;
    ob_json j;
    begin(&b, &j, "resumed");
    ob_json_object_begin(&j);
    ob_json_kv_string(&j, "channel", channel_name);
    ob_json_key(&j, "recovered");
    ob_json_bool(&j, recovered);
    ob_json_object_end(&j);
    finish(c, &b, &j);
}

static void send_simple(conn *c, const char *action)
{
    ob_buf b;
    ob_json j;
    begin(&b, &j, action);
    ob_json_null(&j);
    finish(c, &b, &j);
}

/* ---- deferred "subscribed" answers ----------------------------------- */

static bool holds(const conn *c, const channel *ch)
{
    for (uint16_t i = 0; i < c->nsubs; i++)
        if (c->subs[i].ch == ch)
            return true;
    return false;
}

static void reply_free(pending_reply *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        channel_unpin(r->chs[i]);
    ob_free(r);
}

void proto_flush_replies(conn *c)
{
    while (c->replies && conn_is_open(c)) {
        pending_reply *r = c->replies;
        for (uint32_t i = 0; i < r->n; i++)
            if (!channel_live(r->chs[i]) && holds(c, r->chs[i]))
                return; /* answers go out in order */
        /* Off the list first: sending may close the connection, which
         * drops the list. */
        c->replies = r->next;
        send_channels(c, "subscribed", r->chs, NULL, r->n);
        reply_free(r);
    }
}

void proto_drop_replies(conn *c)
{
    while (c->replies) {
        pending_reply *r = c->replies;
        c->replies = r->next;
        reply_free(r);
    }
}

/* Joins the channels and queues the "subscribed" answer for the new ones. */
static void join_and_answer(conn *c, char *const *names, size_t n)
{
    pending_reply *r = ob_malloc(sizeof *r + n * sizeof r->chs[0]);
    r->next = NULL;
    r->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (!channel_join(c, names[i]))
            continue;
        channel *ch = channel_find(names[i]);
        channel_pin(ch);
        r->chs[r->n++] = ch;
    }
    pending_reply **pp = &c->replies;
    while (*pp)
        pp = &(*pp)->next;
    *pp = r;
    proto_flush_replies(c);
}

void proto_on_open(conn *c, const char *const *channels, size_t n)
{
    join_and_answer(c, (char *const *)channels, n);
}

/* ---- actions --------------------------------------------------------- */

static size_t new_channels(const conn *c, char *const *names, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (uint16_t s = 0; s < c->nsubs && !dup; s++)
            dup = strcmp(c->subs[s].ch->name, names[i]) == 0;
        for (size_t p = 0; p < i && !dup; p++)
            dup = strcmp(names[p], names[i]) == 0;
        if (!dup)
            k++;
    }
    return k;
}

static void on_subscribe_claim(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    authorizing *a = priv;
    conn *c = a->c;
    if (c && conn_is_open(c)) {
        int res = jti_result(reply);
        if (res < 0)
            proto_send_error(c, "Service temporarily unavailable.");
        else if (res == 0)
            proto_send_error(c, "Invalid or expired ticket.");
        else if (c->nsubs + new_channels(c, a->channels, a->n) > (size_t)R.cfg.relay_max_channels)
            proto_send_error(c, "Too many channels.");
        else
            join_and_answer(c, a->channels, a->n);
    }
    auth_free(a);
}

static void act_subscribe(conn *c, const cJSON *payload)
{
    const cJSON *tk = cJSON_IsObject(payload) ? cJSON_GetObjectItemCaseSensitive(payload, "ticket")
                                              : NULL;
    if (!cJSON_IsString(tk)) {
        proto_send_error(c, "Invalid payload for subscribe");
        return;
    }
    ob_ticket t;
    ob_ticket_status st = ob_ticket_verify(&R.keys, tk->valuestring, strlen(tk->valuestring),
                                           (int64_t)ev_now(R.loop),
                                           (size_t)R.cfg.relay_max_channels, &R.scratch, &t);
    int64_t uid = t.anonymous ? 0 : t.uid;
    if (st != OB_TICKET_OK || uid != conn_uid(c)) {
        /* A ticket of another user is as good as none. */
        proto_send_error(c, "Invalid or expired ticket.");
        ob_arena_reset(&R.scratch);
        return;
    }
    if (c->nsubs + new_channels(c, (char *const *)t.channels, t.nchannels) >
        (size_t)R.cfg.relay_max_channels) {
        proto_send_error(c, "Too many channels.");
        ob_arena_reset(&R.scratch);
        return;
    }
    authorizing *a = auth_new(c, &t);
    if (jti_claim(t.jti, on_subscribe_claim, a) != 0) {
        auth_free(a);
        proto_send_error(c, "Service temporarily unavailable.");
    }
    ob_arena_reset(&R.scratch);
}

static void act_unsubscribe(conn *c, const cJSON *payload)
{
    const cJSON *list = cJSON_IsObject(payload)
                            ? cJSON_GetObjectItemCaseSensitive(payload, "channels")
                            : NULL;
    if (!cJSON_IsArray(list)) {
        proto_send_error(c, "Invalid payload for unsubscribe");
        return;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (!cJSON_IsString(it)) {
            proto_send_error(c, "Invalid payload for unsubscribe");
            return;
        }
    }
    size_t n = (size_t)cJSON_GetArraySize(list);
    const char **removed = ob_calloc(n ? n : 1, sizeof *removed);
    size_t k = 0;
    cJSON_ArrayForEach(it, list)
    {
        for (uint16_t s = 0; s < c->nsubs; s++) {
            if (strcmp(c->subs[s].ch->name, it->valuestring) == 0) {
                channel_leave(c, s);
                removed[k++] = it->valuestring;
                break;
            }
        }
    }
    send_channels(c, "unsubscribed", NULL, removed, k);
    ob_free(removed);
}

static void act_resume(conn *c, const cJSON *payload)
{
    const cJSON *ch = cJSON_IsObject(payload) ? cJSON_GetObjectItemCaseSensitive(payload, "channel")
                                              : NULL;
    const cJSON *id = cJSON_IsObject(payload)
                          ? cJSON_GetObjectItemCaseSensitive(payload, "last_event_id")
                          : NULL;
    if (!cJSON_IsString(ch) || !cJSON_IsString(id)) {
        proto_send_error(c, "Invalid payload for resume");
        return;
    }
    int slot = -1;
    for (uint16_t s = 0; s < c->nsubs; s++)
        if (strcmp(c->subs[s].ch->name, ch->valuestring) == 0)
            slot = s;
    if (slot < 0) {
        send_errorf(c, "Not subscribed: %s", ch->valuestring);
        return;
    }
    ob_event_id from;
    if (!ob_event_id_parse(id->valuestring, strlen(id->valuestring), &from)) {
        proto_send_error(c, "Invalid event id.");
        return;
    }
    channel_resume(c, (uint32_t)slot, from);
}

void proto_on_text(conn *c, const char *msg, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(msg, len);
    const cJSON *action = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "action")
                                               : NULL;
    if (!cJSON_IsString(action)) {
        proto_send_error(c, "Failed to process message");
        cJSON_Delete(root);
        return;
    }
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
    const char *a = action->valuestring;
    if (strcmp(a, "ping") == 0) {
        if (payload && !cJSON_IsNull(payload))
            proto_send_error(c, "Invalid payload for ping");
        else
            send_simple(c, "pong");
    } else if (strcmp(a, "subscribe") == 0) {
        act_subscribe(c, payload);
    } else if (strcmp(a, "unsubscribe") == 0) {
        act_unsubscribe(c, payload);
    } else if (strcmp(a, "resume") == 0) {
        act_resume(c, payload);
    } else {
        send_errorf(c, "Failed to process message for %s", a);
    }
    cJSON_Delete(root);
}
