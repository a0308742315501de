/* expr.c — the expression parser: source text to a tree, once, at load.
 * Evaluation is in expr_eval.c, the functions in expr_func.c.
 *
 * The language (for docs/scenario.md):
 *
 *   Literals     'text' and "text" (escapes \\ \' \" \n \r \t; any other
 *                backslash is kept as written, so '\d+' is the regex \d+),
 *                numbers 42 1.5 2e3, true, false, null.
 *   Variables    bare dotted names: caller_number, http.json.agent.name,
 *                loop_index. Letters, digits, _ and dots; starting with a
 *                letter or _. For a name that is not such an identifier use
 *                var('sip.header.X-Foo'). An undefined variable is null.
 *   Operators    by increasing precedence:
 *                  or
 *                  and
 *                  not
 *                  == != < <= > >= =~ !~     (not chained: a < b < c is an error)
 *                  + -
 *                  * / %
 *                  unary -
 *                  literals, variables, f(...), ( ... )
 *   Semantics
 *     == !=      two strings compare as text ('0044' != '44', '1.0' != '1':
 *                phone numbers are text); a number against a number or a
 *                numeric string compares numerically (42 == '42.0'); null
 *                equals only null; a bool equals only a bool.
 *     < <= > >=  numerically when both sides are numeric ('10' > '9'), byte
 *                order when both are strings, otherwise an error (null < 1
 *                is an error).
 *     +          two strings join ('9' + '1' is '91'); a number and a
 *                number or numeric string add ('9' + 1 is 10); a string and
 *                anything else joins the text forms ('a' + 1 is 'a1', 'a' +
 *                null is 'a'); otherwise an error (true + 1).
 *     - * / %    need numbers (numeric strings count); / and % by zero give
 *                the error "division by zero"; % is the C fmod remainder.
 *     =~ !~      the right side is a PCRE2 regex matched against the text of
 *                the left side (unanchored: use ^ and $). Bytes, not
 *                characters, unless the pattern starts with (*UTF). A
 *                literal pattern is checked when the scenario loads.
 *     and or     short-circuit, yield true or false (truthiness: false, null,
 *                0, '' and errors are false).
 *     not        yields true or false.
 *   Errors       a type error, a bad run-time regex or a division by zero
 *                makes an error value; an operand or argument that is an
 *                error makes the whole result that error (except the right
 *                side of and/or when it is not evaluated). The action that
 *                evaluates it fails with that message.
 *   Functions    len(s)              bytes in the text form of s
 *                lower(s) upper(s)   ASCII case change
 *                substr(s, start[, n])  bytes from start (0-based) on, at
 *                                    most n; out-of-range values are clamped
 *                digits(s)           only the characters 0-9 of s
 *                int(x)              x truncated towards zero; x a number or
 *                                    numeric string, else an error
 *                str(x)              text form: 3, 2.5, true, false, '' for null
 *                contains(s, t) starts_with(s, t) ends_with(s, t)   bools
 *                now()               seconds since the epoch (whole)
 *                hour() minute()     local time (the scenario's timezone)
 *                weekday()           1 = Monday .. 7 = Sunday (local)
 *                date()              'YYYY-MM-DD' (local)
 *                var(name)           the variable called name (any text)
 *                A wrong number of arguments or an unknown function is an
 *                error when the scenario loads.
 */
#include "scenario/expr_int.h"

#include "scenario/diag.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    T_END, T_NUM, T_STR, T_IDENT, T_LP, T_RP, T_COMMA,
    T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_MATCH, T_NMATCH,
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PCT,
    T_AND, T_OR, T_NOT, T_TRUE, T_FALSE, T_NULL,
} ex_tok;

typedef struct {
    cr_arena *arena;
    const char *src;
    size_t len, pos;
    scn_parse_error *err;
    bool failed;
    unsigned depth;                 /* parser recursion */
    pcre2_general_context *gctx;    /* arena-backed, made on first literal regex */
    pcre2_compile_context *cctx;
    /* the current token */
    ex_tok tok;
    size_t start, end;              /* its bytes in src */
    double num;
    const char *str;                /* T_STR: unescaped, in the arena */
    size_t str_len;
} ex_parser;

