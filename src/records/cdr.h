/* cdr.h — call detail records: one per call, written when it ends, kept
 * in a store (SQLite by default, or PostgreSQL) through the services layer.
 *
 * Durability: a call's record is in a local spool (SQLite, on the worker
 * pool) from the moment its route is chosen, updated when it is answered
 * and when it ends, each change committed in groups (one fsync for many
 * calls). Finished records are shipped to the store in batches with
 * INSERT ... ON CONFLICT (id) DO NOTHING, then deleted from the spool: a
 * store that is down, a crash between the two, a retry — none loses or
 * duplicates a record. At start, records a crash left unfinished are ended
 * (hangup_by system, cause restart) and shipped like the others.
 *
 * The layer knows nothing of calls: the caller (serve) builds a rec_cdr
 * from what the engine says (records may use services and loop only). */
#ifndef RECORDS_CDR_H
#define RECORDS_CDR_H

#include <stdbool.h>
#include <stddef.h>

#include "loop/loop.h"
#include "scenario/program.h"

struct svc_ctx;

typedef struct rec_leg {
    const char *agent_number, *gateway;
    const char *dial_status;   /* answered | busy | no_answer | failed | cancelled */
    double start, answer, end; /* seconds since the epoch; answer 0: not answered */
    int sip_code;
} rec_leg;

typedef struct rec_cdr {
    char id[40];               /* unique per call (a UUID): Call-IDs can repeat */
    const char *node, *call_id, *route, *source;
    const char *caller_number, *caller_name, *called_number;
    long revision;
    double start, answer, end; /* seconds since the epoch; answer/end 0: not yet */
    const char *hangup_by, *hangup_cause;
    int sip_code;              /* the final SIP code of an unanswered call, 0 */
    const char *agent_number;  /* who answered the call through a dial, or NULL */
    const char *recording;     /* a recording made during the call, or NULL */
    const rec_leg *legs;
    size_t leg_count;
    /* cdr.* variables the scenario set: names without the prefix */
    const char *const *var_names;
    const char *const *var_values;
    size_t var_count;
} rec_cdr;

/* Asterisk's words: ANSWERED, NO ANSWER, BUSY, FAILED, CANCELLED. */
const char *rec_disposition(const rec_cdr *r);
/* The same from the parts of a call it depends on (LAST_DIAL: the dial
 * status of the last leg, NULL without legs): GET /metrics counts calls by
 * disposition whether records are kept or not. */
const char *rec_disposition_of(double answer, const char *hangup_by, const char *hangup_cause, int sip_code,
                               const char *last_dial);
/* A new record id (a random UUID). */
void rec_new_id(char out[40]);
/* "2026-12-04T19:20:01.123Z"; "" for 0. */
void rec_time(double t, char out[32]);

/* ---- the pipeline -------------------------------------------------------- */

typedef struct rec_ctx rec_ctx;

typedef struct rec_stats {
    long spooled;              /* records in the spool (live and finished) */
    long shipped;              /* written to the store in this run */
    long store_failures;       /* store writes that failed in this run */
} rec_stats;

typedef void (*rec_log_fn)(void *arg, int level, const char *msg);   /* 0 error 1 warn 2 info */

/* Opens the spool (settings.cdr.spool) and ends what a crash left there;
 * records go to the store settings.cdr.db through SVC. NULL with ERR when
 * the spool cannot be opened. */
rec_ctx *rec_new(loop *l, struct svc_ctx *svc, const scn_cdr_settings *cdr, rec_log_fn log, void *log_arg,
                 char *err, size_t errlen);
/* The call began (its route is chosen) / was answered / ended: R's current
 * state replaces the spooled one. R is copied. */
void rec_call_update(rec_ctx *c, const rec_cdr *r, bool ended);
/* New store settings (a reload); the spool stays where it was opened. */
void rec_set_settings(rec_ctx *c, const scn_cdr_settings *cdr);
rec_stats rec_stats_of(const rec_ctx *c);
/* Commits what is waiting for the spool (blocking: at exit) and frees C.
 * Finished records not shipped yet stay in the spool for the next start. */
void rec_free(rec_ctx *c);

/* ---- reading ------------------------------------------------------------- */

/* The SQL that reads records back from a store of KIND, ended in
 * [since_ms, until_ms), newest first, at most limit (its parameters in this
 * order): one row, one column, a JSON array of rows (the services give a
 * query's first row only). */
const char *rec_select_sql(cfg_db_kind kind);
/* Calls FN with each row of that JSON (column values as text, NULL for SQL
 * NULL, in the order rec_row_json reads them); false: not such JSON. */
bool rec_rows_each(const char *json, void (*fn)(void *arg, const char *const *vals, size_t n), void *arg);
/* One row of rec_select_sql (column values as text, NULL for SQL NULL) as
 * the JSON object `callroute cdr --json` and GET /cdr print (malloc'd). */
char *rec_row_json(const char *const *vals, size_t n);
/* The same row as a CSV line (no newline; malloc'd) and the header line. */
char *rec_row_csv(const char *const *vals, size_t n);
extern const char rec_csv_header[];
/* The table and its indexes (SQLite and PostgreSQL alike). */
extern const char *const rec_schema_sql[];

#endif
