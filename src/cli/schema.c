/* schema.c — `callroute schema [--markdown]`: the JSON Schema of scenario
 * files, generated from the application tables (STYLE.md: docs next to the
 * code), so editors complete and check what the validator accepts. With
 * --markdown: the parameter tables of docs/scenario.md, from the same tables. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/registry.h"
#include "cli/cli.h"
#include "scenario/cond.h"
#include "scenario/events.h"
#include "scenario/param.h"
#include "scenario/program.h"

#define REF(name) ref_to("#/definitions/" name)

static json_t *ref_to(const char *target) { return json_pack("{s:s}", "$ref", target); }

static json_t *str_array(const char *const *v)
{
    json_t *a = json_array();
    for (; *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

static json_t *described(json_t *schema, const char *doc)
{
    if (doc)
        json_object_set_new(schema, "description", json_string(doc));
    return schema;
}

static json_t *one_or_list(json_t *item)
{
    return json_pack("{s:[o,{s:s,s:O}]}", "anyOf", item, "type", "array", "items", item);
}

/* ---- shared definitions -------------------------------------------------- */

static const char duration_pattern[] = "^(?!$)(\\d+(\\.\\d+)?d)?(\\d+(\\.\\d+)?h)?(\\d+(\\.\\d+)?m(?!s))?(\\d+(\\.\\d+)?s)?"
                                       "(\\d+(\\.\\d+)?ms)?$|^\\d+(\\.\\d+)?$";

static json_t *duration_schema(double min, double max)
{
    json_t *num = json_pack("{s:s,s:f}", "type", "number", "minimum", min);
    if (min != 0 || max != 0)
        json_object_set_new(num, "maximum", json_real(max));
    return json_pack("{s:[o,{s:s,s:s}]}", "anyOf", num, "type", "string", "pattern", duration_pattern);
}

static json_t *condition_defs(void)
{
    json_t *ops = str_array(scn_cond_op_names);
    json_t *var = json_pack("{s:s,s:[s,s],s:{s:{s:s,s:s},s:{s:o,s:s},s:{s:s}},s:b}", "type", "object",
                            "required", "var", "op", "properties", "var", "type", "string", "description",
                            "call variable, e.g. caller_number, called_number, source, sip.header.X-Foo", "op",
                            "enum", ops, "description", "comparison", "value", "description",
                            "operand: text, a number (lt/le/gt/ge), two numbers (between/not_between), a list "
                            "(in/not_in), a regex (matches) or a dial pattern (pattern)",
                            "additionalProperties", 0);
    json_t *day_or_list = one_or_list(json_pack("{s:s}", "type", "string"));
    json_t *sched = json_pack(
        "{s:s,s:[s],s:{s:{s:s,s:{s:o,s:o,s:o,s:{s:s,s:s}},s:b,s:i}},s:b}", "type", "object", "required", "schedule",
        "properties", "schedule", "type", "object", "properties", "days", described(day_or_list, "mon-fri, sat, ..."),
        "time", described(json_deep_copy(day_or_list), "HH:MM-HH:MM (may cross midnight), or a list"), "dates",
        described(json_deep_copy(day_or_list), "YYYY-MM-DD, a range YYYY-MM-DD..YYYY-MM-DD, or MM-DD yearly"), "tz",
        "type", "string", "description", "a tzdata zone, e.g. Europe/Moscow", "additionalProperties", 0,
        "minProperties", 1, "additionalProperties", 0);
    json_t *expr = json_pack("{s:s,s:[s],s:{s:{s:s}},s:b}", "type", "object", "required", "expr", "properties",
                             "expr", "type", "string", "additionalProperties", 0);
    json_t *group = json_pack("{s:s,s:[s],s:{s:{s:[s,s]},s:{s:s,s:o}},s:b}", "type", "object", "required",
                              "conditions", "properties", "match", "enum", "all", "any", "conditions", "type", "array",
                              "items", REF("condition"), "additionalProperties", 0);
    json_t *not = json_pack("{s:s,s:[s],s:{s:o},s:b}", "type", "object", "required", "not", "properties", "not",
                            REF("condition"), "additionalProperties", 0);
    json_t *member = json_pack("{s:s,s:[s],s:{s:{s:s,s:s}},s:b}", "type", "object", "required", "caller_group",
                               "properties", "caller_group", "type", "string", "description",
                               "a group of `groups:`: the caller is one of its users (source user:N)",
                               "additionalProperties", 0);
    return json_pack("{s:s,s:[{s:s,s:s},o,o,o,o,o,o]}", "description",
                     "a condition: {var, op, value}, {schedule}, {expr}, {match, conditions}, {not} or "
                     "{caller_group}", "anyOf",
                     "type", "string", "description", "an expression", var, sched, expr, group, not, member);
}

/* ---- parameters ---------------------------------------------------------- */

static json_t *text_schema(void) { return json_pack("{s:[s,s,s]}", "type", "string", "number", "boolean"); }

