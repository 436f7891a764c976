/* relay_load.c - load generator for openbook-relay (test/bench/relay_bench.py).
 *
 * One process, one epoll loop, many WebSocket connections.  It mints its
 * own tickets (HMAC-SHA256 with relay.ticket_secret, the format of
 * websocket.md §3) and publishes events into Redis exactly as the app does
 * (the script of src/redis/events.c), so nothing but the relay and Redis
 * runs during a measurement.
 *
 *   relay_load --relay UNIX_SOCKET --redis UNIX_SOCKET --secret SECRET
 *
 * Commands on stdin, one answer line each on stdout ("ok ..." / "error ..."):
 *
 *   connect N SPEC       open N connections; SPEC "one:<channel>" puts all on
 *                        one channel, "spread:K" puts connection i on
 *                        user:<1 + i % K>; waits until every one got
 *                        "subscribed"
 *   fanout ROUNDS CH     ROUNDS times: publish one event on CH, wait until
 *                        every connection holding CH has it; latency from
 *                        publish to receipt, per delivery (p50, p99, max)
 *   throughput E K       publish E events round-robin on user:1..user:K as
 *                        fast as Redis takes them; deliveries per second
 *   close                close every connection
 *   quit
 *
 * Build: cc -O2 -o relay_load relay_load.c -lsodium */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RBUF 16384
#define MAX_INFLIGHT 256 /* handshakes in progress at once */

static const char script[] =
    "local ids = {}\n"
    "for i = 1, #KEYS, 2 do\n"
    "  local data = ARGV[i]\n"
    "  local id = redis.call('XADD', KEYS[i], 'MAXLEN', '~', 1000, '*', 'data', data)\n"
    "  redis.call('EXPIRE', KEYS[i], 604800)\n"
    "  redis.call('PUBLISH', KEYS[i + 1], '{\"channel\":' .. ARGV[i + 1] .. ',\"id\":\"' .. id "
    ".. '\",' .. string.sub(data, 2))\n"
    "  ids[#ids + 1] = id\n"
    "end\n"
    "return ids\n";

enum { C_IDLE, C_CONNECTING, C_HTTP, C_SUBSCRIBING, C_READY, C_CLOSED };

typedef struct {
    int fd;
    int state;
    char channel[72];
    char *rbuf;
    size_t rlen;
    char *wbuf;
    size_t wlen, woff;
    uint32_t round_got; /* events of the current fan-out round */
} lconn;

static const char *relay_path, *redis_path, *secret;
static int ep;
static lconn *conns;
static size_t nconns, ready, closed_by_server;
static uint64_t deliveries;
static uint32_t *lat;
static size_t nlat, lat_cap;
static uint32_t round_no;
static int redis_fd = -1;
static char *redis_in;
static size_t redis_in_len;
static uint64_t redis_replies;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        die("out of memory");
    return p;
}

/* ---- tickets ---------------------------------------------------------- */

static char *ticket(const char *channel)
{
    unsigned char r[16];
    char jti[33];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(jti, sizeof jti, r, sizeof r);
    char payload[256];
    int n = snprintf(payload, sizeof payload,
                     "{\"v\":1,\"uid\":null,\"ch\":[\"%s\"],\"exp\":%lld,\"jti\":\"%s\"}", channel,
                     (long long)time(NULL) + 3600, jti);
    const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    static char p64[512], s64[64];
    sodium_bin2base64(p64, sizeof p64, (unsigned char *)payload, (size_t)n, v);
    unsigned char mac[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (unsigned char *)p64, strlen(p64));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(s64, sizeof s64, mac, sizeof mac, v);
    static char out[600];
    snprintf(out, sizeof out, "%s.%s", p64, s64);
    return out;
}

/* ---- connections ------------------------------------------------------ */

