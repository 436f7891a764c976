/* fuzz_relay_proto.c - the relay's client protocol (src/relay/proto.c,
 * websocket.md §5): one connection receiving the messages of an input.
 *
 * proto.c is linked alone; the rest of the relay it calls (connections,
 * channels, the Redis link, the loop's clock) is stood in for below, as
 * small models that keep the state proto.c relies on.  Input, line by
 * line: the first line is the connection's user ("0" anonymous, else a
 * user id) and the channels of its handshake ticket, e.g. "42 user:42";
 * every other line is one text message.  "@T:<ch>,<ch>@" in a message is
 * replaced by a ticket for those channels, signed with the relay's key for
 * the connection's user, so that "subscribe" gets past the signature
 * (the fuzzer cannot forge one); "@X:...@" signs it for another user.
 * A ticket's id follows from its marker, and ids are claimed as Redis
 * would: the first use succeeds, a repeat is refused.
 *
 * Invariants: every frame sent is a JSON object with a known "action" and
 * a "payload"; "subscribed"/"unsubscribed" list channel names; the
 * connection never holds a channel twice, nor more than
 * relay.max_channels, nor one that no signed ticket named; it is closed
 * only with 1008 and only past 20 errors in the window; nothing leaks. */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/core/alloc.h"
#include "openbook/core/config.h"
#include "openbook/core/ticket.h"
#include "../../src/relay/relay.h"
#include "fuzz_common.h"

#define NOW 1900000000.0
#define MAX_CHANNELS 4
#define MAX_CLAIMS 64

relay R;

/* ---- the loop's clock ---- */

ev_tstamp ev_now(struct ev_loop *loop)
{
    (void)loop;
    return NOW;
}

/* ---- the connection ---- */

static int64_t uid;
static int sent, closes;
static uint16_t close_code;

int64_t conn_uid(const conn *c)
{
    (void)c;
    return uid;
}

bool conn_is_open(const conn *c)
{
    return c->state == CS_OPEN;
}

void conn_close(conn *c, uint16_t code)
{
    FUZZ_CHECK(c->state == CS_OPEN, "closed twice");
    c->state = CS_CLOSING;
    close_code = code;
    closes++;
}

static bool known_action(const char *a)
{
    static const char *const actions[] = {"pong", "error", "subscribed", "unsubscribed",
                                          "resumed"};
    for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
        if (strcmp(a, actions[i]) == 0)
            return true;
    return false;
}

void conn_send_json(conn *c, const ob_buf *b)
{
    cJSON *v = cJSON_ParseWithLength(b->data, b->len);
    FUZZ_CHECK(cJSON_IsObject(v), "frame is not a JSON object: %.*s", (int)b->len, b->data);
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(v, "action");
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(v, "payload");
    FUZZ_CHECK(cJSON_IsString(action) && known_action(action->valuestring), "action in %.*s",
               (int)b->len, b->data);
    FUZZ_CHECK(payload != NULL, "no payload in %.*s", (int)b->len, b->data);
    if (strcmp(action->valuestring, "subscribed") == 0 ||
        strcmp(action->valuestring, "unsubscribed") == 0) {
        const cJSON *chs = cJSON_GetObjectItemCaseSensitive(payload, "channels");
        const cJSON *ch;
        FUZZ_CHECK(cJSON_IsArray(chs), "channels not a list");
        cJSON_ArrayForEach(ch, chs)
        {
            FUZZ_CHECK(cJSON_IsString(ch) &&
                           ob_ws_channel_valid(ch->valuestring, strlen(ch->valuestring)),
                       "channel in %.*s", (int)b->len, b->data);
        }
    }
    cJSON_Delete(v);
    if (conn_is_open(c))
        sent++;
}

/* What proto.c reads back of a ticket waiting for its id's claim. */
authorizing *auth_new(conn *c, const ob_ticket *t)
{
    authorizing *a = ob_calloc(1, sizeof *a);
    a->c = c;
    a->n = (uint32_t)t->nchannels;
    a->channels = ob_calloc(a->n + 1, sizeof *a->channels);
    for (uint32_t i = 0; i < a->n; i++)
        a->channels[i] = ob_strdup(t->channels[i]);
    return a;
}

void auth_free(authorizing *a)
{
    while (a->n)
        ob_free(a->channels[--a->n]);
    ob_free(a->channels);
    ob_free(a);
}

/* ---- Redis: SET NX on the ticket id, answered after the message ---- */

static struct {
    redisCallbackFn *fn;
    authorizing *a;
    bool first_use;
} claims[MAX_CLAIMS];
static size_t nclaims;
static char used_jti[MAX_CLAIMS][OB_TICKET_JTI_LEN + 1];
static size_t nused;

