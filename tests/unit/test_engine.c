/* test_engine.c — the strand interpreter and the call's life on the virtual
 * clock, with hand-built action lists and small test applications: order,
 * waits, synchronous completion, timeouts, nesting, cancellation on
 * hangup (cancel hooks run, nothing leaks), hangup handlers and their
 * grace, the steps_per_second and max_streams limits, many calls at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "scenario/events.h"
#include "telephony/sim/sim.h"

/* ---- test applications ---- */

static cr_strbuf journal;   /* "name@t;" per test-app event */
static int cancels;

static void note(eng_strand *s, const char *what)
{
    double t = loop_now(eng_strand_loop(s)) - eng_call_start(eng_strand_call(s));
    cr_strbuf_printf(&journal, "%s@%g;", what, t);
}

typedef struct t_params {
    const char *text;
    double seconds;
    long n;
    scn_actions list;
} t_params;

static app_status t_note_run(eng_strand *s, const scn_action *a)
{
    note(s, ((const t_params *)a->params)->text);
    return APP_DONE;
}

static void t_wait_cb(loop *l, void *arg)
{
    (void)l;
    eng_strand_resume(arg, APP_DONE);
}

static app_status t_wait_run(eng_strand *s, const scn_action *a)
{
    const t_params *p = a->params;
    eng_strand_set_pending(s, loop_timer_start(eng_strand_loop(s), p->seconds, t_wait_cb, s));
    return APP_PENDING;
}

static void t_wait_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    cancels++;
    loop_timer_stop(eng_strand_loop(s), eng_strand_pending(s));
}

/* Completes inside run(): resume before returning PENDING. */
static app_status t_inline_run(eng_strand *s, const scn_action *a)
{
    (void)a;
    eng_strand_resume(s, APP_DONE);
    return APP_PENDING;
}

static app_status t_fail_run(eng_strand *s, const scn_action *a)
{
    return eng_fail(s, "%s", ((const t_params *)a->params)->text);
}

static app_status t_nest_run(eng_strand *s, const scn_action *a)
{
    eng_strand_push(s, &((const t_params *)a->params)->list, ENG_FRAME_NEST, NULL);
    return APP_DONE;
}

static app_status t_loop_run(eng_strand *s, const scn_action *a)
{
    const t_params *p = a->params;
    if (p->n != 0)
        eng_strand_push(s, &p->list, ENG_FRAME_NEST, NULL);
    return APP_DONE;
}

static bool t_loop_end(eng_strand *s, const scn_action *a, long *counter)
{
    (void)s;
    const t_params *p = a->params;
    ++*counter;
    return p->n < 0 || *counter < p->n;   /* n < 0: forever */
}

static app_status t_break_run(eng_strand *s, const scn_action *a)
{
    (void)a;
    return eng_strand_break(s) ? APP_DONE : eng_fail(s, "no loop");
}

static app_status t_spawn_run(eng_strand *s, const scn_action *a)
{
    return eng_strand_spawn(s, &((const t_params *)a->params)->list, "stream") ? APP_DONE : APP_FAILED;
}

static app_status t_on_hangup_run(eng_strand *s, const scn_action *a)
{
    eng_event_register(s, 1u << SCN_EV_HANGUP, false, &((const t_params *)a->params)->list, NULL, 0);
    return APP_DONE;
}

static app_status t_hangup_run(eng_strand *s, const scn_action *a)
{
    (void)a;
    eng_call_hangup(eng_strand_call(s), "scenario", "normal", 0);
    return APP_STOP;
}

