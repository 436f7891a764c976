/* channels.c - channels, fan-out, resume and recovery (websocket.md §6).
 *
 * A channel exists while a connection holds it or a request refers to it
 * (pins).  It is subscribed in Redis once, however many connections hold
 * it; the subscriber array is walked for each event, and each event frame
 * is built once and shared.
 *
 * Replays.  A resume (one connection) and a recovery after a Redis outage
 * (every subscriber of a channel) are the same job: buffer the channel's
 * live events, read the stream after the last known id, send those
 * entries, then the buffered live events with larger ids.  Buffering
 * starts before the stream is read and the channel must already be
 * subscribed, so an event is either in the stream answer or arrives live
 * afterwards: no gap; duplicates are dropped by id.  One Lua script reads
 * the stream's first entry and the entries after the id atomically, so
 * "trimmed since" cannot change between the two reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/core/alloc.h"
#include "openbook/core/json.h"
#include "openbook/core/log.h"
#include "relay.h"

#define REPLAY_MAX 1000

/* KEYS[1] stream, ARGV[1] start ("-" or "(<id>"), ARGV[2] count. */
static const char replay_script[] =
    "local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)\n"
    "local rest = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])\n"
    "return {first, rest}\n";

struct buffered {
    struct buffered *next;
    frame *f;
    ob_event_id id;
};

struct replay {
    conn *c;             /* the resuming connection; NULL for a recovery */
    channel *ch;         /* pinned */
    bool all;            /* recovery: every subscriber */
    bool gap;            /* recovery after Redis was unreachable: always resync */
    bool running;        /* the script was sent */
    bool cancelled;
    bool from_start;     /* last_event_id "0-0" */
    ob_event_id from;
    uint16_t answers;    /* "resumed" frames owed (resumes collapsed while waiting) */
    bool again;          /* another resume arrived while running */
    ob_event_id again_from;
    uint16_t again_answers;
    struct buffered *bhead, *btail;
};

static struct {
    channel **b;
    size_t cap, n;
} T;

