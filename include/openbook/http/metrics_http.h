/* metrics_http.h - the small HTTP server that answers Prometheus scrapes
 * (GET /metrics) on its own TCP address, for the pool's master and for
 * the relay.
 *
 * It never blocks its host process: the sockets are non-blocking and
 * watched by one epoll descriptor, which the host adds to its own loop
 * (poll() in the master, an ev_io in the relay) and calls
 * ob_metrics_server_run() on whenever it is readable (or at any time: it
 * does nothing when nothing is ready).  At most a few scrapes are served at
 * once; a client that does not finish within 10 s is dropped, and when all
 * places are taken the oldest client gives way. */
#ifndef OPENBOOK_METRICS_HTTP_H
#define OPENBOOK_METRICS_HTTP_H

#include "openbook/core/buf.h"

/* Appends the metrics text to out (a heap buffer). */
typedef void (*ob_metrics_render_fn)(ob_buf *out, void *ud);

typedef struct ob_metrics_server ob_metrics_server;

/* Listens on addr ("host:port", e.g. "127.0.0.1:9187", "[::1]:9187";
 * core/net.h), non-blocking.  NULL, with the reason logged after `what`
 * (the setting's name), when that fails. */
ob_metrics_server *ob_metrics_server_open(const char *addr, const char *what,
                                          ob_metrics_render_fn render, void *ud);
/* The descriptor to wait on (readable: call run). */
int ob_metrics_server_fd(const ob_metrics_server *s);
/* Accepts, reads, answers and times out clients, without waiting. */
void ob_metrics_server_run(ob_metrics_server *s);
/* Closes every socket (NULL is fine). */
void ob_metrics_server_close(ob_metrics_server *s);
/* In a child forked by the host: closes the child's copies of the
 * descriptors and frees the memory, leaving the epoll set (which parent and
 * child share after fork) as the parent has it. */
void ob_metrics_server_abandon(ob_metrics_server *s);

#endif
