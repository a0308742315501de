/* program.h — a compiled scenario file: immutable, reference-counted, shared
 * by every call that started under it (DESIGN.md: Programs and reload).
 * Everything a call needs at run time is here in typed form; nothing is
 * parsed again after load. */
#ifndef SCN_PROGRAM_H
#define SCN_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "config/database.h"
#include "config/telephony.h"
#include "scenario/cond.h"
#include "scenario/expr.h"
#include "scenario/template.h"
#include "util/arena.h"

struct app_def;
struct scn_diags;

typedef struct scn_action scn_action;

/* A list of actions run one after another (a script, then:, do:, ...). */
typedef struct scn_actions {
    size_t count;
    const scn_action *items;
} scn_actions;

struct scn_action {
    const struct app_def *app;
    const void *params;        /* the app's compiled parameter struct */
    const char *id;            /* optional `id:` (NULL) */
    const char *label;         /* optional `label:` (NULL) */
    const char *path;          /* routes[0].script[3].do[1] */
    const char *file;
    unsigned line, col;
    bool disabled;
    double timeout;            /* common `timeout:` in seconds; < 0 when absent */
    scn_actions on_error;
};

#define SCN_ROUTE_TYPES(X)            \
    X(FROM_GATEWAY, "from_gateway")   \
    X(FROM_USER, "from_user")         \
    X(TO_USER, "to_user")             \
    X(TO_GATEWAY, "to_gateway")       \
    X(MESSAGE, "message")

typedef enum {
#define SCN_RT_ENUM(e, s) SCN_ROUTE_##e,
    SCN_ROUTE_TYPES(SCN_RT_ENUM)
#undef SCN_RT_ENUM
    SCN_ROUTE__COUNT
} scn_route_type;
extern const char *const scn_route_type_names[];   /* NULL-terminated */

typedef struct scn_named_scenario scn_named_scenario;

typedef struct scn_route {
    const char *name;
    scn_route_type type;
    int priority;              /* 0..99 */
    size_t order;              /* position in the file: ties go to the earlier */
    bool enabled;
    const scn_cond *cond;      /* NULL: always matches */
    scn_actions script;        /* the route's own script, or ... */
    const scn_named_scenario *scenario;   /* ... `scenario: name` */
    /* hold_music: this route's calls play it instead of settings.media's
     * (as written, below sounds); hold_music_off: none at all. */
    const char *hold_music;
    bool hold_music_off;
    /* `media: bypass`: the SDP passes between the caller and the legs it
     * dials, no RTP through callroute (no prompts, DTMF or recording:
     * `check` refuses applications that need media in its script). */
    bool media_bypass;
    const char *path, *file;
    unsigned line, col;
} scn_route;

struct scn_named_scenario {
    const char *name;
    const char **args;
    size_t arg_count;
    scn_actions script;
    const char *path;
};

/* Users, gateways, SRTP and TLS settings are plain telephony configuration
 * (config/telephony.h): the program's entries are what the SIP driver reads. */
typedef cfg_voicemail scn_voicemail;

typedef cfg_srtp scn_srtp;
#define SCN_SRTP_INHERIT CFG_SRTP_INHERIT
#define SCN_SRTP_OFF CFG_SRTP_OFF
#define SCN_SRTP_OPTIONAL CFG_SRTP_OPTIONAL
#define SCN_SRTP_REQUIRED CFG_SRTP_REQUIRED
#define scn_srtp_names cfg_srtp_names

typedef cfg_user scn_user;

#define SCN_GROUP_STRATEGIES(X)       \
    X(RING_ALL, "ring-all")           \
    X(ROUND_ROBIN, "round-robin")     \
    X(LONGEST_IDLE, "longest-idle")   \
    X(RANDOM, "random")               \
    X(FEWEST_CALLS, "fewest-calls")   \
    X(LINEAR, "linear")

