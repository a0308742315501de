/* cond_eval.c — evaluating compiled conditions, and saying why one failed:
 * the first failing leaf and the value it saw. The fast path (WHY == NULL)
 * allocates nothing. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "scenario/cond.h"

#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "scenario/cond_int.h"
#include "scenario/expr.h"

#define SAW_MAX 120   /* longest value quoted in an explanation */

/* One match-data block per thread, reused: a match needs only "did it
 * match", so a one-pair ovector is enough (rc 0 still means a match). */
static __thread pcre2_match_data *tl_match;

typedef struct {
    const char *s;
    size_t len;
    bool defined;
    bool is_num;       /* the variable holds a number (not text) */
    double num;
    char buf[64];
} var_text;

static void read_var(const scn_cond *c, const scn_env *env, var_text *t)
{
    cr_value v = cr_val_null();
    t->defined = env->lookup && env->lookup(env->ctx, c->var, strlen(c->var), &v);
    t->is_num = false;
    t->s = "";
    t->len = 0;
    switch (v.kind) {
    case CR_VAL_STR:
        t->s = v.str;
        t->len = v.len;
        break;
    case CR_VAL_NUM:
        t->is_num = true;
        t->num = v.num;
        if (v.num == floor(v.num) && fabs(v.num) < 1e15)
            snprintf(t->buf, sizeof t->buf, "%.0f", v.num);
        else
            snprintf(t->buf, sizeof t->buf, "%.15g", v.num);
        t->s = t->buf;
        t->len = strlen(t->buf);
        break;
    case CR_VAL_BOOL:
        t->s = v.b ? "true" : "false";
        t->len = strlen(t->s);
        break;
    default:
        break;
    }
}

static bool text_eq(const var_text *t, const char *s, size_t len)
{
    if (t->is_num) {
        double d;
        if (cr_val_as_number(cr_val_str(s, len), &d))
            return d == t->num;
    }
    return t->len == len && memcmp(t->s, s, len) == 0;
}

static bool regex_match(const scn_cond *c, const var_text *t)
{
    if (!c->regex)
        return false;
    if (!tl_match && !(tl_match = pcre2_match_data_create(1, NULL)))
        return false;
    int rc = pcre2_match(c->regex, (PCRE2_SPTR)t->s, t->len, 0, 0, tl_match, NULL);
    return rc >= 0;
}

static bool eval_var(const scn_cond *c, const var_text *t, bool *not_number)
{
    *not_number = false;
    switch (c->op) {
    case SCN_OP_EQUALS: return text_eq(t, c->value, c->value_len);
    case SCN_OP_NOT_EQUALS: return !text_eq(t, c->value, c->value_len);
    case SCN_OP_STARTS_WITH:
        return t->len >= c->value_len && memcmp(t->s, c->value, c->value_len) == 0;
    case SCN_OP_ENDS_WITH:
        return t->len >= c->value_len &&
               memcmp(t->s + t->len - c->value_len, c->value, c->value_len) == 0;
    case SCN_OP_CONTAINS:
        return c->value_len == 0 || memmem(t->s, t->len, c->value, c->value_len) != NULL;
    case SCN_OP_NOT_CONTAINS:
        return c->value_len > 0 && memmem(t->s, t->len, c->value, c->value_len) == NULL;
    case SCN_OP_MATCHES: return regex_match(c, t);
    case SCN_OP_NOT_MATCHES: return !regex_match(c, t);
    case SCN_OP_PATTERN: return c->pattern && scn_dialpat_match(c->pattern, t->s, t->len);
    case SCN_OP_NOT_PATTERN: return c->pattern && !scn_dialpat_match(c->pattern, t->s, t->len);
    case SCN_OP_IN:
    case SCN_OP_NOT_IN: {
        bool in = false;
        for (size_t i = 0; i < c->list_count && !in; i++)
            in = text_eq(t, c->list[i], strlen(c->list[i]));
        return c->op == SCN_OP_IN ? in : !in;
    }
    case SCN_OP_LT:
    case SCN_OP_LE:
    case SCN_OP_GT:
    case SCN_OP_GE:
    case SCN_OP_BETWEEN:
    case SCN_OP_NOT_BETWEEN: {
        double d = t->num;
        if (!t->is_num && !cr_val_as_number(cr_val_str(t->s, t->len), &d)) {
            *not_number = true;
            return false;
        }
        switch (c->op) {
        case SCN_OP_LT: return d < c->number;
        case SCN_OP_LE: return d <= c->number;
        case SCN_OP_GT: return d > c->number;
        case SCN_OP_BETWEEN: return d >= c->number && d <= c->number2;
        case SCN_OP_NOT_BETWEEN: return d < c->number || d > c->number2;
        default: return d >= c->number;
        }
    }
    case SCN_OP_EMPTY: return t->len == 0;
    case SCN_OP_NOT_EMPTY: return t->len > 0;
    default: return false;
    }
}

static void quote(cr_strbuf *out, const char *s, size_t len)
{
    cr_strbuf_putc(out, '\'');
    size_t n = len > SAW_MAX ? SAW_MAX : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        cr_strbuf_putc(out, ch < 0x20 || ch == 0x7f ? '?' : (char)ch);
    }
    if (n < len)
        cr_strbuf_puts(out, "...");
    cr_strbuf_putc(out, '\'');
}

