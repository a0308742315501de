/* main.c — `callroute COMMAND ...`: dispatch to the subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/heap.h"

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"check", cli_check, "validate scenario files"},
    {"simulate", cli_simulate, "run a call through a scenario on a simulated network"},
    {"route", cli_route, "show which route a call takes, and why"},
    {"test", cli_test, "run scenario test cases (mocked HTTP, DB, e-mail)"},
    {"serve", cli_serve, "run the SIP service"},
    {"schema", cli_schema, "print the JSON Schema of scenario files"},
    {"cdr", cli_cdr, "print call detail records"},
};

static void usage(FILE *out)
{
    fputs("usage: callroute COMMAND [ARGS...]\n\n"
          "A SIP call-routing engine: routes pick a scenario, a tree of applications.\n\n"
          "Commands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n`callroute COMMAND --help` explains a command. `callroute --version`.\n", out);
}

int main(int argc, char **argv)
{
    heap_tune();
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("callroute %s\n", CALLROUTE_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "callroute: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
