/* compile.c — scn_program_load: load the tree, validate and compile every
 * section into an immutable program, or report every error and free it all
 * (never half-loaded). Also the small typed helpers the other compiler files
 * and the applications' check hooks share. */
#include "scenario/compile.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/compile_int.h"
#include "util/alloc.h"

/* ---- reporting ---------------------------------------------------------- */

static void report(scn_compile_ctx *cx, scn_severity sev, const scn_node *n, unsigned col_shift,
                   const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    const char *file = n ? n->file : cx->prog ? cx->prog->file : NULL;
    unsigned line = n ? n->line : 0, col = n ? n->col + col_shift : 0;
    scn_diag_at(cx->diags, sev, file, line, col, scn_path_str(&cx->path), "%s", msg);
}

void scn_cx_error(scn_compile_ctx *cx, const scn_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(cx, SCN_SEV_ERROR, n, 0, fmt, ap);
    va_end(ap);
}

void scn_cx_warning(scn_compile_ctx *cx, const scn_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(cx, SCN_SEV_WARNING, n, 0, fmt, ap);
    va_end(ap);
}

/* An error at byte OFFSET inside scalar N, when the column can be known. */
static void error_in_scalar(scn_compile_ctx *cx, const scn_node *n, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void error_in_scalar(scn_compile_ctx *cx, const scn_node *n, size_t offset, const char *fmt, ...)
{
    unsigned shift = 0;
    if (offset <= n->len && !memchr(n->str, '\n', offset) && !memchr(n->str, '\\', offset))
        shift = (unsigned)offset + (n->quoted ? 1 : 0);
    va_list ap;
    va_start(ap, fmt);
    report(cx, SCN_SEV_ERROR, n, shift, fmt, ap);
    va_end(ap);
}

const char *scn_node_describe(const scn_node *n, char *buf, size_t size)
{
    double d;
    bool b;
    if (!n)
        return "nothing";
    if (n->kind == SCN_NODE_MAP)
        return "a mapping";
    if (n->kind == SCN_NODE_SEQ)
        return "a list";
    if (scn_is_null(n))
        return "nothing (null)";
    if (scn_scalar_bool(n, &b))
        snprintf(buf, size, "the boolean %s", b ? "true" : "false");
    else if (scn_scalar_number(n, &d))
        snprintf(buf, size, "the number %s", n->str);
    else if (n->len > 40)
        snprintf(buf, size, "'%.37s...'", n->str);
    else
        snprintf(buf, size, "'%s'", n->str);
    return buf;
}

/* "a, b or c" into BUF. */
const char *scn_join_choices(const char *const *choices, char *buf, size_t size)
{
    size_t len = 0, n = 0;
    while (choices[n])
        n++;
    buf[0] = 0;
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
                                choices[i]);
    return buf;
}

bool scn_check_keys(scn_cx *x, const scn_node *n, const char *const *known, const char *what)
{
    bool ok = true;
    for (size_t i = 0; i < n->count; i++) {
        const scn_node *k = n->pairs[i].key;
        size_t j = 0;
        while (known[j] && strcmp(known[j], k->str) != 0)
            j++;
        if (known[j])
            continue;
        ok = false;
        const char *s = scn_suggest(k->str, known);
        char list[512];
        SCN_WITH_KEY(x, k->str) {
            if (s)
                scn_cx_error(&x->pub, k, "unknown key '%s' in %s; did you mean '%s'?", k->str, what, s);
            else
                scn_cx_error(&x->pub, k, "unknown key '%s' in %s; expected %s", k->str, what,
                             scn_join_choices(known, list, sizeof list));
        }
    }
    return ok;
}

bool scn_expect_map(scn_cx *x, const scn_node *n, const char *what)
{
    if (n && n->kind == SCN_NODE_MAP)
        return true;
    char buf[64];
    scn_cx_error(&x->pub, n, "expected %s (a mapping), got %s", what, scn_node_describe(n, buf, sizeof buf));
    return false;
}