static void fail(ex_parser *p, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(ex_parser *p, size_t offset, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    p->tok = T_END;
    if (!p->err)
        return;
    p->err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
}

static bool is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.'; }

/* The current token as quoted text for messages. */
static void tok_text(const ex_parser *p, char *buf, size_t cap)
{
    if (p->tok == T_END) {
        snprintf(buf, cap, "end of expression");
        return;
    }
    size_t n = p->end - p->start;
    if (n > 24)
        snprintf(buf, cap, "'%.24s...'", p->src + p->start);
    else
        snprintf(buf, cap, "'%.*s'", (int)n, p->src + p->start);
}

static void lex_string(ex_parser *p)
{
    char q = p->src[p->pos];
    /* Find the closing quote first, so that the copy is sized exactly. */
    size_t i = p->pos + 1;
    while (i < p->len && p->src[i] != q)
        i += p->src[i] == '\\' ? 2 : 1;
    if (i >= p->len) {
        fail(p, p->start, "unterminated string (missing %c)", q);
        return;
    }
    size_t close = i;
    char *out = cr_arena_alloc(p->arena, close - p->pos);
    size_t n = 0;
    for (i = p->pos + 1; i < close;) {
        char c = p->src[i++];
        if (c != '\\') {
            out[n++] = c;
            continue;
        }
        char e = p->src[i++];
        switch (e) {
        case '\\': case '\'': case '"': out[n++] = e; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        default: out[n++] = '\\'; out[n++] = e; break; /* kept for regexes */
        }
    }
    out[n] = '\0';
    p->tok = T_STR;
    p->str = out;
    p->str_len = n;
    p->pos = close + 1;
}

static void lex_number(ex_parser *p)
{
    size_t i = p->pos;
    while (i < p->len && isdigit((unsigned char)p->src[i]))
        i++;
    if (i + 1 < p->len && p->src[i] == '.' && isdigit((unsigned char)p->src[i + 1])) {
        i++;
        while (i < p->len && isdigit((unsigned char)p->src[i]))
            i++;
    }
    if (i < p->len && (p->src[i] == 'e' || p->src[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->len && (p->src[j] == '+' || p->src[j] == '-'))
            j++;
        if (j < p->len && isdigit((unsigned char)p->src[j])) {
            i = j;
            while (i < p->len && isdigit((unsigned char)p->src[i]))
                i++;
        }
    }
    if (i < p->len && (is_ident_start(p->src[i]) || p->src[i] == '.')) {
        fail(p, i, "invalid number");
        return;
    }
    char *tmp = cr_arena_strndup(p->arena, p->src + p->pos, i - p->pos);
    p->num = strtod(tmp, NULL);
    if (isinf(p->num)) {
        fail(p, p->pos, "number out of range");
        return;
    }
    p->tok = T_NUM;
    p->pos = i;
}

static const struct { const char *word; ex_tok tok; } keywords[] = {
    {"and", T_AND}, {"or", T_OR}, {"not", T_NOT},
    {"true", T_TRUE}, {"false", T_FALSE}, {"null", T_NULL},
};

static void next(ex_parser *p)
{
    if (p->failed)
        return;
    while (p->pos < p->len && isspace((unsigned char)p->src[p->pos]))
        p->pos++;
    p->start = p->pos;
    if (p->pos >= p->len) {
        p->tok = T_END;
        p->end = p->pos;
        return;
    }
    const char *s = p->src + p->pos;
    char c = s[0], d = p->pos + 1 < p->len ? s[1] : '\0';
    size_t w = 1;
    switch (c) {
    case '(': p->tok = T_LP; break;
    case ')': p->tok = T_RP; break;
    case ',': p->tok = T_COMMA; break;
    case '+': p->tok = T_PLUS; break;
    case '-': p->tok = T_MINUS; break;
    case '*': p->tok = T_STAR; break;
    case '/': p->tok = T_SLASH; break;
    case '%': p->tok = T_PCT; break;
    case '<': p->tok = d == '=' ? (w = 2, T_LE) : T_LT; break;
    case '>': p->tok = d == '=' ? (w = 2, T_GE) : T_GT; break;
    case '=':
        if (d == '=') { p->tok = T_EQ; w = 2; break; }
        if (d == '~') { p->tok = T_MATCH; w = 2; break; }
        fail(p, p->pos, "unexpected '=' (use '==' to compare)");
        return;
    case '!':
        if (d == '=') { p->tok = T_NE; w = 2; break; }
        if (d == '~') { p->tok = T_NMATCH; w = 2; break; }
        fail(p, p->pos, "unexpected '!' (use 'not')");
        return;
    case '&':
        fail(p, p->pos, "unexpected '&' (use 'and')");
        return;
    case '|':
        fail(p, p->pos, "unexpected '|' (use 'or')");
        return;
    case '\'': case '"':
        lex_string(p);
        p->end = p->pos;
        return;
    default:
        if (isdigit((unsigned char)c)) {
            lex_number(p);
            p->end = p->pos;
            return;
        }
        if (is_ident_start(c)) {
            size_t i = p->pos;
            while (i < p->len && is_ident_char(p->src[i]))
                i++;
            p->tok = T_IDENT;
            for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
                if (strlen(keywords[k].word) == i - p->pos &&
                    memcmp(keywords[k].word, s, i - p->pos) == 0)
                    p->tok = keywords[k].tok;
            p->pos = i;
            p->end = i;
            return;
        }
        if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
            fail(p, p->pos, "unexpected byte 0x%02x", (unsigned char)c);
        else
            fail(p, p->pos, "unexpected '%c'", c);
        return;
    }
    p->pos += w;
    p->end = p->pos;
}

static scn_expr *node(ex_parser *p, ex_op op, size_t offset)
{
    scn_expr *e = cr_arena_alloc(p->arena, sizeof *e);
    e->op = op;
    e->offset = offset;
    return e;
}

static unsigned tree_depth(const scn_expr *e)
{
    return e ? e->depth : 0;
}

/* Sets E's depth from its children; fails when the tree gets too deep to
 * evaluate recursively. */
static scn_expr *finish(ex_parser *p, scn_expr *e)
{
    unsigned d = 0;
    if (e->op == EX_CALL) {
        for (unsigned i = 0; i < e->nargs; i++)
            if (tree_depth(e->args[i]) > d)
                d = tree_depth(e->args[i]);
    } else if (e->op != EX_LIT && e->op != EX_VAR) {
        d = tree_depth(e->a);
        if (tree_depth(e->b) > d)
            d = tree_depth(e->b);
    }
    e->depth = d + 1;
    if (e->depth > EX_MAX_DEPTH)
        fail(p, e->offset, "expression too deeply nested (more than %d levels)", EX_MAX_DEPTH);
    return e;
}

static scn_expr *binary(ex_parser *p, ex_op op, size_t offset, scn_expr *a, scn_expr *b)
{
    scn_expr *e = node(p, op, offset);
    e->a = a;
    e->b = b;
    return finish(p, e);
}

static scn_expr *parse_or(ex_parser *p);

static bool enter(ex_parser *p)
{
    if (++p->depth > EX_MAX_DEPTH) {
        fail(p, p->start, "expression too deeply nested (more than %d levels)", EX_MAX_DEPTH);
        return false;
    }
    return true;
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || s[n - 1] == '.' || s[0] == '.')
        return false;
    for (size_t i = 1; i < n; i++)
        if (s[i] == '.' && s[i - 1] == '.')
            return false;
    return true;
}

static scn_expr *var_node(ex_parser *p, size_t offset, const char *name, size_t len)
{
    scn_expr *e = node(p, EX_VAR, offset);
    e->name = cr_arena_strndup(p->arena, name, len);
    e->name_len = len;
    return finish(p, e);
}

/* Names from other languages that are too far from ours for scn_suggest. */
static const char *const aliases[][2] = {
    {"length", "len"}, {"strlen", "len"}, {"size", "len"}, {"substring", "substr"},
    {"tolower", "lower"}, {"toupper", "upper"}, {"string", "str"}, {"integer", "int"},
    {"startswith", "starts_with"}, {"endswith", "ends_with"}, {"today", "date"},
};

static scn_expr *parse_call(ex_parser *p, size_t offset, const char *name, size_t len)
{
    const ex_func *f = ex_func_find(name, len);
    if (!f) {
        char word[64];
        snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), name);
        const char *s = scn_suggest(word, ex_func_names);
        for (size_t i = 0; !s && i < sizeof aliases / sizeof aliases[0]; i++)
            if (strcmp(word, aliases[i][0]) == 0)
                s = aliases[i][1];
        if (s)
            fail(p, offset, "unknown function '%s' (did you mean '%s'?)", word, s);
        else
            fail(p, offset, "unknown function '%s'", word);
        return NULL;
    }
    next(p); /* ( */
    scn_expr *args[EX_MAX_ARGS + 1] = {0};
    unsigned n = 0;
    bool too_many = false;
    if (p->tok != T_RP) {
        for (;;) {
            scn_expr *a = parse_or(p);
            if (p->failed)
                return NULL;
            if (n <= EX_MAX_ARGS)
                args[n++] = a;
            else
                too_many = true;
            if (p->tok == T_COMMA) {
                next(p);
                continue;
            }
            break;
        }
    }
    if (p->tok != T_RP) {
        char t[48];
        tok_text(p, t, sizeof t);
        fail(p, p->start, "expected ',' or ')' in the arguments of %s(), found %s", f->name, t);
        return NULL;
    }
    next(p);
    if (too_many || n < f->min_args || n > f->max_args) {
        if (f->min_args == f->max_args)
            fail(p, offset, "%s() takes %u argument%s", f->name, f->min_args,
                 f->min_args == 1 ? "" : "s");
        else
            fail(p, offset, "%s() takes %u to %u arguments", f->name, f->min_args, f->max_args);
        return NULL;
    }
    /* var('literal') is just a variable: known at load, reported by vars. */
    if (strcmp(f->name, "var") == 0 && args[0]->op == EX_LIT && args[0]->lit.kind == CR_VAL_STR) {
        if (args[0]->lit.len == 0) {
            fail(p, args[0]->offset, "var() needs a variable name");
            return NULL;
        }
        for (size_t i = 0; i < args[0]->lit.len; i++) {
            unsigned char c = (unsigned char)args[0]->lit.str[i];
            if (c < 0x20 || c == 0x7f) {
                fail(p, args[0]->offset, "control character 0x%02x in a variable name", c);
                return NULL;
            }
        }
        return var_node(p, offset, args[0]->lit.str, args[0]->lit.len);
    }
    scn_expr *e = node(p, EX_CALL, offset);
    e->fn = f;
    e->nargs = n;
    e->args = cr_arena_alloc(p->arena, (n ? n : 1) * sizeof *e->args);
    memcpy(e->args, args, n * sizeof *e->args);
    return finish(p, e);
}

