/* admin.h — the read-only admin API of `callroute serve`: HTTP on
 * settings.admin.listen (libmicrohttpd), run by serve's one loop.
 *
 *   GET /health          {"status":"ok","calls":N,"version":"..."}
 *   GET /calls           the live calls, then the recently finished ones
 *   GET /calls/CALL_ID   one call (live or among the last ADMIN_KEEP
 *                        finished) with its trace: the records of
 *                        `simulate --json`
 *   GET /refused         the last ADMIN_KEEP calls refused before a scenario
 *                        ran (a limit, no RTP port, shutdown, unknown
 *                        source), newest first; /health counts them by reason
 * Anything else is 404; a method other than GET/HEAD is 405. */
#ifndef CLI_ADMIN_H
#define CLI_ADMIN_H

#include <stddef.h>

#include "engine/engine.h"
#include "loop/loop.h"

#define ADMIN_KEEP 200            /* finished calls kept */
#define ADMIN_MAX_RECORDS 2000    /* trace records kept per call */
#define ADMIN_MAX_BYTES (512 * 1024)
/* Clients that open connections and never finish a request cannot keep
 * the API from others: at most this many connections, this many from one
 * address, each closed after this many seconds without progress. */
#define ADMIN_MAX_CONNECTIONS 64
#define ADMIN_MAX_PER_ADDRESS 32
#define ADMIN_IDLE_TIMEOUT 10

typedef struct admin admin;

/* Listens on ADDR: HOST:PORT, [IPV6]:PORT, :PORT or PORT (host 127.0.0.1).
 * NULL with ERR empty when ADDR is NULL, "" or "off" (disabled); NULL with
 * ERR set when it cannot listen. */
admin *admin_new(loop *l, const char *addr, char *err, size_t errlen);
/* Wraps EO's trace, call_start and call_done (whatever they were still runs)
 * so the admin API sees every call. Call before eng_engine_new. */
void admin_hook(admin *a, eng_options *eo);
int admin_port(const admin *a);
/* /health also reports what the SIP edge refused (sip_driver_stats). */
void admin_watch_sip(admin *a, tel_driver *sip);
/* Records a call refused before it reached a scenario (sip_options.refused). */
void admin_refused(admin *a, const char *call_id, const char *source, int code, const char *reason);
/* After eng_engine_free (live calls are forgotten, not touched). */
void admin_free(admin *a);

#endif
