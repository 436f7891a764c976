/* metrics.c - the relay's figures for Prometheus on relay.metrics_listen
 * (one process, one thread: plain counters in R, read when scraped).  The
 * small HTTP server is the pool's (metrics_http.h), watched by an ev_io. */
#include "openbook/core/log.h"
#include "openbook/http/metrics_http.h"
#include "openbook/core/promtext.h"
#include "relay.h"

static void render(ob_buf *out, void *unused)
{
    (void)unused;
    ob_prom_family(out, "openbook_relay_build_info", "gauge", "The running version (value 1).");
    ob_prom_label ver = {"version", OB_VERSION};
    ob_prom_sample(out, "openbook_relay_build_info", &ver, 1, 1);
    ob_prom_gauge(out, "openbook_relay_connections",
                  "WebSocket connections open or being authorized (relay.max_connections "
                  "counts these).",
                  R.nactive);
    ob_prom_gauge(out, "openbook_relay_sockets",
                  "Accepted sockets, handshakes in progress included.", R.nsockets);
    ob_prom_gauge(out, "openbook_relay_channels", "Channels with at least one subscriber.",
                  channels_count());
    ob_prom_gauge(out, "openbook_relay_redis_up", "1 while both Redis connections are up.",
                  link_up() ? 1 : 0);
    ob_prom_counter(out, "openbook_relay_connections_total", "WebSocket connections opened.",
                    R.opened);
    const char *reasons[] = {"user_limit", "address_limit", "capacity"};
    uint64_t v[] = {R.refused_user, R.refused_address, R.refused_full};
    ob_prom_by_label(out, "openbook_relay_refusals_total", "counter",
                     "Connections refused or displaced by a limit: user_limit and address_limit "
                     "close the oldest connection of a user (relay.max_connections_per_user) or "
                     "of an anonymous address (relay.max_anonymous_per_address) with 4429; "
                     "capacity answers 503 at relay.max_connections.",
                     "reason", reasons, v, 3);
    ob_prom_counter(out, "openbook_relay_events_total", "Events received from Redis.", R.events_in);
    ob_prom_counter(out, "openbook_relay_deliveries_total",
                    "Event frames queued to clients (live and replayed).", R.deliveries);
    ob_prom_counter(out, "openbook_relay_frames_sent_total",
                    "Frames queued to clients, answers and control frames included.", R.frames_out);
    ob_prom_counter(out, "openbook_relay_queue_full_closes_total",
                    "Connections closed with 1013 because their send queue was full.",
                    R.closes_overflow);
    ob_prom_counter(out, "openbook_relay_resumes_total",
                    "Resume requests (a client's last event id).", R.resumes);
    ob_prom_counter(out, "openbook_relay_redis_reconnects_total",
                    "Redis links made again after they were lost.", R.redis_reconnects);
}

static void on_metrics(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    ob_metrics_server_run(R.metrics);
}

void relay_metrics_start(void)
{
    if (!*R.cfg.relay_metrics_listen)
        return;
    R.metrics =
        ob_metrics_server_open(R.cfg.relay_metrics_listen, "relay.metrics_listen", render, NULL);
    if (!R.metrics) {
        ob_error("relay: serving without metrics (relay.metrics_listen \"%s\")",
                 R.cfg.relay_metrics_listen);
        return;
    }
    ev_io_init(&R.metrics_io, on_metrics, ob_metrics_server_fd(R.metrics), EV_READ);
    ev_io_start(R.loop, &R.metrics_io);
}

void relay_metrics_stop(void)
{
    if (!R.metrics)
        return;
    ev_io_stop(R.loop, &R.metrics_io);
    ob_metrics_server_close(R.metrics);
    R.metrics = NULL;
}
