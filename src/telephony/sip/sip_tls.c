/* sip_tls.c — SIP over TLS on sofia-sip 1.12's tport (docs/decisions/
 * sip-tls.md). sofia reads its certificate from a directory (agent.pem:
 * the certificate followed by its key; cafile.pem: the CAs) once, when the
 * tls: listener is created; it has no tag for file names, ciphers or a
 * minimum version, and no event for a refused handshake. So: the files
 * settings.sip.tls names are checked here, copied into a directory only we
 * can read for the moment sofia reads them, and sofia's own TLS complaints
 * are caught from its transport log and written as our warnings. */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/tport_tag.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_tls.h"
#include "util/alloc.h"
#include "util/hash.h"

extern su_log_t tport_log[];

/* A PEM file is small; anything bigger is not what we were given. */
#define PEM_MAX (1 << 20)

/* Reads all of PATH (at most PEM_MAX) into a NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len, int *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return NULL;
    }
    char *buf = cr_xmalloc(PEM_MAX + 1);
    size_t n = fread(buf, 1, PEM_MAX + 1, f);
    *err = ferror(f) ? EIO : 0;
    fclose(f);
    if (*err || n > PEM_MAX) {
        free(buf);
        if (!*err)
            *err = EFBIG;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

const char *sip_tls_file_problem(const char *path, const char *what, char *buf, size_t n)
{
    size_t len;
    int err;
    char *pem = slurp(path, &len, &err);
    if (!pem) {
        snprintf(buf, n, "cannot read %s: %s", path, strerror(err));
        return buf;
    }
    /* The block a certificate or CA file needs, or a key's (any PEM private
     * key: "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"). */
    bool key = strcmp(what, "key") == 0;
    bool found = key ? strstr(pem, "PRIVATE KEY-----") != NULL : strstr(pem, "-----BEGIN CERTIFICATE-----") != NULL;
    free(pem);
    if (found)
        return NULL;
    snprintf(buf, n, "%s holds no PEM %s", path, key ? "private key" : "certificate");
    return buf;
}

bool sip_tls_check(const cfg_tls_settings *t, char *err, size_t n)
{
    const struct {
        const cfg_tls_file *f;
        const char *what;
    } files[] = {{&t->cert, "cert"}, {&t->key, "key"}, {&t->ca, "ca"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        const cfg_tls_file *f = files[i].f;
        char why[600];
        if (f->path && sip_tls_file_problem(f->path, files[i].what, why, sizeof why)) {
            snprintf(err, n, "%s:%u:%u: settings.sip.tls.%s: %s", f->file ? f->file : "-", f->line, f->col,
                     files[i].what, why);
            return false;
        }
    }
    return true;
}

/* Appends the PEM files to a new file DIR/NAME that only we may read. */
static bool write_joined(const char *dir, const char *name, const char *const *paths, char *err, size_t n)
{
    char out[600];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    FILE *o = NULL;
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 && !(o = fdopen(fd, "wb")))
        close(fd);
    if (!o) {
        snprintf(err, n, "cannot write %s: %s", out, strerror(errno));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; paths[i] && ok; i++) {
        size_t len;
        int e;
        char *pem = slurp(paths[i], &len, &e);
        if (!pem) {
            snprintf(err, n, "cannot read %s: %s", paths[i], strerror(e));
            ok = false;
            break;
        }
        ok = fwrite(pem, 1, len, o) == len && (len == 0 || pem[len - 1] == '\n' || fputc('\n', o) != EOF);
        free(pem);
        if (!ok)
            snprintf(err, n, "cannot write %s: %s", out, strerror(errno));
    }
    if (fclose(o) != 0 && ok) {
        snprintf(err, n, "cannot write %s: %s", out, strerror(errno));
        ok = false;
    }
    return ok;
}

bool sip_tls_dir_make(const cfg_tls_settings *t, char *dir, size_t n, char *err, size_t errlen)
{
    if (!sip_tls_check(t, err, errlen))
        return false;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, n, "%s/callroute-tls.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {   /* mode 0700 */
        snprintf(err, errlen, "cannot make a directory for the TLS certificate (%s): %s", dir, strerror(errno));
        dir[0] = '\0';
        return false;
    }
    const char *agent[] = {t->cert.path, t->key.path, NULL};
    const char *ca[] = {t->ca.path ? t->ca.path : SIP_TLS_SYSTEM_CA, NULL};
    if (!write_joined(dir, "agent.pem", agent, err, errlen) || !write_joined(dir, "cafile.pem", ca, err, errlen)) {
        sip_tls_dir_remove(dir);
        dir[0] = '\0';
        return false;
    }
    return true;
}

