/* check.c — `callroute check FILE... [--json]`: validate scenario files.
 * Exit 0 when every file is valid, 1 when any is invalid, 2 for a usage
 * error or a file that cannot be read. */
#include <sndfile.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apps/registry.h"
#include "cli/cli.h"
#include "scenario/diag.h"
#include "scenario/program.h"
#include "telephony/sip/sip_tls.h"

static void usage(FILE *out)
{
    fputs("usage: callroute check [--json] FILE...\n\n"
          "Validates scenario files (YAML or JSON) without running anything: every\n"
          "section, application, parameter, condition, template and expression, and\n"
          "every reference (gateways, databases, users, scenarios).\n\n"
          "For a valid file prints one line on stdout, e.g.\n"
          "  examples/demo.yaml: ok (3 routes, 27 applications, 1 scenario)\n"
          "and any warnings on stderr. For an invalid file prints every error on\n"
          "stderr as FILE:LINE:COL: error: MESSAGE (at PATH).\n\n"
          "  --json    print the diagnostics of each file as one JSON object per line\n"
          "            on stdout instead: {\"diagnostics\":[{\"file\",\"line\",\"column\",\n"
          "            \"severity\",\"message\",\"path\"}...],\"errors\":N,\"warnings\":N}\n"
          "  --help    this text\n\n"
          "Exit status: 0 all valid, 1 some file invalid, 2 usage error or unreadable file.\n",
          out);
}

static const char *plural(size_t n, const char *one, const char *many) { return n == 1 ? one : many; }

/* Warnings for the prompts named by literal text that play would refuse:
 * missing, not audio libsndfile reads, or not 8 kHz mono. Warnings, not
 * errors: a file may be put in place after the scenario. */
static void check_prompts(const scn_program *p, scn_diags *d)
{
    for (const scn_prompt_ref *r = p->prompts; r; r = r->next) {
        SF_INFO info = {0};
        SNDFILE *f = sf_open(r->path, SFM_READ, &info);
        if (!f) {
            if (access(r->path, F_OK) != 0)
                scn_diag_at(d, SCN_SEV_WARNING, r->file, r->line, r->col, r->at,
                            "prompt '%s' does not exist (%s)", r->name, r->path);
            else
                scn_diag_at(d, SCN_SEV_WARNING, r->file, r->line, r->col, r->at,
                            "prompt '%s' is not audio callroute can read (%s)", r->name, sf_strerror(NULL));
            continue;
        }
        if (info.samplerate != 8000 || info.channels != 1 ||
            (info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_WAV)
            scn_diag_at(d, SCN_SEV_WARNING, r->file, r->line, r->col, r->at,
                        "prompt '%s' is not an 8 kHz mono WAV (%d Hz, %d channel(s)): play refuses it; "
                        "convert it, e.g. sox IN -r 8000 -c 1 OUT.wav", r->name, info.samplerate,
                        info.channels);
        sf_close(f);
    }
}

/* Errors for the files settings.sip.tls names that serve could not use:
 * missing, unreadable, or without the PEM block they need. */
static size_t check_tls_files(const scn_program *p, scn_diags *d)
{
    const scn_tls_settings *t = &p->settings.sip_tls;
    const struct {
        const scn_tls_file *f;
        const char *what;
    } files[] = {{&t->cert, "cert"}, {&t->key, "key"}, {&t->ca, "ca"}};
    size_t errors = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char why[600];
        const scn_tls_file *f = files[i].f;
        if (f->path && sip_tls_file_problem(f->path, files[i].what, why, sizeof why)) {
            scn_diag_at(d, SCN_SEV_ERROR, f->file, f->line, f->col, f->at, "settings.sip.tls.%s: %s",
                        files[i].what, why);
            errors++;
        }
    }
    return errors;
}

/* Checks one file; returns the exit status it deserves. */
static int check_one(const char *file, bool json)
{
    scn_diags d;
    scn_diags_init(&d);
    bool unreadable = false;
    scn_program *p = scn_program_load(file, app_registry, &d, &unreadable);
    bool tls_bad = false;
    if (p) {
        check_prompts(p, &d);
        tls_bad = check_tls_files(p, &d) > 0;
    }
    if (json) {
        cr_strbuf out = CR_STRBUF_INIT;
        scn_diags_json(&d, &out);
        printf("%s\n", cr_strbuf_cstr(&out));
        cr_strbuf_free(&out);
    } else {
        scn_diags_print(&d, stderr);
        if (p && !tls_bad)
            printf("%s: ok (%zu %s, %zu %s, %zu %s)\n", file, p->route_count,
                   plural(p->route_count, "route", "routes"), p->action_count,
                   plural(p->action_count, "application", "applications"), p->scenario_count,
                   plural(p->scenario_count, "scenario", "scenarios"));
    }
    int rc = p && !tls_bad ? CLI_OK : unreadable ? CLI_USAGE : CLI_INVALID;
    scn_program_unref(p);
    scn_diags_free(&d);
    return rc;
}

int cli_check(int argc, char **argv)
{
    bool json = false, files_only = false;
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (files_only || a[0] != '-' || strcmp(a, "-") == 0) {
            nfiles++;
        } else if (strcmp(a, "--") == 0) {
            files_only = true;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else {
            fprintf(stderr, "callroute check: unknown option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (nfiles == 0) {
        fputs("callroute check: no file given\n", stderr);
        usage(stderr);
        return CLI_USAGE;
    }
    int rc = CLI_OK;
    files_only = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!files_only && strcmp(a, "--") == 0) {
            files_only = true;
            continue;
        }
        if (!files_only && a[0] == '-' && strcmp(a, "-") != 0)
            continue;
        int r = check_one(a, json);
        /* An unreadable file outranks an invalid one: it is a usage problem. */
        if (r == CLI_USAGE || (r == CLI_INVALID && rc == CLI_OK))
            rc = r;
    }
    fflush(stdout);
    return rc;
}
