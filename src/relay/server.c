/* server.c - the relay's sockets: listening, the opening handshake, the
 * WebSocket framing through wslay, output queues, timers and users.
 *
 * wslay is used as the receiving state machine only (framing, masking
 * rules, fragmentation, control frames, UTF-8 of text messages, the size
 * limit).  Everything the relay sends is built here: an event frame is
 * built once and queued by reference on every connection that gets it,
 * which a per-connection copy (wslay's own send queue) would not allow.
 * wslay's send side is drained into a sink after each read, so the pongs
 * and close echoes it queues for itself never pile up; the relay answers
 * those control frames itself from the received-message callback.
 *
 * The wslay context (~8.5 KB) is created when bytes arrive and freed again
 * once every byte handed to it belongs to a complete frame and no
 * fragmented message is open.  An idle connection therefore holds no
 * parser state at all; see the byte accounting in ws_frame_start/end. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include "openbook/core/alloc.h"
#include "openbook/core/json.h"
#include "openbook/core/log.h"
#include "openbook/core/net.h"
#include "openbook/http/parse.h"
#include "openbook/http/ws_handshake.h"
#include "relay.h"

relay R;

#define HANDSHAKE_TIMEOUT 10 /* seconds to send a complete request head */
#define CLOSE_TIMEOUT 10     /* seconds to wait for the peer's close frame */
#define LINGER_TIMEOUT 2     /* seconds to drain input after an HTTP error */
#define AUTHORIZE_TIMEOUT 30 /* seconds for the jti check (Redis stalled) */
#define SOCKET_SLACK 256     /* sockets beyond max_connections, for refusals */
/* Bytes read from one socket per readiness event.  wslay parses until the
 * socket runs dry and queues a pong of its own for every ping meanwhile
 * (drained into ws_sink only afterwards), so without a bound a client that
 * sends faster than the relay parses would hold the loop and grow that
 * queue for as long as it keeps sending.  The rest waits for the next loop
 * turn (libev reports the socket readable again). */
#define READ_BUDGET 16384

struct handshake_buf {
    uint32_t len, off;
    char data[];
};

/* ---- frames ---------------------------------------------------------- */

frame *frame_new(unsigned opcode, const void *payload, size_t len)
{
    size_t hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
    frame *f = ob_malloc(sizeof *f + hl + len);
    f->refs = 1;
    f->len = (uint32_t)(hl + len);
    unsigned char *h = f->data;
    h[0] = (unsigned char)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        h[1] = (unsigned char)len;
    } else if (len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    }
    if (len)
        memcpy(f->data + hl, payload, len);
    return f;
}

/* Raw bytes (HTTP answers) travel through the same queue. */
static frame *bytes_new(const void *p, size_t len)
{
    frame *f = ob_malloc(sizeof *f + len);
    f->refs = 1;
    f->len = (uint32_t)len;
    memcpy(f->data, p, len);
    return f;
}

void frame_unref(frame *f)
{
    if (f && --f->refs == 0)
        ob_free(f);
}

static frame *close_frame(uint16_t code)
{
    const char *reason = "";
    switch (code) {
    case WS_GOING_AWAY: reason = "Going away"; break;
    case WS_OVERLOAD: reason = "Send queue overflow"; break;
    case WS_REVOKED: reason = "Authorization revoked"; break;
    case WS_TOO_MANY: reason = "Too many connections"; break;
    case WS_POLICY: reason = "Policy violation"; break;
    case WS_TOO_BIG: reason = "Message too big"; break;
    case WS_UNSUPPORTED: reason = "Binary frames are not supported"; break;
    default: break;
    }
    unsigned char p[2 + 64];
    size_t rl = strlen(reason);
    p[0] = (unsigned char)(code >> 8);
    p[1] = (unsigned char)code;
    memcpy(p + 2, reason, rl);
    return frame_new(WSLAY_CONNECTION_CLOSE, p, 2 + rl);
}

/* ---- lists ----------------------------------------------------------- */

static void mark_dirty(conn *c)
{
    if (c->flags & CF_DIRTY || c->state == CS_DEAD)
        return;
    c->flags |= CF_DIRTY;
    c->link = R.dirty;
    R.dirty = c;
}

/* The reap list: connections that must leave their channels (closing) or
 * be freed (dead).  Processed by the prepare watcher, after the writes. */
static conn *reap_list;

static void mark_reap(conn *c)
{
    if (c->flags & CF_DETACH)
        return;
    c->flags |= CF_DETACH;
    c->reap = reap_list;
    reap_list = c;
}

static void want_write(conn *c, bool on)
{
    bool has = (c->flags & CF_WANT_WRITE) != 0;
    if (has == on || c->state == CS_DEAD || c->state == CS_AUTHORIZING)
        return;
    ev_io_stop(R.loop, &c->io);
    ev_io_modify(&c->io, EV_READ | (on ? EV_WRITE : 0));
    ev_io_start(R.loop, &c->io);
    if (on)
        c->flags |= CF_WANT_WRITE;
    else
        c->flags &= (uint16_t)~CF_WANT_WRITE;
}

/* ---- users ----------------------------------------------------------- */

/* Connections grouped by owner, each group with its limit: U holds users'
 * connections by user id (relay.max_connections_per_user), A anonymous
 * connections by client address (relay.max_anonymous_per_address, key
 * from ob_ws_addr_key).  A connection is in at most one group, c->user. */
