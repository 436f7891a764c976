/* site.c - `openbook site show|set`: the site this installation serves
 * (site.site_id in the configuration; a row of the sites table, the one
 * GET /api/core/sites/<id>/ shows).  Its domain makes the links in mails
 * when http.public_base_url is empty. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "openbook/cli/cli.h"
#include "openbook/http/fields.h"
#include "openbook/core/json.h"
#include "openbook/http/validate.h"
#include "cli_account.h"

static const char usage[] =
    "Usage: openbook site show [-c FILE] [--json]\n"
    "       openbook site set [-c FILE] [--json] [--domain D] [--name N] [--short-name S]\n"
    "                         [--about-url URL] [--brand-color #RRGGBB]\n\n"
    "Shows or changes the site this installation serves (site.site_id).  `set`\n"
    "changes the fields given and leaves the others; the rules are the API's\n"
    "(PUT /api/core/sites/<id>/): domain at most 100 characters and unique, name\n"
    "and short name at most 50, about URL a valid URL of at most 200, brand color\n"
    "#rgb or #rrggbb.  The running servers see the change at once.\n\n"
    "  -c, --config FILE   configuration file\n"
    "      --json          print the site as JSON (as the API shows it)\n"
    "  -h, --help          show this help\n\n"
    "Exit codes: 0 done, 1 runtime error, 2 usage error or invalid value, 3 the\n"
    "site does not exist (run `openbook load-initial-data`), 4 the domain is taken.\n";

/* The writable fields: option, column, and the API's limits. */
static const struct field {
    const char *option, *column;
    int max_len;
    bool (*valid)(const char *s, size_t len);
    const char *invalid;
} fields[] = {
    {"domain", "domain", 100, NULL, NULL},
    {"name", "name", 50, NULL, NULL},
    {"short-name", "short_name", 50, NULL, NULL},
    {"about-url", "about_url", 200, ob_valid_url, "Enter a valid URL."},
    {"brand-color", "brand_color", 7, ob_valid_color, "Enter a valid color: #rgb or #rrggbb."},
};
enum { NFIELDS = sizeof fields / sizeof *fields };

static int show(ob_cli_account *ca, bool json, bool changed)
{
    char id[24];
    snprintf(id, sizeof id, "%ld", ca->cfg.site_id);
    const char *p[] = {id};
    PGresult *res = ob_db_query(ca->db, &ca->arena,
                                "SELECT id, domain, name, short_name, about_url, brand_color "
                                "FROM sites WHERE id = $1::integer",
                                1, p);
    if (!res) {
        fprintf(stderr, "openbook: %s\n", ob_db_last_error(ca->db));
        return OB_EXIT_ERROR;
    }
    if (PQntuples(res) == 0) {
        fprintf(stderr, "openbook: site %s (site.site_id) does not exist; run `openbook "
                        "load-initial-data`\n", id);
        return OB_EXIT_NOT_FOUND;
    }
    if (json) {
        ob_buf b;
        ob_buf_init(&b, &ca->arena);
        ob_json j;
        ob_json_init(&j, &b);
        ob_json_object_begin(&j);
        ob_json_kv_int(&j, "id", ca->cfg.site_id);
        for (int i = 0; i < NFIELDS; i++)
            ob_json_kv_string(&j, fields[i].column, PQgetvalue(res, 0, i + 1));
        ob_json_object_end(&j);
        puts(ob_buf_cstr(&b));
        return OB_EXIT_OK;
    }
    if (changed)
        printf("Site %s changed.\n", id);
    printf("id:          %s\n", id);
    for (int i = 0; i < NFIELDS; i++)
        printf("%-12s %s\n", ob_arena_printf(&ca->arena, "%s:", fields[i].column),
               PQgetvalue(res, 0, i + 1));
    return OB_EXIT_OK;
}

