/* fuzz_loader.c — libFuzzer target: any bytes through the YAML/JSON loader,
 * then through every accessor, the diagnostics printers and the paths. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "scenario/diag.h"
#include "scenario/node.h"

static const char *const known[] = { "version", "settings", "users", "groups", "gateways",
                                     "scenarios", "routes", "include", "script", "app", NULL };

/* Walks the tree (shared alias nodes included) with a visit budget. */
static void walk(const scn_node *n, scn_path *p, size_t *budget)
{
    if (!n || *budget == 0)
        return;
    (*budget)--;
    bool b;
    double x;
    (void)scn_is_null(n);
    (void)scn_scalar_bool(n, &b);
    (void)scn_scalar_number(n, &x);
    (void)scn_scalar_is(n, "routes");
    if (n->kind == SCN_NODE_MAP) {
        for (size_t i = 0; i < n->count; i++) {
            size_t old = scn_path_key(p, n->pairs[i].key->str);
            (void)scn_suggest(n->pairs[i].key->str, known);
            (void)scn_map_get(n, n->pairs[i].key->str);
            walk(n->pairs[i].val, p, budget);
            scn_path_pop(p, old);
        }
    } else if (n->kind == SCN_NODE_SEQ) {
        for (size_t i = 0; i < n->count; i++) {
            size_t old = scn_path_index(p, i);
            walk(n->items[i], p, budget);
            scn_path_pop(p, old);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cr_arena arena;
    cr_arena_init(&arena, 0);
    scn_diags d;
    scn_diags_init(&d);
    scn_node *root = scn_load_buffer(&arena, "fuzz.yaml", (const char *)data, size, &d);
    if (root) {
        scn_path p = { .len = 0 };
        size_t budget = 100000;
        walk(root, &p, &budget);
    }
    if (!root && d.errors == 0)
        abort();   /* a failed load must always say why */
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        scn_diags_print(&d, null);
        fclose(null);
    }
    cr_strbuf json = CR_STRBUF_INIT;
    scn_diags_json(&d, &json);
    cr_strbuf_free(&json);
    scn_diags_free(&d);
    cr_arena_free(&arena);
    return 0;
}