struct user {
    user *hnext;
    int64_t uid;            /* the user id; in A the address key */
    uint32_t count;
    bool anonymous;         /* a group of A */
    conn *head, *tail;
};

struct user_table {
    user **b;
    size_t cap, n;
};

static struct user_table U, A;

static size_t user_bucket(const struct user_table *t, int64_t uid)
{
    uint64_t h = (uint64_t)uid * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (t->cap - 1);
}

static user *user_find(const struct user_table *t, int64_t uid)
{
    if (!t->cap)
        return NULL;
    for (user *u = t->b[user_bucket(t, uid)]; u; u = u->hnext)
        if (u->uid == uid)
            return u;
    return NULL;
}

static void users_grow(struct user_table *t)
{
    size_t old = t->cap;
    user **ob = t->b;
    t->cap = old ? old * 2 : 64;
    t->b = ob_calloc(t->cap, sizeof *t->b);
    for (size_t i = 0; i < old; i++)
        for (user *u = ob[i], *next; u; u = next) {
            next = u->hnext;
            size_t k = user_bucket(t, u->uid);
            u->hnext = t->b[k];
            t->b[k] = u;
        }
    ob_free(ob);
}

static void user_detach(conn *c)
{
    user *u = c->user;
    if (!u)
        return;
    if (c->uprev)
        c->uprev->unext = c->unext;
    else
        u->head = c->unext;
    if (c->unext)
        c->unext->uprev = c->uprev;
    else
        u->tail = c->uprev;
    c->uprev = c->unext = NULL;
    c->user = NULL;
    if (--u->count == 0) {
        struct user_table *t = u->anonymous ? &A : &U;
        user **pp = &t->b[user_bucket(t, u->uid)];
        while (*pp != u)
            pp = &(*pp)->hnext;
        *pp = u->hnext;
        t->n--;
        ob_free(u);
    }
}

/* Adds an open connection to its user's group (anonymous: its address's). */
static void user_attach(conn *c, bool anonymous, int64_t uid)
{
    struct user_table *t = anonymous ? &A : &U;
    user *u = user_find(t, uid);
    if (!u) {
        if (t->n + 1 > t->cap)
            users_grow(t);
        u = ob_calloc(1, sizeof *u);
        u->uid = uid;
        u->anonymous = anonymous;
        size_t k = user_bucket(t, uid);
        u->hnext = t->b[k];
        t->b[k] = u;
        t->n++;
    }
    c->user = u;
    c->uprev = u->tail;
    if (u->tail)
        u->tail->unext = c;
    else
        u->head = c;
    u->tail = c;
    u->count++;
    /* ws_max_connections_per_user: the oldest gives way (4429).  The same
     * for the anonymous connections of one address, so that one client
     * cannot take every place of relay.max_connections. */
    long limit = anonymous ? R.cfg.relay_max_anonymous_per_address
                           : R.cfg.relay_max_connections_per_user;
    while (u->count > (uint32_t)limit && u->head != c) {
        if (anonymous)
            R.refused_address++;
        else
            R.refused_user++;
        conn_close(u->head, WS_TOO_MANY);
    }
}

void users_revoke(int64_t uid, uint16_t code)
{
    user *u;
    unsigned n = 0;
    while ((u = user_find(&U, uid)) != NULL && u->head) {
        conn_close(u->head, code);
        n++;
    }
    if (n)
        ob_info("relay: closed %u connection(s) of user %lld (%u)", n, (long long)uid, code);
}

int64_t conn_uid(const conn *c)
{
    return c->user && !c->user->anonymous ? c->user->uid : 0;
}

bool conn_is_open(const conn *c)
{
    return c->state == CS_OPEN;
}

/* ---- output ---------------------------------------------------------- */

static void queue_push(conn *c, frame *f)
{
    struct qnode *n = ob_malloc(sizeof *n);
    n->next = NULL;
    n->f = frame_ref(f);
    if (c->qtail) {
        c->qtail->next = n;
    } else {
        c->qhead = n;
        c->t_sent = now_s(); /* the stall clock starts (on_sweep) */
    }
    c->qtail = n;
    c->qframes++;
    c->qbytes += f->len;
    mark_dirty(c);
}

static void queue_pop(conn *c)
{
    struct qnode *n = c->qhead;
    c->qhead = n->next;
    if (!c->qhead)
        c->qtail = NULL;
    if (n == c->pong)
        c->pong = NULL;
    c->qframes--;
    c->qbytes -= n->f->len;
    c->qoff = 0;
    frame_unref(n->f);
    ob_free(n);
}

/* Drops everything not yet started; a frame half written stays, so the
 * peer never sees a torn frame. */
static void queue_drop_unsent(conn *c)
{
    c->pong = NULL; /* dropped, or half written and no longer replaceable */
    if (!c->qhead)
        return;
    struct qnode *keep = c->qoff ? c->qhead : NULL;
    struct qnode *n = keep ? keep->next : c->qhead;
    while (n) {
        struct qnode *next = n->next;
        c->qframes--;
        c->qbytes -= n->f->len;
        frame_unref(n->f);
        ob_free(n);
        n = next;
    }
    if (keep) {
        keep->next = NULL;
        c->qhead = c->qtail = keep;
    } else {
        c->qhead = c->qtail = NULL;
        c->qoff = 0;
    }
}

static void queue_free(conn *c)
{
    while (c->qhead)
        queue_pop(c);
}

