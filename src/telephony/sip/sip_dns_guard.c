/* sip_dns_guard.c — sofia-sip never resolves a name on the loop thread.
 *
 * sofia sends a response to the host of the request's Via (or its maddr)
 * and resolves it with a blocking getaddrinfo(): an answer to a malformed
 * request (400, 505) has no received= to fall back on, and any request may
 * carry `maddr=some.name`. A burst of such requests with random names froze
 * SIP, RTP and the admin API for as long as the resolver took to give up,
 * once per packet. sofia offers no switch for it, so getaddrinfo() is
 * interposed here: called from libsofia-sip-ua while the guard is on, it
 * resolves numeric addresses only and a name fails at once (EAI_NONAME; the
 * response is not sent, as for any address that does not resolve).
 * sofia's own outgoing requests resolve names through sres, asynchronously,
 * and are not affected; neither is anyone else (libcurl, libpq, our own
 * lookups of gateway names at load): only calls from sofia's library are
 * restricted (docs/decisions/sip-dns-guard.md). */
#include <dlfcn.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "telephony/sip/sip_int.h"

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *,
                              struct addrinfo **);

static atomic_bool guard_on;
static atomic_ulong names_refused;

void sip_dns_guard(bool on) { atomic_store(&guard_on, on); }
unsigned long sip_dns_guard_refused(void) { return atomic_load(&names_refused); }

/* CALLER's code lies in libsofia-sip-ua. */
static bool from_sofia(const void *caller)
{
    Dl_info info;
    return dladdr(caller, &info) && info.dli_fname && strstr(info.dli_fname, "libsofia-sip-ua");
}

int getaddrinfo(const char *restrict node, const char *restrict service,
                const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
    static getaddrinfo_fn real;
    if (!real)
        real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    if (!real)
        return EAI_SYSTEM;
    if (node && atomic_load(&guard_on) && from_sofia(__builtin_return_address(0))) {
        struct addrinfo numeric = {0};
        if (hints)
            numeric = *hints;
        numeric.ai_flags |= AI_NUMERICHOST;
        int rc = real(node, service, &numeric, res);
        if (rc == EAI_NONAME)
            atomic_fetch_add(&names_refused, 1);
        return rc;
    }
    return real(node, service, hints, res);
}
