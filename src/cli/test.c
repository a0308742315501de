/* test.c — `callroute test FILE TESTS...`: scenario tests for users
 * (SCENARIO.md "Scenario tests"). Each case is one simulated call on the
 * virtual clock (simrun.h) with mocked HTTP and databases and captured
 * mail — no real call, no real server — checked against its
 * expectations. One line per case; a failure shows expected vs actual and
 * the trace lines around it; the last line is "N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/registry.h"
#include "cli/cli.h"
#include "cli/test_int.h"
#include "route/route.h"
#include "scenario/diag.h"
#include "util/alloc.h"

static const char usage_text[] =
    "usage: callroute test FILE TESTS... [--verbose]\n"
    "\n"
    "Runs the cases in each TESTS file against the scenario FILE, each as one\n"
    "call on a virtual clock: http and db answered by the case's mocks, mail\n"
    "captured. A case lists the call, caller/parties SPECs (as simulate),\n"
    "mocks and expectations (route, ran, not_ran, vars, emails, dial, hangup):\n"
    "\n"
    "  cases:\n"
    "    - name: VIP caller reaches Alice\n"
    "      call: { from: \"79165551234\", to: \"1000\", at: \"2026-11-26T10:00:00+03:00\" }\n"
    "      caller: \"hangup@60\"\n"
    "      parties: { \"101\": \"answer@2,hold@5,hangup@30\" }\n"
    "      mocks:\n"
    "        http: [ { method: GET, url: \"http://crm.local/*\", json: { agent: \"101\" } } ]\n"
    "        db:   [ { database: crm, query: \"SELECT tier*\", rows: [ { tier: gold } ] } ]\n"
    "      expect:\n"
    "        route: vip\n"
    "        ran: [ dial ]\n"
    "        vars: { tier: gold }\n"
    "        emails: [ { to: \"supervisor@example.com\", body: \"*on hold*\" } ]\n"
    "        hangup: { by: caller }\n"
    "\n"
    "An http or db action that no mock matches fails the case. E-mail fields\n"
    "match exactly, or as patterns when they contain `*`. --verbose prints\n"
    "every case's trace.\n"
    "Exit: 0 all passed, 1 a case failed (or FILE is invalid), 2 usage error.\n";

/* ---- what a run produced ------------------------------------------- */

typedef struct tr_line {
    char *text;
    int kind;                        /* eng_trace_kind */
    char *app, *id;                  /* APP start */
    char **vars;                     /* APP end: names set */
    size_t var_count;
    char *to, *cc, *subject, *body;  /* EMAIL */
} tr_line;

typedef struct outcome {
    tr_line *lines;
    size_t count, cap;
    int route_line;
    char **unmatched;
    size_t unmatched_count;
    cr_strbuf report;                /* expected vs actual, per failure */
    int failures;
} outcome;

static void trace_cb(void *arg, const eng_trace_rec *r)
{
    outcome *o = arg;
    if (o->count == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 64;
        o->lines = cr_xrealloc(o->lines, o->cap * sizeof *o->lines);
    }
    tr_line *l = &o->lines[o->count];
    memset(l, 0, sizeof *l);
    cr_strbuf b = CR_STRBUF_INIT;
    eng_trace_text(r, &b);
    l->text = cr_xstrdup(cr_strbuf_cstr(&b));
    cr_strbuf_free(&b);
    l->kind = (int)r->kind;
    if (r->kind == ENG_TR_ROUTE)
        o->route_line = (int)o->count;
    if (r->kind == ENG_TR_APP && r->phase && strcmp(r->phase, "start") == 0) {
        l->app = cr_xstrdup(r->app);
        l->id = cr_xstrdup(r->id);
    }
    if (r->kind == ENG_TR_APP && r->var_count) {
        l->vars = cr_xcalloc(r->var_count, sizeof *l->vars);
        for (size_t i = 0; i < r->var_count; i++)
            l->vars[i] = cr_xstrdup(r->vars[i].name);
        l->var_count = r->var_count;
    }
    if (r->kind == ENG_TR_EMAIL) {
        l->to = cr_xstrdup(r->to);
        l->cc = cr_xstrdup(r->cc);
        l->subject = cr_xstrdup(r->subject);
        l->body = cr_xstrdup(r->body);
    }
    o->count++;
}

static void unmatched_cb(void *arg, const char *what)
{
    outcome *o = arg;
    o->unmatched = cr_xrealloc(o->unmatched, (o->unmatched_count + 1) * sizeof *o->unmatched);
    o->unmatched[o->unmatched_count++] = cr_xstrdup(what);
}

static void outcome_free(outcome *o)
{
    for (size_t i = 0; i < o->count; i++) {
        tr_line *l = &o->lines[i];
        free(l->text);
        free(l->app);
        free(l->id);
        for (size_t k = 0; k < l->var_count; k++)
            free(l->vars[k]);
        free(l->vars);
        free(l->to);
        free(l->cc);
        free(l->subject);
        free(l->body);
    }
    free(o->lines);
    for (size_t i = 0; i < o->unmatched_count; i++)
        free(o->unmatched[i]);
    free(o->unmatched);
    cr_strbuf_free(&o->report);
}

