/* serve_int.h — what serve.c and serve_cluster.c share (private to
 * `callroute serve`): the service's state, its log line and install(). The
 * cluster's wiring is apart (serve_cluster.c) so serve.c reads as one node's
 * life: start, reload, drain, stop. */
#ifndef CLI_SERVE_INT_H
#define CLI_SERVE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "admin/admin.h"
#include "admin/revisions.h"
#include "cli/cluster.h"
#include "cli/cluster_agents.h"
#include "cli/records_hook.h"
#include "engine/engine.h"
#include "scenario/program.h"
#include "services/svc.h"
#include "telephony/sip/sip.h"

typedef struct serve {
    const char *file;
    loop *l;
    scn_program *prog;
    svc_ctx *svc;
    tel_driver *drv;
    eng_engine *eng;
    admin *admin;
    rec_ctx *rec;
    records_hook *rec_hook;
    admin_revisions *revs;     /* every program loaded, its source */
    sip_log_level level;
    int sigfd;
    loop_watch *sigw;
    loop_timer *drain_timer;
    loop_timer *watchdog_timer;
    double watchdog_every;     /* seconds; 0: no systemd watchdog */
    double drain_until;        /* SIGTERM: live calls may go on until then */
    const char *log_file;
    int stops;                 /* signals received */
    bool driver_down;
    bool draining;             /* SIGTERM or POST /drain */
    /* settings.cluster (read at start): this node's name, the database */
    cluster *cl;
    cluster_agents *agents;    /* queue agents' presence, shared */
    char node[128];
    char sip_addr[80];         /* for the nodes table */
    long failed_revision;      /* a cluster revision that does not compile here */
    void *reload_publish;      /* SIGHUP in a cluster: its text being stored */
    char *reload_text;
    size_t reload_len;
    scn_program *reload_prog;
} serve;

/* serve.c */
void say(serve *s, sip_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* P (compiled from TEXT) becomes the program new calls take; its revision. */
long install(serve *s, scn_program *p, const char *text, size_t len, const char *why);

/* serve_cluster.c: settings.cluster (docs/cluster.md). */

/* Before the loop: this node's name (NODE from --node, else
 * settings.cluster.node, else the host name), and the revision the cluster
 * runs: when it is not the file's, it is compiled, written over the file
 * and replaces s->prog and *SOURCE (*SOURCE_LEN). False (said on stderr):
 * the node cannot start; the caller frees what it holds. */
bool serve_cluster_boot(serve *s, const char *node, char **source, size_t *source_len);
/* The cluster's connections (revisions, agents' presence), hooked to EO;
 * LISTEN (NLISTEN addresses) names this node's SIP address for the nodes
 * table. */
void serve_cluster_start(serve *s, eng_options *eo, const char *const *listen, size_t nlisten);
/* The admin API's cluster side (nothing when not in a cluster). */
void serve_cluster_admin(serve *s, admin_options *ao);
/* SIGHUP in a cluster: the file stored as the next revision, then run. */
void serve_cluster_reload(serve *s);

#endif
