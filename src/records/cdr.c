/* cdr.c — what a call detail record says and how it is written down: the
 * disposition, the store's table, a record as a row of column values (what
 * the spool keeps and the store gets) and a row as JSON or CSV. Pure: no
 * I/O here (spool.c moves records). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "records/cdr_int.h"
#include "util/alloc.h"
#include "util/random.h"

const char *rec_disposition_of(double answer, const char *hangup_by, const char *hangup_cause, int sip_code,
                               const char *last)
{
    if (answer > 0)
        return "ANSWERED";
    const char *cause = hangup_cause ? hangup_cause : "";
    /* The caller gave up before anyone answered, or a client of the admin
     * API ended the call first. */
    if (hangup_by && (strcmp(hangup_by, "caller") == 0 || strcmp(hangup_by, "admin") == 0))
        return "CANCELLED";
    /* What the last dialled party said, else why the call was refused. */
    if ((last && strcmp(last, "busy") == 0) || strcmp(cause, "busy") == 0 || sip_code == 486 || sip_code == 600)
        return "BUSY";
    if ((last && strcmp(last, "no_answer") == 0) || strcmp(cause, "no_answer") == 0 || sip_code == 408 ||
        sip_code == 480)
        return "NO ANSWER";
    return "FAILED";
}

const char *rec_disposition(const rec_cdr *r)
{
    return rec_disposition_of(r->answer, r->hangup_by, r->hangup_cause, r->sip_code,
                              r->leg_count ? r->legs[r->leg_count - 1].dial_status : NULL);
}

void rec_new_id(char out[40])
{
    /* A version 4 UUID, formatted by hand: one per call. */
    unsigned char b[16];
    cr_random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    cr_hex(out, b, 4);
    out[8] = '-';
    cr_hex(out + 9, b + 4, 2);
    out[13] = '-';
    cr_hex(out + 14, b + 6, 2);
    out[18] = '-';
    cr_hex(out + 19, b + 8, 2);
    out[23] = '-';
    cr_hex(out + 24, b + 10, 6);
    out[36] = '\0';
}

void rec_time(double t, char out[32])
{
    if (t <= 0) {
        out[0] = '\0';
        return;
    }
    long long ms = llround(t * 1000.0);
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03lldZ", day, ms % 1000);
}

/* ---- the table ------------------------------------------------------------ */

/* Times are milliseconds since the epoch (UTC): range queries stay simple
 * and the same in SQLite and PostgreSQL. */
const char *const rec_schema_sql[] = {
    "CREATE TABLE IF NOT EXISTS cdr ("
    " id TEXT PRIMARY KEY, node TEXT, call_id TEXT NOT NULL, revision BIGINT, route TEXT, source TEXT,"
    " caller_number TEXT, caller_name TEXT, called_number TEXT,"
    " start_ms BIGINT NOT NULL, answer_ms BIGINT, end_ms BIGINT NOT NULL,"
    " duration DOUBLE PRECISION, billsec DOUBLE PRECISION, disposition TEXT NOT NULL,"
    " hangup_by TEXT, hangup_cause TEXT, sip_code INTEGER, agent_number TEXT, recording TEXT,"
    " legs TEXT, vars TEXT)",
    "CREATE INDEX IF NOT EXISTS cdr_end ON cdr (end_ms)",
    "CREATE INDEX IF NOT EXISTS cdr_caller ON cdr (caller_number, end_ms)",
    NULL,
};

const char *const rec_columns[REC_NCOLS] = {
    "id",           "node",        "call_id",     "revision",    "route",      "source",
    "caller_number", "caller_name", "called_number", "start_ms",  "answer_ms",  "end_ms",
    "duration",     "billsec",     "disposition", "hangup_by",   "hangup_cause", "sip_code",
    "agent_number", "recording",   "legs",        "vars",
};

#define COLS                                                                                            \
    "id, node, call_id, revision, route, source, caller_number, caller_name, called_number, start_ms,"    \
    " answer_ms, end_ms, duration, billsec, disposition, hangup_by, hangup_cause, sip_code, agent_number," \
    " recording, legs, vars"
#define WHERE " FROM cdr WHERE end_ms >= ? AND end_ms < ? ORDER BY end_ms DESC LIMIT ?"

const char *rec_select_sql(cfg_db_kind kind)
{
    if (kind == CFG_DB_POSTGRESQL)
        return "SELECT COALESCE(json_agg(json_build_array(" COLS ") ORDER BY end_ms DESC), '[]')::text"
               " FROM (SELECT " COLS WHERE ") AS r";
    return "SELECT json_group_array(json_array(" COLS ")) FROM (SELECT " COLS WHERE ")";
}