static json_t *param_schema(const scn_param *p)
{
    json_t *s = NULL;
    switch (p->type) {
    case P_STRING:
    case P_TEMPLATE:
    case P_EXPR:
        s = text_schema();
        break;
    case P_DURATION:
        s = duration_schema(p->min, p->max);
        break;
    case P_NUMBER:
    case P_INT:
        s = json_pack("{s:s}", "type", p->type == P_INT ? "integer" : "number");
        if (p->min != 0 || p->max != 0) {
            json_object_set_new(s, "minimum", json_real(p->min));
            json_object_set_new(s, "maximum", json_real(p->max));
        }
        break;
    case P_BOOL:
        s = json_pack("{s:s}", "type", "boolean");
        break;
    case P_ENUM:
        s = json_pack("{s:o}", "enum", str_array(p->choices));
        break;
    case P_ACTIONS:
        s = REF("actions");
        break;
    case P_CONDITION:
        s = json_pack("{s:[{s:s},o,{s:s,s:o}]}", "anyOf", "type", "string", REF("condition"), "type", "array",
                      "items", REF("condition"));
        break;
    case P_TEMPLATES:
        s = one_or_list(text_schema());
        break;
    case P_TEMPLATE_MAP:
    case P_STRING_MAP:
        s = json_pack("{s:s,s:o}", "type", "object", "additionalProperties", text_schema());
        break;
    case P_CASES:
        if (p->choices) {   /* an application's outcomes: only these keys */
            json_t *props = json_object();
            for (const char *const *c = p->choices; *c; c++)
                json_object_set_new(props, *c, REF("actions"));
            s = json_pack("{s:s,s:o,s:b}", "type", "object", "properties", props, "additionalProperties", 0);
        } else {
            s = json_pack("{s:s,s:o}", "type", "object", "additionalProperties", REF("actions"));
        }
        break;
    case P_EVENTS:
        s = one_or_list(json_pack("{s:o}", "enum", str_array(scn_call_event_names)));
        break;
    case P_HANDLERS: {
        json_t *props = json_object();
        for (const char *const *e = scn_dial_event_names; *e; e++)
            json_object_set_new(props, *e, REF("actions"));
        s = json_pack("{s:s,s:o,s:b}", "type", "object", "properties", props, "additionalProperties", 0);
        break;
    }
    case P_JSON:
        s = json_object();
        break;
    case P_GATEWAYS:
        s = one_or_list(json_pack("{s:s}", "type", "string"));
        break;
    case P_DATABASE:
    case P_SCENARIO:
        s = json_pack("{s:s}", "type", "string");
        break;
    case P__TYPE_COUNT:
        s = json_object();
        break;
    }
    if (json_object_get(s, "$ref")) /* draft-07 ignores siblings of $ref: wrap it */
        s = json_pack("{s:[o]}", "allOf", s);
    described(s, p->doc);
    if (p->def) {
        json_t *d;
        char *end;
        double num = strtod(p->def, &end);
        if (p->type == P_BOOL)
            d = json_boolean(strcmp(p->def, "true") == 0);
        else if ((p->type == P_INT || p->type == P_NUMBER || p->type == P_DURATION) && *end == 0)
            d = p->type == P_INT ? json_integer((json_int_t)num) : json_real(num);
        else
            d = json_string(p->def);
        json_object_set_new(s, "default", d);
    }
    return s;
}