const char *scn_expect_string(scn_cx *x, const scn_node *n, const char *what)
{
    if (n && n->kind == SCN_NODE_SCALAR && !scn_is_null(n))
        return n->str;
    char buf[64];
    scn_cx_error(&x->pub, n, "expected %s, got %s", what, scn_node_describe(n, buf, sizeof buf));
    return NULL;
}

bool scn_expect_bool(scn_cx *x, const scn_node *n, bool *out)
{
    if (n && n->kind == SCN_NODE_SCALAR && scn_scalar_bool(n, out))
        return true;
    char buf[64];
    scn_cx_error(&x->pub, n, "expected true or false, got %s", scn_node_describe(n, buf, sizeof buf));
    return false;
}

bool scn_expect_number(scn_cx *x, const scn_node *n, double min, double max, double *out)
{
    char buf[64];
    if (!n || n->kind != SCN_NODE_SCALAR || !scn_scalar_number(n, out)) {
        scn_cx_error(&x->pub, n, "expected a number, got %s", scn_node_describe(n, buf, sizeof buf));
        return false;
    }
    if ((min != 0 || max != 0) && (*out < min || *out > max)) {
        scn_cx_error(&x->pub, n, "expected a number from %g to %g, got %s", min, max, n->str);
        return false;
    }
    return true;
}

bool scn_expect_int(scn_cx *x, const scn_node *n, long min, long max, long *out)
{
    char buf[64];
    double d;
    if (!n || n->kind != SCN_NODE_SCALAR || !scn_scalar_number(n, &d) || d != (double)(long)d) {
        scn_cx_error(&x->pub, n, "expected a whole number, got %s", scn_node_describe(n, buf, sizeof buf));
        return false;
    }
    if ((min != 0 || max != 0) && (d < (double)min || d > (double)max)) {
        scn_cx_error(&x->pub, n, "expected a whole number from %ld to %ld, got %s", min, max, n->str);
        return false;
    }
    *out = (long)d;
    return true;
}

bool scn_expect_enum(scn_cx *x, const scn_node *n, const char *const *choices, int *out)
{
    char buf[64], list[512];
    if (n && n->kind == SCN_NODE_SCALAR && !scn_is_null(n)) {
        for (int i = 0; choices[i]; i++)
            if (strcmp(choices[i], n->str) == 0) {
                *out = i;
                return true;
            }
        const char *s = scn_suggest(n->str, choices);
        if (s) {
            scn_cx_error(&x->pub, n, "expected %s; got '%s' (did you mean '%s'?)",
                         scn_join_choices(choices, list, sizeof list), n->str, s);
            return false;
        }
    }
    scn_cx_error(&x->pub, n, "expected %s; got %s", scn_join_choices(choices, list, sizeof list),
                 scn_node_describe(n, buf, sizeof buf));
    return false;
}

const char *scn_resolve_path(scn_cx *x, const char *path)
{
    const char *dir = x->pub.prog->dir;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    if (path[0] == '/' || strcmp(dir, ".") == 0)
        return path;
    return cr_arena_printf(x->pub.arena, "%s/%s", dir, path);
}


/* ---- typed helpers of compile.h ----------------------------------------- */

static bool expect_text(scn_compile_ctx *cx, const scn_node *n, const char *what)
{
    if (n && n->kind == SCN_NODE_SCALAR && (n->quoted || !scn_is_null(n)))
        return true;
    char buf[64];
    scn_cx_error(cx, n, "expected %s, got %s", what, scn_node_describe(n, buf, sizeof buf));
    return false;
}

const scn_template *scn_compile_template(scn_compile_ctx *cx, const scn_node *n)
{
    if (!expect_text(cx, n, "a template (text)"))
        return NULL;
    scn_parse_error err = {0};
    scn_template *t = scn_template_compile(cx->arena, n->str, n->len, &err);
    if (!t)
        error_in_scalar(cx, n, err.offset, "bad template: %s", err.msg);
    return t;
}

const scn_expr *scn_compile_expr(scn_compile_ctx *cx, const scn_node *n)
{
    if (!expect_text(cx, n, "an expression"))
        return NULL;
    scn_parse_error err = {0};
    scn_expr *e = scn_expr_compile(cx->arena, n->str, n->len, &err);
    if (!e)
        error_in_scalar(cx, n, err.offset, "bad expression: %s", err.msg);
    return e;
}

