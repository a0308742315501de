/* test_engine_headers.c — the sip.header.* variables, made from the
 * INVITE's headers only when a script or a route first reads one
 * (eng_var_headers): the same names, values, order and place among the
 * call's variables as when every call got them eagerly; a repeated
 * header's last value wins; a name too long is cut where it always was;
 * writing one before reading it still sees the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "loop/loop.h"
#include "telephony/sim/sim.h"
#include "scenario/diag.h"
#include "scenario/program.h"
#include "simulate/simrun.h"

static scn_program *load(const char *yaml)
{
    scn_diags d;
    scn_diags_init(&d);
    scn_program *p = scn_program_load_buffer("t.yaml", yaml, strlen(yaml), app_registry, &d);
    if (!p)
        scn_diags_print(&d, stderr);
    scn_diags_free(&d);
    assert_non_null(p);
    return p;
}

static char long_name[400];
static const char *names[] = {"X-Account", "Via", "X-Account", long_name};
static const char *values[] = {"41", "SIP/2.0/UDP 127.0.0.1", "42", "long"};

static simrun_result *run(const char *yaml)
{
    memset(long_name, 'H', sizeof long_name - 1);
    scn_program *p = load(yaml);
    simrun_params sp = {.from = "100", .to = "200", .source = "gw", .header_names = names,
                        .header_values = values, .header_count = 4};
    char err[200];
    simrun_result *r = simrun_call(p, &sp, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    scn_program_unref(p);
    return r;
}

static ssize_t var_index(const simrun_result *r, const char *name)
{
    for (size_t i = 0; i < simrun_var_count(r); i++)
        if (strcmp(simrun_var_name(r, i), name) == 0)
            return (ssize_t)i;
    return -1;
}

/* What the call's variables list looks like at its end. */
static void check_list(const simrun_result *r)
{
    ssize_t src = var_index(r, "source"), acct = var_index(r, "sip.header.X-Account"),
            via = var_index(r, "sip.header.Via");
    /* As the eager code named it: snprintf into 300 bytes. */
    char cut[300] = "sip.header.";
    memcpy(cut + 11, long_name, sizeof cut - 12);
    cut[299] = '\0';
    assert_int_equal(strlen(cut), 299);
    ssize_t lng = var_index(r, cut);
    /* Right after the standard variables, in header order, once each. */
    assert_true(src >= 0);
    assert_int_equal(acct, src + 1);
    assert_int_equal(via, src + 2);
    assert_int_equal(lng, src + 3);
    assert_string_equal(simrun_var_value(r, (size_t)acct), "42");
    assert_string_equal(simrun_var_value(r, (size_t)via), "SIP/2.0/UDP 127.0.0.1");
    assert_string_equal(simrun_var_value(r, (size_t)lng), "long");
    size_t n = 0;
    for (size_t i = 0; i < simrun_var_count(r); i++)
        n += strncmp(simrun_var_name(r, i), "sip.header.", 11) == 0;
    assert_int_equal(n, 3);
}

/* Never read by the scenario: listed at the end all the same. */
static void test_unread_headers_are_listed(void **state)
{
    (void)state;
    simrun_result *r = run("version: 1\n"
                           "gateways: { gw: { uri: 'sip:gw.example.com' } }\n"
                           "routes:\n"
                           "  - name: r\n"
                           "    script: [ { app: set, vars: { x: '1' } } ]\n");
    assert_string_equal(simrun_route(r), "r");
    check_list(r);
    assert_true(var_index(r, "x") > var_index(r, "sip.header.Via"));
    simrun_result_free(r);
}

/* Read by a route's condition and a template: the values the INVITE had. */
static void test_read_by_route_and_script(void **state)
{
    (void)state;
    simrun_result *r = run("version: 1\n"
                           "gateways: { gw: { uri: 'sip:gw.example.com' } }\n"
                           "routes:\n"
                           "  - name: other\n"
                           "    conditions: [ { var: sip.header.X-Account, op: equals, value: '41' } ]\n"
                           "    script: [ { app: hangup } ]\n"
                           "  - name: acct\n"
                           "    conditions: [ { var: sip.header.X-Account, op: equals, value: '42' } ]\n"
                           "    script: [ { app: set, vars: { got: '{sip.header.Via}/{sip.header.Nope}' } } ]\n");
    assert_string_equal(simrun_route(r), "acct");
    ssize_t got = var_index(r, "got");
    assert_true(got >= 0);
    assert_string_equal(simrun_var_value(r, (size_t)got), "SIP/2.0/UDP 127.0.0.1/");
    check_list(r);
    simrun_result_free(r);
}

