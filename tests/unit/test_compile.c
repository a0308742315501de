/* test_compile.c — the compiler: durations, every section with its
 * defaults, the generic parameter compiler (driven by a probe application
 * that uses every parameter type, and by the real registry), check hooks,
 * diagnostics with positions and paths, warnings, and the program's life
 * (never half-loaded, references, release hooks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apps/registry.h"
#include "scenario/compile.h"
#include "scenario/diag.h"
#include "scenario/events.h"
#include "scenario/program.h"

/* ---- harness ---- */

static scn_diags diags;

static scn_program *load_with(const app_table *registry, const char *yaml)
{
    scn_diags_free(&diags);
    scn_diags_init(&diags);
    return scn_program_load_buffer("t.yaml", yaml, strlen(yaml), registry, &diags);
}

static scn_program *load(const char *yaml) { return load_with(app_registry, yaml); }

/* The diagnostics as printed, for assertions and for failure messages. */
static const char *printed(void)
{
    static char buf[65536];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    scn_diags_print(&diags, f);
    fclose(f);
    return buf;
}

static void expect_diag(const char *line_prefix, const char *substring)
{
    const char *out = printed();
    for (const char *l = out; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        size_t len = strcspn(l, "\n");
        char one[1024];
        snprintf(one, sizeof one, "%.*s", (int)len, l);
        if (strncmp(one, line_prefix, strlen(line_prefix)) == 0 && strstr(one, substring))
            return;
    }
    fprintf(stderr, "diagnostics:\n%s", out);
    fail_msg("no diagnostic '%s ... %s'", line_prefix, substring);
}

static void teardown_all(void) { scn_diags_free(&diags); }

/* A parameter of a compiled action, found through the app's own table. */
static const void *param(const scn_action *a, const char *name)
{
    for (const scn_param *p = a->app->params; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return (const char *)a->params + p->offset;
    fail_msg("no parameter %s in %s", name, a->app->name);
    return NULL;
}

static const char *tpl(const scn_template *t) { return t ? scn_template_source(t) : "(null)"; }

/* ---- a probe application with every parameter type ---- */

typedef struct probe_params {
    const char *str;
    const scn_template *tpl;
    const scn_expr *expr;
    double dur, num;
    long i;
    bool b;
    int e;
    scn_actions acts;
    const scn_cond *cond;
    scn_templates tpls;
    scn_template_map tmap;
    scn_string_map smap;
    scn_cases cases;
    unsigned events;
    scn_handlers handlers;
    const scn_jval *json;
    scn_refs gws;
    const scn_database *db;
    const scn_named_scenario *scen;
    const char *x, *y;       /* EXACTLY_ONE */
    const char *p, *q;       /* AT_MOST_ONE */
} probe_params;

static const char *const colours[] = {"red", "green", "blue", NULL};
static int check_calls;

static bool probe_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    probe_params *pp = params;
    check_calls++;
    if (pp->i == 13) {
        scn_cx_error(cx, scn_map_get(action, "i"), "13 is unlucky");
        return false;
    }
    return true;
}

#define F(field) offsetof(probe_params, field)
static const scn_param probe_spec[] = {
    {.name = "str", .type = P_STRING, .offset = F(str), .def = "dflt"},
    {.name = "tpl", .type = P_TEMPLATE, .offset = F(tpl)},
    {.name = "expr", .type = P_EXPR, .offset = F(expr)},
    {.name = "dur", .type = P_DURATION, .offset = F(dur), .min = 0, .max = 600, .def = "1m30s"},
    {.name = "num", .type = P_NUMBER, .offset = F(num), .min = -1, .max = 1},
    {.name = "i", .type = P_INT, .offset = F(i), .min = 1, .max = 20, .def = "7"},
    {.name = "b", .type = P_BOOL, .offset = F(b), .def = "true"},
    {.name = "e", .type = P_ENUM, .offset = F(e), .choices = colours, .def = "green"},
    {.name = "acts", .type = P_ACTIONS, .offset = F(acts)},
    {.name = "cond", .type = P_CONDITION, .offset = F(cond)},
    {.name = "tpls", .type = P_TEMPLATES, .offset = F(tpls), .flags = P_NONEMPTY},
    {.name = "tmap", .type = P_TEMPLATE_MAP, .offset = F(tmap)},
    {.name = "smap", .type = P_STRING_MAP, .offset = F(smap)},
    {.name = "cases", .type = P_CASES, .offset = F(cases)},
    {.name = "events", .type = P_EVENTS, .offset = F(events)},
    {.name = "handlers", .type = P_HANDLERS, .offset = F(handlers)},
    {.name = "json", .type = P_JSON, .offset = F(json)},
    {.name = "gws", .type = P_GATEWAYS, .offset = F(gws)},
    {.name = "db", .type = P_DATABASE, .offset = F(db)},
    {.name = "scen", .type = P_SCENARIO, .offset = F(scen)},
    {.name = "x", .type = P_STRING, .offset = F(x), .flags = P_EXACTLY_ONE},
    {.name = "y", .type = P_STRING, .offset = F(y), .flags = P_EXACTLY_ONE},
    {.name = "p", .type = P_STRING, .offset = F(p), .flags = P_AT_MOST_ONE},
    {.name = "q", .type = P_STRING, .offset = F(q), .flags = P_AT_MOST_ONE},
    {.name = "req", .type = P_STRING, .offset = F(str), .flags = P_REQ, .doc = "always"},
    SCN_PARAM_END,
};
#undef F

