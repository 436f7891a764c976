/* library.c - `openbook library list|install|remove`: the HTML component
 * libraries of this installation, for the administrator.  install is the
 * routine of `openbook install-library` (cli_library.h), remove the
 * uninstall behind DELETE /api/core/html_library/libraries|versions/<id>/
 * (library.h), dependants check included. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "openbook/cli/cli.h"
#include "openbook/core/json.h"
#include "openbook/library/library.h"
#include "openbook/redis/redis.h"
#include "cli_account.h"
#include "cli_library.h"

static const char usage[] =
    "Usage: openbook library list [-c FILE] [--json]\n"
    "       openbook library install [-c FILE] [--json] [--force] [--no-replace] FILE.zip|DIR ...\n"
    "       openbook library remove [-c FILE] [--json] [--version V] [--force] NAME\n\n"
    "The HTML component libraries of this installation (libraries.md).\n\n"
    "  list      each library (@org/name), its versions in semver order, whether it\n"
    "            is published and how many components it has\n"
    "  install   installs archives exactly as `openbook install-library` (the same\n"
    "            routine; see its --help) and POST /api/core/html_library/install/\n"
    "  remove    uninstalls the library NAME (\"@org/name\") with every version, or\n"
    "            only version V, with its files, as the API's DELETE does.  Refused\n"
    "            while another installed library depends on what would go, unless\n"
    "            --force\n\n"
    "  -c, --config FILE   configuration file\n"
    "      --json          print the result as JSON\n"
    "      --force         install: despite missing or unsatisfied dependencies;\n"
    "                      remove: even though other libraries depend on it\n"
    "      --no-replace    install: leave an installed version (an error)\n"
    "      --version V     remove: only this version\n"
    "  -h, --help          show this help\n\n"
    "Exit codes: 0 done, 1 runtime error (install: an archive failed), 2 usage\n"
    "error, 3 the library or version does not exist, 4 other libraries depend on\n"
    "it (nothing was removed).\n";

enum { SUB_LIST, SUB_INSTALL, SUB_REMOVE };
static const char *const subcommands[] = {"list", "install", "remove"};

typedef struct {
    int sub;
    const char *config, *version;
    bool json, force, no_replace;
} options;

/* @org/name: 100 characters each (the columns). */
enum { NAME_MAX_LEN = 1 + 100 + 1 + 100, VERSION_MAX_LEN = 50 };

static int usage_error(const char *sub, const char *why)
{
    fprintf(stderr, "openbook: library %s: %s\n", sub, why);
    fputs("\n(openbook library --help lists the subcommands and options)\n", stderr);
    return OB_EXIT_USAGE;
}

static int cmd_list(ob_cli_account *ca, const options *o)
{
    /* One statement: the versions in semver order through sort_key. */
    PGresult *res = ob_db_query(
        ca->db, &ca->arena,
        "SELECT l.id, '@' || l.organization || '/' || l.name, l.published,"
        " (SELECT count(*) FROM html_components c WHERE c.library_id = l.id),"
        " coalesce((SELECT json_agg(v.version ORDER BY v.sort_key) FROM html_library_versions v"
        "           WHERE v.parent_id = l.id), '[]'),"
        " coalesce((SELECT string_agg(v.version, ' ' ORDER BY v.sort_key)"
        "           FROM html_library_versions v WHERE v.parent_id = l.id), '-')"
        " FROM html_libraries l ORDER BY lower(l.organization), lower(l.name)",
        0, NULL);
    if (!res) {
        fprintf(stderr, "openbook: %s\n", ob_db_last_error(ca->db));
        return OB_EXIT_ERROR;
    }
    int n = PQntuples(res);
    if (o->json) {
        ob_buf b;
        ob_buf_init(&b, &ca->arena);
        ob_json j;
        ob_json_init(&j, &b);
        ob_json_array_begin(&j);
        for (int i = 0; i < n; i++) {
            ob_json_object_begin(&j);
            ob_json_kv_string(&j, "id", PQgetvalue(res, i, 0));
            ob_json_kv_string(&j, "library", PQgetvalue(res, i, 1));
            ob_json_key(&j, "versions");
            /* json_agg of varchar: valid JSON made by the database. */
            ob_json_raw(&j, PQgetvalue(res, i, 4), (size_t)PQgetlength(res, i, 4));
            ob_json_key(&j, "published");
            ob_json_bool(&j, PQgetvalue(res, i, 2)[0] == 't');
            ob_json_key(&j, "components");
            ob_json_raw(&j, PQgetvalue(res, i, 3), (size_t)PQgetlength(res, i, 3));
            ob_json_object_end(&j);
        }
        ob_json_array_end(&j);
        puts(ob_buf_cstr(&b));
        return OB_EXIT_OK;
    }
    printf("%-40s %-9s %-10s %s\n", "LIBRARY", "PUBLISHED", "COMPONENTS", "VERSIONS");
    for (int i = 0; i < n; i++)
        printf("%-40s %-9s %-10s %s\n", PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2)[0] == 't' ? "yes" : "no", PQgetvalue(res, i, 3),
               PQgetvalue(res, i, 5));
    return OB_EXIT_OK;
}

