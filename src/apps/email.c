/* email.c — the `email` application: rendered, then queued durably in the
 * outbox (the action waits only for that write, never for the mail
 * server) and sent in the background with retries. In simulate and
 * `callroute test` the message is captured and shown in the trace instead.
 *
 * Header values (subject) lose CR and LF. `to` and `cc` may each be a
 * list, and a template may name several addresses separated by ',' or ';'
 * in its own text; a value rendered into an address must leave exactly one
 * valid address, or the action fails (nothing is queued). `attach` paths are
 * below settings.media.recordings, like `record`'s file (values in them are
 * path-escaped); one outside fails the action. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/param.h"
#include "services/svc.h"
#include "util/alloc.h"

#define F(type, field) offsetof(type, field)

typedef struct email_params {
    scn_templates to, cc;
    const scn_template *subject;
    const scn_template *body;
    scn_templates attach;
} email_params;

typedef struct addr_list {
    const char **items;
    size_t count, cap;
} addr_list;

static void addr_push(addr_list *l, cr_arena *a, const char *s)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        const char **items = cr_arena_alloc(a, cap * sizeof *items);
        if (l->count)
            memcpy(items, l->items, l->count * sizeof *items);
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = s;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* RFC 5322 atext, the characters of a dot-atom local part and of an
 * unquoted display name. */
static bool is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* An addr-spec "local@domain" of N bytes: a dot-atom local part, a domain of
 * letters, digits, '-' and '.', exactly one '@'. */
static bool addr_spec_ok(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (!at || at == s || at == s + n - 1 || memchr(at + 1, '@', (size_t)(s + n - at - 1)))
        return false;
    for (const char *p = s; p < at; p++)
        if (!is_atext((unsigned char)*p) && !(*p == '.' && p != s && p != at - 1 && p[-1] != '.'))
            return false;
    for (const char *p = at + 1; p < s + n; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || (*p == '.' && p != at + 1 && p != s + n - 1 && p[-1] != '.')))
            return false;
    return true;
}

/* True when S (already trimmed) is exactly one mailbox: "a@b",
 * "Name <a@b>" or "\"Any, name\" <a@b>". Whatever a value rendered into it,
 * a second address, a stray separator or a line break makes it false. */
static bool one_mailbox(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || s[n - 1] != '>')
        return addr_spec_ok(s, n);
    const char *p = s;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
                return false;
        if (*p != '"')
            return false;
        p++;
    } else {
        for (; *p && *p != '<'; p++)
            if (!is_atext((unsigned char)*p) && !is_blank(*p) && *p != '.' && (unsigned char)*p < 0x80)
                return false;
    }
    while (is_blank(*p))
        p++;
    if (*p != '<')
        return false;
    return addr_spec_ok(p + 1, (size_t)(s + n - 1 - (p + 1)));
}

/* Splits the template SRC (as written) into the recipients it names: at the
 * ',' and ';' of its own text outside quotes, <> and {variables}; then each
 * part is rendered on its own, so a separator inside a value ("x;root") is
 * never a second recipient — it makes that one address invalid instead.
 * NULL, or the message of the first part that is not one mailbox. */
static const char *addr_split(addr_list *l, eng_strand *s, cr_arena *a, const scn_template *t)
{
    const char *src = scn_template_source(t);
    const char *start = src;
    bool quoted = false;
    int angle = 0;
    for (const char *p = src;; p++) {
        if ((*p == '{' || *p == '}') && p[1] == *p) {
            p++;   /* a literal brace */
            continue;
        }
        if (*p == '{' && strchr(p, '}')) {
            p = strchr(p, '}');
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '<' && !quoted)
            angle++;
        else if (*p == '>' && !quoted && angle)
            angle--;
        if (*p != '\0' && !((*p == ',' || *p == ';') && !quoted && !angle))
            continue;
        size_t n = (size_t)(p - start);
        scn_parse_error err = {0};
        const scn_template *part = n ? scn_template_compile(a, start, n, &err) : NULL;
        if (part) {
            const char *v = eng_render(s, part, SCN_ESC_NONE);
            while (is_blank(*v))
                v++;
            size_t vn = strlen(v);
            while (vn && is_blank(v[vn - 1]))
                vn--;
            char *addr = cr_arena_strndup(a, v, vn);
            if (vn && !one_mailbox(addr)) {
                cr_strbuf b = CR_STRBUF_INIT;
                cr_strbuf_printf(&b, "invalid recipient address \"%s\" (from \"%.*s\"): not one address",
                                 addr, (int)n, start);
                for (char *c = b.s; *c; c++)   /* the message goes to logs */
                    if ((unsigned char)*c < 0x20)
                        *c = '?';
                const char *msg = cr_arena_strdup(a, b.s);
                cr_strbuf_free(&b);
                return msg;
            }
            if (vn)
                addr_push(l, a, addr);
        }
        if (!*p)
            break;
        start = p + 1;
    }
    return NULL;
}