uint64_t hash_str(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

void channels_init(void)
{
    T.cap = 256;
    T.b = ob_calloc(T.cap, sizeof *T.b);
    T.n = 0;
}

void channels_finish(void)
{
    if (T.n)
        ob_warn("relay: %zu channel(s) still referenced at exit", T.n);
    ob_free(T.b);
    memset(&T, 0, sizeof T);
}

size_t channels_count(void)
{
    return T.n;
}

static channel *find_n(const char *name, size_t len)
{
    for (channel *ch = T.b[hash_str(name, len) & (T.cap - 1)]; ch; ch = ch->hnext)
        if (strlen(ch->name) == len && memcmp(ch->name, name, len) == 0)
            return ch;
    return NULL;
}

channel *channel_find(const char *name)
{
    return find_n(name, strlen(name));
}

static void grow(void)
{
    size_t old = T.cap;
    channel **ob = T.b;
    T.cap *= 2;
    T.b = ob_calloc(T.cap, sizeof *T.b);
    for (size_t i = 0; i < old; i++)
        for (channel *ch = ob[i], *next; ch; ch = next) {
            next = ch->hnext;
            size_t k = hash_str(ch->name, strlen(ch->name)) & (T.cap - 1);
            ch->hnext = T.b[k];
            T.b[k] = ch;
        }
    ob_free(ob);
}

static channel *create(const char *name)
{
    if (T.n + 1 > T.cap)
        grow();
    channel *ch = ob_calloc(1, sizeof *ch);
    ch->name = ob_strdup(name);
    size_t k = hash_str(name, strlen(name)) & (T.cap - 1);
    ch->hnext = T.b[k];
    T.b[k] = ch;
    T.n++;
    return ch;
}

/* Frees a channel nobody holds, refers to, or has in Redis. */
static void maybe_free(channel *ch)
{
    if (ch->nsubs || ch->pins || ch->state != CH_DOWN || ch->recovery)
        return;
    channel **pp = &T.b[hash_str(ch->name, strlen(ch->name)) & (T.cap - 1)];
    while (*pp != ch)
        pp = &(*pp)->hnext;
    *pp = ch->hnext;
    T.n--;
    ob_free(ch->subs);
    ob_free(ch->name);
    ob_free(ch);
}

void channel_unpin(channel *ch)
{
    ch->pins--;
    maybe_free(ch);
}

bool channel_live(const channel *ch)
{
    return ch->state == CH_SUBSCRIBED;
}

static void subscribe(channel *ch)
{
    ch->state = link_subscribe(ch->name) == 0 ? CH_SUBSCRIBING : CH_DOWN;
}

/* ---- membership ------------------------------------------------------ */

bool channel_join(conn *c, const char *name)
{
    for (uint16_t i = 0; i < c->nsubs; i++)
        if (strcmp(c->subs[i].ch->name, name) == 0)
            return false;
    channel *ch = channel_find(name);
    if (!ch)
        ch = create(name);
    if (c->nsubs == c->capsubs) {
        /* Grown one step at a time from 1: most connections hold one or
         * two channels. */
        c->capsubs = c->capsubs ? (uint16_t)(c->capsubs * 2) : 1;
        c->subs = ob_realloc(c->subs, c->capsubs * sizeof *c->subs);
    }
    if (ch->nsubs == ch->capsubs) {
        ch->capsubs = ch->capsubs ? ch->capsubs * 2 : 4;
        ch->subs = ob_realloc(ch->subs, ch->capsubs * sizeof *ch->subs);
    }
    c->subs[c->nsubs] = (struct sub){ch, ch->nsubs, NULL, {0, 0}};
    ch->subs[ch->nsubs] = (struct chsub){c, c->nsubs};
    c->nsubs++;
    ch->nsubs++;
    if (ch->state == CH_DOWN && link_up())
        subscribe(ch);
    /* CH_UNSUBSCRIBING: subscribed again when the UNSUBSCRIBE is through
     * (two in flight would confuse hiredis' subscription table). */
    return true;
}

void channel_leave(conn *c, uint32_t slot)
{
    struct sub s = c->subs[slot];
    channel *ch = s.ch;
    if (s.job)
        replay_cancel(s.job);
    /* Swap-remove on both sides, fixing the back references of the entry
     * that moved. */
    uint32_t last = ch->nsubs - 1;
    if (s.idx != last) {
        ch->subs[s.idx] = ch->subs[last];
        struct chsub *moved = &ch->subs[s.idx];
        moved->c->subs[moved->slot].idx = s.idx;
    }
    ch->nsubs--;
    uint32_t clast = (uint32_t)c->nsubs - 1;
    if (slot != clast) {
        c->subs[slot] = c->subs[clast];
        struct sub *m = &c->subs[slot];
        m->ch->subs[m->idx].slot = slot;
    }
    c->nsubs--;
    if (ch->nsubs == 0) {
        if (ch->state == CH_SUBSCRIBED || ch->state == CH_SUBSCRIBING)
            ch->state = link_unsubscribe(ch->name) == 0 ? CH_UNSUBSCRIBING : CH_DOWN;
        maybe_free(ch);
    }
}

void channel_leave_all(conn *c)
{
    while (c->nsubs)
        channel_leave(c, (uint32_t)c->nsubs - 1);
    ob_free(c->subs);
    c->subs = NULL;
    c->capsubs = 0;
}

/* ---- event frames ---------------------------------------------------- */

/* {"action":"event","payload":{"channel","id","type","version","payload"}}
 * from an object that has "type", "version" and "payload".  NULL when the
 * object is not an event. */
static frame *event_frame(const char *channel_name, const char *id, const cJSON *obj)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(obj, "version");
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(obj, "payload");
    if (!cJSON_IsString(type) || !cJSON_IsNumber(version) || !payload)
        return NULL;
    char *ptext = cJSON_PrintUnformatted(payload); /* not NULL (alloc.h) */
    ob_buf b;
    ob_buf_init(&b, NULL);
    ob_json j;
    ob_json_init(&j, &b);
    ob_json_object_begin(&j);
    ob_json_kv_string(&j, "action", "event");
    ob_json_key(&j, "payload");
    ob_json_object_begin(&j);
    ob_json_kv_string(&j, "channel", channel_name);
    ob_json_kv_string(&j, "id", id);
    ob_json_kv_string(&j, "type", type->valuestring);
    ob_json_kv_int(&j, "version", (int64_t)version->valuedouble);
    ob_json_key(&j, "payload");
    ob_json_raw(&j, ptext, strlen(ptext));
    ob_json_object_end(&j);
    ob_json_object_end(&j);
    cJSON_free(ptext);
    frame *f = frame_new(WSLAY_TEXT_FRAME, b.data, b.len);
    ob_buf_free(&b);
    return f;
}

