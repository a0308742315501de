/* node.c — looking things up in a loaded tree and reading plain scalars the
 * YAML 1.2 core-schema way (quoted scalars are always strings). */
#include <stdlib.h>
#include <string.h>

#include "scenario/node.h"

const scn_node *scn_map_get(const scn_node *map, const char *key)
{
    if (!map || map->kind != SCN_NODE_MAP || !key)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < map->count; i++) {
        const scn_node *k = map->pairs[i].key;
        if (k->len == n && memcmp(k->str, key, n) == 0)
            return map->pairs[i].val;
    }
    return NULL;
}

/* An absent node (NULL) counts as null too: "key:" and no key read alike. */
bool scn_is_null(const scn_node *n)
{
    if (!n)
        return true;
    if (n->kind != SCN_NODE_SCALAR || n->quoted)
        return false;
    return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
           strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

bool scn_scalar_bool(const scn_node *n, bool *out)
{
    if (!n || n->kind != SCN_NODE_SCALAR || n->quoted)
        return false;
    const char *s = n->str;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
        if (out)
            *out = true;
        return true;
    }
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
        if (out)
            *out = false;
        return true;
    }
    return false;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Plain decimal numbers only: [-+]? (digits [. digits?] | . digits) [e[-+]digits].
 * Hex, octal, .inf and .nan are not numbers a scenario needs. */
bool scn_scalar_number(const scn_node *n, double *out)
{
    if (!n || n->kind != SCN_NODE_SCALAR || n->quoted || n->len == 0 || n->len > 64)
        return false;
    const char *s = n->str, *p = s;
    if (*p == '-' || *p == '+')
        p++;
    size_t int_digits = 0, frac_digits = 0;
    while (is_digit(*p))
        p++, int_digits++;
    if (*p == '.') {
        p++;
        while (is_digit(*p))
            p++, frac_digits++;
    }
    if (int_digits + frac_digits == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!is_digit(*p))
            return false;
        while (is_digit(*p))
            p++;
    }
    if (*p != '\0' || (size_t)(p - s) != n->len)
        return false;
    if (out)
        *out = strtod(s, NULL);
    return true;
}

bool scn_scalar_is(const scn_node *n, const char *s)
{
    return n && s && n->kind == SCN_NODE_SCALAR && n->len == strlen(s) &&
           memcmp(n->str, s, n->len) == 0;
}
