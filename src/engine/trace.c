/* trace.c — trace records: built here, handed to the sink (simulate prints
 * them, serve logs them), and formatted as JSON or aligned text. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine_int.h"

const char *const eng_trace_kind_names[] = {
#define ENG_TR_NAME(e, s) s,
    ENG_TRACE_KINDS(ENG_TR_NAME)
#undef ENG_TR_NAME
    NULL};

void eng_emit(eng_call *c, eng_strand *s, eng_trace_rec *r)
{
    eng_engine *e = c->e;
    if (!e->tracing)
        return;
    r->now = loop_now(e->l);
    r->t = r->now - c->start;
    r->call_id = eng_call_idp(c);
    r->call = c;
    if (s && !r->strand) {
        r->strand = s->id;
        r->strand_name = s->name;
    }
    if (e->opt.trace)
        e->opt.trace(e->opt.trace_arg, r);
    for (size_t i = 0; i < e->opt.observer_count; i++)
        if (e->opt.observers[i].trace)
            e->opt.observers[i].trace(e->opt.observers[i].arg, r);
}

void eng_trace_app(eng_strand *s, const scn_action *a, const char *phase, const char *status,
                   const char *error, bool with_vars)
{
    eng_call *c = s->call;
    if (!c->e->tracing)
        return;
    eng_trace_rec r = {.kind = ENG_TR_APP, .app = a->app->name, .path = a->path, .id = a->id,
                       .phase = phase, .status = status, .error = error};
    eng_trace_var vars[32];
    size_t n = 0;
    if (with_vars) {
        for (eng_var *v = c->vars; v && n < 32; v = v->next)
            if (v->seq > s->var_seq && (v->writer == s->id || v->writer == 0))
                vars[n++] = (eng_trace_var){v->name, eng_var_value(v)};
    }
    r.vars = n ? vars : NULL;
    r.var_count = n;
    eng_emit(c, s, &r);
}

void eng_trace_log(eng_strand *s, const char *level, const char *fmt, ...)
{
    if (!s->call->e->tracing)
        return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    eng_trace_rec r = {.kind = ENG_TR_LOG, .level = level ? level : "info", .message = buf};
    eng_emit(s->call, s, &r);
}

void eng_trace_email_cc(eng_strand *s, const char *to, const char *cc, const char *subject,
                        const char *body)
{
    eng_trace_rec r = {.kind = ENG_TR_EMAIL, .to = to ? to : "", .cc = cc,
                       .subject = subject ? subject : "", .body = body ? body : ""};
    eng_emit(s->call, s, &r);
}

void eng_trace_email(eng_strand *s, const char *to, const char *subject, const char *body)
{
    eng_trace_email_cc(s, to, NULL, subject, body);
}

void eng_trace_meet(eng_call *c, eng_strand *s, const eng_trace_rec *m)
{
    eng_trace_rec r = *m;
    r.kind = ENG_TR_MEET;
    eng_emit(c, s, &r);
}

/* ---- JSON ---- */

static void j_str(cr_strbuf *b, const char *key, const char *v)
{
    if (!v)
        return;
    cr_strbuf_printf(b, ",\"%s\":", key);
    cr_strbuf_json_str(b, v, strlen(v));
}

static void j_value(cr_strbuf *b, cr_value v)
{
    switch (v.kind) {
    case CR_VAL_NULL: cr_strbuf_puts(b, "null"); break;
    case CR_VAL_BOOL: cr_strbuf_puts(b, v.b ? "true" : "false"); break;
    case CR_VAL_NUM: {
        cr_strbuf t = CR_STRBUF_INIT;
        cr_val_to_text(v, &t);
        /* NaN/inf are not JSON: write them as strings. */
        const char *txt = cr_strbuf_cstr(&t);
        if (strspn(txt, "-0123456789.e+") == t.len && t.len)
            cr_strbuf_puts(b, txt);
        else
            cr_strbuf_json_str(b, txt, t.len);
        cr_strbuf_free(&t);
        break;
    }
    default: cr_strbuf_json_str(b, v.str ? v.str : "", v.len); break;
    }
}

static void j_vars(cr_strbuf *b, const eng_trace_rec *r)
{
    if (!r->var_count)
        return;
    cr_strbuf_puts(b, ",\"vars\":{");
    for (size_t i = 0; i < r->var_count; i++) {
        if (i)
            cr_strbuf_putc(b, ',');
        cr_strbuf_json_str(b, r->vars[i].name, strlen(r->vars[i].name));
        cr_strbuf_putc(b, ':');
        j_value(b, r->vars[i].value);
    }
    cr_strbuf_putc(b, '}');
}

