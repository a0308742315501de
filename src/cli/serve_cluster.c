/* serve_cluster.c — `callroute serve` as one node of a cluster
 * (settings.cluster, docs/cluster.md): at start the node's name and the
 * revision the cluster runs; then the revisions other nodes store (compiled
 * and installed here), SIGHUP storing the file as the next revision, queue
 * agents' presence shared by every node, and the admin API's cluster hooks
 * (publish, install_as). cluster.c and cluster_agents.c talk to the
 * database; this file decides what serve does with what they hear. Apart
 * from serve.c, which is one node's life whether or not it has a cluster. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/serve_int.h"
#include "scenario/diag.h"

/* Cluster revision N (its number from the database) becomes the running
 * one; one this node runs already (its own PUT met its NOTIFY) is left. */
static long install_as(serve *s, scn_program *p, const char *text, size_t len, long n, const char *why)
{
    long cur = admin_revisions_current(s->revs)->number;
    if (n <= cur)
        return cur;
    admin_revisions_number_next(s->revs, n);
    return install(s, p, text, len, why);
}

static long install_as_cb(void *arg, scn_program *p, const char *text, size_t len, long n, const char *why)
{
    return install_as(arg, p, text, len, n, why);
}

static void *publish_cb(void *arg, const char *text, size_t len, long after,
                        void (*done)(void *, long, bool, const char *), void *done_arg)
{
    serve *s = arg;
    return cluster_publish(s->cl, text, len, after, done, done_arg);
}

static void publish_cancel_cb(void *arg, void *handle)
{
    (void)arg;
    cluster_publish_cancel(handle);
}

static long cluster_current_cb(void *arg)
{
    serve *s = arg;
    return admin_revisions_current(s->revs)->number;
}

static void cluster_log_cb(void *arg, int level, const char *msg)
{
    say(arg, level == 0 ? SIP_LOG_ERROR : level == 1 ? SIP_LOG_WARN : SIP_LOG_INFO, "%s", msg);
}

/* Another node stored revision N: compiled here as if it were the file,
 * written over the file (a restart runs it too), installed. One that does
 * not compile here (an include or prompt this node lacks) is not run:
 * this node stays on its revision and says so once. */
static void cluster_newer_cb(void *arg, long n, const char *text, size_t len, const char *from)
{
    serve *s = arg;
    if (n == s->failed_revision)
        return;
    scn_diags d;
    scn_diags_init(&d);
    scn_program *p = cli_compile_text(s->file, text, len, &d);
    scn_diags_print(&d, stderr);
    scn_diags_free(&d);
    if (!p) {
        s->failed_revision = n;
        say(s, SIP_LOG_ERROR, "cluster revision %ld (from %s) does not compile on this node: keeping revision %ld", n,
            from, admin_revisions_current(s->revs)->number);
        return;
    }
    char err[600], why[200];
    if (!admin_revisions_write_file(s->revs, text, len, err, sizeof err))
        say(s, SIP_LOG_WARN, "cluster revision %ld: %s (it runs, but a restart would not find it there)", n, err);
    snprintf(why, sizeof why, "cluster revision from node %s", from);
    install_as(s, p, text, len, n, why);
    scn_program_unref(p);
}

/* Queue agents' presence across the cluster: a change made here is stored
 * for every node; one stored by any node is applied here. */
static const char *const agent_state_names[] = {[ENG_AGENT_LOGGED_OUT] = "logged_out",
                                                [ENG_AGENT_AVAILABLE] = "available",
                                                [ENG_AGENT_PAUSED] = "paused"};

static void agent_changed_cb(void *arg, const char *queue, const char *number, eng_agent_mode mode,
                             const char *reason)
{
    serve *s = arg;
    cluster_agents_publish(s->agents, queue, number, agent_state_names[mode], reason);
}

static bool agent_apply_cb(void *arg, const char *queue, const char *number, const char *state, const char *reason)
{
    serve *s = arg;
    if (!s->eng)
        return false;
    for (int m = 0; m < 3; m++)
        if (strcmp(state, agent_state_names[m]) == 0)
            return eng_queue_agent_apply(s->eng, queue, number, (eng_agent_mode)m, reason);
    return true;   /* a state this version does not know: left alone */
}

