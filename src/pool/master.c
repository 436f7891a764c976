/* master.c - the supervising master of `openbook serve`.
 *
 * Signal contract (as PgBouncer's):
 *   SIGHUP   re-read the configuration; start a new generation of workers,
 *            then ask the old ones (with SIGHUP) to finish their requests,
 *            serve their kept-alive connections until nginx lets go, and
 *            exit.  No request is refused: the socket never closes.
 *   SIGTERM, SIGINT   graceful stop: workers finish their requests; after
 *            graceful_timeout the rest are killed.  A second SIGTERM or
 *            SIGINT during the graceful stop makes it immediate.
 *   SIGQUIT  immediate stop: workers are killed (SIGKILL) at once, requests
 *            in flight are lost (nginx answers them 502), and the master
 *            exits 0 when they are gone.
 * A worker that dies is replaced, with exponential back-off while workers
 * keep crashing.  A worker whose request runs past request_timeout is
 * killed (SIGKILL) and replaced.  The master does no request work and
 * holds no database connection. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include "openbook/core/log.h"
#include "openbook/pool/metrics.h"
#include "openbook/pool/pool.h"
#include "openbook/files/staging.h"

#define MAX_SLOTS 2048 /* two generations of the largest pool during a reload */
#define NS 1000000000LL

typedef struct {
    pid_t pid;
    unsigned generation;
    int64_t started_ns;
    bool stopping;   /* sent SIGTERM (old generation or shutdown) */
    bool killed;     /* sent SIGKILL for a timeout */
} worker_info;

static ob_slot *slots;        /* shared with the workers */
static worker_info workers[MAX_SLOTS];
static int signal_fd = -1;      /* the master's; closed in workers */

long ob_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

static long pool_size(const ob_config *cfg)
{
    long n = cfg->workers > 0 ? cfg->workers : ob_cpu_count();
    return n > MAX_SLOTS / 2 ? MAX_SLOTS / 2 : n;
}

/* The data generation of the pool (not the worker generation below). */
static ob_generation *data_gen;
static const ob_app *worker_app; /* what the workers run */

static int spawn(const ob_config *cfg, int listen_fd, unsigned generation, sigset_t *oldmask)
{
    int idx = -1;
    for (int i = 0; i < MAX_SLOTS; i++)
        if (workers[i].pid == 0) {
            idx = i;
            break;
        }
    if (idx < 0)
        return -1;
    memset((void *)&slots[idx], 0, sizeof slots[idx]);
    pid_t pid = fork();
    if (pid < 0) {
        ob_error("master: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (signal_fd >= 0)
            close(signal_fd);
        sigprocmask(SIG_SETMASK, oldmask, NULL);
        slots[idx].pid = getpid();
        ob_metrics_worker_bind((size_t)idx); /* METRICS HOOK */
        exit(ob_worker_run(cfg, worker_app, listen_fd, &slots[idx], data_gen, false));
    }
    workers[idx] = (worker_info){.pid = pid, .generation = generation, .started_ns = ob_now_ns()};
    ob_metrics_worker_started((size_t)idx); /* METRICS HOOK */
    ob_debug("master: started worker %d (generation %u)", (int)pid, generation);
    return 0;
}

/* Kills every worker now; none of them counts as crashed. */
static void kill_all(void)
{
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (!workers[i].pid)
            continue;
        kill(workers[i].pid, SIGKILL);
        workers[i].stopping = true;
    }
}

static void signal_all(int sig, unsigned only_generation, bool all_generations)
{
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (!workers[i].pid)
            continue;
        if (!all_generations && workers[i].generation != only_generation)
            continue;
        kill(workers[i].pid, sig);
        if (sig == SIGTERM)
            workers[i].stopping = true;
    }
}

static int count_alive(unsigned generation, bool any_generation)
{
    int n = 0;
    for (int i = 0; i < MAX_SLOTS; i++)
        if (workers[i].pid && (any_generation || workers[i].generation == generation) &&
            !workers[i].stopping)
            n++;
    return n;
}