typedef enum {
#define SCN_GS_ENUM(e, s) SCN_GROUP_##e,
    SCN_GROUP_STRATEGIES(SCN_GS_ENUM)
#undef SCN_GS_ENUM
} scn_group_strategy;
extern const char *const scn_group_strategy_names[];

typedef struct scn_group {
    const char *name;
    const char **members;      /* user numbers */
    size_t member_count;
    scn_group_strategy strategy;
} scn_group;

/* queues.NAME: automatic call distribution (engine/queue.c, apps/queue.c). */
typedef struct scn_queue {
    const char *name;
    const char **agents;       /* user numbers (groups expanded), each once, in order */
    size_t agent_count;
    scn_group_strategy strategy;
    double ring_timeout;       /* seconds an agent is offered a call before it is skipped */
    double wrapup;             /* seconds an agent rests after a call */
    double max_wait;           /* seconds; 0: no limit */
    const char *music;         /* a prompt below settings.media.sounds, as written; NULL: none */
    double announce_position;  /* seconds between announcements; 0: none */
    const scn_template *announce_text;   /* what is announced (NULL: the built-in text) */
    char exit_digit;           /* 0: none */
    long max_waiting;          /* callers; 0: no limit */
    double sla;                /* service level: answered within this many seconds */
} scn_queue;

typedef cfg_gateway scn_gateway;

#define SCN_GATEWAY_NUMBER_PATTERN "^[+]?[0-9*#]{1,32}$"

/* conferences: a room's settings (compile_meet.c). A room the file does
 * not name takes the defaults (no PINs, 50 members). */
typedef enum { SCN_ANNOUNCE_NONE, SCN_ANNOUNCE_TONE, SCN_ANNOUNCE_NAME } scn_announce;
typedef struct scn_conference {
    const char *name;
    const char *pin;           /* NULL: none */
    const char *moderator_pin; /* NULL: none */
    int max_members;           /* moderators may join a full room */
    const char *music_when_alone;   /* resolved below settings.media.sounds; NULL: none */
    scn_announce announce;     /* join/leave: a tone, the member's name spoken, or nothing */
    const char *mute_key;      /* DTMF sequence that mutes/unmutes ("" off) */
    const char *leave_key;     /* DTMF sequence that leaves the room ("" off) */
} scn_conference;

#define SCN_CONFERENCE_MAX_MEMBERS 50
#define SCN_ROOM_NAME_MAX 64
/* A room name: 1..SCN_ROOM_NAME_MAX letters, digits, '_', '-', '.' (a
 * rendered `room:` is checked too: it ends up in the admin API's paths). */
bool scn_room_name_ok(const char *s);

/* A database is plain configuration (config/database.h): services/ and
 * records/ take it as it is, without knowing the language. */
typedef cfg_database scn_database;

/* settings.cdr: where call detail records go (records/). */
typedef struct scn_cdr_settings {
    bool enabled;              /* database: off turns them off */
    scn_database db;           /* the store (name "cdr") */
    const char *spool;         /* the local spool file (resolved) */
} scn_cdr_settings;

/* settings.cluster: this process is one node of several behind a SIP front
 * end (docs/cluster.md). Read at start, as settings.admin is. */
typedef struct scn_cluster_settings {
    bool enabled;              /* the section is present */
    /* This node's name (CDRs, GET /cluster); NULL: serve --node, else the
     * host name. The file is shared by every node (revisions), so a name
     * here suits a single node's file; nodes sharing one take --node. */
    const char *node;
    scn_database db;           /* revisions and nodes (name "cluster"; PostgreSQL) */
    /* The front end (Kamailio) as HOST:PORT (NULL: none): requests from it
     * carry the caller's own address (X-Callroute-Source), it is exempt
     * from settings.sip.flood, and registered users are called through it. */
    const char *proxy;
} scn_cluster_settings;

typedef cfg_tls_file scn_tls_file;

