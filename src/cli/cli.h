/* cli.h — the subcommands. Each lives in its own file and returns the
 * process exit status. */
#ifndef CLI_H
#define CLI_H

#define CALLROUTE_VERSION "0.1.0"

/* Exit statuses shared by the subcommands. */
enum { CLI_OK = 0, CLI_INVALID = 1, CLI_USAGE = 2, CLI_NO_ROUTE = 3 };

int cli_check(int argc, char **argv);
int cli_simulate(int argc, char **argv);
int cli_route(int argc, char **argv);
int cli_test(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_schema(int argc, char **argv);

#endif
