/* durable.h — private to src/apps: what the `db` and `http` applications
 * share for `durable: true` (apps/durable.c). */
#ifndef APP_DURABLE_H
#define APP_DURABLE_H

#include "engine/engine.h"
#include "services/svc.h"

/* A new idempotency key, set as `durable_id` before the action renders its
 * templates (so they can carry it); returns it (in the call's arena). */
const char *app_durable_key(eng_strand *s);
/* Queues J (its key and lane are filled in here) and waits only for it to
 * be stored: the action ends with `durable_status` = queued, or fails. */
app_status app_durable_queue(eng_strand *s, svc_job *j);
/* The cancel hook's half for a durable action; false when S was not
 * waiting for a durable queue write. */
bool app_durable_cancel(eng_strand *s);

/* The action's answer may or may not have been carried out: the request
 * went out and no answer came. `error` and VAR become "unknown" (the
 * action fails); the trace keeps WHY. */
app_status app_unknown(eng_strand *s, const char *var, const char *why);

#endif
