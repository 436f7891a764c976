/* install_library.c - `openbook install-library FILE.zip|DIR ...` (and
 * `openbook library install`, cli_library.h): installs HTML component
 * library archives through the same routine as
 * POST /api/core/html_library/install/ (library.h).  A folder installs
 * every *.zip in it, libraries before the ones that depend on them. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sodium.h>
#include "openbook/core/arena.h"
#include "openbook/cli/cli.h"
#include "openbook/db/db.h"
#include "openbook/library/library.h"
#include "openbook/db/migrations.h"
#include "openbook/redis/redis.h"
#include "openbook/core/json.h"
#include "cli_library.h"

static const char usage[] =
    "Usage: openbook install-library [-c FILE] [--force] [--no-replace] FILE.zip|DIR ...\n\n"
    "Installs HTML component library archives (libraries.md): checks each archive,\n"
    "unpacks it to <media_root>/lib/<org>/<name>/<version>/, keeps the archive as\n"
    "<media_root>/lib/@<org>_<name>_<version>.zip and records the library, its\n"
    "version and its components, exactly as POST /api/core/html_library/install/.\n"
    "A folder (e.g. <media_root>/lib-install/) installs every *.zip in it, each\n"
    "library before those that depend on it.  A failed archive leaves nothing\n"
    "behind and does not stop the others.\n\n"
    "  -c, --config FILE   configuration file\n"
    "      --force         install despite missing or unsatisfied dependencies\n"
    "                      (they are printed as warnings)\n"
    "      --no-replace    leave a version that is installed already (an error)\n"
    "                      instead of replacing it\n"
    "  -h, --help          show this help\n\n"
    "Exit status: 0 when every archive was installed, 1 otherwise.\n";

typedef struct {
    const char *path;
    const ob_library_manifest *m; /* NULL: the checks fail (install says why) */
    const char *fqn;              /* lower case; NULL with m */
    bool done;
} item;

static char *lower_fqn(ob_arena *a, const ob_library_manifest *m)
{
    char *s = ob_arena_printf(a, "@%s/%s", m->organization, m->name);
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    return s;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const item *)a)->path, ((const item *)b)->path);
}

/* Adds the *.zip files of a folder (or the file itself). */
static int collect(ob_arena *a, const char *arg, item **items, size_t *n, size_t *cap)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        perror(arg);
        return -1;
    }
    size_t first = *n;
    DIR *d = S_ISDIR(st.st_mode) ? opendir(arg) : NULL;
    if (S_ISDIR(st.st_mode) && !d) {
        perror(arg);
        return -1;
    }
    for (;;) {
        const char *path = arg;
        if (d) {
            struct dirent *e = readdir(d);
            if (!e)
                break;
            size_t l = strlen(e->d_name);
            if (l < 5 || strcmp(e->d_name + l - 4, ".zip") != 0 || e->d_name[0] == '.')
                continue;
            path = ob_arena_printf(a, "%s/%s", arg, e->d_name);
        }
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            item *grown = ob_arena_calloc(a, *cap, sizeof *grown);
            if (*n)
                memcpy(grown, *items, *n * sizeof *grown);
            *items = grown;
        }
        (*items)[(*n)++] = (item){.path = path};
        if (!d)
            break;
    }
    if (d) {
        closedir(d);
        if (*n > first) /* an empty folder added nothing: *items may be NULL */
            qsort(*items + first, *n - first, sizeof **items, by_path);
    }
    return 0;
}

/* True if no archive still to install provides one of its dependencies. */
static bool ready(const item *it, const item *items, size_t n)
{
    if (!it->m)
        return true;
    for (size_t d = 0; d < it->m->ndependencies; d++) {
        const char *dep = it->m->dependencies[d].key;
        for (size_t j = 0; j < n; j++)
            if (&items[j] != it && !items[j].done && items[j].fqn &&
                strcasecmp(items[j].fqn, dep) == 0)
                return false;
    }
    return true;
}

static void json_strings(ob_json *j, const char *key, const char **v, size_t n)
{
    ob_json_key(j, key);
    ob_json_array_begin(j);
    for (size_t i = 0; i < n; i++)
        ob_json_string(j, v[i]);
    ob_json_array_end(j);
}

/* Installs one archive; prints the outcome, or adds it to j (--json:
 * {"archive", "status": installed|replaced|failed, "library", "version",
 * "warnings", "errors"}). */
