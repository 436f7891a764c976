/* handshake.c - the HTTP side of a connection: reading the request head,
 * the checks of websocket.md §4 (path, version, Origin, ticket, limits),
 * the client's address for the anonymous limit, the jti claim's answer and
 * the switch to WebSocket (101), or a JSON error answer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "openbook/core/alloc.h"
#include "openbook/core/json.h"
#include "openbook/core/log.h"
#include "openbook/http/parse.h"
#include "openbook/http/ws_handshake.h"
#include "relay.h"

/* ---- HTTP answers ---------------------------------------------------- */

void handshake_error(conn *c, int status, const char *detail, const char *extra)
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
    conn_send_http(c, out.data, out.len);
    ob_arena_reset(&R.scratch);
}

/* ---- the jti's answer and the switch to WebSocket -------------------- */

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
            handshake_error(c, 503, "Service temporarily unavailable.", NULL);
        else
            handshake_error(c, 401, "Invalid or expired ticket.", NULL);
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
    conn_send_http(c, head, (size_t)n);
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
        ws_read(c);
}

/* ---- the request head ------------------------------------------------ */

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
        handshake_error(c, 404, "Not found.", NULL);
        return;
    }
    if (res == OB_WS_HS_BAD_VERSION) {
        handshake_error(c, 400, "Bad WebSocket request.", "Sec-WebSocket-Version: 13\r\n");
        return;
    }
    if (res != OB_WS_HS_OK) {
        handshake_error(c, 400, "Bad WebSocket request.", NULL);
        return;
    }
    if (hs->origin.p) {
        char host[256];
        if (!ob_ws_origin_host(hs->origin.p, hs->origin.len, host, sizeof host) ||
            !ob_config_host_allowed(&R.cfg, host, strlen(host))) {
            ob_info("relay: refused Origin \"%.*s\"", (int)(hs->origin.len > 200 ? 200 : hs->origin.len),
                    hs->origin.p);
            handshake_error(c, 403, "Origin not allowed.", NULL);
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
        handshake_error(c, 401, "Invalid or expired ticket.", NULL);
        return;
    }
    /* Limits before the jti is spent, so a refused client can retry with
     * the same ticket. */
    if (R.nactive >= (uint32_t)R.cfg.relay_max_connections || R.shutting_down) {
        R.refused_full++;
        handshake_error(c, 503, "Too many connections.", NULL);
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
        handshake_error(c, 503, "Service temporarily unavailable.", NULL);
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

void handshake_read(conn *c)
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
