/* calls.c — the calls the engine runs, as its hooks tell them, and the
 * resources about them: GET /calls (live and the last ADMIN_KEEP
 * finished) and GET /calls/CALL_ID with the call's trace: the JSON records
 * `simulate --json` prints, bounded per call. The records are kept packed
 * (call_trace.h: a few bytes each, the strings as numbers in one table
 * of shared strings, strtab.h) and formatted when GET /calls/CALL_ID
 * reads them: most calls' traces are never read, and formatting every
 * record as it came was a fifth of the instructions of a call. An entry
 * keeps its strings as numbers in that table too, and a live call's id is
 * the engine's (copied when the call ends): a held call's entry and trace
 * take ~220 B (docs/decisions/sip-core.md, "Held-call memory (nta)").
 * What the hooks see also
 * feeds the /events streams (events.c): call_start, every trace record
 * (formatted then, only when a stream listens), call_end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "admin/call_index.h"
#include "admin/call_trace.h"
#include "admin/strtab.h"
#include "util/alloc.h"

typedef struct entry {
    call_index_node by_id;        /* first: an entry is its node; key: call_id */
    struct entry *prev, *next;    /* live list or finished list */
    /* Live: the engine's (eng_call_id, constant for the call's life);
     * finished: our copy, made by call_done_cb. */
    char *call_id;
    eng_call *call;               /* live only */
    /* Numbers in the calls' string table (0: none). */
    uint32_t from, to, source, route, scenario, hangup_by, cause;
    uint32_t records;             /* kept (at most ADMIN_MAX_RECORDS + 2) */
    uint32_t kept;                /* bytes the records stand for (call_trace_pack), bounded by ADMIN_MAX_BYTES */
    uint32_t trace_len, trace_cap;
    bool answered, bridged, truncated;
    long revision;                /* of the program the call runs on */
    double start, duration;
    uint8_t *trace;               /* packed records (call_trace_pack), one after the other */
    /* Whom it meets now, from its MEET trace records; NULL until the
     * first: most calls meet nobody, and every held call's entry was 32 B
     * larger (docs/decisions/sip-core.md, "Held-call memory (nta)"). */
    struct meeting {
        char *room;                   /* conference room */
        unsigned member;
        char *join_peer, *join_mode;  /* the call it joined (join, pickup) */
        char *slot;                   /* parked in */
        json_t *joined_by;            /* [{call, mode}]: who listens/whispers/barged in */
    } *meets;
} entry;

typedef struct list {
    entry *head, *tail;
    size_t count;
} list;

struct admin_calls {
    admin *a;
    call_index by_id;             /* live and finished entries */
    list live, done;
    strtab *strs;                 /* the entries' and traces' strings */
    /* Live entries by their call's address, direct-mapped (slot_of): a
     * call's trace records (11 a call) find its entry without hashing
     * its Call-ID; a slot holds only live entries (call_done_cb clears
     * its own). A miss looks in by_id. */
    entry *by_call[64];
    cr_strbuf scratch;            /* a record being packed */
};

static const char *str_of(const admin_calls *a, uint32_t id) { return strtab_str(a->strs, id, NULL); }

/* ---- the calls ---- */

/* The entries with this id, newest first. */
static entry *first(admin_calls *a, const char *id) { return (entry *)call_index_find(&a->by_id, id); }
static entry *next(const entry *e) { return (entry *)call_index_next(&e->by_id, e->call_id); }

static entry **slot_of(admin_calls *a, const eng_call *c)
{
    uintptr_t p = (uintptr_t)c;
    return &a->by_call[(p ^ (p >> 6) ^ (p >> 12)) % (sizeof a->by_call / sizeof a->by_call[0])];
}

/* The entry of this live call. Two calls may share a Call-ID (a forked
 * INVITE, or a hostile one): entries are found by the call, not its id. */
