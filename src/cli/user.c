/* user.c - `openbook user SUBCOMMAND`: the administrator's view of the
 * accounts (list, show, create, activate, deactivate, set-password,
 * make-staff, make-superuser), for people (text) and scripts (--json,
 * exit codes of cli.h).
 *
 * Account writes go through the functions the API uses (account.h:
 * creation, argon2id hashing; password.h: the rules), and have the API's
 * side effects: a password change or a deactivation ends the user's
 * sessions and closes their relay connections. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "openbook/auth/account.h"
#include "openbook/cli/cli.h"
#include "openbook/core/json.h"
#include "openbook/auth/password.h"
#include "openbook/http/validate.h"
#include "cli_account.h"

static const char usage[] =
    "Usage: openbook user SUBCOMMAND [-c FILE] [--json] [OPTIONS] [USERNAME]\n\n"
    "Manages accounts.  USERNAME is matched case-insensitively.\n\n"
    "  list [--staff] [--superusers] [--active | --inactive] [--search TEXT] [--limit N]\n"
    "                        the accounts, by username (at most N, default 1000)\n"
    "  show USERNAME         one account: flags, dates, groups, e-mail addresses,\n"
    "                        active sessions and API tokens\n"
    "  create USERNAME [--email E] [--first-name F] [--last-name L] [--staff]\n"
    "         [--superuser] [--password-stdin | --no-password]\n"
    "                        a new account; the e-mail address counts as verified.\n"
    "                        The password is asked for twice, or read from one line\n"
    "                        of standard input (--password-stdin); --no-password\n"
    "                        makes an account that cannot log in with a password\n"
    "  activate USERNAME     allow the account to log in again\n"
    "  deactivate USERNAME   refuse its logins, end its sessions, close its live\n"
    "                        connections (data and ownership stay)\n"
    "  set-password USERNAME [--password-stdin]\n"
    "                        a new password (the rules apply); ends every session\n"
    "  make-staff USERNAME [--revoke]\n"
    "                        give (or with --revoke take away) staff status\n"
    "  make-superuser USERNAME [--revoke]\n"
    "                        make a superuser (and staff), or with --revoke no longer\n"
    "                        a superuser (staff status stays)\n\n"
    "Every subcommand takes:\n"
    "  -c, --config FILE     configuration file\n"
    "      --json            print the result as JSON (an object per account;\n"
    "                        list: an array), for scripts\n"
    "  -h, --help            show this help\n\n"
    "Exit codes: 0 done (also when nothing had to change), 1 configuration,\n"
    "database or other runtime error, 2 usage error or invalid value (bad e-mail\n"
    "address, password refused by the rules), 3 no such user, 4 the username or\n"
    "e-mail address is taken (create).\n";

enum {
    O_JSON = 1 << 0,
    O_STAFF = 1 << 1,
    O_SUPERUSERS = 1 << 2,
    O_ACTIVE = 1 << 3,
    O_INACTIVE = 1 << 4,
    O_SEARCH = 1 << 5,
    O_LIMIT = 1 << 6,
    O_EMAIL = 1 << 7,
    O_FIRST = 1 << 8,
    O_LAST = 1 << 9,
    O_SUPERUSER = 1 << 10,
    O_PW_STDIN = 1 << 11,
    O_NO_PW = 1 << 12,
    O_REVOKE = 1 << 13,
};

typedef struct options {
    const char *config, *search, *email, *first, *last, *username;
    long limit;
    unsigned given; /* O_* */
} options;

typedef struct subcommand subcommand;
typedef int (*sub_fn)(ob_cli_account *ca, const options *o, const subcommand *s);

struct subcommand {
    const char *name;
    unsigned allowed; /* O_* besides -c, --json, --help */
    bool needs_user;  /* one positional argument */
    sub_fn run;
};

/* ---- reading accounts ------------------------------------------------- */

/* One row per account; every column the output shows, computed in SQL
 * (no query per row).  $1..: the caller's WHERE clause. */
