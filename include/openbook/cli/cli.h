/* cli.h - subcommands of the `openbook` program (src/cli/). */
#ifndef OPENBOOK_CLI_H
#define OPENBOOK_CLI_H

#include <stdbool.h>
#include "openbook/core/config.h"

typedef struct ob_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv, char **envp);
} ob_command;

int ob_cmd_serve(int argc, char **argv, char **envp);
int ob_cmd_migrate(int argc, char **argv, char **envp);
int ob_cmd_load_initial_data(int argc, char **argv, char **envp);
int ob_cmd_check_config(int argc, char **argv, char **envp);
int ob_cmd_createsuperuser(int argc, char **argv, char **envp);
int ob_cmd_changepassword(int argc, char **argv, char **envp);
int ob_cmd_send_mail(int argc, char **argv, char **envp);
int ob_cmd_load_demo_data(int argc, char **argv, char **envp);
int ob_cmd_install_library(int argc, char **argv, char **envp);
int ob_cmd_library(int argc, char **argv, char **envp);
int ob_cmd_cleanup(int argc, char **argv, char **envp);
int ob_cmd_user(int argc, char **argv, char **envp);
int ob_cmd_site(int argc, char **argv, char **envp);
int ob_cmd_backup(int argc, char **argv, char **envp);
int ob_cmd_restore(int argc, char **argv, char **envp);

/* Exit codes every command keeps, so that scripts can rely on them
 * (README, "The openbook command"). */
enum {
    OB_EXIT_OK = 0,
    OB_EXIT_ERROR = 1,     /* configuration, database, Redis, file system */
    OB_EXIT_USAGE = 2,     /* unknown option, missing argument, invalid value */
    OB_EXIT_NOT_FOUND = 3, /* the named user (site, library) does not exist */
    OB_EXIT_CONFLICT = 4,  /* already exists / taken; nothing was changed */
};

/* Shared option handling: -c/--config and --help for a command with no
 * other options.  Returns 0 to go on, or an exit code + 1 (so 1 = exit 0,
 * 3 = exit 2). */
int ob_cli_simple(int argc, char **argv, const char *usage, const char **config_path);

/* Loads the configuration or prints why not; returns 0 or exit code 1. */
int ob_cli_load_config(ob_config *cfg, const char *path, char **envp);

#endif
