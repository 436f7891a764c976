/* account.h - account writes shared by the authentication API and the
 * command line (createsuperuser, changepassword).  Each runs on the given
 * connection, inside the caller's transaction. */
#ifndef OPENBOOK_ACCOUNT_H
#define OPENBOOK_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include "openbook/core/arena.h"
#include "openbook/db/db.h"

/* Creates a human user and its primary e-mail address (lower-cased; none
 * when email is empty).  password NULL: an unusable password.  Returns the
 * new id, 0 when the username is taken (case-insensitively), -1 on a
 * database error. */
int64_t ob_account_create(ob_db *db, ob_arena *a, const char *username, const char *email,
                          const char *password, bool superuser, bool email_verified);

/* Stores a new argon2id hash and invalidates the user's password-reset
 * keys (api-auth.md §7).  Returns 0 or -1. */
int ob_account_set_password(ob_db *db, ob_arena *a, int64_t user_id, const char *password);

/* True when the last statement on db failed because it would have made an
 * address verified for a second account (the unique index of migration
 * 0006: one verified owner per address, case-insensitively).  The
 * transaction is aborted; callers answer `email_taken` (api-auth.md §8). */
bool ob_account_email_taken(const ob_db *db);

/* The id of the user with this username (case-insensitively), 0 if none,
 * -1 on error. */
int64_t ob_account_find(ob_db *db, ob_arena *a, const char *username);

#endif