/* One UPDATE of the given fields. */
static int set(ob_cli_account *ca, const char *const values[NFIELDS], bool json)
{
    ob_buf sql;
    ob_buf_init(&sql, &ca->arena);
    ob_buf_puts(&sql, "UPDATE sites SET ");
    const char *p[NFIELDS + 1];
    int n = 0;
    char id[24];
    snprintf(id, sizeof id, "%ld", ca->cfg.site_id);
    p[n++] = id;
    for (int i = 0; i < NFIELDS; i++)
        if (values[i]) {
            ob_buf_printf(&sql, "%s%s = $%d", n > 1 ? ", " : "", fields[i].column, n + 1);
            p[n++] = values[i];
        }
    ob_buf_puts(&sql, " WHERE id = $1::integer RETURNING id");
    PGresult *res = ob_db_query(ca->db, &ca->arena, ob_buf_cstr(&sql), n, p);
    if (!res) {
        bool taken = strcmp(ob_db_last_sqlstate(ca->db), "23505") == 0;
        fprintf(stderr, "openbook: site set: %s\n",
                taken ? "Website with this Domain already exists." : ob_db_last_error(ca->db));
        return taken ? OB_EXIT_CONFLICT : OB_EXIT_ERROR;
    }
    if (PQntuples(res) == 0)
        return show(ca, json, false); /* says it does not exist */
    return show(ca, json, true);
}

/* Returns 0 to go on, else exit code + 1. */
static int check(const char *option, const struct field *f, const char *v)
{
    size_t n = strlen(v);
    char why[96] = "";
    /* As the API: brand_color may be blank, the others may not. */
    if (n == 0 && f->valid != ob_valid_color)
        snprintf(why, sizeof why, "This field may not be blank.");
    else if (ob_utf8_count(v, n) > (size_t)f->max_len)
        snprintf(why, sizeof why, "Ensure this field has no more than %d characters.", f->max_len);
    else if (n && f->valid && !f->valid(v, n))
        snprintf(why, sizeof why, "%s", f->invalid);
    if (!*why)
        return 0;
    fprintf(stderr, "openbook: site set: --%s: %s\n", option, why);
    return OB_EXIT_USAGE + 1;
}

int ob_cmd_site(int argc, char **argv, char **envp)
{
    bool is_set = argc >= 2 && strcmp(argv[1], "set") == 0;
    if (argc < 2 || (!is_set && strcmp(argv[1], "show") != 0)) {
        bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                                  strcmp(argv[1], "help") == 0);
        if (!help && argc >= 2)
            fprintf(stderr, "openbook: site: unknown subcommand '%s'\n\n", argv[1]);
        fputs(usage, help ? stdout : stderr);
        return help ? OB_EXIT_OK : OB_EXIT_USAGE;
    }
    struct option opts[NFIELDS + 4];
    for (int i = 0; i < NFIELDS; i++)
        opts[i] = (struct option){fields[i].option, required_argument, NULL, 256 + i};
    opts[NFIELDS] = (struct option){"config", required_argument, NULL, 'c'};
    opts[NFIELDS + 1] = (struct option){"json", no_argument, NULL, 'j'};
    opts[NFIELDS + 2] = (struct option){"help", no_argument, NULL, 'h'};
    opts[NFIELDS + 3] = (struct option){NULL, 0, NULL, 0};
    const char *config = NULL, *values[NFIELDS] = {NULL};
    bool json = false, any = false;
    int c;
    argc--, argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            config = optarg;
        } else if (c == 'j') {
            json = true;
        } else if (c == 'h') {
            fputs(usage, stdout);
            return OB_EXIT_OK;
        } else if (c >= 256 && c < 256 + NFIELDS && is_set) {
            int rc = check(fields[c - 256].option, &fields[c - 256], optarg);
            if (rc)
                return rc - 1;
            values[c - 256] = optarg;
            any = true;
        } else {
            fputs(usage, stderr);
            return OB_EXIT_USAGE;
        }
    }
    if (optind < argc || (is_set && !any)) {
        fprintf(stderr, "openbook: site %s: %s\n", argv[0],
                optind < argc ? "unexpected argument" : "name at least one field to change");
        fputs(usage, stderr);
        return OB_EXIT_USAGE;
    }
    ob_cli_account ca;
    if (ob_cli_db_open(&ca, config, envp, OB_CLI_CURRENT_SCHEMA) != 0)
        return OB_EXIT_ERROR;
    int rc = is_set ? set(&ca, values, json) : show(&ca, json, false);
    ob_cli_account_close(&ca);
    return rc;
}
