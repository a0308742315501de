/* time.c — ISO 8601 (time.h). */
#include "util/time.h"

#include <ctype.h>
#include <stdlib.h>
#include <time.h>

static bool digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return false;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return true;
}

bool cr_parse_time(const char *s, double *epoch, int *utc_offset, bool *has_offset)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    double frac = 0;
    if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' || !digits(&s, 2, &d))
        return false;
    if (*s == 'T' || *s == 't' || *s == ' ') {
        s++;
        if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi))
            return false;
        if (*s == ':') {
            s++;
            if (!digits(&s, 2, &sec))
                return false;
            if (*s == '.' && isdigit((unsigned char)s[1])) {
                char *end;
                frac = strtod(s, &end);
                s = end;
            }
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
                    .tm_sec = sec, .tm_isdst = -1};
    if (*s == '\0') {
        time_t t = mktime(&tm);
        if (t == (time_t)-1)
            return false;
        *epoch = (double)t + frac;
        *utc_offset = (int)tm.tm_gmtoff;
        *has_offset = false;
        return true;
    }
    int off = 0;
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s++ == '-' ? -1 : 1, oh, om = 0;
        if (!digits(&s, 2, &oh))
            return false;
        if (*s == ':')
            s++;
        if (*s && !digits(&s, 2, &om))
            return false;
        if (oh > 23 || om > 59)
            return false;
        off = sign * (oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (*s)
        return false;
    *epoch = (double)timegm(&tm) - off + frac;
    *utc_offset = off;
    *has_offset = true;
    return true;
}