bool scn_parse_duration(const char *s, size_t len, double *seconds)
{
    static const struct { const char *unit; double mult; } units[] = {
        {"ms", 0.001}, {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1},
    };
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len == 0)
        return false;
    double total = 0;
    int last = -1;                 /* units must come largest first: 1d12h, 1h30m, not 30m1h */
    size_t i = 0;
    while (i < len) {
        size_t start = i, digits = 0;
        bool dot = false;
        for (; i < len && (isdigit((unsigned char)s[i]) || (s[i] == '.' && !dot)); i++) {
            if (s[i] == '.')
                dot = true;
            else
                digits++;
        }
        if (digits == 0 || i - start > 30)
            return false;
        char num[32];
        memcpy(num, s + start, i - start);
        num[i - start] = 0;
        double v = strtod(num, NULL);
        if (i == len) {                   /* a bare number: seconds, alone only */
            if (last >= 0)
                return false;
            total = v;
            break;
        }
        int u = -1;
        for (int k = 0; k < 5 && u < 0; k++) {
            size_t ul = strlen(units[k].unit);
            if (len - i >= ul && memcmp(s + i, units[k].unit, ul) == 0 &&
                (len - i == ul || isdigit((unsigned char)s[i + ul])))
                u = k;
        }
        if (u < 0)
            return false;
        /* rank: d=0, h=1, m=2, s=3, ms=4 */
        static const int ranks[] = {4, 0, 1, 2, 3};
        int rank = ranks[u];
        if (rank <= last)
            return false;
        last = rank;
        total += v * units[u].mult;
        i += strlen(units[u].unit);
    }
    *seconds = total;
    return true;
}

bool scn_compile_duration(scn_compile_ctx *cx, const scn_node *n, double *seconds)
{
    char buf[64];
    if (n && n->kind == SCN_NODE_SCALAR && !scn_is_null(n)) {
        double d;
        if (!n->quoted && scn_scalar_number(n, &d) && d >= 0) {
            *seconds = d;
            return true;
        }
        if (scn_parse_duration(n->str, n->len, seconds))
            return true;
    }
    scn_cx_error(cx, n, "expected a duration (30, 2.5, \"500ms\", \"1m\", \"1m30s\"), got %s",
                 scn_node_describe(n, buf, sizeof buf));
    return false;
}

const app_def *scn_app_lookup(const app_table *registry, const char *name)
{
    for (size_t t = 0; registry && registry[t]; t++)
        for (const app_def *a = registry[t]; a->name; a++)
            if (strcmp(a->name, name) == 0)
                return a;
    return NULL;
}

/* ---- the whole file ------------------------------------------------------ */

static const char *const top_keys[] = {"version", "include", "settings", "users", "groups", "queues",
                                       "gateways", "conferences", "scenarios", "routes", NULL};

static void collect_app_names(scn_cx *x)
{
    size_t n = 0;
    for (size_t t = 0; x->pub.registry[t]; t++)
        for (const app_def *a = x->pub.registry[t]; a->name; a++)
            n++;
    x->app_names = cr_arena_alloc(x->pub.arena, (n + 1) * sizeof *x->app_names);
    n = 0;
    for (size_t t = 0; x->pub.registry[t]; t++)
        for (const app_def *a = x->pub.registry[t]; a->name; a++)
            x->app_names[n++] = a->name;
}

static void compile_version(scn_cx *x, const scn_node *root)
{
    const scn_node *v = scn_map_get(root, "version");
    double d;
    SCN_WITH_KEY(x, "version") {
        if (!v)
            scn_cx_warning(&x->pub, root, "no 'version:'; assuming version: 1");
        else if (v->kind != SCN_NODE_SCALAR || !scn_scalar_number(v, &d) || d != 1) {
            char buf[64];
            scn_cx_error(&x->pub, v, "unsupported version %s; this callroute reads version: 1",
                         v->kind == SCN_NODE_SCALAR ? v->str : scn_node_describe(v, buf, sizeof buf));
        }
    }
}