/* settings.sip.tls (config/telephony.h). */
typedef cfg_tls_settings scn_tls_settings;

typedef struct scn_settings {
    /* Relative paths below are already resolved against the file's directory. */
    const char **sip_listen;   /* "udp:0.0.0.0:5060", ... */
    size_t sip_listen_count;
    scn_tls_settings sip_tls;
    const char *sounds;        /* prompts (play, read_digits, dial ringback) stay below it */
    const char *recordings;    /* recordings and e-mail attachments stay below it */
    int rtp_port_min, rtp_port_max;
    int rtp_io;                /* settings.media.rtp_io: 0 auto, 1 epoll, 2 io_uring (cfg_rtp_io) */
    const char *media_address; /* IPv4 that RTP binds and SDP announces; NULL: the SIP address */
    scn_srtp srtp;             /* legs without a user/gateway override (default OFF) */
    double rtp_timeout;        /* seconds without RTP on an answered leg not on hold; 0: off */
    const char *tts_language, *tts_voice;   /* speech defaults (espeak-ng names) */
    const char *hold_music;    /* played to the party put on hold (below sounds, as written); NULL: none */
    bool media_bypass;         /* settings.media.mode: bypass: the routes' default (scn_route.media_bypass) */
    int tts_cache_mb;          /* bound of the speech cache */
    const char *smtp_url, *smtp_from, *smtp_outbox, *smtp_user, *smtp_password;
    bool smtp_starttls;
    double steps_per_second;
    int max_streams;
    double hangup_grace;       /* seconds */
    int max_calls;             /* 0: unlimited; -1 (default): what the RTP port range holds */
    double max_call_duration;  /* seconds; a call is hung up after it (0: never) */
    double drain_timeout;      /* SIGTERM: how long live calls may go on (then BYE) */
    scn_cdr_settings cdr;
    scn_cluster_settings cluster;
    double calls_per_second;   /* intake limit; 0: unlimited */
    const char *admin_listen;  /* "127.0.0.1:8080" */
    /* The admin API's bearer token: a file only its owner may read
     * (resolved), or the name of an environment variable; NULL: none. */
    const char *admin_token_file, *admin_token_env;
    /* Where the sources of the revisions serve loads are kept (resolved);
     * NULL: .callroute-revisions next to the file. */
    const char *admin_revisions;
    /* settings.admin.editor: false turns GET /editor/ off. */
    bool admin_editor_off;
    /* settings.sip.auth_failures: this many failed digest attempts from one
     * address within the window ban it (silently ignored) for ban seconds. */
    int auth_fail_max;         /* 0: never ban */
    double auth_fail_window, auth_ban;
    /* settings.sip.flood: requests that start something (INVITE, REGISTER,
     * OPTIONS...) per source address, gateways exempt; over it they are
     * dropped unanswered or answered 503. */
    /* settings.sip.session_timer (RFC 4028): dialogs are refreshed every
     * expires/2 (re-INVITE or UPDATE) and ended when the refresher fails. */
    double session_expires;    /* seconds; 0: no session timer */
    double session_min_se;
    double flood_rate;         /* per second; 0: no limit */
    double flood_burst;
    bool flood_drop;
    /* settings.park: the slots `park` takes the first free one of, music
     * while parked (resolved below sounds; NULL: none) */
    int park_first, park_last;
    const char *park_music;
    /* settings.join.group: the users who may listen, whisper and barge */
    const char *join_group;
} scn_settings;

/* A prompt file named by literal text (play.file: "menu.wav"), resolved
 * below settings.media.sounds: `callroute check` looks at it (the scenario
 * layer reads no file but the scenario). */
typedef struct scn_prompt_ref {
    struct scn_prompt_ref *next;
    const char *name;          /* as written */
    const char *path;          /* resolved */
    const char *file, *at;     /* where: the scenario file and the node's path */
    unsigned line, col;
} scn_prompt_ref;

