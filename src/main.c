/* main.c - the `openbook` command: subcommand dispatch and option parsing.
 * Each subcommand lives in src/cli/<name>.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/cli/cli.h"

static const ob_command commands[] = {
    {"serve", "run the FastCGI worker pool (or one worker with --single)", ob_cmd_serve},
    {"migrate", "apply pending database migrations", ob_cmd_migrate},
    {"load-initial-data", "load the initial site, languages and permissions (idempotent)",
     ob_cmd_load_initial_data},
    {"load-demo-data", "load demo library groups, a textbook and a course (idempotent)",
     ob_cmd_load_demo_data},
    {"check-config", "validate and print the effective configuration (secrets masked)",
     ob_cmd_check_config},
    {"createsuperuser", "create an administrator account", ob_cmd_createsuperuser},
    {"changepassword", "set a user's password (and log the user out everywhere)",
     ob_cmd_changepassword},
    {"install-library", "install HTML component library archives (a file, or every *.zip of a folder)",
     ob_cmd_install_library},
    {"library", "list, install and remove HTML component libraries", ob_cmd_library},
    {"send-mail", "deliver queued mail (SMTP or .eml files), once or as a loop", ob_cmd_send_mail},
    {"cleanup", "remove expired sessions, keys, old mail, stale uploads (daily)", ob_cmd_cleanup},
    {"user", "list, show, create and change accounts", ob_cmd_user},
    {"site", "show or change the site (domain, name...)", ob_cmd_site},
    {"backup", "write a consistent backup of the database and the media files", ob_cmd_backup},
    {"restore", "restore a backup into an empty database and media root", ob_cmd_restore},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: openbook [--help] [--version] COMMAND [OPTIONS]\n\n"
               "OpenBook server for interactive online textbooks.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-19s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nEvery command takes -c FILE (or OPENBOOK_CONFIG) to choose the configuration,\n"
               "and --help for its own options.  Settings can be overridden with environment\n"
               "variables OPENBOOK_<SECTION>_<KEY>.\n");
}

int main(int argc, char **argv, char **envp)
{
    ob_alloc_init();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("openbook %s\n", OB_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1, envp);
    fprintf(stderr, "openbook: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
