/* db.c - the worker's PostgreSQL connection (see db.h).
 *
 * Prepared statements are cached by SQL text in a small open-addressing
 * table that lives as long as the connection; a reconnect empties it.  The
 * table is bounded: when it is full, further texts run unprepared (with
 * parameters all the same) rather than growing without limit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/core/counters.h"

#define STMT_SLOTS 512 /* power of two; at most 3/4 used */

typedef struct {
    char *sql;       /* owned */
    uint64_t hash;
    unsigned id;     /* statement name is "s<id>" */
} stmt_slot;

struct ob_db {
    char *conninfo;
    long connect_timeout;
    long statement_timeout_ms;
    PGconn *conn;
    bool broken;
    stmt_slot slots[STMT_SLOTS];
    unsigned nstmts;
    char last_error[512];
    char last_sqlstate[6];
    char last_constraint[64]; /* of the last failed statement, "" if none */
    unsigned long nqueries;
    char *listen_channel;      /* re-subscribed after every reconnect */
    bool connected_once;       /* the next connection is a reconnect (metrics) */
    unsigned changes;          /* announced on it, not yet taken */
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void clear_stmts(ob_db *db)
{
    for (unsigned i = 0; i < STMT_SLOTS; i++) {
        ob_free(db->slots[i].sql);
        db->slots[i].sql = NULL;
    }
    db->nstmts = 0;
}

ob_db *ob_db_new(const char *conninfo, long connect_timeout, long statement_timeout_ms)
{
    ob_db *db = ob_calloc(1, sizeof *db);
    db->conninfo = ob_strdup(conninfo);
    db->connect_timeout = connect_timeout;
    db->statement_timeout_ms = statement_timeout_ms;
    return db;
}

void ob_db_free(ob_db *db)
{
    if (!db)
        return;
    if (db->conn)
        PQfinish(db->conn);
    clear_stmts(db);
    ob_free(db->conninfo);
    ob_free(db->listen_channel);
    ob_free(db);
}

static void set_error(ob_db *db, const char *msg, const char *state)
{
    snprintf(db->last_error, sizeof db->last_error, "%s", msg ? msg : "unknown error");
    size_t n = strcspn(db->last_error, "\n");
    db->last_error[n] = '\0';
    snprintf(db->last_sqlstate, sizeof db->last_sqlstate, "%s", state ? state : "");
    db->last_constraint[0] = '\0';
}

/* Marks the connection broken when libpq says it is gone. */
static void check_conn(ob_db *db)
{
    if (db->conn && PQstatus(db->conn) != CONNECTION_OK) {
        if (!db->broken)
            ob_metric_inc(OB_MC_DB_LOST);
        db->broken = true;
        ob_warn("database: connection lost: %s", db->last_error);
    }
}

int ob_db_ensure(ob_db *db)
{
    if (db->conn && !db->broken && PQstatus(db->conn) == CONNECTION_OK)
        return 0;
    if (db->conn) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
    clear_stmts(db);
    db->broken = false;
    char timeout[32], options[128];
    snprintf(timeout, sizeof timeout, "%ld", db->connect_timeout);
    /* Generic plans: every statement is prepared once per connection and
     * then run thousands of times with parameters, mostly arrays (the
     * requester's scopes and permissions) whose values do not change which
     * plan is best.  PostgreSQL's default re-plans each execution of such
     * a statement (a custom plan is never much cheaper than the generic
     * one, but the heuristic keeps trying), which cost ~4 ms per list
     * request, more than running it. */
    snprintf(options, sizeof options,
             "-c statement_timeout=%ld -c TimeZone=UTC -c plan_cache_mode=force_generic_plan",
             db->statement_timeout_ms);
    /* conninfo may be a URI or key=value; expand_dbname lets both work while
     * our own keywords fill in what it leaves out. */
    const char *keys[] = {"dbname", "connect_timeout", "options", "application_name",
                          "client_encoding", NULL};
    const char *vals[] = {db->conninfo, timeout, options, "openbook", "UTF8", NULL};
    db->conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        set_error(db, PQerrorMessage(db->conn), "08006");
        ob_warn("database: cannot connect: %s", db->last_error);
        ob_metric_inc(OB_MC_DB_CONNECT_ERRORS);
        PQfinish(db->conn);
        db->conn = NULL;
        return -1;
    }
    if (db->connected_once)
        ob_metric_inc(OB_MC_DB_RECONNECTS);
    db->connected_once = true;
    if (db->listen_channel) {
        /* Whatever was announced while there was no connection is lost:
         * count the reconnection itself as a change. */
        db->changes++;
        char sql[96];
        snprintf(sql, sizeof sql, "LISTEN \"%s\"", db->listen_channel);
        PGresult *res = PQexec(db->conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            ob_warn("database: %s: %s", sql, PQresultErrorMessage(res));
        PQclear(res);
    }
    return 0;
}

void ob_db_listen(ob_db *db, const char *channel)
{
    ob_free(db->listen_channel);
    db->listen_channel = ob_strndup(channel, strnlen(channel, 63)); /* an identifier */
    db->changes++;
    if (db->conn && !db->broken) {
        PQfinish(db->conn); /* the next ob_db_ensure subscribes */
        db->conn = NULL;
    }
}

/* Counts the notifications libpq has parsed so far. */
static void count_notifications(ob_db *db)
{
    PGnotify *n;
    while ((n = PQnotifies(db->conn))) {
        if (db->listen_channel && strcmp(n->relname, db->listen_channel) == 0)
            db->changes++;
        PQfreemem(n);
    }
}

unsigned ob_db_take_changes(ob_db *db, bool read_socket)
{
    if (db->conn && !db->broken) {
        if (read_socket && !PQconsumeInput(db->conn)) {
            set_error(db, PQerrorMessage(db->conn), "08006");
            check_conn(db);
        }
        count_notifications(db);
    }
    /* Without a connection nothing is heard: count that as a change, so
     * that nothing is answered from memory that was not checked since. */
    if (db->listen_channel && (!db->conn || db->broken))
        db->changes++;
    unsigned n = db->changes;
    db->changes = 0;
    return n;
}

bool ob_db_broken(const ob_db *db)
{
    return !db->conn || db->broken;
}

bool ob_db_alive(ob_db *db)
{
    if (!db->conn || db->broken)
        return false;
    if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK) {
        set_error(db, PQerrorMessage(db->conn), "08006");
        ob_metric_inc(OB_MC_DB_LOST);
        db->broken = true;
        return false;
    }
    count_notifications(db); /* kept for ob_db_take_changes */
    return true;
}

