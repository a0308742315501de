/* call_trace.c — trace records as a few bytes and string numbers
 * (call_trace.h).
 *
 * A record, byte by byte:
 *   flags    kind (4 bits) | STRAND | T_RAW | NUMS | VARS
 *   t        varint milliseconds; T_RAW: the double's 8 bytes
 *   strand   varint, when STRAND
 *   nums     when NUMS: a varint of which follow (sip_code zigzag,
 *            member, duration in ms or its 8 bytes), then those
 *   present  varint mask: which string fields (str_fields) are set
 *   strings  a varint string number each, in the table's order
 *   vars     when VARS: a varint count, then each: its name's number, a
 *            byte (value kind | bool | has num), the num's 8 bytes when
 *            set, its text's number (0: none)
 * A time is kept in milliseconds only when that prints exactly as the
 * double did ("%.3f", the only way the formatters show it); anything else
 * (negative, -0, NaN, huge) keeps its 8 bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "admin/call_trace.h"
#include "util/alloc.h"

/* Every string field of a record but call_id (the keeper knows it), in
 * the presence mask's order. */
#define STR_FIELD_LIST(X)                                                                                \
    X(strand_name) X(app) X(path) X(id) X(phase) X(status) X(error) X(event) X(by) X(leg) X(digit)   \
    X(cause) X(route) X(explain) X(to) X(cc) X(subject) X(body) X(level) X(message) X(gateway)        \
    X(scenario) X(parent) X(room) X(mode) X(slot) X(peer)
#define STR_FIELD_OFFSET(f) offsetof(eng_trace_rec, f),
static const size_t str_fields[] = {STR_FIELD_LIST(STR_FIELD_OFFSET)};
#undef STR_FIELD_OFFSET
#define STR_FIELDS (sizeof str_fields / sizeof str_fields[0])
_Static_assert(STR_FIELDS <= 32, "the presence mask is 32 bits");
#define FIELDS_MASK ((UINT64_C(1) << STR_FIELDS) - 1)

enum { KIND_MASK = 0x0f, F_STRAND = 0x10, F_T_RAW = 0x20, F_NUMS = 0x40, F_VARS = 0x80 };
enum { N_SIP_CODE = 1, N_MEMBER = 2, N_DUR_MS = 4, N_DUR_RAW = 8 };
enum { V_KIND_MASK = 0x07, V_BOOL = 0x08, V_NUM = 0x10 };
_Static_assert((int)ENG_TR_CALL <= (int)KIND_MASK, "a record's kind fits in 4 bits");
_Static_assert((int)CR_VAL_ERR <= (int)V_KIND_MASK, "a value's kind fits in 3 bits");

static const char **field(eng_trace_rec *r, size_t i) { return (const char **)((char *)r + str_fields[i]); }

/* ---- packing ---- */

/* A record is encoded into a stack buffer and appended in one piece (it
 * was an append per number: ~6 a record, 11 records a call). */
typedef struct packer {
    cr_strbuf *out;
    size_t n;
    char buf[256];   /* not initialised: the first n bytes are the record's */
} packer;

static void flush(packer *pk)
{
    cr_strbuf_append(pk->out, pk->buf, pk->n);
    pk->n = 0;
}

static void put_bytes(packer *pk, const char *s, size_t n)
{
    if (pk->n + n > sizeof pk->buf)
        flush(pk);
    memcpy(pk->buf + pk->n, s, n);
    pk->n += n;
}

static void put_varint_long(packer *pk, uint64_t v)
{
    if (pk->n + 10 > sizeof pk->buf)
        flush(pk);
    do {
        char b = (char)(v & 0x7f);
        v >>= 7;
        if (v)
            b |= (char)0x80;
        pk->buf[pk->n++] = b;
    } while (v);
}

/* Most numbers (a string's, a strand's, the mask) take one byte: that
 * case inline, ~60 a call. */
static inline __attribute__((always_inline)) void put_varint(packer *pk, uint64_t v)
{
    if (v < 0x80 && pk->n < sizeof pk->buf)
        pk->buf[pk->n++] = (char)v;
    else
        put_varint_long(pk, v);
}

static void put_double(packer *pk, double d) { put_bytes(pk, (const char *)&d, sizeof d); }

/* D as whole milliseconds, when "%.3f" of ms / 1000.0 prints what "%.3f"
 * of D does: D non-negative (not -0), below 10^9 s (there a double's error
 * is far below a millisecond), and not within 0.01 ms of a rounding tie. */
static bool as_ms(double d, uint64_t *ms)
{
    if (!(d >= 0) || signbit(d) || d >= 1e9)
        return false;
    double x = d * 1000, r = floor(x + 0.5);
    if (fabs(x - r) > 0.49)
        return false;
    *ms = (uint64_t)r;
    return true;
}

static bool bits_zero(double d) { return d == 0 && !signbit(d); }

