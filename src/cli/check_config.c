/* check_config.c - `openbook check-config`. */
#include <stdio.h>
#include "openbook/cli/cli.h"

static const char usage[] =
    "Usage: openbook check-config [-c FILE]\n\n"
    "Validates the configuration (the file, local.yaml beside it and OPENBOOK_*\n"
    "environment variables) and prints the effective values, secrets masked.\n"
    "Exits 0 if valid, 1 if not.\n\n"
    "  -c, --config FILE   configuration file (default: $OPENBOOK_CONFIG,\n"
    "                      conf/openbook.yaml, /etc/openbook/openbook.yaml)\n"
    "  -h, --help          show this help\n";

int ob_cmd_check_config(int argc, char **argv, char **envp)
{
    const char *path = NULL;
    int rc = ob_cli_simple(argc, argv, usage, &path);
    if (rc)
        return rc - 1;
    ob_config cfg;
    if (ob_cli_load_config(&cfg, path, envp))
        return 1;
    ob_config_print(&cfg, stdout);
    ob_config_free(&cfg);
    return 0;
}
