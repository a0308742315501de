/* simulate.c — `callroute simulate FILE --from N --to N ...`: one call
 * through the scenario on the simulated network, printed as a trace. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/registry.h"
#include "cli/cli.h"
#include "util/time.h"
#include "simulate/simrun.h"
#include "route/route.h"
#include "scenario/diag.h"
#include "services/svc.h"
#include "util/alloc.h"

static const char usage_text[] =
    "usage: callroute simulate FILE --from NUMBER --to NUMBER [--source GATEWAY|user:EXT]\n"
    "           [--at 2026-11-26T10:00:00+03:00] [--caller SPEC] [--party TARGET=SPEC]...\n"
    "           [--var NAME=VALUE]... [--app-event NAME@SECONDS[:JSON]]... [--json]\n"
    "           [--max-time SECONDS] [--send-mail] [--message TEXT]\n"
    "           [--call SECONDS:FROM>TO[/SOURCE][=SPEC]]...\n"
    "\n"
    "Runs one call through FILE on a simulated network, on a virtual clock.\n"
    "SPEC is a comma list of EVENT@SECONDS:\n"
    "  --caller       hold@12,unhold@20,dtmf:123@5,hangup@60   (from the call's start)\n"
    "  --party T=...  ringing@0,early_media@1,answer@4,busy@2,reject:503@1,\n"
    "                 hold@10,unhold@15,dtmf:5@6,hangup@30      (from when T is dialled)\n"
    "  either may also ask for a transfer (a REFER): transfer:700@8\n"
    "TARGET is a user number, a group member, a dialled number or SIP URI, or\n"
    "gw:NAME for anything sent through gateway NAME. A target without SPEC\n"
    "rings and never answers. Calls the scenario places (originate) ring these\n"
    "parties too and run until they end. --app-event raises the call event\n"
    "`app` as the admin API's POST /calls/ID/events does, at SECONDS from the\n"
    "call's start: vip@5:'{\"tier\":\"gold\"}' (the object's text, numbers and\n"
    "booleans become app_event_data.KEY). --message TEXT: the request is an\n"
    "instant message (SIP MESSAGE) run by a `message` route, not a call. --call\n"
    "places another incoming call SECONDS after the first (sim-2, sim-3, ...),\n"
    "e.g. '5:202>701/user:202=dtmf:*6@3,hangup@20': calls that meet (conference,\n"
    "join, park, pickup) meet on the one network. Mail is shown in the trace, not sent,\n"
    "unless --send-mail. The call is hung up after --max-time seconds (default\n"
    "3600).\n"
    "Output: a readable trace, or with --json one JSON object per line.\n"
    "Exit: 0 the simulation ran, 1 invalid scenario file, 2 usage error.\n";

typedef struct list {
    const char **a, **b;
    size_t n;
} list;

static void list_add(list *l, const char *a, const char *b)
{
    l->a = cr_xrealloc(l->a, (l->n + 1) * sizeof *l->a);
    l->b = cr_xrealloc(l->b, (l->n + 1) * sizeof *l->b);
    l->a[l->n] = a;
    l->b[l->n] = b;
    l->n++;
}

static void list_free(list *l)
{
    free(l->a);
    free(l->b);
}

/* --call SECONDS:FROM>TO[/SOURCE][=SPEC], parsed in place. */
static bool call_add(simrun_call_spec **v, size_t *n, char *val, char *err, size_t errlen)
{
    char *colon = strchr(val, ':'), *gt = strchr(val, '>');
    char *eq = strchr(val, '=');
    if (eq && gt && eq < gt)
        gt = NULL;
    if (!colon || !gt || gt < colon) {
        snprintf(err, errlen, "--call: expected SECONDS:FROM>TO[/SOURCE][=SPEC], got '%s'", val);
        return false;
    }
    *colon = '\0';
    char *end;
    double at = strtod(val, &end);
    if (end == val || *end || !(at >= 0) || at > 1e7) {
        snprintf(err, errlen, "--call: bad time '%s' (seconds)", val);
        return false;
    }
    simrun_call_spec c = {.at = at, .from = colon + 1};
    *gt = '\0';
    c.to = gt + 1;
    if (eq) {
        *eq = '\0';
        c.spec = eq + 1;
    }
    char *slash = strchr((char *)c.to, '/');
    if (slash) {
        *slash = '\0';
        c.source = slash + 1;
    }
    *v = cr_xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = c;
    return true;
}

