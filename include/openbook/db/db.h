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
/* SQLSTATE of the last failed statement ("" if none). */
const char *ob_db_last_sqlstate(const ob_db *db);
/* Constraint named by the last failed statement (unique, foreign key,
 * check), "" if none. */
const char *ob_db_last_constraint(const ob_db *db);

/* Answers the request whose statement failed (after a NULL result) and
 * logs it: 400 for a value the database refused (SQLSTATE class 22), else
 * 503.  In db/failure.c, the one place a request meets a libpq error. */
struct ob_request;
void ob_db_failure(struct ob_request *r);

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