typedef struct scn_program {
    int refcount;
    cr_arena arena;            /* owns everything below */
    const char *file;          /* the top file as given */
    const char *dir;           /* its directory: relative paths resolve here */
    scn_settings settings;
    scn_user *users;           size_t user_count;
    scn_group *groups;         size_t group_count;
    scn_gateway *gateways;     size_t gateway_count;
    scn_queue *queues;         size_t queue_count;
    scn_database *databases;   size_t database_count;
    scn_conference *conferences; size_t conference_count;
    scn_named_scenario *scenarios; size_t scenario_count;
    scn_route *routes;         size_t route_count;     /* file order */
    size_t action_count;       /* every action, nested ones included */
    /* Things built on top of the program by higher layers (the route index)
     * hang here with their destructor, so they live and die with it. */
    void *route_index;
    void (*route_index_free)(void *);
    /* Released with the program (PCRE2 codes and the like). */
    struct scn_release *releases;
    struct scn_lookup *lookup;   /* private: name indexes for the lookups below */
    long revision;             /* set by the loader of a running service (1, 2, ...); 0 */
    scn_prompt_ref *prompts;   /* literal prompt names, in reverse file order */
    /* The INVITE headers a call keeps for sip.header.* (header_reads.c):
     * what follows each "sip.header." in the scenario's text; ANY when a
     * name is built at run time. Not KNOWN (a program not compiled from a
     * scenario): every header. */
    bool header_reads_known, header_reads_any;
    const char **header_reads; size_t header_read_count;
} scn_program;

struct scn_node;
/* Notes which headers P's scenario (ROOT) can read (header_reads.c). */
void scn_note_header_reads(scn_program *p, const struct scn_node *root);
/* Whether a call of P must keep the INVITE header NAME: its variable
 * sip.header.NAME may be read. */
bool scn_program_reads_header(const scn_program *p, const char *name);

/* Loads, validates and compiles FILE using the application REGISTRY
 * (NULL-terminated array of family tables, each ending in APP_END). NULL when any error was reported;
 * a program that fails is never half-loaded. *UNREADABLE as in scn_load_file. */
scn_program *scn_program_load(const char *file, const struct app_def *const *registry,
                              struct scn_diags *diags, bool *unreadable);
/* TEXT compiled as if it were the content of FILE (scn_load_text: its
 * includes and relative paths resolve as FILE's would; diagnostics name
 * FILE). Nothing is written: serve validates a new text with it, and
 * compiles exactly the bytes it read (scn_read_source) so a revision's
 * source is what runs. */
scn_program *scn_program_load_text(const char *file, const char *text, size_t len,
                                   const struct app_def *const *registry, struct scn_diags *diags);
/* The same from memory (NAME in diagnostics; no includes): tests, fuzzing. */
scn_program *scn_program_load_buffer(const char *name, const char *buf, size_t len,
                                     const struct app_def *const *registry,
                                     struct scn_diags *diags);
scn_program *scn_program_ref(scn_program *p);
void scn_program_unref(scn_program *p);

const scn_user *scn_program_user(const scn_program *p, const char *number);
const scn_group *scn_program_group(const scn_program *p, const char *name);
const scn_gateway *scn_program_gateway(const scn_program *p, const char *name);
const scn_queue *scn_program_queue(const scn_program *p, const char *name);
/* NUMBER matches G's number_pattern (config/telephony.c). */
#define scn_gateway_number_ok cfg_gateway_number_ok
const scn_database *scn_program_database(const scn_program *p, const char *name);
const scn_conference *scn_program_conference(const scn_program *p, const char *name);
const scn_named_scenario *scn_program_scenario(const scn_program *p, const char *name);
const scn_route *scn_program_route(const scn_program *p, const char *name);

/* Registers a cleanup run when the program is freed. */
void scn_program_on_release(scn_program *p, void (*fn)(void *), void *arg);

#endif