static int cmd_remove(ob_cli_account *ca, const options *o, const char *name)
{
    /* "@org/name" or "org/name", case-insensitive as fqns are. */
    const char *fqn = name[0] == '@' ? name : ob_arena_printf(&ca->arena, "@%s", name);
    const char *p[] = {fqn, o->version ? o->version : ""};
    PGresult *res = ob_db_query(
        ca->db, &ca->arena,
        "SELECT l.id, v.id FROM html_libraries l"
        " LEFT JOIN html_library_versions v ON v.parent_id = l.id AND lower(v.version) = lower($2)"
        " WHERE lower('@' || l.organization || '/' || l.name) = lower($1)",
        2, p);
    if (!res) {
        fprintf(stderr, "openbook: %s\n", ob_db_last_error(ca->db));
        return OB_EXIT_ERROR;
    }
    if (PQntuples(res) == 0 || (o->version && PQgetisnull(res, 0, 1))) {
        if (PQntuples(res) == 0)
            fprintf(stderr, "openbook: library remove: no library %s is installed\n", fqn);
        else
            fprintf(stderr, "openbook: library remove: %s has no version %s\n", fqn, o->version);
        return OB_EXIT_NOT_FOUND;
    }
    const char *library_id = ob_arena_strdup(&ca->arena, PQgetvalue(res, 0, 0));
    const char *version_id = o->version ? ob_arena_strdup(&ca->arena, PQgetvalue(res, 0, 1)) : NULL;
    /* The event library.installed (op deleted) reaches open editors; a
     * Redis outage only loses it, as in the API. */
    ob_redis *redis = ob_redis_new(ca->cfg.redis_address, ca->cfg.redis_db,
                                   ca->cfg.redis_password, ca->cfg.redis_timeout);
    ob_lib_ctx c = {.arena = &ca->arena, .cfg = &ca->cfg, .db = ca->db, .redis = redis};
    ob_lib_result out;
    ob_lib_status st = version_id ? ob_library_uninstall_version(&c, version_id, o->force, &out)
                                  : ob_library_uninstall(&c, library_id, o->force, &out);
    ob_redis_free(redis);
    switch (st) {
    case OB_LIB_OK:
        break;
    case OB_LIB_DEPENDANTS:
        fprintf(stderr, "openbook: library remove: %s (--force removes it anyway)\n",
                out.nmessages ? out.messages[0] : "other libraries depend on it");
        return OB_EXIT_CONFLICT;
    case OB_LIB_NOT_FOUND: /* removed meanwhile */
        fprintf(stderr, "openbook: library remove: %s%s%s is not installed (any more)\n", fqn,
                o->version ? " " : "", o->version ? o->version : "");
        return OB_EXIT_NOT_FOUND;
    case OB_LIB_DB:
        fprintf(stderr, "openbook: library remove: database error: %s\n",
                ob_db_last_error(ca->db));
        return OB_EXIT_ERROR;
    default:
        fprintf(stderr, "openbook: library remove: failed (%d)\n", (int)st);
        return OB_EXIT_ERROR;
    }
    if (o->json) {
        ob_buf b;
        ob_buf_init(&b, &ca->arena);
        ob_json j;
        ob_json_init(&j, &b);
        ob_json_object_begin(&j);
        ob_json_kv_string(&j, "library", out.fqn);
        ob_json_key(&j, "version");
        if (version_id)
            ob_json_string(&j, out.version);
        else
            ob_json_null(&j);
        ob_json_kv_string(&j, "status", "removed");
        ob_json_object_end(&j);
        puts(ob_buf_cstr(&b));
    } else if (version_id) {
        printf("removed %s %s\n", out.fqn, out.version);
    } else {
        printf("removed %s (every version)\n", out.fqn);
    }
    return OB_EXIT_OK;
}