static bool app_has_param(const app_def *a, const char *name)
{
    for (const scn_param *p = a->params; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return true;
    return false;
}

static json_t *app_schema(const app_def *a)
{
    json_t *props = json_object(), *required = json_array(), *all = json_array();
    json_object_set_new(props, "app", json_pack("{s:s}", "const", a->name));
    json_object_set_new(props, "id", json_pack("{s:s,s:s}", "type", "string", "description",
                                               "a name for this action (trace, tests: ran/not_ran)"));
    json_object_set_new(props, "label", json_pack("{s:s,s:s}", "type", "string", "description", "shown in the trace"));
    json_object_set_new(props, "comment", json_pack("{s:s}", "description", "ignored"));
    json_object_set_new(props, "disabled", json_pack("{s:s,s:s}", "type", "boolean", "description",
                                                     "checked but not run"));
    json_object_set_new(props, "on_error",
                        json_pack("{s:[o],s:s}", "allOf", REF("actions"), "description",
                                  "actions run in place when this action fails"));
    if ((a->flags & APP_WAITS) && !app_has_param(a, "timeout"))
        json_object_set_new(props, "timeout", described(duration_schema(0, 0),
                                                        "give up after this long: the action fails with "
                                                        "error = timeout"));
    json_array_append_new(required, json_string("app"));
    json_t *one_a = json_array();
    const scn_param *b_members[8];
    size_t nb = 0;
    for (const scn_param *p = a->params; p->name; p++) {
        json_object_set_new(props, p->name, param_schema(p));
        if (p->flags & P_REQ)
            json_array_append_new(required, json_string(p->name));
        if (p->flags & P_EXACTLY_ONE)
            json_array_append_new(one_a, json_pack("{s:[s]}", "required", p->name));
        if ((p->flags & P_AT_MOST_ONE) && nb < 8)
            b_members[nb++] = p;
    }
    json_t *s = json_pack("{s:s,s:s,s:o,s:o,s:b}", "description", a->summary ? a->summary : a->name, "type",
                          "object", "properties", props, "required", required, "additionalProperties", 0);
    if (json_array_size(one_a))
        json_array_append_new(all, json_pack("{s:o}", "oneOf", one_a));
    else
        json_decref(one_a);
    for (size_t i = 0; i < nb; i++)
        for (size_t j = i + 1; j < nb; j++)
            json_array_append_new(all, json_pack("{s:{s:[s,s]}}", "not", "required", b_members[i]->name,
                                                 b_members[j]->name));
    if (json_array_size(all))
        json_object_set_new(s, "allOf", all);
    else
        json_decref(all);
    return s;
}

static json_t *action_def(json_t *defs)
{
    json_t *names = json_array(), *branches = json_array();
    for (size_t t = 0; app_registry[t]; t++)
        for (const app_def *a = app_registry[t]; a->name; a++) {
            char key[96];
            snprintf(key, sizeof key, "app.%s", a->name);
            json_object_set_new(defs, key, app_schema(a));
            json_array_append_new(names, json_string(a->name));
            char ref[128];
            snprintf(ref, sizeof ref, "#/definitions/%s", key);
            json_array_append_new(branches, json_pack("{s:{s:{s:{s:s}}},s:o}", "if", "properties", "app", "const",
                                                      a->name, "then", ref_to(ref)));
        }
    return json_pack("{s:s,s:s,s:[s],s:{s:{s:o,s:s}},s:o}", "description", "an action: `app:` and its parameters",
                     "type", "object", "required", "app", "properties", "app", "enum", names, "description",
                     "the application", "allOf", branches);
}

/* ---- sections ------------------------------------------------------------- */

static json_t *obj(json_t *props, const char *doc)
{
    return described(json_pack("{s:s,s:o,s:b}", "type", "object", "properties", props, "additionalProperties", 0), doc);
}

static json_t *str_desc(const char *doc) { return described(json_pack("{s:s}", "type", "string"), doc); }

static json_t *settings_schema(void)
{
    json_t *listen = one_or_list(json_pack("{s:s,s:s}", "type", "string", "pattern", "^(udp|tcp|tls):.+:[0-9]+$"));
    json_t *sip = obj(json_pack("{s:o}", "listen",
                                described(listen, "udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT (needs tls), "
                                                  "or a list (one udp/tcp and one tls address are used)")),
                      "SIP signalling (default listen: udp:0.0.0.0:5060)");
    json_object_set_new(
        json_object_get(sip, "properties"), "auth_failures",
        obj(json_pack("{s:{s:s,s:i,s:s},s:o,s:o}", "max", "type", "integer", "minimum", 0, "description",
                      "failed authentications from one IP before a ban (default 10; 0: never)", "window",
                      described(duration_schema(1, 86400), "within this time (default 60s)"), "ban",
                      described(duration_schema(1, 86400), "how long the IP is ignored (default 600s)")),
            "digest guessing: ban a source that keeps failing (logged once per ban)"));
    json_object_set_new(
        json_object_get(sip, "properties"), "flood",
        obj(json_pack("{s:{s:s,s:i,s:s},s:{s:s,s:i,s:s},s:{s:[s,s],s:s}}", "rate", "type", "integer", "minimum", 0,
                      "description", "requests per second from one IP address (default 20; 0: no limit)", "burst",
                      "type", "integer", "minimum", 1, "description", "how many at once (default 40)", "action",
                      "enum", "drop", "503", "description",
                      "over the limit: drop unanswered (default) or answer 503"),
            "per-source limit on requests that start something (INVITE, REGISTER, OPTIONS...); gateways "
            "are exempt; one log line when a source goes over"));
    json_object_set_new(json_object_get(sip, "properties"), "core",
                        described(json_pack("{s:[s]}", "enum", "nta"),
                                  "the SIP core: nta, the only one (sofia's transaction layer with callroute's own "
                                  "dialogs; docs/decisions/sip-core.md); nua was removed: delete a line that names it"));
    json_object_set_new(json_object_get(sip, "properties"), "session_timer",
                        obj(json_pack("{s:o,s:o}", "expires",
                                      described(duration_schema(0, 86400),
                                                "session interval (default 1800s; 0: no session timer)"),
                                      "min_se",
                                      described(duration_schema(10, 86400),
                                                "the shortest interval accepted (default 90s, as RFC 4028 asks)")),
                            "SIP session timers (RFC 4028): calls are refreshed by re-INVITE or UPDATE, and "
                            "ended (hangup by system, cause session_timer) when the refresh does not come"));
    json_object_set_new(
        json_object_get(sip, "properties"), "tls",
        described(json_pack("{s:s,s:[s,s],s:o,s:b}", "type", "object", "required", "cert", "key", "properties",
                            json_pack("{s:o,s:o,s:o,s:{s:s,s:s},s:{s:s,s:s},s:{s:[s,s],s:s}}", "cert",
                                      str_desc("PEM certificate (chain) the tls: listener presents, relative "
                                               "to the file"),
                                      "key", str_desc("its PEM private key (unencrypted)"), "ca",
                                      str_desc("PEM CAs that gateways' (and, with verify_peer, phones') "
                                               "certificates must chain to (default: the system's, "
                                               "/etc/ssl/certs/ca-certificates.crt)"),
                                      "verify_peer", "type", "boolean", "description",
                                      "phones must present a certificate from ca (mutual TLS; default false)",
                                      "verify_server", "type", "boolean", "description",
                                      "gateways' certificates are verified and must name the address dialled "
                                      "(default true)",
                                      "min_version", "enum", "1.2", "1.3", "description",
                                      "lowest TLS version accepted, toward phones and gateways alike "
                                      "(default 1.2; 1.3 is used when both sides have it)"),
                            "additionalProperties", 0),
                  "SIP over TLS: the certificate of tls: listeners and how peers are checked; SIGHUP "
                  "reloads changed files for new connections (a bad pair keeps the old one)"));
    json_t *media = obj(json_pack("{s:o,s:o,s:o}", "sounds",
                                  str_desc("directory prompts are read from, relative names below it (default: sounds)"),
                                  "recordings",
                                  str_desc("directory recordings are written to and attachments read from "
                                           "(default: recordings)"),
                                  "rtp_ports",
                                  json_pack("{s:s,s:s,s:s}", "type", "string", "pattern", "^[0-9]+-[0-9]+$",
                                            "description", "RTP port range (default 10000-20000)")),
                        "media");
    json_object_set_new(json_object_get(media, "properties"), "address",
                        json_pack("{s:s,s:s,s:s}", "type", "string", "pattern", "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$",
                                  "description",
                                  "IPv4 address RTP binds and SDP announces (default: the SIP listen address)"));
    json_object_set_new(json_object_get(media, "properties"), "srtp",
                        json_pack("{s:[s,s,s],s:s,s:s}", "enum", "off", "optional", "required", "default", "off",
                                  "description",
                                  "SRTP (SDES, RFC 4568) on legs: off: plain RTP, an RTP/SAVP-only offer gets 488; "
                                  "optional: crypto when the peer offers it, offered beside plain RTP; required: an "
                                  "offer without crypto gets 488. A user's or gateway's srtp overrides it"));
    json_object_set_new(json_object_get(media, "properties"), "rtp_timeout",
                        described(duration_schema(0, 86400),
                                  "hang up a call whose RTP stops for this long (not on hold; default 60s; 0: off)"));
    json_object_set_new(json_object_get(media, "properties"), "hold_music",
                        str_desc("a prompt below sounds played to a party put on hold, and to callers waiting in a "
                                 "queue without music of its own (default: none; a route's hold_music overrides it)"));
    json_object_set_new(json_object_get(media, "properties"), "mode",
                        json_pack("{s:[s,s],s:s,s:s}", "enum", "anchor", "bypass", "default", "anchor", "description",
                                  "the default of every route's `media` (a route's own overrides it): anchor relays "
                                  "the RTP; bypass passes the SDP through and relays none"));
    json_object_set_new(json_object_get(media, "properties"), "rtp_io",
                        json_pack("{s:[s,s,s],s:s,s:s}", "enum", "auto", "epoll", "io_uring", "default", "auto",
                                  "description",
                                  "how RTP sockets are held (read at start): io_uring: in io_uring's fixed-file "
                                  "tables, past the open-files limit, fewer system calls a packet (Linux 6.1+); "
                                  "epoll: as descriptors, which the open-files limit bounds; auto: io_uring where "
                                  "the kernel allows it, else epoll"));
    json_object_set_new(json_object_get(media, "properties"), "tts_language",
                        json_pack("{s:s,s:s,s:s}", "type", "string", "pattern", "^[A-Za-z0-9_-]{1,40}$", "description",
                                  "espeak-ng language of spoken text (default en-us)"));
    json_object_set_new(json_object_get(media, "properties"), "tts_voice",
                        json_pack("{s:s,s:s,s:s}", "type", "string", "pattern", "^[A-Za-z0-9_-]{0,40}$", "description",
                                  "espeak-ng voice variant (default: the language's own)"));
    json_object_set_new(json_object_get(media, "properties"), "tts_cache",
                        json_pack("{s:[{s:s,s:i,s:i},{s:s,s:s}],s:s}", "anyOf", "type", "integer", "minimum", 0,
                                  "maximum", 4096, "type", "string", "pattern", "^[0-9]+(MB)?$", "description",
                                  "megabytes of synthesised speech kept (default 32)"));
    json_t *smtp = obj(json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "url",
                                 json_pack("{s:s,s:s,s:s}", "type", "string", "pattern", "^smtps?://", "description",
                                           "mail server (default smtp://127.0.0.1:25)"),
                                 "from", str_desc("sender address (default callroute@localhost)"), "outbox",
                                 str_desc("the outbox: mail and durable jobs wait here (default var/outbox)"), "username",
                                 str_desc("SMTP auth user"), "password", str_desc("SMTP auth password"), "starttls",
                                 json_pack("{s:s,s:s}", "type", "boolean", "description", "require STARTTLS")),
                       "outgoing e-mail");
    json_t *dbs = json_pack("{s:s,s:s,s:{s:s,s:s}}", "type", "object", "description",
                            "name: \"sqlite:PATH\" (relative to this file) or \"postgresql://...\"",
                            "additionalProperties", "type", "string", "pattern", "^(sqlite:.+|postgres(ql)?://.*)$");
    json_t *limits = obj(
        json_pack("{s:{s:s,s:i,s:s},s:{s:s,s:i,s:i,s:s},s:o,s:{s:s,s:i,s:s},s:{s:s,s:i,s:s},s:o,s:o}", "steps_per_second",
                  "type", "number", "exclusiveMinimum", 0, "description", "actions per second per call (default 10000)",
                  "max_streams", "type", "integer", "minimum", 1, "maximum", 10000, "description",
                  "strands per call (default 16)", "hangup_grace",
                  described(duration_schema(0, 3600), "time hangup handlers get (default 30s)"), "max_calls", "type",
                  "integer", "minimum", 0, "description",
                  "concurrent calls, 0 = unlimited (default: half the sessions settings.media.rtp_ports holds)",
                  "calls_per_second", "type", "number", "minimum", 0, "description",
                  "new calls per second, 0 = unlimited (default)", "max_call_duration",
                  described(duration_schema(0, 168 * 3600),
                            "a call still up after this is hung up by system, cause max_time (default 4h; 0: never)"),
                  "drain_timeout",
                  described(duration_schema(0, 86400),
                            "on SIGTERM, how long live calls may go on before they are ended (default 0s)")),
        "protection against runaway scripts and overload");
    json_t *admin = obj(json_pack("{s:o,s:o,s:o,s:o,s:o}", "listen", str_desc("HOST:PORT of the admin API (default 127.0.0.1:8080)"),
                                  "token_file",
                                  str_desc("file holding the bearer token changes need (readable only by its owner)"),
                                  "token_env", str_desc("or: the environment variable holding it"),
                                  "revisions",
                                  str_desc("directory keeping the sources of the last 20 revisions serve loaded "
                                           "(default .callroute-revisions next to the file)"),
                                  "editor",
                                  json_pack("{s:s,s:b,s:s}", "type", "boolean", "default", 1, "description",
                                            "serve the visual editor at GET /editor/ (default true)")),
                        "admin API");
    json_t *cdr = obj(json_pack("{s:o,s:o}", "database",
                                json_pack("{s:s,s:s,s:s}", "type", "string", "pattern", "^(sqlite:.+|postgres(ql)?://.*|off)$",
                                          "description", "the store: sqlite:PATH (default sqlite:var/cdr.db), postgresql://..., or off"),
                                "spool", str_desc("local spool file (default var/cdr-spool.db)")),
                      "call detail records");
    json_t *cluster = obj(
        json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:s,s:s},s:{s:s,s:s,s:s}}", "node", "type", "string", "pattern",
                  "^[A-Za-z0-9_.+-]{1,64}$", "description",
                  "this node's name (call records, GET /cluster); default: serve --node, else the host name",
                  "database", "type", "string", "pattern", "^postgres(ql)?://", "description",
                  "PostgreSQL every node shares: revisions (LISTEN/NOTIFY) and the nodes' state; required",
                  "proxy", "type", "string", "pattern", "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+:[0-9]+$", "description",
                  "the SIP front end (Kamailio), IPV4:PORT: its requests carry the caller's address "
                  "(X-Callroute-Source), it is exempt from sip.flood, users are called through it"),
        "one node of several behind Kamailio (docs/cluster.md); read at start");
    json_object_set_new(cluster, "required", json_pack("[s]", "database"));
    json_t *park = obj(json_pack("{s:{s:s,s:s,s:s},s:o}", "slots", "type", "string", "pattern", "^[0-9]+-[0-9]+$",
                                 "description", "the slots `park` takes the first free of (default 701-720)", "music",
                                 str_desc("a prompt played over and over to parked calls (below settings.media.sounds)")),
                       "parked calls");
    json_t *join = obj(json_pack("{s:o}", "group",
                                 str_desc("the group whose users may listen, whisper and barge (default supervisors)")),
                       "joining live calls");
    json_t *set = obj(json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "sip", sip, "media", media, "smtp", smtp,
                                "databases", dbs, "limits", limits, "admin", admin, "cdr", cdr, "cluster", cluster),
                      "process-wide settings (top file only); every key is optional");
    json_object_set_new(json_object_get(set, "properties"), "park", park);
    json_object_set_new(json_object_get(set, "properties"), "join", join);
    return set;
}