static void result_clear(void *res)
{
    PQclear(res);
}

static PGresult *finish(ob_db *db, ob_arena *a, PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (a)
            ob_arena_defer(a, result_clear, res);
        /* A failure is classified by its own SQLSTATE, never by an older
         * one (of an earlier request on this connection, say). */
        db->last_sqlstate[0] = '\0';
        db->last_constraint[0] = '\0';
        return res;
    }
    set_error(db, res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn),
              res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "08006");
    /* Unique and foreign-key violations name their constraint, so that
     * the API can answer with the message of that constraint. */
    const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    snprintf(db->last_constraint, sizeof db->last_constraint, "%s", cons ? cons : "");
    if (res)
        PQclear(res);
    ob_metric_inc(OB_MC_DB_STATEMENT_ERRORS);
    check_conn(db);
    return NULL;
}

PGresult *ob_db_query(ob_db *db, ob_arena *a, const char *sql, int nparams,
                      const char *const *params)
{
    if (!db->conn || db->broken) {
        set_error(db, "no database connection", "08006");
        return NULL;
    }
    db->nqueries++;
    uint64_t h = fnv1a(sql);
    unsigned i = (unsigned)h & (STMT_SLOTS - 1);
    while (db->slots[i].sql) {
        if (db->slots[i].hash == h && strcmp(db->slots[i].sql, sql) == 0) {
            char name[16];
            snprintf(name, sizeof name, "s%u", db->slots[i].id);
            return finish(db, a, PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0));
        }
        i = (i + 1) & (STMT_SLOTS - 1);
    }
    if (db->nstmts >= STMT_SLOTS * 3 / 4)
        return finish(db, a, PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0));
    char name[16];
    unsigned id = db->nstmts + 1;
    snprintf(name, sizeof name, "s%u", id);
    PGresult *prep = PQprepare(db->conn, name, sql, nparams, NULL);
    if (!prep || PQresultStatus(prep) != PGRES_COMMAND_OK) {
        return finish(db, NULL, prep);
    }
    PQclear(prep);
    db->slots[i].sql = ob_strdup(sql);
    db->slots[i].hash = h;
    db->slots[i].id = id;
    db->nstmts++;
    return finish(db, a, PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0));
}

const char *ob_db_last_error(const ob_db *db)
{
    return db->last_error;
}

const char *ob_db_last_sqlstate(const ob_db *db)
{
    return db->last_sqlstate;
}

const char *ob_db_last_constraint(const ob_db *db)
{
    return db->last_constraint;
}

static int simple(ob_db *db, const char *sql)
{
    PGresult *res = ob_db_query(db, NULL, sql, 0, NULL);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

int ob_db_begin(ob_db *db)
{
    return simple(db, "BEGIN");
}

int ob_db_commit(ob_db *db)
{
    return simple(db, "COMMIT");
}

void ob_db_rollback(ob_db *db)
{
    if (db->conn && !db->broken && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        simple(db, "ROLLBACK");
}

PGconn *ob_db_conn(ob_db *db)
{
    return db->conn;
}

unsigned long ob_db_query_count(const ob_db *db)
{
    return db->nqueries;
}
