/* flow.c — the Flow family: set, condition, switch, loop, break, wait,
 * stream, event, scenario, log, stop. Nesting apps push a frame on the
 * strand and return; `loop` restarts its frame from frame_end. */
#include <stddef.h>
#include <string.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/compile.h"
#include "scenario/events.h"
#include "scenario/param.h"

static const char *const log_levels[] = {"debug", "info", "warning", "error", NULL};

typedef struct set_params {
    scn_template_map vars;
    const char *var;
    const scn_expr *expr;
} set_params;

typedef struct condition_params {
    const scn_cond *if_;
    int match_any;
    scn_actions then_, else_;
} condition_params;

typedef struct switch_params {
    const scn_template *value;
    scn_cases cases;
    scn_actions default_;
} switch_params;

typedef struct loop_params {
    long times;
    const scn_expr *while_;
    scn_actions do_;
} loop_params;

typedef struct wait_params {
    double seconds;
} wait_params;

typedef struct stream_params {
    const char *name;
    scn_actions do_;
} stream_params;

typedef struct event_params {
    unsigned on;          /* mask of (1u << scn_event) */
    scn_templates name;   /* app events: only these names */
    bool once;
    scn_actions do_;
} event_params;

typedef struct scenario_params {
    const scn_named_scenario *name;
    scn_template_map args;
} scenario_params;

typedef struct log_params {
    int level;
    const scn_template *message;
} log_params;

static const char *const match_choices[] = {"all", "any", NULL};

#define F(type, field) offsetof(type, field)

static const scn_param set_spec[] = {
    {.name = "vars", .type = P_TEMPLATE_MAP, .offset = F(set_params, vars), .flags = P_EXACTLY_ONE,
     .doc = "variables to set, each from a template"},
    {.name = "var", .type = P_STRING, .offset = F(set_params, var), .flags = P_EXACTLY_ONE,
     .doc = "one variable to set from `expr`"},
    {.name = "expr", .type = P_EXPR, .offset = F(set_params, expr),
     .doc = "expression whose value `var` takes"},
    SCN_PARAM_END,
};

static const scn_param condition_spec[] = {
    {.name = "if", .type = P_CONDITION, .offset = F(condition_params, if_), .flags = P_REQ,
     .doc = "an expression string, or a list of conditions"},
    {.name = "match", .type = P_ENUM, .offset = F(condition_params, match_any), .choices = match_choices,
     .def = "all", .doc = "for a list: all (default) or any must hold"},
    {.name = "then", .type = P_ACTIONS, .offset = F(condition_params, then_),
     .doc = "actions run when the condition holds"},
    {.name = "else", .type = P_ACTIONS, .offset = F(condition_params, else_),
     .doc = "actions run when it does not"},
    SCN_PARAM_END,
};

static const scn_param switch_spec[] = {
    {.name = "value", .type = P_TEMPLATE, .offset = F(switch_params, value), .flags = P_REQ,
     .doc = "template whose rendering selects the case"},
    {.name = "cases", .type = P_CASES, .offset = F(switch_params, cases), .flags = P_REQ,
     .doc = "map of value to actions"},
    {.name = "default", .type = P_ACTIONS, .offset = F(switch_params, default_),
     .doc = "actions run when no case matches"},
    SCN_PARAM_END,
};

static const scn_param loop_spec[] = {
    {.name = "times", .type = P_INT, .offset = F(loop_params, times), .flags = P_EXACTLY_ONE,
     .min = 0, .max = 1000000, .doc = "run the body this many times"},
    {.name = "while", .type = P_EXPR, .offset = F(loop_params, while_), .flags = P_EXACTLY_ONE,
     .doc = "run the body while this expression is true"},
    {.name = "do", .type = P_ACTIONS, .offset = F(loop_params, do_), .flags = P_REQ,
     .doc = "the loop body; `loop_index` counts from 0"},
    SCN_PARAM_END,
};

static const scn_param break_spec[] = {SCN_PARAM_END};
static const scn_param stop_spec[] = {SCN_PARAM_END};

static const scn_param wait_spec[] = {
    {.name = "seconds", .type = P_DURATION, .offset = F(wait_params, seconds), .flags = P_REQ,
     .min = 0, .max = 86400, .doc = "how long to wait"},
    SCN_PARAM_END,
};

static const scn_param stream_spec[] = {
    {.name = "name", .type = P_STRING, .offset = F(stream_params, name),
     .doc = "a name for the strand in the trace"},
    {.name = "do", .type = P_ACTIONS, .offset = F(stream_params, do_), .flags = P_REQ,
     .doc = "actions run in a new strand, concurrently with the script"},
    SCN_PARAM_END,
};

static const scn_param event_spec[] = {
    {.name = "on", .type = P_EVENTS, .offset = F(event_params, on), .flags = P_REQ,
     .doc = "call event name or list of names"},
    {.name = "name", .type = P_TEMPLATES, .offset = F(event_params, name), .flags = P_NONEMPTY,
     .doc = "with on: app, only app events of this name (or list of names)"},
    {.name = "once", .type = P_BOOL, .offset = F(event_params, once), .def = "false",
     .doc = "run the handler for the first occurrence only"},
    {.name = "do", .type = P_ACTIONS, .offset = F(event_params, do_), .flags = P_REQ,
     .doc = "actions run in a new strand each time the event happens"},
    SCN_PARAM_END,
};