static json_t *conference_schema(void)
{
    json_t *pin = json_pack("{s:[s,s],s:s}", "type", "string", "integer", "pattern", "^[0-9]{1,16}$");
    json_t *key = json_pack("{s:s,s:s}", "type", "string", "pattern", "^[0-9*#A-D]{0,4}$");
    json_t *props = json_pack(
        "{s:o,s:o,s:{s:s,s:i,s:i,s:i,s:s},s:o,s:{s:[{s:s},{s:[s,s]}],s:s},s:o,s:o,s:{}}", "pin",
        described(pin, "the PIN members enter (DTMF, then #)"), "moderator_pin",
        described(json_deep_copy(pin), "the PIN that makes a moderator"), "max_members", "type", "integer",
        "minimum", 2, "maximum", 1000, "default", SCN_CONFERENCE_MAX_MEMBERS, "description",
        "members at most (a moderator still gets in)", "music_when_alone",
        str_desc("a prompt played to a member alone in the room (below settings.media.sounds)"), "announce_join",
        "anyOf", "type", "boolean", "enum", "tone", "name", "description",
        "the others hear a member join and leave: true or tone (a beep), name (its name spoken)", "mute_key",
        described(key, "DTMF that mutes/unmutes the member (default *6; \"\": off)"), "leave_key",
        described(json_deep_copy(key), "DTMF that leaves the room (default *#; \"\": off)"), "comment");
    return json_pack("{s:[s,s],s:o,s:b}", "type", "object", "null", "properties", props, "additionalProperties", 0);
}