void sip_tls_dir_remove(const char *dir)
{
    if (!dir || !dir[0])
        return;
    static const char *const names[] = {"agent.pem", "cafile.pem", "tls_seed.dat"};
    char p[600];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

void sip_tls_check_gateways(struct sip_driver *d, bool tls)
{
    for (size_t i = 0; !tls && i < d->cfg->gateway_count; i++) {
        const cfg_gateway *g = &d->cfg->gateways[i];
        if (g->uri && (strncasecmp(g->uri, "sips:", 5) == 0 || strstr(g->uri, ";transport=tls")))
            sip_log(d, SIP_LOG_WARN, "gateway %s is reached over TLS, but there is no tls: listener "
                    "(settings.sip.listen): its calls fail", g->name);
    }
}

/* Characters of a host name, an IPv4 address or an IPv6 reference. */
static bool host_chars(const char *h)
{
    size_t len = strlen(h);
    if (len == 0 || len > 255)
        return false;
    for (const char *c = h; *c; c++)
        if (!(isalnum((unsigned char)*c) || strchr(".-:[]", *c)))
            return false;
    return true;
}

bool sip_tls_answer_contact(const sip_t *sip, char *out, size_t n)
{
    const sip_via_t *via = sip ? sip->sip_via : NULL;
    const url_t *ruri = sip && sip->sip_request ? sip->sip_request->rq_url : NULL;
    if (!via || !via->v_protocol || strcasecmp(via->v_protocol, "SIP/2.0/TLS") != 0 || !ruri ||
        ruri->url_type != url_sip || !ruri->url_host)
        return false;
    const url_t *target = sip->sip_record_route ? sip->sip_record_route->r_url
                          : sip->sip_contact    ? sip->sip_contact->m_url
                                                : NULL;
    if (target && target->url_type == url_sips)
        return false;
    const char *port = ruri->url_port;
    if (!host_chars(ruri->url_host) ||
        (port && (strlen(port) == 0 || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))))
        return false;
    int w = snprintf(out, n, "<sip:%s%s%s;transport=tls>", ruri->url_host, port ? ":" : "", port ? port : "");
    return w > 0 && (size_t)w < n;
}

unsigned sip_tls_policy(const cfg_tls_settings *t)
{
    /* Outgoing (gateways, phones called back): the chain must verify and
     * the certificate must name the host or address dialled. Incoming:
     * only when phones are to present certificates (verify_peer). */
    unsigned p = t->verify_server ? TPTLS_VERIFY_SUBJECTS_OUT : 0;
    if (t->verify_peer)
        p |= TPTLS_VERIFY_IN;
    return p;
}

/* ---- sofia's TLS complaints as our log lines ---- */

/* What one line of sofia's transport log (level 5 and below: connections
 * opened and closed, handshakes failed; nothing per message) says. */
