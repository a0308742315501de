/* test_engine_message.c — an instant message (eng_call_new_message) seen
 * by an engine observer, as the admin API, records and metrics see it in
 * `callroute serve` (no eng_options.trace there): a message no route takes
 * is refused 404 and ends by system, cause no_route, before any script
 * runs; the route record of a message carries the route-by-route
 * explanation as a call's does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "loop/loop.h"
#include "scenario/diag.h"
#include "scenario/program.h"
#include "telephony/sim/sim.h"
#include "util/strbuf.h"

static const char program_yaml[] = "version: 1\n"
                                   "routes:\n"
                                   "  - name: texts\n"
                                   "    type: message\n"
                                   "    conditions: [ { var: called_number, op: equals, value: '300' } ]\n"
                                   "    script: [ { app: set, vars: { seen: yes } } ]\n";

typedef struct seen {
    cr_strbuf records;    /* "route=NAME|-;" "hangup=BY/CAUSE/CODE;" */
    int explained;        /* route records with an explanation */
    cr_strbuf done;       /* per ended call: "CAUSE/CODE/seen=...;" */
} seen;

static void trace_cb(void *arg, const eng_trace_rec *r)
{
    seen *x = arg;
    if (r->kind == ENG_TR_ROUTE) {
        cr_strbuf_printf(&x->records, "route=%s;", r->route ? r->route : "-");
        x->explained += r->explain != NULL;
    } else if (r->kind == ENG_TR_HANGUP)
        cr_strbuf_printf(&x->records, "hangup=%s/%s/%d;", r->by, r->cause, r->sip_code);
}

static void done_cb(void *arg, eng_call *c)
{
    seen *x = arg;
    cr_value v;
    bool ran = eng_var_get(c, "seen", &v);
    cr_strbuf_printf(&x->done, "%s/%d/seen=%s;", eng_call_hangup_cause(c) ? eng_call_hangup_cause(c) : "-",
                     eng_call_hangup_code(c), ran ? "yes" : "no");
}

/* Sends one message to TO through an engine whose only follower is an
 * observer; returns sim_message's answer (0: taken, else the SIP code). */
static int send_message(const char *to, seen *x)
{
    scn_diags d;
    scn_diags_init(&d);
    scn_program *p = scn_program_load_buffer("t.yaml", program_yaml, strlen(program_yaml), app_registry, &d);
    if (!p)
        scn_diags_print(&d, stderr);
    scn_diags_free(&d);
    assert_non_null(p);
    loop *l = loop_new_virtual(0);
    sim_driver *sd = sim_driver_new(l);
    eng_options o = {0};
    eng_observe(&o, &(eng_observer){.trace = trace_cb, .call_done = done_cb, .arg = x});
    eng_engine *e = eng_engine_new(l, sim_driver_tel(sd), NULL, p, &o);
    tel_call_info info = {.call_id = "m1", .caller_number = "100", .called_number = to, .source = "gw"};
    int code = sim_message(sd, &info, "hello");
    loop_run(l);
    eng_engine_free(e);
    sim_driver_free(sd);
    loop_destroy(l);
    scn_program_unref(p);
    return code;
}

static void test_unrouted_message_ends_no_route(void **state)
{
    (void)state;
    seen x = {CR_STRBUF_INIT, 0, CR_STRBUF_INIT};
    assert_int_equal(send_message("999", &x), 404);
    assert_string_equal(cr_strbuf_cstr(&x.records), "route=-;hangup=system/no_route/404;");
    assert_string_equal(cr_strbuf_cstr(&x.done), "no_route/404/seen=no;");
    cr_strbuf_free(&x.records);
    cr_strbuf_free(&x.done);
}

static void test_routed_message_is_explained(void **state)
{
    (void)state;
    seen x = {CR_STRBUF_INIT, 0, CR_STRBUF_INIT};
    assert_int_equal(send_message("300", &x), 0);
    assert_non_null(strstr(cr_strbuf_cstr(&x.records), "route=texts;"));
    assert_int_equal(x.explained, 1);
    assert_non_null(strstr(cr_strbuf_cstr(&x.done), "/seen=yes;"));
    cr_strbuf_free(&x.records);
    cr_strbuf_free(&x.done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unrouted_message_ends_no_route),
        cmocka_unit_test(test_routed_message_is_explained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
