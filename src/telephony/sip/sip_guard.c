/* sip_guard.c — two things sofia-sip does with what the network sends, done
 * our way, by interposing the libc calls it makes (docs/decisions/sip-guard.md):
 *
 * - Names are never resolved on the loop. sofia sends a response to the
 *   host of the request's Via (or its maddr) and resolves it with a
 *   blocking getaddrinfo(): an answer to a malformed request (400, 505) has
 *   no received= to fall back on, and any request may carry
 *   `maddr=some.name`. A burst of those with random names froze SIP, RTP
 *   and the admin API for as long as the resolver took, once per packet.
 *   Called from libsofia-sip-ua while the guard is on, getaddrinfo()
 *   resolves numeric addresses only; a name fails at once (EAI_NONAME) and
 *   sofia drops that response, as for any address it cannot resolve.
 *   sofia's outgoing requests resolve names through sres, asynchronously.
 *
 * - A flood is dropped before it is parsed. Each UDP datagram sofia
 *   receives (recvmsg) is shown to the driver's filter with its source; a
 *   datagram the filter refuses is consumed and reported to sofia as "no
 *   data yet", so it is never parsed or answered: the only silent drop
 *   sofia allows (its NUA answers a request the application drops).
 *
 * Everyone else (libcurl's resolver thread, libpq, our own lookups of
 * gateway names at load, RTP sockets) goes straight to libc.
 *
 * Two more interposed calls only save work, answering as glibc does for
 * every caller:
 * - inet_ntop() of an IPv4 address, which sofia makes for the source of
 *   every datagram it receives (nine a call): sip_ntop4; other families
 *   go to libc.
 * - __snprintf_chk(), sofia's snprintf (built with _FORTIFY_SOURCE), which
 *   prints every request line, status line, CSeq and Content-Length (23 a
 *   call): sip_fmt_simple for its few formats; any other format, a NULL
 *   string or a size larger than the buffer (libc's overflow abort) go to
 *   libc's __vsnprintf_chk. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_fmt.h"
#include "telephony/sip/sip_numeric_ai.h"

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, ...);
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, va_list ap);

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *,
                              struct addrinfo **);
typedef ssize_t (*recvmsg_fn)(int, struct msghdr *, int);
typedef const char *(*inet_ntop_fn)(int, const void *, char *, socklen_t);

static atomic_bool dns_guard_on;
static atomic_ulong names_refused;
static sip_recv_filter_fn recv_filter;
static void *recv_filter_arg;

void sip_dns_guard(bool on) { atomic_store(&dns_guard_on, on); }
unsigned long sip_dns_guard_refused(void) { return atomic_load(&names_refused); }

void sip_guard_recv_filter(sip_recv_filter_fn fn, void *arg)
{
    recv_filter = fn;
    recv_filter_arg = arg;
}

/* CALLER's code lies in libsofia-sip-ua. The calls come from a handful of
 * places in sofia, so answers are remembered by address (dladdr walks the
 * loaded objects; recvmsg runs for every datagram). */
static bool from_sofia(const void *caller)
{
    enum { SITES = 16 };
    static _Thread_local struct { const void *at; bool sofia; } seen[SITES];
    static _Thread_local unsigned next;
    for (unsigned i = 0; i < SITES; i++)
        if (seen[i].at == caller)
            return seen[i].sofia;
    Dl_info info;
    bool sofia = dladdr(caller, &info) && info.dli_fname && strstr(info.dli_fname, "libsofia-sip-ua");
    seen[next % SITES].at = caller;
    seen[next % SITES].sofia = sofia;
    next++;
    return sofia;
}

int getaddrinfo(const char *restrict node, const char *restrict service,
                const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
    static getaddrinfo_fn real;
    if (!real)
        real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    if (!real)
        return EAI_SYSTEM;
    if (node && atomic_load(&dns_guard_on) && from_sofia(__builtin_return_address(0))) {
        struct addrinfo numeric = {0};
        if (hints)
            numeric = *hints;
        numeric.ai_flags |= AI_NUMERICHOST;
        /* sofia resolves the destination of every message it sends, a
         * numeric address: answered without libc's resolver (~1,100
         * instructions each, six a call) */
        if (sip_numeric_addrinfo(node, service, &numeric, res) == 0)
            return 0;
        int rc = real(node, service, &numeric, res);
        if (rc == EAI_NONAME)
            atomic_fetch_add(&names_refused, 1);
        return rc;
    }
    return real(node, service, hints, res);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    static recvmsg_fn real;
    if (!real)
        real = (recvmsg_fn)dlsym(RTLD_NEXT, "recvmsg");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    ssize_t n = real(fd, msg, flags);
    if (n <= 0 || !recv_filter || (flags & MSG_PEEK) || !msg->msg_name || msg->msg_namelen < sizeof(struct sockaddr_in) ||
        ((struct sockaddr *)msg->msg_name)->sa_family != AF_INET || msg->msg_iovlen < 1 ||
        !from_sofia(__builtin_return_address(0)))
        return n;
    const struct iovec *v = &msg->msg_iov[0];
    size_t seen = (size_t)n < v->iov_len ? (size_t)n : v->iov_len;
    if (recv_filter(recv_filter_arg, msg->msg_name, v->iov_base, seen))
        return n;
    errno = EAGAIN;   /* sofia: nothing to read yet; the datagram is gone */
    return -1;
}

const char *inet_ntop(int af, const void *restrict src, char *restrict dst, socklen_t size)
{
    if (af == AF_INET)
        return sip_ntop4(src, dst, size);
    static inet_ntop_fn real;
    if (!real)
        real = (inet_ntop_fn)dlsym(RTLD_NEXT, "inet_ntop");
    if (!real) {
        errno = ENOSYS;
        return NULL;
    }
    return real(af, src, dst, size);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = -1;
    if (maxlen <= slen) {
        va_list fast;
        va_copy(fast, ap);
        n = sip_fmt_simple(s, maxlen, format, fast);
        va_end(fast);
    }
    if (n < 0)
        n = __vsnprintf_chk(s, maxlen, flag, slen, format, ap);
    va_end(ap);
    return n;
}