/* Written before any is read: the written one changes, the others stay. */
static void test_written_before_read(void **state)
{
    (void)state;
    simrun_result *r = run("version: 1\n"
                           "gateways: { gw: { uri: 'sip:gw.example.com' } }\n"
                           "routes:\n"
                           "  - name: r\n"
                           "    script: [ { app: set, vars: { sip.header.Via: 'changed' } } ]\n");
    ssize_t via = var_index(r, "sip.header.Via");
    assert_int_equal(via, var_index(r, "source") + 2);
    assert_string_equal(simrun_var_value(r, (size_t)via), "changed");
    assert_string_equal(simrun_var_value(r, (size_t)var_index(r, "sip.header.X-Account")), "42");
    simrun_result_free(r);
}

/* Which headers a program can read (scn_program_reads_header): a call
 * keeps only those; a name built at run time keeps every one. */
static bool reads(const char *script, const char *header)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "version: 1\n"
             "gateways: { gw: { uri: 'sip:gw.example.com' } }\n"
             "routes:\n"
             "  - name: r\n"
             "    script: [ %s ]\n",
             script);
    scn_program *p = load(yaml);
    bool r = scn_program_reads_header(p, header);
    scn_program_unref(p);
    return r;
}

static void test_headers_a_program_reads(void **state)
{
    (void)state;
    const char *none = "{ app: set, vars: { x: '1' } }";
    assert_false(reads(none, "Via"));
    assert_false(reads(none, "X-Account"));
    const char *tmpl = "{ app: set, vars: { x: '{sip.header.Via}' } }";
    assert_true(reads(tmpl, "Via"));
    assert_false(reads(tmpl, "X-Account"));
    /* Any case: over-keeping is harmless, missing one is not. */
    const char *lit = "{ app: condition, if: \"var('sip.header.x-account') == '1'\", then: [ { app: hangup } ] }";
    assert_true(reads(lit, "X-Account"));
    assert_false(reads(lit, "Via"));
    const char *bare = "{ app: condition, if: \"sip.header.X-Account == '42'\", then: [ { app: hangup } ] }";
    assert_true(reads(bare, "X-Account"));
    assert_false(reads(bare, "Via"));
    /* Names built at run time: every header. */
    assert_true(reads("{ app: condition, if: \"var('sip.header.' + h) == '1'\", then: [ { app: hangup } ] }", "Via"));
    assert_true(reads("{ app: condition, if: \"var(h) == '1'\", then: [ { app: hangup } ] }", "Via"));
    assert_true(reads("{ app: condition, if: \"var('a' + h) == '1'\", then: [ { app: hangup } ] }", "Via"));

    /* A route condition names it. */
    scn_program *p = load("version: 1\n"
                          "gateways: { gw: { uri: 'sip:gw.example.com' } }\n"
                          "routes:\n"
                          "  - name: r\n"
                          "    conditions: [ { var: sip.header.X-Account, op: equals, value: '42' } ]\n"
                          "    script: [ { app: hangup } ]\n");
    assert_true(scn_program_reads_header(p, "X-Account"));
    assert_false(scn_program_reads_header(p, "Via"));
    scn_program_unref(p);
}

/* A call of an engine that does not list its variables (serve's): the
 * header its scenario names is a variable, the others are not kept. */
typedef struct listed {
    char names[512];
} listed;

static void list_var(void *arg, const char *name, cr_value v)
{
    (void)v;
    listed *x = arg;
    if (strncmp(name, "sip.header.", 11) == 0 && strlen(name) < 40) {
        strncat(x->names, name + 11, sizeof x->names - strlen(x->names) - 2);
        strcat(x->names, ";");
    }
}

static void done_cb(void *arg, eng_call *c)
{
    eng_var_foreach(c, list_var, arg);
}

static void test_unread_headers_are_not_kept(void **state)
{
    (void)state;
    scn_program *p = load("version: 1\n"
                          "routes:\n"
                          "  - name: r\n"
                          "    script: [ { app: set, vars: { a: '{sip.header.X-Account}' } } ]\n");
    loop *l = loop_new_virtual(0);
    sim_driver *sd = sim_driver_new(l);
    listed x = {{0}};
    eng_options o = {.call_done = done_cb, .call_done_arg = &x};
    eng_engine *e = eng_engine_new(l, sim_driver_tel(sd), NULL, p, &o);
    memset(long_name, 'H', sizeof long_name - 1);
    tel_call_info info = {.call_id = "c1", .caller_number = "100", .called_number = "200", .source = "gw",
                          .header_names = names, .header_values = values, .header_count = 4};
    char err[100];
    assert_int_equal(sim_call(sd, &info, "hangup@1", err, sizeof err), 0);
    loop_run(l);
    assert_string_equal(x.names, "X-Account;");
    eng_engine_free(e);
    sim_driver_free(sd);
    loop_destroy(l);
    scn_program_unref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unread_headers_are_listed),
        cmocka_unit_test(test_read_by_route_and_script),
        cmocka_unit_test(test_written_before_read),
        cmocka_unit_test(test_headers_a_program_reads),
        cmocka_unit_test(test_unread_headers_are_not_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
