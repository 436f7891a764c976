/* send_mail.c - `openbook send-mail`: delivers the mail outbox.
 *
 * One pass with --once (cron, tests), else a loop: a pass, then wait for a
 * NOTIFY from ob_mail_enqueue (new mail is sent at once) or for the
 * interval (retries that became due).  SIGTERM/SIGINT end the loop after
 * the message in flight.  A lost database connection is retried every
 * interval; mail is never lost meanwhile, it waits in the table. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>
#include <curl/curl.h>
#include "openbook/cli/cli.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/mail/mail.h"

static const char usage[] =
    "Usage: openbook send-mail [-c FILE] [--once] [--interval S]\n\n"
    "Delivers the queued mail (the mail_outbox table) with the configured backend:\n"
    "mail.backend smtp (mail.smtp_*), or file (one <id>.eml per message in\n"
    "mail.file_dir).  Failed deliveries are retried after 30 s, doubling up to one\n"
    "hour, and given up (logged) after mail.max_attempts attempts.  Without --once\n"
    "it runs until SIGTERM, waking at once for new mail and every S seconds for\n"
    "retries.  Several senders may run at the same time.\n\n"
    "  -c, --config FILE   configuration file\n"
    "      --once          deliver what is due now, then exit\n"
    "      --interval S    seconds between passes in the loop (default 10)\n"
    "  -h, --help          show this help\n";

static volatile sig_atomic_t stop;
/* The self-pipe: a signal that lands after the loop looked at `stop` but
 * before select() started waiting would otherwise go unseen for a whole
 * interval; the handler also writes a byte that wakes the select. */
static int wake_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
    if (wake_pipe[1] >= 0) {
        int saved = errno;
        ssize_t w = write(wake_pipe[1], "x", 1);
        (void)w;
        errno = saved;
    }
}

/* Waits until a notification arrives, the timeout passes or a signal
 * comes.  Notifications are only a hint: the pass finds the work. */
static void wait_for_mail(ob_db *db, long seconds)
{
    PGconn *conn = ob_db_conn(db);
    int fd = conn && !ob_db_broken(db) ? PQsocket(conn) : -1;
    struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
    fd_set rd;
    FD_ZERO(&rd);
    if (fd >= 0)
        FD_SET(fd, &rd);
    int maxfd = fd;
    if (wake_pipe[0] >= 0) {
        FD_SET(wake_pipe[0], &rd);
        if (wake_pipe[0] > maxfd)
            maxfd = wake_pipe[0];
    }
    if (stop)
        return;
    int n = select(maxfd + 1, maxfd >= 0 ? &rd : NULL, NULL, NULL, &tv);
    if (n > 0 && conn && fd >= 0 && FD_ISSET(fd, &rd)) {
        PQconsumeInput(conn);
    }
    if (conn) {
        PGnotify *note;
        while ((note = PQnotifies(conn)) != NULL)
            PQfreemem(note);
    }
}

static int listen_channel(ob_db *db)
{
    PGresult *res = PQexec(ob_db_conn(db), "LISTEN " OB_MAIL_CHANNEL);
    int ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (res)
        PQclear(res);
    return ok ? 0 : -1;
}

int ob_cmd_send_mail(int argc, char **argv, char **envp)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"once", no_argument, NULL, 'o'},
        {"interval", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bool once = false;
    long interval = 10;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'o':
            once = true;
            break;
        case 'i': {
            char *end;
            errno = 0;
            interval = strtol(optarg, &end, 10);
            if (errno || *end || interval < 1 || interval > 86400) {
                fprintf(stderr, "openbook: --interval must be 1..86400 seconds\n");
                return 2;
            }
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
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
    if (*cfg.mail_from && !ob_mail_header_safe(cfg.mail_from)) {
        fprintf(stderr, "openbook: mail.from must not contain control characters\n");
        ob_config_free(&cfg);
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "openbook: cannot initialise libcurl\n");
        ob_config_free(&cfg);
        return 1;
    }
    if (pipe(wake_pipe) == 0) {
        for (int i = 0; i < 2; i++) {
            fcntl(wake_pipe[i], F_SETFL, fcntl(wake_pipe[i], F_GETFL) | O_NONBLOCK);
            fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
        }
    } else {
        wake_pipe[0] = wake_pipe[1] = -1; /* select's timeout still ends the wait */
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: the wait must end at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    ob_db *db = ob_db_new(cfg.database_url, cfg.database_connect_timeout,
                          cfg.database_statement_timeout);
    int rc = 0;
    if (!once)
        ob_info("send-mail: running (backend %s, every %ld s)", cfg.mail_backend, interval);
    while (!stop) {
        if (ob_db_ensure(db) != 0) {
            if (once) {
                fprintf(stderr, "openbook: cannot connect to the database: %s\n",
                        ob_db_last_error(db));
                rc = 1;
                break;
            }
            wait_for_mail(db, interval);
            continue;
        }
        /* Every pass: LISTEN is idempotent, and this way a reconnect
         * (which drops the registration) needs no bookkeeping. */
        if (!once)
            listen_channel(db);
        ob_mail_stats st;
        int n = ob_mail_send_due(db, &cfg, &st, &stop);
        if (n < 0) {
            if (once) {
                rc = 1;
                break;
            }
        } else if (once) {
            printf("send-mail: %d delivered, %d failed, %d given up\n", st.sent, st.failed,
                   st.given_up);
        }
        if (once)
            break;
        wait_for_mail(db, interval);
    }
    ob_db_free(db);
    for (int i = 0; i < 2; i++)
        if (wake_pipe[i] >= 0)
            close(wake_pipe[i]);
    curl_global_cleanup();
    ob_config_free(&cfg);
    return rc;
}
