/* common.c - option handling shared by the subcommands. */
#include <getopt.h>
#include <stdio.h>
#include "openbook/cli/cli.h"
#include "openbook/core/log.h"

int ob_cli_simple(int argc, char **argv, const char *usage, const char **config_path)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            *config_path = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        default:
            fputs(usage, stderr);
            return 3;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "openbook: unexpected argument '%s'\n", argv[optind]);
        fputs(usage, stderr);
        return 3;
    }
    return 0;
}

int ob_cli_load_config(ob_config *cfg, const char *path, char **envp)
{
    ob_config_error err;
    if (ob_config_load(cfg, path, envp, &err) != 0) {
        fprintf(stderr, "openbook: configuration error: %s\n", err.msg);
        ob_config_free(cfg);
        return 1;
    }
    ob_log_configure(cfg->log_level, cfg->log_format);
    return 0;
}
