/* trace_pack.c — trace records as bytes (trace_pack.h).
 *
 * A record: a fixed head (its size, kind, the numbers, which strings are
 * present), then each present string (u32 length, bytes, NUL) in the order
 * of the table below, then the variables (name; value kind, bool, number,
 * and the text when it has one). Heads are copied in and out with memcpy:
 * records follow each other unaligned. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/trace_pack.h"
#include "util/alloc.h"

/* Every string field of a record but call_id (the keeper knows it). */
static const size_t str_fields[] = {
    offsetof(eng_trace_rec, strand_name), offsetof(eng_trace_rec, app),
    offsetof(eng_trace_rec, path),        offsetof(eng_trace_rec, id),
    offsetof(eng_trace_rec, phase),       offsetof(eng_trace_rec, status),
    offsetof(eng_trace_rec, error),       offsetof(eng_trace_rec, event),
    offsetof(eng_trace_rec, by),          offsetof(eng_trace_rec, leg),
    offsetof(eng_trace_rec, digit),       offsetof(eng_trace_rec, cause),
    offsetof(eng_trace_rec, route),       offsetof(eng_trace_rec, explain),
    offsetof(eng_trace_rec, to),          offsetof(eng_trace_rec, cc),
    offsetof(eng_trace_rec, subject),     offsetof(eng_trace_rec, body),
    offsetof(eng_trace_rec, level),       offsetof(eng_trace_rec, message),
    offsetof(eng_trace_rec, gateway),     offsetof(eng_trace_rec, scenario),
    offsetof(eng_trace_rec, parent),      offsetof(eng_trace_rec, room),
    offsetof(eng_trace_rec, mode),        offsetof(eng_trace_rec, slot),
    offsetof(eng_trace_rec, peer),
};
#define STR_FIELDS (sizeof str_fields / sizeof str_fields[0])
_Static_assert(STR_FIELDS <= 32, "the presence mask is 32 bits");

typedef struct head {
    uint32_t size;        /* the whole record, head included */
    uint32_t present;     /* bit i: str_fields[i] is not NULL */
    uint32_t var_count;
    uint32_t strand;
    uint32_t member;
    int32_t sip_code;
    uint8_t kind;
    double t, duration;
} head;

typedef struct var_head {
    uint8_t kind, b, has_str;
    double num;
    uint32_t len;         /* of the text that follows when has_str */
} var_head;

static const char **field(eng_trace_rec *r, size_t i)
{
    return (const char **)((char *)r + str_fields[i]);
}

static void put_str(cr_strbuf *out, const char *s, size_t n)
{
    uint32_t len = (uint32_t)n;
    cr_strbuf_append(out, (const char *)&len, sizeof len);
    cr_strbuf_append(out, s, n);
    cr_strbuf_putc(out, '\0');
}

size_t eng_trace_pack(const eng_trace_rec *r, cr_strbuf *out)
{
    size_t start = out->len;
    head h;
    memset(&h, 0, sizeof h);   /* padding too: the bytes are copied as they are */
    h.var_count = (uint32_t)r->var_count;
    h.strand = r->strand;
    h.member = r->member;
    h.sip_code = r->sip_code;
    h.kind = (uint8_t)r->kind;
    h.t = r->t;
    h.duration = r->duration;
    eng_trace_rec *rw = (eng_trace_rec *)r;   /* read only: field() takes no const */
    for (size_t i = 0; i < STR_FIELDS; i++)
        if (*field(rw, i))
            h.present |= 1u << i;
    cr_strbuf_append(out, (const char *)&h, sizeof h);
    for (size_t i = 0; i < STR_FIELDS; i++)
        if (h.present & (1u << i))
            put_str(out, *field(rw, i), strlen(*field(rw, i)));
    for (size_t i = 0; i < r->var_count; i++) {
        const eng_trace_var *v = &r->vars[i];
        put_str(out, v->name, strlen(v->name));
        var_head vh;
        memset(&vh, 0, sizeof vh);
        vh.kind = (uint8_t)v->value.kind;
        vh.b = v->value.b;
        vh.has_str = v->value.str != NULL;
        vh.num = v->value.num;
        vh.len = v->value.str ? (uint32_t)v->value.len : 0;
        cr_strbuf_append(out, (const char *)&vh, sizeof vh);
        if (vh.has_str) {
            cr_strbuf_append(out, v->value.str, vh.len);
            cr_strbuf_putc(out, '\0');
        }
    }
    uint32_t size = (uint32_t)(out->len - start);
    memcpy(out->s + start + offsetof(head, size), &size, sizeof size);
    return out->len - start;
}

/* The string at *P: its bytes stay in the buffer, NUL-terminated. */
static const char *get_str(const char **p)
{
    uint32_t len;
    memcpy(&len, *p, sizeof len);
    const char *s = *p + sizeof len;
    *p = s + len + 1;
    return s;
}

bool eng_trace_unpack(const char *buf, size_t len, size_t *pos, const char *call_id,
                      eng_trace_unpacked *out)
{
    memset(out, 0, sizeof *out);
    if (!buf || *pos + sizeof(head) > len)
        return false;
    head h;
    memcpy(&h, buf + *pos, sizeof h);
    const char *p = buf + *pos + sizeof h;
    eng_trace_rec *r = &out->rec;
    r->kind = (eng_trace_kind)h.kind;
    r->t = h.t;
    r->duration = h.duration;
    r->strand = h.strand;
    r->member = h.member;
    r->sip_code = h.sip_code;
    r->call_id = call_id;
    for (size_t i = 0; i < STR_FIELDS; i++)
        if (h.present & (1u << i))
            *field(r, i) = get_str(&p);
    if (h.var_count) {
        out->vars = cr_xcalloc(h.var_count, sizeof *out->vars);
        for (size_t i = 0; i < h.var_count; i++) {
            eng_trace_var *v = &out->vars[i];
            v->name = get_str(&p);
            var_head vh;
            memcpy(&vh, p, sizeof vh);
            p += sizeof vh;
            v->value.kind = (cr_val_kind)vh.kind;
            v->value.b = vh.b;
            v->value.num = vh.num;
            if (vh.has_str) {
                v->value.str = p;
                v->value.len = vh.len;
                p += vh.len + 1;
            }
        }
        r->vars = out->vars;
        r->var_count = h.var_count;
    }
    *pos += h.size;
    return true;
}

void eng_trace_unpacked_free(eng_trace_unpacked *u)
{
    free(u->vars);
    u->vars = NULL;
}