#define USER_COLUMNS                                                                              \
    "SELECT u.id, u.username, u.email, u.first_name, u.last_name, u.user_type, "                  \
    "u.is_active, u.is_staff, u.is_superuser, "                                                   \
    "to_char(u.date_joined AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "               \
    "to_char(u.last_login AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                \
    "(SELECT coalesce(json_agg(g.name ORDER BY g.name), '[]') FROM user_groups ug "               \
    " JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = u.id), "                             \
    "(SELECT coalesce(json_agg(json_build_object('email', e.email, 'verified', e.verified, "      \
    " 'primary', e.is_primary) ORDER BY e.is_primary DESC, e.email), '[]') "                      \
    " FROM email_addresses e WHERE e.user_id = u.id), "                                           \
    "(SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > now()), "         \
    "(SELECT count(*) FROM auth_tokens t WHERE t.user_id = u.id AND t.is_active), "               \
    "(SELECT coalesce(string_agg(g.name, ', ' ORDER BY g.name), '') FROM user_groups ug "         \
    " JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = u.id), "                             \
    "(SELECT coalesce(string_agg(e.email || CASE WHEN e.is_primary THEN ' (primary' ELSE ' (' "   \
    " END || CASE WHEN e.verified THEN ', verified)' ELSE ', unverified)' END, ', ' "             \
    " ORDER BY e.is_primary DESC, e.email), '') FROM email_addresses e WHERE e.user_id = u.id) "  \
    "FROM users u "

enum { C_ID, C_USERNAME, C_EMAIL, C_FIRST, C_LAST, C_TYPE, C_ACTIVE, C_STAFF, C_SUPER,
       C_JOINED, C_LOGIN, C_GROUPS_JSON, C_EMAILS_JSON, C_SESSIONS, C_TOKENS, C_GROUPS_TEXT,
       C_EMAILS_TEXT };

static bool col_true(const PGresult *res, int row, int col)
{
    return strcmp(PQgetvalue(res, row, col), "t") == 0;
}

static void json_user(ob_json *j, const PGresult *res, int row)
{
    ob_json_object_begin(j);
    ob_json_kv_int(j, "id", strtoll(PQgetvalue(res, row, C_ID), NULL, 10));
    ob_json_kv_string(j, "username", PQgetvalue(res, row, C_USERNAME));
    ob_json_kv_string(j, "email", PQgetvalue(res, row, C_EMAIL));
    ob_json_kv_string(j, "first_name", PQgetvalue(res, row, C_FIRST));
    ob_json_kv_string(j, "last_name", PQgetvalue(res, row, C_LAST));
    ob_json_kv_string(j, "user_type", PQgetvalue(res, row, C_TYPE));
    static const struct { const char *name; int col; } flags[] = {
        {"is_active", C_ACTIVE}, {"is_staff", C_STAFF}, {"is_superuser", C_SUPER}};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        ob_json_key(j, flags[i].name);
        ob_json_bool(j, col_true(res, row, flags[i].col));
    }
    ob_json_kv_string(j, "date_joined", PQgetvalue(res, row, C_JOINED));
    ob_json_key(j, "last_login");
    if (PQgetisnull(res, row, C_LOGIN))
        ob_json_null(j);
    else
        ob_json_string(j, PQgetvalue(res, row, C_LOGIN));
    /* json_agg output of PostgreSQL: valid JSON, embedded as it is. */
    ob_json_key(j, "groups");
    ob_json_raw(j, PQgetvalue(res, row, C_GROUPS_JSON), (size_t)PQgetlength(res, row, C_GROUPS_JSON));
    ob_json_key(j, "email_addresses");
    ob_json_raw(j, PQgetvalue(res, row, C_EMAILS_JSON), (size_t)PQgetlength(res, row, C_EMAILS_JSON));
    ob_json_kv_int(j, "active_sessions", strtoll(PQgetvalue(res, row, C_SESSIONS), NULL, 10));
    ob_json_kv_int(j, "api_tokens", strtoll(PQgetvalue(res, row, C_TOKENS), NULL, 10));
    ob_json_object_end(j);
}

static void text_user(const PGresult *res, int row)
{
    const char *login = PQgetisnull(res, row, C_LOGIN) ? "never" : PQgetvalue(res, row, C_LOGIN);
    printf("id:              %s\n"
           "username:        %s\n"
           "name:            %s %s\n"
           "e-mail:          %s\n"
           "type:            %s\n"
           "active:          %s\n"
           "staff:           %s\n"
           "superuser:       %s\n"
           "joined:          %s\n"
           "last login:      %s\n"
           "groups:          %s\n"
           "addresses:       %s\n"
           "active sessions: %s\n"
           "API tokens:      %s\n",
           PQgetvalue(res, row, C_ID), PQgetvalue(res, row, C_USERNAME),
           PQgetvalue(res, row, C_FIRST), PQgetvalue(res, row, C_LAST),
           PQgetvalue(res, row, C_EMAIL), PQgetvalue(res, row, C_TYPE),
           col_true(res, row, C_ACTIVE) ? "yes" : "no", col_true(res, row, C_STAFF) ? "yes" : "no",
           col_true(res, row, C_SUPER) ? "yes" : "no", PQgetvalue(res, row, C_JOINED), login,
           PQgetvalue(res, row, C_GROUPS_TEXT), PQgetvalue(res, row, C_EMAILS_TEXT),
           PQgetvalue(res, row, C_SESSIONS), PQgetvalue(res, row, C_TOKENS));
}

