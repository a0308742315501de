/* route.c — `callroute route`. */
#include <stdio.h>

#include "cli/cli.h"

int cli_route(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("callroute route: not built yet\n", stderr);
    return CLI_USAGE;
}
