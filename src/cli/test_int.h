/* test_int.h — `callroute test`: a test case as read from a test file
 * (test_load.c) and run/checked (test.c). */
#ifndef CLI_TEST_INT_H
#define CLI_TEST_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "simulate/simrun.h"
#include "scenario/node.h"
#include "services/svc.h"
#include "util/arena.h"

typedef struct tc_email {
    const char *to, *cc, *subject, *body;      /* NULL: not checked; `*` wildcards */
    const scn_node *node;
} tc_email;

typedef struct tc_case {
    const char *name;
    const scn_node *node;
    simrun_params run;
    const char **party_targets, **party_specs;
    const char **var_names, **var_values;
    const char **header_names, **header_values;
    svc_http_mock *http;
    size_t http_count;
    svc_db_mock *db;
    size_t db_count;
    /* expectations */
    bool has_route;
    const char *route;                         /* NULL with has_route: no route matches */
    const char **ran, **not_ran;
    size_t ran_count, not_ran_count;
    const char **var_expect_names, **var_expect_values;   /* value NULL: unset or empty */
    size_t var_expect_count;
    tc_email *emails;
    size_t email_count;
    bool has_emails;
    const char *dial_status;
    const char *hangup_by, *hangup_cause;
} tc_case;

typedef struct tc_file {
    cr_arena arena;
    tc_case *cases;
    size_t count;
    /* Problems with the file or a case, "file:line:col: message" (one per
     * case index, NULL when the case is fine; file-level in `error`). */
    const char **case_errors;
    const char *error;
} tc_file;

/* Reads PATH. False (message in F->error) when it cannot be used at all. */
bool tc_file_load(tc_file *f, const char *path);
void tc_file_free(tc_file *f);

#endif
