/* metrics_http.c - the scrape endpoint's HTTP server (see metrics_http.h).
 *
 * One request per connection (Connection: close), as Prometheus asks:
 * read the head (at most HEAD_MAX bytes), answer GET or HEAD /metrics with
 * the rendered text, anything else with 404 or 405, close.  Everything is
 * non-blocking and level-triggered through one epoll set, so the host's
 * loop only needs one descriptor. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "openbook/core/alloc.h"
#include "openbook/core/log.h"
#include "openbook/core/net.h"
#include "openbook/core/promtext.h"
#include "openbook/http/metrics_http.h"
#include "openbook/http/parse.h"

#define MAX_CLIENTS 8
#define HEAD_MAX 4096
#define CLIENT_TIMEOUT_NS (10LL * 1000000000LL)
#define LISTENER UINT32_MAX

typedef struct client {
    int fd;               /* -1: free */
    int64_t deadline_ns;
    size_t in_len;
    char in[HEAD_MAX];
    ob_buf out;           /* the whole answer, once the head is read */
    size_t out_off;
} client;

struct ob_metrics_server {
    int epfd, lfd;
    ob_metrics_render_fn render;
    void *ud;
    client cl[MAX_CLIENTS];
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

ob_metrics_server *ob_metrics_server_open(const char *addr, const char *what,
                                          ob_metrics_render_fn render, void *ud)
{
    int lfd = ob_net_listen(addr, 16, 0, OB_NET_NONBLOCK, what);
    if (lfd < 0)
        return NULL;
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = LISTENER};
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) != 0) {
        ob_error("%s: epoll: %s", what, strerror(errno));
        if (epfd >= 0)
            close(epfd);
        close(lfd);
        return NULL;
    }
    ob_metrics_server *s = ob_calloc(1, sizeof *s);
    s->epfd = epfd;
    s->lfd = lfd;
    s->render = render;
    s->ud = ud;
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        s->cl[i].fd = -1;
        ob_buf_init(&s->cl[i].out, NULL);
    }
    ob_info("%s: serving http://%s/metrics", what, addr);
    return s;
}

int ob_metrics_server_fd(const ob_metrics_server *s)
{
    return s ? s->epfd : -1;
}

static void drop(ob_metrics_server *s, client *c)
{
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->in_len = 0;
    c->out_off = 0;
    ob_buf_free(&c->out);
    ob_buf_init(&c->out, NULL);
}

static void accept_all(ob_metrics_server *s, int64_t now)
{
    for (;;) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a transient error: the next readiness retries */
        client *c = NULL, *oldest = NULL;
        for (size_t i = 0; i < MAX_CLIENTS && !c; i++) {
            if (s->cl[i].fd < 0)
                c = &s->cl[i];
            else if (!oldest || s->cl[i].deadline_ns < oldest->deadline_ns)
                oldest = &s->cl[i];
        }
        if (!c) {
            drop(s, oldest); /* every place taken: the oldest gives way */
            c = oldest;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(c - s->cl)};
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->deadline_ns = now + CLIENT_TIMEOUT_NS;
    }
}

/* Status line and headers, then the body (none for HEAD). */
static void answer(client *c, int status, const char *reason, const char *ctype,
                   const char *extra, const ob_buf *body, bool head_only)
{
    ob_buf_printf(&c->out,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                  status, reason, ctype, body->len, extra);
    if (!head_only && body->len)
        ob_buf_append(&c->out, body->data, body->len);
}

static void respond(ob_metrics_server *s, client *c)
{
    ob_request_line rl;
    ob_buf body;
    ob_buf_init(&body, NULL);
    if (!ob_parse_request_line(c->in, c->in_len, &rl)) {
        ob_buf_puts(&body, "bad request\n");
        answer(c, 400, "Bad Request", "text/plain; charset=utf-8", "", &body, false);
    } else {
        bool get = rl.method_len == 3 && memcmp(rl.method, "GET", 3) == 0;
        bool head = rl.method_len == 4 && memcmp(rl.method, "HEAD", 4) == 0;
        bool metrics = rl.path_len == 8 && memcmp(rl.path, "/metrics", 8) == 0;
        if (!metrics) {
            ob_buf_puts(&body, "not found: the metrics are at /metrics\n");
            answer(c, 404, "Not Found", "text/plain; charset=utf-8", "", &body, head);
        } else if (!get && !head) {
            ob_buf_puts(&body, "method not allowed\n");
            answer(c, 405, "Method Not Allowed", "text/plain; charset=utf-8",
                   "Allow: GET, HEAD\r\n", &body, false);
        } else {
            s->render(&body, s->ud);
            answer(c, 200, "OK", OB_PROM_CONTENT_TYPE, "", &body, head);
        }
    }
    ob_buf_free(&body);
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)(c - s->cl)};
    epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_readable(ob_metrics_server *s, client *c)
{
    for (;;) {
        if (c->in_len == sizeof c->in) {
            drop(s, c); /* no request head is this long */
            return;
        }
        ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            drop(s, c); /* closed or failed before a whole head */
            return;
        }
        size_t from = c->in_len >= 3 ? c->in_len - 3 : 0;
        c->in_len += (size_t)n;
        const char *end = c->in + c->in_len;
        for (const char *p = c->in + from; p < end; p++) {
            /* The head ends with an empty line (CRLF CRLF, or LF LF). */
            if (*p == '\n' && ((p - c->in >= 1 && p[-1] == '\n') ||
                               (p - c->in >= 2 && p[-1] == '\r' && p[-2] == '\n'))) {
                respond(s, c);
                return;
            }
        }
    }
}

static void on_writable(ob_metrics_server *s, client *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0)
            break;
        c->out_off += (size_t)n;
    }
    drop(s, c);
}

void ob_metrics_server_run(ob_metrics_server *s)
{
    if (!s)
        return;
    int64_t now = mono_ns();
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (s->cl[i].fd >= 0 && now > s->cl[i].deadline_ns)
            drop(s, &s->cl[i]);
    struct epoll_event evs[MAX_CLIENTS + 1];
    int n = epoll_wait(s->epfd, evs, MAX_CLIENTS + 1, 0);
    for (int i = 0; i < n; i++) {
        uint32_t who = evs[i].data.u32;
        if (who == LISTENER) {
            accept_all(s, now);
            continue;
        }
        client *c = &s->cl[who];
        if (c->fd < 0)
            continue; /* dropped earlier in this turn */
        if (c->out.len)
            on_writable(s, c);
        else
            on_readable(s, c);
    }
}

void ob_metrics_server_abandon(ob_metrics_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        if (s->cl[i].fd >= 0)
            close(s->cl[i].fd); /* no EPOLL_CTL_DEL: that would reach the parent's set */
        ob_buf_free(&s->cl[i].out);
    }
    close(s->lfd);
    close(s->epfd);
    ob_free(s);
}

void ob_metrics_server_close(ob_metrics_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        if (s->cl[i].fd >= 0)
            drop(s, &s->cl[i]);
    for (size_t i = 0; i < MAX_CLIENTS; i++)
        ob_buf_free(&s->cl[i].out);
    close(s->lfd);
    close(s->epfd);
    ob_free(s);
}