static const app_def probe_table[] = {
    {.name = "probe", .family = "test", .summary = "probe", .params = probe_spec,
     .params_size = sizeof(probe_params), .flags = APP_WAITS, .default_timeout = 4, .check = probe_check},
    {.name = "noop", .family = "test", .summary = "no params", .params = (const scn_param[]){SCN_PARAM_END}},
    {.name = "noise", .family = "test", .summary = "media", .params = (const scn_param[]){SCN_PARAM_END},
     .flags = APP_MEDIA},
    APP_END,
};
static const app_table probe_registry[] = {probe_table, NULL};

static const char probe_head[] =
    "version: 1\n"
    "settings: { databases: { crm: \"sqlite:crm.db\" } }\n"
    "gateways: { gw1: { uri: \"sip:a\" }, gw2: { uri: \"sip:b\" } }\n"
    "scenarios: { sc: { args: [a], script: [ { app: noop } ] } }\n"
    "routes:\n"
    "  - name: r\n"
    "    script:\n";

static scn_program *load_probe(const char *actions)
{
    static char buf[8192];
    snprintf(buf, sizeof buf, "%s%s", probe_head, actions);
    return load_with(probe_registry, buf);
}

/* ---- durations ---- */

static void test_durations(void **state)
{
    (void)state;
    static const struct { const char *s; double v; } ok[] = {
        {"30", 30}, {"2.5", 2.5}, {"500ms", 0.5}, {"1m", 60}, {"1h", 3600}, {"1m30s", 90},
        {"1h2m3s400ms", 3723.4}, {" 10s ", 10}, {"0", 0}, {"1.5s", 1.5}, {"2h30m", 9000},
    };
    static const char *const bad[] = {"", "s", "1x", "-1", "30s1m", "1m1m", "1m30", "1 m", "abc", "1..5s", "ms5"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double d = -1;
        assert_true(scn_parse_duration(ok[i].s, strlen(ok[i].s), &d));
        assert_true(d > ok[i].v - 1e-9 && d < ok[i].v + 1e-9);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double d;
        if (scn_parse_duration(bad[i], strlen(bad[i]), &d))
            fail_msg("'%s' parsed as %g", bad[i], d);
    }
}

/* ---- sections ---- */

static void test_defaults(void **state)
{
    (void)state;
    scn_program *p = load("version: 1\nroutes: [ { name: r, script: [ { app: answer } ] } ]\n");
    assert_non_null(p);
    const scn_settings *s = &p->settings;
    assert_int_equal(s->sip_listen_count, 1);
    assert_string_equal(s->sip_listen[0], "udp:0.0.0.0:5060");
    assert_string_equal(s->sounds, "sounds");
    assert_string_equal(s->recordings, "recordings");
    assert_int_equal(s->rtp_port_min, 10000);
    assert_int_equal(s->rtp_port_max, 20000);
    assert_string_equal(s->smtp_url, "smtp://127.0.0.1:25");
    assert_string_equal(s->smtp_from, "callroute@localhost");
    assert_string_equal(s->smtp_outbox, "var/outbox");
    assert_null(s->smtp_user);
    assert_false(s->smtp_starttls);
    assert_true(s->steps_per_second == 10000);
    assert_int_equal(s->max_streams, 16);
    assert_true(s->hangup_grace == 30);
    assert_int_equal(s->max_calls, -1);   /* derived from the RTP port range */
    assert_true(s->calls_per_second == 0);
    assert_null(s->media_address);
    assert_true(s->rtp_timeout == 60);
    assert_string_equal(s->admin_listen, "127.0.0.1:8080");
    const scn_route *r = &p->routes[0];
    assert_int_equal(r->type, SCN_ROUTE_FROM_GATEWAY);
    assert_int_equal(r->priority, 50);
    assert_true(r->enabled);
    assert_null(r->cond);
    assert_false(r->media_bypass);
    assert_false(s->media_bypass);
    assert_int_equal(diags.count, 0);
    scn_program_unref(p);
}

/* media: bypass on a route, or settings.media.mode: bypass as every
 * route's default that a route's `media: anchor` overrides; a message
 * route never bypasses (it has no media). */