/* Whether one more frame of len bytes fits under the send-queue cap, which
 * counts every frame, control frames included.  When it does not, the
 * connection is closed with 1013. */
static bool queue_room(conn *c, uint32_t len)
{
    if (c->qframes + 1 <= (uint32_t)R.cfg.relay_send_queue_max_frames &&
        (uint64_t)c->qbytes + len <= (uint64_t)R.cfg.relay_send_queue_max_bytes)
        return true;
    /* A client that cannot keep up is closed rather than slowing the
     * others or growing without bound (websocket.md §7). */
    R.closes_overflow++;
    ob_debug("relay: send queue of fd %d full (%u frames, %u bytes): closing with 1013",
             c->io.fd, c->qframes, c->qbytes);
    conn_close(c, WS_OVERLOAD);
    return false;
}

void conn_send(conn *c, frame *f)
{
    if (c->state != CS_OPEN || !queue_room(c, f->len))
        return;
    queue_push(c, f);
    R.frames_out++;
}

/* Answers a ping.  At most one pong waits per connection: a pong not yet
 * started gets the newer ping's payload instead of a second pong behind it
 * (RFC 6455 §5.5.3 allows answering only the most recent ping).  So a
 * client that sends pings and never reads costs one small frame, not one
 * per ping. */
static void send_pong(conn *c, const void *payload, size_t len)
{
    if (c->state != CS_OPEN)
        return;
    frame *f = frame_new(WSLAY_PONG, payload, len);
    struct qnode *q = c->pong;
    if (q && !(q == c->qhead && c->qoff)) {
        c->qbytes = c->qbytes - q->f->len + f->len;
        frame_unref(q->f);
        q->f = f;
        return;
    }
    if (queue_room(c, f->len)) {
        queue_push(c, f);
        c->pong = c->qtail;
    }
    frame_unref(f);
}

void conn_send_json(conn *c, const ob_buf *b)
{
    frame *f = frame_new(WSLAY_TEXT_FRAME, b->data, b->len);
    conn_send(c, f);
    frame_unref(f);
}

static void send_http(conn *c, const char *text, size_t len)
{
    frame *f = bytes_new(text, len);
    queue_push(c, f);
    frame_unref(f);
}

static void after_drain(conn *c)
{
    if (c->state == CS_HTTP_CLOSE) {
        /* Half-close and read until the peer closes: closing with unread
         * input would reset the connection and could destroy the answer. */
        shutdown(c->io.fd, SHUT_WR);
    } else if (c->state == CS_CLOSING && (c->flags & CF_CLOSE_RECV)) {
        /* Both close frames are through: the server closes TCP first
         * (RFC 6455 §7.1.1). */
        conn_kill(c);
    } else if (c->state == CS_CLOSING && (c->flags & CF_LINGER)) {
        /* The peer may still be sending (the rest of an oversized frame):
         * closing now would reset the connection and could destroy our
         * close frame in transit.  Half-close and drain until it closes. */
        shutdown(c->io.fd, SHUT_WR);
        c->t_deadline = now_s() + LINGER_TIMEOUT;
    }
}

static void conn_flush(conn *c)
{
    while (c->qhead && c->state != CS_DEAD) {
        struct iovec iov[64];
        int n = 0;
        size_t total = 0;
        uint32_t off = c->qoff;
        for (struct qnode *q = c->qhead; q && n < 64; q = q->next) {
            iov[n].iov_base = q->f->data + off;
            iov[n].iov_len = q->f->len - off;
            total += iov[n].iov_len;
            off = 0;
            n++;
        }
        ssize_t w = writev(c->io.fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                want_write(c, true);
                return;
            }
            ob_debug("relay: write to fd %d: %s", c->io.fd, strerror(errno));
            conn_kill(c);
            return;
        }
        size_t left = (size_t)w;
        while (left && c->qhead) {
            size_t rest = c->qhead->f->len - c->qoff;
            if (left >= rest) {
                left -= rest;
                queue_pop(c);
            } else {
                c->qoff += (uint32_t)left;
                left = 0;
            }
        }
        if (w > 0)
            c->t_sent = now_s(); /* the client drains what we send */
        if ((size_t)w < total) {
            want_write(c, true);
            return;
        }
    }
    if (c->state == CS_DEAD)
        return;
    want_write(c, false);
    after_drain(c);
}

/* ---- closing --------------------------------------------------------- */

static void auth_cancel_all(conn *c)
{
    for (authorizing *a = c->auth; a; a = a->next)
        a->c = NULL;
    c->auth = NULL;
}

void conn_close(conn *c, uint16_t code)
{
    switch (c->state) {
    case CS_OPEN:
        ob_debug("relay: fd %d closing with %u", c->io.fd, code);
        c->state = CS_CLOSING;
        R.nactive--;
        user_detach(c);
        proto_drop_replies(c);
        auth_cancel_all(c);
        queue_drop_unsent(c);
        mark_reap(c); /* leaves its channels at the end of the loop turn */
        if (!(c->flags & CF_CLOSE_SENT)) {
            frame *f = close_frame(code);
            queue_push(c, f);
            frame_unref(f);
            c->flags |= CF_CLOSE_SENT;
        }
        c->t_deadline = now_s() + CLOSE_TIMEOUT;
        mark_dirty(c);
        break;
    case CS_HANDSHAKE:
    case CS_AUTHORIZING:
        conn_kill(c);
        break;
    default:
        break;
    }
}

