/* cond.c — the condition language: compile (check once, at load) and
 * evaluate, with "why" for the first condition that failed. Schedules live
 * in cond_schedule.c, dial patterns in cond_dialpat.c.
 *
 * Equality is on text: phone numbers are strings, and '0012' must not equal
 * '12'. Only when the variable holds a number (set by an expression) and the
 * operand is numeric do `equals`/`in` compare numerically. lt/le/gt/ge need
 * numbers on both sides; otherwise they are false ("not a number"). An
 * undefined variable reads as the empty string. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "scenario/cond.h"

#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "scenario/compile.h"
#include "scenario/cond_int.h"

const char *const scn_cond_op_names[] = {
#define SCN_COND_OP_NAME(e, s, doc, value) s,
    SCN_COND_OPS(SCN_COND_OP_NAME)
#undef SCN_COND_OP_NAME
    NULL,
};

const char *const scn_cond_op_docs[] = {
#define SCN_COND_OP_DOC(e, s, doc, value) doc,
    SCN_COND_OPS(SCN_COND_OP_DOC)
#undef SCN_COND_OP_DOC
    NULL,
};

const char *const scn_cond_op_values[] = {
#define SCN_COND_OP_VALUE(e, s, doc, value) value,
    SCN_COND_OPS(SCN_COND_OP_VALUE)
#undef SCN_COND_OP_VALUE
    NULL,
};

static const char *const cond_keys[] = {"var", "op", "value", "schedule", "expr",
                                        "match", "conditions", "not", "caller_group", NULL};

/* "equals, not_equals, ..., not_between": every operator, for messages. */
static const char *op_list(void)
{
    static char buf[400];
    if (!buf[0])
        for (size_t i = 0; scn_cond_op_names[i]; i++) {
            if (i)
                strcat(buf, ", ");
            strcat(buf, scn_cond_op_names[i]);
        }
    return buf;
}
static const char *const match_words[] = {"all", "any", NULL};

/* ---- compile ---- */

static scn_cond *new_cond(scn_compile_ctx *cx, const scn_node *n, scn_cond_kind kind)
{
    scn_cond *c = cr_arena_alloc(cx->arena, sizeof *c);
    c->kind = kind;
    c->file = n->file;
    c->line = n->line;
    c->col = n->col;
    c->path = cr_arena_strdup(cx->arena, scn_path_str(&cx->path));
    return c;
}

/* An error at a byte offset inside scalar N (regexes, dial patterns). */
static void error_at_offset(scn_compile_ctx *cx, const scn_node *n, size_t off, const char *what,
                            const char *msg)
{
    scn_node at = *n;
    /* The column is exact only when no escape or line break precedes OFF. */
    if (off <= n->len && !memchr(n->str, '\n', off) && !memchr(n->str, '\\', off))
        at.col += (unsigned)off + (n->quoted ? 1u : 0u);
    scn_cx_error(cx, &at, "%s: %s", what, msg);
}

static void regex_release_cb(void *arg)
{
    scn_cond *c = arg;
    if (c->regex) {
        pcre2_code_free(c->regex);
        c->regex = NULL;
    }
}

static bool compile_regex(scn_compile_ctx *cx, scn_cond *c, const scn_node *v)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->str, v->len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                                   &errcode, &erroff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        error_at_offset(cx, v, erroff, "invalid regex", (const char *)msg);
        return false;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* falls back to the interpreter */
    c->regex = re;
    if (cx->prog)
        scn_program_on_release(cx->prog, regex_release_cb, c);
    return true;
}

static bool looks_like_pattern(const char *s)
{
    return strpbrk(s, "XZN.![") != NULL;
}

static bool valid_var_name(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return false;
        if (ch == '.' && s[i + 1] == '.')
            return false;
    }
    return true;
}

