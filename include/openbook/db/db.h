/* db.h - the worker's PostgreSQL connection.
 *
 * One persistent connection per worker.  Statements are prepared on first
 * use and cached by their SQL text for the life of the connection, so every
 * query is both parameterised and prepared once.  A broken connection is
 * noticed, the request that hit it answers 503, and the next request
 * reconnects. */
#ifndef OPENBOOK_DB_H
#define OPENBOOK_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>
#include "openbook/core/arena.h"

typedef struct ob_db ob_db;

/* Opens lazily: no connection is made until ob_db_ensure(). */
ob_db *ob_db_new(const char *conninfo, long connect_timeout, long statement_timeout_ms);
void ob_db_free(ob_db *db);

/* Connects (or reconnects) if needed.  Returns 0, or -1 if the server is
 * unreachable. */
int ob_db_ensure(ob_db *db);
bool ob_db_broken(const ob_db *db);

/* Cheap liveness check without a round trip: reads whatever the server
 * sent (a terminated backend leaves EOF or an error on the socket).
 * Returns false, and marks the connection broken, if it is gone. */
bool ob_db_alive(ob_db *db);

/* Subscribes to a NOTIFY channel: the connection is reopened by the next
 * ob_db_ensure, which sends LISTEN, as it does after every reconnect. */
void ob_db_listen(ob_db *db, const char *channel);
/* How many notifications on that channel arrived since the last call,
 * without waiting for any; a (re)connection and a missing or lost
 * connection count as one each, since what is announced meanwhile is
 * lost.  PostgreSQL delivers a transaction's own notifications with its
 * COMMIT, so a caller that just committed sees them at once. */
unsigned ob_db_take_changes(ob_db *db, bool read_socket);

/* Runs a parameterised statement (text parameters, NULL = SQL NULL) and
 * returns its result, which the arena frees at the end of the request.
 * Returns NULL on failure; ob_db_last_error() says why and
 * ob_db_broken() tells a lost connection from a failed statement. */
PGresult *ob_db_query(ob_db *db, ob_arena *a, const char *sql, int nparams,
                      const char *const *params);
const char *ob_db_last_error(const ob_db *db);
/* SQLSTATE of the last statement when it failed ("" after a success, and
 * "08006" when there was no connection to run it on). */
const char *ob_db_last_sqlstate(const ob_db *db);
/* Constraint named by the last failed statement (unique, foreign key,
 * check), "" if none. */
const char *ob_db_last_constraint(const ob_db *db);

/* What a failed statement means for the request that ran it: the one
 * mapping of SQLSTATEs that every API answers by (src/db/classify.c). */
typedef enum {
    OB_DB_UNAVAILABLE = 0, /* the database failed (connection, timeout, anything else) */
    OB_DB_BAD_VALUE,       /* class 22, data exception: a value of the request it refused */
    OB_DB_UNIQUE,          /* 23505: the constraint (ob_db_last_constraint) says which */
    OB_DB_REFERENCE,       /* 23503: a referenced row is gone, or a row still refers */
    OB_DB_INTEGRITY,       /* the rest of class 23: check, not null, exclusion */
} ob_db_class;
ob_db_class ob_db_classify(const char *sqlstate);
/* The HTTP status of a class: 400 when the request's data is at fault
 * (classes 22 and 23: never a 5xx), else 503. */
int ob_db_class_status(ob_db_class c);

/* The /api/ answer after a NULL result (src/db/failure.c): 400 "Invalid
 * value in request." for the request's data, else 503 (and a log line).
 * /auth-api/ answers in its own envelope (ob_authapi_db_failure). */
struct ob_request;
void ob_db_failure(struct ob_request *r);

/* SQL text is built from identifiers the program wrote; every value
 * travels apart from it, as a parameter: $n is the n-th of these. */
#define OB_SQL_MAX_PARAMS 64
typedef struct ob_sql_params {
    const char *v[OB_SQL_MAX_PARAMS];
    int n;
    bool full; /* a parameter did not fit: the statement must not run */
} ob_sql_params;
/* Adds a parameter; returns its number ($n), or -1 (and sets full) when
 * there is no room.  Whoever builds a statement from request values
 * (filters, search terms) checks for -1 or `full` before running it. */
int ob_sql_param(ob_sql_params *p, const char *v);

/* Transactions for multi-statement writes. */
int ob_db_begin(ob_db *db);
int ob_db_commit(ob_db *db);
void ob_db_rollback(ob_db *db);

/* Direct access for the migration runner and commands. */
PGconn *ob_db_conn(ob_db *db);

/* Number of statements executed since creation (tests and bench read it
 * to prove the query count per request is constant). */
unsigned long ob_db_query_count(const ob_db *db);

#endif