static scn_expr *parse_primary(ex_parser *p)
{
    size_t off = p->start;
    scn_expr *e;
    switch (p->tok) {
    case T_NUM:
        e = node(p, EX_LIT, off);
        e->lit = cr_val_num(p->num);
        next(p);
        return finish(p, e);
    case T_STR:
        e = node(p, EX_LIT, off);
        e->lit = cr_val_str(p->str, p->str_len);
        next(p);
        return finish(p, e);
    case T_TRUE: case T_FALSE: case T_NULL:
        e = node(p, EX_LIT, off);
        e->lit = p->tok == T_NULL ? cr_val_null() : cr_val_bool(p->tok == T_TRUE);
        next(p);
        return finish(p, e);
    case T_IDENT: {
        const char *name = p->src + p->start;
        size_t len = p->end - p->start;
        next(p);
        if (p->tok == T_LP)
            return parse_call(p, off, name, len);
        if (!valid_name(name, len)) {
            fail(p, off, "invalid variable name '%.*s'", (int)(len < 60 ? len : 60), name);
            return NULL;
        }
        return var_node(p, off, name, len);
    }
    case T_LP:
        next(p);
        e = parse_or(p);
        if (p->failed)
            return NULL;
        if (p->tok != T_RP) {
            char t[48];
            tok_text(p, t, sizeof t);
            fail(p, p->start, "expected ')' to close the '(' at offset %zu, found %s", off, t);
            return NULL;
        }
        next(p);
        return e;
    default: {
        char t[48];
        tok_text(p, t, sizeof t);
        fail(p, p->start, "expected a value, found %s", t);
        return NULL;
    }
    }
}

