/* relay.h - internals of openbook-relay (websocket.md), shared by the files
 * of src/relay/.  One process, one thread, one libev loop:
 *
 *   main.c      command line, configuration, signals (SIGTERM, SIGHUP)
 *   server.c    the listening socket, accepting, starting and stopping
 *   conn.c      a connection's life: socket events, closing, the end of
 *               the loop turn (writes, frees), timers
 *   handshake.c the HTTP upgrade (websocket.md §4) and its error answers
 *   authorize.c a ticket's jti claimed in Redis (handshake and subscribe)
 *   receive.c   incoming frames through wslay, control frames answered
 *   frame.c     outgoing frames, built once and shared
 *   output.c    per-connection send queues, their cap, writev
 *   users.c     connections per user and per anonymous address, limits
 *   proto.c     the client protocol: actions in, JSON frames out
 *   channels.c  channels, fan-out, resume and recovery from the streams
 *   link.c      the two Redis connections (SUBSCRIBE; commands), reconnects
 *   metrics.c   its Prometheus figures
 *
 * Memory: an idle connection is a struct conn (about 200 bytes) plus its
 * subscriptions.  The WebSocket parser state (wslay, ~8.5 KB) exists only
 * while a frame or fragmented message is being received; output frames are
 * built once and shared by every connection that sends them.
 *
 * Structural changes to channel subscriber arrays never happen while one is
 * being walked: a connection that closes during a fan-out only changes its
 * state; it leaves its channels and is freed in the prepare watcher, which
 * also does all socket writes (one writev per connection per loop turn). */
#ifndef OPENBOOK_RELAY_H
#define OPENBOOK_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ev.h>
#include <hiredis.h>
#include <async.h>
#include <wslay/wslay.h>
#include "openbook/core/arena.h"
#include "openbook/core/buf.h"
#include "openbook/core/config.h"
#include "openbook/core/ticket.h"

typedef struct conn conn;
typedef struct channel channel;
typedef struct frame frame;
typedef struct replay replay;
typedef struct user user;
typedef struct pending_reply pending_reply;

/* Close codes (websocket.md §8). */
enum {
    WS_NORMAL = 1000,
    WS_GOING_AWAY = 1001,
    WS_PROTOCOL_ERROR = 1002,
    WS_UNSUPPORTED = 1003,
    WS_NO_STATUS = 1005,
    WS_BAD_DATA = 1007,
    WS_POLICY = 1008,
    WS_TOO_BIG = 1009,
    WS_INTERNAL = 1011,
    WS_OVERLOAD = 1013,
    WS_REVOKED = 4401,
    WS_TOO_MANY = 4429,
};

/* ---- frames: server-to-client WebSocket frames, reference counted ---- */
/* (frame.c) */

struct frame {
    uint32_t refs;
    uint32_t len;           /* header + payload */
    unsigned char data[];
};

/* A complete unmasked frame with FIN set. */
frame *frame_new(unsigned opcode, const void *payload, size_t len);
static inline frame *frame_ref(frame *f)
{
    f->refs++;
    return f;
}
void frame_unref(frame *f);
/* Raw bytes (HTTP answers) travel through the same queue. */
frame *frame_new_bytes(const void *p, size_t len);
/* A close frame with `code` and its reason. */
frame *frame_new_close(uint16_t code);

/* ---- connections ----------------------------------------------------- */

#define HANDSHAKE_TIMEOUT 10 /* seconds to send a complete request head */
#define CLOSE_TIMEOUT 10     /* seconds to wait for the peer's close frame */
#define LINGER_TIMEOUT 2     /* seconds to drain input after an HTTP error */
#define AUTHORIZE_TIMEOUT 30 /* seconds for the jti check (Redis stalled) */

enum conn_state {
    CS_HANDSHAKE,   /* reading the HTTP request head */
    CS_AUTHORIZING, /* ticket checked, waiting for SET NX on its jti */
    CS_OPEN,        /* WebSocket established */
    CS_CLOSING,     /* close frame queued or sent; waiting for the peer */
    CS_HTTP_CLOSE,  /* an HTTP error answer queued; close when written */
    CS_DEAD,        /* socket closed; freed at the end of the loop turn */
};

