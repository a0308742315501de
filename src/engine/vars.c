/* vars.c — call variables: a short list in the call arena (a call has tens
 * of them). An overwrite reuses the old string's room when it fits, so a
 * loop that sets a variable a million times does not grow the arena. */
#include <string.h>

#include "engine/engine_int.h"

static eng_var *find(eng_call *c, const char *name, size_t len)
{
    for (eng_var *v = c->vars; v; v = v->next)
        if (v->name_len == len && memcmp(v->name, name, len) == 0)
            return v;
    return NULL;
}

void eng_var_set(eng_call *c, const char *name, cr_value val)
{
    size_t len = strlen(name);
    eng_var *v = find(c, name, len);
    if (!v) {
        v = cr_arena_alloc(&c->arena, sizeof *v);
        v->name = cr_arena_strndup(&c->arena, name, len);
        v->name_len = len;
        if (c->vars_tail)
            c->vars_tail->next = v;
        else
            c->vars = v;
        c->vars_tail = v;
    }
    if (val.kind == CR_VAL_STR || val.kind == CR_VAL_ERR) {
        const char *src = val.str ? val.str : "";
        if (v->cap <= val.len) {
            v->cap = val.len + 1 < 16 ? 16 : val.len + 1;
            v->buf = cr_arena_alloc(&c->arena, v->cap);
        }
        memmove(v->buf, src, val.len);
        v->buf[val.len] = '\0';
        val.str = v->buf;
    } else {
        val.str = NULL;
        val.len = 0;
    }
    v->v = val;
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
    eng_var *v = find(c, name, strlen(name));
    if (!v)
        return false;
    *out = v->v;
    return true;
}

void eng_var_foreach(eng_call *c, void (*fn)(void *arg, const char *name, cr_value v), void *arg)
{
    for (eng_var *v = c->vars; v; v = v->next) {
        fn(arg, v->name, v->v);
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