static scn_expr *parse_unary(ex_parser *p)
{
    if (p->tok != T_MINUS)
        return parse_primary(p);
    size_t off = p->start;
    if (!enter(p))
        return NULL;
    next(p);
    scn_expr *a = parse_unary(p);
    p->depth--;
    if (p->failed)
        return NULL;
    if (a->op == EX_LIT && a->lit.kind == CR_VAL_NUM) { /* -5 is a literal */
        a->lit.num = -a->lit.num;
        a->offset = off;
        return a;
    }
    return binary(p, EX_NEG, off, a, NULL);
}

static scn_expr *parse_mul(ex_parser *p)
{
    scn_expr *e = parse_unary(p);
    while (!p->failed && (p->tok == T_STAR || p->tok == T_SLASH || p->tok == T_PCT)) {
        ex_op op = p->tok == T_STAR ? EX_MUL : p->tok == T_SLASH ? EX_DIV : EX_MOD;
        size_t off = p->start;
        next(p);
        scn_expr *b = parse_unary(p);
        if (p->failed)
            return NULL;
        e = binary(p, op, off, e, b);
    }
    return p->failed ? NULL : e;
}

static scn_expr *parse_add(ex_parser *p)
{
    scn_expr *e = parse_mul(p);
    while (!p->failed && (p->tok == T_PLUS || p->tok == T_MINUS)) {
        ex_op op = p->tok == T_PLUS ? EX_ADD : EX_SUB;
        size_t off = p->start;
        next(p);
        scn_expr *b = parse_mul(p);
        if (p->failed)
            return NULL;
        e = binary(p, op, off, e, b);
    }
    return p->failed ? NULL : e;
}