static entry *find_live(admin_calls *a, const eng_call *c)
{
    entry **slot = slot_of(a, c);
    if (*slot && (*slot)->call == c)
        return *slot;
    for (entry *e = first(a, eng_call_id(c)); e; e = next(e))
        if (e->call == c)
            return *slot = e;
    return NULL;
}

eng_call *admin_calls_find_live(admin_calls *a, const char *id, bool *known)
{
    *known = false;
    for (entry *e = first(a, id); e; e = next(e)) {
        if (e->call)
            return e->call;
        *known = true;
    }
    return NULL;
}

/* The newest entry with this id (a live one before a finished one). */
static entry *find(admin_calls *a, const char *id) { return first(a, id); }

static void list_add(list *l, entry *e)
{
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
    l->count++;
}

static void list_del(list *l, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    l->count--;
}

static void entry_free(admin_calls *a, entry *e)
{
    if (!e->call)
        free(e->call_id);
    uint32_t ids[] = {e->from, e->to, e->source, e->route, e->scenario, e->hangup_by, e->cause};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        strtab_unref(a->strs, ids[i]);
    call_trace_release(e->trace, e->trace_len, a->strs);
    free(e->trace);
    if (e->meets) {
        free(e->meets->room);
        free(e->meets->join_peer);
        free(e->meets->join_mode);
        free(e->meets->slot);
        json_decref(e->meets->joined_by);
        free(e->meets);
    }
    free(e);
}

static void forget(admin_calls *a, entry *e)
{
    call_index_del(&a->by_id, &e->by_id);
    list_del(&a->done, e);
    entry_free(a, e);
}

/* The variable's text (up to a NUL) as a string number; 0: none. */
static uint32_t var_ref(admin_calls *a, eng_call *c, const char *name)
{
    cr_value v;
    if (!eng_var_get(c, name, &v) || !v.str)
        return 0;
    return strtab_ref(a->strs, v.str, strnlen(v.str, v.len));
}

static void call_start_cb(void *arg, eng_call *c)
{
    admin_calls *a = arg;
    entry *e = cr_xcalloc(1, sizeof *e);
    e->call_id = (char *)eng_call_id(c);   /* not freed while e->call is set */
    e->call = c;
    e->start = eng_call_start(c);
    e->revision = eng_call_program(c)->revision;
    e->from = var_ref(a, c, "caller_number");
    e->to = var_ref(a, c, "called_number");
    e->source = var_ref(a, c, "source");
    e->by_id.key = e->call_id;
    call_index_add(&a->by_id, &e->by_id);
    list_add(&a->live, e);
    *slot_of(a, c) = e;
}

/* {"kind":"call_start"|"call_end", ...} to the /events streams. */
static void publish(admin_calls *a, const entry *e, json_t *o)
{
    char *s = admin_dump(o);
    if (s)
        admin_events_publish(a->a->events, e->call_id, s, strlen(s));
    free(s);
}

static void publish_start(admin_calls *a, const entry *e, eng_call *c)
{
    if (!admin_events_wanted(a->a->events))
        return;
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string("call_start"));
    json_object_set_new(o, "call", admin_jstr(e->call_id));
    json_object_set_new(o, "time", admin_jtime(e->start));
    json_object_set_new(o, "route", admin_jstr(str_of(a, e->route)));
    if (e->scenario)
        json_object_set_new(o, "scenario", admin_jstr(str_of(a, e->scenario)));
    json_object_set_new(o, "revision", json_integer(eng_call_program(c)->revision));
    json_object_set_new(o, "from", admin_jstr(str_of(a, e->from)));
    json_object_set_new(o, "to", admin_jstr(str_of(a, e->to)));
    json_object_set_new(o, "source", admin_jstr(str_of(a, e->source)));
    publish(a, e, o);
}