/* --app-event NAME@SECONDS[:JSON], each kept with what its strings live in. */
typedef struct app_events {
    simrun_app_event *items;
    json_t **docs;
    size_t n;
} app_events;

static void app_events_free(app_events *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((void *)l->items[i].keys);
        free((void *)l->items[i].values);
        json_decref(l->docs[i]);
    }
    free(l->items);
    free(l->docs);
}

/* Parses VAL into L; false with ERR. */
static bool app_event_add(app_events *l, char *val, char *err, size_t errlen)
{
    char *at = strchr(val, '@');
    if (!at) {
        snprintf(err, errlen, "--app-event: expected NAME@SECONDS[:JSON], got '%s'", val);
        return false;
    }
    *at++ = '\0';
    char *end;
    double secs = strtod(at, &end);
    if (end == at || (*end && *end != ':') || !(secs >= 0) || secs > 1e7) {
        snprintf(err, errlen, "--app-event %s: bad time '%s' (seconds, e.g. 2.5)", val, at);
        return false;
    }
    if (!eng_app_name_ok(val)) {
        snprintf(err, errlen, "--app-event: '%s' is not an event name (letters, digits, '_', '-', dots)", val);
        return false;
    }
    json_t *doc = NULL;
    if (*end == ':') {
        json_error_t je;
        doc = json_loads(end + 1, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(doc)) {
            snprintf(err, errlen, "--app-event %s: the data must be a JSON object (%s)", val,
                     doc ? "not an object" : je.text);
            json_decref(doc);
            return false;
        }
    }
    size_t n = doc ? json_object_size(doc) : 0;
    const char **keys = cr_xcalloc(n ? n : 1, sizeof *keys);
    cr_value *values = cr_xcalloc(n ? n : 1, sizeof *values);
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v) {
        if (!eng_app_name_ok(k) ||
            !(json_is_string(v) || json_is_number(v) || json_is_boolean(v)) ||
            (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))) {
            snprintf(err, errlen, "--app-event %s: data '%s': a name (letters, digits, '_', '-', dots) with "
                     "text, a number or a boolean", val, k);
            free(keys);
            free(values);
            json_decref(doc);
            return false;
        }
        keys[i] = k;
        values[i++] = json_is_string(v) ? cr_val_str(json_string_value(v), json_string_length(v))
                      : json_is_boolean(v) ? cr_val_bool(json_is_true(v))
                                           : cr_val_num(json_number_value(v));
    }
    l->items = cr_xrealloc(l->items, (l->n + 1) * sizeof *l->items);
    l->docs = cr_xrealloc(l->docs, (l->n + 1) * sizeof *l->docs);
    l->items[l->n] = (simrun_app_event){.name = val, .at = secs, .keys = keys, .values = values, .count = n};
    l->docs[l->n++] = doc;
    return true;
}

typedef struct out_ctx {
    bool json;
    cr_strbuf line;
    const eng_call *last;      /* the call of the last record */
} out_ctx;

static void print_cb(void *arg, const eng_trace_rec *r)
{
    out_ctx *o = arg;
    cr_strbuf_reset(&o->line);
    /* Calls the scenario placed interleave with it: the readable trace
     * says whose records follow ("call" in every JSON record does). */
    if (!o->json && o->last && r->call != o->last)
        cr_strbuf_printf(&o->line, "  --- call %s\n", r->call_id);
    o->last = r->call;
    if (o->json)
        eng_trace_json(r, &o->line);
    else
        eng_trace_text(r, &o->line);
    cr_strbuf_putc(&o->line, '\n');
    fwrite(o->line.s, 1, o->line.len, stdout);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("callroute simulate: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(see callroute simulate --help)\n", stderr);
    return CLI_USAGE;
}

/* Splits "NAME=VALUE" in place. */
static bool split_eq(char *s, const char **name, const char **value)
{
    char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return false;
    *eq = '\0';
    *name = s;
    *value = eq + 1;
    return true;
}

/* What the services do in the background (a durable job that failed) goes
 * to stderr, apart from the trace. */
static void svc_log_cb(void *arg, svc_log_level level, const char *msg)
{
    (void)arg;
    static const char *const names[] = {"error", "warning", "info"};
    fprintf(stderr, "callroute simulate: %s: %s\n", names[level], msg);
}

