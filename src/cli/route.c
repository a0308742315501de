/* route.c — `callroute route FILE --from N --to N [...]`: which route a call
 * takes, and why, route by route. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apps/registry.h"
#include "cli/cli.h"
#include "util/time.h"
#include "route/route.h"
#include "scenario/diag.h"
#include "scenario/program.h"

#define MAX_VARS 64

static void usage(FILE *out)
{
    fputs("usage: callroute route FILE --from NUMBER --to NUMBER [--source GATEWAY|user:EXT]\n"
          "                       [--at TIME] [--var NAME=VALUE]... [--type TYPE] [--json]\n\n"
          "Shows which route a call would take, and why. Prints the chosen route's name\n"
          "on the first line (or `no route`), then one line per route of the call's type\n"
          "in priority order (high first; file order for equal priorities):\n"
          "  NAME (priority N): chosen | matched, but 'X' wins (...) |\n"
          "                     not matched: FIRST FAILED CONDITION (saw VALUE) | disabled\n\n"
          "  --from NUMBER   the caller's number (caller_number)\n"
          "  --to NUMBER     the dialled number (called_number)\n"
          "  --source SRC    a gateway name (a from_gateway call; the default type), or\n"
          "                  user:EXT for a call from a registered user (from_user)\n"
          "  --at TIME       when the call arrives, ISO 8601: 2026-11-28T10:00:00+03:00\n"
          "                  (Z or an offset; without one, local time). Default: now\n"
          "  --var NAME=VALUE  another call variable, e.g. --var sip.header.X-Account=42\n"
          "                  or caller_name=Alice (repeatable; overrides the defaults)\n"
          "  --type TYPE     from_gateway, from_user, to_user, to_gateway or message (an\n"
          "                  instant message), instead of the type --source implies\n"
          "  --json          the same as one JSON object: {\"route\":NAME|null,\"type\":..,\n"
          "                  \"routes\":[{\"name\",\"priority\",\"enabled\",\"matched\",\"chosen\",\n"
          "                  \"reason\",\"file\",\"line\"}...]}\n"
          "  --help          this text\n\n"
          "Call variables: caller_number, called_number, source, call_id (made up),\n"
          "caller_name (empty), and every --var.\n\n"
          "Exit status: 0 a route was chosen, 3 no route, 1 invalid file, 2 usage error\n"
          "or unreadable file.\n",
          out);
}

typedef struct {
    const char *names[MAX_VARS];
    size_t name_len[MAX_VARS];
    const char *vals[MAX_VARS];
    size_t n;
} var_table;

static void var_set(var_table *t, const char *name, size_t len, const char *val)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->name_len[i] == len && memcmp(t->names[i], name, len) == 0) {
            t->vals[i] = val;
            return;
        }
    t->names[t->n] = name;
    t->name_len[t->n] = len;
    t->vals[t->n++] = val;
}

static bool lookup_cb(void *ctx, const char *name, size_t len, cr_value *out)
{
    const var_table *t = ctx;
    for (size_t i = 0; i < t->n; i++)
        if (t->name_len[i] == len && memcmp(t->names[i], name, len) == 0) {
            *out = cr_val_cstr(t->vals[i]);
            return true;
        }
    return false;
}

static bool parse_type(const char *s, scn_route_type *out)
{
    for (int i = 0; scn_route_type_names[i]; i++)
        if (strcmp(s, scn_route_type_names[i]) == 0) {
            *out = (scn_route_type)i;
            return true;
        }
    return false;
}

/* --name VALUE or --name=VALUE; advances *I. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "callroute route: %s needs a value\n", name);
        return "";
    }
    return argv[++*i];
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("callroute route: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(see callroute route --help)\n", stderr);
    return CLI_USAGE;
}

int cli_route(int argc, char **argv)
{
    const char *file = NULL, *from = NULL, *to = NULL, *source = NULL, *at = NULL, *type_s = NULL;
    bool json = false;
    var_table vars = {0};
    const char *extra[MAX_VARS];
    size_t nextra = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if ((v = opt_value(argc, argv, &i, "--from"))) {
            from = v;
        } else if ((v = opt_value(argc, argv, &i, "--to"))) {
            to = v;
        } else if ((v = opt_value(argc, argv, &i, "--source"))) {
            source = v;
        } else if ((v = opt_value(argc, argv, &i, "--at"))) {
            at = v;
        } else if ((v = opt_value(argc, argv, &i, "--type"))) {
            type_s = v;
        } else if ((v = opt_value(argc, argv, &i, "--var"))) {
            if (!strchr(v, '=') || v[0] == '=')
                return usage_error("--var wants NAME=VALUE, not '%s'", v);
            if (nextra == MAX_VARS - 8)
                return usage_error("too many --var options%s", "");
            extra[nextra++] = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option '%s'", a);
        } else if (!file) {
            file = a;
        } else {
            return usage_error("one FILE only ('%s' is extra)", a);
        }
    }
    if (!file)
        return usage_error("no FILE given%s", "");
    if (!from || !to)
        return usage_error("%s is required", !from ? "--from" : "--to");

    scn_route_type type = source && strncmp(source, "user:", 5) == 0 ? SCN_ROUTE_FROM_USER
                                                                     : SCN_ROUTE_FROM_GATEWAY;
    if (type_s && !parse_type(type_s, &type))
        return usage_error("unknown route type '%s' (from_gateway, from_user, to_user, to_gateway)",
                           type_s);
    scn_env env = {0};
    if (at) {
        bool has_offset;
        if (!cr_parse_time(at, &env.now, &env.utc_offset, &has_offset))
            return usage_error("--at wants ISO 8601 time such as 2026-11-28T10:00:00+03:00, not '%s'",
                               at);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        env.now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
        struct tm tm;
        localtime_r(&ts.tv_sec, &tm);
        env.utc_offset = (int)tm.tm_gmtoff;
    }

    int load_status;
    scn_program *p = cli_load_program(file, &load_status);
    if (!p)
        return load_status;
    if (source && strncmp(source, "user:", 5) == 0 && !scn_program_user(p, source + 5))
        fprintf(stderr, "callroute route: warning: no user '%s' in %s\n", source + 5, file);
    else if (source && strncmp(source, "user:", 5) != 0 && !scn_program_gateway(p, source))
        fprintf(stderr, "callroute route: warning: no gateway '%s' in %s\n", source, file);

    char call_id[64];
    snprintf(call_id, sizeof call_id, "%08lx-%d@callroute-route",
             (unsigned long)env.now & 0xffffffffUL, (int)getpid());
    var_set(&vars, "caller_number", 13, from);
    var_set(&vars, "called_number", 13, to);
    var_set(&vars, "source", 6, source ? source : "");
    var_set(&vars, "call_id", 7, call_id);
    var_set(&vars, "caller_name", 11, "");
    for (size_t i = 0; i < nextra; i++) {
        const char *eq = strchr(extra[i], '=');
        var_set(&vars, extra[i], (size_t)(eq - extra[i]), eq + 1);
    }
    cr_arena scratch;
    cr_arena_init(&scratch, 4096);
    env.lookup = lookup_cb;
    env.ctx = &vars;
    env.scratch = &scratch;

    route_prepare(p);
    const scn_route *r = route_select(p, type, &env, NULL);
    route_explanation e;
    route_explain(p, type, &env, &e);
    cr_strbuf out = CR_STRBUF_INIT;
    if (json) {
        route_explanation_json(&e, &out);
        printf("%s\n", cr_strbuf_cstr(&out));
    } else {
        route_explanation_text(&e, &out);
        printf("%s\n%s", r ? r->name : "no route", cr_strbuf_cstr(&out));
    }
    if (e.chosen != r)   /* the index and the slow path must agree */
        fprintf(stderr, "callroute route: internal error: index chose %s, full scan %s\n",
                r ? r->name : "nothing", e.chosen ? e.chosen->name : "nothing");
    cr_strbuf_free(&out);
    route_explanation_free(&e);
    cr_arena_free(&scratch);
    scn_program_unref(p);
    return r ? CLI_OK : CLI_NO_ROUTE;
}