sip_tls_log_kind sip_tls_log_parse(const char *line, unsigned long *tp, char *addr, size_t an, char *reason,
                                   size_t rn)
{
    static const struct {
        const char *prefix, *marker;
        sip_tls_log_kind kind;
    } forms[] = {
        {"tport_tls_connect(", "): connecting to tls/", SIP_TLS_LOG_CONNECT},
        {"tport_tls_accept(", "): new connection from tls/", SIP_TLS_LOG_ACCEPT},
        {"tls_connect(", "): TLS setup failed (", SIP_TLS_LOG_SETUP_FAILED},
        {"tport_close(", "): tls/", SIP_TLS_LOG_CLOSE},
        {"tls_post_connection_check(", "): Peer Subject Mismatch", SIP_TLS_LOG_CERT_ERROR},
    };
    sip_tls_log_kind kind = SIP_TLS_LOG_OTHER;
    addr[0] = reason[0] = '\0';
    *tp = 0;
    const char *err = strstr(line, "err ");
    if (err && line + 2 <= err && strspn(line, " ") == (size_t)(err - line)) {
        /* "  err 20:unable to get local issuer certificate" */
        const char *colon = strchr(err, ':');
        if (colon) {
            snprintf(reason, rn, "%s", colon + 1);
            reason[strcspn(reason, "\r\n")] = '\0';
            kind = SIP_TLS_LOG_CERT_ERROR;
        }
        return kind;
    }
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        size_t pl = strlen(forms[i].prefix);
        if (strncmp(line, forms[i].prefix, pl) != 0)
            continue;
        char *end;
        unsigned long p = strtoul(line + pl, &end, 16);
        if (strncmp(end, forms[i].marker, strlen(forms[i].marker)) != 0)
            continue;
        const char *rest = end + strlen(forms[i].marker);
        *tp = p;
        kind = forms[i].kind;
        if (kind == SIP_TLS_LOG_CERT_ERROR) {
            /* the chain verified, but the certificate names another host */
            snprintf(reason, rn, "it does not name the host dialled");
        } else if (kind == SIP_TLS_LOG_SETUP_FAILED) {
            snprintf(reason, rn, "%s", rest);
            char *close = strrchr(reason, ')');
            if (close)
                *close = '\0';
        } else {
            /* "127.0.0.1:47083/sips" (connect: "127.0.0.1:47083/sips" too) */
            snprintf(addr, an, "%s", rest);
            addr[strcspn(addr, "/\r\n")] = '\0';
        }
        return kind;
    }
    return kind;
}

#define TLS_TRACKED 32

static struct {
    struct sip_driver *d;
    bool echo;                 /* CALLROUTE_SOFIA_DEBUG: sofia's whole trace to stderr, as before */
    bool verify_peer;          /* phones must show a certificate: its absence fails the handshake too */
    unsigned long outgoing[TLS_TRACKED];   /* connections we opened, handshake not yet seen through */
    size_t next_out;
    unsigned long setup_failed;            /* the connection whose handshake just failed */
    char setup_reason[128];
    char cert_reason[128];                 /* the last certificate error, for the next close */
    char failed[8][64];                    /* peers (HOST:PORT) whose handshake of ours failed */
    uint64_t files_id;                     /* what the listener was made from (files_id) */
    size_t failed_count;
    loop_timer *fail_timer;
} tl;

static bool take_outgoing(unsigned long tp)
{
    for (size_t i = 0; i < TLS_TRACKED; i++)
        if (tl.outgoing[i] == tp) {
            tl.outgoing[i] = 0;
            return true;
        }
    return false;
}

/* Dials waiting on a peer whose handshake failed fail now, from the loop
 * (not from inside sofia's transport code). */
static void fail_cb(loop *l, void *arg)
{
    (void)l;
    (void)arg;
    tl.fail_timer = NULL;
    size_t n = tl.failed_count;
    tl.failed_count = 0;
    for (size_t i = 0; i < n && tl.d; i++)
        sip_out_tls_failed(tl.d, tl.failed[i]);
}

/* Printable and short: the reason may quote the peer's certificate. */
static void clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = '?';
}

