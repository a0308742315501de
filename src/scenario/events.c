#include "scenario/events.h"

#include <string.h>

const char *const scn_event_names[] = {
#define N(e, s, c, d) s,
    SCN_EVENTS(N)
#undef N
    NULL};

static const unsigned char is_call[] = {
#define C(e, s, c, d) c,
    SCN_EVENTS(C)
#undef C
};

static const unsigned char is_dial[] = {
#define D(e, s, c, d) d,
    SCN_EVENTS(D)
#undef D
};

/* Keep only the names whose flag is 1. */
#define KEEP_1(s) s,
#define KEEP_0(s)
#define KEEP(flag, s) KEEP_##flag(s)

const char *const scn_call_event_names[] = {
#define C(e, s, c, d) KEEP(c, s)
    SCN_EVENTS(C)
#undef C
    NULL};

const char *const scn_dial_event_names[] = {
#define D(e, s, c, d) KEEP(d, s)
    SCN_EVENTS(D)
#undef D
    NULL};

int scn_event_lookup(const char *name)
{
    for (int i = 0; i < SCN_EV__COUNT; i++)
        if (strcmp(scn_event_names[i], name) == 0)
            return i;
    return -1;
}

int scn_event_is_call(int ev) { return ev >= 0 && ev < SCN_EV__COUNT && is_call[ev]; }
int scn_event_is_dial(int ev) { return ev >= 0 && ev < SCN_EV__COUNT && is_dial[ev]; }
