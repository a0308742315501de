/* call_trace.h — a live call's trace records as the admin API keeps them:
 * a few bytes each, formatted only when GET /calls/CALL_ID reads them.
 *
 * A record is its kind, its time as whole milliseconds (what the JSON
 * shows: "%.3f"), its numbers as varints and its strings as numbers in
 * the admin API's shared string table (strtab.h): a held call's trace
 * keeps ~70 B where the earlier packing (the strings copied in, fixed
 * heads) kept ~670 B (docs/decisions/sip-core.md, "Held-call memory
 * (nta)"). Unpacking gives back an eng_trace_rec that eng_trace_json and
 * eng_trace_text format exactly as the record it was packed from. */
#ifndef ADMIN_CALL_TRACE_H
#define ADMIN_CALL_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "admin/strtab.h"
#include "engine/engine.h"
#include "util/strbuf.h"

/* Appends R to OUT (every field eng_trace_json and eng_trace_text read,
 * but call_id and call: the keeper knows its call), taking a reference in
 * TAB to each of its strings. Returns the bytes the record stands for as
 * kept before (its packed bytes and its strings' lengths): the per-call
 * bound (ADMIN_MAX_BYTES) counts these, so a call cannot hold more text
 * by sharing it. */
size_t call_trace_pack(const eng_trace_rec *r, strtab *tab, cr_strbuf *out);

/* A record unpacked: REC's strings are TAB's; valid while the packed
 * records hold their references. */
typedef struct call_trace_rec {
    eng_trace_rec rec;
    eng_trace_var *vars;       /* owned: call_trace_rec_free */
} call_trace_rec;

/* Unpacks the record at *POS in BUF (LEN bytes of call_trace_pack) and
 * moves *POS past it; CALL_ID is set as the record's. false at the end. */
bool call_trace_unpack(const uint8_t *buf, size_t len, size_t *pos, const strtab *tab, const char *call_id,
                       call_trace_rec *out);
void call_trace_rec_free(call_trace_rec *u);

/* Drops the references every record in BUF holds (the records are gone). */
void call_trace_release(const uint8_t *buf, size_t len, strtab *tab);

#endif
