/* cli_account.h - what the commands that work on the database share
 * (createsuperuser, changepassword, user, site, cleanup, backup,
 * restore): the configuration, a database connection and an arena,
 * prompting for passwords, and account changes made the way the API makes
 * them. */
#ifndef OPENBOOK_CLI_ACCOUNT_H
#define OPENBOOK_CLI_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openbook/core/arena.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"

typedef struct ob_cli_account {
    ob_config cfg;
    ob_db *db;
    ob_arena arena;
} ob_cli_account;

/* What ob_cli_db_open checks and loads besides the connection. */
enum {
    OB_CLI_CURRENT_SCHEMA = 1, /* refuse a schema older than the binary's */
    OB_CLI_PASSWORD_RULES = 2, /* load the common-password list */
};

/* Loads the configuration, connects, and does what flags ask.  Returns 0,
 * or -1 (message printed; nothing to close). */
int ob_cli_db_open(ob_cli_account *ca, const char *config_path, char **envp, unsigned flags);
/* ob_cli_db_open with both flags: for commands that write accounts. */
int ob_cli_account_open(ob_cli_account *ca, const char *config_path, char **envp);
void ob_cli_account_close(ob_cli_account *ca);

/* The newest schema version this binary knows. */
int ob_cli_newest_schema(void);

/* Prints label and reads one line (without echo when secret and stdin is a
 * terminal) into buf.  Returns 0, or -1 at the end of input. */
int ob_cli_prompt(const char *label, bool secret, char *buf, size_t n);

/* Asks for a password twice until both match and it passes the rules
 * (similar_to as for ob_password_check), at most three times.  Returns 0
 * with buf filled, or -1. */
int ob_cli_ask_password(char *buf, const char *const similar_to[4]);

/* Reads one line from stdin as the password (for scripts: --password-stdin)
 * and checks it against the rules.  Returns 0, or -1 (why printed). */
int ob_cli_read_password(char *buf, const char *const similar_to[4]);

/* Why username is not acceptable for a new account (api-auth.md §6,
 * without the sign-up blacklist: the operator may choose "admin"), or
 * NULL. */
const char *ob_cli_username_problem(const char *username);

/* Sets the password and, as the API does after a password change, ends
 * every session of the user (their reset keys go too).  Inside the
 * caller's transaction.  Returns 0 or -1. */
int ob_cli_set_password(ob_cli_account *ca, int64_t user_id, const char *password);

/* Closes the user's relay connections (websocket.md §6: after a password
 * change or a deactivation).  Best effort, as in the API: a Redis outage
 * is reported on stderr and the connections end with their tickets. */
void ob_cli_revoke_user(ob_cli_account *ca, int64_t user_id);

#endif