/* The account as the output shows it, by username; NULL with *rc set when
 * there is none (3) or the query failed (1). */
static PGresult *load_user(ob_cli_account *ca, const char *username, int *rc)
{
    const char *p[] = {username};
    PGresult *res = ob_db_query(ca->db, &ca->arena,
                                USER_COLUMNS "WHERE lower(u.username) = lower($1)", 1, p);
    if (!res) {
        fprintf(stderr, "openbook: %s\n", ob_db_last_error(ca->db));
        *rc = OB_EXIT_ERROR;
        return NULL;
    }
    if (PQntuples(res) == 0) {
        fprintf(stderr, "openbook: user '%s' does not exist\n", username);
        *rc = OB_EXIT_NOT_FOUND;
        return NULL;
    }
    return res;
}

static int64_t user_id(const PGresult *res)
{
    return strtoll(PQgetvalue(res, 0, C_ID), NULL, 10);
}

static void print_json_user(ob_cli_account *ca, const PGresult *res)
{
    ob_buf b;
    ob_buf_init(&b, &ca->arena);
    ob_json j;
    ob_json_init(&j, &b);
    json_user(&j, res, 0);
    puts(ob_buf_cstr(&b));
}

/* After a change: the account as it is now (--json), or `message`. */
static int report(ob_cli_account *ca, const options *o, const char *message)
{
    int rc = OB_EXIT_OK;
    PGresult *res = load_user(ca, o->username, &rc);
    if (!res)
        return rc;
    if (o->given & O_JSON) {
        print_json_user(ca, res);
    } else {
        printf(message, PQgetvalue(res, 0, C_USERNAME));
        putchar('\n');
    }
    return OB_EXIT_OK;
}

/* ---- subcommands ------------------------------------------------------ */

static int cmd_list(ob_cli_account *ca, const options *o, const subcommand *s)
{
    (void)s;
    char limit[24];
    snprintf(limit, sizeof limit, "%ld", o->limit);
    const char *p[] = {
        o->given & O_STAFF ? "t" : "f",
        o->given & O_SUPERUSERS ? "t" : "f",
        o->given & O_ACTIVE ? "t" : o->given & O_INACTIVE ? "f" : NULL,
        o->search ? o->search : "",
        limit,
    };
    /* --search: a substring of username, e-mail or name, as the API's
     * ?search= does (ILIKE with the wildcards of the text escaped). */
    PGresult *res = ob_db_query(
        ca->db, &ca->arena,
        USER_COLUMNS
        "WHERE (NOT $1::boolean OR u.is_staff) AND (NOT $2::boolean OR u.is_superuser) "
        "AND ($3::boolean IS NULL OR u.is_active = $3::boolean) "
        "AND ($4 = '' OR concat_ws(' ', u.username, u.email, u.first_name, u.last_name) "
        "     ILIKE '%' || replace(replace(replace($4, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%') "
        "ORDER BY lower(u.username) LIMIT $5::bigint",
        5, p);
    if (!res) {
        fprintf(stderr, "openbook: %s\n", ob_db_last_error(ca->db));
        return OB_EXIT_ERROR;
    }
    int n = PQntuples(res);
    if (o->given & O_JSON) {
        ob_buf b;
        ob_buf_init(&b, &ca->arena);
        ob_json j;
        ob_json_init(&j, &b);
        ob_json_array_begin(&j);
        for (int i = 0; i < n; i++)
            json_user(&j, res, i);
        ob_json_array_end(&j);
        puts(ob_buf_cstr(&b));
        return OB_EXIT_OK;
    }
    printf("%-8s %-24s %-32s %-6s %-5s %-9s %s\n", "ID", "USERNAME", "E-MAIL", "ACTIVE", "STAFF",
           "SUPERUSER", "LAST LOGIN");
    for (int i = 0; i < n; i++)
        printf("%-8s %-24s %-32s %-6s %-5s %-9s %s\n", PQgetvalue(res, i, C_ID),
               PQgetvalue(res, i, C_USERNAME), PQgetvalue(res, i, C_EMAIL),
               col_true(res, i, C_ACTIVE) ? "yes" : "no", col_true(res, i, C_STAFF) ? "yes" : "no",
               col_true(res, i, C_SUPER) ? "yes" : "no",
               PQgetisnull(res, i, C_LOGIN) ? "never" : PQgetvalue(res, i, C_LOGIN));
    return OB_EXIT_OK;
}