/* Returns -1 to go on, else the exit code. */
static int parse_options(int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"force", no_argument, NULL, 'f'},
        {"no-replace", no_argument, NULL, 'n'},
        {"version", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sub = subcommands[o->sub];
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        case 'f':
            if (o->sub == SUB_LIST)
                return usage_error(sub, "--force does not apply here");
            o->force = true;
            break;
        case 'n':
            if (o->sub != SUB_INSTALL)
                return usage_error(sub, "--no-replace does not apply here");
            o->no_replace = true;
            break;
        case 'v':
            if (o->sub != SUB_REMOVE)
                return usage_error(sub, "--version does not apply here");
            if (!*optarg || strlen(optarg) > VERSION_MAX_LEN)
                return usage_error(sub, "--version wants a version of 1 to 50 characters");
            o->version = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return OB_EXIT_OK;
        default:
            return usage_error(sub, "unknown option");
        }
    }
    int args = argc - optind;
    if (o->sub == SUB_LIST && args != 0)
        return usage_error(sub, "takes no argument");
    if (o->sub == SUB_INSTALL && args == 0)
        return usage_error(sub, "needs an archive or a folder");
    if (o->sub == SUB_REMOVE) {
        if (args != 1)
            return usage_error(sub, "needs one library name (@org/name)");
        const char *name = argv[optind];
        const char *slash = strchr(name, '/');
        if (!slash || slash == name + (name[0] == '@') || !slash[1] ||
            strlen(name) > NAME_MAX_LEN)
            return usage_error(sub, "the library name is @org/name");
    }
    return -1;
}

int ob_cmd_library(int argc, char **argv, char **envp)
{
    options o = {.sub = -1};
    for (int i = 0; argc >= 2 && i < (int)(sizeof subcommands / sizeof *subcommands); i++)
        if (strcmp(argv[1], subcommands[i]) == 0)
            o.sub = i;
    if (o.sub < 0) {
        bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                                  strcmp(argv[1], "help") == 0);
        if (!help && argc >= 2)
            fprintf(stderr, "openbook: library: unknown subcommand '%s'\n\n", argv[1]);
        fputs(usage, help ? stdout : stderr);
        return help ? OB_EXIT_OK : OB_EXIT_USAGE;
    }
    argc--, argv++;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.sub == SUB_INSTALL) {
        ob_lib_install_opts io = {.force = o.force, .replace = !o.no_replace, .may_replace = true};
        return ob_cli_install_libraries(o.config, argc - optind, argv + optind, &io, o.json, envp);
    }
    ob_cli_account ca;
    if (ob_cli_db_open(&ca, o.config, envp, OB_CLI_CURRENT_SCHEMA) != 0)
        return OB_EXIT_ERROR;
    rc = o.sub == SUB_LIST ? cmd_list(&ca, &o) : cmd_remove(&ca, &o, argv[optind]);
    ob_cli_account_close(&ca);
    return rc;
}