int jti_claim(const char *jti, redisCallbackFn *fn, authorizing *a)
{
    if (nclaims == MAX_CLAIMS)
        return -1; /* as when Redis is down */
    bool first = true;
    for (size_t i = 0; i < nused && first; i++)
        first = strcmp(used_jti[i], jti) != 0;
    if (first && nused < MAX_CLAIMS)
        snprintf(used_jti[nused++], sizeof used_jti[0], "%s", jti);
    claims[nclaims].fn = fn;
    claims[nclaims].a = a;
    claims[nclaims].first_use = first;
    nclaims++;
    return 0;
}

/* The reply of SET NX: "OK" the first time, nil after. */
int jti_result(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_STATUS ? 1 : r && r->type == REDIS_REPLY_NIL ? 0 : -1;
}

static void answer_claims(void)
{
    redisReply ok = {.type = REDIS_REPLY_STATUS}, nil = {.type = REDIS_REPLY_NIL};
    for (size_t i = 0; i < nclaims; i++)
        claims[i].fn(NULL, claims[i].first_use ? &ok : &nil, claims[i].a);
    nclaims = 0;
}

/* ---- channels: names, subscribers, pins ---- */

#define MAX_CH 64
static channel *table[MAX_CH];
/* Every channel name a signed ticket named: nothing else may be held. */
static char granted[MAX_CH][OB_WS_CHANNEL_MAX + 1];
static size_t ngranted;

static void grant(const char *name)
{
    for (size_t i = 0; i < ngranted; i++)
        if (strcmp(granted[i], name) == 0)
            return;
    if (ngranted < MAX_CH)
        snprintf(granted[ngranted++], sizeof granted[0], "%s", name);
}

static bool was_granted(const char *name)
{
    for (size_t i = 0; i < ngranted; i++)
        if (strcmp(granted[i], name) == 0)
            return true;
    return false;
}