enum conn_flags {
    CF_DIRTY = 1 << 0,      /* on R.dirty: has output to write */
    CF_WANT_WRITE = 1 << 1, /* EV_WRITE armed */
    CF_CLOSE_SENT = 1 << 2,
    CF_CLOSE_RECV = 1 << 3,
    CF_IN_FRAME = 1 << 4,   /* wslay is inside a frame */
    CF_IN_MSG = 1 << 5,     /* ... or between fragments of a message */
    CF_RECV_EOF = 1 << 6,   /* the peer closed or reset the socket */
    CF_DETACH = 1 << 7,     /* on R.detach: leave channels at the prepare */
    CF_PROTOCOL = 1 << 8,   /* offered and got "openbook.v1" */
    CF_LINGER = 1 << 9,     /* input refused: half-close and drain, no close frame expected */
};

struct sub {               /* connection side of a subscription */
    channel *ch;
    uint32_t idx;           /* position in ch->subs */
    replay *job;            /* a resume in progress on this channel, or NULL */
    ob_event_id floor;      /* after a resume: live events up to here were replayed */
};

struct qnode {
    struct qnode *next;
    frame *f;
};

/* Bytes of a partial request head, or those that came behind a complete
 * one (read by receive.c first). */
struct handshake_buf {
    uint32_t len, off;
    char data[];
};
typedef struct authorizing authorizing;

struct conn {
    ev_io io;
    conn *prev, *next;          /* R.conns, oldest first */
    conn *link;                 /* R.dirty chain */
    conn *reap;                 /* the reap chain (conn.c) */
    conn *uprev, *unext;        /* the user's connections, oldest first */
    user *user;                 /* the user's (anonymous: the address's) group; NULL until open */
    wslay_event_context_ptr ws; /* lazily created, see receive.c */
    struct handshake_buf *hs;   /* partial request head, or unread bytes */
    authorizing *auth;          /* tickets waiting for their jti check */
    struct qnode *qhead, *qtail;
    struct qnode *pong;         /* the pong queued and not yet started, or NULL */
    uint32_t qoff;              /* bytes of qhead->f already written */
    uint32_t qframes, qbytes;   /* queued, for the send-queue cap */
    struct sub *subs;
    uint16_t nsubs, capsubs;
    uint16_t flags;
    uint8_t state;
    uint8_t errors;             /* protocol errors in the current window */
    uint32_t t_start, t_recv, t_ping, t_deadline, t_errwin;
    uint32_t t_sent;            /* the queue last became non-empty or lost bytes */
    uint32_t ws_fed, ws_used, ws_frame; /* bytes given to / consumed by wslay */
    pending_reply *replies;     /* "subscribed" answers waiting for Redis */
};

typedef struct relay {
    struct ev_loop *loop;
    ob_config cfg;
    char *config_path;          /* -c FILE or NULL */
    ob_ticket_keys keys;
    double t0;                  /* ev_now at start: times are seconds since */

    int listen_fd;
    char *unix_path;            /* unlinked at exit */
    ev_io listen_io;
    ev_timer accept_pause;      /* while out of file descriptors */

    conn *conns, *conns_tail;
    uint32_t nsockets;          /* every accepted socket */
    uint32_t nactive;           /* open or authorizing (the max_connections count) */
    conn *dirty;
    ev_prepare prepare;
    ev_timer sweep;

    bool shutting_down;
    ev_timer shutdown_timer;

    ob_arena scratch;           /* reset after each callback that uses it */

    /* Counters for logs, the benchmark and the metrics (metrics.c). */
    uint64_t events_in, frames_out, closes_overflow;
    uint64_t opened, deliveries, resumes, redis_reconnects;
    uint64_t refused_user, refused_address, refused_full;
    struct ob_metrics_server *metrics; /* relay.metrics_listen, or NULL */
    ev_io metrics_io;
} relay;