static void want(lconn *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void queue_write(lconn *c, const void *p, size_t n)
{
    c->wbuf = realloc(c->wbuf, c->wlen + n);
    if (!c->wbuf)
        die("out of memory");
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += n;
}

static void flush_conn(lconn *c)
{
    while (c->woff < c->wlen) {
        ssize_t w = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
        if (w < 0) {
            if (errno == EAGAIN)
                break;
            return;
        }
        c->woff += (size_t)w;
    }
    if (c->woff == c->wlen) {
        free(c->wbuf);
        c->wbuf = NULL;
        c->wlen = c->woff = 0;
        want(c, EPOLLIN);
    } else {
        want(c, EPOLLIN | EPOLLOUT);
    }
}

static void send_frame(lconn *c, int opcode, const void *payload, size_t len)
{
    unsigned char h[8];
    h[0] = (unsigned char)(0x80 | opcode);
    h[1] = (unsigned char)(0x80 | len); /* control frames only: < 126 */
    memcpy(h + 2, "\x11\x22\x33\x44", 4);
    queue_write(c, h, 6);
    unsigned char buf[128];
    for (size_t i = 0; i < len; i++)
        buf[i] = ((const unsigned char *)payload)[i] ^ h[2 + i % 4];
    queue_write(c, buf, len);
    flush_conn(c);
}

static void conn_closed(lconn *c, bool by_server)
{
    if (c->state == C_CLOSED)
        return;
    if (c->state == C_READY)
        ready--;
    if (by_server)
        closed_by_server++;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->state = C_CLOSED;
    free(c->rbuf);
    c->rbuf = NULL;
    free(c->wbuf);
    c->wbuf = NULL;
}

static bool start_connect(lconn *c)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s (raise the file descriptor limit)", strerror(errno));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", relay_path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        if (e == EAGAIN)
            return false; /* backlog full: try again later */
        die("connect %s: %s", relay_path, strerror(e));
    }
    c->fd = fd;
    c->state = C_HTTP;
    c->rbuf = xmalloc(RBUF);
    c->rlen = 0;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    char req[1024];
    /* Each connection is another browser behind nginx, which passes the
     * client's address (the relay limits anonymous connections per
     * address: relay.max_anonymous_per_address). */
    size_t i = (size_t)(c - conns);
    int n = snprintf(req, sizeof req,
                     "GET /ws/events?ticket=%s HTTP/1.1\r\nHost: localhost\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "X-Forwarded-For: 10.%zu.%zu.%zu\r\n\r\n",
                     ticket(c->channel), (i >> 16) & 255, (i >> 8) & 255, i & 255);
    queue_write(c, req, (size_t)n);
    flush_conn(c);
    return true;
}

static void on_text(lconn *c, const char *msg, size_t len)
{
    if (c->state == C_SUBSCRIBING) {
        if (memmem(msg, len, "\"subscribed\"", 12)) {
            c->state = C_READY;
            ready++;
        }
        return;
    }
    if (!memmem(msg, len, "\"event\"", 7))
        return;
    deliveries++;
    const char *t = memmem(msg, len, "\"t\":", 4);
    const char *r = memmem(msg, len, "\"r\":", 4);
    if (t && r && (uint32_t)strtoul(r + 4, NULL, 10) == round_no) {
        uint64_t sent = strtoull(t + 4, NULL, 10);
        uint64_t d = now_us() - sent;
        if (nlat == lat_cap) {
            lat_cap = lat_cap ? lat_cap * 2 : 1 << 16;
            lat = realloc(lat, lat_cap * sizeof *lat);
            if (!lat)
                die("out of memory");
        }
        lat[nlat++] = (uint32_t)(d > UINT32_MAX ? UINT32_MAX : d);
        c->round_got++;
    }
}