void conn_kill(conn *c)
{
    if (c->state == CS_DEAD)
        return;
    if (c->state == CS_OPEN || c->state == CS_AUTHORIZING)
        R.nactive--;
    c->state = CS_DEAD;
    ev_io_stop(R.loop, &c->io);
    close(c->io.fd);
    user_detach(c);
    auth_cancel_all(c);
    proto_drop_replies(c);
    mark_reap(c);
}

static void conn_free(conn *c)
{
    channel_leave_all(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        R.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        R.conns_tail = c->prev;
    R.nsockets--;
    queue_free(c);
    if (c->ws)
        wslay_event_context_free(c->ws);
    ob_free(c->hs);
    ob_free(c->subs);
    ob_free(c);
}

/* Writes everything queued this loop turn, then lets closing connections
 * leave their channels and frees dead ones. */
static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    while (R.dirty) {
        conn *c = R.dirty;
        R.dirty = c->link;
        c->flags &= (uint16_t)~CF_DIRTY;
        if (c->state != CS_DEAD)
            conn_flush(c);
    }
    while (reap_list) {
        conn *c = reap_list;
        reap_list = c->reap;
        c->flags &= (uint16_t)~CF_DETACH;
        if (c->state == CS_DEAD)
            conn_free(c);
        else
            channel_leave_all(c);
    }
    /* Leaving channels never queues output, so nothing can be dirty now. */
}

/* ---- HTTP answers ---------------------------------------------------- */

static void http_error(conn *c, int status, const char *detail, const char *extra)
{
    const char *text = status == 400 ? "Bad Request" : status == 401 ? "Unauthorized"
                     : status == 403 ? "Forbidden" : status == 404 ? "Not Found"
                     : "Service Unavailable";
    ob_buf body, out;
    ob_buf_init(&body, &R.scratch);
    ob_buf_init(&out, &R.scratch);
    ob_buf_puts(&body, "{\"detail\":");
    ob_json_escape(&body, detail, strlen(detail));
    ob_buf_putc(&body, '}');
    ob_buf_printf(&out,
                  "HTTP/1.1 %d %s\r\n"
                  "Content-Type: application/json\r\n"
                  "Content-Length: %zu\r\n"
                  "Connection: close\r\n"
                  "Cache-Control: private, no-store\r\n"
                  "X-Content-Type-Options: nosniff\r\n"
                  "X-Frame-Options: DENY\r\n"
                  "Referrer-Policy: same-origin\r\n"
                  "%s\r\n",
                  status, text, body.len, extra ? extra : "");
    ob_buf_append(&out, body.data, body.len);
    if (c->state == CS_AUTHORIZING) {
        R.nactive--;
        ev_io_set(&c->io, c->io.fd, EV_READ);
        ev_io_start(R.loop, &c->io);
    }
    c->state = CS_HTTP_CLOSE;
    c->t_deadline = now_s() + LINGER_TIMEOUT + HANDSHAKE_TIMEOUT;
    send_http(c, out.data, out.len);
    ob_arena_reset(&R.scratch);
}

static void read_ws(conn *c);

/* ---- the jti check and the switch to WebSocket ----------------------- */

authorizing *auth_new(conn *c, const ob_ticket *t)
{
    authorizing *a = ob_calloc(1, sizeof *a);
    a->c = c;
    a->anonymous = t->anonymous;
    a->uid = t->anonymous ? 0 : t->uid;
    a->n = (uint32_t)t->nchannels;
    a->channels = ob_calloc(t->nchannels, sizeof *a->channels);
    for (size_t i = 0; i < t->nchannels; i++)
        a->channels[i] = ob_strdup(t->channels[i]);
    a->next = c->auth;
    c->auth = a;
    return a;
}

void auth_free(authorizing *a)
{
    if (a->c) {
        authorizing **pp = &a->c->auth;
        while (*pp && *pp != a)
            pp = &(*pp)->next;
        if (*pp)
            *pp = a->next;
    }
    for (uint32_t i = 0; i < a->n; i++)
        ob_free(a->channels[i]);
    ob_free(a->channels);
    ob_free(a);
}

int jti_claim(const char *jti, redisCallbackFn *fn, authorizing *a)
{
    char key[sizeof JTI_PREFIX + OB_TICKET_JTI_LEN];
    char ttl[24];
    snprintf(key, sizeof key, "%s%s", JTI_PREFIX, jti);
    snprintf(ttl, sizeof ttl, "%ld", R.cfg.relay_ticket_ttl);
    const char *argv[] = {"SET", key, "1", "NX", "EX", ttl};
    return link_command(fn, a, 6, argv, NULL);
}

/* 1: claimed (first use), 0: used before, -1: Redis did not answer. */
int jti_result(const redisReply *r)
{
    if (!r || r->type == REDIS_REPLY_ERROR)
        return -1;
    if (r->type == REDIS_REPLY_NIL)
        return 0;
    return r->type == REDIS_REPLY_STATUS ? 1 : -1;
}