extern relay R;

static inline uint32_t now_s(void)
{
    return (uint32_t)(ev_now(R.loop) - R.t0);
}

/* server.c */
int server_init(void);
void server_shutdown(void);       /* SIGTERM: close frames 1001, stop accepting */
void server_apply_config(void);   /* after SIGHUP */
void server_close_listener(void);
/* After the loop: closes and frees every connection and the user table. */
void server_finish(void);

/* conn.c */
/* A socket just accepted: its handshake begins. */
void conn_new(int fd);
/* The end-of-loop-turn watcher and the timers. */
void conns_start(void);
/* Closes and frees every connection. */
void conns_finish(void);
/* Starts the close handshake with `code` (the connection stops receiving
 * events at once). */
void conn_close(conn *c, uint16_t code);
/* Closes the socket now; the struct goes at the end of the loop turn. */
void conn_kill(conn *c);
bool conn_is_open(const conn *c);

/* output.c */
/* Queues a frame (takes a reference) unless the connection is not open or
 * the queue is over its cap (then it is closed with 1013). */
void conn_send(conn *c, frame *f);
/* JSON text message from a buffer. */
void conn_send_json(conn *c, const ob_buf *b);
/* Answers a ping (at most one pong waits). */
void conn_send_pong(conn *c, const void *payload, size_t len);
/* Raw bytes (an HTTP answer), past the cap and whatever the state. */
void conn_send_http(conn *c, const char *text, size_t len);
/* Puts c on R.dirty: its queue is written at the end of the loop turn. */
void conn_mark_dirty(conn *c);
/* Writes what the socket takes; what follows a drained queue (closing). */
void conn_flush(conn *c);
/* The queue itself: a frame at its end (a reference, no cap checked);
 * everything not yet started dropped; everything freed. */
void queue_push(conn *c, frame *f);
void queue_drop_unsent(conn *c);
void queue_free(conn *c);
/* Whether one more frame of len bytes fits under the send-queue cap;
 * when it does not, the connection is closed with 1013. */
bool queue_room(conn *c, uint32_t len);

/* users.c */
int64_t conn_uid(const conn *c);  /* 0 for anonymous */
/* Closes every connection of the user with `code`. */
void users_revoke(int64_t uid, uint16_t code);
/* Adds an open connection to its user's group (anonymous: its address's);
 * the oldest of the group gives way past the limit (4429). */
void user_attach(conn *c, bool anonymous, int64_t uid);
void user_detach(conn *c);
void users_finish(void);

/* handshake.c */
/* Reads (more of) the request head and acts on it once complete. */
void handshake_read(conn *c);
/* Answers the upgrade request with an HTTP error and closes. */
void handshake_error(conn *c, int status, const char *detail, const char *extra);

/* receive.c */
/* Feeds wslay what the socket (or the handshake's leftover) holds. */
void ws_read(conn *c);

/* authorize.c */
/* A ticket whose jti is being claimed (SET NX), for the handshake or for
 * a "subscribe" action.  `c` is cleared when the connection goes away
 * first; the Redis callback then only frees it. */
struct authorizing {
    authorizing *next;          /* the connection's list */
    conn *c;
    bool handshake, proto, anonymous;
    int64_t uid;
    uint64_t addr;              /* anonymous handshake: the client address key */
    char accept[29];
    uint32_t n;
    char **channels;
};
authorizing *auth_new(conn *c, const ob_ticket *t);
void auth_free(authorizing *a);
/* SET openbook:ws:jti:<jti> 1 NX EX <ticket_ttl>; -1 when Redis is down. */
int jti_claim(const char *jti, redisCallbackFn *fn, authorizing *a);
/* 1: first use, 0: used before, -1: no answer. */
int jti_result(const redisReply *r);
/* The connection goes away: its pending claims only free themselves. */
void auth_cancel_all(conn *c);

/* ---- the client protocol (proto.c) ----------------------------------- */

