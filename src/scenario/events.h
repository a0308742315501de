/* events.h — the event names of the language, one list (X-macro) so the
 * validator, the engine and the docs agree. */
#ifndef SCN_EVENTS_H
#define SCN_EVENTS_H

/* X(ENUM, "name", call_event, dial_event):
 * call_event: valid in `event.on`; dial_event: valid as a `dial.on` (and
 * `originate.on`) key. `app` is raised from outside the call (the admin
 * API's POST /calls/ID/events, simulate --app-event). */
#define SCN_EVENTS(X)                               \
    X(TRYING, "trying", 0, 1)                       \
    X(RINGING, "ringing", 1, 1)                     \
    X(EARLY_MEDIA, "early_media", 1, 1)             \
    X(ANSWER, "answer", 1, 1)                       \
    X(BUSY, "busy", 0, 1)                           \
    X(NO_ANSWER, "no_answer", 0, 1)                 \
    X(FAILED, "failed", 0, 1)                       \
    X(NOT_ANSWERED, "not_answered", 0, 1)           \
    X(HOLD, "hold", 1, 1)                           \
    X(UNHOLD, "unhold", 1, 1)                       \
    X(DTMF, "dtmf", 1, 0)                           \
    X(BRIDGE, "bridge", 1, 0)                       \
    X(UNBRIDGE, "unbridge", 1, 0)                   \
    X(TRANSFER, "transfer", 1, 0)                   \
    X(APP, "app", 1, 0)                             \
    X(CONFERENCE_JOIN, "conference_join", 1, 0)     \
    X(CONFERENCE_LEAVE, "conference_leave", 1, 0)   \
    X(HANGUP, "hangup", 1, 1)

typedef enum {
#define SCN_EVENT_ENUM(e, s, c, d) SCN_EV_##e,
    SCN_EVENTS(SCN_EVENT_ENUM)
#undef SCN_EVENT_ENUM
    SCN_EV__COUNT
} scn_event;

extern const char *const scn_event_names[];       /* NULL-terminated, enum order */
extern const char *const scn_call_event_names[];  /* NULL-terminated: valid in event.on */
extern const char *const scn_dial_event_names[];  /* NULL-terminated: valid in dial.on */
int scn_event_lookup(const char *name);           /* -1 when unknown */
int scn_event_is_call(int ev);
int scn_event_is_dial(int ev);

#endif
