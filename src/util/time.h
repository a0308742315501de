/* time.h — ISO 8601 times as the command line and the admin API take them. */
#ifndef UTIL_TIME_H
#define UTIL_TIME_H

#include <stdbool.h>

/* YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|+HH[:MM]|-HH[:MM]] into seconds since
 * the epoch. With an offset, *UTC_OFFSET is it (seconds east of UTC) and
 * *HAS_OFFSET true; without one the time is local (a day alone: its local
 * midnight). */
bool cr_parse_time(const char *s, double *epoch, int *utc_offset, bool *has_offset);

#endif
