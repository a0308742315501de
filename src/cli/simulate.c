/* simulate.c — `callroute simulate`. */
#include <stdio.h>

#include "cli/cli.h"

int cli_simulate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("callroute simulate: not built yet\n", stderr);
    return CLI_USAGE;
}