static bool compile_value(scn_compile_ctx *cx, scn_cond *c, const scn_node *map, const scn_node *v)
{
    const char *opname = scn_cond_op_names[c->op];
    size_t mark = scn_path_key(&cx->path, "value");
    bool ok = true;
    switch (c->op) {
    case SCN_OP_EMPTY:
    case SCN_OP_NOT_EMPTY:
        if (v) {
            scn_cx_error(cx, v, "'%s' takes no value", opname);
            ok = false;
        }
        break;
    case SCN_OP_BETWEEN:
    case SCN_OP_NOT_BETWEEN:
        if (!v || v->kind != SCN_NODE_SEQ || v->count != 2 || v->items[0]->kind != SCN_NODE_SCALAR ||
            v->items[1]->kind != SCN_NODE_SCALAR ||
            !cr_val_as_number(cr_val_str(v->items[0]->str, v->items[0]->len), &c->number) ||
            !cr_val_as_number(cr_val_str(v->items[1]->str, v->items[1]->len), &c->number2)) {
            scn_cx_error(cx, v ? v : map, "'%s' needs two numbers, the lowest and the highest, "
                         "e.g. [10, 20]", opname);
            ok = false;
        } else if (c->number > c->number2) {
            scn_cx_error(cx, v, "'%s': the range [%s, %s] is empty (the lowest comes first)", opname,
                         v->items[0]->str, v->items[1]->str);
            ok = false;
        }
        break;
    case SCN_OP_IN:
    case SCN_OP_NOT_IN:
        if (!v || v->kind != SCN_NODE_SEQ || v->count == 0) {
            scn_cx_error(cx, v ? v : map, "'%s' needs a non-empty list of values, e.g. ['100', '101']",
                         opname);
            ok = false;
            break;
        }
        c->list = cr_arena_alloc(cx->arena, v->count * sizeof *c->list);
        for (size_t i = 0; i < v->count; i++) {
            const scn_node *it = v->items[i];
            if (it->kind != SCN_NODE_SCALAR) {
                size_t m2 = scn_path_index(&cx->path, i);
                scn_cx_error(cx, it, "expected a single value in the list of '%s'", opname);
                scn_path_pop(&cx->path, m2);
                ok = false;
                continue;
            }
            c->list[c->list_count++] = it->str;
        }
        break;
    default:
        if (!v || (v->kind == SCN_NODE_SCALAR && !v->quoted && scn_is_null(v))) {
            scn_cx_error(cx, v ? v : map, "'%s' needs a value%s", opname,
                         v ? " (for an empty variable use op: empty)" : "");
            ok = false;
            break;
        }
        if (v->kind != SCN_NODE_SCALAR) {
            scn_cx_error(cx, v, "'%s' takes a single value%s", opname,
                         c->op == SCN_OP_EQUALS ? " (for several, use op: in)" : "");
            ok = false;
            break;
        }
        c->value = v->str;
        c->value_len = v->len;
        if (c->op == SCN_OP_LT || c->op == SCN_OP_LE || c->op == SCN_OP_GT || c->op == SCN_OP_GE) {
            if (!cr_val_as_number(cr_val_str(v->str, v->len), &c->number)) {
                scn_cx_error(cx, v, "'%s' needs a number, not '%s'", opname, v->str);
                ok = false;
            }
        } else if (c->op == SCN_OP_MATCHES || c->op == SCN_OP_NOT_MATCHES) {
            ok = compile_regex(cx, c, v);
        } else if (c->op == SCN_OP_PATTERN || c->op == SCN_OP_NOT_PATTERN) {
            scn_parse_error err = {0, ""};
            c->pattern = scn_dialpat_compile(cx->arena, v->str, v->len, &err);
            if (!c->pattern) {
                error_at_offset(cx, v, err.offset, "invalid dial pattern", err.msg);
                ok = false;
            } else if (v->str[0] != '_' && looks_like_pattern(v->str)) {
                scn_cx_warning(cx, v, "dial pattern '%s' has no leading '_' and is matched "
                               "literally; did you mean '_%s'?", v->str, v->str);
            }
        }
        break;
    }
    scn_path_pop(&cx->path, mark);
    return ok;
}

