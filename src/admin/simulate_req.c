/* simulate_req.c — POST /simulate's body parsed (simulate_req.h). */
#include "admin/simulate_req.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/time.h"

static bool bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* KEY of O as a string of at most ADMIN_SIM_MAX_FIELD bytes into *OUT
 * (absent: *OUT untouched). */
static bool field(json_t *o, const char *key, const char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return bad(err, errlen, "`%s` must be a string", key);
    if (json_string_length(v) > ADMIN_SIM_MAX_FIELD)
        return bad(err, errlen, "`%s` is longer than %d bytes", key, ADMIN_SIM_MAX_FIELD);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return bad(err, errlen, "`%s` holds a NUL", key);
    *out = json_string_value(v);
    return true;
}

/* KEY of O as a number in [MIN, MAX] (absent: *OUT untouched). */
static bool number(json_t *o, const char *key, double min, double max, double *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return true;
    if (!json_is_number(v) || !(json_number_value(v) >= min && json_number_value(v) <= max))
        return bad(err, errlen, "`%s` must be a number from %g to %g", key, min, max);
    *out = json_number_value(v);
    return true;
}

/* Only the keys in KEYS. */
static bool known(json_t *o, const char *const *keys, const char *what, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k) != 0)
            i++;
        if (!keys[i])
            return bad(err, errlen, "%s: unknown key `%.64s`", what, k);
    }
    return true;
}

/* A scalar as text: strings as they are, numbers and booleans written
 * out (owned by R's TEXT slot I). NULL when V is no scalar. */
static const char *scalar(json_t *v, char **text)
{
    if (json_is_string(v))
        return strlen(json_string_value(v)) == json_string_length(v) ? json_string_value(v) : NULL;
    char buf[64];
    if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "true" : "false");
    else
        return NULL;
    *text = cr_xstrdup(buf);
    return *text;
}

static bool parties(admin_sim_req *r, json_t *o, char *err, size_t errlen)
{
    if (!o)
        return true;
    if (!json_is_object(o))
        return bad(err, errlen, "`parties` must be an object: {\"TARGET\": \"SPEC\"}");
    if (json_object_size(o) > ADMIN_SIM_MAX_ITEMS)
        return bad(err, errlen, "`parties`: at most %d", ADMIN_SIM_MAX_ITEMS);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (!json_is_string(v) || !k[0])
            return bad(err, errlen, "`parties`: each is \"TARGET\": \"SPEC\" (like \"answer@4,hangup@30\")");
        r->party_targets[r->party_count] = k;
        r->party_specs[r->party_count++] = json_string_value(v);
    }
    return true;
}

static bool vars(admin_sim_req *r, json_t *o, char *err, size_t errlen)
{
    if (!o)
        return true;
    if (!json_is_object(o))
        return bad(err, errlen, "`vars` must be an object: {\"NAME\": \"VALUE\"}");
    if (json_object_size(o) > ADMIN_SIM_MAX_ITEMS)
        return bad(err, errlen, "`vars`: at most %d", ADMIN_SIM_MAX_ITEMS);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i = r->var_count;
        const char *text = scalar(v, &r->var_text[i]);
        if (!text || !k[0])
            return bad(err, errlen, "`vars`: each is \"NAME\": a string, number or boolean");
        r->var_names[i] = k;
        r->var_values[i] = text;
        r->var_count++;
    }
    return true;
}

static bool http_mock(admin_sim_req *r, json_t *o, char *err, size_t errlen)
{
    static const char *const keys[] = {"method", "url", "status", "json", "body", "content_type", "delay", "error", NULL};
    size_t i = r->http_count;
    svc_http_mock *m = &r->http[i];
    if (!json_is_object(o))
        return bad(err, errlen, "`mocks.http`: each is an object with `url`");
    if (!known(o, keys, "mocks.http", err, errlen) || !field(o, "method", &m->method, err, errlen) ||
        !field(o, "url", &m->url, err, errlen) || !field(o, "body", &m->body, err, errlen) ||
        !field(o, "content_type", &m->content_type, err, errlen) || !field(o, "error", &m->error, err, errlen) ||
        !number(o, "delay", 0, ADMIN_SIM_MAX_TIME, &m->delay, err, errlen))
        return false;
    double status = 0;
    if (!number(o, "status", 100, 599, &status, err, errlen))
        return false;
    m->status = (long)status;
    if (!m->url)
        return bad(err, errlen, "`mocks.http`: each needs `url` (a pattern with * wildcards)");
    json_t *j = json_object_get(o, "json");
    if (j) {
        if (m->body)
            return bad(err, errlen, "`mocks.http`: `json` or `body`, not both");
        r->mock_text[i] = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        m->body = r->mock_text[i];
    }
    r->http_count++;
    return true;
}

