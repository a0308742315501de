/* sip_tls.h — settings.sip.tls turned into what sofia's TLS transport reads
 * (sip_tls.c): the files checked, a private certificate directory made for
 * tport (agent.pem = certificate + key, cafile.pem = CAs), the verification
 * policy, and sofia's TLS complaints turned into our log lines. */
#ifndef SIP_TLS_H
#define SIP_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/sip.h>

#include "config/telephony.h"

struct sip_driver;

/* Where peers' certificates are checked when settings.sip.tls gives no ca. */
#define SIP_TLS_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* Why the PEM file PATH cannot serve as WHAT ("cert", "key", "ca"), or NULL
 * when it can: missing, unreadable, or holding no PEM block of that kind. */
const char *sip_tls_file_problem(const char *path, const char *what, char *buf, size_t n);

/* Every file of T checked; the first problem as "FILE:LINE:COL: ..." in ERR. */
bool sip_tls_check(const cfg_tls_settings *t, char *err, size_t n);

/* Makes a directory only we may read (under $TMPDIR, else /tmp) holding
 * agent.pem and cafile.pem from T; its path in DIR. sofia reads them when the
 * listener is created: remove it right after (sip_tls_dir_remove). */
bool sip_tls_dir_make(const cfg_tls_settings *t, char *dir, size_t n, char *err, size_t errlen);
void sip_tls_dir_remove(const char *dir);

/* Without a tls: listener (TLS false) sofia has no TLS to dial with: each
 * gateway that asks for it is named in a warning. */
void sip_tls_check_gateways(struct sip_driver *d, bool tls);

/* The Contact of our answers to SIP (an INVITE) that came over TLS from a
 * peer whose URIs are sip: (its Contact `sip:...;transport=tls`): in OUT,
 * `<sip:HOST[:PORT];transport=tls>`, HOST and PORT the Request-URI's (where
 * the peer reached us). Else false: sofia's own stays. sofia answers with a
 * sips: Contact (on loopback its only one), which RFC 3261 12.1.1 asks only
 * when the Request-URI, top Record-Route or (without one) Contact is sips:,
 * and which such a peer may not route its ACK and BYE to (baresip, libre:
 * ENOSYS). A host or port with characters no address has: false. */
bool sip_tls_answer_contact(const sip_t *sip, char *out, size_t n);

/* TPTAG_TLS_VERIFY_POLICY's value for T. */
unsigned sip_tls_policy(const cfg_tls_settings *t);

/* One line of sofia's transport log, read (sip_tls_log_parse). */
typedef enum {
    SIP_TLS_LOG_OTHER,
    SIP_TLS_LOG_CONNECT,       /* we open a connection to ADDR */
    SIP_TLS_LOG_ACCEPT,        /* a peer at ADDR connected */
    SIP_TLS_LOG_SETUP_FAILED,  /* the handshake failed (REASON: OpenSSL's) */
    SIP_TLS_LOG_CERT_ERROR,    /* a certificate did not verify (REASON) */
    SIP_TLS_LOG_CLOSE,         /* the connection to/from ADDR is closed */
} sip_tls_log_kind;
/* Pure: what LINE says, the transport's id in TP, the peer HOST:PORT in
 * ADDR, the reason in REASON. */
sip_tls_log_kind sip_tls_log_parse(const char *line, unsigned long *tp, char *addr, size_t an, char *reason,
                                   size_t rn);

/* sofia's transport log goes through D's log: a refused handshake (a
 * plain-text client, an untrusted certificate) becomes one warning naming
 * the peer, and dials waiting on a peer whose certificate did not verify
 * fail at once (sip_out_tls_failed) rather than time out. */
void sip_tls_log_attach(struct sip_driver *d);
void sip_tls_log_detach(void);

/* Around the creation of the tls: listener: sip_tls_ctx_catch before, and
 * sip_tls_ctx_caught after, which keeps the OpenSSL contexts sofia made
 * for it and sets T's min_version on them (false, said in ERR: none was
 * made, so neither min_version nor a reload could be honoured). */
void sip_tls_ctx_catch(void);
bool sip_tls_ctx_caught(const cfg_tls_settings *t, char *err, size_t n);
/* Lets go of the caught contexts (sip_tls_log_detach does it too). */
void sip_tls_ctx_release(void);

/* The program was reloaded (SIGHUP) with T: min_version set again and, if
 * the files changed, loaded and checked (the key must match the
 * certificate) and put into the listener for new connections; a bad set is
 * logged and the listener keeps the certificate it had. T without the
 * section (removed from the file): said, and nothing changed. */
void sip_tls_reloaded(struct sip_driver *d, const cfg_tls_settings *t);

#endif