void eng_trace_json(const eng_trace_rec *r, cr_strbuf *b)
{
    cr_strbuf_printf(b, "{\"t\":%.3f,\"kind\":\"%s\"", r->t, eng_trace_kind_names[r->kind]);
    if (r->strand)
        cr_strbuf_printf(b, ",\"strand\":%u", r->strand);
    j_str(b, "strand_name", r->strand_name);
    switch (r->kind) {
    case ENG_TR_ROUTE:
        cr_strbuf_puts(b, ",\"route\":");
        if (r->route)
            cr_strbuf_json_str(b, r->route, strlen(r->route));
        else
            cr_strbuf_puts(b, "null");
        j_str(b, "leg", r->leg);
        j_str(b, "explain", r->explain);
        break;
    case ENG_TR_APP:
        j_str(b, "app", r->app);
        j_str(b, "phase", r->phase);
        j_str(b, "path", r->path);
        j_str(b, "id", r->id);
        j_str(b, "status", r->status);
        j_str(b, "error", r->error);
        j_vars(b, r);
        break;
    case ENG_TR_EVENT:
        j_str(b, "event", r->event);
        j_str(b, "by", r->by);
        j_str(b, "leg", r->leg);
        j_str(b, "digit", r->digit);
        if (r->sip_code)
            cr_strbuf_printf(b, ",\"sip_code\":%d", r->sip_code);
        j_vars(b, r);
        break;
    case ENG_TR_ORIGINATE:
        j_str(b, "to", r->to);
        j_str(b, "gateway", r->gateway);
        j_str(b, "scenario", r->scenario);
        j_str(b, "by", r->by);
        j_str(b, "parent", r->parent);
        j_vars(b, r);
        break;
    case ENG_TR_VARS:
        j_str(b, "by", r->by);
        j_vars(b, r);
        break;
    case ENG_TR_EMAIL:
        j_str(b, "to", r->to);
        j_str(b, "cc", r->cc);
        j_str(b, "subject", r->subject);
        j_str(b, "body", r->body);
        break;
    case ENG_TR_HANGUP:
        j_str(b, "by", r->by);
        j_str(b, "cause", r->cause);
        if (r->sip_code)
            cr_strbuf_printf(b, ",\"sip_code\":%d", r->sip_code);
        break;
    case ENG_TR_LOG:
    case ENG_TR_ERROR:
        j_str(b, "level", r->level);
        j_str(b, "message", r->message);
        break;
    case ENG_TR_MEET:
        j_str(b, "event", r->event);
        j_str(b, "phase", r->phase);
        j_str(b, "room", r->room);
        if (r->member)
            cr_strbuf_printf(b, ",\"member\":%u", r->member);
        j_str(b, "mode", r->mode);
        j_str(b, "slot", r->slot);
        j_str(b, "peer", r->peer);
        j_str(b, "cause", r->cause);
        break;
    case ENG_TR_CALL:
        cr_strbuf_puts(b, ",\"route\":");
        if (r->route)
            cr_strbuf_json_str(b, r->route, strlen(r->route));
        else
            cr_strbuf_puts(b, "null");
        j_str(b, "by", r->by);
        j_str(b, "cause", r->cause);
        cr_strbuf_printf(b, ",\"duration\":%.3f", r->duration);
        break;
    }
    j_str(b, "call", r->call_id);
    cr_strbuf_putc(b, '}');
}

/* ---- text ---- */

static void t_quoted(cr_strbuf *b, const char *s)
{
    cr_strbuf_json_str(b, s, strlen(s));
}

/* Width of the columns before the detail: time, strand, kind. */
#define T_WHO 16
#define T_INDENT (8 + 2 + T_WHO + 2 + 6 + 2)

static void t_vars(cr_strbuf *b, const eng_trace_rec *r)
{
    for (size_t i = 0; i < r->var_count; i++) {
        cr_strbuf_printf(b, "%s%s=", i ? " " : "  ", r->vars[i].name);
        cr_strbuf t = CR_STRBUF_INIT;
        cr_val_to_text(r->vars[i].value, &t);
        if (r->vars[i].value.kind == CR_VAL_STR)
            t_quoted(b, cr_strbuf_cstr(&t));
        else
            cr_strbuf_puts(b, cr_strbuf_cstr(&t));
        cr_strbuf_free(&t);
    }
}