static void test_media_bypass(void **state)
{
    (void)state;
    scn_program *p = load("version: 1\n"
                          "routes:\n"
                          "  - { name: a, media: bypass, script: [ { app: hangup } ] }\n"
                          "  - { name: b, type: from_user, script: [ { app: hangup } ] }\n");
    assert_non_null(p);
    assert_true(p->routes[0].media_bypass);
    assert_false(p->routes[1].media_bypass);
    scn_program_unref(p);
    p = load("version: 1\n"
             "settings: { media: { mode: bypass } }\n"
             "routes:\n"
             "  - { name: a, script: [ { app: hangup } ] }\n"
             "  - { name: b, type: from_user, media: anchor, script: [ { app: answer }, { app: tone, tone: beep } ] }\n"
             "  - { name: m, type: message, script: [ { app: log, message: hi } ] }\n");
    assert_non_null(p);
    assert_true(p->settings.media_bypass);
    assert_true(p->routes[0].media_bypass);
    assert_false(p->routes[1].media_bypass);
    assert_false(p->routes[2].media_bypass);
    assert_int_equal(diags.errors, 0);
    scn_program_unref(p);
}

static void test_sections(void **state)
{
    (void)state;
    scn_program *p = load(
        "version: 1\n"
        "settings:\n"
        "  sip: { listen: [\"udp:127.0.0.1:5060\", \"tcp:[::1]:5061\"] }\n"
        "  media: { sounds: /srv/sounds, recordings: ./rec, rtp_ports: \"30000-30100\", address: 127.0.0.2, rtp_timeout: 0 }\n"
        "  smtp: { url: \"smtps://m:465\", from: a@b, outbox: ./out, username: u, password: pw, starttls: true }\n"
        "  databases: { crm: \"sqlite:./crm.db\", mem: \"sqlite::memory:\", pg: \"postgresql://x@h/db\" }\n"
        "  limits: { steps_per_second: 50, max_streams: 4, hangup_grace: 1m, max_calls: 9, calls_per_second: 2.5 }\n"
        "  admin: { listen: \"0.0.0.0:9000\" }\n"
        "users:\n"
        "  \"101\": { name: Alice, password: pw, email: a@x, mobile: \"+7916\", symmetric_rtp: true }\n"
        "  \"102\": ~\n"
        "groups:\n"
        "  sales: { members: [\"101\", \"102\"], strategy: round-robin }\n"
        "gateways:\n"
        "  trunk: { uri: \"sip:198.51.100.7\", auth: { username: acct, password: pw }, register: true }\n"
        "  open: { uri: \"sips:x\", accept_any_source: true, symmetric_rtp: true }\n"
        "scenarios:\n"
        "  vm: { args: [box, mail], script: [ { app: hangup } ] }\n"
        "routes:\n"
        "  - { name: a, type: to_user, priority: 0, enabled: false, scenario: vm }\n"
        "  - { name: b, type: from_user, priority: 99, match: any,\n"
        "      conditions: [ { var: called_number, op: equals, value: \"1\" } ], script: [ { app: answer } ] }\n");
    assert_non_null(p);
    const scn_settings *s = &p->settings;
    assert_int_equal(s->sip_listen_count, 2);
    assert_string_equal(s->sip_listen[1], "tcp:[::1]:5061");
    assert_string_equal(s->sounds, "/srv/sounds");
    assert_string_equal(s->recordings, "rec");
    assert_int_equal(s->rtp_port_min, 30000);
    assert_int_equal(s->rtp_port_max, 30100);
    assert_string_equal(s->media_address, "127.0.0.2");
    assert_true(s->rtp_timeout == 0);
    assert_string_equal(s->smtp_outbox, "out");
    assert_string_equal(s->smtp_user, "u");
    assert_true(s->smtp_starttls);
    assert_true(s->steps_per_second == 50);
    assert_int_equal(s->max_streams, 4);
    assert_true(s->hangup_grace == 60);
    assert_int_equal(s->max_calls, 9);
    assert_true(s->calls_per_second == 2.5);
    assert_string_equal(s->admin_listen, "0.0.0.0:9000");

    assert_int_equal(p->database_count, 3);
    const scn_database *d = scn_program_database(p, "crm");
    assert_int_equal(d->kind, CFG_DB_SQLITE);
    assert_string_equal(d->target, "crm.db");
    assert_string_equal(scn_program_database(p, "mem")->target, ":memory:");
    assert_int_equal(scn_program_database(p, "pg")->kind, CFG_DB_POSTGRESQL);
    assert_string_equal(scn_program_database(p, "pg")->target, "postgresql://x@h/db");

    assert_int_equal(p->user_count, 2);
    assert_string_equal(scn_program_user(p, "101")->mobile, "+7916");
    assert_string_equal(scn_program_user(p, "102")->name, "102");
    assert_true(scn_program_user(p, "101")->symmetric_rtp);
    assert_false(scn_program_user(p, "102")->symmetric_rtp);
    assert_null(scn_program_user(p, "103"));
    const scn_group *g = scn_program_group(p, "sales");
    assert_int_equal(g->member_count, 2);
    assert_int_equal(g->strategy, SCN_GROUP_ROUND_ROBIN);
    const scn_gateway *gw = scn_program_gateway(p, "trunk");
    assert_string_equal(gw->auth_user, "acct");
    assert_true(gw->register_);
    assert_false(gw->accept_any_source);
    assert_null(scn_program_gateway(p, "open")->auth_user);
    assert_true(scn_program_gateway(p, "open")->accept_any_source);
    assert_true(scn_program_gateway(p, "open")->symmetric_rtp);
    assert_false(gw->symmetric_rtp);

    const scn_named_scenario *vm = scn_program_scenario(p, "vm");
    assert_int_equal(vm->arg_count, 2);
    assert_string_equal(vm->args[1], "mail");
    assert_string_equal(vm->path, "scenarios.vm");
    const scn_route *a = scn_program_route(p, "a"), *b = scn_program_route(p, "b");
    assert_ptr_equal(a->scenario, vm);
    assert_int_equal(a->type, SCN_ROUTE_TO_USER);
    assert_false(a->enabled);
    assert_int_equal(b->order, 1);
    assert_int_equal(b->priority, 99);
    assert_non_null(b->cond);
    assert_string_equal(b->path, "routes[1]");
    assert_int_equal(p->action_count, 2);
    scn_program_unref(p);
}