bool rec_rows_each(const char *text, void (*fn)(void *arg, const char *const *vals, size_t n), void *arg)
{
    json_t *all = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (!json_is_array(all)) {
        json_decref(all);
        return false;
    }
    size_t i;
    json_t *row;
    json_array_foreach(all, i, row) {
        const char *vals[REC_NCOLS] = {0};
        char *owned[REC_NCOLS] = {0};
        for (size_t k = 0; k < REC_NCOLS; k++) {
            json_t *v = json_array_get(row, k);
            if (json_is_string(v))
                vals[k] = json_string_value(v);
            else if (json_is_integer(v))
                vals[k] = owned[k] = json_dumps(v, JSON_ENCODE_ANY);
            else if (json_is_real(v))
                vals[k] = owned[k] = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(12));
        }
        fn(arg, vals, REC_NCOLS);
        for (size_t k = 0; k < REC_NCOLS; k++)
            free(owned[k]);
    }
    json_decref(all);
    return true;
}

/* ---- a record as a row ------------------------------------------------------ */

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *ms_or_null(double t)
{
    return t > 0 ? json_sprintf("%lld", llround(t * 1000.0)) : json_null();
}

static json_t *num_text(double v) { return json_sprintf("%.3f", v); }

json_t *rec_to_row(const rec_cdr *r, bool ended)
{
    json_t *legs = json_array();
    for (size_t i = 0; i < r->leg_count; i++) {
        const rec_leg *l = &r->legs[i];
        char s[32], a[32], e[32];
        rec_time(l->start, s);
        rec_time(l->answer, a);
        rec_time(l->end, e);
        json_array_append_new(legs, json_pack("{s:o,s:o,s:s,s:o,s:s,s:o,s:i}", "agent_number",
                                              str_or_null(l->agent_number), "gateway", str_or_null(l->gateway),
                                              "start", s, "answer", a[0] ? json_string(a) : json_null(), "end", e,
                                              "dial_status", str_or_null(l->dial_status), "sip_code", l->sip_code));
    }
    json_t *vars = json_object();
    for (size_t i = 0; i < r->var_count; i++)
        json_object_set_new(vars, r->var_names[i], json_string(r->var_values[i] ? r->var_values[i] : ""));
    double end = ended ? r->end : 0;
    char *legs_s = json_dumps(legs, JSON_COMPACT), *vars_s = json_dumps(vars, JSON_COMPACT);
    json_decref(legs);
    json_decref(vars);
    json_t *row = json_array();
    json_array_append_new(row, json_string(r->id));
    json_array_append_new(row, str_or_null(r->node));
    json_array_append_new(row, json_string(r->call_id ? r->call_id : ""));
    json_array_append_new(row, json_sprintf("%ld", r->revision));
    json_array_append_new(row, str_or_null(r->route));
    json_array_append_new(row, str_or_null(r->source));
    json_array_append_new(row, str_or_null(r->caller_number));
    json_array_append_new(row, str_or_null(r->caller_name));
    json_array_append_new(row, str_or_null(r->called_number));
    json_array_append_new(row, ms_or_null(r->start));
    json_array_append_new(row, ms_or_null(r->answer));
    json_array_append_new(row, ms_or_null(end));
    json_array_append_new(row, num_text(end > 0 ? end - r->start : 0));
    json_array_append_new(row, num_text(end > 0 && r->answer > 0 ? end - r->answer : 0));
    json_array_append_new(row, ended ? json_string(rec_disposition(r)) : json_null());
    json_array_append_new(row, ended ? str_or_null(r->hangup_by) : json_null());
    json_array_append_new(row, ended ? str_or_null(r->hangup_cause) : json_null());
    json_array_append_new(row, json_sprintf("%d", r->sip_code));
    json_array_append_new(row, str_or_null(r->agent_number));
    json_array_append_new(row, str_or_null(r->recording));
    json_array_append_new(row, json_string(legs_s ? legs_s : "[]"));
    json_array_append_new(row, json_string(vars_s ? vars_s : "{}"));
    free(legs_s);
    free(vars_s);
    return row;
}

/* A record a crash left unfinished: it ended when it was last seen. */
json_t *rec_row_end_abandoned(json_t *row, double last_seen)
{
    const char *answer = json_string_value(json_array_get(row, COL_ANSWER));
    const char *start = json_string_value(json_array_get(row, COL_START));
    double s = start ? atof(start) / 1000.0 : last_seen, a = answer ? atof(answer) / 1000.0 : 0;
    double end = last_seen > s ? last_seen : s;
    json_array_set_new(row, COL_END, json_sprintf("%lld", llround(end * 1000.0)));
    json_array_set_new(row, COL_DURATION, json_sprintf("%.3f", end - s));
    json_array_set_new(row, COL_BILLSEC, json_sprintf("%.3f", a > 0 ? end - a : 0));
    json_array_set_new(row, COL_DISPOSITION, json_string(a > 0 ? "ANSWERED" : "FAILED"));
    json_array_set_new(row, COL_HANGUP_BY, json_string("system"));
    json_array_set_new(row, COL_HANGUP_CAUSE, json_string("restart"));
    return row;
}

