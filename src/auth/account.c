/* account.c - account writes shared by the API and the CLI (account.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/auth/account.h"
#include "openbook/auth/password.h"

bool ob_account_email_taken(const ob_db *db)
{
    return strcmp(ob_db_last_sqlstate(db), "23505") == 0 &&
           strcmp(ob_db_last_constraint(db), "email_addresses_verified_email") == 0;
}

int64_t ob_account_find(ob_db *db, ob_arena *a, const char *username)
{
    const char *p[] = {username};
    PGresult *res =
        ob_db_query(db, a, "SELECT id FROM users WHERE lower(username) = lower($1)", 1, p);
    if (!res)
        return -1;
    return PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
}

static int add_primary_email(ob_db *db, ob_arena *a, const char *uid, const char *email,
                             bool verified)
{
    const char *p[] = {uid, email, verified ? "t" : "f"};
    return ob_db_query(db, a,
                       "INSERT INTO email_addresses (user_id, email, verified, is_primary) "
                       "VALUES ($1::bigint, $2, $3::boolean, true)",
                       3, p)
               ? 0
               : -1;
}

int64_t ob_account_create(ob_db *db, ob_arena *a, const char *username, const char *email,
                          const char *password, bool superuser, bool email_verified)
{
    char hash[OB_PASSWORD_HASH_MAX];
    if (password && ob_password_hash(password, strlen(password), hash) != 0)
        return -1;
    const char *mail = ob_arena_strdup_lower(a, email ? email : "");
    const char *p[] = {username, password ? hash : ob_password_unusable(), mail,
                       superuser ? "t" : "f"};
    /* ON CONFLICT: a concurrent sign-up with the same name is "taken",
     * not a failed transaction. */
    PGresult *res = ob_db_query(
        db, a,
        "INSERT INTO users (username, password, email, is_staff, is_superuser) "
        "VALUES ($1, $2, $3, $4::boolean, $4::boolean) "
        "ON CONFLICT ((lower(username))) DO NOTHING RETURNING id",
        4, p);
    if (!res)
        return -1;
    if (PQntuples(res) == 0)
        return 0;
    const char *uid = PQgetvalue(res, 0, 0);
    if (*mail && add_primary_email(db, a, uid, mail, email_verified) != 0)
        return -1;
    return strtoll(uid, NULL, 10);
}

int ob_account_set_password(ob_db *db, ob_arena *a, int64_t user_id, const char *password)
{
    char hash[OB_PASSWORD_HASH_MAX], uid[24];
    if (ob_password_hash(password, strlen(password), hash) != 0)
        return -1;
    snprintf(uid, sizeof uid, "%lld", (long long)user_id);
    const char *p[] = {uid, hash};
    if (!ob_db_query(db, a, "UPDATE users SET password = $2 WHERE id = $1::bigint", 2, p))
        return -1;
    const char *k[] = {uid};
    return ob_db_query(db, a, "DELETE FROM auth_keys WHERE user_id = $1::bigint AND kind = 'reset'",
                       1, k)
               ? 0
               : -1;
}
