/* classify.c - SQLSTATE -> what it means for the request (db.h).  Pure:
 * the answer formats live with each API (ob_db_failure for /api/,
 * ob_authapi_db_failure for /auth-api/, ob_write_db_error for writes with
 * their unique messages), the meaning lives here once. */
#include <string.h>
#include "openbook/db/db.h"

ob_db_class ob_db_classify(const char *sqlstate)
{
    if (!sqlstate || strlen(sqlstate) != 5)
        return OB_DB_UNAVAILABLE; /* no SQLSTATE: the connection, not the statement */
    if (strncmp(sqlstate, "22", 2) == 0)
        return OB_DB_BAD_VALUE;
    if (strcmp(sqlstate, "23505") == 0)
        return OB_DB_UNIQUE;
    if (strcmp(sqlstate, "23503") == 0)
        return OB_DB_REFERENCE;
    if (strncmp(sqlstate, "23", 2) == 0)
        return OB_DB_INTEGRITY;
    return OB_DB_UNAVAILABLE;
}

int ob_db_class_status(ob_db_class c)
{
    return c == OB_DB_UNAVAILABLE ? 503 : 400;
}
