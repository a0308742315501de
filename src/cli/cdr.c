/* cdr.c — `callroute cdr FILE`: prints the call detail records in the
 * store FILE's settings.cdr names (records/cdr.h), newest first, as JSON
 * lines, CSV or a table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "config/from_program.h"
#include "util/time.h"
#include "simulate/simrun.h"
#include "records/cdr.h"
#include "scenario/compile.h"
#include "scenario/program.h"
#include "services/svc.h"

typedef enum { OUT_TABLE, OUT_JSON, OUT_CSV } out_format;

typedef struct run {
    out_format fmt;
    loop *l;
    int rc;
    size_t printed;
} run;

static void usage(FILE *out)
{
    fputs("usage: callroute cdr FILE [--since TIME] [--until TIME] [--limit N] [--json|--csv]\n\n"
          "Prints the call detail records of the store FILE's settings.cdr names\n"
          "(default sqlite:var/cdr.db beside FILE), newest first.\n\n"
          "  --since TIME   records of calls that ended at or after TIME: ISO 8601\n"
          "                 (2026-12-04, 2026-12-04T10:00:00Z) or a span back from\n"
          "                 now (30m, 24h); default: 24h\n"
          "  --until TIME   ... and before TIME (default: now)\n"
          "  --limit N      at most N records (default 1000)\n"
          "  --json         one JSON object per line (the fields of GET /cdr)\n"
          "  --csv          CSV with a header line\n\n"
          "Records reach the store a moment after their call ends (serve spools\n"
          "them first); a store that was down gets them when it is back.\n"
          "Exit status: 0 ok, 1 the store cannot be read, 2 usage error.\n",
          out);
}

/* ISO 8601, or a span back from now ("30m", "24h", "7d"). */
static bool parse_when(const char *s, double now, double *out)
{
    int off;
    bool has;
    size_t n = strlen(s);
    char day[32];
    if (n == 10 && s[4] == '-' && s[7] == '-') {   /* a day: from its midnight, UTC */
        snprintf(day, sizeof day, "%sT00:00:00Z", s);
        s = day;
    }
    if (cr_parse_time(s, out, &off, &has))
        return true;
    double d;
    if (n > 1 && s[n - 1] == 'd') {
        char *end;
        d = strtod(s, &end);
        if (end == s + n - 1 && d >= 0) {
            *out = now - d * 86400;
            return true;
        }
        return false;
    }
    if (scn_parse_duration(s, n, &d)) {
        *out = now - d;
        return true;
    }
    return false;
}

static void print_row(void *arg, const char *const *vals, size_t n)
{
    run *r = arg;
    char *s = NULL;
    if (r->fmt == OUT_JSON) {
        s = rec_row_json(vals, n);
        if (s)
            puts(s);
    } else if (r->fmt == OUT_CSV) {
        s = rec_row_csv(vals, n);
        if (s)
            puts(s);
    } else {
        /* end, disposition, billsec, caller -> called (route), who answered */
        char end[32];
        rec_time(vals[11] ? atof(vals[11]) / 1000.0 : 0, end);
        printf("%-24s %-10s %8.1fs  %s -> %s  route %s%s%s\n", end, vals[14] ? vals[14] : "-",
               vals[13] ? atof(vals[13]) : 0.0, vals[6] ? vals[6] : "-", vals[8] ? vals[8] : "-",
               vals[4] ? vals[4] : "-", vals[18] ? "  agent " : "", vals[18] ? vals[18] : "");
    }
    free(s);
    r->printed++;
}

static void query_cb(void *arg, const svc_db_res *res)
{
    run *r = arg;
    if (res->error) {
        fprintf(stderr, "callroute cdr: cannot read the records: %s\n", res->error);
        r->rc = CLI_INVALID;
    } else {
        if (r->fmt == OUT_CSV)
            puts(rec_csv_header);
        if (res->rows > 0 && res->ncols > 0 && !rec_rows_each(res->vals[0], print_row, r)) {
            fputs("callroute cdr: the store answered something that is not records\n", stderr);
            r->rc = CLI_INVALID;
        }
    }
    loop_stop(r->l);
}

int cli_cdr(int argc, char **argv)
{
    const char *file = NULL, *since = "24h", *until = NULL;
    long limit = 1000;
    run r = {.fmt = OUT_TABLE, .rc = CLI_OK};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(a, "--json") == 0) {
            r.fmt = OUT_JSON;
        } else if (strcmp(a, "--csv") == 0) {
            r.fmt = OUT_CSV;
        } else if (strcmp(a, "--since") == 0 && i + 1 < argc) {
            since = argv[++i];
        } else if (strcmp(a, "--until") == 0 && i + 1 < argc) {
            until = argv[++i];
        } else if (strcmp(a, "--limit") == 0 && i + 1 < argc) {
            char *end;
            limit = strtol(argv[++i], &end, 10);
            if (*end || limit <= 0) {
                fprintf(stderr, "callroute cdr: --limit wants a number above 0, not '%s'\n", argv[i]);
                return CLI_USAGE;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "callroute cdr: unknown option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        } else if (!file) {
            file = a;
        } else {
            fprintf(stderr, "callroute cdr: one scenario file only ('%s')\n", a);
            return CLI_USAGE;
        }
    }
    if (!file) {
        usage(stderr);
        return CLI_USAGE;
    }
    double now = (double)time(NULL), from, to = now + 1;
    if (!parse_when(since, now, &from) || (until && !parse_when(until, now, &to))) {
        fprintf(stderr, "callroute cdr: --since/--until want ISO 8601 (2026-12-04T10:00:00Z) or a span (24h, 7d)\n");
        return CLI_USAGE;
    }
    int fail = CLI_INVALID;
    scn_program *p = cli_load_program(file, &fail);
    if (!p)
        return fail;
    if (!p->settings.cdr.enabled) {
        fprintf(stderr, "callroute cdr: %s turns call records off (settings.cdr.database: off)\n", file);
        scn_program_unref(p);
        return CLI_INVALID;
    }
    char err[256] = "", a[32], b[32], c[32];
    r.l = loop_new_real();
    svc_options so = {.mail = SVC_MAIL_CAPTURE};
    svc_config sc = cfg_services_of(p);
    svc_ctx *svc = r.l ? svc_new(r.l, &sc, &so, err, sizeof err) : NULL;
    if (!svc) {
        fprintf(stderr, "callroute cdr: %s\n", err[0] ? err : "cannot start");
        r.rc = CLI_INVALID;
        goto out;
    }
    snprintf(a, sizeof a, "%lld", llround(from * 1000));
    snprintf(b, sizeof b, "%lld", llround(to * 1000));
    snprintf(c, sizeof c, "%ld", limit);
    const char *params[] = {a, b, c};
    svc_db_query(svc, &p->settings.cdr.db, rec_select_sql(p->settings.cdr.db.kind), params, 3, 30, query_cb, &r);
    loop_run(r.l);
out:
    svc_free(svc);
    if (r.l)
        loop_destroy(r.l);
    scn_program_unref(p);
    return r.rc;
}