/* A string as a number; *KEPT grows by what it stands for. */
static void put_str(packer *out, strtab *tab, const char *s, size_t len, size_t *kept)
{
    put_varint(out, strtab_ref(tab, s, len));
    if (s)
        *kept += len + 1;
}

size_t call_trace_pack(const eng_trace_rec *r, strtab *tab, cr_strbuf *sb)
{
    size_t start = sb->len, kept = 0;
    packer pk;
    pk.out = sb;
    pk.n = 0;
    packer *out = &pk;
    eng_trace_rec *rw = (eng_trace_rec *)r;   /* read only: field() takes no const */
    uint64_t t_ms = 0, dur_ms = 0;
    bool t_ms_ok = as_ms(r->t, &t_ms);
    unsigned nums = 0;
    if (r->sip_code)
        nums |= N_SIP_CODE;
    if (r->member)
        nums |= N_MEMBER;
    if (!bits_zero(r->duration))
        nums |= as_ms(r->duration, &dur_ms) ? N_DUR_MS : N_DUR_RAW;
    unsigned flags = (unsigned)r->kind | (r->strand ? F_STRAND : 0) | (t_ms_ok ? 0 : F_T_RAW) |
                     (nums ? F_NUMS : 0) | (r->var_count ? F_VARS : 0);
    char flag = (char)flags;
    put_bytes(out, &flag, 1);
    if (t_ms_ok)
        put_varint(out, t_ms);
    else
        put_double(out, r->t);
    if (r->strand)
        put_varint(out, r->strand);
    if (nums) {
        put_varint(out, nums);
        if (nums & N_SIP_CODE)   /* zigzag: a negative code stays short */
            put_varint(out, ((uint64_t)(int64_t)r->sip_code << 1) ^ (uint64_t)((int64_t)r->sip_code >> 63));
        if (nums & N_MEMBER)
            put_varint(out, r->member);
        if (nums & N_DUR_MS)
            put_varint(out, dur_ms);
        if (nums & N_DUR_RAW)
            put_double(out, r->duration);
    }
    /* The mask without a loop over the offsets, then only the fields set
     * (a record sets ~3 of 27; both loops over all 27 were ~400
     * instructions a record). */
    uint32_t present = 0, bit = 1;
#define STR_FIELD_PRESENT(f) present |= r->f ? bit : 0, bit <<= 1;
    STR_FIELD_LIST(STR_FIELD_PRESENT)
#undef STR_FIELD_PRESENT
    put_varint(out, present);
    for (uint32_t m = present; m; m &= m - 1) {
        size_t len;
        put_varint(out, strtab_ref_cstr_len(tab, *field(rw, (size_t)__builtin_ctz(m)), &len));
        kept += len + 1;
    }
    if (r->var_count) {
        put_varint(out, r->var_count);
        for (size_t i = 0; i < r->var_count; i++) {
            const eng_trace_var *v = &r->vars[i];
            put_str(out, tab, v->name, strlen(v->name), &kept);
            bool num = !bits_zero(v->value.num);
            char vf = (char)((unsigned)v->value.kind | (v->value.b ? V_BOOL : 0) | (num ? V_NUM : 0));
            put_bytes(out, &vf, 1);
            if (num)
                put_double(out, v->value.num);
            put_str(out, tab, v->value.str, v->value.str ? v->value.len : 0, &kept);
        }
    }
    flush(out);
    return sb->len - start + kept;
}

/* ---- unpacking ---- */

typedef struct reader {
    const uint8_t *p, *end;
    bool ok;
} reader;

static uint64_t get_varint_long(reader *rd)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (rd->p >= rd->end) {
            rd->ok = false;
            return 0;
        }
        uint8_t b = *rd->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    rd->ok = false;
    return 0;
}

/* One byte, most numbers: inline (the call's end reads ~45). */
static inline __attribute__((always_inline)) uint64_t get_varint(reader *rd)
{
    if (rd->p < rd->end && !(*rd->p & 0x80))
        return *rd->p++;
    return get_varint_long(rd);
}

static double get_double(reader *rd)
{
    double d = 0;
    if ((size_t)(rd->end - rd->p) < sizeof d) {
        rd->ok = false;
        return 0;
    }
    memcpy(&d, rd->p, sizeof d);
    rd->p += sizeof d;
    return d;
}

/* The string a number names. */
static const char *get_str(reader *rd, const strtab *tab, size_t *len)
{
    uint64_t id = get_varint(rd);
    return strtab_str(tab, (uint32_t)id, len);
}

