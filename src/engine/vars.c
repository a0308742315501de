/* vars.c — call variables: a short list in the call arena (a call has tens
 * of them). An overwrite reuses the old string's room when it fits, so a
 * loop that sets a variable a million times does not grow the arena. */
#include <stdint.h>
#include <string.h>

#include "engine/engine_int.h"

/* NAME (LEN bytes, hash H) in the list, or NULL. */
static eng_var *find_hashed(eng_call *c, const char *name, size_t len, uint32_t h)
{
    for (eng_var *v = c->vars; v; v = v->next)
        if (v->hash == h && strncmp(v->name, name, len) == 0 && v->name[len] == '\0')
            return v;
    return NULL;
}


/* A new variable, not yet in the list: the struct, the name (hash H) and
 * room for a string of ROOM bytes in one block. */
static eng_var *var_new(eng_call *c, const char *name, size_t len, uint32_t h, size_t room)
{
    eng_var *v = cr_arena_alloc(&c->arena, eng_var_size(len, room));
    memcpy(v->name, name, len);
    v->name[len] = '\0';
    v->hash = h;
    if (room) {
        v->str = v->name + len + 1;
        v->cap = (uint32_t)room;
    }
    return v;
}

/* V's room for a string (CAP bytes), or NULL. A room under
 * ENG_VAR_NUM_IN_ROOM bytes is the one var_new made after the name (later
 * rooms are at least 16 B): a number may be over STR then. A larger one
 * is STR, which a number never overwrites (eng_var). */
static char *var_room(eng_var *v)
{
    if (!v->cap)
        return NULL;
    if (v->cap < ENG_VAR_NUM_IN_ROOM)
        return v->name + strlen(v->name) + 1;
    return v->str;
}

/* S (LEN bytes) as V's string: in its room when it fits, else in new room
 * of at least 16 B. */
static void var_put_str(eng_call *c, eng_var *v, const char *s, size_t len)
{
    char *room = var_room(v);
    if (v->cap <= len) {
        size_t cap = len + 1 < 16 ? 16 : len + 1;
        room = cr_arena_alloc(&c->arena, cap);
        v->cap = (uint32_t)cap;
    }
    memmove(room, s, len);
    room[len] = '\0';
    v->str = room;
    v->len = (uint32_t)len;
}

/* N as V's number: in its room when it holds one (STR stays the room), else
 * over STR (eng_var). */
static void var_put_num(eng_var *v, double n)
{
    if (v->cap >= ENG_VAR_NUM_IN_ROOM)
        memcpy(v->str, &n, sizeof n);
    else
        v->num = n;
}

static void link_after(eng_call *c, eng_var *pos, eng_var *v)
{
    eng_var **at = pos ? &pos->next : &c->vars;
    v->next = *at;
    *at = v;
    if (c->vars_tail == pos)
        c->vars_tail = v;
}

#define HEADER_PREFIX "sip.header."
#define HEADER_PREFIX_LEN (sizeof HEADER_PREFIX - 1)
/* The longest variable name a header got when they were made eagerly
 * (snprintf into 300 bytes): the same names now. */
#define HEADER_NAME_MAX 299

bool eng_header_kept(const eng_engine *e, const scn_program *prog, const char *name)
{
    return e->opt.keep_all_headers || scn_program_reads_header(prog, name);
}

void eng_var_headers(eng_call *c, const char *const *names, const char *const *values, size_t count)
{
    size_t n = 0, kept = 0;
    for (size_t i = 0; i < count; i++)
        if (eng_header_kept(c->e, c->prog, names[i])) {
            n += strlen(names[i]) + 1 + strlen(values[i]) + 1;
            kept++;
        }
    if (!n)
        return;
    char *p = cr_arena_alloc(&c->arena, n);
    c->headers = p;
    c->header_count = (uint32_t)kept;   /* a SIP message's handful */
    c->headers_after = c->vars_tail;
    for (size_t i = 0; i < count; i++) {
        if (!eng_header_kept(c->e, c->prog, names[i]))
            continue;
        size_t nl = strlen(names[i]) + 1, vl = strlen(values[i]) + 1;
        memcpy(p, names[i], nl);
        memcpy(p + nl, values[i], vl);
        p += nl + vl;
    }
}

/* Every header becomes its variable, in the order and place (after the
 * call's standard variables) they had when they were made eagerly; a
 * repeated header's last value wins, as it did. Written at no sequence
 * number and by no strand: no action's trace lists them. */
static void make_header_vars(eng_call *c)
{
    const char *p = c->headers;
    c->headers = NULL;
    eng_var *pos = c->headers_after;
    for (size_t i = 0; i < c->header_count; i++) {
        const char *hn = p, *hv = p + strlen(p) + 1;
        p = hv + strlen(hv) + 1;
        char name[HEADER_NAME_MAX + 1];
        size_t hl = strlen(hn), len = HEADER_PREFIX_LEN + hl;
        if (len > HEADER_NAME_MAX)
            len = HEADER_NAME_MAX;
        memcpy(name, HEADER_PREFIX, HEADER_PREFIX_LEN);
        memcpy(name + HEADER_PREFIX_LEN, hn, len - HEADER_PREFIX_LEN);
        size_t vlen = strlen(hv);
        uint32_t h = eng_name_hash(name, len);
        eng_var *v = find_hashed(c, name, len, h);
        if (!v) {
            v = var_new(c, name, len, h, vlen + 1);
            link_after(c, pos, v);
            pos = v;
        }
        var_put_str(c, v, hv, vlen);
        v->kind = CR_VAL_STR;
    }
}

/* NAME (LEN bytes, hash H), the INVITE's headers made variables first
 * when it names one of them. */
static eng_var *find_var(eng_call *c, const char *name, size_t len, uint32_t h)
{
    eng_var *v = find_hashed(c, name, len, h);
    if (v || !c->headers || len <= HEADER_PREFIX_LEN || memcmp(name, HEADER_PREFIX, HEADER_PREFIX_LEN) != 0)
        return v;
    make_header_vars(c);
    return find_hashed(c, name, len, h);
}

eng_var *eng_var_find(eng_call *c, const char *name, size_t len)
{
    return find_var(c, name, len, eng_name_hash(name, len));
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
    uint32_t h = eng_name_hash(name, len);
    eng_var *v = find_var(c, name, len, h);
    if (!v) {
        v = var_new(c, name, len, h, is_str ? vlen + 1 : 0);
        link_after(c, c->vars_tail, v);
    }
    if (is_str)
        var_put_str(c, v, src, vlen);
    else if (val.kind == CR_VAL_NUM)
        var_put_num(v, val.num);
    v->kind = (uint8_t)val.kind;
    v->b = val.b;
    v->seq = ++c->var_seq;
    v->writer = c->e->running ? c->e->running->id : 0;
}

void eng_var_set_kept(eng_call *c, const char *name, const char *s)
{
    size_t len = strlen(name), slen = strlen(s);
    uint32_t h = eng_name_hash(name, len);
    eng_var *v = find_var(c, name, len, h);
    if (v || slen > UINT32_MAX - 1) {
        eng_var_set_str(c, name, s);
        return;
    }
    v = var_new(c, name, len, h, 0);
    link_after(c, c->vars_tail, v);
    /* Never written through: with no room (cap 0) the next write makes its own. */
    v->str = (char *)s;
    v->len = (uint32_t)slen;
    v->kind = CR_VAL_STR;
    v->seq = ++c->var_seq;
    v->writer = c->e->running ? c->e->running->id : 0;
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
    if (c->headers)
        make_header_vars(c);
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
