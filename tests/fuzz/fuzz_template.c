/* fuzz_template.c — libFuzzer target: any bytes compiled as a template; when
 * they compile, rendered with every escaping by both renderers, which must
 * agree. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/template.h"

static bool lookup_cb(void *ctx, const char *name, size_t len, cr_value *out)
{
    (void)ctx;
    static const struct { const char *name; cr_value v; } vars[] = {
        {"s", {CR_VAL_STR, false, 0, "h\xc3\xa9llo w{o}rld/?&=", 19}},
        {"n", {CR_VAL_NUM, false, 42.5, NULL, 0}},
        {"t", {CR_VAL_BOOL, true, 0, NULL, 0}},
        {"nul", {CR_VAL_NULL, false, 0, NULL, 0}},
        {"crlf", {CR_VAL_STR, false, 0, "a\r\nb\n", 6}},
        {"a.b-c", {CR_VAL_STR, false, 0, "x", 1}},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0) {
            *out = vars[i].v;
            return true;
        }
    return false;
}

static void undefined_cb(void *ctx, const char *name, size_t len)
{
    (void)name;
    if (len == 0)
        abort();
    (*(size_t *)ctx)++;
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
    char *src = malloc(size ? size : 1);
    memcpy(src, data, size);
    scn_parse_error err;
    scn_template *t = scn_template_compile(&prog, src, size, &err);
    if (!t) {
        if (err.offset >= size || !err.msg[0])
            abort();
    } else {
        size_t nvars = 0, undefined = 0;
        scn_template_vars(t, vars_cb, &nvars);
        scn_env env = {.lookup = lookup_cb, .undefined = undefined_cb, .ctx = &undefined,
                       .scratch = &scratch};
        const char *lit;
        size_t lit_len;
        bool literal = scn_template_literal(t, &lit, &lit_len);
        if (literal != (nvars == 0) || (literal && lit_len > size))
            abort();
        if (memcmp(scn_template_source(t), src, size) != 0)
            abort();
        for (int esc = SCN_ESC_NONE; esc <= SCN_ESC_PATH; esc++) {
            cr_strbuf out = CR_STRBUF_INIT;
            scn_template_render(t, &env, (scn_escape)esc, &out);
            const char *s = scn_template_render_cstr(t, &env, (scn_escape)esc);
            /* Literal text may hold NUL bytes: compare the buffer's length. */
            if (memcmp(s, cr_strbuf_cstr(&out), out.len) != 0)
                abort();
            if (literal && (out.len != lit_len || memcmp(out.s ? out.s : "", lit, lit_len)))
                abort();
            cr_strbuf_free(&out);
        }
    }
    free(src);
    cr_arena_free(&scratch);
    cr_arena_free(&prog);
    return 0;
}