static int count_all(void)
{
    int n = 0;
    for (int i = 0; i < MAX_SLOTS; i++)
        if (workers[i].pid)
            n++;
    return n;
}

int ob_master_run(ob_config *cfg, const ob_app *app, const char *config_path, char **envp,
                  int listen_fd)
{
    worker_app = app;
    /* Shared by every worker for the master's lifetime, reloads included:
     * the response caches follow it (cache.h). */
    data_gen = ob_generation_new_shared();
    if (!data_gen)
        ob_warn("master: no shared memory for the data generation; response cache off");
    slots = mmap(NULL, sizeof(ob_slot) * MAX_SLOTS, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (slots == MAP_FAILED)
        ob_fatal("master: mmap: %s", strerror(errno));
    ob_metrics_pool_start(cfg, app, slots, MAX_SLOTS); /* METRICS HOOK: metrics.listen */

    /* Signals arrive through a signalfd, so the loop below handles them at
     * a point of its choosing instead of inside a handler. */
    sigset_t mask, oldmask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGQUIT);
    sigprocmask(SIG_BLOCK, &mask, &oldmask);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        ob_fatal("master: signalfd: %s", strerror(errno));
    signal_fd = sfd;
    signal(SIGPIPE, SIG_IGN);

    unsigned generation = 1;
    int crashes = 0;
    int64_t next_spawn_ns = 0;
    bool stopping = false, immediate = false;
    int64_t stop_deadline = 0;
    long want = pool_size(cfg);
    ob_info("master: serving with %ld workers (pid %d)", want, (int)getpid());
    for (long i = 0; i < want; i++)
        spawn(cfg, listen_fd, generation, &oldmask);
    sd_notify(0, "READY=1");

    for (;;) {
        /* The second descriptor: scrapes of metrics.listen (-1: none). */
        struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN},
                                {.fd = ob_metrics_pool_fd(), .events = POLLIN}};
        poll(pfd, 2, 200);
        ob_metrics_pool_run(); /* METRICS HOOK: answers without blocking */
        bool reload = false;
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            switch (si.ssi_signo) {
            case SIGHUP:
                reload = true;
                break;
            case SIGTERM:
            case SIGINT:
            case SIGQUIT:
                if (immediate)
                    break; /* already killing */
                if (si.ssi_signo == SIGQUIT || stopping) {
                    /* SIGQUIT, or a second SIGTERM/SIGINT: whoever asks
                     * twice does not want to wait for graceful_timeout. */
                    ob_warn("master: stopping immediately (%s): killing %d workers",
                            stopping ? "second stop signal" : "SIGQUIT", count_all());
                    if (!stopping)
                        sd_notify(0, "STOPPING=1");
                    stopping = immediate = true;
                    stop_deadline = ob_now_ns() + 5 * NS;
                    kill_all();
                } else {
                    ob_info("master: stopping (graceful, up to %lds; signal again to stop at "
                            "once)",
                            cfg->graceful_timeout);
                    sd_notify(0, "STOPPING=1");
                    stopping = true;
                    stop_deadline = ob_now_ns() + cfg->graceful_timeout * NS;
                    signal_all(SIGTERM, 0, true);
                }
                break;
            default:
                break; /* SIGCHLD: the workers are reaped below */
            }
        }
        int64_t now = ob_now_ns();

        /* Reap. */
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            for (int i = 0; i < MAX_SLOTS; i++) {
                if (workers[i].pid != pid)
                    continue;
                worker_info w = workers[i];
                workers[i].pid = 0;
                bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
                /* Uploads and installs it was staging die with it. */
                if (!clean) {
                    long gone = ob_staging_cleanup_pid(cfg->media_root, pid);
                    if (gone > 0)
                        ob_info("master: removed %ld staged upload(s) of worker %d", gone,
                                (int)pid);
                }
                /* METRICS HOOK: the same causes as the branches below. */
                ob_metrics_worker_exited((size_t)i, w.killed     ? OB_EXIT_TIMEOUT
                                                    : w.stopping ? OB_EXIT_RETIRED
                                                    : clean      ? OB_EXIT_RECYCLE
                                                                 : OB_EXIT_CRASH);
                if (w.killed) {
                    ob_error("master: worker %d killed: request ran past request_timeout (%lds)",
                             (int)pid, cfg->request_timeout);
                } else if (!clean && !w.stopping) {
                    if (WIFSIGNALED(status))
                        ob_error("master: worker %d died of signal %d", (int)pid, WTERMSIG(status));
                    else
                        ob_error("master: worker %d exited with status %d", (int)pid,
                                 WEXITSTATUS(status));
                    /* Crash loop protection: back off 100 ms, doubling to
                     * 10 s, unless the worker had lived a while. */
                    if (now - w.started_ns > 10 * NS)
                        crashes = 0;
                    crashes++;
                    int64_t delay = 100000000LL << (crashes < 7 ? crashes - 1 : 6);
                    if (delay > 10 * NS)
                        delay = 10 * NS;
                    next_spawn_ns = now + delay;
                } else if (clean && !w.stopping) {
                    crashes = 0; /* recycled after max_requests */
                }
                break;
            }
        }

        if (stopping) {
            if (count_all() == 0)
                break;
            if (now > stop_deadline) {
                if (!immediate)
                    ob_warn("master: graceful_timeout reached; killing %d workers", count_all());
                kill_all();
                stop_deadline = now + 5 * NS;
            }
            continue;
        }

        if (reload) {
            ob_config fresh;
            ob_config_error err;
            if (ob_config_load(&fresh, config_path, envp, &err) != 0) {
                ob_error("master: reload refused, keeping the running configuration: %s", err.msg);
                ob_config_free(&fresh);
            } else {
                sd_notify(0, "RELOADING=1");
                if (strcmp(fresh.listen, cfg->listen) != 0)
                    ob_warn("master: server.listen changed; it takes effect on restart only");
                ob_config_free(cfg);
                *cfg = fresh;
                ob_log_configure(cfg->log_level, cfg->log_format);
                unsigned old = generation++;
                want = pool_size(cfg);
                ob_info("master: reloading: starting %ld new workers, retiring generation %u",
                        want, old);
                /* New workers first, so the socket is never without one. */
                for (long i = 0; i < want; i++)
                    spawn(cfg, listen_fd, generation, &oldmask);
                /* SIGHUP asks a worker to retire: finish, drain its kept-alive
                 * connection, exit (see worker.c). */
                for (int i = 0; i < MAX_SLOTS; i++)
                    if (workers[i].pid && workers[i].generation != generation) {
                        kill(workers[i].pid, SIGHUP);
                        workers[i].stopping = true;
                    }
                crashes = 0;
                sd_notify(0, "READY=1");
            }
        }

        /* Timeouts. */
        for (int i = 0; i < MAX_SLOTS; i++) {
            if (!workers[i].pid || workers[i].killed)
                continue;
            int64_t started = slots[i].request_start_ns;
            if (started && now - started > cfg->request_timeout * NS) {
                workers[i].killed = true;
                kill(workers[i].pid, SIGKILL);
            }
        }

        /* Keep the pool full. */
        if (now >= next_spawn_ns) {
            int alive = count_alive(generation, false);
            for (long i = alive; i < want; i++)
                if (spawn(cfg, listen_fd, generation, &oldmask) == 0 && crashes > 0)
                    break; /* one at a time while crashing */
        }
    }
    ob_info("master: stopped");
    ob_metrics_pool_stop(); /* METRICS HOOK */
    close(sfd);
    munmap(slots, sizeof(ob_slot) * MAX_SLOTS);
    return 0;
}
