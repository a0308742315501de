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
 *   libc's __vsnprintf_chk.
 *
 * And two system calls of sofia's per UDP message are not made (a system
 * call costs ~1 us on a paravirtualised VM; sip-core.md, "Two system calls
 * a message fewer"):
 * - su_getmsgsize() (ioctl FIONREAD) before each datagram tport_recv_dgram
 *   receives: the datagram is received then, into ahead_dgram, its size
 *   answered, and sofia's recvmsg that follows is given it.
 * - su_soerror() (getsockopt SO_ERROR) before each datagram
 *   tport_send_dgram sends, which clears an error an earlier datagram's
 *   ICMP left pending: not asked; a send that fails is made once more
 *   instead (a pending error fails the send that meets it, and clears it). */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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
typedef issize_t (*getmsgsize_fn)(su_socket_t);
typedef int (*soerror_fn)(su_socket_t);
typedef issize_t (*vsend_fn)(su_socket_t, su_iovec_t const *, isize_t, int, su_sockaddr_t const *, socklen_t);

/* The definitions ours stand in front of (libc's, or sofia's own), found
 * once before main (no thread races a lazy lookup) or at the first call
 * if one comes sooner, from another library's constructor; NEXT(f).
 * A program linked without sofia (the unit tests) has no su_* behind
 * ours, and nothing calls them: only a call that finds none stops. */
static struct {
    getaddrinfo_fn getaddrinfo;
    recvmsg_fn recvmsg;
    inet_ntop_fn inet_ntop;
    getmsgsize_fn su_getmsgsize;
    soerror_fn su_soerror;
    vsend_fn su_vsend;
} next;

static void *find_next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {   /* libc or sofia without it: nothing sensible to answer */
        fprintf(stderr, "callroute: %s: no definition behind ours (%s)\n", name, dlerror());
        abort();
    }
    return f;
}