static json_t *route_schema(void)
{
    json_t *props = json_pack(
        "{s:o,s:{s:o,s:s,s:s},s:{s:s,s:i,s:i,s:i,s:s},s:{s:[s,s],s:s,s:s},s:{s:[s,s],s:o,s:s},s:o,s:o,s:{s:s,s:b},"
        "s:{}}",
        "name", str_desc("unique route name"), "type", "enum", str_array(scn_route_type_names), "default",
        "from_gateway", "description", "which calls it matches", "priority", "type", "integer", "minimum", 0,
        "maximum", 99, "default", 50, "description", "higher wins; ties go to the earlier route", "match", "enum",
        "all", "any", "default", "all", "description", "all conditions, or any", "conditions", "type", "array",
        "null", "items", REF("condition"), "description", "empty or absent: always matches", "script",
        json_pack("{s:[o],s:s}", "allOf", REF("actions"), "description", "the actions to run"), "scenario",
        str_desc("or: the name of a scenario to run"), "enabled", "type", "boolean", "default", 1, "comment");
    json_object_set_new(props, "hold_music",
                        str_desc("this route's calls play this prompt (below settings.media.sounds) to a party put on "
                                 "hold instead of settings.media.hold_music; \"off\": none"));
    json_object_set_new(props, "media",
                        json_pack("{s:[s,s],s:s,s:s}", "enum", "anchor", "bypass", "default", "anchor", "description",
                                  "anchor: callroute relays the RTP (prompts, DTMF, recording work); bypass: the SDP "
                                  "passes between the caller and the legs it dials and the RTP goes from phone to "
                                  "phone (no application that needs media in the route's script)"));
    return json_pack("{s:s,s:s,s:o,s:[s],s:[{s:[s]},{s:[s]}],s:b}", "description", "a route", "type", "object",
                     "properties", props, "required", "name", "oneOf", "required", "script", "required", "scenario",
                     "additionalProperties", 0);
}

