/* serve.c — `callroute serve`. */
#include <stdio.h>

#include "cli/cli.h"

int cli_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("callroute serve: not built yet\n", stderr);
    return CLI_USAGE;
}
