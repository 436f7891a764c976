/* serve.c - `openbook serve`: the pre-forked pool under its master, or one
 * process with --single (what mod_fcgid and spawn-fcgi -F expect). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "openbook/core/alloc.h"
#include "openbook/api/app.h"
#include "openbook/api/routes.h"
#include "openbook/cli/cli.h"
#include "openbook/core/log.h"
#include "openbook/mail/mail.h"
#include "openbook/pool/pool.h"
#include "openbook/files/staging.h"

static const char usage[] =
    "Usage: openbook serve [OPTIONS]\n\n"
    "Serves the OpenBook API over FastCGI.  By default a master process opens\n"
    "the socket of server.listen (or takes one handed over: systemd LISTEN_FDS,\n"
    "or a listening socket on fd 0 as spawn-fcgi, mod_fcgid and systemd\n"
    "StandardInput=socket pass it) and pre-forks server.workers workers.\n\n"
    "Signals: SIGHUP reloads the configuration and replaces the workers\n"
    "gracefully; SIGTERM/SIGINT stop gracefully within server.graceful_timeout,\n"
    "and a second SIGTERM/SIGINT, or SIGQUIT, stops at once (requests in flight\n"
    "are lost).\n\n"
    "Metrics: with metrics.listen set (e.g. 127.0.0.1:9187), the master serves\n"
    "Prometheus text for the whole pool at http://ADDRESS/metrics (not with\n"
    "--single).  server.log_format: text or json.\n\n"
    "Outside development mode it refuses to start when http.public_base_url is\n"
    "empty and the configured site has no domain: mailed links need one.\n\n"
    "  -c, --config FILE    configuration file\n"
    "  -s, --single         serve in this one process, without a master\n"
    "  -w, --workers N      override server.workers\n"
    "  -l, --listen ADDR    override server.listen (unix:/path or host:port)\n"
    "  -h, --help           show this help\n";

int ob_cmd_serve(int argc, char **argv, char **envp)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"single", no_argument, NULL, 's'},
        {"workers", required_argument, NULL, 'w'}, {"listen", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *listen_addr = NULL;
    long workers = -1;
    bool single = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:sw:l:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 's': single = true; break;
        case 'l': listen_addr = optarg; break;
        case 'w': {
            char *end;
            workers = strtol(optarg, &end, 10);
            if (*end || workers < 1 || workers > 1024) {
                fprintf(stderr, "openbook: --workers takes a number from 1 to 1024\n");
                return 2;
            }
            break;
        }
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "openbook: unexpected argument '%s'\n", argv[optind]);
        fputs(usage, stderr);
        return 2;
    }
    ob_config cfg;
    if (ob_cli_load_config(&cfg, path, envp))
        return 1;
    if (listen_addr) {
        ob_free(cfg.listen);
        cfg.listen = ob_strdup(listen_addr);
    }
    if (workers > 0)
        cfg.workers = workers;
    /* Mailed links need a trusted base outside development (links.c). */
    if (ob_mail_check_link_base(&cfg) != 0) {
        ob_config_free(&cfg);
        return 1;
    }
    /* Staged uploads and installs left by a process killed mid-request
     * (older than any request can take: others may be staging right now,
     * e.g. mod_fcgid's other processes). */
    long stale = ob_staging_cleanup(cfg.media_root, OB_STAGING_MAX_AGE, time(NULL));
    if (stale > 0)
        ob_info("serve: removed %ld stale staged upload(s) from %s/%s", stale, cfg.media_root,
                OB_STAGING_DIR);
    ob_listen_origin origin;
    int fd = ob_listen_open(&cfg, &origin);
    if (fd < 0) {
        ob_config_free(&cfg);
        return 1;
    }
    static const char *origins[] = {"opened", "inherited on fd 0", "from systemd"};
    ob_info("serve: listening socket %s%s%s", origins[origin],
            origin == OB_LISTEN_OWN ? ": " : "", origin == OB_LISTEN_OWN ? cfg.listen : "");
    /* The routing table, derived from the resource descriptions, exists
     * before the pool starts: its metrics count requests by route. */
    ob_api_router();
    int rc = single ? ob_worker_run(&cfg, &ob_api_app, fd, NULL, NULL, true)
                    : ob_master_run(&cfg, &ob_api_app, path, envp, fd);
    close(fd);
    ob_config_free(&cfg);
    return rc;
}