static void publish_end(admin_calls *a, const entry *e)
{
    if (!admin_events_wanted(a->a->events))
        return;
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string("call_end"));
    json_object_set_new(o, "call", admin_jstr(e->call_id));
    json_object_set_new(o, "time", admin_jtime(e->start + e->duration));
    json_object_set_new(o, "route", admin_jstr(str_of(a, e->route)));
    json_object_set_new(o, "answered", json_boolean(e->answered));
    json_object_set_new(o, "bridged", json_boolean(e->bridged));
    json_object_set_new(o, "hangup_by", admin_jstr(str_of(a, e->hangup_by)));
    json_object_set_new(o, "hangup_cause", admin_jstr(str_of(a, e->cause)));
    json_object_set_new(o, "duration", json_real((double)(long long)(e->duration * 1000) / 1000));
    publish(a, e, o);
}

static void call_done_cb(void *arg, eng_call *c)
{
    admin_calls *a = arg;
    entry *e = find_live(a, c);
    if (!e)
        return;
    *slot_of(a, c) = NULL;   /* find_live put E there */
    /* The engine frees the call (its id too) after this. */
    e->call_id = cr_xstrdup(e->call_id);
    e->by_id.key = e->call_id;
    e->call = NULL;
    e->answered = eng_call_answered(c);
    e->bridged = e->bridged || eng_call_bridged(c);
    publish_end(a, e);
    list_del(&a->live, e);
    list_add(&a->done, e);
    if (a->done.count > ADMIN_KEEP)
        forget(a, a->done.head);
}

static void keep(admin_calls *a, uint32_t *field, const char *v)
{
    if (!v)
        return;
    uint32_t id = strtab_ref_cstr(a->strs, v);
    strtab_unref(a->strs, *field);
    *field = id;
}

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = v ? cr_xstrdup(v) : NULL;
}

/* What a MEET record says the call is in now. */
static void meet(entry *e, const eng_trace_rec *r)
{
    if (!e->meets)
        e->meets = cr_xcalloc(1, sizeof *e->meets);
    struct meeting *m = e->meets;
    bool start = r->phase && strcmp(r->phase, "start") == 0;
    const char *ev = r->event ? r->event : "";
    if (strcmp(ev, "conference") == 0) {
        set_str(&m->room, start ? r->room : NULL);
        m->member = start ? r->member : 0;
    } else if (strcmp(ev, "join") == 0 || strcmp(ev, "pickup") == 0) {
        set_str(&m->join_peer, start ? r->peer : NULL);
        set_str(&m->join_mode, start ? r->mode : NULL);
    } else if (strcmp(ev, "park") == 0) {
        set_str(&m->slot, start ? r->slot : NULL);
    } else if (strcmp(ev, "joined") == 0 && r->peer) {
        if (!m->joined_by)
            m->joined_by = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(m->joined_by, i, v) {
            if (strcmp(json_string_value(json_object_get(v, "call")), r->peer) == 0) {
                json_array_remove(m->joined_by, i);
                break;
            }
        }
        if (start)
            json_array_append_new(m->joined_by, json_pack("{s:o,s:s}", "call", admin_jstr(r->peer), "mode",
                                                          r->mode ? r->mode : ""));
    }
}

/* R packed at the end of E's trace, which grows by doubling from 32 B. */
static void append(admin_calls *a, entry *e, const eng_trace_rec *r)
{
    cr_strbuf_reset(&a->scratch);
    size_t kept = call_trace_pack(r, a->strs, &a->scratch);
    size_t n = a->scratch.len;
    if (e->trace_len + n > e->trace_cap) {
        size_t cap = e->trace_cap ? e->trace_cap : 32;
        while (cap < e->trace_len + n)
            cap *= 2;
        e->trace = cr_xrealloc(e->trace, cap);
        e->trace_cap = (uint32_t)cap;
    }
    memcpy(e->trace + e->trace_len, a->scratch.s, n);
    e->trace_len += (uint32_t)n;
    size_t total = e->kept + kept;
    e->kept = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
    e->records++;
}

/* The trace in a block of its length: a new block, not realloc (mimalloc's
 * realloc keeps a block that is at most half wasted). */
