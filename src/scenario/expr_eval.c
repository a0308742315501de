/* expr_eval.c — evaluates a compiled expression tree (semantics: expr.c).
 * Values are passed by value; only new strings (joins, function results,
 * error messages) are allocated, in env->scratch. */
#include "scenario/expr_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Regexes are matched with bounded effort so that a pathological pattern
 * costs an error, not a stalled call. */
#define EX_MATCH_LIMIT 1000000
#define EX_HEAP_LIMIT_KIB 4096

static const char *op_names[] = {
    [EX_NEG] = "-", [EX_LT] = "<", [EX_LE] = "<=", [EX_GT] = ">", [EX_GE] = ">=",
    [EX_ADD] = "+", [EX_SUB] = "-", [EX_MUL] = "*", [EX_DIV] = "/", [EX_MOD] = "%",
};

/* A value as it would be written, shortened, for error messages. */
static const char *describe(cr_value v, char *buf, size_t cap)
{
    if (v.kind == CR_VAL_STR) {
        int n = v.len > 24 ? 24 : (int)v.len;
        snprintf(buf, cap, "'%.*s%s'", n, v.str ? v.str : "", v.len > 24 ? "..." : "");
        return buf;
    }
    if (v.kind == CR_VAL_NULL)
        return "null";
    size_t len;
    return cr_val_text(v, buf, &len);
}

/* "cannot compute 'abc' - 1", "cannot compare null < 5". */
static cr_value type_error(const scn_env *env, ex_op op, cr_value a, cr_value b)
{
    char x[40], y[40];
    bool cmp = op >= EX_LT && op <= EX_GE;
    return cr_val_err(env->scratch, "cannot %s %s %s %s", cmp ? "compare" : "compute",
                      describe(a, x, sizeof x), op_names[op], describe(b, y, sizeof y));
}

cr_value ex_regex_match(const pcre2_code *re, const char *subject, size_t len, const scn_env *env)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    int rc = PCRE2_ERROR_NOMEMORY;
    if (md && mc) {
        pcre2_set_match_limit(mc, EX_MATCH_LIMIT);
        pcre2_set_heap_limit(mc, EX_HEAP_LIMIT_KIB);
        rc = pcre2_match(re, (PCRE2_SPTR)(subject ? subject : ""), len, 0, 0, md, mc);
    }
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    if (rc >= 0)
        return cr_val_bool(true);
    if (rc == PCRE2_ERROR_NOMATCH)
        return cr_val_bool(false);
    PCRE2_UCHAR msg[120];
    pcre2_get_error_message(rc, msg, sizeof msg);
    return cr_val_err(env->scratch, "regex match failed: %s", (const char *)msg);
}

static cr_value match(const scn_expr *e, cr_value subj, cr_value pat, const scn_env *env)
{
    char sbuf[CR_VAL_TEXT_MAX];
    size_t slen;
    const char *s = cr_val_text(subj, sbuf, &slen);
    if (e->re)
        return ex_regex_match(e->re, s, slen, env);
    /* A pattern known only now: compiled with malloc and freed at once. */
    char pbuf[CR_VAL_TEXT_MAX];
    size_t plen;
    const char *ps = cr_val_text(pat, pbuf, &plen);
    int code;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)ps, plen, 0, &code, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(code, msg, sizeof msg);
        return cr_val_err(env->scratch, "invalid regex '%.*s': %s at offset %zu",
                          (int)(plen > 60 ? 60 : plen), ps, (const char *)msg, (size_t)eo);
    }
    cr_value r = ex_regex_match(re, s, slen, env);
    pcre2_code_free(re);
    return r;
}

static cr_value compare(ex_op op, cr_value a, cr_value b, const scn_env *env)
{
    double x, y;
    int c;
    if (cr_val_as_number(a, &x) && cr_val_as_number(b, &y)) {
        c = x < y ? -1 : x > y ? 1 : 0;
        if (isnan(x) || isnan(y))
            return cr_val_bool(false);
    } else if (a.kind == CR_VAL_STR && b.kind == CR_VAL_STR) {
        size_t n = a.len < b.len ? a.len : b.len;
        c = n ? memcmp(a.str, b.str, n) : 0;
        if (c == 0)
            c = a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
    } else {
        return type_error(env, op, a, b);
    }
    switch (op) {
    case EX_LT: return cr_val_bool(c < 0);
    case EX_LE: return cr_val_bool(c <= 0);
    case EX_GT: return cr_val_bool(c > 0);
    default: return cr_val_bool(c >= 0);
    }
}