static void t_indent_lines(cr_strbuf *b, const char *text)
{
    /* Continuation lines line up under the detail column. */
    for (const char *p = text; *p; p++) {
        cr_strbuf_putc(b, *p);
        if (*p == '\n' && p[1])
            cr_strbuf_printf(b, "%*s", T_INDENT, "");
    }
    if (b->len && b->s[b->len - 1] == '\n')
        b->s[--b->len] = '\0';
}

void eng_trace_text(const eng_trace_rec *r, cr_strbuf *b)
{
    char who[32] = "";
    if (r->strand)
        snprintf(who, sizeof who, "%u %s", r->strand, r->strand_name ? r->strand_name : "");
    cr_strbuf_printf(b, "%8.3f  %-*.*s  %-6s  ", r->t, T_WHO, T_WHO, who, eng_trace_kind_names[r->kind]);
    switch (r->kind) {
    case ENG_TR_ROUTE:
        cr_strbuf_puts(b, r->route ? r->route : "(no route)");
        if (r->leg)
            cr_strbuf_printf(b, "  for leg %s", r->leg);
        if (r->explain) {
            cr_strbuf_printf(b, "\n%*s", T_INDENT, "");
            t_indent_lines(b, r->explain);
        }
        break;
    case ENG_TR_APP:
        cr_strbuf_printf(b, "%-5s %-12s %s", r->phase, r->app, r->path ? r->path : "");
        if (r->id)
            cr_strbuf_printf(b, " (%s)", r->id);
        if (r->status)
            cr_strbuf_printf(b, "  %s", r->status);
        if (r->error && strcmp(r->error, r->status ? r->status : "") != 0)
            cr_strbuf_printf(b, ": %s", r->error);
        t_vars(b, r);
        break;
    case ENG_TR_EVENT:
        cr_strbuf_puts(b, r->event);
        if (r->by)
            cr_strbuf_printf(b, " by %s", r->by);
        if (r->leg)
            cr_strbuf_printf(b, "  leg %s", r->leg);
        if (r->digit)
            cr_strbuf_printf(b, "  digit %s", r->digit);
        if (r->sip_code)
            cr_strbuf_printf(b, "  (%d)", r->sip_code);
        t_vars(b, r);
        break;
    case ENG_TR_ORIGINATE:
        cr_strbuf_printf(b, "%s", r->to ? r->to : "");
        if (r->gateway)
            cr_strbuf_printf(b, " via %s", r->gateway);
        cr_strbuf_printf(b, "  scenario %s  by %s", r->scenario ? r->scenario : "?", r->by ? r->by : "?");
        if (r->parent)
            cr_strbuf_printf(b, " (call %s)", r->parent);
        t_vars(b, r);
        break;
    case ENG_TR_VARS:
        cr_strbuf_printf(b, "set by %s", r->by ? r->by : "?");
        t_vars(b, r);
        break;
    case ENG_TR_EMAIL:
        cr_strbuf_printf(b, "to %s", r->to);
        if (r->cc)
            cr_strbuf_printf(b, " cc %s", r->cc);
        cr_strbuf_puts(b, "  subject ");
        t_quoted(b, r->subject);
        cr_strbuf_printf(b, "\n%*s", T_INDENT, "");
        t_indent_lines(b, r->body);
        break;
    case ENG_TR_HANGUP:
        cr_strbuf_printf(b, "by %s  cause %s", r->by ? r->by : "?", r->cause ? r->cause : "?");
        if (r->sip_code)
            cr_strbuf_printf(b, "  (%d)", r->sip_code);
        break;
    case ENG_TR_LOG:
    case ENG_TR_ERROR:
        cr_strbuf_printf(b, "%-7s ", r->level ? r->level : "");
        t_indent_lines(b, r->message ? r->message : "");
        break;
    case ENG_TR_MEET:
        cr_strbuf_printf(b, "%s %s", r->event ? r->event : "?", r->phase ? r->phase : "");
        if (r->room)
            cr_strbuf_printf(b, "  room %s", r->room);
        if (r->member)
            cr_strbuf_printf(b, "  member %u", r->member);
        if (r->mode)
            cr_strbuf_printf(b, "  mode %s", r->mode);
        if (r->slot)
            cr_strbuf_printf(b, "  slot %s", r->slot);
        if (r->peer)
            cr_strbuf_printf(b, "  call %s", r->peer);
        if (r->cause)
            cr_strbuf_printf(b, "  (%s)", r->cause);
        break;
    case ENG_TR_CALL:
        cr_strbuf_printf(b, "end  route %s  duration %.3f s", r->route ? r->route : "(none)",
                         r->duration);
        if (r->by)
            cr_strbuf_printf(b, "  hangup by %s (%s)", r->by, r->cause ? r->cause : "");
        break;
    }
}
