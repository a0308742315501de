/* sip_peek.h — what a SIP datagram is, read from its first bytes before
 * sofia-sip parses it (the receive filter sees every UDP datagram): a
 * request and its method, or a response and its status code. For the
 * counters GET /metrics shows, so the answer is always one of a bounded
 * set: a method we do not know, or bytes that are no SIP at all, are
 * SIP_PM_OTHER. A pure function on the bytes (tests/unit/test_sip_peek.c,
 * tests/fuzz/fuzz_sip_peek.c). */
#ifndef SIP_PEEK_H
#define SIP_PEEK_H

#include <stddef.h>

#define SIP_PEEK_METHODS(X) \
    X(INVITE)          \
    X(ACK)             \
    X(BYE)             \
    X(CANCEL)          \
    X(OPTIONS)         \
    X(REGISTER)        \
    X(PRACK)           \
    X(UPDATE)          \
    X(INFO)            \
    X(REFER)           \
    X(NOTIFY)          \
    X(SUBSCRIBE)       \
    X(MESSAGE)         \
    X(PUBLISH)

typedef enum {
#define SIP_PM_ENUM(m) SIP_PM_##m,
    SIP_PEEK_METHODS(SIP_PM_ENUM)
#undef SIP_PM_ENUM
    SIP_PM_OTHER,
    SIP_PM_COUNT
} sip_peek_method;
/* "INVITE", ..., "other" */
extern const char *const sip_peek_method_names[SIP_PM_COUNT];

#define SIP_PEEK_CODE_MIN 100
#define SIP_PEEK_CODE_MAX 699

typedef enum {
    SIP_PEEK_NOTHING,          /* empty or white space: a keep-alive */
    SIP_PEEK_REQUEST,          /* *METHOD is set */
    SIP_PEEK_RESPONSE,         /* *CODE is set, SIP_PEEK_CODE_MIN..SIP_PEEK_CODE_MAX */
} sip_peek_kind;

/* The N bytes at DATA: a status line "SIP/2.0 CODE " (the version in any
 * case, CODE three digits from 100 to 699) is a response; anything else
 * that is not white space is a request, of a known method when it starts
 * with one and a space (methods are case-sensitive), else SIP_PM_OTHER. */
sip_peek_kind sip_peek(const void *data, size_t n, sip_peek_method *method, int *code);

#endif
