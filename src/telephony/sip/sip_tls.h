/* sip_tls.h — settings.sip.tls turned into what sofia's TLS transport reads
 * (sip_tls.c): the files checked, a private certificate directory made for
 * tport (agent.pem = certificate + key, cafile.pem = CAs), the verification
 * policy, and sofia's TLS complaints turned into our log lines. */
#ifndef SIP_TLS_H
#define SIP_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario/program.h"

struct sip_driver;

/* Where peers' certificates are checked when settings.sip.tls gives no ca. */
#define SIP_TLS_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* Why the PEM file PATH cannot serve as WHAT ("cert", "key", "ca"), or NULL
 * when it can: missing, unreadable, or holding no PEM block of that kind. */
const char *sip_tls_file_problem(const char *path, const char *what, char *buf, size_t n);

/* Every file of T checked; the first problem as "FILE:LINE:COL: ..." in ERR. */
bool sip_tls_check(const scn_tls_settings *t, char *err, size_t n);

/* Makes a directory only we may read (under $TMPDIR, else /tmp) holding
 * agent.pem and cafile.pem from T; its path in DIR. sofia reads them when the
 * listener is created: remove it right after (sip_tls_dir_remove). */
bool sip_tls_dir_make(const scn_tls_settings *t, char *dir, size_t n, char *err, size_t errlen);
void sip_tls_dir_remove(const char *dir);

/* TPTAG_TLS_VERIFY_POLICY's value for T. */
unsigned sip_tls_policy(const scn_tls_settings *t);

/* sofia's transport log goes through D's log: a refused handshake (a
 * plain-text client, an untrusted certificate) becomes one warning. */
void sip_tls_log_attach(struct sip_driver *d);
void sip_tls_log_detach(void);

#endif