/* ---- reporting ------------------------------------------------------ */

static void trace_around(outcome *o, int at)
{
    int from = at < 0 ? (int)o->count - 8 : at - 3, to = at < 0 ? (int)o->count : at + 4;
    if (from < 0)
        from = 0;
    if (to > (int)o->count)
        to = (int)o->count;
    cr_strbuf_puts(&o->report, "      trace:\n");
    for (int i = from; i < to; i++) {
        const char *t = o->lines[i].text;
        while (t) {
            const char *nl = strchr(t, '\n');
            cr_strbuf_printf(&o->report, "      %s ", i == at ? ">" : " ");
            cr_strbuf_append(&o->report, t, nl ? (size_t)(nl - t) : strlen(t));
            cr_strbuf_putc(&o->report, '\n');
            t = nl ? nl + 1 : NULL;
        }
    }
}

static void mismatch(outcome *o, const char *what, const char *expected, const char *actual, int at)
{
    o->failures++;
    cr_strbuf_printf(&o->report, "    %s\n      expected: %s\n      actual:   %s\n", what, expected,
                     actual ? actual : "(not set)");
    trace_around(o, at);
}

static bool text_match(const char *want, const char *got)
{
    if (!want)
        return true;
    got = got ? got : "";
    return strchr(want, '*') ? svc_glob(want, got) : strcmp(want, got) == 0;
}

static int find_app(outcome *o, const char *name)
{
    for (size_t i = 0; i < o->count; i++) {
        const tr_line *l = &o->lines[i];
        if ((l->app && strcmp(l->app, name) == 0) || (l->id && strcmp(l->id, name) == 0))
            return (int)i;
    }
    return -1;
}

static int last_setter(outcome *o, const char *var)
{
    for (size_t i = o->count; i-- > 0;)
        for (size_t k = 0; k < o->lines[i].var_count; k++)
            if (strcmp(o->lines[i].vars[k], var) == 0)
                return (int)i;
    return -1;
}

static void check_emails(const tc_case *c, outcome *o)
{
    size_t sent = 0;
    for (size_t i = 0; i < o->count; i++)
        sent += o->lines[i].kind == ENG_TR_EMAIL;
    if (c->email_count == 0 && sent > 0) {
        char n[32];
        snprintf(n, sizeof n, "%zu e-mail%s", sent, sent == 1 ? "" : "s");
        mismatch(o, "emails", "none", n, -1);
        return;
    }
    bool *used = cr_xcalloc(o->count + 1, sizeof *used);
    for (size_t e = 0; e < c->email_count; e++) {
        const tc_email *m = &c->emails[e];
        bool found = false;
        for (size_t i = 0; i < o->count && !found; i++) {
            const tr_line *l = &o->lines[i];
            if (l->kind != ENG_TR_EMAIL || used[i])
                continue;
            if (text_match(m->to, l->to) && text_match(m->cc, l->cc) && text_match(m->subject, l->subject) &&
                text_match(m->body, l->body))
                found = used[i] = true;
        }
        if (found)
            continue;
        cr_strbuf want = CR_STRBUF_INIT, got = CR_STRBUF_INIT;
        cr_strbuf_printf(&want, "to %s%s%s%s%s body \"%s\"", m->to ? m->to : "*", m->cc ? " cc " : "",
                         m->cc ? m->cc : "", m->subject ? " subject " : "", m->subject ? m->subject : "",
                         m->body ? m->body : "*");
        int at = -1;
        for (size_t i = 0; i < o->count; i++) {
            const tr_line *l = &o->lines[i];
            if (l->kind != ENG_TR_EMAIL)
                continue;
            cr_strbuf_printf(&got, "%sto %s subject \"%s\" body \"%s\"", got.len ? "; " : "", l->to ? l->to : "",
                             l->subject ? l->subject : "", l->body ? l->body : "");
            at = (int)i;
        }
        mismatch(o, "email not sent", want.s, got.len ? got.s : "no e-mail sent", at);
        cr_strbuf_free(&want);
        cr_strbuf_free(&got);
    }
    free(used);
}