/* ---- delivery -------------------------------------------------------- */

/* An event frame to one client (counted for the metrics). */
static void send_event(conn *c, frame *f)
{
    conn_send(c, f);
    R.deliveries++;
}

static void buffer_add(replay *job, ob_event_id id, frame *f)
{
    struct buffered *b = ob_malloc(sizeof *b);
    b->next = NULL;
    b->f = frame_ref(f);
    b->id = id;
    if (job->btail)
        job->btail->next = b;
    else
        job->bhead = b;
    job->btail = b;
}

static void note_forwarded(channel *ch, ob_event_id id)
{
    if (!ch->has_last || ob_event_id_cmp(id, ch->last_id) > 0)
        ch->last_id = id;
    ch->has_last = true;
}

/* To every subscriber, except those in the middle of a resume on this
 * channel: they get it from their replay, in order. */
static void forward_all(channel *ch, ob_event_id id, frame *f)
{
    note_forwarded(ch, id);
    for (uint32_t i = 0; i < ch->nsubs; i++) {
        conn *c = ch->subs[i].c;
        struct sub *s = &c->subs[ch->subs[i].slot];
        if (s->job && s->job->running)
            buffer_add(s->job, id, f);
        else
            send_event(c, f);
    }
}

static bool floor_set(ob_event_id f)
{
    return f.ms || f.seq;
}

/* A live event.  A replay reads the stream up to the moment it runs, but
 * the PUBLISH of an event it already contained can still be on its way:
 * live events up to the replay's last id are such duplicates and dropped
 * (ids increase strictly within a stream).  The first newer one ends it. */
static void forward_live(channel *ch, ob_event_id id, frame *f)
{
    if (ch->has_floor) {
        if (ob_event_id_cmp(id, ch->floor) <= 0)
            return;
        ch->has_floor = false;
    }
    note_forwarded(ch, id);
    for (uint32_t i = 0; i < ch->nsubs; i++) {
        conn *c = ch->subs[i].c;
        struct sub *s = &c->subs[ch->subs[i].slot];
        if (s->job && s->job->running) {
            buffer_add(s->job, id, f);
            continue;
        }
        if (floor_set(s->floor)) {
            if (ob_event_id_cmp(id, s->floor) <= 0)
                continue;
            s->floor = (ob_event_id){0, 0};
        }
        send_event(c, f);
    }
}

void channels_on_message(const char *name, size_t nlen, const char *msg, size_t mlen)
{
    R.events_in++;
    channel *ch = find_n(name, nlen);
    if (!ch || ch->nsubs == 0)
        return;
    cJSON *root = cJSON_ParseWithLength(msg, mlen);
    const cJSON *id = root ? cJSON_GetObjectItemCaseSensitive(root, "id") : NULL;
    ob_event_id eid;
    frame *f = NULL;
    if (cJSON_IsString(id) && ob_event_id_parse(id->valuestring, strlen(id->valuestring), &eid))
        f = event_frame(ch->name, id->valuestring, root);
    if (!f) {
        ob_warn("relay: dropped a malformed event on %s", ch->name);
        cJSON_Delete(root);
        return;
    }
    cJSON_Delete(root);
    if (ch->recovery)
        buffer_add(ch->recovery, eid, f);
    else
        forward_live(ch, eid, f);
    frame_unref(f);
}

void control_on_message(const char *msg, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(msg, len);
    const cJSON *op = root ? cJSON_GetObjectItemCaseSensitive(root, "op") : NULL;
    const cJSON *uid = root ? cJSON_GetObjectItemCaseSensitive(root, "user_id") : NULL;
    if (cJSON_IsString(op) && strcmp(op->valuestring, "revoke_user") == 0 &&
        cJSON_IsNumber(uid) && uid->valuedouble >= 1 && uid->valuedouble < 9.007199254740992e15)
        users_revoke((int64_t)uid->valuedouble, WS_REVOKED);
    else
        ob_warn("relay: ignored a control message it does not understand");
    cJSON_Delete(root);
}