static void on_handshake_claim(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    authorizing *a = priv;
    conn *c = a->c;
    if (!c || c->state != CS_AUTHORIZING) {
        auth_free(a);
        return;
    }
    int res = R.shutting_down ? -1 : jti_result(reply);
    if (res <= 0) {
        if (res < 0)
            http_error(c, 503, "Service temporarily unavailable.", NULL);
        else
            http_error(c, 401, "Invalid or expired ticket.", NULL);
        auth_free(a);
        return;
    }
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n"
                     "%s"
                     "\r\n",
                     a->accept, a->proto ? "Sec-WebSocket-Protocol: " OB_WS_SUBPROTOCOL "\r\n" : "");
    c->state = CS_OPEN;
    R.opened++;
    if (a->proto)
        c->flags |= CF_PROTOCOL;
    uint32_t now = now_s();
    c->t_start = c->t_recv = c->t_ping = now;
    send_http(c, head, (size_t)n);
    ev_io_set(&c->io, c->io.fd, EV_READ);
    ev_io_start(R.loop, &c->io);
    ob_debug("relay: fd %d open (user %lld, %u channel(s), %u connections)", c->io.fd,
             (long long)a->uid, a->n, R.nactive);
    user_attach(c, a->anonymous, a->anonymous ? (int64_t)a->addr : a->uid);
    /* The answer goes out before the subscriptions are set up, which only
     * queue frames behind it. */
    proto_on_open(c, (const char *const *)a->channels, a->n);
    auth_free(a);
    /* Frames that came right behind the request head wait in c->hs; no
     * read event would announce them. */
    if (c->hs && c->state == CS_OPEN)
        read_ws(c);
}

static bool trusted_proxy(const unsigned char peer[16])
{
    const ob_strlist *l = &R.cfg.trusted_proxies;
    unsigned char a[16];
    for (size_t i = 0; i < l->count; i++)
        if (ob_ws_parse_addr(l->items[i], strlen(l->items[i]), a) && memcmp(a, peer, 16) == 0)
            return true;
    return false;
}

/* The key the connection counts under when it is anonymous
 * (relay.max_anonymous_per_address): the client's address.  That is the
 * peer's own, unless the peer is the front server, which passes the
 * client's address as the last X-Forwarded-For entry: a peer on the unix
 * socket (only local processes the socket's mode lets in) or at an address
 * of http.trusted_proxies (loopback by default).  Anybody else could put
 * any address there. */
static uint64_t client_key(int fd, const ob_ws_handshake *hs)
{
    static bool warned;
    /* Initialised: the static analyzer cannot see getpeername fill it. */
    struct sockaddr_storage ss = {.ss_family = AF_UNSPEC};
    socklen_t sl = sizeof ss;
    unsigned char peer[16] = {0}, client[16];
    bool trusted = false;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_UNIX) {
            trusted = true;
        } else if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
            peer[10] = peer[11] = 0xff;
            memcpy(peer + 12, &in->sin_addr, 4);
            trusted = trusted_proxy(peer);
        } else if (ss.ss_family == AF_INET6) {
            memcpy(peer, &((const struct sockaddr_in6 *)&ss)->sin6_addr, 16);
            trusted = trusted_proxy(peer);
        }
    }
    if (!trusted)
        return ob_ws_addr_key(peer);
    if (hs->forwarded_for.p &&
        ob_ws_forwarded_addr(hs->forwarded_for.p, hs->forwarded_for.len, client))
        return ob_ws_addr_key(client);
    if (!warned) {
        warned = true;
        ob_warn("relay: the front server sent no client address (X-Forwarded-For): its "
                "anonymous connections count as one client's (relay.max_anonymous_per_address)");
    }
    return ob_ws_addr_key(peer);
}

static bool path_ok(const ob_ws_span *p)
{
    return (p->len == 10 && memcmp(p->p, "/ws/events", 10) == 0) ||
           (p->len == 11 && memcmp(p->p, "/ws/events/", 11) == 0);
}

/* The checks of websocket.md §4, in its order. */
static void on_request_head(conn *c, const char *buf, size_t len, ob_ws_hs_result res,
                            const ob_ws_handshake *hs)
{
    if (hs->path.p && !path_ok(&hs->path)) {
        http_error(c, 404, "Not found.", NULL);
        return;
    }
    if (res == OB_WS_HS_BAD_VERSION) {
        http_error(c, 400, "Bad WebSocket request.", "Sec-WebSocket-Version: 13\r\n");
        return;
    }
    if (res != OB_WS_HS_OK) {
        http_error(c, 400, "Bad WebSocket request.", NULL);
        return;
    }
    if (hs->origin.p) {
        char host[256];
        if (!ob_ws_origin_host(hs->origin.p, hs->origin.len, host, sizeof host) ||
            !ob_config_host_allowed(&R.cfg, host, strlen(host))) {
            ob_info("relay: refused Origin \"%.*s\"", (int)(hs->origin.len > 200 ? 200 : hs->origin.len),
                    hs->origin.p);
            http_error(c, 403, "Origin not allowed.", NULL);
            return;
        }
    }
    const char *raw;
    size_t rawlen;
    ob_ticket t;
    ob_ticket_status st = OB_TICKET_MALFORMED;
    if (ob_ws_query_param(hs->query.p, hs->query.len, "ticket", &raw, &rawlen)) {
        char *tk;
        size_t tklen;
        ob_percent_decode(&R.scratch, raw, rawlen, false, &tk, &tklen);
        st = ob_ticket_verify(&R.keys, tk, tklen, (int64_t)ev_now(R.loop),
                              (size_t)R.cfg.relay_max_channels, &R.scratch, &t);
    }
    if (st != OB_TICKET_OK) {
        ob_debug("relay: refused ticket (%d)", (int)st);
        http_error(c, 401, "Invalid or expired ticket.", NULL);
        return;
    }
    /* Limits before the jti is spent, so a refused client can retry with
     * the same ticket. */
    if (R.nactive >= (uint32_t)R.cfg.relay_max_connections || R.shutting_down) {
        R.refused_full++;
        http_error(c, 503, "Too many connections.", NULL);
        return;
    }
    authorizing *a = auth_new(c, &t);
    a->handshake = true;
    if (a->anonymous)
        a->addr = client_key(c->io.fd, hs);
    a->proto = hs->subprotocol_offered;
    ob_ws_accept_key(hs->key.p, hs->key.len, a->accept);
    if (jti_claim(t.jti, on_handshake_claim, a) != 0) {
        auth_free(a);
        http_error(c, 503, "Service temporarily unavailable.", NULL);
        return;
    }
    /* Keep whatever followed the head (a client may send frames right
     * behind it) for the WebSocket parser. */
    struct handshake_buf *left = NULL;
    if (len > hs->head_len) {
        size_t rest = len - hs->head_len;
        left = ob_malloc(sizeof *left + rest);
        left->len = (uint32_t)rest;
        left->off = 0;
        memcpy(left->data, buf + hs->head_len, rest);
    }
    ob_free(c->hs); /* (buf may point into it: copied first) */
    c->hs = left;
    c->state = CS_AUTHORIZING;
    R.nactive++;
    /* Nothing is read until the answer: the 101 must precede any frame. */
    ev_io_stop(R.loop, &c->io);
    c->flags &= (uint16_t)~CF_WANT_WRITE;
    ob_arena_reset(&R.scratch);
}

