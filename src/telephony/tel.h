/* tel.h — the telephony driver interface. The engine calls these operations
 * and receives the events below; it never includes a SIP header. Drivers:
 * `sim` (scripted parties, for simulate and tests) and `sip` (sofia-sip + RTP).
 *
 * Legs and operations are driver-owned handles; like libuv handles they are
 * freed by the driver only after the engine has released them.
 *
 * What the engine (src/engine/) relies on:
 * - Events may be raised from any loop callback. The engine never calls
 *   back into the driver synchronously from inside an event for anything
 *   but the operations below, and it may call leg_release for a leg from
 *   inside that leg's own event callback: the driver must not touch the
 *   leg after the callback returns in that case.
 * - incoming() returning false: the driver rejects the call (with
 *   *reject_code) and frees the leg itself; the engine keeps no reference.
 * - A leg the engine hung up (hangup) raises no further events; the engine
 *   still calls leg_release for it.
 * - Outgoing legs: TRYING is optional; RINGING/EARLY_MEDIA may repeat;
 *   ANSWER once; an unanswered leg ends with BUSY (486/600), FAILED (the
 *   final SIP code, e.g. 404, 480, 503) or HANGUP (the callee declined:
 *   sip_code 603 or what was seen). HANGUP on an answered leg ends it.
 *   HOLD/UNHOLD/DTMF/TRANSFER may come from either leg once answered.
 * - An answered outgoing leg may become a call's own (originate): the
 *   engine calls leg_set_user with the call, and the leg's later events go
 *   to it. The engine never calls answer() or ringing() on an outgoing leg;
 *   bridge() may join two outgoing legs.
 * - Media operations: NULL means the operation could not start; a failure
 *   found later (a missing prompt) is reported through the callback with
 *   status < 0 and a message, never synchronously from inside play().
 *   The engine passes interruptible = false and interrupts prompts itself
 *   on TEL_EV_DTMF events (driver-independent); a driver may ignore it.
 *   PATH (play, record) is final: resolved once by the engine below its
 *   settings directory (eng_file_path); a driver opens it as it is and
 *   joins nothing to it. */
#ifndef TEL_H
#define TEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tel_driver tel_driver;
typedef struct tel_leg tel_leg;
typedef struct tel_op tel_op;
struct cfg_gateway;
struct cfg_user;

#define TEL_EVENTS(X)                       \
    X(TRYING, "trying")                     \
    X(RINGING, "ringing")                   \
    X(EARLY_MEDIA, "early_media")           \
    X(ANSWER, "answer")                     \
    X(BUSY, "busy")                         \
    X(FAILED, "failed")                     \
    X(HANGUP, "hangup")                     \
    X(HOLD, "hold")                         \
    X(UNHOLD, "unhold")                     \
    X(DTMF, "dtmf")                         \
    X(TRANSFER, "transfer")

typedef enum {
#define TEL_EV_ENUM(e, s) TEL_EV_##e,
    TEL_EVENTS(TEL_EV_ENUM)
#undef TEL_EV_ENUM
    TEL_EV__COUNT
} tel_event_kind;
extern const char *const tel_event_names[];

typedef struct tel_event {
    tel_event_kind kind;
    int sip_code;            /* BUSY/FAILED/HANGUP: the SIP status (486, 480, 503...) */
    const char *cause;       /* HANGUP: normal|busy|... */
    bool by_system;          /* HANGUP: the driver ended the call itself (shutdown,
                                no media, session timer), not the far side */
    char digit;              /* DTMF */
    const char *refer_to;    /* TRANSFER: the target the peer asked for */
    const char *display_name;   /* ANSWER: the answering party's name as its answer
                                   gave it (SIP: the 200's To or Contact display
                                   name), printable text; NULL: none */
} tel_event;

/* What the driver knows about a new incoming call. */
typedef struct tel_call_info {
    const char *call_id;
    const char *caller_number, *caller_name, *called_number;
    const char *source;      /* gateway name, or "user:101" */
    /* SIP headers as name/value pairs (for sip.header.<Name>). */
    const char *const *header_names;
    const char *const *header_values;
    size_t header_count;
} tel_call_info;

typedef enum { TEL_DIAL_USER, TEL_DIAL_GATEWAY, TEL_DIAL_URI } tel_dial_kind;

typedef struct tel_dial_req {
    tel_dial_kind kind;
    const char *target;      /* user number, dialled number, or SIP URI */
    const char *gateway;     /* TEL_DIAL_GATEWAY: the gateway's name */
    const char *caller_id, *caller_name;
    tel_leg *from;           /* the caller's leg (for media and early media) */
    /* The gateway or user as the calling call's program defines them
     * (its URI, credentials, number pattern, symmetric RTP): a reload
     * never re-points the dial of a call already running. NULL: the
     * driver looks the name up in the program it was given last. What is
     * live state, not configuration (registrations), stays the driver's. */
    const struct cfg_gateway *gateway_conf;
    const struct cfg_user *user_conf;
} tel_dial_req;