static int cmd_show(ob_cli_account *ca, const options *o, const subcommand *s)
{
    (void)s;
    int rc = OB_EXIT_OK;
    PGresult *res = load_user(ca, o->username, &rc);
    if (!res)
        return rc;
    if (o->given & O_JSON)
        print_json_user(ca, res);
    else
        text_user(res, 0);
    return OB_EXIT_OK;
}

/* The password for create and set-password: one line of standard input,
 * none, or asked for twice.  Returns 0, or an exit code. */
static int get_password(const options *o, const char *const similar[4], char *buf,
                        const char **out)
{
    *out = NULL;
    if (o->given & O_NO_PW)
        return 0;
    int rc = o->given & O_PW_STDIN ? ob_cli_read_password(buf, similar)
                                   : ob_cli_ask_password(buf, similar);
    if (rc != 0)
        return OB_EXIT_USAGE;
    *out = buf;
    return 0;
}

static int cmd_create(ob_cli_account *ca, const options *o, const subcommand *s)
{
    (void)s;
    const char *why = ob_cli_username_problem(o->username);
    if (why) {
        fprintf(stderr, "openbook: user create: the username %s\n", why);
        return OB_EXIT_USAGE;
    }
    const char *email = o->email ? o->email : "";
    if (*email && !ob_valid_email(email, strlen(email))) {
        fprintf(stderr, "openbook: user create: '%s' is not a valid e-mail address\n", email);
        return OB_EXIT_USAGE;
    }
    const char *first = o->first ? o->first : "", *last = o->last ? o->last : "";
    if (ob_utf8_count(first, strlen(first)) > 150 || ob_utf8_count(last, strlen(last)) > 150) {
        fprintf(stderr, "openbook: user create: names have at most 150 characters\n");
        return OB_EXIT_USAGE;
    }
    /* Asked before the password, so that nobody types one in vain. */
    int64_t found = ob_account_find(ca->db, &ca->arena, o->username);
    if (found != 0) {
        fprintf(stderr, "openbook: user create: %s\n",
                found < 0 ? ob_db_last_error(ca->db) : "a user with that username already exists");
        return found < 0 ? OB_EXIT_ERROR : OB_EXIT_CONFLICT;
    }
    char buf[OB_PASSWORD_MAX + 2] = "";
    const char *similar[4] = {o->username, first, last, email};
    const char *password;
    int rc = get_password(o, similar, buf, &password);
    if (rc)
        return rc;
    bool super = o->given & O_SUPERUSER;
    char id_text[24];
    const char *p[] = {id_text, first, last, o->given & O_STAFF ? "t" : "f"};
    int64_t id = -1;
    if (ob_db_begin(ca->db) == 0)
        id = ob_account_create(ca->db, &ca->arena, o->username, email, password, super, true);
    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    if (id <= 0 ||
        !ob_db_query(ca->db, &ca->arena,
                     "UPDATE users SET first_name = $2, last_name = $3, "
                     "is_staff = is_staff OR $4::boolean WHERE id = $1::bigint",
                     4, p) ||
        ob_db_commit(ca->db) != 0) {
        bool taken = id == 0 || ob_account_email_taken(ca->db);
        fprintf(stderr, "openbook: user create: %s\n",
                id == 0 ? "a user with that username already exists"
                : taken ? "another account has verified that e-mail address"
                        : ob_db_last_error(ca->db));
        ob_db_rollback(ca->db);
        sodium_memzero(buf, sizeof buf);
        return taken ? OB_EXIT_CONFLICT : OB_EXIT_ERROR;
    }
    sodium_memzero(buf, sizeof buf);
    return report(ca, o, "User '%s' created.");
}

/* One UPDATE of the flags (the statement of the subcommand), plus what
 * the API does with it.  In one transaction. */