/* SIGHUP in a cluster: the file's text stored as the next revision, then run. */
static void reload_published_cb(void *arg, long n, bool conflict, const char *error)
{
    serve *s = arg;
    s->reload_publish = NULL;
    if (n)
        install_as(s, s->reload_prog, s->reload_text, s->reload_len, n, "SIGHUP");
    else if (conflict)
        say(s, SIP_LOG_WARN, "SIGHUP: another node changed the scenario first; the file will hold its revision");
    else
        say(s, SIP_LOG_ERROR, "SIGHUP: the cluster database did not take the file: %s", error ? error : "?");
    scn_program_unref(s->reload_prog);
    s->reload_prog = NULL;
    free(s->reload_text);
    s->reload_text = NULL;
}

void serve_cluster_reload(serve *s)
{
    if (s->reload_publish) {
        say(s, SIP_LOG_WARN, "SIGHUP: the last one is still being stored; ignored");
        return;
    }
    scn_diags d;
    scn_diags_init(&d);
    size_t len = 0;
    char *text = scn_read_source(s->file, &len, &d, NULL);
    scn_program *p = text ? cli_compile_text(s->file, text, len, &d) : NULL;
    scn_diags_print(&d, stderr);
    scn_diags_free(&d);
    if (!p) {
        say(s, SIP_LOG_ERROR, "reload of %s (SIGHUP) failed: keeping revision %ld", s->file, s->prog->revision);
        free(text);
        return;
    }
    s->reload_prog = p;
    s->reload_text = text;
    s->reload_len = len;
    s->reload_publish =
        cluster_publish(s->cl, text, len, admin_revisions_current(s->revs)->number, reload_published_cb, s);
}

/* ---- at start ---- */

bool serve_cluster_boot(serve *s, const char *node, char **source, size_t *source_len)
{
    const scn_cluster_settings *cs = &s->prog->settings.cluster;
    scn_diags diags;
    /* The cluster's newest revision is what runs, the file's only when
     * the cluster has none; the file is made to hold it. */
    if (node)
        snprintf(s->node, sizeof s->node, "%s", node);
    else if (cs->node)
        snprintf(s->node, sizeof s->node, "%s", cs->node);
    else if (gethostname(s->node, sizeof s->node - 1) != 0)
        snprintf(s->node, sizeof s->node, "callroute");
    long number = 0;
    char *text = NULL, cerr[600];
    size_t tlen = 0;
    if (!cluster_boot(cs->db.target, s->node, *source, *source_len, &number, &text, &tlen, cerr, sizeof cerr)) {
        fprintf(stderr, "callroute serve: %s\n", cerr);
        return false;
    }
    if (text) {
        scn_diags_init(&diags);
        scn_program *p = cli_compile_text(s->file, text, tlen, &diags);
        scn_diags_print(&diags, stderr);
        scn_diags_free(&diags);
        if (!p || !admin_revisions_write_file(s->revs, text, tlen, cerr, sizeof cerr)) {
            fprintf(stderr, "callroute serve: the cluster's revision %ld %s\n", number,
                    p ? cerr : "does not compile on this node");
            scn_program_unref(p);
            free(text);
            return false;
        }
        /* The cluster's settings.cluster may differ: the node's own
         * (read at start) are the file's as it was. */
        scn_program_unref(s->prog);
        s->prog = p;
        free(*source);
        *source = text;
        *source_len = tlen;
    }
    admin_revisions_number_next(s->revs, number);
    return true;
}

void serve_cluster_start(serve *s, eng_options *eo, const char *const *listen, size_t nlisten)
{
    static const cluster_ops cops = {.current = cluster_current_cb, .newer = cluster_newer_cb, .log = cluster_log_cb};
    s->cl = cluster_new(s->l, s->svc, s->prog->settings.cluster.db.target, s->node, &cops, s);
    static const cluster_agents_ops aops = {.apply = agent_apply_cb, .log = cluster_log_cb};
    s->agents = cluster_agents_new(s->l, s->svc, cluster_db(s->cl), s->prog->settings.cluster.db.target, s->node,
                                   &aops, s);
    eo->agent_changed = agent_changed_cb;
    eo->agent_changed_arg = s;
    snprintf(s->sip_addr, sizeof s->sip_addr, "%s",
             nlisten ? listen[0] : s->prog->settings.sip_listen_count ? s->prog->settings.sip_listen[0] : "");
}

void serve_cluster_admin(serve *s, admin_options *ao)
{
    if (s->cl) {
        ao->cluster_node = s->node;
        ao->cluster_db = cluster_db(s->cl);
        ao->cluster_sip = s->sip_addr;
        ao->publish = publish_cb;
        ao->publish_cancel = publish_cancel_cb;
        ao->install_as = install_as_cb;
    }
}