/* The engine's side: the driver calls these. */
typedef struct tel_handler {
    /* A new incoming call; the engine takes it (sets the leg's user data).
     * Returning false rejects it (e.g. no route: the driver answers 404). */
    bool (*incoming)(void *eng, tel_leg *leg, const tel_call_info *info, int *reject_code);
    /* Something happened on a leg (incoming or dialled). */
    void (*event)(void *eng, tel_leg *leg, void *leg_user, const tel_event *ev);
    /* An instant message outside any call (SIP MESSAGE): INFO as for a call
     * (CALL_ID is the request's), TEXT its body (LEN bytes, not
     * NUL-terminated text from the network; CONTENT_TYPE its type). The
     * engine runs a `message` route for it, with no leg. False rejects it
     * with *REJECT_CODE (404: no route). May be NULL (messages refused). */
    bool (*message)(void *eng, const tel_call_info *info, const char *content_type, const char *text,
                    size_t len, int *reject_code);
    /* USER's voicemail box: false when it has none; else its message
     * counts as far as known now (a box not read yet counts 0: the engine
     * calls mwi() once it knows). For the first NOTIFY of a subscription. */
    bool (*mailbox)(void *eng, const char *user, unsigned *new_, unsigned *old);
    /* Whether the engine keeps the header NAME of an incoming call or
     * message (tel_call_info's headers): a driver may leave the others out
     * and save the work of encoding them. NULL: it keeps them all. */
    bool (*header_wanted)(void *eng, const char *name);
    void *eng;
} tel_handler;

/* A media operation finished: STATUS 0 ok, <0 error (MSG says why);
 * DIGIT is the DTMF digit that interrupted it, or 0. */
typedef void (*tel_op_done_cb)(void *arg, int status, const char *msg, char digit);

typedef enum { TEL_TONE_RINGBACK, TEL_TONE_BUSY, TEL_TONE_BEEP } tel_tone;

/* The beep before a recording (record with beep): every driver's is this long. */
#define TEL_BEEP_SECONDS 0.25

/* The hangup code for an unanswered outgoing leg whose dial another leg
 * answered (SIP: CANCEL with Reason cause=200, RFC 3326), so phones do not
 * list it as a missed call. */
#define TEL_ANSWERED_ELSEWHERE 200

/* ---- a leg in a mix -------------------------------------------------------
 * Legs of any calls that share a ROOM hear the room's mix instead of a
 * bridged peer (conference rooms; listen, whisper and barge on a call): each
 * hears every other member it may (the flags), never itself, and its own
 * prompts (play, tone, play_pcm on that leg) added to that. ROOM is an id
 * the engine makes up (printable, at most TEL_ROOM_MAX bytes); a room
 * exists while it has members. A bridge the leg has is suspended while it
 * is in a room and comes back when both bridged legs have left (the engine
 * still bridges and unbridges as before). Docs: docs/decisions/mixing.md. */
#define TEL_ROOM_MAX 96
enum {
    TEL_MIX_MUTED = 1u << 0,           /* nobody hears it */
    TEL_MIX_DEAF = 1u << 1,            /* it hears nobody */
    TEL_MIX_WHISPER = 1u << 2,         /* only WHISPER_TARGET members hear it */
    TEL_MIX_WHISPER_TARGET = 1u << 3,  /* hears WHISPER members besides the rest */
};

/* ---- instant messages (SIP MESSAGE) ----------------------------------------
 * A message to a user goes to each of its registered phones (delivered when
 * one takes it), to a number through a gateway, or to a SIP URI. */
typedef struct tel_message_req {
    tel_dial_kind kind;
    const char *target;        /* user number, number, or SIP URI */
    const char *gateway;       /* TEL_DIAL_GATEWAY: the gateway's name */
    const struct cfg_gateway *gateway_conf;   /* as tel_dial_req's */
    const char *from;          /* the sender's number (From user part) */
    const char *text;          /* text/plain; charset=UTF-8 */
} tel_message_req;
typedef struct tel_msg tel_msg;
/* The outcome: SIP_CODE the final answer (a 2xx: delivered; for a user,
 * the best of its phones'), WHY a few words when it failed (NULL when
 * delivered). Never called from inside message(). */
typedef void (*tel_message_cb)(void *arg, int sip_code, const char *why);