static int set_flags(ob_cli_account *ca, const options *o, const char *sql, bool value,
                     bool end_sessions, const char *message)
{
    int rc = OB_EXIT_OK;
    PGresult *res = load_user(ca, o->username, &rc);
    if (!res)
        return rc;
    int64_t id = user_id(res);
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)id);
    const char *p[] = {uid, value ? "t" : "f"};
    if (ob_db_begin(ca->db) != 0 || !ob_db_query(ca->db, &ca->arena, sql, 2, p) ||
        (end_sessions &&
         !ob_db_query(ca->db, &ca->arena, "DELETE FROM sessions WHERE user_id = $1::bigint", 1,
                      p)) ||
        ob_db_commit(ca->db) != 0) {
        fprintf(stderr, "openbook: %s\n", ob_db_last_error(ca->db));
        ob_db_rollback(ca->db);
        return OB_EXIT_ERROR;
    }
    if (end_sessions)
        ob_cli_revoke_user(ca, id);
    return report(ca, o, message);
}

static int cmd_activate(ob_cli_account *ca, const options *o, const subcommand *s)
{
    bool on = strcmp(s->name, "activate") == 0;
    return set_flags(ca, o, "UPDATE users SET is_active = $2::boolean WHERE id = $1::bigint", on,
                     !on, on ? "User '%s' is active." : "User '%s' is deactivated; its sessions ended.");
}

static int cmd_make_staff(ob_cli_account *ca, const options *o, const subcommand *s)
{
    (void)s;
    bool on = !(o->given & O_REVOKE);
    return set_flags(ca, o, "UPDATE users SET is_staff = $2::boolean WHERE id = $1::bigint", on,
                     false, on ? "User '%s' is staff." : "User '%s' is no longer staff.");
}

static int cmd_make_superuser(ob_cli_account *ca, const options *o, const subcommand *s)
{
    (void)s;
    bool on = !(o->given & O_REVOKE);
    /* A superuser is staff too (the administration screens ask for it). */
    return set_flags(ca, o,
                     "UPDATE users SET is_superuser = $2::boolean, "
                     "is_staff = is_staff OR $2::boolean WHERE id = $1::bigint",
                     on, false,
                     on ? "User '%s' is a superuser." : "User '%s' is no longer a superuser.");
}

static int cmd_set_password(ob_cli_account *ca, const options *o, const subcommand *s)
{
    (void)s;
    int rc = OB_EXIT_OK;
    PGresult *res = load_user(ca, o->username, &rc);
    if (!res)
        return rc;
    int64_t id = user_id(res);
    const char *similar[4] = {PQgetvalue(res, 0, C_USERNAME), PQgetvalue(res, 0, C_FIRST),
                              PQgetvalue(res, 0, C_LAST), PQgetvalue(res, 0, C_EMAIL)};
    char buf[OB_PASSWORD_MAX + 2] = "";
    const char *password;
    rc = get_password(o, similar, buf, &password);
    if (rc == 0 && (ob_db_begin(ca->db) != 0 || ob_cli_set_password(ca, id, password) != 0 ||
                    ob_db_commit(ca->db) != 0)) {
        fprintf(stderr, "openbook: %s\n", ob_db_last_error(ca->db));
        ob_db_rollback(ca->db);
        rc = OB_EXIT_ERROR;
    }
    sodium_memzero(buf, sizeof buf);
    if (rc)
        return rc;
    ob_cli_revoke_user(ca, id);
    return report(ca, o, "Password of user '%s' changed; its sessions ended.");
}

static const subcommand subcommands[] = {
    {"list", O_STAFF | O_SUPERUSERS | O_ACTIVE | O_INACTIVE | O_SEARCH | O_LIMIT, false, cmd_list},
    {"show", 0, true, cmd_show},
    {"create", O_EMAIL | O_FIRST | O_LAST | O_STAFF | O_SUPERUSER | O_PW_STDIN | O_NO_PW, true,
     cmd_create},
    {"activate", 0, true, cmd_activate},
    {"deactivate", 0, true, cmd_activate},
    {"set-password", O_PW_STDIN, true, cmd_set_password},
    {"make-staff", O_REVOKE, true, cmd_make_staff},
    {"make-superuser", O_REVOKE, true, cmd_make_superuser},
};

/* ---- options ---------------------------------------------------------- */

static int usage_error(const char *fmt, const char *arg)
{
    fputs("openbook: user: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(openbook user --help lists the subcommands and options)\n", stderr);
    return OB_EXIT_USAGE + 1;
}