static void fit(entry *e)
{
    if (e->trace_len == e->trace_cap || !e->trace_len)
        return;
    uint8_t *t = cr_xmalloc(e->trace_len);
    memcpy(t, e->trace, e->trace_len);
    free(e->trace);
    e->trace = t;
    e->trace_cap = e->trace_len;
}

static void trace_cb(void *arg, const eng_trace_rec *r)
{
    admin_calls *a = arg;
    entry *e = r->call ? find_live(a, r->call) : NULL;
    if (e) {
        bool starts = (r->kind == ENG_TR_ROUTE && !r->leg) || r->kind == ENG_TR_ORIGINATE;
        bool bridge = r->kind == ENG_TR_EVENT && r->event && strcmp(r->event, "bridge") == 0;
        if (r->kind == ENG_TR_ROUTE && !r->leg)
            keep(a, &e->route, r->route);
        else if (r->kind == ENG_TR_ORIGINATE)
            keep(a, &e->scenario, r->scenario);
        else if (bridge)
            e->bridged = true;
        else if (r->kind == ENG_TR_MEET)
            meet(e, r);
        else if (r->kind == ENG_TR_CALL) {
            keep(a, &e->hangup_by, r->by);
            keep(a, &e->cause, r->cause);
            e->duration = r->duration;
        }
        /* Over the bound only the hangup and the call record are kept:
         * how the call ended is always there. The byte bound is on the
         * records as kept before (packed bytes and their strings'
         * lengths): sharing strings does not let a call hold more. */
        bool full = e->records >= ADMIN_MAX_RECORDS || e->kept >= ADMIN_MAX_BYTES;
        if (full && r->kind != ENG_TR_HANGUP && r->kind != ENG_TR_CALL) {
            e->truncated = true;
        } else {
            append(a, e, r);
            /* A bridged call's trace stops growing until it ends: a held
             * call's records no longer sit in a buffer up to twice their
             * size (docs/decisions/sip-core.md, "Held-call memory (nta)"). */
            if (bridge)
                fit(e);
        }
        if (starts)
            publish_start(a, e, (eng_call *)r->call);
        if (admin_events_wanted(a->a->events)) {
            cr_strbuf b = CR_STRBUF_INIT;
            eng_trace_json(r, &b);
            admin_events_publish(a->a->events, e->call_id, b.s ? b.s : "", b.len);
            cr_strbuf_free(&b);
        }
    }
}

void admin_calls_hook(admin_calls *a, eng_options *eo)
{
    eng_observer o = {.trace = trace_cb, .call_start = call_start_cb, .call_done = call_done_cb, .arg = a};
    eng_observe(eo, &o);
}

static json_t *summary(admin_calls *a, const entry *e)
{
    bool live = e->call != NULL;
    json_t *o = json_object();
    json_object_set_new(o, "call_id", admin_jstr(e->call_id));
    json_object_set_new(o, "live", json_boolean(live));
    json_object_set_new(o, "from", admin_jstr(str_of(a, e->from)));
    json_object_set_new(o, "to", admin_jstr(str_of(a, e->to)));
    json_object_set_new(o, "source", admin_jstr(str_of(a, e->source)));
    json_object_set_new(o, "route", admin_jstr(str_of(a, e->route)));
    json_object_set_new(o, "revision", json_integer(e->revision));
    if (e->scenario)
        json_object_set_new(o, "scenario", admin_jstr(str_of(a, e->scenario)));
    json_object_set_new(o, "start", admin_jtime(e->start));
    json_object_set_new(o, "answered", json_boolean(live ? eng_call_answered(e->call) : e->answered));
    json_object_set_new(o, "bridged", json_boolean(live ? eng_call_bridged(e->call) : e->bridged));
    double dur = live ? loop_now(a->a->l) - e->start : e->duration;
    json_object_set_new(o, "duration", json_real((double)(long long)(dur * 1000) / 1000));
    if (!live) {
        json_object_set_new(o, "hangup_by", admin_jstr(str_of(a, e->hangup_by)));
        json_object_set_new(o, "hangup_cause", admin_jstr(str_of(a, e->cause)));
    } else if (e->meets) {
        /* whom it meets now */
        const struct meeting *m = e->meets;
        if (m->room)
            json_object_set_new(o, "conference", json_pack("{s:o,s:I}", "room", admin_jstr(m->room), "member",
                                                           (json_int_t)m->member));
        if (m->join_peer)
            json_object_set_new(o, "joined", json_pack("{s:o,s:s}", "call", admin_jstr(m->join_peer), "mode",
                                                       m->join_mode ? m->join_mode : ""));
        if (m->joined_by && json_array_size(m->joined_by))
            json_object_set(o, "joined_by", m->joined_by);
        if (m->slot)
            json_object_set_new(o, "parked", json_pack("{s:o}", "slot", admin_jstr(m->slot)));
    }
    return o;
}