static json_t *build_schema(void)
{
    json_t *defs = json_object();
    json_object_set_new(defs, "actions", json_pack("{s:[s,s],s:o}", "type", "array", "null", "items", REF("action")));
    json_object_set_new(defs, "condition", condition_defs());
    json_object_set_new(defs, "action", action_def(defs));
    json_t *user = json_pack("{s:[s,s],s:{s:o,s:o,s:o,s:o},s:b}", "type", "object", "null", "properties", "name",
                             str_desc("display name"), "password", str_desc("SIP digest password"), "email",
                             str_desc("e-mail address"), "mobile", str_desc("mobile number"), "additionalProperties", 0);
    json_object_set_new(
        json_object_get(user, "properties"), "voicemail",
        obj(json_pack("{s:{s:s,s:s,s:s},s:o,s:{s:s,s:b,s:s}}", "pin", "type", "string", "pattern", "^[0-9]{1,16}$",
                      "description", "digits the owner enters in voicemail_main (quote it)", "email",
                      str_desc("where messages are mailed (default: the user's email)"), "unsolicited", "type",
                      "boolean", "default", 0, "description",
                      "message-waiting NOTIFY to its registered phones that did not subscribe too"),
            "the user's voicemail box (voicemail, voicemail_main)"));
    json_object_set_new(json_object_get(json_object_get(user, "properties"), "voicemail"), "required",
                        json_pack("[s]", "pin"));
    json_t *queue = obj(
        json_pack("{s:{s:s,s:i,s:{s:s},s:s},s:{s:o,s:s,s:s},s:o,s:o,s:o,s:o,s:o,s:o,s:{s:s,s:s,s:s},s:{s:s,s:i,s:s},s:o}",
                  "agents", "type", "array", "minItems", 1, "items", "type", "string", "description",
                  "user numbers, or \"group:NAME\" for a group's members", "strategy", "enum",
                  str_array(scn_group_strategy_names), "default", "ring-all", "description",
                  "how agents are offered a call, as groups are rung", "ring_timeout",
                  described(duration_schema(1, 600), "how long an agent is offered a call before it is skipped "
                                                     "for that caller (default 15s)"),
                  "wrapup", described(duration_schema(0, 3600), "an agent rests this long after a call (default 0)"),
                  "max_wait", described(duration_schema(0, 86400), "then the caller leaves: on: timeout (default: no limit)"),
                  "music", str_desc("a prompt below settings.media.sounds played in a loop while the caller waits "
                                    "(default: the hold music, else ringback)"),
                  "announce_position",
                  described(duration_schema(0, 3600), "announce the caller's position and estimated wait this often "
                                                      "(0 or absent: never; at least 5s)"),
                  "announce_text",
                  str_desc("what is announced (a template; {position}, {wait_minutes}); default: the built-in text"),
                  "exit_digit", "type", "string", "pattern", "^[0-9*#]$", "description",
                  "a DTMF digit that lets the caller leave: on: exit", "max_waiting", "type", "integer", "minimum", 0,
                  "description", "callers that may wait at once (0: no limit): on: full", "sla",
                  described(duration_schema(1, 3600), "service level: answered within this long (default 20s)")),
        "a queue: agents, how they are offered calls, what the caller hears while waiting");
    json_object_set_new(queue, "required", json_pack("[s]", "agents"));
    json_t *group = json_pack("{s:s,s:[s],s:{s:{s:s,s:i,s:{s:[s,s]},s:s},s:{s:o,s:s,s:s}},s:b}", "type", "object",
                              "required", "members", "properties", "members", "type", "array", "minItems", 1, "items",
                              "type", "string", "number", "description", "user numbers", "strategy", "enum",
                              str_array(scn_group_strategy_names), "default", "ring-all", "description",
                              "how the members are rung", "additionalProperties", 0);
    json_t *gw = json_pack("{s:s,s:[s],s:{s:{s:s,s:s,s:s},s:{s:s,s:[s],s:{s:o,s:o},s:b},s:{s:s,s:b},s:{s:s,s:b,s:s}},"
                           "s:b}",
                           "type", "object", "required", "uri", "properties", "uri", "type", "string", "pattern",
                           "^sips?:.+", "description", "the trunk, e.g. sip:198.51.100.7:5060", "auth", "type", "object",
                           "required", "username", "properties", "username", str_desc("digest user"), "password",
                           str_desc("digest password"), "additionalProperties", 0, "register", "type", "boolean",
                           "default", 0, "accept_any_source", "type", "boolean", "default", 0, "description",
                           "calls from any address count as this gateway", "additionalProperties", 0);
    json_object_set_new(json_object_get(gw, "properties"), "number_pattern",
                        json_pack("{s:s,s:s,s:s}", "type", "string", "default", SCN_GATEWAY_NUMBER_PATTERN,
                                  "description", "regex the whole dialled number must match to be sent"));
    json_object_set_new(json_object_get(gw, "properties"), "match",
                        json_pack("{s:[s,s],s:s,s:s}", "enum", "address", "ip", "default", "address", "description",
                                  "calls from its IP and port (address) or any port of its IP (ip)"));
    json_object_set_new(json_object_get(gw, "properties"), "trust_identity",
                        json_pack("{s:s,s:b,s:s}", "type", "boolean", "default", 0, "description",
                                  "its P-Asserted-Identity names the caller"));
    json_object_set_new(json_object_get(gw, "properties"), "symmetric_rtp",
                        json_pack("{s:s,s:b,s:s}", "type", "boolean", "default", 0, "description",
                                  "behind NAT: RTP goes where its first packets come from"));
    json_object_set_new(json_object_get(gw, "properties"), "srtp",
                        json_pack("{s:[s,s,s],s:s}", "enum", "off", "optional", "required", "description",
                                  "SRTP toward this gateway, instead of settings.media.srtp"));
    json_object_set_new(json_object_get(gw, "properties"), "transport",
                        json_pack("{s:[s,s,s],s:s}", "enum", "udp", "tcp", "tls", "description",
                                  "how it is reached (added to uri as ;transport=); tls: its certificate is "
                                  "verified against settings.sip.tls.ca. A sips: uri means tls too"));
    json_object_set_new(json_object_get(user, "properties"), "srtp",
                        json_pack("{s:[s,s,s],s:s}", "enum", "off", "optional", "required", "description",
                                  "SRTP with this user's phones, instead of settings.media.srtp"));
    json_object_set_new(json_object_get(user, "properties"), "symmetric_rtp",
                        json_pack("{s:s,s:b,s:s}", "type", "boolean", "default", 0, "description",
                                  "behind NAT: RTP goes where its first packets come from"));
    json_t *scen = json_pack("{s:s,s:[s],s:{s:{s:s,s:{s:s},s:s},s:o,s:{}},s:b}", "type", "object", "required", "script",
                             "properties", "args", "type", "array", "items", "type", "string", "description",
                             "argument names, set as variables when called", "script", REF("actions"), "comment",
                             "additionalProperties", 0);
    json_t *props = json_pack(
        "{s:{s:i,s:s},s:o,s:o,s:{s:s,s:o,s:s},s:{s:s,s:o,s:s},s:{s:s,s:o,s:s},s:{s:s,s:o,s:s},s:{s:s,s:o,s:s},"
        "s:{s:s,s:o,s:s}}",
        "version", "const", 1, "description", "the language version: 1", "include",
        described(one_or_list(json_pack("{s:s}", "type", "string")), "files (globs) merged into this one"),
        "settings", settings_schema(), "users", "type", "object", "additionalProperties", user, "description",
        "internal extensions: number -> {name, password, email, mobile, voicemail}", "groups", "type", "object",
        "additionalProperties", group, "description", "groups of users to dial together", "queues", "type", "object",
        "additionalProperties", queue, "description", "queues (ACD): name -> {agents, strategy, ...}", "gateways", "type",
        "object", "additionalProperties", gw, "description", "outbound trunks", "scenarios", "type", "object",
        "additionalProperties", scen, "description", "named scripts with arguments (app: scenario)", "routes",
        "type", "array", "items", route_schema(), "description", "routes, matched by type, conditions and priority");
    json_object_set_new(props, "conferences",
                        json_pack("{s:s,s:o,s:{s:s},s:s}", "type", "object", "additionalProperties",
                                  conference_schema(), "propertyNames", "pattern", "^[A-Za-z0-9_.-]{1,64}$",
                                  "description", "conference rooms: name -> {pin, moderator_pin, max_members, ...}"));
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:o}", "$schema", "http://json-schema.org/draft-07/schema#", "title",
                     "callroute scenario file (version 1)", "description",
                     "Generated by `callroute schema` from the application tables; see docs/scenario.md.", "type",
                     "object", "properties", props, "additionalProperties", 0, "definitions", defs);
}

