/* createsuperuser.c - `openbook createsuperuser`: an administrator account
 * (is_staff and is_superuser) with a verified primary address, created
 * interactively or, for scripts and containers, with --no-input and the
 * password from OPENBOOK_SUPERUSER_PASSWORD (none set: an unusable
 * password, as the original did). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "openbook/auth/account.h"
#include "openbook/cli/cli.h"
#include "openbook/auth/password.h"
#include "openbook/http/validate.h"
#include "cli_account.h"

static const char usage[] =
    "Usage: openbook createsuperuser [-c FILE] [--no-input --username U --email E]\n\n"
    "Creates an administrator account (staff and superuser) whose e-mail address\n"
    "counts as verified.  Without --no-input it asks for the username, the e-mail\n"
    "address and the password (twice), checking the password rules.  With\n"
    "--no-input the password comes from the environment variable\n"
    "OPENBOOK_SUPERUSER_PASSWORD; without it the account gets no usable password.\n\n"
    "  -c, --config FILE   configuration file\n"
    "      --no-input      do not prompt (needs --username and --email)\n"
    "      --username U    the username\n"
    "      --email E       the e-mail address\n"
    "  -h, --help          show this help\n";

typedef struct {
    const char *config, *username, *email;
    bool no_input;
} options;

/* Returns 0 to go on, else exit code + 1. */
static int parse_options(int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"no-input", no_argument, NULL, 'n'},
        {"noinput", no_argument, NULL, 'n'},      {"username", required_argument, NULL, 'u'},
        {"email", required_argument, NULL, 'e'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'n': o->no_input = true; break;
        case 'u': o->username = optarg; break;
        case 'e': o->email = optarg; break;
        case 'h': fputs(usage, stdout); return 1;
        default: fputs(usage, stderr); return 3;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "openbook: unexpected argument '%s'\n%s", argv[optind], usage);
        return 3;
    }
    if (o->no_input && (!o->username || !o->email)) {
        fprintf(stderr, "openbook: createsuperuser: --no-input needs --username and --email\n");
        return 3;
    }
    return 0;
}

static int check_input(ob_cli_account *ca, const char *username, const char *email)
{
    const char *why = ob_cli_username_problem(username);
    if (why) {
        fprintf(stderr, "openbook: createsuperuser: the username %s\n", why);
        return -1;
    }
    if (!ob_valid_email(email, strlen(email))) {
        fprintf(stderr, "openbook: createsuperuser: enter a valid email address\n");
        return -1;
    }
    int64_t id = ob_account_find(ca->db, &ca->arena, username);
    if (id != 0) {
        fprintf(stderr, "openbook: createsuperuser: %s\n",
                id < 0 ? ob_db_last_error(ca->db) : "a user with that username already exists");
        return -1;
    }
    return 0;
}

/* Asks until the answers are valid (or input ends). */
static int ask(ob_cli_account *ca, char *username, char *email, char *password)
{
    for (;;) {
        if (ob_cli_prompt("Username: ", false, username, 256) != 0 ||
            ob_cli_prompt("Email address: ", false, email, 256) != 0)
            return -1;
        if (check_input(ca, username, email) == 0)
            break;
    }
    const char *similar[4] = {username, NULL, NULL, email};
    return ob_cli_ask_password(password, similar);
}

static int create(ob_cli_account *ca, const char *username, const char *email, const char *password)
{
    if (ob_db_begin(ca->db) != 0)
        return -1;
    int64_t id = ob_account_create(ca->db, &ca->arena, username, email, password, true, true);
    if (id <= 0 || ob_db_commit(ca->db) != 0) {
        ob_db_rollback(ca->db);
        fprintf(stderr, "openbook: createsuperuser: %s\n",
                id == 0                           ? "a user with that username already exists"
                : ob_account_email_taken(ca->db) ? "another account has verified that e-mail address"
                                                  : ob_db_last_error(ca->db));
        return -1;
    }
    printf("Superuser created successfully.\n");
    return 0;
}

int ob_cmd_createsuperuser(int argc, char **argv, char **envp)
{
    options o = {0};
    int rc = parse_options(argc, argv, &o);
    if (rc)
        return rc - 1;
    ob_cli_account ca;
    if (ob_cli_account_open(&ca, o.config, envp) != 0)
        return 1;
    char username[256], email[256], password[OB_PASSWORD_MAX + 2];
    const char *pw = NULL;
    if (o.no_input) {
        snprintf(username, sizeof username, "%s", o.username);
        snprintf(email, sizeof email, "%s", o.email);
        pw = getenv("OPENBOOK_SUPERUSER_PASSWORD");
        if (pw && !*pw)
            pw = NULL;
        rc = check_input(&ca, username, email);
    } else {
        rc = ask(&ca, username, email, password);
        pw = password;
    }
    if (rc == 0)
        rc = create(&ca, username, email, pw);
    sodium_memzero(password, sizeof password);
    ob_cli_account_close(&ca);
    return rc == 0 ? 0 : 1;
}