/* Returns 0 to go on, else exit code + 1. */
static int parse_options(int argc, char **argv, const subcommand *s, options *o)
{
    enum { L_SEARCH = 256, L_FIRST, L_LAST };
    static const struct {
        struct option opt;
        unsigned flag;
    } table[] = {
        {{"json", no_argument, NULL, 'j'}, O_JSON},
        {{"staff", no_argument, NULL, 's'}, O_STAFF},
        {{"superusers", no_argument, NULL, 'S'}, O_SUPERUSERS},
        {{"active", no_argument, NULL, 'a'}, O_ACTIVE},
        {{"inactive", no_argument, NULL, 'i'}, O_INACTIVE},
        {{"search", required_argument, NULL, L_SEARCH}, O_SEARCH},
        {{"limit", required_argument, NULL, 'n'}, O_LIMIT},
        {{"email", required_argument, NULL, 'e'}, O_EMAIL},
        {{"first-name", required_argument, NULL, L_FIRST}, O_FIRST},
        {{"last-name", required_argument, NULL, L_LAST}, O_LAST},
        {{"superuser", no_argument, NULL, 'U'}, O_SUPERUSER},
        {{"password-stdin", no_argument, NULL, 'P'}, O_PW_STDIN},
        {{"no-password", no_argument, NULL, 'N'}, O_NO_PW},
        {{"revoke", no_argument, NULL, 'r'}, O_REVOKE},
    };
    enum { N = sizeof table / sizeof *table };
    struct option opts[N + 3];
    for (size_t i = 0; i < N; i++)
        opts[i] = table[i].opt;
    opts[N] = (struct option){"config", required_argument, NULL, 'c'};
    opts[N + 1] = (struct option){"help", no_argument, NULL, 'h'};
    opts[N + 2] = (struct option){NULL, 0, NULL, 0};
    o->limit = 1000;
    int c, idx;
    optind = 1;
    while ((idx = -1, c = getopt_long(argc, argv, "c:h", opts, &idx)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return OB_EXIT_OK + 1;
        }
        if (c == 'c') {
            o->config = optarg;
            continue;
        }
        if (c == '?' || idx < 0)
            return usage_error("see the options of %s", s->name);
        unsigned flag = table[idx].flag;
        if (!(flag & (s->allowed | O_JSON)))
            return usage_error("this option does not apply here: --%s", opts[idx].name);
        o->given |= flag;
        if (flag == O_SEARCH)
            o->search = optarg;
        else if (flag == O_EMAIL)
            o->email = optarg;
        else if (flag == O_FIRST)
            o->first = optarg;
        else if (flag == O_LAST)
            o->last = optarg;
        else if (flag == O_LIMIT) {
            char *end;
            o->limit = strtol(optarg, &end, 10);
            if (*end || end == optarg || o->limit < 1 || o->limit > 1000000)
                return usage_error("--limit wants a number from 1 to 1000000, not '%s'", optarg);
        }
    }
    if ((o->given & O_ACTIVE) && (o->given & O_INACTIVE))
        return usage_error("%s", "--active and --inactive exclude each other");
    if ((o->given & O_PW_STDIN) && (o->given & O_NO_PW))
        return usage_error("%s", "--password-stdin and --no-password exclude each other");
    int want = s->needs_user ? 1 : 0;
    if (argc - optind != want)
        return usage_error(want ? "%s needs one USERNAME" : "%s takes no argument", s->name);
    o->username = want ? argv[optind] : NULL;
    if (o->username && strlen(o->username) > 1024)
        return usage_error("%s", "the username is too long");
    return 0;
}

int ob_cmd_user(int argc, char **argv, char **envp)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return OB_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return OB_EXIT_OK;
    }
    const subcommand *s = NULL;
    for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            s = &subcommands[i];
    if (!s) {
        fprintf(stderr, "openbook: user: unknown subcommand '%s'\n\n%s", argv[1], usage);
        return OB_EXIT_USAGE;
    }
    options o = {0};
    int rc = parse_options(argc - 1, argv + 1, s, &o);
    if (rc)
        return rc - 1;
    ob_cli_account ca;
    unsigned flags = OB_CLI_CURRENT_SCHEMA;
    if (s->run == cmd_create || s->run == cmd_set_password)
        flags |= OB_CLI_PASSWORD_RULES;
    if (ob_cli_db_open(&ca, o.config, envp, flags) != 0)
        return OB_EXIT_ERROR;
    rc = s->run(&ca, &o, s);
    ob_cli_account_close(&ca);
    return rc;
}