static scn_cond *compile_var(scn_compile_ctx *cx, const scn_node *n)
{
    scn_cond *c = new_cond(cx, n, SCN_COND_VAR);
    const scn_node *var = scn_map_get(n, "var"), *op = scn_map_get(n, "op");
    bool ok = true;
    size_t mark = scn_path_key(&cx->path, "var");
    if (!var || var->kind != SCN_NODE_SCALAR || !valid_var_name(var->str, var->len)) {
        scn_cx_error(cx, var ? var : n, "'var' must name a variable, e.g. caller_number or "
                     "sip.header.X-Account");
        ok = false;
    } else {
        c->var = var->str;
    }
    scn_path_pop(&cx->path, mark);
    mark = scn_path_key(&cx->path, "op");
    if (!op || op->kind != SCN_NODE_SCALAR) {
        scn_cx_error(cx, op ? op : n, "missing 'op' (%s)", op_list());
        scn_path_pop(&cx->path, mark);
        return NULL;
    }
    int found = -1;
    for (int i = 0; scn_cond_op_names[i]; i++)
        if (strcmp(op->str, scn_cond_op_names[i]) == 0)
            found = i;
    if (found < 0) {
        /* not_X for an X that has no not_ form: the negation is `not:` (a
         * near spelling would be X itself, the opposite meaning). */
        int positive = -1;
        if (strncmp(op->str, "not_", 4) == 0)
            for (int i = 0; scn_cond_op_names[i]; i++)
                if (strcmp(op->str + 4, scn_cond_op_names[i]) == 0)
                    positive = i;
        const char *hint = positive < 0 ? scn_suggest(op->str, scn_cond_op_names) : NULL;
        if (positive >= 0)
            scn_cx_error(cx, op, "unknown op '%s'; to negate '%s' write not: { var: %s, op: %s, "
                         "value: ... }", op->str, op->str + 4, c->var ? c->var : "...", op->str + 4);
        else if (hint)
            scn_cx_error(cx, op, "unknown op '%s'; did you mean '%s'?", op->str, hint);
        else
            scn_cx_error(cx, op, "unknown op '%s' (expected %s)", op->str, op_list());
        scn_path_pop(&cx->path, mark);
        return NULL;
    }
    scn_path_pop(&cx->path, mark);
    c->op = (scn_cond_op)found;
    ok &= compile_value(cx, c, n, scn_map_get(n, "value"));
    return ok ? c : NULL;
}

/* { caller_group: NAME }: the group must exist; its members are copied. */
static scn_cond *compile_caller_group(scn_compile_ctx *cx, const scn_node *n)
{
    const scn_node *g = scn_map_get(n, "caller_group");
    size_t mark = scn_path_key(&cx->path, "caller_group");
    scn_cond *c = NULL;
    const scn_group *grp = g && g->kind == SCN_NODE_SCALAR && cx->prog ? scn_program_group(cx->prog, g->str) : NULL;
    if (!g || g->kind != SCN_NODE_SCALAR || !g->len) {
        scn_cx_error(cx, g ? g : n, "caller_group must name a group of `groups:`");
    } else if (!grp) {
        const char *names[64];
        size_t k = 0;
        for (size_t i = 0; cx->prog && i < cx->prog->group_count && k < 63; i++)
            names[k++] = cx->prog->groups[i].name;
        names[k] = NULL;
        const char *hint = scn_suggest(g->str, names);
        if (hint)
            scn_cx_error(cx, g, "unknown group '%s'; did you mean '%s'?", g->str, hint);
        else
            scn_cx_error(cx, g, "unknown group '%s' (caller_group names a group of `groups:`)", g->str);
    } else {
        c = new_cond(cx, n, SCN_COND_CALLER_GROUP);
        c->group = grp->name;
        c->list = (const char **)grp->members;
        c->list_count = grp->member_count;
    }
    scn_path_pop(&cx->path, mark);
    return c;
}

static scn_cond *compile_list(scn_compile_ctx *cx, const scn_node *n, bool any)
{
    scn_cond *c = new_cond(cx, n, SCN_COND_GROUP);
    c->any = any;
    c->items = cr_arena_alloc(cx->arena, (n->count ? n->count : 1) * sizeof *c->items);
    bool ok = true;
    for (size_t i = 0; i < n->count; i++) {
        size_t mark = scn_path_index(&cx->path, i);
        scn_cond *it = scn_cond_compile(cx, n->items[i], NULL);
        scn_path_pop(&cx->path, mark);
        if (!it)
            ok = false;
        else
            c->items[c->count++] = it;
    }
    return ok ? c : NULL;
}

/* `match: any|all` -> *ANY; false (reported) when it is neither. */
static bool compile_match(scn_compile_ctx *cx, const scn_node *m, bool *any)
{
    *any = false;
    if (!m)
        return true;
    if (m->kind == SCN_NODE_SCALAR && (strcmp(m->str, "any") == 0 || strcmp(m->str, "all") == 0)) {
        *any = m->str[1] == 'n';
        return true;
    }
    const char *hint = m->kind == SCN_NODE_SCALAR ? scn_suggest(m->str, match_words) : NULL;
    if (hint)
        scn_cx_error(cx, m, "match must be 'any' or 'all'; did you mean '%s'?", hint);
    else
        scn_cx_error(cx, m, "match must be 'any' or 'all'");
    return false;
}