static app_status t_setvar_run(eng_strand *s, const scn_action *a)
{
    const t_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    size_t before = eng_call_arena(c)->used_total;
    char buf[32];
    for (long i = 0; i < p->n; i++) {
        snprintf(buf, sizeof buf, "value-%ld", i % 1000);
        eng_var_set_str(c, "x", buf);
    }
    /* Overwrites reuse the variable's room: the arena does not grow. */
    if (eng_call_arena(c)->used_total - before > 256)
        return eng_fail(s, "arena grew by %zu", eng_call_arena(c)->used_total - before);
    /* A string and a number share a variable's bytes (eng_var): each value
     * reads back as written, whatever came before it, and a variable that
     * goes from string to number and back keeps its room, small (after the
     * name) or large, and a kept one (call_id) gets room once. */
    static const char *const names[] = {"short", "long", "call_id"};
    eng_var_set_str(c, "short", "ab");
    eng_var_set_str(c, "long", "a string longer than sixteen bytes");
    before = eng_call_arena(c)->used_total;
    for (long i = 0; i < p->n / 10; i++)
        for (size_t k = 0; k < 3; k++) {
            const char *name = names[k];
            cr_value v;
            double n = (double)i + 0.25 * (double)k;
            eng_var_set_num(c, name, n);
            if (!eng_var_get(c, name, &v) || v.kind != CR_VAL_NUM || v.num != n)
                return eng_fail(s, "%s: number %g read back as %g", name, n, v.num);
            eng_var_set(c, name, cr_val_bool(true));
            if (!eng_var_get(c, name, &v) || v.kind != CR_VAL_BOOL || !v.b || v.num != 0)
                return eng_fail(s, "%s: bool", name);
            const char *str = i % 2 ? "xy" : "x";
            eng_var_set_str(c, name, str);
            if (!eng_var_get(c, name, &v) || v.kind != CR_VAL_STR || strcmp(v.str, str) != 0 || v.num != 0)
                return eng_fail(s, "%s: string", name);
        }
    if (eng_call_arena(c)->used_total - before > 16)
        return eng_fail(s, "arena grew by %zu going from string to number", eng_call_arena(c)->used_total - before);
    /* Names hashed eight bytes a step (eng_name_hash): every length from 1
     * to 40 and, of each, the names that differ from it in one byte, each
     * its own variable. */
    static const char base[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
    char name[sizeof base];
    for (int pass = 0; pass < 2; pass++)
        for (size_t len = 1; len < sizeof base; len++)
            for (size_t at = 0; at <= len; at++) {   /* AT == LEN: the name itself */
                memcpy(name, base, len);
                name[len] = '\0';
                if (at < len)
                    name[at] = '_';
                double want = (double)(len * 100 + at);
                cr_value v;
                if (pass == 0)
                    eng_var_set_num(c, name, want);
                else if (!eng_var_get(c, name, &v) || v.kind != CR_VAL_NUM || v.num != want)
                    return eng_fail(s, "%s read back as %g, not %g", name, v.num, want);
            }
    note(s, "setvar");
    return APP_DONE;
}

/* A waiting call's arena (docs/decisions/sip-core.md "Held-call memory"):
 * the call, its standard variables, the route variable and the main strand
 * with its one frame took 1,184 B before the call's fields, the variables
 * and the frame stack were packed; 944 B then; 832 B since the call's
 * rarely used fields went to a side block, its id is found after it
 * rather than pointed at, and the route variable points at the program's
 * name ("The engine's arena, to 1,536 B"); 712 B since a variable's
 * string and number share their bytes and its name follows its kind, how
 * a call ended is in its side block and a strand's flags are bits ("The
 * engine's arena, to 1,280 B"). And call_id,
 * whose variable points at the call's own copy, and route, which points
 * at the program's, are written like any other variable without the
 * call's id or route changing. */
static app_status t_footprint_run(eng_strand *s, const scn_action *a)
{
    (void)a;
    eng_call *c = eng_strand_call(s);
    size_t used = eng_call_arena(c)->used_total;
    if (used > 712)
        return eng_fail(s, "a waiting call's arena holds %zu B", used);
    cr_value r;
    if (!eng_var_get(c, "route", &r) || !eng_call_route(c) || strcmp(r.str, eng_call_route(c)) != 0)
        return eng_fail(s, "route variable");
    eng_var_set_str(c, "route", "a-route-name-the-script-wrote-itself");
    if (!eng_var_get(c, "route", &r) || strcmp(r.str, "a-route-name-the-script-wrote-itself") != 0 ||
        strcmp(eng_call_route(c), "a-route-name-the-script-wrote-itself") == 0)
        return eng_fail(s, "route written: call %s, variable %s", eng_call_route(c), r.str);
    cr_value v;
    if (!eng_var_get(c, "call_id", &v) || strcmp(v.str, eng_call_id(c)) != 0)
        return eng_fail(s, "call_id variable");
    char id[64];
    snprintf(id, sizeof id, "%s", eng_call_id(c));
    eng_var_set_str(c, "call_id", "a-longer-value-written-by-the-script");
    eng_var_set_str(c, "call_id", "short");
    if (strcmp(eng_call_id(c), id) != 0 || !eng_var_get(c, "call_id", &v) || strcmp(v.str, "short") != 0)
        return eng_fail(s, "call_id written: call %s, variable %s", eng_call_id(c), v.str);
    note(s, "footprint");
    return APP_DONE;
}

static app_status t_answer_run(eng_strand *s, const scn_action *a)
{
    (void)a;
    return eng_call_answer(eng_strand_call(s)) < 0 ? eng_fail(s, "answer") : APP_DONE;
}

#define TAPP(nm, fn, ...) {.name = nm, .family = "test", .run = fn, __VA_ARGS__}
static const app_def t_note = TAPP("note", t_note_run);
static const app_def t_wait = TAPP("wait", t_wait_run, .cancel = t_wait_cancel, .flags = APP_WAITS);
static const app_def t_inline = TAPP("inline", t_inline_run, .flags = APP_WAITS);
static const app_def t_fail = TAPP("fail", t_fail_run);
static const app_def t_nest = TAPP("nest", t_nest_run, .flags = APP_NESTS);
static const app_def t_loop = TAPP("loop", t_loop_run, .frame_end = t_loop_end, .flags = APP_NESTS);
static const app_def t_break = TAPP("break", t_break_run);
static const app_def t_spawn = TAPP("spawn", t_spawn_run, .flags = APP_NESTS);
static const app_def t_on_hangup = TAPP("on_hangup", t_on_hangup_run, .flags = APP_NESTS);
static const app_def t_hangup = TAPP("hangup", t_hangup_run, .flags = APP_CALL_CONTROL);
static const app_def t_setvar = TAPP("setvar", t_setvar_run);
static const app_def t_answer = TAPP("answer", t_answer_run, .flags = APP_CALL_CONTROL);
static const app_def t_footprint = TAPP("footprint", t_footprint_run);

/* ---- building programs ---- */

static scn_program *prog;

static scn_action act(const app_def *app, const t_params *p)
{
    scn_action a = {.app = app, .params = p, .path = app->name, .timeout = -1};
    return a;
}

static scn_actions list_of(size_t n, const scn_action *items)
{
    scn_actions l = {n, items};
    return l;
}
#define LIST(...) list_of(sizeof((scn_action[]){__VA_ARGS__}) / sizeof(scn_action), (scn_action[]){__VA_ARGS__})

static void program_with(scn_actions script)
{
    prog = calloc(1, sizeof *prog);
    prog->refcount = 1;
    cr_arena_init(&prog->arena, 1024);
    prog->settings.steps_per_second = 10000;
    prog->settings.max_streams = 16;
    prog->settings.hangup_grace = 30;
    prog->routes = cr_arena_alloc(&prog->arena, sizeof *prog->routes);
    prog->route_count = 1;
    prog->routes[0] = (scn_route){.name = "main", .type = SCN_ROUTE_FROM_GATEWAY, .priority = 50,
                                  .enabled = true, .script = script};
}

/* ---- running calls ---- */

typedef struct run {
    cr_strbuf trace;
    int calls_done;
} run;

static void trace_cb(void *arg, const eng_trace_rec *r)
{
    run *x = arg;
    eng_trace_json(r, &x->trace);
    cr_strbuf_putc(&x->trace, '\n');
}

static void done_cb(void *arg, eng_call *c)
{
    (void)c;
    ((run *)arg)->calls_done++;
}

/* Runs NCALLS calls (caller following CALLER) to their end on a virtual loop. */
static void run_calls(run *x, int ncalls, const char *caller)
{
    loop *l = loop_new_virtual(1000);
    sim_driver *sd = sim_driver_new(l);
    eng_options o = {.trace = trace_cb, .trace_arg = x, .call_done = done_cb, .call_done_arg = x,
                     .max_duration = 3600};
    eng_engine *e = eng_engine_new(l, sim_driver_tel(sd), NULL, prog, &o);
    char err[100];
    for (int i = 0; i < ncalls; i++) {
        char id[32];
        snprintf(id, sizeof id, "c%d", i);
        tel_call_info info = {.call_id = id, .caller_number = "100", .called_number = "200", .source = "gw"};
        assert_int_equal(sim_call(sd, &info, caller, err, sizeof err), 0);
    }
    loop_run(l);
    assert_int_equal(eng_engine_call_count(e), 0);
    assert_int_equal(sim_live_legs(sd), 0);
    eng_engine_free(e);
    sim_driver_free(sd);
    loop_destroy(l);
}

static int setup(void **state)
{
    (void)state;
    cr_strbuf_reset(&journal);
    cancels = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scn_program_unref(prog);
    prog = NULL;
    cr_strbuf_free(&journal);
    return 0;
}

static bool has(const run *x, const char *s) { return strstr(cr_strbuf_cstr(&x->trace), s) != NULL; }

/* ---- tests ---- */

static void test_sequence_and_wait(void **state)
{
    (void)state;
    t_params a = {.text = "a"}, w = {.seconds = 600}, b = {.text = "b"};
    program_with(LIST(act(&t_note, &a), act(&t_wait, &w), act(&t_note, &b)));
    run x = {0};
    run_calls(&x, 1, NULL);
    assert_string_equal(cr_strbuf_cstr(&journal), "a@0;b@600;");
    assert_true(has(&x, "{\"t\":600.000,\"kind\":\"hangup\",\"by\":\"scenario\""));
    assert_int_equal(x.calls_done, 1);
    cr_strbuf_free(&x.trace);
}

static void test_inline_completion(void **state)
{
    (void)state;
    t_params b = {.text = "after"};
    program_with(LIST(act(&t_inline, NULL), act(&t_note, &b)));
    run x = {0};
    run_calls(&x, 1, NULL);
    assert_string_equal(cr_strbuf_cstr(&journal), "after@0;");
    assert_true(has(&x, "\"app\":\"inline\",\"phase\":\"end\",\"path\":\"inline\",\"status\":\"ok\""));
    cr_strbuf_free(&x.trace);
}

static void test_timeout_runs_on_error(void **state)
{
    (void)state;
    t_params w = {.seconds = 100}, e = {.text = "on_error"}, after = {.text = "after"};
    scn_action wa = act(&t_wait, &w);
    wa.timeout = 2;
    wa.on_error = LIST(act(&t_note, &e));
    program_with(LIST(wa, act(&t_note, &after)));
    run x = {0};
    run_calls(&x, 1, NULL);
    assert_string_equal(cr_strbuf_cstr(&journal), "on_error@2;after@2;");
    assert_int_equal(cancels, 1);
    assert_true(has(&x, "\"status\":\"timeout\",\"error\":\"timeout\""));
    cr_strbuf_free(&x.trace);
}

static void test_failure_recorded_script_goes_on(void **state)
{
    (void)state;
    t_params f = {.text = "boom"}, after = {.text = "after"};
    program_with(LIST(act(&t_fail, &f), act(&t_note, &after)));
    run x = {0};
    run_calls(&x, 1, NULL);
    assert_string_equal(cr_strbuf_cstr(&journal), "after@0;");
    assert_true(has(&x, "\"status\":\"error\",\"error\":\"boom\",\"vars\":{\"error\":\"boom\"}"));
    cr_strbuf_free(&x.trace);
}

static void test_nesting_loop_break(void **state)
{
    (void)state;
    /* loop(3) { note i; nest { loop(forever) { note in; break } } } */
    t_params i = {.text = "i"}, in = {.text = "in"};
    t_params inner = {.n = -1, .list = LIST(act(&t_note, &in), act(&t_break, NULL), act(&t_note, &i))};
    t_params nest = {.list = LIST(act(&t_loop, &inner))};
    t_params outer = {.n = 3, .list = LIST(act(&t_note, &i), act(&t_nest, &nest))};
    program_with(LIST(act(&t_loop, &outer), act(&t_break, NULL)));
    run x = {0};
    run_calls(&x, 1, NULL);
    assert_string_equal(cr_strbuf_cstr(&journal), "i@0;in@0;i@0;in@0;i@0;in@0;");
    /* A break outside any loop fails. */
    assert_true(has(&x, "\"error\":\"no loop\""));
    cr_strbuf_free(&x.trace);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    enum { DEPTH = 200 };
    t_params leaf = {.text = "leaf"};
    static t_params levels[DEPTH];
    static scn_action acts[DEPTH];
    scn_actions inner = LIST(act(&t_note, &leaf));
    for (int d = 0; d < DEPTH; d++) {
        levels[d].list = inner;
        acts[d] = act(&t_nest, &levels[d]);
        inner = list_of(1, &acts[d]);
    }
    program_with(inner);
    run x = {0};
    run_calls(&x, 1, NULL);
    assert_string_equal(cr_strbuf_cstr(&journal), "leaf@0;");
    cr_strbuf_free(&x.trace);
}

static void test_hangup_cancels_every_strand(void **state)
{
    (void)state;
    t_params w = {.seconds = 60}, h = {.text = "handler"}, never = {.text = "never"};
    t_params stream = {.list = LIST(act(&t_wait, &w), act(&t_note, &never))};
    t_params on = {.list = LIST(act(&t_note, &h))};
    program_with(LIST(act(&t_answer, NULL), act(&t_on_hangup, &on), act(&t_spawn, &stream),
                      act(&t_spawn, &stream), act(&t_wait, &w), act(&t_note, &never)));
    run x = {0};
    run_calls(&x, 1, "hangup@10");
    assert_int_equal(cancels, 3);
    assert_string_equal(cr_strbuf_cstr(&journal), "handler@10;");
    assert_true(has(&x, "\"kind\":\"hangup\",\"by\":\"caller\""));
    assert_true(has(&x, "\"status\":\"cancelled\""));
    cr_strbuf_free(&x.trace);
}

static void test_hangup_grace(void **state)
{
    (void)state;
    t_params w = {.seconds = 1000}, h = {.text = "h"}, late = {.text = "late"};
    t_params on = {.list = LIST(act(&t_note, &h), act(&t_wait, &w), act(&t_note, &late))};
    program_with(LIST(act(&t_on_hangup, &on), act(&t_hangup, NULL)));
    prog->settings.hangup_grace = 5;
    run x = {0};
    run_calls(&x, 1, NULL);
    assert_string_equal(cr_strbuf_cstr(&journal), "h@0;");
    assert_int_equal(cancels, 1);
    assert_true(has(&x, "hangup_grace (5s) expired"));
    assert_true(has(&x, "\"kind\":\"call\",\"route\":\"main\",\"by\":\"scenario\",\"cause\":\"normal\",\"duration\":5.000"));
    cr_strbuf_free(&x.trace);
}

/* A strand in a tight loop is stopped by steps_per_second; another strand
 * of the same call and the call itself go on. */
static void test_steps_limit(void **state)
{
    (void)state;
    t_params n = {.text = "spin"}, w = {.seconds = 3}, after = {.text = "main goes on"};
    t_params forever = {.n = -1, .list = LIST(act(&t_nest, &(t_params){.list = LIST(act(&t_inline, NULL))}))};
    t_params stream = {.list = LIST(act(&t_loop, &forever), act(&t_note, &n))};
    program_with(LIST(act(&t_spawn, &stream), act(&t_wait, &w), act(&t_note, &after)));
    prog->settings.steps_per_second = 1000;
    run x = {0};
    run_calls(&x, 1, NULL);
    assert_true(has(&x, "steps_per_second limit (1000) exceeded"));
    assert_string_equal(cr_strbuf_cstr(&journal), "main goes on@3;");
    cr_strbuf_free(&x.trace);
}

static void test_max_streams(void **state)
{
    (void)state;
    t_params w = {.seconds = 10}, n = {.text = "n"};
    t_params stream = {.list = LIST(act(&t_wait, &w))};
    t_params forever = {.n = -1, .list = LIST(act(&t_spawn, &stream), act(&t_note, &n))};
    program_with(LIST(act(&t_loop, &forever)));
    prog->settings.max_streams = 4;
    run x = {0};
    run_calls(&x, 1, NULL);
    assert_true(has(&x, "max_streams limit (4) reached"));
    assert_string_equal(cr_strbuf_cstr(&journal), "n@0;n@0;n@0;n@0;");
    cr_strbuf_free(&x.trace);
}

static void test_variable_overwrite_does_not_grow(void **state)
{
    (void)state;
    t_params p = {.n = 100000};
    program_with(LIST(act(&t_setvar, &p)));
    run x = {0};
    run_calls(&x, 1, NULL);
    assert_string_equal(cr_strbuf_cstr(&journal), "setvar@0;");
    cr_strbuf_free(&x.trace);
}

static void test_waiting_call_footprint(void **state)
{
    (void)state;
    program_with(LIST(act(&t_footprint, NULL)));
    run x = {0};
    run_calls(&x, 1, NULL);
    assert_string_equal(cr_strbuf_cstr(&journal), "footprint@0;");
    cr_strbuf_free(&x.trace);
}

static void test_many_calls(void **state)
{
    (void)state;
    t_params a = {.text = "a"}, w = {.seconds = 30};
    program_with(LIST(act(&t_answer, NULL), act(&t_wait, &w), act(&t_note, &a)));
    run x = {0};
    run_calls(&x, 2000, "hangup@20");
    /* Every call's wait was cancelled by its caller at 20 s. */
    assert_int_equal(cancels, 2000);
    assert_int_equal(x.calls_done, 2000);
    assert_int_equal(journal.len, 0);
    cr_strbuf_free(&x.trace);
}

static void stop_cb(loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
}

/* The engine can be freed with calls still waiting (shutdown). */
static void test_free_with_live_calls(void **state)
{
    (void)state;
    t_params w = {.seconds = 30};
    program_with(LIST(act(&t_wait, &w)));
    loop *l = loop_new_virtual(0);
    sim_driver *sd = sim_driver_new(l);
    run x = {0};
    eng_options o = {.trace = trace_cb, .trace_arg = &x};
    eng_engine *e = eng_engine_new(l, sim_driver_tel(sd), NULL, prog, &o);
    char err[64];
    tel_call_info info = {.caller_number = "1", .called_number = "2", .source = "gw"};
    for (int i = 0; i < 10; i++)
        sim_call(sd, &info, NULL, err, sizeof err);
    loop_timer_start(l, 5, stop_cb, NULL);
    loop_run(l);
    assert_int_equal(eng_engine_call_count(e), 10);
    eng_engine_free(e);
    assert_int_equal(cancels, 10);
    sim_driver_free(sd);
    loop_destroy(l);
    cr_strbuf_free(&x.trace);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sequence_and_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_call_footprint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_runs_on_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_recorded_script_goes_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_loop_break, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hangup_cancels_every_strand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hangup_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_steps_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_variable_overwrite_does_not_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_live_calls, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