/* A connection just opened with these ticket channels. */
void proto_on_open(conn *c, const char *const *channels, size_t n);
void proto_on_text(conn *c, const char *msg, size_t len);
/* Sends every deferred "subscribed" answer whose channels are all live. */
void proto_flush_replies(conn *c);
void proto_drop_replies(conn *c);
/* {"action": a, "payload": ...} helpers. */
void proto_send_error(conn *c, const char *detail);
void proto_send_resumed(conn *c, const char *channel, bool recovered);
/* Counts a protocol error; closes with 1008 past the limit. */
void proto_count_error(conn *c);

/* ---- channels (channels.c) ------------------------------------------- */

enum channel_state {
    CH_DOWN,           /* not subscribed in Redis (link down or not yet sent) */
    CH_SUBSCRIBING,
    CH_SUBSCRIBED,
    CH_UNSUBSCRIBING,  /* UNSUBSCRIBE sent; a new subscriber waits for it */
};

struct chsub {
    conn *c;
    uint32_t slot;     /* position in c->subs */
};

struct channel {
    channel *hnext;
    char *name;                /* "user:42" */
    struct chsub *subs;
    uint32_t nsubs, capsubs;
    uint32_t pins;             /* in-flight requests that refer to it */
    uint8_t state;
    bool has_last;             /* last_id is known (baseline or forwarded) */
    bool was_live;             /* subscribed before the link went down */
    bool gap;                  /* ... and Redis itself was unreachable meanwhile */
    bool baseline_pending;
    ob_event_id last_id;       /* the last event id forwarded */
    ob_event_id floor;         /* after a recovery: live events up to here were replayed */
    bool has_floor;
    replay *recovery;          /* replay after a Redis outage, or NULL */
};

void channels_init(void);
void channels_finish(void);
channel *channel_find(const char *name);
/* Adds c to the channel (created on first use).  Returns false when c
 * already holds it. */
bool channel_join(conn *c, const char *name);
/* Removes subscription `slot` of c (and the channel when it was the last). */
void channel_leave(conn *c, uint32_t slot);
void channel_leave_all(conn *c);
/* The channel is subscribed in Redis, so events published now reach us. */
bool channel_live(const channel *ch);
void channel_unpin(channel *ch);
static inline void channel_pin(channel *ch)
{
    ch->pins++;
}
size_t channels_count(void);

/* Resume (websocket.md §6) for one connection. */
void channel_resume(conn *c, uint32_t slot, ob_event_id from);
void replay_cancel(replay *job);

/* From the Redis link. */
/* outage: Redis could not be reached for a while (not just our connection
 * dropped), so the app may have failed to publish: clients must resync. */
void channels_on_link_up(bool outage);
void channels_on_link_down(void);
void channels_on_subscribed(const char *name, size_t len);
void channels_on_unsubscribed(const char *name, size_t len);
void channels_on_message(const char *name, size_t nlen, const char *msg, size_t mlen);
void control_on_message(const char *msg, size_t len);

/* ---- the Redis link (link.c) ----------------------------------------- */

#define CONTROL_CHANNEL "openbook:control"
#define CHANNEL_PREFIX "openbook:"
#define STREAM_PREFIX "openbook:stream:"
#define JTI_PREFIX "openbook:ws:jti:"

void link_init(void);
void link_start(void);
void link_stop(void);
/* Reconnects when the Redis settings changed. */
void link_reconfigure(const ob_config *old_cfg);
bool link_up(void);
/* Runs a command on the command connection.  Returns -1 (and never calls
 * fn) when the link is down.  fn gets a NULL reply when the link is lost
 * before the answer. */
int link_command(redisCallbackFn *fn, void *priv, int argc, const char **argv,
                 const size_t *argvlen);
int link_subscribe(const char *name);
int link_unsubscribe(const char *name);

/* ---- metrics (metrics.c) --------------------------------------------- */

/* Serves relay.metrics_listen (nothing when it is empty). */
void relay_metrics_start(void);
void relay_metrics_stop(void);

/* Small helpers shared by the files. */
uint64_t hash_str(const char *s, size_t len);

#endif