static scn_cond *compile_map(scn_compile_ctx *cx, const scn_node *n)
{
    bool ok = true;
    int forms = 0;
    bool is_var = false, is_sched = false, is_expr = false, is_group = false, is_not = false;
    bool is_member = false;
    for (size_t i = 0; i < n->count; i++) {
        const char *k = n->pairs[i].key->str;
        if (!strcmp(k, "var") || !strcmp(k, "op") || !strcmp(k, "value"))
            is_var = true;
        else if (!strcmp(k, "schedule"))
            is_sched = true;
        else if (!strcmp(k, "expr"))
            is_expr = true;
        else if (!strcmp(k, "conditions") || !strcmp(k, "match"))
            is_group = true;
        else if (!strcmp(k, "not"))
            is_not = true;
        else if (!strcmp(k, "caller_group"))
            is_member = true;
        else {
            const char *hint = scn_suggest(k, cond_keys);
            if (hint)
                scn_cx_error(cx, n->pairs[i].key, "unknown condition key '%s'; did you mean '%s'?",
                             k, hint);
            else
                scn_cx_error(cx, n->pairs[i].key, "unknown condition key '%s' (a condition has "
                             "var/op/value, schedule, expr, match/conditions, not or caller_group)", k);
            ok = false;
        }
    }
    forms = is_var + is_sched + is_expr + is_group + is_not + is_member;
    if (forms > 1) {
        scn_cx_error(cx, n, "a condition has exactly one form: var/op/value, schedule, expr, "
                     "match/conditions, not or caller_group (split it into a list)");
        return NULL;
    }
    if (forms == 0) {
        if (ok)
            scn_cx_error(cx, n, "empty condition: expected var/op/value, schedule, expr, "
                         "match/conditions, not or caller_group");
        return NULL;
    }
    if (!ok)
        return NULL;
    if (is_var)
        return compile_var(cx, n);
    if (is_member)
        return compile_caller_group(cx, n);
    if (is_sched) {
        scn_cond *c = new_cond(cx, n, SCN_COND_SCHEDULE);
        size_t mark = scn_path_key(&cx->path, "schedule");
        c->schedule = scn_schedule_compile(cx, scn_map_get(n, "schedule"));
        scn_path_pop(&cx->path, mark);
        return c->schedule ? c : NULL;
    }
    if (is_expr) {
        const scn_node *e = scn_map_get(n, "expr");
        size_t mark = scn_path_key(&cx->path, "expr");
        scn_cond *c = NULL;
        if (e->kind != SCN_NODE_SCALAR)
            scn_cx_error(cx, e, "expr must be an expression string, e.g. \"hour() >= 9\"");
        else
            c = scn_cond_compile(cx, e, NULL);
        scn_path_pop(&cx->path, mark);
        return c;
    }
    if (is_not) {
        scn_cond *c = new_cond(cx, n, SCN_COND_NOT);
        size_t mark = scn_path_key(&cx->path, "not");
        c->inner = scn_cond_compile(cx, scn_map_get(n, "not"), NULL);
        scn_path_pop(&cx->path, mark);
        return c->inner ? c : NULL;
    }
    /* group */
    bool any;
    size_t mark = scn_path_key(&cx->path, "match");
    ok = compile_match(cx, scn_map_get(n, "match"), &any);
    scn_path_pop(&cx->path, mark);
    const scn_node *list = scn_map_get(n, "conditions");
    mark = scn_path_key(&cx->path, "conditions");
    scn_cond *c = NULL;
    if (!list || list->kind != SCN_NODE_SEQ)
        scn_cx_error(cx, list ? list : n, "a group needs 'conditions:' with a list of conditions");
    else
        c = compile_list(cx, list, any);
    scn_path_pop(&cx->path, mark);
    return ok && c ? c : NULL;
}

scn_cond *scn_cond_compile(scn_compile_ctx *cx, const scn_node *n, const scn_node *sibling_match)
{
    switch (n->kind) {
    case SCN_NODE_SEQ: {
        bool any;
        if (!compile_match(cx, sibling_match, &any))
            return NULL;
        return compile_list(cx, n, any);
    }
    case SCN_NODE_MAP:
        return compile_map(cx, n);
    case SCN_NODE_SCALAR: {
        if (n->len == 0 || (!n->quoted && scn_is_null(n))) {
            scn_cx_error(cx, n, "expected a condition (an expression string, a mapping, or a list)");
            return NULL;
        }
        const scn_expr *e = scn_compile_expr(cx, n);
        if (!e)
            return NULL;
        scn_cond *c = new_cond(cx, n, SCN_COND_EXPR);
        c->expr = (struct scn_expr *)e;
        c->expr_src = n->str;
        return c;
    }
    }
    return NULL;
}

void scn_cond_release(scn_cond *c)
{
    if (!c)
        return;
    regex_release_cb(c);
    for (size_t i = 0; i < c->count; i++)
        scn_cond_release(c->items[i]);
    scn_cond_release(c->inner);
}