static scn_program *program_new(const char *file)
{
    scn_program *p = cr_xcalloc(1, sizeof *p);
    p->refcount = 1;
    cr_arena_init(&p->arena, 64 * 1024);
    p->file = cr_arena_strdup(&p->arena, file);
    const char *slash = strrchr(file, '/');
    p->dir = !slash ? "." : slash == file ? "/" : cr_arena_strndup(&p->arena, file, (size_t)(slash - file));
    p->lookup = cr_arena_alloc(&p->arena, sizeof *p->lookup);
    scn_settings_defaults(p);
    return p;
}

static scn_program *compile_root(scn_program *p, const scn_node *root, const app_table *registry,
                                 scn_diags *diags, size_t errors_before)
{
    scn_cx x;
    memset(&x, 0, sizeof x);
    x.pub.arena = &p->arena;
    x.pub.diags = diags;
    x.pub.prog = p;
    x.pub.registry = registry;
    x.pub.root = root;
    x.top_file = root->file;
    collect_app_names(&x);

    if (root->kind != SCN_NODE_MAP) {
        char buf[64];
        scn_cx_error(&x.pub, root, "expected a scenario file (a mapping with version, settings, routes, ...), got %s",
                     scn_node_describe(root, buf, sizeof buf));
    } else {
        scn_check_keys(&x, root, top_keys, "the file");
        compile_version(&x, root);
        /* Order matters: references point only backwards (groups -> users,
         * scripts -> gateways/databases/scenarios). */
        scn_compile_settings(&x, scn_map_get(root, "settings"));
        scn_compile_users(&x, scn_map_get(root, "users"));
        scn_compile_groups(&x, scn_map_get(root, "groups"));
        scn_compile_queues(&x, scn_map_get(root, "queues"));
        scn_compile_gateways(&x, scn_map_get(root, "gateways"));
        scn_compile_conferences(&x, scn_map_get(root, "conferences"));
        scn_declare_scenarios(&x, scn_map_get(root, "scenarios"));
        scn_compile_scenarios(&x, scn_map_get(root, "scenarios"));
        scn_compile_routes(&x, scn_map_get(root, "routes"));
        scn_warn_unused_scenarios(&x);
        scn_note_header_reads(p, root);
    }
    if (diags->errors > errors_before || diags->truncated) {
        scn_program_unref(p);
        return NULL;
    }
    return p;
}

scn_program *scn_program_load(const char *file, const struct app_def *const *registry,
                              struct scn_diags *diags, bool *unreadable)
{
    size_t errors_before = diags->errors;
    bool unr = false;
    scn_program *p = program_new(file);
    /* The tree lives in the program's arena: compiled parts may point into it. */
    scn_node *root = scn_load_file(&p->arena, file, diags, &unr);
    if (unreadable)
        *unreadable = unr;
    if (!root || diags->errors > errors_before) {
        scn_program_unref(p);
        return NULL;
    }
    return compile_root(p, root, registry, diags, errors_before);
}

scn_program *scn_program_load_text(const char *file, const char *text, size_t len,
                                   const struct app_def *const *registry, struct scn_diags *diags)
{
    size_t errors_before = diags->errors;
    scn_program *p = program_new(file);
    scn_node *root = scn_load_text(&p->arena, file, text, len, diags);
    if (!root || diags->errors > errors_before) {
        scn_program_unref(p);
        return NULL;
    }
    return compile_root(p, root, registry, diags, errors_before);
}

scn_program *scn_program_load_buffer(const char *name, const char *buf, size_t len,
                                     const struct app_def *const *registry, struct scn_diags *diags)
{
    size_t errors_before = diags->errors;
    scn_program *p = program_new(name);
    scn_node *root = scn_load_buffer(&p->arena, name, buf, len, diags);
    if (!root || diags->errors > errors_before) {
        scn_program_unref(p);
        return NULL;
    }
    return compile_root(p, root, registry, diags, errors_before);
}
