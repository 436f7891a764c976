/* changepassword.c - `openbook changepassword USER`: sets a new password
 * (asked twice, checked against the password rules) and, as after a
 * password change through the API, ends every session of the user and
 * invalidates their password-reset keys. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "openbook/auth/account.h"
#include "openbook/cli/cli.h"
#include "openbook/auth/password.h"
#include "cli_account.h"

static const char usage[] =
    "Usage: openbook changepassword [-c FILE] USERNAME\n\n"
    "Sets a new password for the user (asked twice; the password rules apply) and\n"
    "logs the user out everywhere.\n\n"
    "  -c, --config FILE   configuration file\n"
    "  -h, --help          show this help\n";

/* Returns 0 to go on, else exit code + 1. */
static int parse_options(int argc, char **argv, const char **config, const char **user)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            *config = optarg;
        } else if (c == 'h') {
            fputs(usage, stdout);
            return 1;
        } else {
            fputs(usage, stderr);
            return 3;
        }
    }
    if (optind != argc - 1) {
        fputs(usage, stderr);
        return 3;
    }
    *user = argv[optind];
    return 0;
}

/* The user's id and the values the similarity rule compares with. */
static int64_t load_user(ob_cli_account *ca, const char *username, const char *similar[4])
{
    const char *p[] = {username};
    PGresult *res = ob_db_query(ca->db, &ca->arena,
                                "SELECT id, username, first_name, last_name, email FROM users "
                                "WHERE lower(username) = lower($1)",
                                1, p);
    if (!res) {
        fprintf(stderr, "openbook: %s\n", ob_db_last_error(ca->db));
        return -1;
    }
    if (PQntuples(res) == 0) {
        fprintf(stderr, "openbook: changepassword: user '%s' does not exist\n", username);
        return -1;
    }
    for (int i = 0; i < 4; i++)
        similar[i] = ob_arena_strdup(&ca->arena, PQgetvalue(res, 0, i + 1));
    return strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

static int store(ob_cli_account *ca, int64_t id, const char *password)
{
    if (ob_db_begin(ca->db) != 0 || ob_cli_set_password(ca, id, password) != 0 ||
        ob_db_commit(ca->db) != 0) {
        fprintf(stderr, "openbook: %s\n", ob_db_last_error(ca->db));
        ob_db_rollback(ca->db);
        return -1;
    }
    ob_cli_revoke_user(ca, id);
    return 0;
}

int ob_cmd_changepassword(int argc, char **argv, char **envp)
{
    const char *config = NULL, *username = NULL;
    int rc = parse_options(argc, argv, &config, &username);
    if (rc)
        return rc - 1;
    ob_cli_account ca;
    if (ob_cli_account_open(&ca, config, envp) != 0)
        return 1;
    const char *similar[4] = {NULL, NULL, NULL, NULL};
    char password[OB_PASSWORD_MAX + 2] = "";
    int64_t id = load_user(&ca, username, similar);
    if (id > 0) {
        printf("Changing password for user '%s'\n", similar[0]);
        fflush(stdout);
    }
    rc = id > 0 && ob_cli_ask_password(password, similar) == 0 ? store(&ca, id, password) : -1;
    if (rc == 0)
        printf("Password changed successfully for user '%s'.\n", similar[0]);
    sodium_memzero(password, sizeof password);
    ob_cli_account_close(&ca);
    return rc == 0 ? 0 : 1;
}