static void on_line(const char *line)
{
    unsigned long tp;
    char addr[64], reason[128];
    sip_tls_log_kind kind = sip_tls_log_parse(line, &tp, addr, sizeof addr, reason, sizeof reason);
    clean(addr);
    clean(reason);
    switch (kind) {
    case SIP_TLS_LOG_CONNECT:
        tl.outgoing[tl.next_out++ % TLS_TRACKED] = tp;
        break;
    case SIP_TLS_LOG_SETUP_FAILED:
        tl.setup_failed = tp;
        snprintf(tl.setup_reason, sizeof tl.setup_reason, "%s", reason);
        break;
    case SIP_TLS_LOG_CERT_ERROR:
        snprintf(tl.cert_reason, sizeof tl.cert_reason, "%s", reason);
        break;
    case SIP_TLS_LOG_CLOSE: {
        bool out = take_outgoing(tp);
        bool failed = tp == tl.setup_failed || tl.cert_reason[0];
        if (failed) {
            char why[200];
            if (tl.cert_reason[0])
                snprintf(why, sizeof why, "certificate not verified (%s)", tl.cert_reason);
            else if (out)
                snprintf(why, sizeof why, "handshake failed (%s)", tl.setup_reason);
            else   /* sofia's reason here is SSL_get_error's number, printed as OpenSSL text: no help */
                snprintf(why, sizeof why, "%snot a TLS handshake, or no version or cipher in common",
                         tl.verify_peer ? "no client certificate (verify_peer), " : "");
            if (out)
                sip_log(tl.d, SIP_LOG_WARN, "TLS: handshake with %s failed: %s", addr, why);
            else
                sip_log(tl.d, SIP_LOG_WARN, "TLS: connection from %s refused: %s", addr, why);
            if (out && tl.failed_count < sizeof tl.failed / sizeof tl.failed[0]) {
                snprintf(tl.failed[tl.failed_count++], sizeof tl.failed[0], "%s", addr);
                if (!tl.fail_timer)
                    tl.fail_timer = loop_timer_start(tl.d->l, 0, fail_cb, NULL);
            }
        }
        tl.setup_failed = 0;
        tl.cert_reason[0] = '\0';
        break;
    }
    default:
        break;
    }
}

/* sofia writes some lines in pieces: each call is taken as one line. */
static void tport_logger(void *stream, char const *fmt, va_list ap)
{
    (void)stream;
    char line[300];
    va_list copy;
    va_copy(copy, ap);
    if (tl.echo)
        vfprintf(stderr, fmt, copy);
    va_end(copy);
    vsnprintf(line, sizeof line, fmt, ap);
    if (tl.d)
        on_line(line);
}

/* FNV-1a over the files' names and contents: changes when any does. */
static uint64_t files_id(const cfg_tls_settings *t)
{
    uint64_t h = CR_FNV64_BASIS;
    const char *paths[] = {t->cert.path, t->key.path, t->ca.path};
    for (size_t i = 0; i < 3; i++) {
        size_t len = 0;
        int err;
        char *pem = paths[i] ? slurp(paths[i], &len, &err) : NULL;
        h = cr_fnv1a64_str(h, paths[i] ? paths[i] : "");
        if (pem)
            h = cr_fnv1a64(h, pem, len);
        h = cr_fnv1a64_byte(h, 0xff);
        free(pem);
    }
    return h;
}

/* ---- the listener's SSL_CTX: caught as sofia makes it, reloaded on SIGHUP ----
 *
 * sofia-sip 1.12 keeps the TLS context of a tls: listener in a private
 * structure and offers no call to reach or replace it; re-making the
 * listener would mean nta_agent_close_tports, which closes the UDP and TCP
 * sockets and every phone's connection too. But sofia makes that context
 * with OpenSSL's SSL_CTX_new, which it calls through the dynamic linker:
 * the definition below (in our executable, so it comes first) takes a
 * reference to each context made while the listener is being created
 * (ctx_catch), and forwards every call to OpenSSL's own. With the context
 * in hand, OpenSSL's public calls do the rest: a new certificate, key and
 * CA store, and a minimum version, apply to connections made from then on;
 * an open connection keeps the certificate it was opened with (OpenSSL
 * copies it into each connection). */

#define CTX_MAX 4   /* one per TLS primary: an address family each */

static struct {
    bool catching;
    SSL_CTX *ctx[CTX_MAX];
    size_t n;
} caught;

typedef SSL_CTX *ssl_ctx_new_fn(const SSL_METHOD *);

static ssl_ctx_new_fn *real_ssl_ctx_new(void)
{
    static ssl_ctx_new_fn *real;
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "SSL_CTX_new");
    return real;
}

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method)
{
    ssl_ctx_new_fn *real = real_ssl_ctx_new();
    SSL_CTX *c = real ? real(method) : NULL;
    if (c && caught.catching && caught.n < CTX_MAX && SSL_CTX_up_ref(c) == 1)
        caught.ctx[caught.n++] = c;
    return c;
}

static bool ctx_ours(const SSL_CTX *c)
{
    for (size_t i = 0; i < caught.n; i++)
        if (caught.ctx[i] == c)
            return true;
    return false;
}

