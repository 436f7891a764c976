/* cli_pgtool.h - running PostgreSQL's client programs (pg_dump,
 * pg_restore) on the database of the configuration, for backup and
 * restore. */
#ifndef OPENBOOK_CLI_PGTOOL_H
#define OPENBOOK_CLI_PGTOOL_H

#include "openbook/core/config.h"

/* Runs `tool ARGS... --dbname=CONNINFO` and waits for it.  tool is taken
 * from database.tools_dir, else from /usr/lib/postgresql/<major>/bin (the
 * server's major version, server_version_num / 10000, as Debian installs
 * it) when present, else from PATH.  The connection is database.url's: every parameter but the
 * password goes into --dbname (a command line is visible to every local
 * user); the password, if database.url holds one, reaches the tool in a
 * temporary pgpass file (PGPASSFILE, mode 0600, removed afterwards),
 * never in argv.  The tool gets neither OPENBOOK_* variables nor
 * PGPASSWORD then.  Returns the tool's exit status (0 = success), or -1
 * when it could not be run (printed). */
int ob_cli_pgtool(const ob_config *cfg, int server_version_num, const char *tool,
                  const char *const *args);

#endif
