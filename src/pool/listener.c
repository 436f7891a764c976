/* listener.c - the listening socket: inherited or opened (see pool.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include "openbook/core/log.h"
#include "openbook/pool/pool.h"

static bool is_listening_socket(int fd)
{
    int val = 0;
    socklen_t len = sizeof val;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 && val;
}

static int open_unix(const char *path, long mode, long backlog)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        ob_error("listen: unix socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* A stale socket from a previous run would make bind fail; only remove
     * it if nothing answers on it. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        ob_error("listen: %s is in use by another process", path);
        close(fd);
        return -1;
    }
    unlink(path);
    mode_t old = umask(0777 & ~(mode_t)mode);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc < 0 || chmod(path, (mode_t)mode) < 0 || listen(fd, (int)backlog) < 0) {
        ob_error("listen: %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int open_tcp(const char *addr, long backlog)
{
    const char *colon = strrchr(addr, ':');
    if (!colon) {
        ob_error("listen: expected host:port or unix:/path, got \"%s\"", addr);
        return -1;
    }
    char host[256];
    size_t hl = (size_t)(colon - addr);
    if (hl >= sizeof host)
        return -1;
    memcpy(host, addr, hl);
    host[hl] = '\0';
    char *h = host;
    if (h[0] == '[' && hl > 1 && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    int gai = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai);
    if (gai) {
        ob_error("listen: %s: %s", addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, (int)backlog) == 0)
            break;
        ob_error("listen: %s: %s", addr, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int ob_listen_open(const ob_config *cfg, ob_listen_origin *origin)
{
    int n = sd_listen_fds(1);
    if (n > 0) {
        if (n > 1)
            ob_warn("listen: systemd passed %d sockets; using the first", n);
        *origin = OB_LISTEN_SYSTEMD;
        return SD_LISTEN_FDS_START;
    }
    if (is_listening_socket(0)) {
        /* spawn-fcgi, mod_fcgid and StandardInput=socket hand the socket
         * over as fd 0.  Move it off 0 so stdin can be /dev/null. */
        *origin = OB_LISTEN_FD0;
        int fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
            return -1;
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0 && devnull != 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        return fd;
    }
    *origin = OB_LISTEN_OWN;
    long mode = strtol(cfg->socket_mode, NULL, 8);
    if (strncmp(cfg->listen, "unix:", 5) == 0)
        return open_unix(cfg->listen + 5, mode, cfg->backlog);
    return open_tcp(cfg->listen, cfg->backlog);
}