/* RFC 5626 keep-alive over TLS: a phone sends CRLF CRLF on its idle flow
 * and expects CRLF back. sofia answers it on TCP (TPTAG_PONG2PING) but its
 * TLS transport reads the CRLFs as blank lines between messages and says
 * nothing. sofia reads TLS through SSL_read: when a read on one of our
 * listener's connections is exactly a ping, the pong is written here
 * (sofia still sees the CRLFs and skips them). Only when the socket can
 * take it at once: a write OpenSSL had to retry would be sofia's to finish.
 * And not while sofia's own write waits for room (SSL_write below marks
 * it): OpenSSL keeps the rest of that write's record, and a write of other
 * bytes before sofia's retry is a fatal error that ends the connection. */
typedef int ssl_read_fn(SSL *, void *, int);
typedef int ssl_write_fn(SSL *, const void *, int);

static int write_pending_idx = -1;   /* SSL ex_data: non-NULL while a write waits to be retried */

int SSL_write(SSL *ssl, const void *buf, int num)
{
    static ssl_write_fn *real;
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "SSL_write");
    if (!real)
        return -1;
    int n = real(ssl, buf, num);
    if (write_pending_idx >= 0 && ctx_ours(SSL_get_SSL_CTX(ssl)))
        SSL_set_ex_data(ssl, write_pending_idx, n <= 0 ? (void *)1 : NULL);
    return n;
}

int SSL_read(SSL *ssl, void *buf, int num)
{
    static ssl_read_fn *real;
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "SSL_read");
    if (!real)
        return -1;
    int n = real(ssl, buf, num);
    if (n == 4 && memcmp(buf, "\r\n\r\n", 4) == 0 && ctx_ours(SSL_get_SSL_CTX(ssl)) &&
        !SSL_get_ex_data(ssl, write_pending_idx)) {
        struct pollfd p = {.fd = SSL_get_fd(ssl), .events = POLLOUT};
        if (p.fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLOUT))
            SSL_write(ssl, "\r\n", 2);
    }
    return n;
}

/* OpenSSL's reason for the last failure, printable. */
static const char *ssl_reason(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, n, "%s", r ? r : "unknown error");
    ERR_clear_error();
    return buf;
}

