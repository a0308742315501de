/* test.c — `callroute test`. */
#include <stdio.h>

#include "cli/cli.h"

int cli_test(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("callroute test: not built yet\n", stderr);
    return CLI_USAGE;
}