/* ---- replays --------------------------------------------------------- */

static void send_resumed_all(channel *ch, bool recovered)
{
    for (uint32_t i = 0; i < ch->nsubs; i++)
        proto_send_resumed(ch->subs[i].c, ch->name, recovered);
}

static void buffer_free(replay *job)
{
    for (struct buffered *b = job->bhead, *next; b; b = next) {
        next = b->next;
        frame_unref(b->f);
        ob_free(b);
    }
    job->bhead = job->btail = NULL;
}

static void job_free(replay *job)
{
    buffer_free(job);
    channel *ch = job->ch;
    ob_free(job);
    channel_unpin(ch);
}

static struct sub *job_sub(replay *job)
{
    for (uint16_t i = 0; i < job->c->nsubs; i++)
        if (job->c->subs[i].job == job)
            return &job->c->subs[i];
    return NULL;
}

static void on_replay(redisAsyncContext *ac, void *reply, void *priv);

static void start_waiting(channel *ch);

static void job_start(replay *job)
{
    char key[sizeof STREAM_PREFIX + OB_WS_CHANNEL_MAX];
    char start[64] = "-";
    char count[16];
    snprintf(key, sizeof key, "%s%s", STREAM_PREFIX, job->ch->name);
    if (!job->from_start) {
        char id[48];
        ob_event_id_format(job->from, id);
        snprintf(start, sizeof start, "(%s", id);
    }
    snprintf(count, sizeof count, "%d", REPLAY_MAX + 1);
    const char *argv[] = {"EVAL", replay_script, "1", key, start, count};
    job->running = true;
    if (link_command(on_replay, job, 6, argv, NULL) != 0)
        on_replay(NULL, NULL, job); /* the link is down: fails at once */
}

/* A resume for connection c on its subscription `slot`. */
void channel_resume(conn *c, uint32_t slot, ob_event_id from)
{
    R.resumes++;
    struct sub *s = &c->subs[slot];
    bool from_start = from.ms == 0 && from.seq == 0;
    if (!link_up()) {
        /* The stream cannot be read now; say so at once rather than keep
         * the client waiting for the outage to end. */
        proto_send_resumed(c, s->ch->name, false);
        return;
    }
    replay *job = s->job;
    if (job) {
        /* Collapse into the one in progress (duplicates are harmless,
         * clients drop ids they have). */
        if (!job->running) {
            if (from_start || ob_event_id_cmp(from, job->from) < 0) {
                job->from = from;
                job->from_start = job->from_start || from_start;
            }
            job->answers++;
        } else {
            if (!job->again || ob_event_id_cmp(from, job->again_from) < 0)
                job->again_from = from;
            job->again = true;
            job->again_answers++;
        }
        return;
    }
    job = ob_calloc(1, sizeof *job);
    job->c = c;
    job->ch = s->ch;
    channel_pin(s->ch);
    job->from = from;
    job->from_start = from_start;
    job->answers = 1;
    s->job = job;
    if (channel_live(s->ch) && !s->ch->recovery)
        job_start(job);
    /* else: started when the channel is subscribed (start_waiting) */
}

void replay_cancel(replay *job)
{
    if (job->running) {
        /* The Redis callback still holds it; it frees it. */
        job->cancelled = true;
        job->c = NULL;
        buffer_free(job);
        return;
    }
    job_free(job);
}

static void start_waiting(channel *ch)
{
    if (!channel_live(ch) || ch->recovery)
        return;
    for (uint32_t i = 0; i < ch->nsubs; i++) {
        conn *c = ch->subs[i].c;
        replay *job = c->subs[ch->subs[i].slot].job;
        if (job && !job->running)
            job_start(job);
    }
}

static bool entry_id(const redisReply *e, ob_event_id *id)
{
    return e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
           e->element[0]->type == REDIS_REPLY_STRING &&
           ob_event_id_parse(e->element[0]->str, e->element[0]->len, id);
}

