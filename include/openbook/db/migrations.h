/* migrations.h - schema migrations compiled into the binary from
 * src/db/migrations/NNNN_name.sql, applied by `openbook migrate`. */
#ifndef OPENBOOK_MIGRATIONS_H
#define OPENBOOK_MIGRATIONS_H

#include <stddef.h>

struct ob_db;

typedef struct ob_migration {
    int version;
    const char *name;
    const char *sql;
} ob_migration;

extern const ob_migration ob_migrations[];
extern const size_t ob_nmigrations;

/* Applies every pending migration, each in its own transaction, under an
 * advisory lock.  Refuses (-1) when the database is newer than the binary.
 * Prints what it does to stderr.  Returns 0 on success. */
int ob_migrate(struct ob_db *db);

/* Highest version recorded in the database, 0 if none, -1 on error. */
int ob_schema_version(struct ob_db *db);

/* Loads the initial data of api-resources.md §5 (idempotent). */
int ob_load_initial_data(struct ob_db *db, long site_id);

#endif
