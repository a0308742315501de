/* cli.h — the subcommands. Each lives in its own file and returns the
 * process exit status. */
#ifndef CLI_H
#define CLI_H

#include "util/version.h"

#include <stddef.h>

struct scn_program;
struct scn_diags;

/* Exit statuses shared by the subcommands. */
enum { CLI_OK = 0, CLI_INVALID = 1, CLI_USAGE = 2, CLI_NO_ROUTE = 3 };

int cli_check(int argc, char **argv);
int cli_simulate(int argc, char **argv);
int cli_route(int argc, char **argv);
int cli_test(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_schema(int argc, char **argv);
int cli_cdr(int argc, char **argv);
/* serve FILE --drain: asks the serve running P's file (its admin API at
 * ADMIN, else settings.admin.listen, with the file's token) to drain, and
 * waits until it has stopped. TIMEOUT: --drain-timeout (NULL: none). */
struct scn_program;
int cli_drain_remote(const struct scn_program *p, const char *admin, const char *timeout);

/* Loads, validates and compiles FILE with every application and prepares its
 * route index; diagnostics go to stderr. NULL on failure, with *FAIL_STATUS
 * set to CLI_USAGE (unreadable) or CLI_INVALID. */
struct scn_program *cli_load_program(const char *file, int *fail_status);
/* TEXT compiled as if it were FILE's content (includes and relative paths
 * resolve as FILE's), with every application and its route index;
 * diagnostics in D, not printed. NULL when invalid. */
struct scn_program *cli_compile_text(const char *file, const char *text, size_t len, struct scn_diags *d);

#endif