/* An event frame from a stream entry [id, [field, value, ...]]. */
static frame *entry_frame(const channel *ch, const redisReply *e)
{
    const redisReply *fields = e->element[1];
    if (fields->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
            k->len != 4 || memcmp(k->str, "data", 4) != 0)
            continue;
        cJSON *obj = cJSON_ParseWithLength(v->str, v->len);
        frame *f = obj ? event_frame(ch->name, e->element[0]->str, obj) : NULL;
        cJSON_Delete(obj);
        return f;
    }
    return NULL;
}

/* Sends the replay to its target(s).  Returns false when the answer is not
 * what the script returns (then nothing was sent). */
static bool deliver(replay *job, const redisReply *r, bool *recovered, ob_event_id *max_sent,
                    bool *sent_any)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_ARRAY || r->element[1]->type != REDIS_REPLY_ARRAY)
        return false;
    const redisReply *first = r->element[0], *rest = r->element[1];
    bool missing = first->elements == 0;
    ob_event_id first_id = {0, 0};
    if (!missing && !entry_id(first->element[0], &first_id))
        return false;
    bool ok = rest->elements <= REPLAY_MAX;
    if (!job->from_start)
        ok = ok && !missing && ob_event_id_cmp(first_id, job->from) <= 0;
    *recovered = ok;
    size_t n = rest->elements < REPLAY_MAX ? rest->elements : REPLAY_MAX;
    for (size_t i = 0; i < n; i++) {
        ob_event_id id;
        if (!entry_id(rest->element[i], &id))
            continue;
        frame *f = entry_frame(job->ch, rest->element[i]);
        if (!f)
            continue;
        if (job->all) {
            if (!job->ch->has_last || ob_event_id_cmp(id, job->ch->last_id) > 0)
                forward_all(job->ch, id, f);
        } else {
            send_event(job->c, f);
        }
        *max_sent = id;
        *sent_any = true;
        frame_unref(f);
    }
    return true;
}

static void on_replay(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    replay *job = priv;
    job->running = false;
    if (job->cancelled) {
        job_free(job);
        return;
    }
    channel *ch = job->ch;
    const redisReply *r = reply;
    bool recovered = false, sent_any = false;
    ob_event_id max_sent = job->from;
    bool answered = r && r->type != REDIS_REPLY_ERROR;
    if (r && r->type == REDIS_REPLY_ERROR)
        ob_warn("relay: replay of %s failed: %s", ch->name, r->str);
    if (answered && !deliver(job, r, &recovered, &max_sent, &sent_any))
        recovered = false;
    /* Then the live events that came meanwhile, past what was sent. */
    ob_event_id floor = max_sent;
    bool have_floor = sent_any || !job->from_start;
    for (struct buffered *b = job->bhead; b; b = b->next) {
        if (have_floor && ob_event_id_cmp(b->id, floor) <= 0)
            continue;
        if (job->all)
            forward_all(ch, b->id, b->f);
        else
            send_event(job->c, b->f);
        floor = b->id;
        have_floor = true;
    }
    buffer_free(job);

    if (job->all) {
        ch->recovery = NULL;
        if (have_floor && answered) {
            ch->floor = floor;
            ch->has_floor = true;
        }
        if (answered && (!recovered || job->gap)) {
            send_resumed_all(ch, false);
            ob_info("relay: %s: events may have been lost during the Redis outage", ch->name);
        }
        if (!answered) {
            /* Try again on the next connection, still owing the resync. */
            ch->was_live = true;
            ch->gap = ch->gap || job->gap;
        }
        job_free(job);
        start_waiting(ch);
        return;
    }
    conn *c = job->c;
    for (uint16_t i = 0; i < job->answers; i++)
        proto_send_resumed(c, ch->name, answered && recovered);
    struct sub *s = job_sub(job);
    if (s && have_floor && answered)
        s->floor = floor;
    if (job->again && s && answered) {
        job->from = job->again_from;
        job->from_start = job->again_from.ms == 0 && job->again_from.seq == 0;
        job->answers = job->again_answers;
        job->again = false;
        job->again_answers = 0;
        job_start(job);
        return;
    }
    if (job->again && s) {
        for (uint16_t i = 0; i < job->again_answers; i++)
            proto_send_resumed(c, ch->name, false);
    }
    if (s)
        s->job = NULL;
    job_free(job);
}

