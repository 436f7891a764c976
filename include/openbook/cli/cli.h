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

/* Shared option handling: -c/--config and --help for a command with no
 * other options.  Returns 0 to go on, or an exit code + 1 (so 1 = exit 0,
 * 3 = exit 2). */
int ob_cli_simple(int argc, char **argv, const char *usage, const char **config_path);

/* Loads the configuration or prints why not; returns 0 or exit code 1. */
int ob_cli_load_config(ob_config *cfg, const char *path, char **envp);

#endif