channel *channel_find(const char *name)
{
    for (size_t i = 0; i < MAX_CH; i++)
        if (table[i] && strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

static void channel_gc(channel *ch)
{
    if (ch->nsubs || ch->pins)
        return;
    for (size_t i = 0; i < MAX_CH; i++)
        if (table[i] == ch)
            table[i] = NULL;
    ob_free(ch->name);
    ob_free(ch);
}

bool channel_join(conn *c, const char *name)
{
    for (uint16_t s = 0; s < c->nsubs; s++)
        if (strcmp(c->subs[s].ch->name, name) == 0)
            return false;
    channel *ch = channel_find(name);
    if (!ch) {
        size_t i = 0;
        while (i < MAX_CH && table[i])
            i++;
        FUZZ_CHECK(i < MAX_CH, "more channels than any connection may hold");
        ch = ob_calloc(1, sizeof *ch);
        ch->name = ob_strdup(name);
        table[i] = ch;
    }
    if (c->nsubs == c->capsubs) {
        c->capsubs = c->capsubs ? (uint16_t)(c->capsubs * 2) : 4;
        c->subs = ob_realloc(c->subs, c->capsubs * sizeof *c->subs);
    }
    c->subs[c->nsubs++] = (struct sub){.ch = ch};
    ch->nsubs++;
    return true;
}

void channel_leave(conn *c, uint32_t slot)
{
    FUZZ_CHECK(slot < c->nsubs, "leave slot %u of %u", slot, c->nsubs);
    channel *ch = c->subs[slot].ch;
    memmove(&c->subs[slot], &c->subs[slot + 1], (c->nsubs - slot - 1) * sizeof *c->subs);
    c->nsubs--;
    ch->nsubs--;
    channel_gc(ch);
}

void channel_unpin(channel *ch)
{
    FUZZ_CHECK(ch->pins > 0, "unpin without pin");
    ch->pins--;
    channel_gc(ch);
}

bool channel_live(const channel *ch)
{
    (void)ch;
    return true;
}

void channel_resume(conn *c, uint32_t slot, ob_event_id from)
{
    (void)from;
    FUZZ_CHECK(slot < c->nsubs, "resume slot %u of %u", slot, c->nsubs);
}

/* ---- the harness ---- */

static void setup(void)
{
    static bool ready;
    if (ready)
        return;
    ready = true;
    ob_config_defaults(&R.cfg);
    R.cfg.relay_max_channels = MAX_CHANNELS;
    ob_ticket_keys_init(&R.keys, "fuzz-relay-secret-0123456789-abcdefghij", "", "");
    ob_arena_init(&R.scratch, 4096);
}

/* Channel names from "a,b,c" (at most MAX_CHANNELS). */
static size_t split_channels(ob_arena *a, const char *s, size_t len, const char **out)
{
    size_t n = 0;
    while (len > 0 && n < MAX_CHANNELS) {
        const char *comma = memchr(s, ',', len);
        size_t k = comma ? (size_t)(comma - s) : len;
        out[n++] = ob_arena_strndup(a, s, k);
        s += k + (comma ? 1 : 0);
        len -= k + (comma ? 1 : 0);
    }
    return n;
}

/* The message with every "@T:...@" / "@X:...@" replaced by a ticket. */
static const char *expand_tickets(ob_arena *a, const char *m, size_t len, size_t *out_len)
{
    ob_buf b;
    ob_buf_init(&b, a);
    while (len > 0) {
        const char *at = memchr(m, '@', len);
        const char *end = at && (size_t)(at - m) + 3 < len && (at[1] == 'T' || at[1] == 'X') &&
                                  at[2] == ':'
                              ? memchr(at + 3, '@', len - (size_t)(at - m) - 3)
                              : NULL;
        if (!end) {
            ob_buf_append(&b, m, len);
            break;
        }
        ob_buf_append(&b, m, (size_t)(at - m));
        const char *names[MAX_CHANNELS];
        ob_ticket t = {.exp = (int64_t)NOW + 60};
        t.nchannels = split_channels(a, at + 3, (size_t)(end - at - 3), names);
        t.channels = names;
        t.uid = at[1] == 'T' ? uid : uid + 1;
        t.anonymous = t.uid == 0;
        /* The id follows from the marker, so a marker used twice is a
         * ticket used twice (refused), and runs are reproducible. */
        uint64_t h1 = 14695981039346656037ULL, h2 = h1 ^ 0x9e3779b97f4a7c15ULL;
        for (const char *q = at; q <= end; q++) {
            h1 = (h1 ^ (unsigned char)*q) * 1099511628211ULL;
            h2 = (h2 ^ (unsigned char)*q) * 1099511628211ULL;
        }
        snprintf(t.jti, sizeof t.jti, "%016llx%016llx", (unsigned long long)h1,
                 (unsigned long long)h2);
        for (size_t i = 0; i < t.nchannels; i++)
            if (at[1] == 'T' && ob_ws_channel_valid(names[i], strlen(names[i])))
                grant(names[i]);
        ob_buf_puts(&b, ob_ticket_sign(&R.keys, a, &t));
        len -= (size_t)(end + 1 - m);
        m = end + 1;
    }
    *out_len = b.len;
    return ob_buf_cstr(&b);
}

static void check_state(const conn *c)
{
    FUZZ_CHECK(c->nsubs <= MAX_CHANNELS, "%u channels held", c->nsubs);
    for (uint16_t i = 0; i < c->nsubs; i++) {
        FUZZ_CHECK(was_granted(c->subs[i].ch->name), "%s held without a ticket",
                   c->subs[i].ch->name);
        for (uint16_t k = 0; k < i; k++)
            FUZZ_CHECK(c->subs[k].ch != c->subs[i].ch, "%s held twice", c->subs[i].ch->name);
    }
    if (closes)
        FUZZ_CHECK(closes == 1 && close_code == WS_POLICY && c->errors > 20,
                   "closed with %u after %u errors", close_code, c->errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    ob_arena *a = fuzz_arena();
    const char *p = (const char *)data, *end = p + size;
    const char *nl = memchr(p, '\n', size);
    const char *first_end = nl ? nl : end;

    /* First line: the user and the handshake's channels. */
    uid = 0;
    while (p < first_end && *p >= '0' && *p <= '9' && uid < 100000000)
        uid = uid * 10 + (*p++ - '0');
    while (p < first_end && *p == ' ')
        p++;
    conn c;
    memset(&c, 0, sizeof c);
    c.state = CS_OPEN;
    c.t_errwin = (uint32_t)(NOW - R.t0);
    sent = closes = 0;
    ngranted = nused = nclaims = 0;
    const char *names[MAX_CHANNELS], *valid[MAX_CHANNELS];
    size_t n = split_channels(a, p, (size_t)(first_end - p), names), nvalid = 0;
    for (size_t i = 0; i < n; i++)
        if (ob_ws_channel_valid(names[i], strlen(names[i]))) {
            grant(names[i]);
            valid[nvalid++] = names[i];
        }
    proto_on_open(&c, valid, nvalid);
    check_state(&c);

    for (p = nl ? nl + 1 : end; p < end && conn_is_open(&c);) {
        nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        size_t len;
        const char *msg = expand_tickets(a, p, (size_t)(line_end - p), &len);
        proto_on_text(&c, msg, len);
        answer_claims();
        check_state(&c);
        p = nl ? nl + 1 : end;
    }

    /* The connection goes away, as conn.c tears it down. */
    answer_claims();
    proto_drop_replies(&c);
    while (c.nsubs)
        channel_leave(&c, c.nsubs - 1);
    ob_free(c.subs);
    for (size_t i = 0; i < MAX_CH; i++)
        FUZZ_CHECK(!table[i], "channel %s left behind", table[i]->name);
    ob_arena_reset(&R.scratch);
    ob_arena_reset(a);
    return 0;
}
