/* version.h — the release, for --version and the admin API. */
#ifndef UTIL_VERSION_H
#define UTIL_VERSION_H

#define CALLROUTE_VERSION "0.1.0"

#endif
