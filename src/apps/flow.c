/* flow.c — the Flow family: set, condition, switch, loop, break, wait,
 * stream, event, scenario, log, stop. */
#include <stddef.h>

#include "apps/registry.h"
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
    {.name = "vars", .type = P_TEMPLATE_MAP, .offset = F(set_params, vars), .flags = P_ONEOF_A,
     .doc = "variables to set, each from a template"},
    {.name = "var", .type = P_STRING, .offset = F(set_params, var), .flags = P_ONEOF_A,
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
    {.name = "times", .type = P_INT, .offset = F(loop_params, times), .flags = P_ONEOF_A,
     .min = 0, .max = 1000000, .doc = "run the body this many times"},
    {.name = "while", .type = P_EXPR, .offset = F(loop_params, while_), .flags = P_ONEOF_A,
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

const app_def app_flow_table[] = {
    {.name = "set", .family = "flow", .summary = "Set call variables from templates or an expression.",
     .params = set_spec, .params_size = sizeof(set_params)},
    {.name = "condition", .family = "flow", .summary = "Run `then` when the condition holds, else `else`.",
     .params = condition_spec, .params_size = sizeof(condition_params), .flags = APP_NESTS},
    {.name = "switch", .family = "flow", .summary = "Run the case whose key equals the rendered value.",
     .params = switch_spec, .params_size = sizeof(switch_params), .flags = APP_NESTS},
    {.name = "loop", .family = "flow", .summary = "Repeat the body `times` times or `while` an expression holds.",
     .params = loop_spec, .params_size = sizeof(loop_params), .flags = APP_NESTS},
    {.name = "break", .family = "flow", .summary = "Leave the innermost loop.",
     .params = break_spec, .params_size = 0},
    {.name = "wait", .family = "flow", .summary = "Wait a number of seconds.",
     .params = wait_spec, .params_size = sizeof(wait_params), .flags = APP_WAITS},
    {.name = "stream", .family = "flow", .summary = "Run actions in a parallel strand; the script goes on at once.",
     .params = stream_spec, .params_size = sizeof(stream_params), .flags = APP_NESTS},
    {.name = "event", .family = "flow", .summary = "From now on, run actions in a new strand each time a call event happens.",
     .params = event_spec, .params_size = sizeof(event_params), .flags = APP_NESTS},
    {.name = "scenario", .family = "flow", .summary = "Run a named scenario with arguments, then return.",
     .params = scenario_spec, .params_size = sizeof(scenario_params)},
    {.name = "log", .family = "flow", .summary = "Write a line to the call's trace.",
     .params = log_spec, .params_size = sizeof(log_params)},
    {.name = "stop", .family = "flow", .summary = "End this strand.",
     .params = stop_spec, .params_size = 0},
    APP_END,
};