/* One record at RD into OUT (release_one below reads the same layout). */
static void decode(reader *rd, const strtab *tab, call_trace_rec *out)
{
    call_trace_rec *u = out;
    memset(u, 0, sizeof *u);
    eng_trace_rec *r = &u->rec;
    if (rd->p >= rd->end) {
        rd->ok = false;
        return;
    }
    unsigned flags = *rd->p++;
    r->kind = (eng_trace_kind)(flags & KIND_MASK);
    r->t = flags & F_T_RAW ? get_double(rd) : (double)get_varint(rd) / 1000.0;
    if (flags & F_STRAND)
        r->strand = (unsigned)get_varint(rd);
    if (flags & F_NUMS) {
        uint64_t nums = get_varint(rd);
        if (nums & N_SIP_CODE) {
            uint64_t z = get_varint(rd);
            r->sip_code = (int)(int64_t)((z >> 1) ^ (~(z & 1) + 1));
        }
        if (nums & N_MEMBER)
            r->member = (unsigned)get_varint(rd);
        if (nums & N_DUR_MS)
            r->duration = (double)get_varint(rd) / 1000.0;
        if (nums & N_DUR_RAW)
            r->duration = get_double(rd);
    }
    uint64_t present = get_varint(rd) & FIELDS_MASK;
    for (uint64_t m = present; m && rd->ok; m &= m - 1)
        *field(r, (size_t)__builtin_ctzll(m)) = get_str(rd, tab, NULL);
    if (!(flags & F_VARS) || !rd->ok)
        return;
    uint64_t n = get_varint(rd);
    if (!rd->ok || n > (uint64_t)(rd->end - rd->p)) {   /* each var takes 3 bytes at least */
        rd->ok = false;
        return;
    }
    u->vars = cr_xcalloc((size_t)n, sizeof *u->vars);
    for (size_t i = 0; i < n && rd->ok; i++) {
        eng_trace_var *v = &u->vars[i];
        memset(v, 0, sizeof *v);
        v->name = get_str(rd, tab, NULL);
        if (rd->p >= rd->end) {
            rd->ok = false;
            break;
        }
        unsigned vf = *rd->p++;
        v->value.kind = (cr_val_kind)(vf & V_KIND_MASK);
        v->value.b = (vf & V_BOOL) != 0;
        if (vf & V_NUM)
            v->value.num = get_double(rd);
        v->value.str = get_str(rd, tab, &v->value.len);
    }
    r->vars = u->vars;
    r->var_count = (size_t)n;
}

bool call_trace_unpack(const uint8_t *buf, size_t len, size_t *pos, const strtab *tab, const char *call_id,
                       call_trace_rec *out)
{
    memset(out, 0, sizeof *out);
    if (!buf || *pos >= len)
        return false;
    reader rd = {buf + *pos, buf + len, true};
    decode(&rd, tab, out);
    if (!rd.ok) {
        call_trace_rec_free(out);
        return false;
    }
    out->rec.call_id = call_id;
    *pos = (size_t)(rd.p - buf);
    return true;
}

void call_trace_rec_free(call_trace_rec *u)
{
    free(u->vars);
    u->vars = NULL;
}

static void skip(reader *rd, size_t n)
{
    if ((size_t)(rd->end - rd->p) < n)
        rd->ok = false;
    else
        rd->p += n;
}

/* One record at RD: its string references dropped, nothing else built
 * (decode's layout, read the same way; every call's end runs it on each of
 * its records). */
static void release_one(reader *rd, strtab *tab)
{
    if (rd->p >= rd->end) {
        rd->ok = false;
        return;
    }
    unsigned flags = *rd->p++;
    if (flags & F_T_RAW)
        skip(rd, sizeof(double));
    else
        (void)get_varint(rd);
    if (flags & F_STRAND)
        (void)get_varint(rd);
    if (flags & F_NUMS) {
        uint64_t nums = get_varint(rd);
        if (nums & N_SIP_CODE)
            (void)get_varint(rd);
        if (nums & N_MEMBER)
            (void)get_varint(rd);
        if (nums & N_DUR_MS)
            (void)get_varint(rd);
        if (nums & N_DUR_RAW)
            skip(rd, sizeof(double));
    }
    /* Only the fields set (every call's end runs this on each record). */
    uint64_t present = get_varint(rd) & FIELDS_MASK;
    for (uint64_t m = present; m && rd->ok; m &= m - 1)
        strtab_unref(tab, (uint32_t)get_varint(rd));
    if (!(flags & F_VARS) || !rd->ok)
        return;
    uint64_t n = get_varint(rd);
    if (!rd->ok || n > (uint64_t)(rd->end - rd->p)) {
        rd->ok = false;
        return;
    }
    for (size_t i = 0; i < n && rd->ok; i++) {
        strtab_unref(tab, (uint32_t)get_varint(rd));
        if (rd->p >= rd->end) {
            rd->ok = false;
            break;
        }
        unsigned vf = *rd->p++;
        if (vf & V_NUM)
            skip(rd, sizeof(double));
        strtab_unref(tab, (uint32_t)get_varint(rd));
    }
}

void call_trace_release(const uint8_t *buf, size_t len, strtab *tab)
{
    reader rd = {buf, buf + len, true};
    while (buf && rd.ok && rd.p < rd.end)
        release_one(&rd, tab);
}