static void test_relative_paths(void **state)
{
    (void)state;
    FILE *f = fopen("/tmp/cr-test-compile.yaml", "w");
    assert_non_null(f);
    fputs("version: 1\nsettings: { databases: { crm: \"sqlite:./crm.db\" }, smtp: { outbox: spool } }\n"
          "routes: [ { name: r, script: [ { app: answer } ] } ]\n", f);
    fclose(f);
    scn_diags_free(&diags);
    scn_diags_init(&diags);
    bool unreadable = true;
    scn_program *p = scn_program_load("/tmp/cr-test-compile.yaml", app_registry, &diags, &unreadable);
    assert_non_null(p);
    assert_false(unreadable);
    assert_string_equal(p->dir, "/tmp");
    assert_string_equal(scn_program_database(p, "crm")->target, "/tmp/crm.db");
    assert_string_equal(p->settings.smtp_outbox, "/tmp/spool");
    assert_string_equal(p->settings.sounds, "/tmp/sounds");
    assert_string_equal(p->settings.recordings, "/tmp/recordings");
    scn_program_unref(p);
    remove("/tmp/cr-test-compile.yaml");

    p = scn_program_load("/nonexistent/x.yaml", app_registry, &diags, &unreadable);
    assert_null(p);
    assert_true(unreadable);
}

static void test_section_errors(void **state)
{
    (void)state;
    assert_null(load("version: 1\n"
                     "settings:\n"
                     "  sip: { listen: \"udp:0.0.0.0\" }\n"
                     "  media: { rtp_ports: \"20000-10000\", address: 0.0.0.0, rtp_timeout: 0.5 }\n"
                     "  limits: { max_streams: 0 }\n"
                     "  admin: { lisen: x }\n"
                     "users: { \"a b\": {} , \"101\": { email: nope } }\n"
                     "groups: { g: { members: [] }, \"101\": { members: [\"101\"], strategy: fastest } }\n"
                     "gateways: { t: { auth: { password: x } } }\n"
                     "routes: [ { name: r, script: [ { app: answer } ] } ]\n"));
    expect_diag("t.yaml:3:18: error: ", "expected \"udp:HOST:PORT\"");
    expect_diag("t.yaml:4:23: error: ", "port range");
    expect_diag("t.yaml:4:47: error: ", "expected a unicast IPv4 address of this host");
    expect_diag("t.yaml:4:69: error: ", "expected 0 (off) or a duration from 1s to 24h");
    expect_diag("t.yaml:5:26: error: ", "from 1 to 10000");
    expect_diag("t.yaml:6:12: error: ", "unknown key 'lisen' in settings.admin; did you mean 'listen'? (at settings.admin.lisen)");
    expect_diag("t.yaml:7:10: error: ", "bad user number 'a b'");
    expect_diag("t.yaml:7:38: error: ", "expected an e-mail address");
    expect_diag("t.yaml:8:25: error: ", "non-empty list");
    expect_diag("t.yaml:8:31: error: ", "has the name of a user");
    expect_diag("t.yaml:8:68: error: ", "ring-all, round-robin, longest-idle, random, fewest-calls or linear");
    expect_diag("t.yaml:9:16: error: ", "gateway 't' needs 'uri'");
    expect_diag("t.yaml:9:24: error: ", "auth needs 'username'");
}

/* ---- the parameter compiler ---- */

