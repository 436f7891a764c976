/* conn.c - a connection's life: created on accept, its socket events
 * dispatched by state (handshake.c, receive.c, draining), closing (the
 * close handshake) and killing, the end-of-loop-turn watcher that writes
 * every queued output and frees dead connections, and the timers (the
 * handshake and close deadlines, idle, stalled readers, lifetime, pings). */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include "openbook/core/alloc.h"
#include "openbook/core/log.h"
#include "relay.h"

/* ---- socket events --------------------------------------------------- */

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
        handshake_read(c);
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
        ws_read(c);
        break;
    case CS_HTTP_CLOSE:
        read_linger(c);
        break;
    default:
        break;
    }
}

/* ---- accepting ------------------------------------------------------- */

void conn_new(int fd)
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

bool conn_is_open(const conn *c)
{
    return c->state == CS_OPEN;
}

/* ---- closing --------------------------------------------------------- */

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
            frame *f = frame_new_close(code);
            queue_push(c, f);
            frame_unref(f);
            c->flags |= CF_CLOSE_SENT;
        }
        c->t_deadline = now_s() + CLOSE_TIMEOUT;
        conn_mark_dirty(c);
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
                handshake_error(c, 503, "Service temporarily unavailable.", NULL);
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

void conns_start(void)
{
    if (!ping_frame) {
        ping_frame = frame_new(WSLAY_PING, NULL, 0);
        ping_frame->refs = UINT32_MAX / 2;
    }
    ev_prepare_init(&R.prepare, on_prepare);
    ev_prepare_start(R.loop, &R.prepare);
    ev_timer_init(&R.sweep, on_sweep, 1., 1.);
    ev_timer_start(R.loop, &R.sweep);
}

void conns_finish(void)
{
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
    if (ping_frame) {
        ob_free(ping_frame);
        ping_frame = NULL;
    }
}