static void on_readable(lconn *c)
{
    for (bool more = true; more;) {
        if (c->rlen == RBUF)
            die("frame larger than the read buffer");
        size_t room = RBUF - c->rlen;
        ssize_t n = read(c->fd, c->rbuf + c->rlen, room);
        /* A short read emptied the socket; epoll (level-triggered) says
         * when there is more, which saves a read that would fail. */
        more = (size_t)n == room;
        if (n == 0) {
            conn_closed(c, true);
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN)
                return;
            conn_closed(c, true);
            return;
        }
        c->rlen += (size_t)n;
        size_t off = 0;
        if (c->state == C_HTTP) {
            char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
            if (!end)
                continue;
            if (c->rlen < 12 || memcmp(c->rbuf + 9, "101", 3) != 0)
                die("handshake refused: %.*s", (int)(c->rlen > 200 ? 200 : c->rlen), c->rbuf);
            off = (size_t)(end - c->rbuf) + 4;
            c->state = C_SUBSCRIBING;
        }
        for (;;) {
            unsigned char *p = (unsigned char *)c->rbuf + off;
            size_t avail = c->rlen - off;
            if (avail < 2)
                break;
            size_t len = p[1] & 0x7f, hl = 2;
            if (len == 126) {
                if (avail < 4)
                    break;
                len = (size_t)p[2] << 8 | p[3];
                hl = 4;
            } else if (len == 127) {
                if (avail < 10)
                    break;
                len = 0;
                for (int i = 0; i < 8; i++)
                    len = len << 8 | p[2 + i];
                hl = 10;
            }
            if (avail < hl + len)
                break;
            int op = p[0] & 0x0f;
            if (op == 1)
                on_text(c, (char *)p + hl, len);
            else if (op == 9)
                send_frame(c, 10, p + hl, len);
            else if (op == 8) {
                conn_closed(c, true);
                return;
            }
            off += hl + len;
        }
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
}

/* ---- Redis ------------------------------------------------------------ */