static void test_probe_values(void **state)
{
    (void)state;
    check_calls = 0;
    scn_program *p = load_probe(
        "      - app: probe\n"
        "        req: r\n"
        "        tpl: \"hi {name}\"\n"
        "        expr: \"a + 1\"\n"
        "        num: -0.5\n"
        "        e: blue\n"
        "        acts: [ { app: noop }, { app: noop, disabled: true } ]\n"
        "        cond: [ { var: a, op: equals, value: \"1\" }, \"b == 2\" ]\n"
        "        tpls: [\"{a}.wav\", b.wav]\n"
        "        tmap: { k1: \"{v}\", k2: 2 }\n"
        "        smap: { s: \"$.x\" }\n"
        "        cases: { \"1\": [ { app: noop } ], 2: [] }\n"
        "        events: [hold, dtmf]\n"
        "        handlers: { ringing: [ { app: noop } ], not_answered: [] }\n"
        "        json: { a: \"{x}\", n: 1.5, t: true, z: null, l: [1, \"s\"], q: \"1\" }\n"
        "        gws: [gw2, gw1]\n"
        "        db: crm\n"
        "        scen: sc\n"
        "        x: one\n"
        "        id: probe-1\n"
        "        label: the probe\n"
        "        timeout: 2s\n"
        "        on_error: [ { app: noop } ]\n");
    assert_non_null(p);
    assert_int_equal(check_calls, 1);
    const scn_action *a = &p->routes[0].script.items[0];
    const probe_params *pp = a->params;
    assert_string_equal(a->app->name, "probe");
    assert_string_equal(a->path, "routes[0].script[0]");
    assert_string_equal(a->id, "probe-1");
    assert_string_equal(a->label, "the probe");
    assert_int_equal(a->line, 8);
    assert_true(a->timeout == 2);
    assert_int_equal(a->on_error.count, 1);
    assert_string_equal(pp->str, "r");
    assert_string_equal(tpl(pp->tpl), "hi {name}");
    assert_non_null(pp->expr);
    assert_true(pp->dur == 90);        /* default "1m30s" */
    assert_true(pp->num == -0.5);
    assert_int_equal(pp->i, 7);        /* default */
    assert_true(pp->b);                /* default */
    assert_int_equal(pp->e, 2);
    assert_int_equal(pp->acts.count, 2);
    assert_true(pp->acts.items[1].disabled);
    assert_string_equal(pp->acts.items[1].path, "routes[0].script[0].acts[1]");
    assert_non_null(pp->cond);
    assert_int_equal(pp->tpls.count, 2);
    assert_string_equal(tpl(pp->tpls.items[0]), "{a}.wav");
    assert_int_equal(pp->tmap.count, 2);
    assert_string_equal(pp->tmap.names[1], "k2");
    assert_string_equal(tpl(pp->tmap.items[1]), "2");
    assert_string_equal(pp->smap.items[0], "$.x");
    assert_int_equal(pp->cases.count, 2);
    assert_string_equal(pp->cases.keys[1], "2");
    assert_int_equal(pp->cases.lists[0].count, 1);
    assert_int_equal(pp->cases.lists[1].count, 0);
    assert_int_equal(pp->events, (1u << SCN_EV_HOLD) | (1u << SCN_EV_DTMF));
    assert_int_equal(pp->handlers.count, 2);
    assert_int_equal(pp->handlers.events[0], SCN_EV_RINGING);
    assert_int_equal(pp->handlers.events[1], SCN_EV_NOT_ANSWERED);
    const scn_jval *j = pp->json;
    assert_int_equal(j->kind, SCN_J_OBJ);
    assert_int_equal(j->count, 6);
    assert_int_equal(j->items[0].kind, SCN_J_STR);
    assert_string_equal(tpl(j->items[0].str), "{x}");
    assert_int_equal(j->items[1].kind, SCN_J_NUM);
    assert_int_equal(j->items[2].kind, SCN_J_BOOL);
    assert_int_equal(j->items[3].kind, SCN_J_NULL);
    assert_int_equal(j->items[4].kind, SCN_J_ARR);
    assert_int_equal(j->items[4].items[1].kind, SCN_J_STR);
    assert_int_equal(j->items[5].kind, SCN_J_STR);   /* quoted "1" stays text */
    assert_int_equal(pp->gws.count, 2);
    assert_ptr_equal(pp->gws.items[0], scn_program_gateway(p, "gw2"));
    assert_ptr_equal(pp->db, scn_program_database(p, "crm"));
    assert_ptr_equal(pp->scen, scn_program_scenario(p, "sc"));
    assert_string_equal(pp->x, "one");
    /* 1 probe + 2 acts + 1 case + 1 handler + 1 on_error + the scenario's noop */
    assert_int_equal(p->action_count, 7);
    scn_program_unref(p);
}

static void test_probe_single_forms(void **state)
{
    (void)state;
    scn_program *p = load_probe("      - { app: probe, req: r, y: 1, tpls: one.wav, events: hangup, gws: gw1, cond: \"a > 1\",\n"
                                "          i: 20, dur: 0, b: false, str: 5 }\n"
                                "      - { app: probe, req: r, x: 1, tpls: [x] }\n");
    assert_non_null(p);
    const probe_params *pp = p->routes[0].script.items[0].params;
    assert_int_equal(pp->tpls.count, 1);
    assert_int_equal(pp->events, 1u << SCN_EV_HANGUP);
    assert_int_equal(pp->gws.count, 1);
    assert_int_equal(pp->i, 20);
    assert_true(pp->dur == 0);
    assert_false(pp->b);
    assert_string_equal(pp->str, "r");        /* `req` shares the field and comes later */
    assert_true(p->routes[0].script.items[0].timeout == 4);   /* the app's default */
    assert_int_equal(((const probe_params *)p->routes[0].script.items[1].params)->e, 1);
    scn_program_unref(p);
}

