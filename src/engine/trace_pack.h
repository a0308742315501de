/* trace_pack.h — a trace record as compact bytes, to be formatted later.
 *
 * The admin API keeps every live call's trace but almost nobody reads it:
 * formatting each record as JSON when it happens cost ~19% of the server's
 * user-space instructions per call (docs/decisions/sip-core.md, "Stage 2:
 * measured"). It keeps the records packed instead (a few bytes of header,
 * the strings as they are) and formats them when someone asks: unpacking
 * gives back an eng_trace_rec that eng_trace_json / eng_trace_text format
 * exactly as the original. */
#ifndef ENG_TRACE_PACK_H
#define ENG_TRACE_PACK_H

#include <stddef.h>

#include "engine/engine.h"
#include "util/strbuf.h"

/* Appends R to OUT (every field eng_trace_json and eng_trace_text read,
 * except call_id and call, which the unpacker is given: the keeper of a
 * call's records knows its call). Returns the bytes appended. */
size_t eng_trace_pack(const eng_trace_rec *r, cr_strbuf *out);

/* A record unpacked: REC's pointers point into the packed bytes and VARS;
 * valid while both live. */
typedef struct eng_trace_unpacked {
    eng_trace_rec rec;
    eng_trace_var *vars;       /* owned: eng_trace_unpacked_free */
} eng_trace_unpacked;

/* Unpacks the record at *POS in BUF (LEN bytes written by eng_trace_pack)
 * and advances *POS past it; CALL_ID is set as the record's. false at the
 * end of BUF. */
bool eng_trace_unpack(const char *buf, size_t len, size_t *pos, const char *call_id,
                      eng_trace_unpacked *out);
void eng_trace_unpacked_free(eng_trace_unpacked *u);

#endif
