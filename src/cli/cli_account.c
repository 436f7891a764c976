/* cli_account.c - what the database commands share (cli_account.h). */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include "openbook/auth/account.h"
#include "openbook/cli/cli.h"
#include "openbook/redis/events.h"
#include "openbook/db/migrations.h"
#include "openbook/auth/password.h"
#include "openbook/redis/redis.h"
#include "openbook/http/validate.h"
#include "cli_account.h"

int ob_cli_newest_schema(void)
{
    return ob_nmigrations ? ob_migrations[ob_nmigrations - 1].version : 0;
}

int ob_cli_db_open(ob_cli_account *ca, const char *config_path, char **envp, unsigned flags)
{
    memset(ca, 0, sizeof *ca);
    if (sodium_init() < 0) {
        fprintf(stderr, "openbook: libsodium failed to initialise\n");
        return -1;
    }
    if (ob_cli_load_config(&ca->cfg, config_path, envp))
        return -1;
    if ((flags & OB_CLI_PASSWORD_RULES) &&
        ob_password_load_common(ca->cfg.auth_common_passwords) < 0)
        fprintf(stderr, "openbook: warning: cannot read %s; common passwords are not refused\n",
                ca->cfg.auth_common_passwords);
    ob_arena_init(&ca->arena, 16 * 1024);
    ca->db = ob_db_new(ca->cfg.database_url, ca->cfg.database_connect_timeout, 0);
    if (ob_db_ensure(ca->db) != 0) {
        fprintf(stderr, "openbook: cannot connect to the database: %s\n", ob_db_last_error(ca->db));
        ob_cli_account_close(ca);
        return -1;
    }
    if ((flags & OB_CLI_CURRENT_SCHEMA) && ob_schema_version(ca->db) < ob_cli_newest_schema()) {
        fprintf(stderr, "openbook: the database schema is not up to date; run `openbook migrate` first\n");
        ob_cli_account_close(ca);
        return -1;
    }
    return 0;
}

int ob_cli_account_open(ob_cli_account *ca, const char *config_path, char **envp)
{
    return ob_cli_db_open(ca, config_path, envp, OB_CLI_CURRENT_SCHEMA | OB_CLI_PASSWORD_RULES);
}

void ob_cli_account_close(ob_cli_account *ca)
{
    ob_arena_destroy(&ca->arena);
    ob_db_free(ca->db);
    ca->db = NULL;
    ob_config_free(&ca->cfg);
}

int ob_cli_prompt(const char *label, bool secret, char *buf, size_t n)
{
    fputs(label, stderr);
    fflush(stderr);
    struct termios old, quiet;
    bool tty = secret && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(buf, (int)n, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got) {
        fputc('\n', stderr);
        return -1;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static void print_problem(void *ctx, const char *code, const char *message)
{
    (void)ctx;
    (void)code;
    fprintf(stderr, "%s\n", message);
}

int ob_cli_ask_password(char *buf, const char *const similar_to[4])
{
    char again[OB_PASSWORD_MAX + 2];
    for (int tries = 0; tries < 3; tries++) {
        if (ob_cli_prompt("Password: ", true, buf, OB_PASSWORD_MAX + 2) != 0 ||
            ob_cli_prompt("Password (again): ", true, again, sizeof again) != 0)
            break;
        bool same = strcmp(buf, again) == 0;
        sodium_memzero(again, sizeof again);
        if (!same) {
            fprintf(stderr, "Error: Your passwords didn't match.\n");
            continue;
        }
        if (!*buf) {
            fprintf(stderr, "Error: Blank passwords aren't allowed.\n");
            continue;
        }
        if (ob_password_check(buf, strlen(buf), similar_to, print_problem, NULL) == 0)
            return 0;
    }
    fprintf(stderr, "openbook: no valid password given\n");
    return -1;
}

int ob_cli_read_password(char *buf, const char *const similar_to[4])
{
    if (!fgets(buf, OB_PASSWORD_MAX + 2, stdin) || !*buf) {
        fprintf(stderr, "openbook: no password on standard input\n");
        return -1;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!*buf) {
        fprintf(stderr, "Error: Blank passwords aren't allowed.\n");
        return -1;
    }
    if (strlen(buf) > OB_PASSWORD_MAX) {
        fprintf(stderr, "openbook: the password is longer than %d bytes\n", OB_PASSWORD_MAX);
        return -1;
    }
    return ob_password_check(buf, strlen(buf), similar_to, print_problem, NULL) == 0 ? 0 : -1;
}

const char *ob_cli_username_problem(const char *u)
{
    size_t n = ob_utf8_count(u, strlen(u));
    if (n < OB_USERNAME_MIN || n > OB_USERNAME_MAX)
        return "must have 5 to 150 characters";
    if (!ob_valid_username_chars(u, strlen(u)))
        return "may contain only letters, numbers, and @/./+/-/_ characters";
    return NULL;
}

int ob_cli_set_password(ob_cli_account *ca, int64_t user_id, const char *password)
{
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", (long long)user_id);
    const char *p[] = {uid};
    if (ob_account_set_password(ca->db, &ca->arena, user_id, password) != 0 ||
        !ob_db_query(ca->db, &ca->arena, "DELETE FROM sessions WHERE user_id = $1::bigint", 1, p))
        return -1;
    return 0;
}

void ob_cli_revoke_user(ob_cli_account *ca, int64_t user_id)
{
    ob_redis *r = ob_redis_new(ca->cfg.redis_address, ca->cfg.redis_db, ca->cfg.redis_password,
                               ca->cfg.redis_timeout);
    if (ob_events_revoke_user(r, user_id) != 0)
        fprintf(stderr, "openbook: warning: Redis unavailable; the user's live connections end "
                        "when their tickets expire\n");
    ob_redis_free(r);
}
