/* schema.c — `callroute schema`. */
#include <stdio.h>

#include "cli/cli.h"

int cli_schema(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("callroute schema: not built yet\n", stderr);
    return CLI_USAGE;
}
