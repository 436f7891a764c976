/* server.c - the relay's listening socket: opening it (relay.listen),
 * accepting (a plain 503 past relay.max_connections plus some slack, a
 * pause while out of descriptors), and starting and stopping the server
 * as a whole.  A connection's life is in conn.c. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "openbook/core/alloc.h"
#include "openbook/core/log.h"
#include "openbook/core/net.h"
#include "relay.h"

relay R;

#define SOCKET_SLACK 256     /* sockets beyond max_connections, for refusals */

/* ---- accepting ------------------------------------------------------- */

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

/* ---- start and stop -------------------------------------------------- */

int server_init(void)
{
    R.listen_fd = open_listener(R.cfg.relay_listen);
    if (R.listen_fd < 0)
        return -1;
    ev_io_init(&R.listen_io, on_accept, R.listen_fd, EV_READ);
    ev_io_start(R.loop, &R.listen_io);
    ev_timer_init(&R.accept_pause, on_accept_pause, 0., 0.);
    conns_start();
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
    conns_finish();
    users_finish();
}
