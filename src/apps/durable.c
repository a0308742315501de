/* durable.c — `durable: true` on `db` and `http` (docs/services.md): the
 * request is rendered now, with `durable_id` available to its templates,
 * and handed to the services' durable jobs (svc_job_queue). The action
 * waits only until the job is stored in the outbox (milliseconds); the
 * write itself happens in the background, retried until it succeeds, and
 * outlives the call. */
#include "apps/durable.h"
#include "util/alloc.h"

#include <stdlib.h>

/* The action waits for the outbox write; a hangup or a timeout meanwhile
 * only detaches the strand (the job may still be stored, and then it is
 * done). */
typedef struct durable_op {
    eng_strand *s;
} durable_op;

const char *app_durable_key(eng_strand *s)
{
    char key[SVC_JOB_KEY_LEN + 1];
    svc_job_key(key);
    const char *k = cr_arena_strdup(eng_call_arena(eng_strand_call(s)), key);
    eng_strand_var_set(s, "durable_id", cr_val_cstr(k));
    return k;
}

static void queued_cb(void *arg, const char *error)
{
    durable_op *op = arg;
    eng_strand *s = op->s;
    free(op);
    if (!s)
        return;
    eng_strand_set_pending(s, NULL);
    eng_strand_var_set(s, "durable_status", cr_val_cstr(error ? "failed" : "queued"));
    eng_strand_resume(s, error ? eng_fail(s, "%s", error) : APP_DONE);
}

app_status app_durable_queue(eng_strand *s, svc_job *j)
{
    struct svc_ctx *svc = eng_engine_services(eng_strand_engine(s));
    eng_call *c = eng_strand_call(s);
    /* The call's own writes happen in order, one at a time; the start time
     * keeps two calls that share a Call-ID apart. */
    j->lane = cr_arena_printf(eng_call_arena(c), "%s@%.6f", eng_call_id(c), eng_call_start(c));
    durable_op *op = cr_xcalloc(1, sizeof *op);
    op->s = s;
    eng_strand_set_pending(s, op);
    svc_job_queue(svc, j, queued_cb, op);   /* copies J; may call back at once */
    return APP_PENDING;
}

bool app_durable_cancel(eng_strand *s)
{
    durable_op *op = eng_strand_pending(s);
    if (!op)
        return false;
    eng_strand_set_pending(s, NULL);
    op->s = NULL;   /* queued_cb frees it */
    if (!eng_call_ended(eng_strand_call(s))) {
        /* Timed out waiting for the outbox: the job may yet be stored. */
        eng_strand_var_set(s, "durable_status", cr_val_cstr("unknown"));
        eng_fail(s, "unknown");
    }
    return true;
}

app_status app_unknown(eng_strand *s, const char *var, const char *why)
{
    eng_trace_log(s, "warning", "no answer after the request went out (%s): it may have been carried out", why);
    eng_strand_var_set(s, var, cr_val_cstr("unknown"));
    return eng_fail(s, "unknown");
}