/* ---- markdown -------------------------------------------------------------- */

static void md_type(const scn_param *p, char *buf, size_t size)
{
    size_t len = 0;
    switch (p->type) {
    case P_ENUM:
        len = (size_t)snprintf(buf, size, "one of");
        for (const char *const *c = p->choices; *c && len < size; c++)
            len += (size_t)snprintf(buf + len, size - len, "%s `%s`", c == p->choices ? "" : ",", *c);
        return;
    case P_INT:
    case P_NUMBER:
    case P_DURATION:
        if (p->min != 0 || p->max != 0) {
            snprintf(buf, size, "%s, %.10g to %.10g%s", scn_param_type_names[p->type], p->min, p->max,
                     p->type == P_DURATION ? " s" : "");
            return;
        }
        break;
    case P_TEMPLATES:
        snprintf(buf, size, "template or list");
        return;
    case P_GATEWAYS:
        snprintf(buf, size, "gateway name or list");
        return;
    case P_DATABASE:
        snprintf(buf, size, "database name");
        return;
    case P_SCENARIO:
        snprintf(buf, size, "scenario name");
        return;
    case P_EVENTS:
        snprintf(buf, size, "call event or list");
        return;
    case P_HANDLERS:
        snprintf(buf, size, "dial event: actions");
        return;
    case P_CASES:
        if (p->choices) {
            len = (size_t)snprintf(buf, size, "outcome:");
            for (const char *const *c = p->choices; *c && len < size; c++)
                len += (size_t)snprintf(buf + len, size - len, "%s `%s`", c == p->choices ? "" : ",", *c);
            snprintf(buf + len, len < size ? size - len : 0, " → actions");
            return;
        }
        snprintf(buf, size, "value: actions");
        return;
    default:
        break;
    }
    snprintf(buf, size, "%s", scn_param_type_names[p->type]);
}