static int install_one(const ob_lib_ctx *c, const item *it, const ob_lib_install_opts *o,
                       ob_json *j)
{
    ob_lib_result res;
    ob_lib_status st = ob_library_install_file(c, it->path, o, &res);
    const char *why = NULL; /* a failure not in res.messages */
    if (st == OB_LIB_DB)
        why = ob_arena_printf(c->arena, "database error: %s", ob_db_last_error(c->db));
    else if (st != OB_LIB_OK && st != OB_LIB_BAD_ARCHIVE && st != OB_LIB_EXISTS)
        why = ob_arena_printf(c->arena, "the media root (%s) cannot be written",
                              c->cfg->media_root);
    if (j) {
        ob_json_object_begin(j);
        ob_json_kv_string(j, "archive", it->path);
        ob_json_kv_string(j, "status",
                          st != OB_LIB_OK ? "failed" : res.replaced ? "replaced" : "installed");
        if (st == OB_LIB_OK) {
            ob_json_kv_string(j, "library", res.fqn);
            ob_json_kv_string(j, "version", res.version);
        } else {
            ob_json_key(j, "library");
            ob_json_null(j);
            ob_json_key(j, "version");
            ob_json_null(j);
        }
        json_strings(j, "warnings", res.warnings, st == OB_LIB_OK ? res.nwarnings : 0);
        if (why)
            json_strings(j, "errors", &why, 1);
        else
            json_strings(j, "errors", res.messages, st == OB_LIB_OK ? 0 : res.nmessages);
        ob_json_object_end(j);
        return st == OB_LIB_OK ? 0 : -1;
    }
    if (st == OB_LIB_OK) {
        printf("%s: %s %s %s\n", it->path, res.replaced ? "replaced" : "installed", res.fqn,
               res.version);
        for (size_t i = 0; i < res.nwarnings; i++)
            printf("%s: warning: %s\n", it->path, res.warnings[i]);
        return 0;
    }
    if (why)
        fprintf(stderr, "openbook: %s: %s\n", it->path, why);
    else
        for (size_t i = 0; i < res.nmessages; i++)
            fprintf(stderr, "openbook: %s: %s\n", it->path, res.messages[i]);
    return -1;
}

int ob_cmd_install_library(int argc, char **argv, char **envp)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"force", no_argument, NULL, 'f'},
        {"no-replace", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    ob_lib_install_opts o = {.replace = true, .may_replace = true};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case 'f':
            o.force = true;
            break;
        case 'n':
            o.replace = false;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "openbook: install-library needs an archive or a folder\n");
        fputs(usage, stderr);
        return 2;
    }
    return ob_cli_install_libraries(config, argc - optind, argv + optind, &o, false, envp);
}

int ob_cli_install_libraries(const char *config, int nargs, char **args,
                             const ob_lib_install_opts *o, bool json, char **envp)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "openbook: libsodium failed to initialise\n");
        return 1;
    }
    ob_config cfg;
    if (ob_cli_load_config(&cfg, config, envp))
        return 1;
    ob_arena list_arena, arena;
    ob_arena_init(&list_arena, 16 * 1024);
    ob_arena_init(&arena, 64 * 1024);
    ob_db *db = ob_db_new(cfg.database_url, cfg.database_connect_timeout, 0);
    ob_redis *redis =
        ob_redis_new(cfg.redis_address, cfg.redis_db, cfg.redis_password, cfg.redis_timeout);
    int rc = 1;
    item *items = NULL;
    size_t n = 0, cap = 0;
    bool bad = false;
    for (int i = 0; i < nargs; i++)
        bad = collect(&list_arena, args[i], &items, &n, &cap) != 0 || bad;
    if (ob_db_ensure(db) != 0) {
        fprintf(stderr, "openbook: cannot connect to the database: %s\n", ob_db_last_error(db));
        goto done;
    }
    if (ob_schema_version(db) < (ob_nmigrations ? ob_migrations[ob_nmigrations - 1].version : 0)) {
        fprintf(stderr, "openbook: the database schema is not up to date; run "
                        "`openbook migrate` first\n");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const char *msg = NULL;
        items[i].m = ob_library_peek(&list_arena, &cfg, items[i].path, &msg);
        items[i].fqn = items[i].m ? lower_fqn(&list_arena, items[i].m) : NULL;
    }
    /* In order: each turn the first archive (by name) none of whose
     * dependencies is still waiting; with a cycle, the first one left. */
    ob_lib_ctx c = {.arena = &arena, .cfg = &cfg, .db = db, .redis = redis};
    size_t failed = 0;
    ob_buf out;
    ob_buf_init(&out, &list_arena);
    ob_json j;
    ob_json_init(&j, &out);
    if (json)
        ob_json_array_begin(&j);
    for (size_t done = 0; done < n; done++) {
        size_t pick = n;
        for (size_t i = 0; i < n && pick == n; i++)
            if (!items[i].done && ready(&items[i], items, n))
                pick = i;
        for (size_t i = 0; i < n && pick == n; i++)
            if (!items[i].done)
                pick = i;
        items[pick].done = true;
        if (install_one(&c, &items[pick], o, json ? &j : NULL) != 0)
            failed++;
        ob_arena_reset(&arena);
    }
    if (json) {
        ob_json_array_end(&j);
        puts(ob_buf_cstr(&out));
    }
    if (n == 0 && !bad)
        fprintf(stderr, "openbook: no *.zip archive found\n");
    rc = failed || bad || n == 0 ? 1 : 0;
done:
    ob_arena_destroy(&arena);
    ob_arena_destroy(&list_arena);
    ob_redis_free(redis);
    ob_db_free(db);
    ob_config_free(&cfg);
    return rc;
}