/* ---- a row for people ------------------------------------------------------- */

static json_t *time_or_null(const char *ms)
{
    if (!ms || !*ms)
        return json_null();
    char t[32];
    rec_time(atof(ms) / 1000.0, t);
    return json_string(t);
}

static json_t *int_or_null(const char *v) { return v && *v ? json_integer(atoll(v)) : json_null(); }
static json_t *real_or_null(const char *v) { return v && *v ? json_real(atof(v)) : json_null(); }

static json_t *parsed_or(const char *text, json_t *dflt)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    if (j) {
        json_decref(dflt);
        return j;
    }
    return dflt;
}

char *rec_row_json(const char *const *v, size_t n)
{
    if (n < REC_NCOLS)
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "id", str_or_null(v[COL_ID]));
    json_object_set_new(o, "node", str_or_null(v[COL_NODE]));
    json_object_set_new(o, "call_id", str_or_null(v[COL_CALL_ID]));
    json_object_set_new(o, "revision", int_or_null(v[COL_REVISION]));
    json_object_set_new(o, "route", str_or_null(v[COL_ROUTE]));
    json_object_set_new(o, "source", str_or_null(v[COL_SOURCE]));
    json_object_set_new(o, "caller_number", str_or_null(v[COL_CALLER_NUMBER]));
    json_object_set_new(o, "caller_name", str_or_null(v[COL_CALLER_NAME]));
    json_object_set_new(o, "called_number", str_or_null(v[COL_CALLED_NUMBER]));
    json_object_set_new(o, "start", time_or_null(v[COL_START]));
    json_object_set_new(o, "answer", time_or_null(v[COL_ANSWER]));
    json_object_set_new(o, "end", time_or_null(v[COL_END]));
    json_object_set_new(o, "duration", real_or_null(v[COL_DURATION]));
    json_object_set_new(o, "billsec", real_or_null(v[COL_BILLSEC]));
    json_object_set_new(o, "disposition", str_or_null(v[COL_DISPOSITION]));
    json_object_set_new(o, "hangup_by", str_or_null(v[COL_HANGUP_BY]));
    json_object_set_new(o, "hangup_cause", str_or_null(v[COL_HANGUP_CAUSE]));
    json_object_set_new(o, "sip_code", int_or_null(v[COL_SIP_CODE]));
    json_object_set_new(o, "agent_number", str_or_null(v[COL_AGENT_NUMBER]));
    json_object_set_new(o, "recording", str_or_null(v[COL_RECORDING]));
    json_object_set_new(o, "legs", parsed_or(v[COL_LEGS], json_array()));
    json_object_set_new(o, "vars", parsed_or(v[COL_VARS], json_object()));
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(o);
    return s;
}

const char rec_csv_header[] =
    "id,node,call_id,revision,route,source,caller_number,caller_name,called_number,start,answer,end,"
    "duration,billsec,disposition,hangup_by,hangup_cause,sip_code,agent_number,recording,legs,vars";

/* RFC 4180 quoting: every field quoted, quotes doubled. Values come from
 * callers (names, numbers): a leading =, +, - or @ gets a ' so a
 * spreadsheet does not run it as a formula. */
static void csv_field(cr_strbuf *b, const char *v, bool first)
{
    if (!first)
        cr_strbuf_putc(b, ',');
    cr_strbuf_putc(b, '"');
    if (v && strchr("=+-@\t\r", v[0]) && v[0])
        cr_strbuf_putc(b, '\'');
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '"')
            cr_strbuf_putc(b, '"');
        cr_strbuf_putc(b, *p);
    }
    cr_strbuf_putc(b, '"');
}

char *rec_row_csv(const char *const *v, size_t n)
{
    if (n < REC_NCOLS)
        return NULL;
    cr_strbuf b = CR_STRBUF_INIT;
    for (size_t i = 0; i < REC_NCOLS; i++) {
        char t[32];
        const char *val = v[i];
        if ((i == COL_START || i == COL_ANSWER || i == COL_END) && val && *val) {
            rec_time(atof(val) / 1000.0, t);
            val = t;
        }
        csv_field(&b, val, i == 0);
    }
    char *s = cr_xstrdup(cr_strbuf_cstr(&b));
    cr_strbuf_free(&b);
    return s;
}
