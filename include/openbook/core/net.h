/* net.h - sockets, in one place for the server, the relay and the Redis
 * clients (the job of Redis's anet.c): the address syntax of the
 * configuration and listening sockets.
 *
 * An address is "unix:/path/to/socket", "host:port", "[v6addr]:port" or
 * ":port" (every local address).  The port is whatever follows the last
 * colon, so an IPv6 address needs its brackets.  Connecting is left to the
 * client libraries (hiredis, libpq); they take what ob_net_parse finds. */
#ifndef OPENBOOK_NET_H
#define OPENBOOK_NET_H

#include <stdbool.h>

typedef struct ob_net_addr {
    bool is_unix;
    char path[108];  /* unix: the socket's path (sizeof sun_path) */
    char host[256];  /* tcp: name or address, without brackets; "" = any */
    int port;        /* tcp: 1..65535 */
} ob_net_addr;

/* Parses addr.  With default_port > 0 a bare "host" (no colon) gets that
 * port; with 0 the port is required.  Returns 0, or -1 with *why set to a
 * constant message. */
int ob_net_parse(const char *addr, int default_port, ob_net_addr *out, const char **why);

enum { OB_NET_NONBLOCK = 1 << 0 };

/* A listening socket on addr, close-on-exec (OB_NET_NONBLOCK: non-blocking
 * too).  A unix socket gets file mode unix_mode; a stale socket file left
 * by a previous run is replaced, one a live process answers on is not.  A
 * TCP socket tries each address the name resolves to, with SO_REUSEADDR.
 * Returns the descriptor, or -1 after logging "<what>: <reason>". */
int ob_net_listen(const char *addr, long backlog, long unix_mode, int flags, const char *what);

#endif
