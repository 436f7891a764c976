/* ceiling.c - the benchmark's libfcgi ceiling (test/bench/README.md).
 *
 * The least a FastCGI responder built on libfcgi can do: pre-fork N
 * processes on one unix socket, each in an FCGX_Accept_r loop, and answer
 * every request with a fixed JSON body and the same response headers the
 * OpenBook server sends (src/http/response.c).  No parsing, no database, no
 * logging.  Whatever the real server loses against this, it loses in its
 * own code (or in PostgreSQL), not in nginx, libfcgi or the kernel.
 *
 *   ceiling SOCKET_PATH NPROCS
 *
 * Runs until SIGTERM/SIGINT, then stops its children and removes the
 * socket.  Children die with the parent (PR_SET_PDEATHSIG).  Built by
 * test/bench/bench.py:
 *
 *   cc -O2 -o build/bench/ceiling test/bench/ceiling.c $(pkg-config --cflags --libs fcgi)
 *
 * Not installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

#define BODY "{\"status\":\"GOOD\"}"
/* Byte for byte the head the server writes, around the Content-Length. */
#define HEAD_BEFORE_LENGTH                                                                  \
    "Status: 200 OK\r\n"                                                                    \
    "Content-Type: application/json\r\n"                                                    \
    "Content-Length: "
#define HEAD_AFTER_LENGTH                                                                   \
    "\r\n"                                                                                  \
    "X-Content-Type-Options: nosniff\r\n"                                                   \
    "X-Frame-Options: DENY\r\n"                                                             \
    "Referrer-Policy: same-origin\r\n"                                                      \
    "Vary: Accept, Cookie, Accept-Language\r\n"                                             \
    "Cache-Control: private, no-store\r\n"                                                  \
    "Content-Language: en\r\n"                                                              \
    "X-Request-Id: 0123456789abcdef0123456789abcdef\r\n" /* as long as nginx's */            \
    "\r\n"
/* Byte for byte what the server writes for the health endpoint. */
static const char response[] = HEAD_BEFORE_LENGTH "17" HEAD_AFTER_LENGTH BODY;
_Static_assert(sizeof BODY - 1 == 17, "Content-Length must match the body");

/* With ?bytes=N (64..MAX_BYTES): a JSON body of exactly N bytes instead,
 * {"pad":"xx...x"}, so that an endpoint with a big answer can be compared
 * with a responder that moves as many bytes (test/bench/README.md). */
#define MAX_BYTES (1 << 20)
static char pad[MAX_BYTES];

static long sized_request(FCGX_Request *req)
{
    const char *q = FCGX_GetParam("QUERY_STRING", req->envp);
    if (!q || strncmp(q, "bytes=", 6) != 0)
        return 0;
    long n = strtol(q + 6, NULL, 10);
    return n >= 64 && n <= MAX_BYTES ? n : 0;
}

static int serve(int sock)
{
    FCGX_Request req;
    if (FCGX_InitRequest(&req, sock, 0) != 0)
        return 1;
    memset(pad, 'x', sizeof pad);
    while (FCGX_Accept_r(&req) >= 0) {
        long n = sized_request(&req);
        if (n) {
            FCGX_FPrintF(req.out, HEAD_BEFORE_LENGTH "%ld" HEAD_AFTER_LENGTH "{\"pad\":\"", n);
            FCGX_PutStr(pad, (int)(n - 10), req.out); /* 10: {"pad":" and "} */
            FCGX_PutStr("\"}", 2, req.out);
        } else {
            FCGX_PutStr(response, (int)sizeof response - 1, req.out);
        }
        FCGX_Finish_r(&req);
    }
    return 0;
}

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig) { stop_sig = sig; }

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKET_PATH NPROCS\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    int n = atoi(argv[2]);
    if (n < 1 || n > 1024) {
        fprintf(stderr, "ceiling: NPROCS must be 1..1024\n");
        return 2;
    }
    if (FCGX_Init() != 0) {
        fprintf(stderr, "ceiling: FCGX_Init failed\n");
        return 1;
    }
    unlink(path);
    int sock = FCGX_OpenSocket(path, 1024);
    if (sock < 0) {
        fprintf(stderr, "ceiling: cannot listen on %s\n", path);
        return 1;
    }
    chmod(path, 0666);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    pid_t parent = getpid();
    pid_t *kids = calloc((size_t)n, sizeof *kids);
    if (!kids)
        return 1;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("ceiling: fork");
            stop_sig = SIGTERM;
            break;
        }
        if (pid == 0) {
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(0);
            _exit(serve(sock));
        }
        kids[i] = pid;
    }
    fprintf(stderr, "ceiling: %d processes on %s\n", n, path);

    /* Wait for a stop signal or a child's death (then stop everything). */
    while (!stop_sig) {
        int status;
        pid_t w = waitpid(-1, &status, 0);
        if (w > 0) {
            fprintf(stderr, "ceiling: child %d exited (status %d); stopping\n", (int)w, status);
            for (int i = 0; i < n; i++)
                if (kids[i] == w)
                    kids[i] = 0;
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
    }
    for (int i = 0; i < n; i++)
        if (kids[i] > 0)
            kill(kids[i], SIGTERM);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    unlink(path);
    free(kids);
    return 0;
}
