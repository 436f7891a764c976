/* migrate.c - applies the compiled-in migrations (see migrations.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/db/migrations.h"

/* Any constant works; it only has to be the same for every migrate run. */
#define MIGRATE_LOCK_KEY "7236412001"

static int exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        ob_error("migrate: %s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

int ob_schema_version(ob_db *db)
{
    PGconn *c = ob_db_conn(db);
    PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    int v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        v = atoi(PQgetvalue(r, 0, 0));
    else if (PQresultErrorField(r, PG_DIAG_SQLSTATE) && strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42P01") == 0)
        v = 0; /* no table yet: a fresh database */
    PQclear(r);
    return v;
}

int ob_migrate(ob_db *db)
{
    if (ob_db_ensure(db))
        return -1;
    PGconn *c = ob_db_conn(db);
    if (exec(c, "SET client_min_messages = warning") ||
        exec(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")") ||
        exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY,"
                " name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"))
        return -1;
    int rc = 0;
    int current = ob_schema_version(db);
    int newest = ob_nmigrations ? ob_migrations[ob_nmigrations - 1].version : 0;
    if (current < 0) {
        rc = -1;
    } else if (current > newest) {
        ob_error("migrate: the database schema is at version %d, newer than this binary "
                 "knows (%d); refusing to touch it. Upgrade the binary.",
                 current, newest);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < ob_nmigrations; i++) {
        const ob_migration *m = &ob_migrations[i];
        if (m->version <= current)
            continue;
        ob_info("migrate: applying %s", m->name);
        if (exec(c, "BEGIN") || exec(c, m->sql)) {
            exec(c, "ROLLBACK");
            ob_error("migrate: %s failed; nothing of it was applied", m->name);
            rc = -1;
            break;
        }
        char ver[16];
        snprintf(ver, sizeof ver, "%d", m->version);
        const char *params[] = {ver, m->name};
        PGresult *r = PQexecParams(c, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                   2, NULL, params, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok || exec(c, "COMMIT")) {
            exec(c, "ROLLBACK");
            rc = -1;
        }
    }
    /* Tables added by any migration get the change announcement
     * (0005_change_notify.sql); a no-op when they all have it. */
    if (rc == 0 && newest >= 5 && exec(c, "SELECT ob_track_changes()"))
        rc = -1;
    if (rc == 0)
        ob_info("migrate: schema is at version %d", newest);
    exec(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
    return rc;
}