json_t *admin_calls_live_json(admin_calls *a)
{
    json_t *live = json_array();
    for (entry *e = a->live.head; e; e = e->next)
        json_array_append_new(live, summary(a, e));
    return live;
}

void admin_get_calls(admin_req *r)
{
    admin_calls *a = r->a->calls;
    json_t *live = admin_calls_live_json(a), *done = json_array();
    for (entry *e = a->done.tail; e; e = e->prev)   /* newest first */
        json_array_append_new(done, summary(a, e));
    json_t *o = json_object();
    json_object_set_new(o, "calls", live);
    json_object_set_new(o, "finished", done);
    admin_reply(r, MHD_HTTP_OK, o);
}

/* The summary, then "trace": the stored records, formatted now. */
void admin_get_call(admin_req *r)
{
    admin_calls *a = r->a->calls;
    const entry *e = find(a, r->param);
    if (!e) {
        json_t *x = json_object();
        json_object_set_new(x, "call_id", admin_jstr(r->param));
        admin_reply_error(r, MHD_HTTP_NOT_FOUND, "no such call (live or recently finished)", x);
        return;
    }
    json_t *o = summary(a, e);
    json_object_set_new(o, "truncated", json_boolean(e->truncated));
    json_object_set_new(o, "records", json_integer((json_int_t)e->records));
    char *head = admin_dump(o);
    if (!head) {
        admin_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot encode the call", NULL);
        return;
    }
    cr_strbuf b = CR_STRBUF_INIT;
    cr_strbuf_append(&b, head, strlen(head) - 1);   /* without its '}' */
    free(head);
    cr_strbuf_puts(&b, ",\"trace\":[");
    size_t pos = 0;
    call_trace_rec u;
    for (size_t n = 0; call_trace_unpack(e->trace, e->trace_len, &pos, a->strs, e->call_id, &u); n++) {
        if (n)
            cr_strbuf_putc(&b, ',');
        eng_trace_json(&u.rec, &b);
        call_trace_rec_free(&u);
    }
    cr_strbuf_puts(&b, "]}");
    admin_reply_text(r, MHD_HTTP_OK, b.s);
}

admin_calls *admin_calls_new(admin *owner)
{
    admin_calls *a = cr_xcalloc(1, sizeof *a);
    a->a = owner;
    a->strs = strtab_new();
    return a;
}

size_t admin_calls_live(const admin_calls *a) { return a ? a->live.count : 0; }

size_t admin_calls_on_revision(const admin_calls *a, long n)
{
    size_t count = 0;
    for (const entry *e = a ? a->live.head : NULL; e; e = e->next)
        count += e->revision == n;
    return count;
}

static void free_list(admin_calls *a, list *l)
{
    for (entry *e = l->head, *n; e; e = n) {
        n = e->next;
        entry_free(a, e);
    }
}

void admin_calls_free(admin_calls *a)
{
    if (!a)
        return;
    free_list(a, &a->live);
    free_list(a, &a->done);
    call_index_free(&a->by_id);
    strtab_free(a->strs);
    cr_strbuf_free(&a->scratch);
    free(a);
}
