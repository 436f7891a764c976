/* cli_library.h - what `openbook install-library` and `openbook library
 * install` share: one routine, so that the alias and the subcommand
 * cannot drift apart. */
#ifndef OPENBOOK_CLI_LIBRARY_H
#define OPENBOOK_CLI_LIBRARY_H

#include <stdbool.h>
#include "openbook/library/library.h"

/* Installs each archive of args (files, or folders whose *.zip are
 * installed in dependency order) with o, printing one line per archive,
 * or with json one JSON array of results on stdout.  Loads the
 * configuration and connects itself.  Returns the exit code: 0 when every
 * archive was installed, 1 otherwise. */
int ob_cli_install_libraries(const char *config, int nargs, char **args,
                             const ob_lib_install_opts *o, bool json, char **envp);

#endif