static bool db_mock(admin_sim_req *r, json_t *o, char *err, size_t errlen)
{
    static const char *const keys[] = {"database", "query", "rows", "error", "delay", NULL};
    size_t i = r->db_count;
    svc_db_mock *m = &r->db[i];
    if (!json_is_object(o))
        return bad(err, errlen, "`mocks.db`: each is an object with `query`");
    if (!known(o, keys, "mocks.db", err, errlen) || !field(o, "database", &m->database, err, errlen) ||
        !field(o, "query", &m->query, err, errlen) || !field(o, "error", &m->error, err, errlen) ||
        !number(o, "delay", 0, ADMIN_SIM_MAX_TIME, &m->delay, err, errlen))
        return false;
    if (!m->query)
        return bad(err, errlen, "`mocks.db`: each needs `query` (a pattern with * wildcards)");
    json_t *rows = json_object_get(o, "rows");
    if (rows) {
        if (!json_is_array(rows) || json_array_size(rows) > 100000)
            return bad(err, errlen, "`mocks.db`: `rows` is a list of objects: [{\"tier\": \"gold\"}]");
        size_t n;
        json_t *row;
        json_array_foreach(rows, n, row) if (!json_is_object(row) || json_object_size(row) > ADMIN_SIM_MAX_ITEMS)
            return bad(err, errlen, "`mocks.db`: each row is an object of at most %d columns", ADMIN_SIM_MAX_ITEMS);
        m->rows = json_array_size(rows);
        if (m->rows) {
            json_t *first = json_array_get(rows, 0);
            size_t cols = json_object_size(first);
            r->db_cols[i] = cr_xcalloc(cols + 1, sizeof *r->db_cols[i]);
            r->db_vals[i] = cr_xcalloc(cols + 1, sizeof *r->db_vals[i]);
            const char *k;
            json_t *v;
            size_t c = 0;
            json_object_foreach(first, k, v) {
                if (json_is_null(v)) {
                    r->db_vals[i][c] = NULL;   /* SQL NULL */
                } else if (json_is_string(v)) {
                    r->db_vals[i][c] = json_string_value(v);
                } else {
                    /* numbers and booleans as text: kept in the document */
                    char *t = NULL;
                    const char *s = scalar(v, &t);
                    if (!s)
                        return bad(err, errlen, "`mocks.db`: a column is a string, number, boolean or null");
                    json_t *keep = json_string(s);
                    free(t);
                    json_object_set_new(first, k, keep);
                    r->db_vals[i][c] = json_string_value(keep);
                }
                r->db_cols[i][c++] = k;
            }
            m->ncols = c;
            m->cols = r->db_cols[i];
            m->vals = r->db_vals[i];
        }
    }
    r->db_count++;
    return true;
}

static bool mocks(admin_sim_req *r, json_t *o, char *err, size_t errlen)
{
    static const char *const keys[] = {"http", "db", NULL};
    if (!o)
        return true;
    if (!json_is_object(o) || !known(o, keys, "mocks", err, errlen))
        return err[0] ? false : bad(err, errlen, "`mocks` must be an object: {\"http\": [...], \"db\": [...]}");
    json_t *h = json_object_get(o, "http"), *d = json_object_get(o, "db");
    if ((h && !json_is_array(h)) || (d && !json_is_array(d)))
        return bad(err, errlen, "`mocks.http` and `mocks.db` are lists");
    if (json_array_size(h) > ADMIN_SIM_MAX_ITEMS || json_array_size(d) > ADMIN_SIM_MAX_ITEMS)
        return bad(err, errlen, "`mocks`: at most %d of each kind", ADMIN_SIM_MAX_ITEMS);
    size_t i;
    json_t *v;
    json_array_foreach(h, i, v) if (!http_mock(r, v, err, errlen)) return false;
    json_array_foreach(d, i, v) if (!db_mock(r, v, err, errlen)) return false;
    return true;
}

bool admin_sim_req_parse(const char *body, size_t len, admin_sim_req *r, char *err, size_t errlen)
{
    static const char *const keys[] = {"scenario", "from", "to", "source", "caller_name", "at", "caller",
                                       "parties", "vars", "max_time", "mocks", NULL};
    memset(r, 0, sizeof *r);
    if (errlen)
        err[0] = '\0';
    json_error_t je;
    r->doc = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!r->doc)
        return bad(err, errlen, "the body is not JSON: %s (line %d)", je.text, je.line);
    json_t *o = r->doc;
    if (!json_is_object(o))
        return bad(err, errlen, "the body must be a JSON object: {\"from\": ..., \"to\": ..., \"scenario\": ...}");
    if (!known(o, keys, "the request", err, errlen))
        return false;
    json_t *s = json_object_get(o, "scenario");
    if (s && !json_is_null(s)) {
        if (!json_is_string(s))
            return bad(err, errlen, "`scenario` must be the scenario's text (a string)");
        r->scenario = json_string_value(s);
        r->scenario_len = json_string_length(s);
    }
    if (!field(o, "from", &r->from, err, errlen) || !field(o, "to", &r->to, err, errlen) ||
        !field(o, "source", &r->source, err, errlen) || !field(o, "caller_name", &r->caller_name, err, errlen) ||
        !field(o, "caller", &r->caller, err, errlen))
        return false;
    if (!r->from || !r->to)
        return bad(err, errlen, "`from` and `to` are required (the caller's and the called number)");
    json_t *at = json_object_get(o, "at");
    if (at && json_is_number(at)) {
        if (!number(o, "at", 1, 253402300799.0, &r->at, err, errlen))
            return false;
    } else if (at && !json_is_null(at)) {
        const char *t = NULL;
        if (!field(o, "at", &t, err, errlen))
            return false;
        if (!cr_parse_time(t, &r->at, &r->utc_offset, &r->utc_offset_set))
            return bad(err, errlen, "`at`: expected a time like 2026-11-26T10:00:00+03:00 or epoch seconds");
    }
    r->max_time = ADMIN_SIM_MAX_TIME;
    if (!number(o, "max_time", 0.001, ADMIN_SIM_MAX_TIME, &r->max_time, err, errlen))
        return false;
    return parties(r, json_object_get(o, "parties"), err, errlen) && vars(r, json_object_get(o, "vars"), err, errlen) &&
           mocks(r, json_object_get(o, "mocks"), err, errlen);
}

void admin_sim_req_free(admin_sim_req *r)
{
    for (size_t i = 0; i < ADMIN_SIM_MAX_ITEMS; i++) {
        free(r->var_text[i]);
        free(r->mock_text[i]);
        free(r->db_cols[i]);
        free(r->db_vals[i]);
    }
    if (r->doc)
        json_decref(r->doc);
    memset(r, 0, sizeof *r);
}