static void read_handshake(conn *c)
{
    static char scratch[OB_WS_MAX_HEAD];
    char *buf;
    size_t have, room;
    if (c->hs) {
        buf = c->hs->data;
        have = c->hs->len;
    } else {
        buf = scratch;
        have = 0;
    }
    room = OB_WS_MAX_HEAD - have;
    ssize_t n = recv(c->io.fd, buf + have, room, 0);
    if (n == 0) {
        conn_kill(c);
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_kill(c);
        return;
    }
    size_t len = have + (size_t)n;
    ob_ws_handshake hs;
    ob_ws_hs_result res = ob_ws_handshake_parse(buf, len, OB_WS_MAX_HEAD, &hs);
    if (res == OB_WS_HS_INCOMPLETE) {
        if (!c->hs) {
            /* Rare (the head usually comes in one read): keep the bytes. */
            c->hs = ob_malloc(sizeof *c->hs + OB_WS_MAX_HEAD);
            memcpy(c->hs->data, buf, len);
        }
        c->hs->len = (uint32_t)len;
        c->hs->off = 0;
        return;
    }
    on_request_head(c, buf, len, res, &hs);
}

/* ---- wslay ----------------------------------------------------------- */

/* What is left of READ_BUDGET in this read_ws(). */
static size_t read_budget;

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *udata)
{
    (void)flags;
    conn *c = udata;
    if (c->hs) {
        size_t avail = c->hs->len - c->hs->off;
        size_t n = avail < len ? avail : len;
        memcpy(buf, c->hs->data + c->hs->off, n);
        c->hs->off += (uint32_t)n;
        if (c->hs->off == c->hs->len) {
            ob_free(c->hs);
            c->hs = NULL;
        }
        c->ws_fed += (uint32_t)n;
        return (ssize_t)n;
    }
    if (read_budget == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > read_budget)
        len = read_budget;
    for (;;) {
        ssize_t n = recv(c->io.fd, buf, len, 0);
        if (n > 0) {
            c->ws_fed += (uint32_t)n;
            c->t_recv = now_s();
            read_budget -= (size_t)n;
            return n;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        } else {
            c->flags |= CF_RECV_EOF;
            wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        }
        return -1;
    }
}

/* wslay's own output (pongs and close echoes it queues) goes nowhere; the
 * relay sends those itself from ws_msg. */
static ssize_t ws_sink(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *udata)
{
    (void)ctx, (void)data, (void)flags, (void)udata;
    return (ssize_t)len;
}

static void ws_frame_start(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *udata)
{
    (void)ctx;
    conn *c = udata;
    uint64_t pl = arg->payload_length;
    /* wslay only gets here for masked frames with minimal length encoding. */
    uint32_t hl = 2 + (pl < 126 ? 0 : pl < 65536 ? 2 : 8) + 4;
    c->ws_frame = hl + (uint32_t)pl;
    c->flags |= CF_IN_FRAME;
    if (!wslay_is_ctrl_frame(arg->opcode)) {
        if (arg->fin)
            c->flags &= (uint16_t)~CF_IN_MSG;
        else
            c->flags |= CF_IN_MSG;
    }
}

static void ws_frame_end(wslay_event_context_ptr ctx, void *udata)
{
    (void)ctx;
    conn *c = udata;
    c->ws_used += c->ws_frame;
    c->flags &= (uint16_t)~CF_IN_FRAME;
}