static cr_value join(cr_value a, cr_value b, const scn_env *env)
{
    char abuf[CR_VAL_TEXT_MAX], bbuf[CR_VAL_TEXT_MAX];
    size_t al, bl;
    const char *as = cr_val_text(a, abuf, &al);
    const char *bs = cr_val_text(b, bbuf, &bl);
    char *s = cr_arena_alloc(env->scratch, al + bl + 1);
    memcpy(s, as, al);
    memcpy(s + al, bs, bl);
    s[al + bl] = '\0';
    return cr_val_str(s, al + bl);
}

static cr_value arith(ex_op op, cr_value a, cr_value b, const scn_env *env)
{
    double x, y, r;
    /* Two strings join ('9' + '1' is '91': digits are usually numbers to
     * dial); a number and a numeric string add. */
    if (op == EX_ADD && a.kind == CR_VAL_STR && b.kind == CR_VAL_STR)
        return join(a, b, env);
    if (!cr_val_as_number(a, &x) || !cr_val_as_number(b, &y)) {
        if (op == EX_ADD && (a.kind == CR_VAL_STR || b.kind == CR_VAL_STR))
            return join(a, b, env);
        return type_error(env, op, a, b);
    }
    switch (op) {
    case EX_ADD: r = x + y; break;
    case EX_SUB: r = x - y; break;
    case EX_MUL: r = x * y; break;
    case EX_DIV:
        if (y == 0)
            return cr_val_err(env->scratch, "division by zero");
        r = x / y;
        break;
    default:
        if (y == 0)
            return cr_val_err(env->scratch, "division by zero");
        r = fmod(x, y);
        break;
    }
    if (!isfinite(r))
        return cr_val_err(env->scratch, "number out of range");
    return cr_val_num(r);
}

static cr_value ev(const scn_expr *e, const scn_env *env)
{
    cr_value a, b;
    switch (e->op) {
    case EX_LIT:
        return e->lit;
    case EX_VAR:
        if (env->lookup && env->lookup(env->ctx, e->name, e->name_len, &a))
            return a;
        return cr_val_null();
    case EX_CALL: {
        cr_value args[EX_MAX_ARGS];
        for (unsigned i = 0; i < e->nargs; i++) {
            args[i] = ev(e->args[i], env);
            if (args[i].kind == CR_VAL_ERR)
                return args[i];
        }
        return e->fn->fn(env, args, e->nargs);
    }
    case EX_NOT:
        a = ev(e->a, env);
        return a.kind == CR_VAL_ERR ? a : cr_val_bool(!cr_val_truthy(a));
    case EX_NEG: {
        double x;
        a = ev(e->a, env);
        if (a.kind == CR_VAL_ERR)
            return a;
        if (!cr_val_as_number(a, &x))
        {
            char buf[40];
            return cr_val_err(env->scratch, "cannot negate %s", describe(a, buf, sizeof buf));
        }
        return cr_val_num(-x);
    }
    case EX_AND:
    case EX_OR:
        a = ev(e->a, env);
        if (a.kind == CR_VAL_ERR)
            return a;
        if (cr_val_truthy(a) == (e->op == EX_OR))
            return cr_val_bool(e->op == EX_OR);
        b = ev(e->b, env);
        return b.kind == CR_VAL_ERR ? b : cr_val_bool(cr_val_truthy(b));
    default:
        break;
    }
    /* Binary operators: both sides first, errors win. */
    a = ev(e->a, env);
    if (a.kind == CR_VAL_ERR)
        return a;
    b = ev(e->b, env);
    if (b.kind == CR_VAL_ERR)
        return b;
    switch (e->op) {
    case EX_EQ: return cr_val_bool(cr_val_equal(a, b));
    case EX_NE: return cr_val_bool(!cr_val_equal(a, b));
    case EX_LT: case EX_LE: case EX_GT: case EX_GE: return compare(e->op, a, b, env);
    case EX_MATCH: return match(e, a, b, env);
    case EX_NMATCH:
        a = match(e, a, b, env);
        return a.kind == CR_VAL_ERR ? a : cr_val_bool(!a.b);
    default: return arith(e->op, a, b, env);
    }
}

cr_value scn_expr_eval(const scn_expr *e, const scn_env *env)
{
    if (!e)
        return cr_val_err(env->scratch, "no expression");
    return ev(e, env);
}