static void apply_min_version(const cfg_tls_settings *t)
{
    for (size_t i = 0; i < caught.n; i++)
        SSL_CTX_set_min_proto_version(caught.ctx[i], t->min_tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
}

void sip_tls_ctx_catch(void)
{
    if (write_pending_idx < 0)
        write_pending_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    caught.catching = true;
}

bool sip_tls_ctx_caught(const cfg_tls_settings *t, char *err, size_t n)
{
    caught.catching = false;
    if (caught.n == 0) {
        snprintf(err, n, "settings.sip.tls: the TLS listener's OpenSSL context could not be reached "
                 "(min_version and certificate reload need it)");
        return false;
    }
    apply_min_version(t);
    return true;
}

void sip_tls_ctx_release(void)
{
    for (size_t i = 0; i < caught.n; i++)
        SSL_CTX_free(caught.ctx[i]);
    memset(&caught, 0, sizeof caught);
}

/* T's files loaded and checked in a scratch context (the certificate chain,
 * the key matching it, the CA store), or why not in WHY. */
static SSL_CTX *load_files(const cfg_tls_settings *t, X509_STORE **store, char *why, size_t n)
{
    ERR_clear_error();
    char r[160];
    *store = NULL;
    ssl_ctx_new_fn *real = real_ssl_ctx_new();
    SSL_CTX *c = real ? real(TLS_method()) : NULL;
    const char *ca = t->ca.path ? t->ca.path : SIP_TLS_SYSTEM_CA;
    if (!c) {
        snprintf(why, n, "no OpenSSL context: %s", ssl_reason(r, sizeof r));
    } else if (SSL_CTX_use_certificate_chain_file(c, t->cert.path) != 1) {
        snprintf(why, n, "certificate %s: %s", t->cert.path, ssl_reason(r, sizeof r));
    } else if (SSL_CTX_use_PrivateKey_file(c, t->key.path, SSL_FILETYPE_PEM) != 1 ||
               SSL_CTX_check_private_key(c) != 1) {
        snprintf(why, n, "key %s: %s", t->key.path, ssl_reason(r, sizeof r));
    } else if (!(*store = X509_STORE_new()) || X509_STORE_load_file(*store, ca) != 1) {
        snprintf(why, n, "CA %s: %s", ca, ssl_reason(r, sizeof r));
    } else {
        return c;
    }
    X509_STORE_free(*store);
    *store = NULL;
    SSL_CTX_free(c);
    return NULL;
}

/* The scratch context's certificate, chain and key, and STORE, into every
 * caught context. */
static bool install(SSL_CTX *from, X509_STORE *store, char *why, size_t n)
{
    char r[160];
    STACK_OF(X509) *chain = NULL;
    SSL_CTX_get0_chain_certs(from, &chain);
    for (size_t i = 0; i < caught.n; i++) {
        SSL_CTX *c = caught.ctx[i];
        if (SSL_CTX_use_certificate(c, SSL_CTX_get0_certificate(from)) != 1 ||
            SSL_CTX_use_PrivateKey(c, SSL_CTX_get0_privatekey(from)) != 1 || SSL_CTX_set1_chain(c, chain) != 1 ||
            SSL_CTX_check_private_key(c) != 1) {
            snprintf(why, n, "%s", ssl_reason(r, sizeof r));
            return false;
        }
        X509_STORE_up_ref(store);
        SSL_CTX_set_cert_store(c, store);   /* takes that reference, frees the old store */
    }
    return true;
}

void sip_tls_reloaded(struct sip_driver *d, const cfg_tls_settings *t)
{
    if (tl.d != d)
        return;
    if (!t->enabled) {
        /* The section is gone (the tls: listener is not: listeners are
         * made once): no files to load; said once (files_id 0 until the
         * section is back, whose files are then loaded again). */
        if (tl.files_id)
            sip_log(d, SIP_LOG_WARN, "settings.sip.tls: removed; the TLS listener keeps its certificate, key, CA "
                    "and min_version until callroute is restarted");
        tl.files_id = 0;
        return;
    }
    apply_min_version(t);
    uint64_t id = files_id(t);
    if (id == tl.files_id)
        return;
    X509_STORE *store;
    char why[400];
    SSL_CTX *fresh = load_files(t, &store, why, sizeof why);
    if (fresh && !install(fresh, store, why, sizeof why)) {
        /* cannot happen with files that loaded; said rather than hidden */
        SSL_CTX_free(fresh);
        X509_STORE_free(store);
        clean(why);
        sip_log(d, SIP_LOG_WARN, "settings.sip.tls: reloading the TLS listener failed half way (%s)", why);
        return;
    }
    if (!fresh) {
        /* The files are tried again on the next SIGHUP (files_id kept). */
        clean(why);
        sip_log(d, SIP_LOG_WARN, "settings.sip.tls: new files not loaded (%s); the TLS listener keeps the "
                "certificate it had", why);
        return;
    }
    char subject[256] = "?";
    X509_NAME_oneline(X509_get_subject_name(SSL_CTX_get0_certificate(fresh)), subject, sizeof subject);
    clean(subject);
    SSL_CTX_free(fresh);
    X509_STORE_free(store);
    tl.files_id = id;
    sip_log(d, SIP_LOG_INFO, "settings.sip.tls: reloaded (certificate %s): new TLS connections get it, "
            "open ones keep theirs", subject);
}

void sip_tls_log_attach(struct sip_driver *d)
{
    memset(&tl, 0, sizeof tl);
    tl.d = d;
    tl.files_id = files_id(&d->cfg->settings.sip_tls);
    tl.verify_peer = d->cfg->settings.sip_tls.verify_peer;
    tl.echo = d->log_level >= SIP_LOG_DEBUG && getenv("CALLROUTE_SOFIA_DEBUG");
    su_log_redirect(tport_log, tport_logger, NULL);
    /* 5: connections opened and closed, handshakes and certificates
     * refused; nothing per message. */
    if (!tl.echo)
        su_log_set_level(tport_log, 5);
}

void sip_tls_log_detach(void)
{
    if (!tl.d)
        return;
    su_log_redirect(tport_log, NULL, NULL);
    sip_tls_ctx_release();
    if (tl.fail_timer)
        loop_timer_stop(tl.d->l, tl.fail_timer);
    memset(&tl, 0, sizeof tl);
}