static void test_probe_errors(void **state)
{
    (void)state;
    check_calls = 0;
    assert_null(load_probe("      - app: probe\n"            /* 8 */
                           "        tpl: \"{unclosed\"\n"      /* 9 */
                           "        expr: \"1 +\"\n"           /* 10 */
                           "        dur: 11m\n"                /* 11 */
                           "        num: 2\n"                  /* 12 */
                           "        i: 1.5\n"                  /* 13 */
                           "        b: yes\n"                  /* 14 */
                           "        e: gren\n"                 /* 15 */
                           "        acts: { app: noop }\n"     /* 16 */
                           "        tpls: []\n"                /* 17 */
                           "        events: [hold, busy, hodl]\n"   /* 18 */
                           "        handlers: { dtmf: [], ring: [] }\n"   /* 19 */
                           "        gws: [gw3]\n"              /* 20 */
                           "        db: crn\n"                 /* 21 */
                           "        scen: nope\n"              /* 22 */
                           "        x: 1\n"                    /* 23 */
                           "        y: 2\n"                    /* 24 */
                           "        p: 1\n"                    /* 25 */
                           "        q: 2\n"                    /* 26 */
                           "        colour: red\n"             /* 27 */
                           "      - { app: noop, timeout: 1 }\n"       /* 28 */
                           "      - { app: prob }\n"                   /* 29 */
                           "      - { app: probe, reqq: 1, x: 1, tpls: a }\n"   /* 30 */
                           "      - noop\n"));                        /* 31 */
    expect_diag("t.yaml:8:9: error: ", "'probe' needs 'req': always");
    expect_diag("t.yaml:9:15: error: ", "bad template");
    expect_diag("t.yaml:10:19: error: ", "bad expression");
    expect_diag("t.yaml:11:14: error: ", "'dur' must be from 0s to 600s, got 11m (at routes[0].script[0].dur)");
    expect_diag("t.yaml:12:14: error: ", "expected a number from -1 to 1, got 2");
    expect_diag("t.yaml:13:12: error: ", "expected a whole number, got the number 1.5");
    expect_diag("t.yaml:14:12: error: ", "expected true or false, got 'yes'");
    expect_diag("t.yaml:15:12: error: ", "expected red, green or blue; got 'gren' (did you mean 'green'?)");
    expect_diag("t.yaml:16:15: error: ", "expected a list of actions");
    expect_diag("t.yaml:17:15: error: ", "'tpls' needs at least one item");
    expect_diag("t.yaml:18:24: error: ", "'busy' is a dial leg event");
    expect_diag("t.yaml:18:30: error: ", "unknown call event 'hodl'; did you mean 'hold'?");
    expect_diag("t.yaml:19:21: error: ", "'dtmf' is a call event, not a dial leg event");
    expect_diag("t.yaml:19:31: error: ", "unknown dial leg event 'ring'");
    expect_diag("t.yaml:20:15: error: ", "unknown gateway 'gw3' (not in gateways:) (at routes[0].script[0].gws[0])");
    expect_diag("t.yaml:21:13: error: ", "unknown database 'crn'; did you mean 'crm'?");
    expect_diag("t.yaml:22:15: error: ", "unknown scenario 'nope'");
    expect_diag("t.yaml:24:12: error: ", "'probe' takes only one of 'x' or 'y'");
    expect_diag("t.yaml:26:12: error: ", "'probe' takes only one of 'p' or 'q'");
    expect_diag("t.yaml:27:9: error: ", "unknown key 'colour' for 'probe'");
    expect_diag("t.yaml:28:22: error: ", "'noop' does not wait, so it takes no 'timeout'");
    expect_diag("t.yaml:29:16: error: ", "unknown application 'prob'; did you mean 'probe'?");
    expect_diag("t.yaml:30:23: error: ", "unknown key 'reqq' for 'probe'; did you mean 'req'?");
    expect_diag("t.yaml:31:9: error: ", "write '- app: noop'");
    /* The misspelt 'reqq' already says what is missing: no second error for 'req'. */
    assert_null(strstr(printed(), "30:9: error: 'probe' needs 'req'"));
    /* The hook runs only when the generic compile succeeded. */
    assert_int_equal(check_calls, 0);
    assert_null(load_probe("      - { app: probe, req: r, x: 1, tpls: a, i: 13 }\n"));
    assert_int_equal(check_calls, 1);
    expect_diag("t.yaml:8:49: error: ", "13 is unlucky");
    assert_null(load_probe("      - { app: probe, req: r, tpls: a }\n"));
    expect_diag("t.yaml:8:9: error: ", "'probe' needs one of 'x' or 'y'");
}

