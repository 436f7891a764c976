/* main.c - `openbook-relay`: the WebSocket relay (websocket.md).
 *
 *   openbook-relay [-c FILE]     run until SIGTERM/SIGINT
 *   openbook-relay --help | --version
 *
 * Reads the same configuration files as `openbook` (its settings are the
 * relay.* keys; http.allowed_hosts, security.secret_key, redis.* and
 * server.log_level/socket_mode/backlog are shared) and logs to stderr.
 *
 * Signals: SIGTERM or SIGINT close every WebSocket with 1001, wait up to
 * SHUTDOWN_GRACE seconds for the close handshakes and exit 0.  SIGHUP
 * re-reads the configuration: everything applies to new connections and
 * to the timers of existing ones at once, the tickets keys and allowed
 * hosts included, and Redis is reconnected when redis.* changed; only
 * relay.listen needs a restart. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "openbook/core/alloc.h"
#include "openbook/core/log.h"
#include "relay.h"

#define SHUTDOWN_GRACE 5.0

static char **saved_envp;
static ev_signal sig_term, sig_int, sig_hup;
static double shutdown_started;

static const char usage_text[] =
    "Usage: openbook-relay [-c FILE] [--help] [--version]\n\n"
    "The OpenBook WebSocket relay: forwards events from Redis to browsers.\n\n"
    "  -c, --config FILE  configuration file (default: $OPENBOOK_CONFIG, else\n"
    "                     conf/openbook.yaml in a source tree, else the installed\n"
    "                     openbook.yaml); local.yaml beside it and OPENBOOK_<SECTION>_<KEY>\n"
    "                     variables apply as for `openbook`\n"
    "  -h, --help         this text\n"
    "  -V, --version      print the version\n\n"
    "Signals: SIGTERM/SIGINT stop gracefully (close code 1001), SIGHUP reloads\n"
    "the configuration (relay.listen and relay.metrics_listen need a restart).\n\n"
    "Metrics: with relay.metrics_listen set (e.g. 127.0.0.1:9188), Prometheus text\n"
    "at http://ADDRESS/metrics.\n";

/* Enough descriptors for relay.max_connections plus the refusals. */
static void raise_fd_limit(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t need = (rlim_t)want + 512;
    if (rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
        ob_warn("relay: file descriptor limit %llu is below relay.max_connections + 512 (%llu)",
                (unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

static void apply_log_level(void)
{
    ob_log_configure(R.cfg.log_level, R.cfg.log_format);
}

static void on_shutdown_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w, (void)revents;
    if (!R.conns || ev_now(loop) - shutdown_started >= SHUTDOWN_GRACE)
        ev_break(loop, EVBREAK_ALL);
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    if (R.shutting_down)
        return;
    ob_info("relay: %s: closing %u connection(s)", w->signum == SIGINT ? "SIGINT" : "SIGTERM",
            R.nactive);
    server_shutdown();
    shutdown_started = ev_now(loop);
    ev_timer_init(&R.shutdown_timer, on_shutdown_tick, 0.05, 0.05);
    ev_timer_start(loop, &R.shutdown_timer);
}

static void on_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    ob_config fresh;
    ob_config_error err;
    if (ob_config_load(&fresh, R.config_path, saved_envp, &err) != 0) {
        ob_error("relay: reload failed, keeping the running configuration: %s", err.msg);
        ob_config_free(&fresh);
        return;
    }
    ob_ticket_keys keys;
    if (ob_ticket_keys_from_config(&keys, &fresh) != 0) {
        ob_error("relay: reload failed: neither relay.ticket_secret nor security.secret_key is set");
        ob_config_free(&fresh);
        return;
    }
    if (strcmp(fresh.relay_listen, R.cfg.relay_listen) != 0)
        ob_warn("relay: relay.listen changed to %s; it takes effect at the next start",
                fresh.relay_listen);
    ob_config old = R.cfg;
    R.cfg = fresh;
    R.keys = keys;
    apply_log_level();
    server_apply_config();
    link_reconfigure(&old);
    ob_config_free(&old);
    ob_info("relay: configuration reloaded");
}

int main(int argc, char **argv, char **envp)
{
    ob_alloc_init();
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'V':
            printf("openbook-relay %s\n", OB_VERSION);
            return 0;
        default:
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "openbook-relay: unexpected argument '%s'\n\n%s", argv[optind], usage_text);
        return 2;
    }
    saved_envp = envp;
    memset(&R, 0, sizeof R);
    R.listen_fd = -1;
    R.config_path = config_path ? ob_strdup(config_path) : NULL;
    ob_config_error err;
    if (ob_config_load(&R.cfg, config_path, envp, &err) != 0) {
        fprintf(stderr, "openbook-relay: configuration error: %s\n", err.msg);
        ob_config_free(&R.cfg);
        ob_free(R.config_path);
        return 1;
    }
    apply_log_level();
    if (ob_ticket_keys_from_config(&R.keys, &R.cfg) != 0) {
        fprintf(stderr, "openbook-relay: configuration error: set relay.ticket_secret or "
                        "security.secret_key: tickets cannot be verified without a key\n");
        ob_config_free(&R.cfg);
        ob_free(R.config_path);
        return 1;
    }
    /* Writes to a closed socket must fail with EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(R.cfg.relay_max_connections);

    R.loop = ev_default_loop(EVFLAG_AUTO);
    if (!R.loop) {
        fprintf(stderr, "openbook-relay: cannot initialise the event loop\n");
        return 1;
    }
    R.t0 = ev_now(R.loop);
    ob_arena_init(&R.scratch, 16384);
    channels_init();
    link_init();
    if (server_init() != 0) {
        ob_config_free(&R.cfg);
        return 1;
    }
    ev_signal_init(&sig_term, on_stop, SIGTERM);
    ev_signal_init(&sig_int, on_stop, SIGINT);
    ev_signal_init(&sig_hup, on_reload, SIGHUP);
    ev_signal_start(R.loop, &sig_term);
    ev_signal_start(R.loop, &sig_int);
    ev_signal_start(R.loop, &sig_hup);
    link_start();
    relay_metrics_start();
    ob_info("relay: openbook-relay %s ready (max %ld connections)", OB_VERSION,
            R.cfg.relay_max_connections);

    ev_run(R.loop, 0);

    /* Orderly teardown, so sanitizer builds can check for leaks. */
    relay_metrics_stop();
    link_stop();
    server_finish();
    channels_finish();
    ev_loop_destroy(R.loop);
    ob_arena_destroy(&R.scratch);
    ob_info("relay: stopped");
    ob_config_free(&R.cfg);
    ob_free(R.config_path);
    return 0;
}