static const scn_param scenario_spec[] = {
    {.name = "name", .type = P_SCENARIO, .offset = F(scenario_params, name), .flags = P_REQ,
     .doc = "the named scenario to run"},
    {.name = "args", .type = P_TEMPLATE_MAP, .offset = F(scenario_params, args),
     .doc = "its arguments, each from a template"},
    SCN_PARAM_END,
};

static const scn_param log_spec[] = {
    {.name = "level", .type = P_ENUM, .offset = F(log_params, level), .choices = log_levels,
     .def = "info", .doc = "debug, info, warning or error"},
    {.name = "message", .type = P_TEMPLATE, .offset = F(log_params, message), .flags = P_REQ,
     .doc = "the line to log (a template)"},
    SCN_PARAM_END,
};

/* ---- run ---- */

static app_status set_run(eng_strand *s, const scn_action *a)
{
    const set_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    for (size_t i = 0; i < p->vars.count; i++)
        eng_var_set_str(c, p->vars.names[i], eng_render(s, p->vars.items[i], SCN_ESC_NONE));
    if (p->var && p->expr) {
        cr_value v = scn_expr_eval(p->expr, eng_strand_env(s));
        if (v.kind == CR_VAL_ERR)
            return eng_fail(s, "%s: %s", p->var, v.str);
        eng_var_set(c, p->var, v);
    }
    return APP_DONE;
}

static bool set_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    set_params *p = params;
    if (p->var && !p->expr) {
        scn_cx_error(cx, scn_map_get(action, "var"), "`var` needs `expr` (the value to set)");
        return false;
    }
    if (p->expr && !p->var) {
        scn_cx_error(cx, scn_map_get(action, "expr"), "`expr` needs `var` (the variable to set)");
        return false;
    }
    return true;
}

static app_status condition_run(eng_strand *s, const scn_action *a)
{
    const condition_params *p = a->params;
    bool holds = scn_cond_eval(p->if_, eng_strand_env(s), NULL);
    eng_strand_push(s, holds ? &p->then_ : &p->else_, ENG_FRAME_NEST, NULL);
    return APP_DONE;
}

static app_status switch_run(eng_strand *s, const scn_action *a)
{
    const switch_params *p = a->params;
    const char *v = eng_render(s, p->value, SCN_ESC_NONE);
    for (size_t i = 0; i < p->cases.count; i++)
        if (strcmp(p->cases.keys[i], v) == 0) {
            eng_strand_push(s, &p->cases.lists[i], ENG_FRAME_NEST, NULL);
            return APP_DONE;
        }
    eng_strand_push(s, &p->default_, ENG_FRAME_NEST, NULL);
    return APP_DONE;
}

/* -1: expression error (failure recorded), 0: false, 1: true. */
static int loop_more(eng_strand *s, const loop_params *p, long index)
{
    eng_var_set_num(eng_strand_call(s), "loop_index", (double)index);
    if (!p->while_)
        return index < p->times;
    cr_value v = scn_expr_eval(p->while_, eng_strand_env(s));
    if (v.kind == CR_VAL_ERR) {
        eng_fail(s, "while: %s", v.str);
        return -1;
    }
    return cr_val_truthy(v);
}

static app_status loop_app_run(eng_strand *s, const scn_action *a)
{
    const loop_params *p = a->params;
    int more = loop_more(s, p, 0);
    if (more < 0)
        return APP_FAILED;
    if (more)
        eng_strand_push(s, &p->do_, ENG_FRAME_NEST, NULL);
    return APP_DONE;
}

static bool loop_frame_end(eng_strand *s, const scn_action *a, long *counter)
{
    const loop_params *p = a->params;
    ++*counter;
    int more = loop_more(s, p, *counter);
    if (more < 0)
        eng_trace_log(s, "error", "loop stopped: while: expression failed");
    return more > 0;
}

static app_status break_run(eng_strand *s, const scn_action *a)
{
    (void)a;
    if (!eng_strand_break(s))
        return eng_fail(s, "break outside a loop");
    return APP_DONE;
}

static void wait_done_cb(loop *l, void *arg)
{
    (void)l;
    eng_strand_resume(arg, APP_DONE);
}

static app_status wait_run(eng_strand *s, const scn_action *a)
{
    const wait_params *p = a->params;
    eng_strand_set_pending(s, loop_timer_start(eng_strand_loop(s), p->seconds, wait_done_cb, s));
    return APP_PENDING;
}

static void wait_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    loop_timer *t = eng_strand_pending(s);
    if (t)
        loop_timer_stop(eng_strand_loop(s), t);
}