static void *arena_malloc_cb(size_t n, void *data) { return cr_arena_alloc(data, n); }
static void arena_free_cb(void *ptr, void *data) { (void)ptr; (void)data; }

/* A literal pattern is compiled now, into the program's arena. */
static void compile_regex(ex_parser *p, scn_expr *e)
{
    scn_expr *pat = e->b;
    if (!p->gctx) {
        p->gctx = pcre2_general_context_create(arena_malloc_cb, arena_free_cb, p->arena);
        p->cctx = p->gctx ? pcre2_compile_context_create(p->gctx) : NULL;
        if (!p->cctx) {
            fail(p, pat->offset, "out of memory compiling a regex");
            return;
        }
    }
    size_t len;
    const char *s = cr_val_to_cstr(pat->lit, p->arena, &len);
    int code;
    PCRE2_SIZE eo;
    e->re = pcre2_compile((PCRE2_SPTR)s, len, 0, &code, &eo, p->cctx);
    if (e->re)
        return;
    PCRE2_UCHAR msg[120];
    pcre2_get_error_message(code, msg, sizeof msg);
    /* Point into the literal when no escape before the error shifts bytes. */
    size_t at = pat->offset;
    if (pat->lit.kind == CR_VAL_STR && eo <= len) {
        const char *raw = p->src + pat->offset + 1;
        if (!memchr(raw, '\\', eo))
            at = pat->offset + 1 + eo;
    }
    fail(p, at, "invalid regex: %s (at offset %zu of the pattern)", (const char *)msg, (size_t)eo);
}