static void start_recovery(channel *ch, bool gap)
{
    replay *job = ob_calloc(1, sizeof *job);
    job->ch = ch;
    channel_pin(ch);
    job->all = true;
    job->gap = gap;
    job->from = ch->last_id;
    /* Nothing was ever in the stream when we looked: all of it is new. */
    job->from_start = ch->last_id.ms == 0 && ch->last_id.seq == 0;
    ch->recovery = job;
    job_start(job);
}

/* ---- baseline: the stream's last id when a channel is first subscribed,
 * so a recovery knows where to start even before any event came. */

static void on_baseline(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    channel *ch = priv;
    const redisReply *r = reply;
    ch->baseline_pending = false;
    if (r && r->type == REDIS_REPLY_ARRAY) {
        ob_event_id id = {0, 0};
        if (r->elements >= 1 && !entry_id(r->element[0], &id))
            id = (ob_event_id){0, 0};
        note_forwarded(ch, id);
    }
    channel_unpin(ch);
}

static void fetch_baseline(channel *ch)
{
    if (ch->baseline_pending)
        return;
    char key[sizeof STREAM_PREFIX + OB_WS_CHANNEL_MAX];
    snprintf(key, sizeof key, "%s%s", STREAM_PREFIX, ch->name);
    const char *argv[] = {"XREVRANGE", key, "+", "-", "COUNT", "1"};
    channel_pin(ch);
    ch->baseline_pending = true;
    if (link_command(on_baseline, ch, 6, argv, NULL) != 0) {
        ch->baseline_pending = false;
        channel_unpin(ch);
    }
}

/* ---- the link -------------------------------------------------------- */

void channels_on_subscribed(const char *name, size_t len)
{
    channel *ch = find_n(name, len);
    if (!ch || ch->state != CH_SUBSCRIBING)
        return; /* e.g. unsubscribed again before the confirmation */
    ch->state = CH_SUBSCRIBED;
    if (ch->was_live) {
        /* Back after an outage: replay what was published meanwhile.  If
         * Redis itself was unreachable, the app may have failed to publish
         * (it does not retry), so clients are told to resync as well. */
        bool gap = ch->gap;
        ch->was_live = ch->gap = false;
        if (ch->has_last) {
            start_recovery(ch, gap);
        } else {
            send_resumed_all(ch, false);
            fetch_baseline(ch);
        }
    } else if (!ch->has_last) {
        fetch_baseline(ch);
    }
    channel_pin(ch); /* the loop below may close connections */
    for (uint32_t i = 0; i < ch->nsubs; i++)
        proto_flush_replies(ch->subs[i].c);
    start_waiting(ch);
    channel_unpin(ch);
}

void channels_on_unsubscribed(const char *name, size_t len)
{
    channel *ch = find_n(name, len);
    if (!ch || ch->state != CH_UNSUBSCRIBING)
        return;
    ch->state = CH_DOWN;
    if (ch->nsubs)
        subscribe(ch); /* somebody joined while it was going */
    else
        maybe_free(ch);
}

void channels_on_link_up(bool outage)
{
    for (size_t i = 0; i < T.cap; i++)
        for (channel *ch = T.b[i], *next; ch; ch = next) {
            next = ch->hnext;
            if (outage && ch->was_live)
                ch->gap = true;
            if (ch->nsubs)
                subscribe(ch);
            else
                maybe_free(ch);
        }
}

void channels_on_link_down(void)
{
    for (size_t i = 0; i < T.cap; i++)
        for (channel *ch = T.b[i], *next; ch; ch = next) {
            next = ch->hnext;
            if (ch->state == CH_SUBSCRIBED)
                ch->was_live = true;
            ch->state = CH_DOWN;
            /* After a reconnect the stream may be a new one: old floors
             * mean nothing there. */
            ch->has_floor = false;
            for (uint32_t k = 0; k < ch->nsubs; k++)
                ch->subs[k].c->subs[ch->subs[k].slot].floor = (ob_event_id){0, 0};
            maybe_free(ch);
        }
}
