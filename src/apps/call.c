/* call.c — the Call control family: answer, ringing, hangup, dial, transfer. */
#include <stddef.h>

#include "apps/registry.h"
#include "scenario/param.h"

#define F(type, field) offsetof(type, field)

typedef struct ringing_params {
    bool early_media;
} ringing_params;

typedef struct hangup_params {
    const char *cause;        /* busy | congestion | normal | a SIP code */
} hangup_params;

typedef struct dial_params {
    scn_templates to;         /* user, group, number, SIP URI; a list rings all */
    scn_refs gateway;         /* tried in order for numbers */
    double timeout;           /* ring time, seconds */
    const scn_template *caller_id;
    const char *ringback;     /* "tone" or a file */
    scn_handlers on;
} dial_params;

typedef struct transfer_params {
    const scn_template *to;
} transfer_params;

static const scn_param answer_spec[] = {SCN_PARAM_END};

static const scn_param ringing_spec[] = {
    {.name = "early_media", .type = P_BOOL, .offset = F(ringing_params, early_media), .def = "false",
     .doc = "send 183 Session Progress with media instead of 180 Ringing"},
    SCN_PARAM_END,
};

static const scn_param hangup_spec[] = {
    {.name = "cause", .type = P_STRING, .offset = F(hangup_params, cause), .def = "normal",
     .doc = "busy, congestion, normal, or a SIP code (400-699)"},
    SCN_PARAM_END,
};

static const scn_param dial_spec[] = {
    {.name = "to", .type = P_TEMPLATES, .offset = F(dial_params, to), .flags = P_REQ | P_NONEMPTY,
     .doc = "a user, a group, a number, a SIP URI, or a list (ring all, first answer wins)"},
    {.name = "gateway", .type = P_GATEWAYS, .offset = F(dial_params, gateway),
     .doc = "gateway name or list, tried in order for numbers"},
    {.name = "timeout", .type = P_DURATION, .offset = F(dial_params, timeout), .def = "30",
     .min = 1, .max = 3600, .doc = "ring time before the dial gives up (no_answer)"},
    {.name = "caller_id", .type = P_TEMPLATE, .offset = F(dial_params, caller_id),
     .doc = "caller number presented to the dialled party"},
    {.name = "ringback", .type = P_STRING, .offset = F(dial_params, ringback),
     .doc = "`tone` or a prompt file played to the caller while the leg rings"},
    {.name = "on", .type = P_HANDLERS, .offset = F(dial_params, on),
     .doc = "leg event -> actions, each run in a new strand"},
    SCN_PARAM_END,
};

static const scn_param transfer_spec[] = {
    {.name = "to", .type = P_TEMPLATE, .offset = F(transfer_params, to), .flags = P_REQ,
     .doc = "where to send the caller (number, user or SIP URI)"},
    SCN_PARAM_END,
};

const app_def app_call_table[] = {
    {.name = "answer", .family = "call", .summary = "Answer the call (200 OK).",
     .params = answer_spec, .params_size = 0, .flags = APP_CALL_CONTROL},
    {.name = "ringing", .family = "call", .summary = "Signal ringing (180), or 183 with early media.",
     .params = ringing_spec, .params_size = sizeof(ringing_params), .flags = APP_CALL_CONTROL},
    {.name = "hangup", .family = "call", .summary = "End the call with a cause.",
     .params = hangup_spec, .params_size = sizeof(hangup_params), .flags = APP_CALL_CONTROL},
    {.name = "dial", .family = "call",
     .summary = "Call a user, group, number or URI (\"call through the gateway\") and bridge on answer.",
     .params = dial_spec, .params_size = sizeof(dial_params),
     .flags = APP_CALL_CONTROL | APP_WAITS | APP_OWN_TIMEOUT | APP_NESTS},
    {.name = "transfer", .family = "call", .summary = "Blind-transfer the caller (SIP REFER where supported).",
     .params = transfer_spec, .params_size = sizeof(transfer_params), .flags = APP_CALL_CONTROL | APP_WAITS},
    APP_END,
};