int cli_simulate(int argc, char **argv)
{
    const char *file = NULL;
    simrun_params p = {0};
    list parties = {0}, vars = {0};
    app_events events = {0};
    simrun_call_spec *calls = NULL;
    size_t ncalls = 0;
    char err[256] = "";
    bool json = false, send_mail = false;
    int rc = CLI_OK;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage_text, stdout);
            goto out;
        }
        if (strcmp(arg, "--json") == 0) {
            json = true;
            continue;
        }
        if (strcmp(arg, "--send-mail") == 0) {
            send_mail = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            if (file) {
                rc = usage_error("more than one FILE ('%s')", arg);
                goto out;
            }
            file = arg;
            continue;
        }
        /* --opt VALUE or --opt=VALUE */
        char *val = strchr(arg, '=');
        if (val)
            *val++ = '\0';
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            rc = usage_error("%s needs a value", arg);
            goto out;
        }
        const char *name, *value;
        if (strcmp(arg, "--from") == 0) {
            p.from = val;
        } else if (strcmp(arg, "--to") == 0) {
            p.to = val;
        } else if (strcmp(arg, "--source") == 0) {
            p.source = val;
        } else if (strcmp(arg, "--caller") == 0) {
            p.caller = val;
        } else if (strcmp(arg, "--at") == 0) {
            if (!cr_parse_time(val, &p.at, &p.utc_offset, &p.utc_offset_set)) {
                rc = usage_error("--at: expected a time like 2026-11-26T10:00:00+03:00, got '%s'", val);
                goto out;
            }
        } else if (strcmp(arg, "--max-time") == 0) {
            char *end;
            p.max_time = strtod(val, &end);
            if (end == val || *end || !(p.max_time > 0)) {
                rc = usage_error("--max-time: expected seconds above 0, got '%s'", val);
                goto out;
            }
        } else if (strcmp(arg, "--party") == 0) {
            if (!split_eq(val, &name, &value)) {
                rc = usage_error("--party: expected TARGET=SPEC, got '%s'", val);
                goto out;
            }
            list_add(&parties, name, value);
        } else if (strcmp(arg, "--app-event") == 0) {
            if (!app_event_add(&events, val, err, sizeof err)) {
                rc = usage_error("%s", err);
                goto out;
            }
        } else if (strcmp(arg, "--message") == 0) {
            p.message = val;
        } else if (strcmp(arg, "--call") == 0) {
            if (!call_add(&calls, &ncalls, val, err, sizeof err)) {
                rc = usage_error("%s", err);
                goto out;
            }
        } else if (strcmp(arg, "--var") == 0) {
            if (!split_eq(val, &name, &value)) {
                rc = usage_error("--var: expected NAME=VALUE, got '%s'", val);
                goto out;
            }
            list_add(&vars, name, value);
        } else {
            rc = usage_error("unknown option '%s'", arg);
            goto out;
        }
    }
    if (!file) {
        rc = usage_error("%s", "no scenario FILE given");
        goto out;
    }
    if (!p.from || !p.to) {
        rc = usage_error("%s", "--from and --to are required");
        goto out;
    }

    scn_program *prog = cli_load_program(file, &rc);
    if (!prog)
        goto out;

    out_ctx o = {.json = json};
    p.party_targets = parties.a;
    p.party_specs = parties.b;
    p.party_count = parties.n;
    p.var_names = vars.a;
    p.var_values = vars.b;
    p.var_count = vars.n;
    p.app_events = events.items;
    p.app_event_count = events.n;
    p.calls = calls;
    p.call_count = ncalls;
    p.trace = print_cb;
    p.trace_arg = &o;
    svc_options so = {.mail = send_mail ? SVC_MAIL_SEND_ONCE : SVC_MAIL_CAPTURE, .log = svc_log_cb};
    p.svc = &so;
    simrun_result *r = simrun_call(prog, &p, err, sizeof err);
    fflush(stdout);
    cr_strbuf_free(&o.line);
    scn_program_unref(prog);
    if (!r) {
        rc = usage_error("%s", err);
        goto out;
    }
    simrun_result_free(r);
out:
    list_free(&parties);
    list_free(&vars);
    app_events_free(&events);
    free(calls);
    return rc;
}
