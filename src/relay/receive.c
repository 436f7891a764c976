/* receive.c - what a connection receives after the handshake, through
 * wslay.  wslay is used as the receiving state machine only (framing,
 * masking rules, fragmentation, control frames, UTF-8 of text messages,
 * the size limit); everything the relay sends is built by frame.c and
 * queued by output.c.  wslay's send side is drained into a sink after each
 * read, so the pongs and close echoes it queues for itself never pile up;
 * the relay answers those control frames itself from the received-message
 * callback.
 *
 * The wslay context (~8.5 KB) is created when bytes arrive and freed again
 * once every byte handed to it belongs to a complete frame and no
 * fragmented message is open.  An idle connection therefore holds no
 * parser state at all; see the byte accounting in ws_frame_start/end. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "openbook/core/alloc.h"
#include "relay.h"

/* Bytes read from one socket per readiness event.  wslay parses until the
 * socket runs dry and queues a pong of its own for every ping meanwhile
 * (drained into ws_sink only afterwards), so without a bound a client that
 * sends faster than the relay parses would hold the loop and grow that
 * queue for as long as it keeps sending.  The rest waits for the next loop
 * turn (libev reports the socket readable again). */
#define READ_BUDGET 16384

/* What is left of READ_BUDGET in this ws_read(). */
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
        conn_send_pong(c, arg->msg, arg->msg_length);
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
            conn_mark_dirty(c); /* the flush kills it once the queue is empty */
        break;
    default:
        break;
    }
}

static const struct wslay_event_callbacks ws_callbacks = {
    ws_recv, ws_sink, NULL, ws_frame_start, NULL, ws_frame_end, ws_msg,
};

void ws_read(conn *c)
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