typedef struct tel_driver_ops {
    const char *name;
    void (*set_handler)(tel_driver *d, const tel_handler *h);
    void (*leg_set_user)(tel_driver *d, tel_leg *leg, void *user);
    int (*answer)(tel_driver *d, tel_leg *leg);
    int (*ringing)(tel_driver *d, tel_leg *leg, bool early_media);
    /* Before answer: reject with SIP_CODE (an outgoing leg: cancel it; with
     * TEL_ANSWERED_ELSEWHERE, because another leg of the dial answered);
     * after: BYE. */
    int (*hangup)(tel_driver *d, tel_leg *leg, int sip_code);
    /* Starts an outgoing leg; its progress arrives as events with USER. */
    tel_leg *(*dial)(tel_driver *d, const tel_dial_req *req, void *user);
    int (*bridge)(tel_driver *d, tel_leg *a, tel_leg *b);
    /* LEG (incoming, not answered) does not anchor media (`media: bypass`):
     * its SDP offer goes to the legs dialled for it, their answer comes
     * back to it, re-INVITEs pass through, and no RTP goes through the
     * driver (play, record... fail on it). Called before its script runs.
     * 0, or -1: it stays anchored (the driver says why). May be NULL. */
    int (*media_bypass)(tel_driver *d, tel_leg *leg);
    int (*unbridge)(tel_driver *d, tel_leg *a, tel_leg *b);
    int (*transfer)(tel_driver *d, tel_leg *leg, const char *to);
    tel_op *(*play)(tel_driver *d, tel_leg *leg, const char *path, bool interruptible,
                    tel_op_done_cb cb, void *arg);
    tel_op *(*tone)(tel_driver *d, tel_leg *leg, tel_tone tone, double seconds,
                    tel_op_done_cb cb, void *arg);
    /* Plays COUNT samples of 8 kHz mono audio (synthesised speech). PCM
     * stays the caller's: valid until the callback or op_cancel. */
    tel_op *(*play_pcm)(tel_driver *d, tel_leg *leg, const int16_t *pcm, size_t count,
                        tel_op_done_cb cb, void *arg);
    /* Records what LEG sends (after a beep of TEL_BEEP_SECONDS) until
     * max_seconds, op_cancel (the file is kept), the leg's end, or (SILENCE
     * > 0) that many seconds in which the leg sent nothing louder than
     * line noise: then it completes with status 0 (a recording the caller's
     * hangup ended is a good one). DTMF does not end it: the engine does
     * that. */
    tel_op *(*record)(tel_driver *d, tel_leg *leg, const char *path, double max_seconds,
                      bool beep, double silence, tel_op_done_cb cb, void *arg);
    /* Plays PATH (an 8 kHz mono WAV) to LEG over and over until op_cancel
     * (music while a caller waits in a queue, music on hold). While it
     * runs LEG hears it instead of its bridged peer: the relay into LEG
     * pauses and resumes afterwards. Completes (status 0) when the leg
     * ends; a file that cannot be played fails it later (status < 0). */
    tel_op *(*music)(tel_driver *d, tel_leg *leg, const char *path, tel_op_done_cb cb, void *arg);
    /* Message waiting (RFC 3842): user USER's voicemail box holds NEW_ new
     * and OLD old messages; its phones that subscribed to message-summary
     * are told, and with UNSOLICITED its other registered phones too. May
     * be NULL (no phones to tell). */
    void (*mwi)(tel_driver *d, const char *user, unsigned new_, unsigned old, bool unsolicited);
    /* Taps a bridged pair (record_call): every 20 ms FRAMES gets 160
     * samples of what A sends and 160 of what B sends, aligned in time
     * (silence for a side that sent nothing then), until op_cancel or
     * either leg ends (then DONE, status 0). */
    tel_op *(*tap)(tel_driver *d, tel_leg *a, tel_leg *b,
                   void (*frames)(void *arg, const int16_t *a, const int16_t *b, size_t n),
                   tel_op_done_cb done, void *arg);
    /* Stops an operation; its callback is not called afterwards. */
    void (*op_cancel)(tel_driver *d, tel_op *op);
    /* Puts LEG in the mix ROOM with FLAGS (TEL_MIX_*), or sets its flags
     * when it is there already; a leg is in one room at most (joining
     * another leaves the first). 0, or -1 (the leg has ended). */
    int (*mix_join)(tel_driver *d, tel_leg *leg, const char *room, unsigned flags);
    /* LEG leaves its room (none: nothing happens); a suspended bridge resumes. */
    void (*mix_leave)(tel_driver *d, tel_leg *leg);
    /* Sends a message; CB gets the outcome later. NULL: it could not start. */
    tel_msg *(*message)(tel_driver *d, const tel_message_req *req, tel_message_cb cb, void *arg);
    /* Stops waiting for it; CB is not called afterwards. */
    void (*message_cancel)(tel_driver *d, tel_msg *m);
    /* The engine is done with the leg (after hangup): the driver may free it. */
    void (*leg_release)(tel_driver *d, tel_leg *leg);
    void (*destroy)(tel_driver *d);
} tel_driver_ops;

struct tel_driver {
    const tel_driver_ops *ops;
};

#endif