static app_status stream_run(eng_strand *s, const scn_action *a)
{
    const stream_params *p = a->params;
    if (!eng_strand_spawn(s, &p->do_, p->name ? p->name : "stream"))
        return APP_FAILED;
    return APP_DONE;
}

static app_status event_run(eng_strand *s, const scn_action *a)
{
    const event_params *p = a->params;
    const char *names[16];
    size_t n = 0;
    for (size_t i = 0; i < p->name.count && n < sizeof names / sizeof names[0]; i++)
        names[n++] = eng_render(s, p->name.items[i], SCN_ESC_NONE);
    eng_event_register(s, p->on, p->once, &p->do_, names, n);
    return APP_DONE;
}

static bool event_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    const event_params *p = params;
    if (p->name.count && !(p->on & (1u << SCN_EV_APP))) {
        scn_cx_error(cx, scn_map_get(action, "name"), "'name' picks app events: it needs 'app' in 'on'");
        return false;
    }
    if (p->name.count > 16) {
        scn_cx_error(cx, scn_map_get(action, "name"), "at most 16 names");
        return false;
    }
    return true;
}

static app_status scenario_run(eng_strand *s, const scn_action *a)
{
    const scenario_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    /* Declared arguments not given start empty (check warns about them). */
    for (size_t j = 0; j < p->name->arg_count; j++) {
        bool given = false;
        for (size_t i = 0; i < p->args.count && !given; i++)
            given = strcmp(p->args.names[i], p->name->args[j]) == 0;
        if (!given)
            eng_var_set_str(c, p->name->args[j], "");
    }
    for (size_t i = 0; i < p->args.count; i++)
        eng_var_set_str(c, p->args.names[i], eng_render(s, p->args.items[i], SCN_ESC_NONE));
    eng_strand_push(s, &p->name->script, ENG_FRAME_SCENARIO, p->name);
    return APP_DONE;
}

static bool scenario_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    scenario_params *p = params;
    if (!p->name)
        return true;
    bool ok = true;
    for (size_t i = 0; i < p->args.count; i++) {
        bool known = false;
        for (size_t j = 0; j < p->name->arg_count; j++)
            known = known || strcmp(p->name->args[j], p->args.names[i]) == 0;
        if (!known) {
            scn_cx_error(cx, scn_map_get(action, "args"), "scenario '%s' has no argument '%s'",
                         p->name->name, p->args.names[i]);
            ok = false;
        }
    }
    return ok;
}

static app_status log_run(eng_strand *s, const scn_action *a)
{
    const log_params *p = a->params;
    eng_trace_log(s, log_levels[p->level], "%s", eng_render(s, p->message, SCN_ESC_NONE));
    return APP_DONE;
}

static app_status stop_run(eng_strand *s, const scn_action *a)
{
    (void)s;
    (void)a;
    return APP_STOP;
}

const app_def app_flow_table[] = {
    {.name = "set", .family = "flow", .summary = "Set call variables from templates or an expression.",
     .params = set_spec, .params_size = sizeof(set_params),
     .check = set_check, .run = set_run},
    {.name = "condition", .family = "flow", .summary = "Run `then` when the condition holds, else `else`.",
     .params = condition_spec, .params_size = sizeof(condition_params), .flags = APP_NESTS,
     .run = condition_run},
    {.name = "switch", .family = "flow", .summary = "Run the case whose key equals the rendered value.",
     .params = switch_spec, .params_size = sizeof(switch_params), .flags = APP_NESTS,
     .run = switch_run},
    {.name = "loop", .family = "flow", .summary = "Repeat the body `times` times or `while` an expression holds.",
     .params = loop_spec, .params_size = sizeof(loop_params), .flags = APP_NESTS,
     .run = loop_app_run, .frame_end = loop_frame_end},
    {.name = "break", .family = "flow", .summary = "Leave the innermost loop.",
     .params = break_spec, .params_size = 0, .run = break_run},
    {.name = "wait", .family = "flow", .summary = "Wait a number of seconds.",
     .params = wait_spec, .params_size = sizeof(wait_params), .flags = APP_WAITS,
     .run = wait_run, .cancel = wait_cancel},
    {.name = "stream", .family = "flow", .summary = "Run actions in a parallel strand; the script goes on at once.",
     .params = stream_spec, .params_size = sizeof(stream_params), .flags = APP_NESTS,
     .run = stream_run},
    {.name = "event", .family = "flow", .summary = "From now on, run actions in a new strand each time a call event happens.",
     .params = event_spec, .params_size = sizeof(event_params), .flags = APP_NESTS,
     .check = event_check, .run = event_run},
    {.name = "scenario", .family = "flow", .summary = "Run a named scenario with arguments, then return.",
     .params = scenario_spec, .params_size = sizeof(scenario_params),
     .check = scenario_check, .run = scenario_run},
    {.name = "log", .family = "flow", .summary = "Write a line to the call's trace.",
     .params = log_spec, .params_size = sizeof(log_params), .run = log_run},
    {.name = "stop", .family = "flow", .summary = "End this strand.",
     .params = stop_spec, .params_size = 0, .run = stop_run},
    APP_END,
};