static void check(const tc_case *c, const simrun_result *res, outcome *o)
{
    for (size_t i = 0; i < o->unmatched_count; i++) {
        cr_strbuf w = CR_STRBUF_INIT;
        cr_strbuf_printf(&w, "a mock for %s", o->unmatched[i]);
        int at = -1;
        for (size_t k = 0; k < o->count && at < 0; k++)
            if (strstr(o->lines[k].text, o->unmatched[i]))
                at = (int)k;
        mismatch(o, "no mock matched", w.s, "none of the case's mocks matches", at);
        cr_strbuf_free(&w);
    }
    const char *route = simrun_route(res);
    if (c->has_route && (c->route ? !route || strcmp(c->route, route) != 0 : route != NULL))
        mismatch(o, "route", c->route ? c->route : "no route (rejected)", route ? route : "no route (rejected)",
                 o->route_line);
    for (size_t i = 0; i < c->ran_count; i++)
        if (find_app(o, c->ran[i]) < 0)
            mismatch(o, "ran", c->ran[i], "it did not run", -1);
    for (size_t i = 0; i < c->not_ran_count; i++) {
        int at = find_app(o, c->not_ran[i]);
        if (at >= 0) {
            char want[300];
            snprintf(want, sizeof want, "%s does not run", c->not_ran[i]);
            mismatch(o, "not_ran", want, "it ran", at);
        }
    }
    for (size_t i = 0; i < c->var_expect_count; i++) {
        const char *name = c->var_expect_names[i], *want = c->var_expect_values[i];
        const char *got = simrun_var(res, name);
        bool ok = want ? got && strcmp(want, got) == 0 : !got || !*got;
        if (!ok) {
            char what[300];
            snprintf(what, sizeof what, "vars.%s", name);
            mismatch(o, what, want ? want : "(unset or empty)", got, last_setter(o, name));
        }
    }
    if (c->has_emails)
        check_emails(c, o);
    if (c->dial_status) {
        const char *got = simrun_var(res, "dial_status");
        if (!got || strcmp(got, c->dial_status) != 0)
            mismatch(o, "dial status", c->dial_status, got, last_setter(o, "dial_status"));
    }
    const char *by = simrun_hangup_by(res), *cause = simrun_hangup_cause(res);
    if (c->hangup_by && (!by || strcmp(by, c->hangup_by) != 0))
        mismatch(o, "hangup by", c->hangup_by, by, -1);
    if (c->hangup_cause && (!cause || strcmp(cause, c->hangup_cause) != 0))
        mismatch(o, "hangup cause", c->hangup_cause, cause, -1);
}

/* ---- running -------------------------------------------------------- */

static bool run_case(scn_program *prog, const tc_case *c, bool verbose, cr_strbuf *out)
{
    outcome o = {.route_line = -1};
    svc_mocks mk = {.http = c->http, .http_count = c->http_count, .db = c->db, .db_count = c->db_count,
                    .unmatched = unmatched_cb, .arg = &o};
    svc_options so = {.mail = SVC_MAIL_CAPTURE, .mocks = &mk};
    simrun_params p = c->run;
    p.svc = &so;
    p.trace = trace_cb;
    p.trace_arg = &o;
    char err[256] = "";
    simrun_result *res = simrun_call(prog, &p, err, sizeof err);
    bool ok;
    if (!res) {
        o.failures++;
        cr_strbuf_printf(&o.report, "    cannot run the call: %s\n", err);
    } else {
        check(c, res, &o);
    }
    ok = o.failures == 0;
    cr_strbuf_printf(out, "%s  %s\n", ok ? "PASS" : "FAIL", c->name);
    if (!ok)
        cr_strbuf_puts(out, cr_strbuf_cstr(&o.report));
    if (verbose) {
        for (size_t i = 0; i < o.count; i++)
            cr_strbuf_printf(out, "      %s\n", o.lines[i].text);
    }
    simrun_result_free(res);
    outcome_free(&o);
    return ok;
}

int cli_test(int argc, char **argv)
{
    const char *file = NULL;
    const char **tests = cr_xcalloc((size_t)argc + 1, sizeof *tests);
    size_t ntests = 0;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            free(tests);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0)
            verbose = true;
        else if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "callroute test: unknown option '%s'\n(see callroute test --help)\n", argv[i]);
            free(tests);
            return CLI_USAGE;
        } else if (!file)
            file = argv[i];
        else
            tests[ntests++] = argv[i];
    }
    if (!file || ntests == 0) {
        fputs("callroute test: expected a scenario FILE and at least one TESTS file\n"
              "(see callroute test --help)\n", stderr);
        free(tests);
        return CLI_USAGE;
    }
    int load_status;
    scn_program *prog = cli_load_program(file, &load_status);
    if (!prog) {
        free(tests);
        return load_status;
    }

    int passed = 0, failed = 0, rc = CLI_OK;
    cr_strbuf out = CR_STRBUF_INIT;
    for (size_t t = 0; t < ntests; t++) {
        tc_file f;
        if (!tc_file_load(&f, tests[t])) {
            fprintf(stderr, "callroute test: %s\n", f.error);
            tc_file_free(&f);
            rc = CLI_USAGE;
            continue;
        }
        for (size_t i = 0; i < f.count; i++) {
            cr_strbuf_reset(&out);
            bool ok;
            if (f.case_errors[i]) {
                ok = false;
                cr_strbuf_printf(&out, "FAIL  %s\n    %s\n", f.cases[i].name, f.case_errors[i]);
            } else {
                ok = run_case(prog, &f.cases[i], verbose, &out);
            }
            fputs(cr_strbuf_cstr(&out), stdout);
            fflush(stdout);
            if (ok)
                passed++;
            else
                failed++;
        }
        tc_file_free(&f);
    }
    cr_strbuf_free(&out);
    printf("%d passed, %d failed\n", passed, failed);
    scn_program_unref(prog);
    free(tests);
    if (failed)
        return 1;
    return rc;
}