/* Header values: CR/LF from the template's own text go too. */
static const char *header_text(eng_strand *s, const scn_template *t, cr_arena *a)
{
    char *v = cr_arena_strdup(a, t ? eng_render(s, t, SCN_ESC_HEADER) : "");
    for (char *p = v; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    return v;
}

static const char *joined(const addr_list *l, cr_arena *a)
{
    cr_strbuf b = CR_STRBUF_INIT;
    for (size_t i = 0; i < l->count; i++) {
        if (i)
            cr_strbuf_puts(&b, ", ");
        cr_strbuf_puts(&b, l->items[i]);
    }
    const char *r = cr_arena_strdup(a, cr_strbuf_cstr(&b));
    cr_strbuf_free(&b);
    return r;
}

/* The action waits for the outbox write; a hangup meanwhile only detaches
 * the strand (the message is still queued). */
typedef struct email_op {
    eng_strand *s;
} email_op;

static void queued_cb(void *arg, const char *error)
{
    email_op *op = arg;
    eng_strand *s = op->s;
    free(op);
    if (!s)
        return;
    eng_strand_set_pending(s, NULL);
    if (error)
        eng_strand_resume(s, eng_fail(s, "%s", error));
    else
        eng_strand_resume(s, APP_DONE);
}

static app_status email_run(eng_strand *s, const scn_action *a)
{
    const email_params *p = a->params;
    struct svc_ctx *svc = eng_engine_services(eng_strand_engine(s));
    cr_arena *ar = eng_call_arena(eng_strand_call(s));
    addr_list to = {0}, cc = {0};
    const char *bad = NULL;
    for (size_t i = 0; i < p->to.count && !bad; i++)
        bad = addr_split(&to, s, ar, p->to.items[i]);
    for (size_t i = 0; i < p->cc.count && !bad; i++)
        bad = addr_split(&cc, s, ar, p->cc.items[i]);
    if (bad)
        return eng_fail(s, "%s", bad);
    if (to.count == 0)
        return eng_fail(s, "no recipient: `to` rendered empty");
    const char *subject = header_text(s, p->subject, ar);
    const char *body = cr_arena_strdup(ar, eng_render(s, p->body, SCN_ESC_NONE));
    const char **attach = cr_arena_alloc(ar, (p->attach.count + 1) * sizeof *attach);
    for (size_t i = 0; i < p->attach.count; i++) {
        const char *why, *f = eng_file_path(s, ENG_DIR_RECORDINGS, "attachment", p->attach.items[i], &why);
        if (!f)
            return eng_fail(s, "%s", why);
        attach[i] = cr_arena_strdup(ar, f);
    }

    svc_mail m = {.to = to.items, .to_count = to.count, .cc = cc.items, .cc_count = cc.count,
                  .subject = subject, .body = body, .attach = attach, .attach_count = p->attach.count};
    /* The trace shows every message, sent or captured. */
    eng_trace_email_cc(s, joined(&to, ar), cc.count ? joined(&cc, ar) : NULL, subject, body);
    if (!svc || svc_mail_mode_of(svc) == SVC_MAIL_CAPTURE) {
        if (svc)
            svc_mail_queue(svc, &m, NULL, NULL);
        return APP_DONE;
    }
    email_op *op = cr_xcalloc(1, sizeof *op);
    op->s = s;
    eng_strand_set_pending(s, op);
    svc_mail_queue(svc, &m, queued_cb, op);   /* copies M */
    return APP_PENDING;
}

static void email_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    email_op *op = eng_strand_pending(s);
    if (!op)
        return;
    eng_strand_set_pending(s, NULL);
    op->s = NULL;   /* queued_cb frees it */
}

static const scn_param email_spec[] = {
    {.name = "to", .type = P_TEMPLATES, .offset = F(email_params, to), .flags = P_REQ | P_NONEMPTY,
     .doc = "recipient address or list (templates)"},
    {.name = "cc", .type = P_TEMPLATES, .offset = F(email_params, cc), .doc = "copy recipients"},
    {.name = "subject", .type = P_TEMPLATE, .offset = F(email_params, subject), .doc = "subject (a template)"},
    {.name = "body", .type = P_TEMPLATE, .offset = F(email_params, body), .flags = P_REQ,
     .doc = "text body (a template)"},
    {.name = "attach", .type = P_TEMPLATES, .offset = F(email_params, attach), .flags = P_FILE_RECORDINGS,
     .doc = "files to attach, e.g. a recording: paths below settings.media.recordings, as for record"},
    SCN_PARAM_END,
};

const app_def app_email_table[] = {
    {.name = "email", .family = "integration",
     .summary = "Queue an e-mail in the durable outbox; it is sent in the background with retries.",
     .params = email_spec, .params_size = sizeof(email_params), .run = email_run, .cancel = email_cancel},
    APP_END,
};
