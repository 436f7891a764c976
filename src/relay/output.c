/* output.c - what a connection sends: its queue of frames (shared by
 * reference), the send-queue cap (websocket.md §7), the one pong that may
 * wait, and the writev of everything queued in a loop turn, from the
 * prepare watcher (conn.c) or when the socket becomes writable again.
 * Once a queue drains, a closing connection moves on (after_drain). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "openbook/core/alloc.h"
#include "openbook/core/log.h"
#include "relay.h"

/* ---- the dirty list and EV_WRITE ------------------------------------- */

void conn_mark_dirty(conn *c)
{
    if (c->flags & CF_DIRTY || c->state == CS_DEAD)
        return;
    c->flags |= CF_DIRTY;
    c->link = R.dirty;
    R.dirty = c;
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

/* ---- the queue ------------------------------------------------------- */

void queue_push(conn *c, frame *f)
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
    conn_mark_dirty(c);
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
void queue_drop_unsent(conn *c)
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

void queue_free(conn *c)
{
    while (c->qhead)
        queue_pop(c);
}

/* Whether one more frame of len bytes fits under the send-queue cap, which
 * counts every frame, control frames included.  When it does not, the
 * connection is closed with 1013. */
bool queue_room(conn *c, uint32_t len)
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
void conn_send_pong(conn *c, const void *payload, size_t len)
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

void conn_send_http(conn *c, const char *text, size_t len)
{
    frame *f = frame_new_bytes(text, len);
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

void conn_flush(conn *c)
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