/* "yes", "one of `vars`, `var`" (exactly one), "not with `json`" (at most one). */
static void md_required(const app_def *a, const scn_param *p, char *buf, size_t size)
{
    unsigned group = p->flags & (P_EXACTLY_ONE | P_AT_MOST_ONE);
    size_t len = 0;
    buf[0] = 0;
    if (p->flags & P_REQ) {
        snprintf(buf, size, "yes");
        return;
    }
    if (!group)
        return;
    len = (size_t)snprintf(buf, size, "%s", group == P_EXACTLY_ONE ? "one of" : "not with");
    bool first = true;
    for (const scn_param *q = a->params; q->name && len < size; q++) {
        if (!(q->flags & group) || (group == P_AT_MOST_ONE && q == p))
            continue;
        len += (size_t)snprintf(buf + len, size - len, "%s `%s`", first ? "" : ",", q->name);
        first = false;
    }
}

static void print_markdown(FILE *out)
{
    for (size_t t = 0; app_registry[t]; t++)
        for (const app_def *a = app_registry[t]; a->name; a++) {
            fprintf(out, "<!-- params:%s -->\n", a->name);
            if (!a->params[0].name) {
                fputs("No parameters.\n", out);
            } else {
                fputs("| parameter | type | required | default | meaning |\n| --- | --- | --- | --- | --- |\n", out);
                for (const scn_param *p = a->params; p->name; p++) {
                    char type[256], req[256];
                    md_type(p, type, sizeof type);
                    md_required(a, p, req, sizeof req);
                    fprintf(out, "| `%s` | %s | %s | %s%s%s | %s |\n", p->name, type, req, p->def ? "`" : "",
                            p->def ? p->def : "", p->def ? "`" : "", p->doc ? p->doc : "");
                }
            }
            if ((a->flags & APP_WAITS) && !app_has_param(a, "timeout"))
                fprintf(out, "\nIt waits, so it takes the common `timeout:`%s.\n",
                        a->default_timeout > 0 ? "" : " (none by default)");
            if (a->default_timeout > 0)
                fprintf(out, "Default timeout: %g s.\n", a->default_timeout);
            fprintf(out, "<!-- /params:%s -->\n", a->name);
        }
    fputs("<!-- events -->\n| event | in `event.on` | in `dial.on` |\n| --- | --- | --- |\n", out);
    for (int e = 0; scn_event_names[e]; e++)
        fprintf(out, "| `%s` | %s | %s |\n", scn_event_names[e], scn_event_is_call(e) ? "yes" : "",
                scn_event_is_dial(e) ? "yes" : "");
    fputs("<!-- /events -->\n", out);
    fputs("<!-- ops -->\n| op | holds when the variable ... | value |\n| --- | --- | --- |\n", out);
    for (int i = 0; scn_cond_op_names[i]; i++)
        fprintf(out, "| `%s` | %s | %s |\n", scn_cond_op_names[i], scn_cond_op_docs[i], scn_cond_op_values[i]);
    fputs("<!-- /ops -->\n", out);
}

int cli_schema(int argc, char **argv)
{
    bool markdown = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--markdown") == 0) {
            markdown = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            puts("usage: callroute schema [--markdown]\n\n"
                 "Prints the JSON Schema (draft-07) of scenario files, generated from the\n"
                 "application tables; docs/callroute.schema.json is its output. Point your\n"
                 "editor's YAML/JSON support at it for completion and checking.\n\n"
                 "  --markdown  print the parameter and event tables of docs/scenario.md instead");
            return CLI_OK;
        } else {
            fprintf(stderr, "callroute schema: unknown argument '%s' (try --help)\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (markdown) {
        print_markdown(stdout);
        return CLI_OK;
    }
    json_t *s = build_schema();
    char *text = json_dumps(s, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(s);
    if (!text)
        return CLI_INVALID;
    puts(text);
    free(text);
    return CLI_OK;
}
