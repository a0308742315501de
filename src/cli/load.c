/* load.c — loading a scenario file the way every command does. */
#include <stdio.h>

#include "apps/registry.h"
#include "cli/cli.h"
#include "route/route.h"
#include "scenario/diag.h"

scn_program *cli_load_program(const char *file, int *fail_status)
{
    scn_diags d;
    scn_diags_init(&d);
    bool unreadable = false;
    scn_program *p = scn_program_load(file, app_registry, &d, &unreadable);
    scn_diags_print(&d, stderr);
    scn_diags_free(&d);
    if (!p) {
        *fail_status = unreadable ? CLI_USAGE : CLI_INVALID;
        return NULL;
    }
    route_prepare(p);
    return p;
}

scn_program *cli_compile_text(const char *file, const char *text, size_t len, scn_diags *d)
{
    scn_program *p = scn_program_load_text(file, text, len, app_registry, d);
    if (p)
        route_prepare(p);
    return p;
}