static void ws_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *udata)
{
    (void)ctx;
    conn *c = udata;
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
        if (c->state == CS_OPEN)
            proto_on_text(c, (const char *)arg->msg, arg->msg_length);
        break;
    case WSLAY_BINARY_FRAME:
        if (c->state == CS_OPEN)
            conn_close(c, WS_UNSUPPORTED);
        break;
    case WSLAY_PING:
        send_pong(c, arg->msg, arg->msg_length);
        break;
    case WSLAY_CONNECTION_CLOSE:
        c->flags |= CF_CLOSE_RECV;
        if (!(c->flags & CF_CLOSE_SENT)) {
            /* Echo the peer's code (RFC 6455 §5.5.1); none for none. */
            frame *f = arg->status_code ? frame_new(WSLAY_CONNECTION_CLOSE, arg->msg, 2)
                                        : frame_new(WSLAY_CONNECTION_CLOSE, NULL, 0);
            c->flags |= CF_CLOSE_SENT;
            if (c->state == CS_OPEN) {
                conn_close(c, 0); /* queues nothing more: CLOSE_SENT is set */
                queue_push(c, f);
            }
            frame_unref(f);
        }
        if (c->state == CS_CLOSING)
            mark_dirty(c); /* the flush kills it once the queue is empty */
        break;
    default:
        break;
    }
}

static const struct wslay_event_callbacks ws_callbacks = {
    ws_recv, ws_sink, NULL, ws_frame_start, NULL, ws_frame_end, ws_msg,
};

static void read_ws(conn *c)
{
    if (!c->ws) {
        if (wslay_event_context_server_init(&c->ws, &ws_callbacks, c) != 0)
            ob_oom(sizeof(void *));
        wslay_event_config_set_max_recv_msg_length(c->ws, (uint64_t)R.cfg.relay_max_frame_bytes);
        c->ws_fed = c->ws_used = 0;
        c->flags &= (uint16_t)~(CF_IN_FRAME | CF_IN_MSG);
    }
    wslay_event_set_error(c->ws, 0);
    read_budget = READ_BUDGET; /* (bytes left over from the handshake are not counted) */
    int r = wslay_event_recv(c->ws);
    if (c->state == CS_DEAD)
        return;
    /* Let wslay account for what it queued (into the sink). */
    wslay_event_send(c->ws);
    if (c->flags & CF_RECV_EOF) {
        conn_kill(c);
        return;
    }
    if (wslay_event_get_close_sent(c->ws) && !(c->flags & CF_CLOSE_SENT)) {
        /* wslay refused the input: 1002 (framing, masking, opcodes, bad
         * close codes), 1007 (UTF-8), 1009 (size).  It reports a framing
         * error below the message layer as "no status": that is 1002. */
        uint16_t code = wslay_event_get_status_code_sent(c->ws);
        if (code == WS_NO_STATUS || code == 0)
            code = WS_PROTOCOL_ERROR;
        conn_close(c, code);
        /* wslay reads nothing more, so the peer's close frame would never
         * be seen: close TCP once ours is out (RFC 6455 §7.1.7 allows it). */
        c->flags |= CF_LINGER;
        return;
    }
    if (r != 0 && c->state == CS_OPEN) {
        conn_close(c, WS_INTERNAL);
        return;
    }
    if (c->state == CS_OPEN && !(c->flags & (CF_IN_FRAME | CF_IN_MSG)) && c->ws_fed == c->ws_used &&
        !c->hs) {
        /* Every byte read so far belongs to a complete frame: the parser
         * holds nothing worth keeping. */
        wslay_event_context_free(c->ws);
        c->ws = NULL;
    }
}

static void read_linger(conn *c)
{
    char buf[4096];
    for (;;) {
        ssize_t n = recv(c->io.fd, buf, sizeof buf, 0);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            conn_kill(c);
        return;
    }
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    conn *c = (conn *)w;
    if (revents & EV_WRITE)
        conn_flush(c);
    if (c->state == CS_DEAD || !(revents & EV_READ))
        return;
    switch (c->state) {
    case CS_HANDSHAKE:
        read_handshake(c);
        break;
    case CS_OPEN:
    case CS_CLOSING:
        if (c->state == CS_CLOSING && ((c->flags & (CF_CLOSE_RECV | CF_LINGER)) ||
                                       (c->ws && !wslay_event_get_read_enabled(c->ws)))) {
            /* Nothing more to parse: drain, so a readable socket does not
             * wake the loop forever. */
            read_linger(c);
            break;
        }
        read_ws(c);
        break;
    case CS_HTTP_CLOSE:
        read_linger(c);
        break;
    default:
        break;
    }
}

/* ---- accepting ------------------------------------------------------- */

static void conn_new(int fd)
{
    conn *c = ob_calloc(1, sizeof *c);
    ev_io_init(&c->io, on_io, fd, EV_READ);
    ev_io_start(R.loop, &c->io);
    c->state = CS_HANDSHAKE;
    c->t_start = c->t_recv = now_s();
    c->prev = R.conns_tail;
    if (R.conns_tail)
        R.conns_tail->next = c;
    else
        R.conns = c;
    R.conns_tail = c;
    R.nsockets++;
}

static void on_accept_pause(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w, (void)revents;
    if (R.listen_fd >= 0)
        ev_io_start(loop, &R.listen_io);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)w, (void)revents;
    static const char busy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Content-Length: 34\r\nConnection: close\r\n\r\n{\"detail\":\"Too many connections.\"}";
    for (int i = 0; i < 512; i++) {
        int fd = accept4(R.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: the pending connection would wake us
                 * again at once; pause instead of spinning. */
                ob_warn("relay: accept: %s (%u sockets open); pausing accept", strerror(errno),
                        R.nsockets);
                ev_io_stop(loop, &R.listen_io);
                ev_timer_set(&R.accept_pause, 0.5, 0.);
                ev_timer_start(loop, &R.accept_pause);
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                ob_warn("relay: accept: %s", strerror(errno));
            }
            return;
        }
        if (R.nsockets >= (uint32_t)R.cfg.relay_max_connections + SOCKET_SLACK) {
            ssize_t wr = write(fd, busy, sizeof busy - 1);
            (void)wr;
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails on unix sockets */
        conn_new(fd);
    }
}

