/* cond_int.h — private to the condition language (cond*.c): schedules and
 * the time-zone cache. Not for other layers; they use cond.h. */
#ifndef SCN_COND_INT_H
#define SCN_COND_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "scenario/cond.h"
#include "util/strbuf.h"

struct scn_compile_ctx;

/* Compiles the mapping under `schedule:`; reports through CX (whose path
 * already names `schedule`). NULL on error. */
scn_schedule *scn_schedule_compile(struct scn_compile_ctx *cx, const scn_node *n);
/* True when NOW falls in the schedule. When it does not and WHY is given,
 * appends "schedule days mon-fri (saw sat 2026-11-28 10:00 Europe/Moscow)". */
bool scn_schedule_eval(const scn_schedule *s, double now, cr_strbuf *why);
/* Appends " (saw sat 2026-11-28 10:00 Europe/Moscow)" for NOW. */
void scn_schedule_saw(const scn_schedule *s, double now, cr_strbuf *out);
/* Appends a short description ("schedule days mon-fri time 09:00-18:00"). */
void scn_schedule_describe(const scn_schedule *s, cr_strbuf *out);

/* Time zones (cond_tz.c): a cache of UTC offsets per zone. */
typedef struct scn_tz scn_tz;
/* True when NAME names a zone in the system's tzdata. */
bool scn_tz_exists(const char *name);
/* The zone NAME (interned, process-wide); NULL: the process's local zone. */
scn_tz *scn_tz_get(const char *name);
/* Its name; NULL for the local zone. */
const char *scn_tz_name(const scn_tz *z);
/* Seconds east of UTC in zone Z at time T. Thread-safe. */
long scn_tz_offset(scn_tz *z, time_t t);

#endif