static void redis_connect(void)
{
    redis_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", redis_path);
    if (connect(redis_fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect %s: %s", redis_path, strerror(errno));
    fcntl(redis_fd, F_SETFL, O_NONBLOCK);
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, redis_fd, &e);
    redis_in = xmalloc(1 << 20);
}

static void append_raw(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    while (*len + n > *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *buf = realloc(*buf, *cap);
        if (!*buf)
            die("out of memory");
    }
    memcpy(*buf + *len, s, n);
    *len += n;
}

static void append_bulk(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    char head[32];
    int hn = snprintf(head, sizeof head, "$%zu\r\n", n);
    append_raw(buf, len, cap, head, (size_t)hn);
    append_raw(buf, len, cap, s, n);
    append_raw(buf, len, cap, "\r\n", 2);
}

/* EVAL of the app's script for one event, appended to buf. */
static void publish_cmd(char **buf, size_t *len, size_t *cap, const char *channel,
                        const char *payload)
{
    char key[128], chan[128], data[512], cj[128];
    snprintf(key, sizeof key, "openbook:stream:%s", channel);
    snprintf(chan, sizeof chan, "openbook:%s", channel);
    int dn = snprintf(data, sizeof data, "{\"type\":\"bench.event\",\"version\":1,\"payload\":%s}",
                      payload);
    snprintf(cj, sizeof cj, "\"%s\"", channel);
    append_raw(buf, len, cap, "*7\r\n", 4);
    append_bulk(buf, len, cap, "EVAL", 4);
    append_bulk(buf, len, cap, script, sizeof script - 1);
    append_bulk(buf, len, cap, "2", 1);
    append_bulk(buf, len, cap, key, strlen(key));
    append_bulk(buf, len, cap, chan, strlen(chan));
    append_bulk(buf, len, cap, data, (size_t)dn);
    append_bulk(buf, len, cap, cj, strlen(cj));
}

static void redis_write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(redis_fd, p, n);
        if (w < 0) {
            if (errno == EAGAIN) {
                struct timespec ts = {0, 100000};
                nanosleep(&ts, NULL);
                continue;
            }
            die("redis write: %s", strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Counts complete replies (one array of one bulk id per EVAL). */
static void redis_readable(void)
{
    for (;;) {
        ssize_t n = read(redis_fd, redis_in + redis_in_len, (1 << 20) - redis_in_len);
        if (n <= 0) {
            if (n < 0 && errno == EAGAIN)
                break;
            die("redis closed the connection");
        }
        redis_in_len += (size_t)n;
        /* Replies look like "*1\r\n$15\r\n<id>\r\n" or "-ERR ...\r\n". */
        size_t off = 0;
        for (;;) {
            char *e1 = memmem(redis_in + off, redis_in_len - off, "\r\n", 2);
            if (!e1)
                break;
            if (redis_in[off] == '-')
                die("redis: %.*s", (int)(e1 - redis_in - off), redis_in + off);
            if (redis_in[off] != '*')
                die("unexpected redis reply");
            char *e2 = memmem(e1 + 2, redis_in_len - (size_t)(e1 + 2 - redis_in), "\r\n", 2);
            if (!e2)
                break;
            char *e3 = memmem(e2 + 2, redis_in_len - (size_t)(e2 + 2 - redis_in), "\r\n", 2);
            if (!e3)
                break;
            off = (size_t)(e3 + 2 - redis_in);
            redis_replies++;
        }
        memmove(redis_in, redis_in + off, redis_in_len - off);
        redis_in_len -= off;
    }
}

/* ---- the loop --------------------------------------------------------- */

static void poll_once(int timeout_ms)
{
    struct epoll_event evs[1024];
    int n = epoll_wait(ep, evs, 1024, timeout_ms);
    for (int i = 0; i < n; i++) {
        lconn *c = evs[i].data.ptr;
        if (!c) {
            redis_readable();
            continue;
        }
        if (c->state == C_CLOSED)
            continue;
        if (evs[i].events & EPOLLOUT)
            flush_conn(c);
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            on_readable(c);
    }
}

static void cmd_connect(size_t n, const char *spec)
{
    size_t first = nconns;
    conns = realloc(conns, (nconns + n) * sizeof *conns);
    if (!conns)
        die("out of memory");
    memset(conns + first, 0, n * sizeof *conns);
    unsigned k = 0;
    const char *one = NULL;
    if (strncmp(spec, "one:", 4) == 0)
        one = spec + 4;
    else if (strncmp(spec, "spread:", 7) == 0)
        k = (unsigned)atoi(spec + 7);
    else
        die("bad spec %s", spec);
    for (size_t i = 0; i < n; i++) {
        lconn *c = &conns[first + i];
        c->fd = -1;
        c->state = C_IDLE;
        if (one)
            snprintf(c->channel, sizeof c->channel, "%.64s", one);
        else
            snprintf(c->channel, sizeof c->channel, "user:%u", 1 + (unsigned)(i % k));
    }
    nconns += n;
    uint64_t t0 = now_us();
    size_t next = first;
    size_t target = ready + n;
    while (ready < target) {
        size_t inflight = 0;
        for (size_t i = first; i < next; i++)
            inflight += conns[i].state == C_HTTP || conns[i].state == C_SUBSCRIBING;
        while (next < nconns && inflight < MAX_INFLIGHT) {
            if (!start_connect(&conns[next]))
                break;
            next++;
            inflight++;
        }
        poll_once(10);
        if (now_us() - t0 > 120000000u)
            die("connect: only %zu of %zu ready after 120 s", ready, target);
        if (closed_by_server)
            die("connect: the relay closed %zu connection(s)", closed_by_server);
    }
    printf("ok connect n=%zu total=%zu secs=%.2f\n", n, ready, (double)(now_us() - t0) / 1e6);
    fflush(stdout);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void cmd_fanout(unsigned rounds, const char *channel)
{
    size_t holders = 0;
    for (size_t i = 0; i < nconns; i++)
        holders += conns[i].state == C_READY && strcmp(conns[i].channel, channel) == 0;
    nlat = 0;
    size_t missing = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (unsigned r = 1; r <= rounds; r++) {
        round_no = r;
        for (size_t i = 0; i < nconns; i++)
            conns[i].round_got = 0;
        size_t before = nlat;
        char payload[96];
        snprintf(payload, sizeof payload, "{\"r\":%u,\"t\":%" PRIu64 "}", r, now_us());
        len = 0;
        publish_cmd(&buf, &len, &cap, channel, payload);
        redis_write_all(buf, len);
        uint64_t t0 = now_us();
        while (nlat - before < holders && now_us() - t0 < 10000000u)
            poll_once(5);
        missing += holders - (nlat - before);
        /* A pause between rounds, so each measures one event alone. */
        uint64_t t1 = now_us();
        while (now_us() - t1 < 100000u)
            poll_once(5);
    }
    free(buf);
    qsort(lat, nlat, sizeof *lat, cmp_u32);
    if (!nlat)
        die("fanout: nothing received");
    printf("ok fanout rounds=%u subscribers=%zu deliveries=%zu p50_us=%u p90_us=%u p99_us=%u "
           "max_us=%u missing=%zu closed=%zu\n",
           rounds, holders, nlat, lat[nlat / 2], lat[nlat * 9 / 10], lat[nlat * 99 / 100],
           lat[nlat - 1], missing, closed_by_server);
    fflush(stdout);
}

static void cmd_throughput(unsigned events, unsigned k)
{
    size_t per = 0;
    for (size_t i = 0; i < nconns; i++)
        per += conns[i].state == C_READY;
    uint64_t expect = (uint64_t)events * per / k; /* connections spread evenly */
    uint64_t d0 = deliveries, r0 = redis_replies;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    round_no = 0;
    uint64_t t0 = now_us();
    unsigned sent = 0;
    while (deliveries - d0 < expect) {
        /* Keep at most 512 commands in flight: Redis is never the queue. */
        if (sent < events && sent - (redis_replies - r0) < 512) {
            len = 0;
            for (unsigned b = 0; b < 64 && sent < events; b++, sent++) {
                char ch[32], payload[64];
                snprintf(ch, sizeof ch, "user:%u", 1 + sent % k);
                snprintf(payload, sizeof payload, "{\"n\":%u}", sent);
                publish_cmd(&buf, &len, &cap, ch, payload);
            }
            redis_write_all(buf, len);
        }
        poll_once(sent < events ? 0 : 5);
        if (now_us() - t0 > 120000000u)
            break;
    }
    double secs = (double)(now_us() - t0) / 1e6;
    free(buf);
    printf("ok throughput events=%u subscribers=%zu channels=%u deliveries=%" PRIu64
           " expected=%" PRIu64 " secs=%.3f deliveries_per_s=%.0f events_per_s=%.0f closed=%zu\n",
           events, per, k, deliveries - d0, expect, secs, (double)(deliveries - d0) / secs,
           events / secs, closed_by_server);
    fflush(stdout);
}

static void cmd_close(void)
{
    for (size_t i = 0; i < nconns; i++)
        if (conns[i].state != C_CLOSED && conns[i].state != C_IDLE)
            conn_closed(&conns[i], false);
    free(conns);
    conns = NULL;
    nconns = ready = closed_by_server = 0;
    printf("ok close\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--relay") == 0)
            relay_path = argv[i + 1];
        else if (strcmp(argv[i], "--redis") == 0)
            redis_path = argv[i + 1];
        else if (strcmp(argv[i], "--secret") == 0)
            secret = argv[i + 1];
    }
    if (!relay_path || !redis_path || !secret) {
        fprintf(stderr, "usage: relay_load --relay SOCK --redis SOCK --secret SECRET\n");
        return 2;
    }
    if (sodium_init() < 0)
        die("sodium_init");
    ep = epoll_create1(EPOLL_CLOEXEC);
    redis_connect();
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        char cmd[32], a[128] = "", b[128] = "";
        if (sscanf(line, "%31s %127s %127s", cmd, a, b) < 1)
            continue;
        if (strcmp(cmd, "connect") == 0)
            cmd_connect((size_t)atol(a), b);
        else if (strcmp(cmd, "fanout") == 0)
            cmd_fanout((unsigned)atoi(a), b);
        else if (strcmp(cmd, "throughput") == 0)
            cmd_throughput((unsigned)atoi(a), (unsigned)atoi(b));
        else if (strcmp(cmd, "close") == 0)
            cmd_close();
        else if (strcmp(cmd, "quit") == 0)
            break;
        else
            die("unknown command %s", cmd);
    }
    return 0;
}
