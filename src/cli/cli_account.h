/* cli_account.h - what createsuperuser and changepassword share: the
 * configuration, a database connection and an arena, and prompting. */
#ifndef OPENBOOK_CLI_ACCOUNT_H
#define OPENBOOK_CLI_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include "openbook/core/arena.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"

typedef struct ob_cli_account {
    ob_config cfg;
    ob_db *db;
    ob_arena arena;
} ob_cli_account;

/* Loads the configuration and the common-password list, connects, and
 * checks that the schema is current.  Returns 0, or -1 (message printed). */
int ob_cli_account_open(ob_cli_account *ca, const char *config_path, char **envp);
void ob_cli_account_close(ob_cli_account *ca);

/* Prints label and reads one line (without echo when secret and stdin is a
 * terminal) into buf.  Returns 0, or -1 at the end of input. */
int ob_cli_prompt(const char *label, bool secret, char *buf, size_t n);

/* Asks for a password twice until both match and it passes the rules
 * (similar_to as for ob_password_check), at most three times.  Returns 0
 * with buf filled, or -1. */
int ob_cli_ask_password(char *buf, const char *const similar_to[4]);

#endif