/* "called_number starts_with '7495'" */
static void describe_var(const scn_cond *c, cr_strbuf *out)
{
    cr_strbuf_printf(out, "%s %s", c->var, scn_cond_op_names[c->op]);
    if (c->op == SCN_OP_IN || c->op == SCN_OP_NOT_IN) {
        cr_strbuf_puts(out, " [");
        for (size_t i = 0; i < c->list_count; i++) {
            if (i)
                cr_strbuf_puts(out, ", ");
            quote(out, c->list[i], strlen(c->list[i]));
        }
        cr_strbuf_putc(out, ']');
    } else if (c->op == SCN_OP_BETWEEN || c->op == SCN_OP_NOT_BETWEEN) {
        cr_strbuf_printf(out, " [%.15g, %.15g]", c->number, c->number2);
    } else if (c->value) {
        cr_strbuf_putc(out, ' ');
        if (c->op >= SCN_OP_LT && c->op <= SCN_OP_GE)
            cr_strbuf_append(out, c->value, c->value_len);
        else
            quote(out, c->value, c->value_len);
    }
}

/* " (saw '7916')" */
static void saw_var(const var_text *t, bool not_number, cr_strbuf *out)
{
    if (!t->defined) {
        cr_strbuf_puts(out, " (saw nothing: undefined)");
        return;
    }
    cr_strbuf_puts(out, " (saw ");
    quote(out, t->s, t->len);
    if (not_number)
        cr_strbuf_puts(out, ", not a number");
    cr_strbuf_putc(out, ')');
}

static void describe(const scn_cond *c, cr_strbuf *out)
{
    switch (c->kind) {
    case SCN_COND_VAR: describe_var(c, out); break;
    case SCN_COND_SCHEDULE: scn_schedule_describe(c->schedule, out); break;
    case SCN_COND_EXPR: cr_strbuf_printf(out, "expr \"%s\"", c->expr_src); break;
    case SCN_COND_GROUP:
        cr_strbuf_printf(out, "%s of %zu conditions", c->any ? "any" : "all", c->count);
        break;
    case SCN_COND_NOT:
        cr_strbuf_puts(out, "not (");
        describe(c->inner, out);
        cr_strbuf_putc(out, ')');
        break;
    case SCN_COND_CALLER_GROUP:
        cr_strbuf_printf(out, "caller_group %s", c->group);
        break;
    }
}

/* The caller is a user (source "user:N", set by the driver for a call from
 * a registered, authenticated phone) and N is a member of the group. A
 * number a trunk sent is not a user, whatever it says. */
static bool caller_in_group(const scn_cond *c, const scn_env *env, var_text *src)
{
    scn_cond probe = {.var = "source"};
    read_var(&probe, env, src);
    if (src->len <= 5 || memcmp(src->s, "user:", 5) != 0)
        return false;
    for (size_t i = 0; i < c->list_count; i++)
        if (strlen(c->list[i]) == src->len - 5 && memcmp(c->list[i], src->s + 5, src->len - 5) == 0)
            return true;
    return false;
}

bool scn_cond_eval(const scn_cond *c, const scn_env *env, cr_strbuf *why)
{
    switch (c->kind) {
    case SCN_COND_VAR: {
        var_text t;
        bool nan_;
        read_var(c, env, &t);
        if (eval_var(c, &t, &nan_))
            return true;
        if (why) {
            describe_var(c, why);
            saw_var(&t, nan_, why);
        }
        return false;
    }
    case SCN_COND_SCHEDULE:
        return scn_schedule_eval(c->schedule, env->now, why);
    case SCN_COND_CALLER_GROUP: {
        var_text t;
        if (caller_in_group(c, env, &t))
            return true;
        if (why) {
            cr_strbuf_printf(why, "caller_group %s (saw source ", c->group);
            quote(why, t.s, t.len);
            cr_strbuf_putc(why, ')');
        }
        return false;
    }
    case SCN_COND_EXPR: {
        cr_value v = scn_expr_eval(c->expr, env);
        if (v.kind == CR_VAL_ERR) {
            if (why)
                cr_strbuf_printf(why, "expr \"%s\" failed: %s", c->expr_src, v.str ? v.str : "error");
            return false;
        }
        if (cr_val_truthy(v))
            return true;
        if (why)
            cr_strbuf_printf(why, "expr \"%s\" was false", c->expr_src);
        return false;
    }
    case SCN_COND_GROUP:
        if (c->count == 0)
            return true;   /* no conditions: always matches */
        if (!c->any) {
            for (size_t i = 0; i < c->count; i++)
                if (!scn_cond_eval(c->items[i], env, why))
                    return false;
            return true;
        }
        for (size_t i = 0; i < c->count; i++)
            if (scn_cond_eval(c->items[i], env, NULL))
                return true;
        if (why) {
            /* Say why each alternative failed: any of them would have done. */
            cr_strbuf_puts(why, "none of: ");
            for (size_t i = 0; i < c->count; i++) {
                if (i)
                    cr_strbuf_puts(why, "; ");
                scn_cond_eval(c->items[i], env, why);
            }
        }
        return false;
    case SCN_COND_NOT:
        if (!scn_cond_eval(c->inner, env, NULL))
            return true;
        if (why) {
            cr_strbuf_puts(why, "not (");
            describe(c->inner, why);
            cr_strbuf_puts(why, ") held");
            if (c->inner->kind == SCN_COND_VAR) {
                var_text t;
                read_var(c->inner, env, &t);
                saw_var(&t, false, why);
            } else if (c->inner->kind == SCN_COND_CALLER_GROUP) {
                var_text t;
                caller_in_group(c->inner, env, &t);
                cr_strbuf_puts(why, " (saw source ");
                quote(why, t.s, t.len);
                cr_strbuf_putc(why, ')');
            } else if (c->inner->kind == SCN_COND_SCHEDULE) {
                scn_schedule_saw(c->inner->schedule, env->now, why);
            }
        }
        return false;
    }
    return false;
}
