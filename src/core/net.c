/* net.c - address parsing and listening sockets (see net.h). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "openbook/core/log.h"
#include "openbook/core/net.h"

int ob_net_parse(const char *addr, int default_port, ob_net_addr *out, const char **why)
{
    memset(out, 0, sizeof *out);
    if (strncmp(addr, "unix:", 5) == 0) {
        const char *path = addr + 5;
        if (!*path || strlen(path) >= sizeof out->path) {
            *why = *path ? "unix socket path too long" : "empty unix socket path";
            return -1;
        }
        out->is_unix = true;
        strcpy(out->path, path);
        return 0;
    }
    const char *colon = strrchr(addr, ':');
    if (!colon && default_port <= 0) {
        *why = "expected host:port or unix:/path";
        return -1;
    }
    size_t hl = colon ? (size_t)(colon - addr) : strlen(addr);
    const char *h = addr;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= sizeof out->host) {
        *why = "host name too long";
        return -1;
    }
    memcpy(out->host, h, hl);
    out->host[hl] = '\0';
    out->port = default_port;
    if (colon) {
        char *end;
        errno = 0;
        long p = strtol(colon + 1, &end, 10);
        if (colon[1] < '0' || colon[1] > '9' || *end || errno || p < 1 || p > 65535) {
            *why = "the port must be a number from 1 to 65535";
            return -1;
        }
        out->port = (int)p;
    }
    return 0;
}

static int listen_unix(const ob_net_addr *a, long backlog, long mode, int sock_flags,
                       const char *what)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, a->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | sock_flags, 0);
    if (fd < 0) {
        ob_error("%s: socket: %s", what, strerror(errno));
        return -1;
    }
    /* A stale socket file from a crashed run would make bind fail; it is
     * removed, but only when nothing answers on it. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
        ob_error("%s: %s is in use by another process", what, a->path);
        close(probe);
        close(fd);
        return -1;
    }
    if (probe >= 0)
        close(probe);
    unlink(a->path);
    /* The mode is set at bind through the umask, so the socket is never
     * reachable with wider permissions, and again explicitly. */
    mode_t old = umask(0777 & ~(mode_t)mode);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc < 0 || chmod(a->path, (mode_t)mode) < 0 || listen(fd, (int)backlog) < 0) {
        ob_error("%s: %s: %s", what, a->path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int listen_tcp(const ob_net_addr *a, const char *addr, long backlog, int sock_flags,
                      const char *what)
{
    char port[8];
    snprintf(port, sizeof port, "%d", a->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    int gai = getaddrinfo(*a->host ? a->host : NULL, port, &hints, &ai);
    if (gai) {
        ob_error("%s: %s: %s", what, addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | sock_flags, p->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, (int)backlog) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        ob_error("%s: %s: %s", what, addr, strerror(err));
    return fd;
}

int ob_net_listen(const char *addr, long backlog, long unix_mode, int flags, const char *what)
{
    ob_net_addr a;
    const char *why;
    if (ob_net_parse(addr, 0, &a, &why) != 0) {
        ob_error("%s: %s, got \"%s\"", what, why, addr);
        return -1;
    }
    int sock_flags = SOCK_CLOEXEC | (flags & OB_NET_NONBLOCK ? SOCK_NONBLOCK : 0);
    return a.is_unix ? listen_unix(&a, backlog, unix_mode, sock_flags, what)
                     : listen_tcp(&a, addr, backlog, sock_flags, what);
}
