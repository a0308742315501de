/* sip_srtp_ossl.h — libsrtp2's AES-128-ICM and HMAC-SHA1 on OpenSSL
 * (sip_srtp_ossl.c); private to sip_srtp.c. */
#ifndef CALLROUTE_SIP_SRTP_OSSL_H
#define CALLROUTE_SIP_SRTP_OSSL_H

#include <stdbool.h>

#define SRTP_OSSL_AES_ICM_DESCRIPTION "AES-128 counter mode on OpenSSL (callroute)"
#define SRTP_OSSL_HMAC_DESCRIPTION "HMAC-SHA1 on OpenSSL (callroute)"

/* After srtp_init, before the first context: libsrtp2's AES_ICM_128 and
 * HMAC_SHA1 become ours, once each has passed libsrtp2's known-answer
 * tests. false: one or both stay NSS's. */
bool srtp_ossl_install(void);

#endif
