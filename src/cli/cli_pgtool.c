/* cli_pgtool.c - pg_dump and pg_restore with the configured connection
 * (cli_pgtool.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libpq-fe.h>
#include "openbook/core/buf.h"
#include "cli_files.h"
#include "cli_pgtool.h"

extern char **environ;

/* value quoted for a connection string: '...' with \ and ' escaped. */
static void put_quoted(ob_buf *b, const char *v)
{
    ob_buf_putc(b, '\'');
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '\'')
            ob_buf_putc(b, '\\');
        ob_buf_putc(b, *p);
    }
    ob_buf_putc(b, '\'');
}

/* pgpass field: \ and : escaped. */
static void put_pgpass(ob_buf *b, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == ':')
            ob_buf_putc(b, '\\');
        ob_buf_putc(b, *p);
    }
}

/* The connection string without the password (conninfo) and the password
 * (NULL if database.url holds none).  -1 when database.url is invalid. */
static int split_url(ob_arena *a, const char *url, const char **conninfo, const char **password)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &err);
    if (!opts) {
        fprintf(stderr, "openbook: database.url: %s", err ? err : "invalid\n");
        PQfreemem(err);
        return -1;
    }
    ob_buf b;
    ob_buf_init(&b, a);
    *password = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && *o->val && strcmp(o->keyword, "password") == 0)
            *password = ob_arena_strdup(a, o->val);
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val || strcmp(o->keyword, "password") == 0 ||
            (*password && strcmp(o->keyword, "passfile") == 0))
            continue;
        ob_buf_printf(&b, "%s%s=", b.len ? " " : "", o->keyword);
        put_quoted(&b, o->val);
    }
    PQconninfoFree(opts);
    *conninfo = ob_buf_cstr(&b);
    return 0;
}

/* Writes a pgpass file with one line that matches any server into a new
 * private directory; *dir gets that directory.  Returns the file's path,
 * or NULL (printed). */
static const char *write_pgpass(ob_arena *a, const char *password, char **dir)
{
    const char *tmp = getenv("TMPDIR");
    char *d = ob_arena_printf(a, "%s/openbook-pg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(d)) {
        fprintf(stderr, "openbook: cannot make a temporary directory: %s\n", strerror(errno));
        return NULL;
    }
    *dir = d;
    const char *path = ob_arena_printf(a, "%s/pgpass", d);
    ob_buf line;
    ob_buf_init(&line, a);
    ob_buf_puts(&line, "*:*:*:*:");
    put_pgpass(&line, password);
    ob_buf_putc(&line, '\n');
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || ob_cli_write_all(fd, line.data, line.len) != 0) {
        fprintf(stderr, "openbook: cannot write %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(path);
        rmdir(d);
        *dir = NULL;
        return NULL;
    }
    close(fd);
    return path;
}

/* The environment for the tool: ours without OPENBOOK_* (secrets the tool
 * has no use for) and, when we pass a pgpass file, without PGPASSWORD
 * (which libpq would prefer to it) and PGPASSFILE. */
static char **tool_env(ob_arena *a, const char *pgpass)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = ob_arena_calloc(a, n + 2, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        if (strncmp(e, "OPENBOOK_", 9) == 0 ||
            (pgpass && (strncmp(e, "PGPASSWORD=", 11) == 0 || strncmp(e, "PGPASSFILE=", 11) == 0)))
            continue;
        env[k++] = environ[i];
    }
    if (pgpass)
        env[k++] = ob_arena_printf(a, "PGPASSFILE=%s", pgpass);
    return env;
}

int ob_cli_pgtool(const ob_config *cfg, int server_version_num, const char *tool,
                  const char *const *args)
{
    ob_arena a;
    ob_arena_init(&a, 4096);
    const char *conninfo, *password;
    if (split_url(&a, cfg->database_url, &conninfo, &password) != 0) {
        ob_arena_destroy(&a);
        return -1;
    }
    char *dir = NULL;
    const char *pgpass = password ? write_pgpass(&a, password, &dir) : NULL;
    if (password && !pgpass) {
        ob_arena_destroy(&a);
        return -1;
    }
    const char *path;
    if (*cfg->database_tools_dir) {
        path = ob_arena_printf(&a, "%s/%s", cfg->database_tools_dir, tool);
    } else {
        path = ob_arena_printf(&a, "/usr/lib/postgresql/%d/bin/%s", server_version_num / 10000,
                               tool);
        if (access(path, X_OK) != 0)
            path = tool;
    }
    size_t n = 0;
    while (args[n])
        n++;
    char **argv = ob_arena_calloc(&a, n + 3, sizeof *argv);
    argv[0] = (char *)path;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    argv[n + 1] = ob_arena_printf(&a, "--dbname=%s", conninfo);
    char **env = tool_env(&a, pgpass);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execvpe(path, argv, env);
        fprintf(stderr, "openbook: cannot run %s: %s (install PostgreSQL's client programs, "
                        "e.g. the package postgresql-client)\n", path, strerror(errno));
        _exit(127);
    }
    int status = -1, rc = -1;
    if (pid < 0)
        fprintf(stderr, "openbook: fork: %s\n", strerror(errno));
    else {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (WIFEXITED(status))
            rc = WEXITSTATUS(status);
        else
            fprintf(stderr, "openbook: %s ended by signal %d\n", tool, WTERMSIG(status));
        if (rc == 127)
            rc = -1;
    }
    if (pgpass) {
        unlink(pgpass);
        rmdir(dir);
    }
    ob_arena_destroy(&a);
    return rc;
}
