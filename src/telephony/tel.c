/* tel.c — names of the driver events, in enum order (one X-macro list). */
#include "telephony/tel.h"

const char *const tel_event_names[] = {
#define TEL_EV_NAME(e, s) s,
    TEL_EVENTS(TEL_EV_NAME)
#undef TEL_EV_NAME
    NULL};