static scn_expr *parse_cmp(ex_parser *p)
{
    scn_expr *e = parse_add(p);
    if (p->failed)
        return NULL;
    ex_op op;
    switch (p->tok) {
    case T_EQ: op = EX_EQ; break;
    case T_NE: op = EX_NE; break;
    case T_LT: op = EX_LT; break;
    case T_LE: op = EX_LE; break;
    case T_GT: op = EX_GT; break;
    case T_GE: op = EX_GE; break;
    case T_MATCH: op = EX_MATCH; break;
    case T_NMATCH: op = EX_NMATCH; break;
    default: return e;
    }
    size_t off = p->start;
    next(p);
    scn_expr *b = parse_add(p);
    if (p->failed)
        return NULL;
    e = binary(p, op, off, e, b);
    if (p->failed)
        return NULL;
    if ((op == EX_MATCH || op == EX_NMATCH) && b->op == EX_LIT)
        compile_regex(p, e);
    if (!p->failed && p->tok >= T_EQ && p->tok <= T_NMATCH)
        fail(p, p->start, "comparisons cannot be chained (use 'and')");
    return p->failed ? NULL : e;
}

static scn_expr *parse_not(ex_parser *p)
{
    if (p->tok != T_NOT)
        return parse_cmp(p);
    size_t off = p->start;
    if (!enter(p))
        return NULL;
    next(p);
    scn_expr *a = parse_not(p);
    p->depth--;
    if (p->failed)
        return NULL;
    return binary(p, EX_NOT, off, a, NULL);
}

static scn_expr *parse_and(ex_parser *p)
{
    scn_expr *e = parse_not(p);
    while (!p->failed && p->tok == T_AND) {
        size_t off = p->start;
        next(p);
        scn_expr *b = parse_not(p);
        if (p->failed)
            return NULL;
        e = binary(p, EX_AND, off, e, b);
    }
    return p->failed ? NULL : e;
}

static scn_expr *parse_or(ex_parser *p)
{
    if (!enter(p))
        return NULL;
    scn_expr *e = parse_and(p);
    while (!p->failed && p->tok == T_OR) {
        size_t off = p->start;
        next(p);
        scn_expr *b = parse_and(p);
        if (p->failed)
            return NULL;
        e = binary(p, EX_OR, off, e, b);
    }
    p->depth--;
    return p->failed ? NULL : e;
}

scn_expr *scn_expr_compile(cr_arena *arena, const char *src, size_t len, scn_parse_error *err)
{
    ex_parser p = {.arena = arena, .src = src, .len = len, .err = err};
    if (err) {
        err->offset = 0;
        err->msg[0] = '\0';
    }
    next(&p);
    if (!p.failed && p.tok == T_END) {
        fail(&p, 0, "empty expression");
        return NULL;
    }
    scn_expr *e = parse_or(&p);
    if (!p.failed && p.tok != T_END) {
        char t[48];
        tok_text(&p, t, sizeof t);
        if (p.tok == T_RP)
            fail(&p, p.start, "unmatched ')'");
        else
            fail(&p, p.start, "expected an operator or the end, found %s", t);
    }
    return p.failed ? NULL : e;
}

void scn_expr_vars(const scn_expr *e, void (*fn)(void *arg, const char *name), void *arg)
{
    if (!e)
        return;
    switch (e->op) {
    case EX_LIT:
        return;
    case EX_VAR:
        fn(arg, e->name);
        return;
    case EX_CALL:
        for (unsigned i = 0; i < e->nargs; i++)
            scn_expr_vars(e->args[i], fn, arg);
        return;
    default:
        scn_expr_vars(e->a, fn, arg);
        scn_expr_vars(e->b, fn, arg);
    }
}
