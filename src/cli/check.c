/* check.c — `callroute check`. */
#include <stdio.h>

#include "cli/cli.h"

int cli_check(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("callroute check: not built yet\n", stderr);
    return CLI_USAGE;
}