static void test_hangup_handler(void **state)
{
    (void)state;
    assert_null(load_probe("      - { app: probe, req: r, x: 1, tpls: a, events: hangup, acts: [ { app: noise } ] }\n"));
    expect_diag("t.yaml:8:77: error: ", "'noise' cannot run in a hangup handler");
    /* Mixed with other events, or outside the handler: fine. */
    scn_program *p = load_probe("      - { app: probe, req: r, x: 1, tpls: a, events: [hangup, hold], acts: [ { app: noise } ] }\n"
                                "      - { app: noise }\n");
    assert_non_null(p);
    scn_program_unref(p);
}

/* ---- the real applications ---- */

static void test_real_apps(void **state)
{
    (void)state;
    scn_program *p = load(
        "version: 1\n"
        "gateways: { gw: { uri: \"sip:x\" } }\n"
        "routes:\n"
        "  - name: r\n"
        "    script:\n"
        "      - { app: read_digits, var: pin }\n"
        "      - { app: dial, to: [\"101\", sales], gateway: gw, on: { answer: [ { app: answer } ] } }\n"
        "      - { app: http, method: POST, url: \"http://x/{a}\" }\n"
        "      - { app: wait, seconds: 1, timeout: 500ms }\n"
        "      - { app: log, message: hi }\n");
    assert_non_null(p);
    const scn_action *a = p->routes[0].script.items;
    assert_int_equal(*(const long *)param(&a[0], "max_digits"), 1);
    assert_true(*(const double *)param(&a[0], "timeout") == 5);
    assert_string_equal(*(const char *const *)param(&a[0], "terminator"), "#");
    assert_string_equal(*(const char *const *)param(&a[0], "var"), "pin");
    assert_true(a[0].timeout < 0);   /* read_digits' timeout is its own */
    const scn_templates *to = param(&a[1], "to");
    assert_int_equal(to->count, 2);
    assert_true(*(const double *)param(&a[1], "timeout") == 30);
    assert_ptr_equal(((const scn_refs *)param(&a[1], "gateway"))->items[0], scn_program_gateway(p, "gw"));
    const scn_handlers *h = param(&a[1], "on");
    assert_int_equal(h->events[0], SCN_EV_ANSWER);
    assert_string_equal(h->lists[0].items[0].path, "routes[0].script[1].on.answer[0]");
    assert_int_equal(*(const int *)param(&a[2], "method"), 1);
    assert_true(a[2].timeout == 5);   /* http's default */
    assert_true(a[3].timeout == 0.5);
    assert_true(a[4].timeout < 0);
    scn_program_unref(p);
}

