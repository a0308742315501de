/* fuzz_expr.c — libFuzzer target: any bytes compiled as an expression; when
 * they compile, evaluated against a few variables. Checks that failures point
 * inside the input and that evaluation is deterministic and never touches
 * the program's memory. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/expr.h"

static bool lookup_cb(void *ctx, const char *name, size_t len, cr_value *out)
{
    (void)ctx;
    static const struct { const char *name; cr_value v; } vars[] = {
        {"s", {CR_VAL_STR, false, 0, "hello", 5}},
        {"n", {CR_VAL_NUM, false, 42, NULL, 0}},
        {"ns", {CR_VAL_STR, false, 0, "42", 2}},
        {"f", {CR_VAL_NUM, false, -2.5, NULL, 0}},
        {"e", {CR_VAL_STR, false, 0, "", 0}},
        {"t", {CR_VAL_BOOL, true, 0, NULL, 0}},
        {"nul", {CR_VAL_NULL, false, 0, NULL, 0}},
        {"pat", {CR_VAL_STR, false, 0, "^h(e|a)+", 8}},
        {"badpat", {CR_VAL_STR, false, 0, "(", 1}},
        {"a.b.c", {CR_VAL_STR, false, 0, "+44 20 7946", 11}},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0) {
            *out = vars[i].v;
            return true;
        }
    if (len > 1 && name[0] == 'x') { /* x...: the name itself */
        *out = cr_val_str(name, len);
        return true;
    }
    return false;
}

static void vars_cb(void *arg, const char *name)
{
    if (!name[0])
        abort();
    (*(size_t *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cr_arena prog, scratch;
    cr_arena_init(&prog, 0);
    cr_arena_init(&scratch, 0);
    /* A private copy, exactly SIZE bytes long: reads past it are caught. */
    char *src = malloc(size ? size : 1);
    memcpy(src, data, size);
    scn_parse_error err;
    scn_expr *e = scn_expr_compile(&prog, src, size, &err);
    if (!e) {
        if (err.offset > size || !err.msg[0])
            abort();
    } else {
        size_t nvars = 0;
        scn_expr_vars(e, vars_cb, &nvars);
        scn_env env = {.lookup = lookup_cb, .now = 1700000000.5, .utc_offset = 3600,
                       .scratch = &scratch};
        size_t used = prog.used_total;
        cr_value a = scn_expr_eval(e, &env);
        cr_value b = scn_expr_eval(e, &env);
        if (prog.used_total != used || a.kind != b.kind)
            abort();
        if (a.kind == CR_VAL_STR && (a.len != b.len || (a.len && memcmp(a.str, b.str, a.len))))
            abort();
        cr_strbuf t = CR_STRBUF_INIT;
        cr_val_to_text(a, &t);
        (void)cr_val_truthy(a);
        cr_strbuf_free(&t);
    }
    free(src);
    cr_arena_free(&scratch);
    cr_arena_free(&prog);
    return 0;
}
