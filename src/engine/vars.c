/* vars.c — call variables: a short list in the call arena (a call has tens
 * of them). An overwrite reuses the old string's room when it fits, so a
 * loop that sets a variable a million times does not grow the arena. */
#include <stdint.h>
#include <string.h>

#include "engine/engine_int.h"

eng_var *eng_var_find(eng_call *c, const char *name, size_t len)
{
    uint32_t h = eng_name_hash(name, len);
    for (eng_var *v = c->vars; v; v = v->next)
        if (v->hash == h && v->name_len == len && memcmp(v->name, name, len) == 0)
            return v;
    return NULL;
}

void eng_var_set(eng_call *c, const char *name, cr_value val)
{
    size_t len = strlen(name);
    if (len > 65535)
        len = 65535;
    bool is_str = val.kind == CR_VAL_STR || val.kind == CR_VAL_ERR;
    size_t vlen = is_str ? val.len : 0;
    if (vlen > UINT32_MAX - 1)
        vlen = UINT32_MAX - 1;
    const char *src = is_str && val.str ? val.str : "";
    eng_var *v = eng_var_find(c, name, len);
    if (!v) {
        /* One block: the struct, the name, room for the value. */
        size_t room = is_str ? vlen + 1 : 0;
        char *block = cr_arena_alloc(&c->arena, sizeof *v + len + 1 + room);
        v = (eng_var *)block;
        char *nm = block + sizeof *v;
        memcpy(nm, name, len);
        nm[len] = '\0';
        v->name = nm;
        v->name_len = (uint16_t)len;
        v->hash = eng_name_hash(name, len);
        if (room) {
            v->str = nm + len + 1;
            v->cap = (uint32_t)room;
        }
        if (c->vars_tail)
            c->vars_tail->next = v;
        else
            c->vars = v;
        c->vars_tail = v;
    }
    if (is_str) {
        if (v->cap <= vlen) {
            size_t cap = vlen + 1 < 16 ? 16 : vlen + 1;
            v->str = cr_arena_alloc(&c->arena, cap);
            v->cap = (uint32_t)cap;
        }
        memmove(v->str, src, vlen);
        v->str[vlen] = '\0';
        v->len = (uint32_t)vlen;
    }
    v->kind = (uint8_t)val.kind;
    v->b = val.b;
    v->num = val.num;
    v->seq = ++c->var_seq;
    v->writer = c->e->running;
}

void eng_var_set_str(eng_call *c, const char *name, const char *s)
{
    eng_var_set(c, name, cr_val_cstr(s ? s : ""));
}

void eng_var_set_num(eng_call *c, const char *name, double n)
{
    eng_var_set(c, name, cr_val_num(n));
}

bool eng_var_get(eng_call *c, const char *name, cr_value *out)
{
    eng_var *v = eng_var_find(c, name, strlen(name));
    if (!v)
        return false;
    *out = eng_var_value(v);
    return true;
}

void eng_var_foreach(eng_call *c, void (*fn)(void *arg, const char *name, cr_value v), void *arg)
{
    for (eng_var *v = c->vars; v; v = v->next) {
        fn(arg, v->name, eng_var_value(v));
    }
}

void eng_strand_var_set(eng_strand *s, const char *name, cr_value v)
{
    eng_engine *e = s->call->e;
    eng_strand *was = e->running;
    e->running = s;
    eng_var_set(s->call, name, v);
    e->running = was;
}