static void test_scenario_args(void **state)
{
    (void)state;
    static const char head[] = "version: 1\nscenarios: { vm: { args: [box, mail], script: [ { app: hangup } ] } }\n"
                               "routes:\n  - name: r\n    script:\n";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s      - { app: scenario, name: vm, args: { box: \"1\", mail: x } }\n", head);
    scn_program *p = load(buf);
    assert_non_null(p);
    assert_int_equal(diags.count, 0);
    scn_program_unref(p);
    snprintf(buf, sizeof buf, "%s      - { app: scenario, name: vm, args: { box: \"1\" } }\n", head);
    p = load(buf);
    assert_non_null(p);
    expect_diag("t.yaml:6:9: warning: ", "scenario 'vm' argument 'mail' is not given");
    scn_program_unref(p);
    snprintf(buf, sizeof buf, "%s      - { app: scenario, name: vm, args: { boxx: \"1\", other: 2 } }\n", head);
    assert_null(load(buf));
    expect_diag("t.yaml:6:44: error: ", "no argument 'boxx'; did you mean 'box'?");
    expect_diag("t.yaml:6:55: error: ", "no argument 'other'");
}

/* ---- routes and warnings ---- */

static void test_route_errors(void **state)
{
    (void)state;
    assert_null(load("version: 1\n"
                     "scenarios: { s: { script: [] } }\n"
                     "routes:\n"
                     "  - { name: a, script: [], scenario: s }\n"
                     "  - { name: a, type: from_gw, priority: 100, match: some, enabled: maybe, script: [] }\n"
                     "  - { priority: 1 }\n"
                     "  - just a string\n"
                     "  - { name: b, scenaro: s, script: [] }\n"));
    expect_diag("t.yaml:4:38: error: ", "route 'a' has both 'script' and 'scenario'");
    expect_diag("t.yaml:5:13: error: ", "duplicate route name 'a' (first used at t.yaml:4)");
    expect_diag("t.yaml:5:22: error: ", "got 'from_gw'");
    expect_diag("t.yaml:5:41: error: ", "from 0 to 99, got 100");
    expect_diag("t.yaml:5:53: error: ", "expected all or any; got 'some'");
    expect_diag("t.yaml:5:68: error: ", "expected true or false");
    expect_diag("t.yaml:6:5: error: ", "a route needs 'name'");
    expect_diag("t.yaml:6:5: error: ", "this route needs 'script' (a list of actions) or 'scenario'");
    expect_diag("t.yaml:7:5: error: ", "expected a route");
    expect_diag("t.yaml:8:16: error: ", "unknown key 'scenaro' in a route; did you mean 'scenario'?");
    /* No shadowing warnings about a file that is wrong anyway. */
    assert_int_equal(diags.warnings, 1);   /* the unused scenario */
}

static void test_shadow_warnings(void **state)
{
    (void)state;
    scn_program *p = load("version: 1\n"
                          "routes:\n"
                          "  - { name: a, conditions: [ { var: x, op: equals, value: \"1\" } ], script: [] }\n"
                          "  - { name: b, conditions: [ { op: equals, value: \"1\", var: x } ], script: [] }\n"
                          "  - { name: c, match: any, conditions: [ { var: x, op: equals, value: \"1\" } ], script: [] }\n"
                          "  - { name: d, priority: 51, conditions: [ { var: x, op: equals, value: \"1\" } ], script: [] }\n"
                          "  - { name: e, enabled: false, conditions: [ { var: x, op: equals, value: \"1\" } ], script: [] }\n"
                          "  - { name: f, type: to_user, script: [] }\n"
                          "  - { name: g, type: to_user, priority: 49, conditions: [ { expr: \"1\" } ], script: [] }\n"
                          "  - { name: h, type: to_user, priority: 50, conditions: [], script: [] }\n");
    assert_non_null(p);
    expect_diag("t.yaml:4:5: warning: ", "route 'b' can never run: route 'a' (t.yaml:3) comes first");
    expect_diag("t.yaml:9:5: warning: ", "route 'g' can never run: route 'f' (t.yaml:8) has no conditions");
    expect_diag("t.yaml:10:5: warning: ", "route 'h' can never run: route 'f' (t.yaml:8) has no conditions, so it "
                                          "takes every to_user call at priority 50 and comes first");
    assert_int_equal(diags.warnings, 3);   /* c (match any), d (priority), e (disabled): none */
    assert_int_equal(diags.errors, 0);
    scn_program_unref(p);
}

static void test_unused_scenario_and_version(void **state)
{
    (void)state;
    scn_program *p = load("scenarios: { used: { script: [] }, lonely: { script: [] } }\n"
                          "routes: [ { name: r, scenario: used } ]\n");
    assert_non_null(p);
    expect_diag("t.yaml:1:1: warning: ", "no 'version:'; assuming version: 1");
    expect_diag("t.yaml:1:36: warning: ", "scenario 'lonely' is never used");
    assert_int_equal(diags.warnings, 2);
    scn_program_unref(p);
    assert_null(load("version: \"one\"\nroutes: []\n"));
    expect_diag("t.yaml:1:10: error: ", "unsupported version one");
    assert_null(load("- just\n- a list\n"));
    expect_diag("t.yaml:1:1: error: ", "expected a scenario file");
}

/* ---- the program's life ---- */

static int released[4];
static int release_order;

static void release_cb(void *arg) { *(int *)arg = ++release_order; }

static void test_refcount_and_release(void **state)
{
    (void)state;
    scn_program *p = load("version: 1\nroutes: [ { name: r, conditions: [ { var: a, op: matches, value: \"^x\" } ], "
                          "script: [ { app: answer } ] } ]\n");
    assert_non_null(p);
    memset(released, 0, sizeof released);
    release_order = 0;
    scn_program_on_release(p, release_cb, &released[0]);
    scn_program_on_release(p, release_cb, &released[1]);
    assert_ptr_equal(scn_program_ref(p), p);
    scn_program_unref(p);
    assert_int_equal(released[0], 0);
    scn_program_unref(p);
    assert_int_equal(released[1], 1);      /* newest first */
    assert_int_equal(released[0], 2);
    scn_program_unref(NULL);
}

static void test_many_errors_capped(void **state)
{
    (void)state;
    static char buf[16384];
    size_t len = (size_t)snprintf(buf, sizeof buf, "version: 1\nroutes:\n  - name: r\n    script:\n");
    for (int i = 0; i < 80; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "      - { app: paly%d }\n", i);
    assert_null(load(buf));
    assert_int_equal(diags.errors, SCN_MAX_ERRORS);
    assert_true(diags.truncated);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_media_bypass),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_section_errors),
        cmocka_unit_test(test_probe_values),
        cmocka_unit_test(test_probe_single_forms),
        cmocka_unit_test(test_probe_errors),
        cmocka_unit_test(test_hangup_handler),
        cmocka_unit_test(test_real_apps),
        cmocka_unit_test(test_scenario_args),
        cmocka_unit_test(test_route_errors),
        cmocka_unit_test(test_shadow_warnings),
        cmocka_unit_test(test_unused_scenario_and_version),
        cmocka_unit_test(test_refcount_and_release),
        cmocka_unit_test(test_many_errors_capped),
    };
    scn_diags_init(&diags);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    teardown_all();
    return rc;
}