static int open_listener(const char *addr)
{
    long mode = strtol(R.cfg.socket_mode, NULL, 8);
    int fd = ob_net_listen(addr, R.cfg.backlog, mode, OB_NET_NONBLOCK, "relay.listen");
    ob_net_addr a;
    const char *why;
    if (fd >= 0 && ob_net_parse(addr, 0, &a, &why) == 0 && a.is_unix)
        R.unix_path = ob_strdup(a.path); /* removed at exit */
    return fd;
}

/* ---- timers ---------------------------------------------------------- */

/* One ping frame for everybody; its count never reaches zero. */
static frame *ping_frame;

static void on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    uint32_t now = now_s();
    uint32_t idle = (uint32_t)R.cfg.relay_idle_timeout;
    uint32_t ping = (uint32_t)R.cfg.relay_ping_interval;
    uint32_t life = (uint32_t)R.cfg.relay_max_lifetime;
    for (conn *c = R.conns, *next; c; c = next) {
        next = c->next;
        switch (c->state) {
        case CS_HANDSHAKE:
            if (now - c->t_start >= HANDSHAKE_TIMEOUT)
                conn_kill(c);
            break;
        case CS_AUTHORIZING:
            if (now - c->t_start >= AUTHORIZE_TIMEOUT)
                http_error(c, 503, "Service temporarily unavailable.", NULL);
            break;
        case CS_OPEN:
            if (now - c->t_recv >= idle) {
                conn_close(c, WS_GOING_AWAY);
            } else if (c->qhead && now - c->t_sent >= idle) {
                /* Output has waited idle_timeout without the client taking
                 * a byte: it sends (pings, say) but does not read.  A close
                 * frame would not get through either. */
                ob_debug("relay: fd %d stopped reading (%u bytes queued): closing", c->io.fd,
                         c->qbytes);
                conn_kill(c);
            } else if (now - c->t_start >= life) {
                conn_close(c, WS_REVOKED);
            } else if (now - c->t_ping >= ping) {
                c->t_ping = now;
                if (queue_room(c, ping_frame->len))
                    queue_push(c, ping_frame);
            }
            break;
        case CS_CLOSING:
        case CS_HTTP_CLOSE:
            if ((int32_t)(now - c->t_deadline) >= 0)
                conn_kill(c);
            break;
        default:
            break;
        }
    }
}

/* ---- start and stop -------------------------------------------------- */

int server_init(void)
{
    if (!ping_frame) {
        ping_frame = frame_new(WSLAY_PING, NULL, 0);
        ping_frame->refs = UINT32_MAX / 2;
    }
    R.listen_fd = open_listener(R.cfg.relay_listen);
    if (R.listen_fd < 0)
        return -1;
    ev_io_init(&R.listen_io, on_accept, R.listen_fd, EV_READ);
    ev_io_start(R.loop, &R.listen_io);
    ev_timer_init(&R.accept_pause, on_accept_pause, 0., 0.);
    ev_prepare_init(&R.prepare, on_prepare);
    ev_prepare_start(R.loop, &R.prepare);
    ev_timer_init(&R.sweep, on_sweep, 1., 1.);
    ev_timer_start(R.loop, &R.sweep);
    ob_info("relay: listening on %s", R.cfg.relay_listen);
    return 0;
}

void server_close_listener(void)
{
    if (R.listen_fd < 0)
        return;
    ev_io_stop(R.loop, &R.listen_io);
    ev_timer_stop(R.loop, &R.accept_pause);
    close(R.listen_fd);
    R.listen_fd = -1;
    if (R.unix_path) {
        unlink(R.unix_path);
        ob_free(R.unix_path);
        R.unix_path = NULL;
    }
}

void server_shutdown(void)
{
    R.shutting_down = true;
    server_close_listener();
    for (conn *c = R.conns, *next; c; c = next) {
        next = c->next;
        if (c->state == CS_OPEN)
            conn_close(c, WS_GOING_AWAY);
        else if (c->state == CS_HANDSHAKE || c->state == CS_AUTHORIZING)
            conn_kill(c);
    }
}

void server_apply_config(void)
{
    /* Limits and timers are read from R.cfg where they are used; nothing
     * to push.  Connections over a lowered per-user or per-address limit
     * keep running until they close on their own. */
}

void server_finish(void)
{
    server_close_listener();
    ev_prepare_stop(R.loop, &R.prepare);
    ev_timer_stop(R.loop, &R.sweep);
    for (conn *c = R.conns; c; c = c->next)
        conn_kill(c);
    R.dirty = NULL;
    while (reap_list) {
        conn *c = reap_list;
        reap_list = c->reap;
        conn_free(c);
    }
    ob_free(U.b);
    memset(&U, 0, sizeof U);
    ob_free(A.b);
    memset(&A, 0, sizeof A);
    if (ping_frame) {
        ob_free(ping_frame);
        ping_frame = NULL;
    }
}
