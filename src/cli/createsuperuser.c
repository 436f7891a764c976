/* createsuperuser.c - `openbook createsuperuser`.  Accounts arrive with the
 * authentication API; until then the command says so instead of
 * pretending. */
#include <stdio.h>
#include "openbook/cli.h"

static const char usage[] =
    "Usage: openbook createsuperuser [-c FILE]\n\n"
    "Creates an administrator account (available once accounts exist).\n\n"
    "  -c, --config FILE   configuration file\n"
    "  -h, --help          show this help\n";

int ob_cmd_createsuperuser(int argc, char **argv, char **envp)
{
    (void)envp;
    const char *path = NULL;
    int rc = ob_cli_simple(argc, argv, usage, &path);
    if (rc)
        return rc - 1;
    fprintf(stderr, "openbook: createsuperuser: user accounts are not part of this build yet\n");
    return 1;
}
