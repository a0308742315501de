/* simulate_req.h — the body of POST /simulate, parsed (a pure function of
 * the bytes, unit tested and fuzzed apart from the code that runs it):
 * the scenario text and the options of `callroute simulate --json`, and
 * the mocks that answer its HTTP and database requests.
 *
 *   {"scenario": "TEXT", "from": "100", "to": "555", "source": "provider",
 *    "caller_name": "...", "at": "2026-11-26T10:00:00+03:00" | EPOCH,
 *    "caller": "hold@12,hangup@60", "parties": {"101": "answer@4,hangup@30"},
 *    "vars": {"NAME": "VALUE"}, "max_time": 600,
 *    "mocks": {"http": [{"method","url","status","json"|"body","content_type","error","delay"}],
 *              "db": [{"database","query","rows":[{...}],"error","delay"}]}}
 *
 * Only `from` and `to` are required; without `scenario` the running
 * revision's text is simulated. Strings are what the JSON held (UTF-8,
 * no NUL); the strings point into the parsed document, kept here. */
#ifndef ADMIN_SIMULATE_REQ_H
#define ADMIN_SIMULATE_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include "services/svc.h"

#define ADMIN_SIM_MAX_TIME 3600.0   /* seconds of virtual time, at most */
#define ADMIN_SIM_MAX_ITEMS 64      /* parties, vars, mocks of each kind */
#define ADMIN_SIM_MAX_FIELD 4096    /* bytes of one option (not the scenario) */

typedef struct admin_sim_req {
    struct json_t *doc;             /* owns every string below */
    const char *scenario;           /* NULL: the running revision's */
    size_t scenario_len;
    const char *from, *to, *source, *caller_name, *caller;
    double at;                      /* 0: now */
    int utc_offset;
    bool utc_offset_set;
    double max_time;
    const char *party_targets[ADMIN_SIM_MAX_ITEMS], *party_specs[ADMIN_SIM_MAX_ITEMS];
    size_t party_count;
    const char *var_names[ADMIN_SIM_MAX_ITEMS], *var_values[ADMIN_SIM_MAX_ITEMS];
    size_t var_count;
    char *var_text[ADMIN_SIM_MAX_ITEMS];   /* numbers and booleans as text (owned) */
    svc_http_mock http[ADMIN_SIM_MAX_ITEMS];
    size_t http_count;
    svc_db_mock db[ADMIN_SIM_MAX_ITEMS];
    size_t db_count;
    char *mock_text[ADMIN_SIM_MAX_ITEMS];  /* `json` mocks encoded (owned) */
    /* db rows: the first row's columns and values, per mock (owned arrays) */
    const char **db_cols[ADMIN_SIM_MAX_ITEMS], **db_vals[ADMIN_SIM_MAX_ITEMS];
} admin_sim_req;

/* Parses BODY into R. False with a message in ERR (the request is bad:
 * 400); R is freed either way by admin_sim_req_free. */
bool admin_sim_req_parse(const char *body, size_t len, admin_sim_req *r, char *err, size_t errlen);
void admin_sim_req_free(admin_sim_req *r);

#endif
