/* email.c — the `email` application: queued durably, sent in the background. */
#include <stddef.h>

#include "apps/registry.h"
#include "scenario/param.h"

#define F(type, field) offsetof(type, field)

typedef struct email_params {
    scn_templates to, cc;
    const scn_template *subject;
    const scn_template *body;
    scn_templates attach;
} email_params;

static const scn_param email_spec[] = {
    {.name = "to", .type = P_TEMPLATES, .offset = F(email_params, to), .flags = P_REQ | P_NONEMPTY,
     .doc = "recipient address or list (templates)"},
    {.name = "cc", .type = P_TEMPLATES, .offset = F(email_params, cc), .doc = "copy recipients"},
    {.name = "subject", .type = P_TEMPLATE, .offset = F(email_params, subject), .doc = "subject (a template)"},
    {.name = "body", .type = P_TEMPLATE, .offset = F(email_params, body), .flags = P_REQ,
     .doc = "text body (a template)"},
    {.name = "attach", .type = P_TEMPLATES, .offset = F(email_params, attach),
     .doc = "files to attach, e.g. a recording"},
    SCN_PARAM_END,
};

const app_def app_email_table[] = {
    {.name = "email", .family = "integration",
     .summary = "Queue an e-mail in the durable outbox; it is sent in the background with retries.",
     .params = email_spec, .params_size = sizeof(email_params)},
    APP_END,
};