#define NEXT(f)                                                    \
    __extension__({                                                \
        if (!next.f)                                               \
            next.f = (__typeof__(next.f))find_next(#f);            \
        next.f;                                                    \
    })

#define LOOK_UP(f) (next.f = (__typeof__(next.f))dlsym(RTLD_NEXT, #f))

__attribute__((constructor)) static void find_next_definitions(void)
{
    LOOK_UP(getaddrinfo);
    LOOK_UP(recvmsg);
    LOOK_UP(inet_ntop);
    LOOK_UP(su_getmsgsize);
    LOOK_UP(su_soerror);
    LOOK_UP(su_vsend);
}

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

/* Where in libsofia-sip-ua a call comes from: nowhere (another caller), or
 * the two transport functions whose system calls are answered here. */
enum sofia_site { NOT_SOFIA, SOFIA, SOFIA_RECV_DGRAM, SOFIA_SEND_DGRAM };

/* CALLER's code lies in libsofia-sip-ua, and in which function (the
 * nearest exported symbol: both tport functions are). The calls come from
 * a handful of places in sofia, so answers are remembered by address
 * (dladdr walks the loaded objects; recvmsg runs for every datagram). */
static enum sofia_site sofia_site(const void *caller)
{
    enum { SITES = 16 };
    static _Thread_local struct { const void *at; enum sofia_site site; } seen[SITES];
    static _Thread_local unsigned next;
    for (unsigned i = 0; i < SITES; i++)
        if (seen[i].at == caller)
            return seen[i].site;
    Dl_info info;
    enum sofia_site site = NOT_SOFIA;
    if (dladdr(caller, &info) && info.dli_fname && strstr(info.dli_fname, "libsofia-sip-ua")) {
        site = SOFIA;
        if (info.dli_sname && strcmp(info.dli_sname, "tport_recv_dgram") == 0)
            site = SOFIA_RECV_DGRAM;
        else if (info.dli_sname && strcmp(info.dli_sname, "tport_send_dgram") == 0)
            site = SOFIA_SEND_DGRAM;
    }
    seen[next % SITES].at = caller;
    seen[next % SITES].site = site;
    next++;
    return site;
}

static bool from_sofia(const void *caller)
{
    return sofia_site(caller) != NOT_SOFIA;
}

int getaddrinfo(const char *restrict node, const char *restrict service,
                const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
    getaddrinfo_fn real = NEXT(getaddrinfo);
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

/* The datagram su_getmsgsize() received for tport_recv_dgram, until the
 * recvmsg that follows takes it. One: sofia runs on the loop thread only,
 * and tport_recv_dgram asks for the size and receives in one go. */
static struct {
    /* -1: none held. Atomic: every thread's recvmsg compares it (libcurl's
     * resolver threads receive from netlink), only the loop thread sets it. */
    atomic_int fd;
    ssize_t len;                /* its length, or -1 with err */
    int err;
    int flags;                  /* msg_flags */
    socklen_t fromlen;
    struct sockaddr_storage from;
    unsigned char data[65536];  /* any UDP datagram */
} ahead_dgram = {.fd = -1};

/* A datagram the driver's filter refuses (a flood) is consumed here. */
static bool filter_passes(const struct msghdr *msg, const void *data, size_t len)
{
    return !recv_filter || !msg->msg_name || msg->msg_namelen < sizeof(struct sockaddr_in) ||
           ((const struct sockaddr *)msg->msg_name)->sa_family != AF_INET ||
           recv_filter(recv_filter_arg, msg->msg_name, data, len);
}

/* Receives FD's next datagram the filter lets through into ahead_dgram;
 * its length for sofia's buffer, or 1 when there is none (the recvmsg that
 * follows then says why: EAGAIN, which sofia takes silently, or the
 * socket's error, as it did). Zero-length datagrams and refused ones are
 * consumed, at most 64 a time. */
static ssize_t receive_ahead(int fd)
{
    recvmsg_fn real = NEXT(recvmsg);
    atomic_store_explicit(&ahead_dgram.fd, fd, memory_order_relaxed);
    ahead_dgram.len = -1;
    ahead_dgram.err = EAGAIN;
    for (int i = 0; i < 64; i++) {
        struct iovec v = {ahead_dgram.data, sizeof ahead_dgram.data};
        struct msghdr mh = {.msg_name = &ahead_dgram.from, .msg_namelen = sizeof ahead_dgram.from,
                            .msg_iov = &v, .msg_iovlen = 1};
        ssize_t n = real(fd, &mh, MSG_DONTWAIT);
        if (n < 0) {
            ahead_dgram.err = errno;
            return 1;
        }
        if (n == 0 || !filter_passes(&mh, ahead_dgram.data, (size_t)n))
            continue;
        ahead_dgram.len = n;
        ahead_dgram.flags = mh.msg_flags;
        ahead_dgram.fromlen = mh.msg_namelen;
        return n;
    }
    return 1;
}

void sip_guard_drop_held(void)
{
    atomic_store_explicit(&ahead_dgram.fd, -1, memory_order_relaxed);
}

/* Gives the datagram held for FD to MSG, as recvmsg would have. */
static ssize_t take_ahead(struct msghdr *msg)
{
    atomic_store_explicit(&ahead_dgram.fd, -1, memory_order_relaxed);
    if (ahead_dgram.len < 0) {
        errno = ahead_dgram.err;
        return -1;
    }
    size_t done = 0, len = (size_t)ahead_dgram.len;
    for (size_t i = 0; i < (size_t)msg->msg_iovlen && done < len; i++) {
        size_t k = msg->msg_iov[i].iov_len < len - done ? msg->msg_iov[i].iov_len : len - done;
        memcpy(msg->msg_iov[i].iov_base, ahead_dgram.data + done, k);
        done += k;
    }
    if (msg->msg_name) {
        socklen_t k = msg->msg_namelen < ahead_dgram.fromlen ? msg->msg_namelen : ahead_dgram.fromlen;
        memcpy(msg->msg_name, &ahead_dgram.from, k);
    }
    msg->msg_namelen = ahead_dgram.fromlen;
    msg->msg_controllen = 0;
    msg->msg_flags = ahead_dgram.flags | (done < len ? MSG_TRUNC : 0);
    return (ssize_t)done;
}

issize_t su_getmsgsize(su_socket_t fd)
{
    if (sofia_site(__builtin_return_address(0)) == SOFIA_RECV_DGRAM) {
        /* a datagram still held (sofia could not allocate for it) keeps its place */
        if (atomic_load_explicit(&ahead_dgram.fd, memory_order_relaxed) == fd)
            return (issize_t)(ahead_dgram.len > 0 ? ahead_dgram.len : 1);
        return (issize_t)receive_ahead(fd);
    }
    return NEXT(su_getmsgsize)(fd);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    recvmsg_fn real = NEXT(recvmsg);
    const void *caller = __builtin_return_address(0);
    /* tport_recv_dgram's receive names a source; a stream's does not */
    if (fd == atomic_load_explicit(&ahead_dgram.fd, memory_order_relaxed) && msg->msg_name &&
        !(flags & (MSG_PEEK | MSG_ERRQUEUE)) && from_sofia(caller))
        return take_ahead(msg);
    ssize_t n = real(fd, msg, flags);
    if (n <= 0 || !recv_filter || (flags & MSG_PEEK) || msg->msg_iovlen < 1 || !from_sofia(caller))
        return n;
    const struct iovec *v = &msg->msg_iov[0];
    if (filter_passes(msg, v->iov_base, (size_t)n < v->iov_len ? (size_t)n : v->iov_len))
        return n;
    errno = EAGAIN;   /* sofia: nothing to read yet; the datagram is gone */
    return -1;
}

int su_soerror(su_socket_t fd)
{
    if (sofia_site(__builtin_return_address(0)) == SOFIA_SEND_DGRAM)
        return 0;   /* tport_send_dgram ignores it; su_vsend below makes up for it */
    return NEXT(su_soerror)(fd);
}

issize_t su_vsend(su_socket_t fd, su_iovec_t const iov[], isize_t iovlen, int flags, su_sockaddr_t const *to,
                  socklen_t tolen)
{
    vsend_fn real = NEXT(su_vsend);
    issize_t n = real(fd, iov, iovlen, flags, to, tolen);
    /* A datagram's send that meets an error an earlier datagram's ICMP
     * left pending fails with that error, and clears it (what su_soerror
     * did first): once more. A failure of its own fails again, as it is. */
    if (n < 0 && to && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
        sofia_site(__builtin_return_address(0)) == SOFIA_SEND_DGRAM)
        n = real(fd, iov, iovlen, flags, to, tolen);
    return n;
}

const char *inet_ntop(int af, const void *restrict src, char *restrict dst, socklen_t size)
{
    if (af == AF_INET)
        return sip_ntop4(src, dst, size);
    return NEXT(inet_ntop)(af, src, dst, size);
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
