/* test_sip_tls.c — what sip_tls.c reads: the lines of sofia's transport log
 * it turns into our warnings (the Debian 12 sofia-sip 1.12.11 wording,
 * copied from its output), and the PEM file checks behind check's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_parser.h>

#include "telephony/sip/sip_tls.h"

static sip_tls_log_kind parse(const char *line, unsigned long *tp, char *addr, char *reason)
{
    return sip_tls_log_parse(line, tp, addr, 64, reason, 128);
}

static void test_log_lines(void **state)
{
    (void)state;
    unsigned long tp;
    char addr[64], reason[128];
    assert_int_equal(parse("tport_tls_connect(0x55908dc6ccb0): connecting to tls/127.0.0.1:47083/sips\n", &tp,
                           addr, reason),
                     SIP_TLS_LOG_CONNECT);
    assert_int_equal(tp, 0x55908dc6ccb0ul);
    assert_string_equal(addr, "127.0.0.1:47083");
    assert_int_equal(parse("tport_tls_accept(0x55908dc44a50): new connection from tls/127.0.0.1:60880/sips\n",
                           &tp, addr, reason),
                     SIP_TLS_LOG_ACCEPT);
    assert_string_equal(addr, "127.0.0.1:60880");
    assert_int_equal(parse("tls_connect(0x55908dc59e20): TLS setup failed (error:00000001:lib(0)::reason(1))\n",
                           &tp, addr, reason),
                     SIP_TLS_LOG_SETUP_FAILED);
    assert_int_equal(tp, 0x55908dc59e20ul);
    assert_string_equal(reason, "error:00000001:lib(0)::reason(1)");
    assert_int_equal(parse("  err 20:unable to get local issuer certificate\n", &tp, addr, reason),
                     SIP_TLS_LOG_CERT_ERROR);
    assert_string_equal(reason, "unable to get local issuer certificate");
    assert_int_equal(parse("tls_post_connection_check(0x55ac9eb3abb0): Peer Subject Mismatch (127.0.0.1)\n", &tp,
                           addr, reason),
                     SIP_TLS_LOG_CERT_ERROR);
    assert_string_equal(reason, "it does not name the host dialled");
    assert_int_equal(parse("tport_close(0x55908dc6ccb0): tls/127.0.0.1:47083/sips\n", &tp, addr, reason),
                     SIP_TLS_LOG_CLOSE);
    assert_int_equal(tp, 0x55908dc6ccb0ul);
    assert_string_equal(addr, "127.0.0.1:47083");
    /* IPv6 peers keep their brackets; the /proto suffix goes */
    assert_int_equal(parse("tport_close(0x1): tls/[::1]:5061/sips\n", &tp, addr, reason), SIP_TLS_LOG_CLOSE);
    assert_string_equal(addr, "[::1]:5061");
}

static void test_other_lines(void **state)
{
    (void)state;
    unsigned long tp;
    char addr[64], reason[128];
    /* A UDP or TCP close, other tport chatter, a peer-controlled subject
     * that merely contains "err ": none is taken for a TLS event. */
    assert_int_equal(parse("tport_close(0x1): tcp/127.0.0.1:5060/sip\n", &tp, addr, reason), SIP_TLS_LOG_OTHER);
    assert_int_equal(parse("tport_listen(0x1): listening at tls/127.0.0.1:5061/sips\n", &tp, addr, reason),
                     SIP_TLS_LOG_OTHER);
    assert_int_equal(parse("  subject  = /CN=x err 1:forged\n", &tp, addr, reason), SIP_TLS_LOG_OTHER);
    assert_int_equal(parse("tport_close(zz): tls/1.2.3.4:5/sips\n", &tp, addr, reason), SIP_TLS_LOG_OTHER);
    assert_int_equal(parse("", &tp, addr, reason), SIP_TLS_LOG_OTHER);
}

static char dir[64];

static const char *write_file(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_file_problems(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_sip_tls.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char buf[700];
    const char *cert = write_file("c.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    assert_null(sip_tls_file_problem(cert, "cert", buf, sizeof buf));
    assert_null(sip_tls_file_problem(cert, "ca", buf, sizeof buf));
    /* a certificate is no key, and a key no certificate */
    assert_non_null(sip_tls_file_problem(cert, "key", buf, sizeof buf));
    assert_non_null(strstr(buf, "holds no PEM private key"));
    const char *key = write_file("k.pem", "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    assert_null(sip_tls_file_problem(key, "key", buf, sizeof buf));
    assert_non_null(sip_tls_file_problem(key, "cert", buf, sizeof buf));
    const char *ec = write_file("e.pem", "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n");
    assert_null(sip_tls_file_problem(ec, "key", buf, sizeof buf));
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none.pem", dir);
    assert_non_null(sip_tls_file_problem(missing, "cert", buf, sizeof buf));
    assert_non_null(strstr(buf, "No such file"));

    /* sip_tls_check names the scenario's place of the first bad file */
    cfg_tls_settings t = {.enabled = true};
    char c2[128], k2[128];
    snprintf(c2, sizeof c2, "%s/c.pem", dir);
    snprintf(k2, sizeof k2, "%s/k.pem", dir);
    t.cert = (cfg_tls_file){.path = c2, .file = "s.yaml", .line = 4, .col = 12};
    t.key = (cfg_tls_file){.path = missing, .file = "s.yaml", .line = 5, .col = 11};
    assert_false(sip_tls_check(&t, buf, sizeof buf));
    assert_non_null(strstr(buf, "s.yaml:5:11: settings.sip.tls.key: cannot read"));
    t.key.path = k2;
    assert_true(sip_tls_check(&t, buf, sizeof buf));

    unlink(c2);
    unlink(k2);
    snprintf(c2, sizeof c2, "%s/e.pem", dir);
    unlink(c2);
    rmdir(dir);
}

/* sip_tls_answer_contact on an INVITE with this Via transport, Request-URI,
 * Contact and Record-Route (NULL: none); its answer in OUT. */
static bool answer_contact(const char *transport, const char *ruri, const char *contact, const char *rr,
                           char *out, size_t n)
{
    char text[1024];
    snprintf(text, sizeof text,
             "INVITE %s SIP/2.0\r\n"
             "Via: SIP/2.0/%s 127.0.0.1:5070;branch=z9hG4bK1\r\n"
             "From: <sip:301@127.0.0.1>;tag=1\r\nTo: <sip:403@127.0.0.1>\r\n"
             "Call-ID: c1\r\nCSeq: 1 INVITE\r\n%s%s%s%s%s%s"
             "Content-Length: 0\r\n\r\n",
             ruri, transport, contact ? "Contact: <" : "", contact ? contact : "", contact ? ">\r\n" : "",
             rr ? "Record-Route: <" : "", rr ? rr : "", rr ? ">\r\n" : "");
    msg_t *m = msg_make(sip_default_mclass(), 0, text, (isize_t)strlen(text));
    assert_non_null(m);
    assert_non_null(sip_object(m)->sip_request);
    bool ok = sip_tls_answer_contact(sip_object(m), out, n);
    msg_destroy(m);
    return ok;
}

/* Our Contact toward a peer that reached us over TLS with sip: URIs is
 * sip:...;transport=tls (baresip cannot route to sips:); sofia's stays
 * for anything else and for a host or port no address has. */
static void test_answer_contact(void **state)
{
    (void)state;
    char out[128];
    const char *phone = "sip:301-1@127.0.0.1:5071;transport=tls";
    assert_true(answer_contact("TLS", "sip:403@127.0.0.1:5061;transport=tls", phone, NULL, out, sizeof out));
    assert_string_equal(out, "<sip:127.0.0.1:5061;transport=tls>");
    assert_true(answer_contact("TLS", "sip:403@pbx.example.com", phone, NULL, out, sizeof out));
    assert_string_equal(out, "<sip:pbx.example.com;transport=tls>");
    assert_true(answer_contact("TLS", "sip:403@[::1]:5061", phone, NULL, out, sizeof out));
    assert_string_equal(out, "<sip:[::1]:5061;transport=tls>");
    /* a proxy's sip: Record-Route decides, not the phone's Contact */
    assert_true(answer_contact("TLS", "sip:403@127.0.0.1:5061", "sips:301@10.0.0.1", "sip:10.0.0.9;lr", out,
                               sizeof out));
    /* not over TLS, or sips: asked for (RFC 3261 12.1.1): sofia's own */
    assert_false(answer_contact("UDP", "sip:403@127.0.0.1:5060", phone, NULL, out, sizeof out));
    assert_false(answer_contact("TCP", "sip:403@127.0.0.1:5060", phone, NULL, out, sizeof out));
    assert_false(answer_contact("TLS", "sips:403@127.0.0.1:5061", phone, NULL, out, sizeof out));
    assert_false(answer_contact("TLS", "sip:403@127.0.0.1:5061", "sips:301@127.0.0.1:5071", NULL, out, sizeof out));
    assert_false(answer_contact("TLS", "sip:403@127.0.0.1:5061", phone, "sips:10.0.0.9;lr", out, sizeof out));
    /* a host no address has is not pasted into our Contact */
    assert_false(answer_contact("TLS", "sip:403@ex%3Eample.com", phone, NULL, out, sizeof out));
    /* no room: false, not a cut Contact */
    assert_false(answer_contact("TLS", "sip:403@127.0.0.1:5061", phone, NULL, out, 20));
}

/* ---- the CRLF pong over TLS (sip_tls.c's SSL_read) ---- */

/* A self-signed certificate and its key in CTX. */
static void use_self_signed(SSL_CTX *ctx)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    X509 *x = X509_new();
    assert_non_null(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"test", -1, -1, 0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
    X509_free(x);
    EVP_PKEY_free(key);
}

/* A connected TCP pair on loopback, non-blocking, with small buffers so
 * that a large write fills them. */
static void tcp_pair(int fd[2])
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
    fd[1] = socket(AF_INET, SOCK_STREAM, 0);
    int small = 16 * 1024;
    setsockopt(fd[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    assert_int_equal(connect(fd[1], (struct sockaddr *)&a, sizeof a), 0);
    fd[0] = accept(l, NULL, NULL);
    assert_true(fd[0] >= 0);
    setsockopt(fd[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    close(l);
    for (int i = 0; i < 2; i++)
        fcntl(fd[i], F_SETFL, fcntl(fd[i], F_GETFL) | O_NONBLOCK);
}

static bool writable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/* A phone's CRLF ping arrives while sofia's answer to it waits for room in
 * the socket (OpenSSL keeps the rest of the record to write when there is
 * room, and sofia must retry with the same data): the pong must not be
 * written into the middle of that write. OpenSSL ends the connection when
 * a write of 2 bytes comes while one of a record is pending (BAD_LENGTH,
 * a fatal alert), and sofia's retry then fails: the phone loses its
 * connection, and with it every call to it. */
static void test_pong_during_pending_write(void **state)
{
    (void)state;
    cfg_tls_settings t = {.enabled = true};
    char err[200];
    sip_tls_ctx_catch();
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());   /* the listener's, as sofia makes it */
    assert_true(sip_tls_ctx_caught(&t, err, sizeof err));
    use_self_signed(sctx);
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());   /* the phone's */
    int fd[2];
    tcp_pair(fd);
    SSL *srv = SSL_new(sctx), *cli = SSL_new(cctx);
    SSL_set_fd(srv, fd[0]);
    SSL_set_fd(cli, fd[1]);
    SSL_set_mode(srv, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);   /* as sofia's tport_tls */
    int a = 0, c = 0;
    for (int i = 0; i < 1000 && (a != 1 || c != 1); i++) {
        if (a != 1)
            a = SSL_accept(srv);
        if (c != 1)
            c = SSL_connect(cli);
        if (a != 1 || c != 1)
            poll(NULL, 0, 1);
    }
    assert_int_equal(a, 1);
    assert_int_equal(c, 1);

    /* sofia writes a large answer; the phone does not read yet */
    size_t big = 2 * 1024 * 1024;
    char *msg = malloc(big);
    memset(msg, 'x', big);
    int w = SSL_write(srv, msg, (int)big);
    assert_true(w < 0);
    assert_int_equal(SSL_get_error(srv, w), SSL_ERROR_WANT_WRITE);

    /* the phone reads some, so that the socket has room again, then pings */
    char *got = malloc(big);
    size_t have = 0;
    for (int i = 0; i < 5000 && (have < 64 * 1024 || !writable(fd[0])); i++) {
        int r = SSL_read(cli, got + have, (int)(big - have));
        if (r > 0)
            have += (size_t)r;
        else
            poll(NULL, 0, 1);
    }
    assert_true(writable(fd[0]));
    assert_int_equal(SSL_write(cli, "\r\n\r\n", 4), 4);
    char ping[64];
    int r = -1;
    for (int i = 0; i < 1000 && r <= 0; i++)
        if ((r = SSL_read(srv, ping, sizeof ping)) <= 0)
            poll(NULL, 0, 1);
    assert_int_equal(r, 4);   /* sofia sees the ping */

    /* sofia retries its write (same data) as the socket takes it; the
     * phone gets the whole answer */
    bool done = false;
    for (int i = 0; i < 20000 && (!done || have < big); i++) {
        if (!done) {
            w = SSL_write(srv, msg, (int)big);
            if (w > 0)
                done = true;
            else
                assert_int_equal(SSL_get_error(srv, w), SSL_ERROR_WANT_WRITE);
        }
        int n = SSL_read(cli, got + have, (int)(big - have));
        if (n > 0)
            have += (size_t)n;
        else if (!done)
            poll(NULL, 0, 1);
    }
    assert_true(done);
    assert_int_equal(have, big);
    assert_memory_equal(got, msg, big);

    /* nothing waiting to be written: the next ping gets its pong */
    assert_int_equal(SSL_write(cli, "\r\n\r\n", 4), 4);
    r = -1;
    for (int i = 0; i < 1000 && r <= 0; i++)
        if ((r = SSL_read(srv, ping, sizeof ping)) <= 0)
            poll(NULL, 0, 1);
    assert_int_equal(r, 4);
    r = -1;
    for (int i = 0; i < 1000 && r <= 0; i++)
        if ((r = SSL_read(cli, ping, sizeof ping)) <= 0)
            poll(NULL, 0, 1);
    assert_int_equal(r, 2);
    assert_memory_equal(ping, "\r\n", 2);

    free(got);
    free(msg);
    SSL_free(srv);
    SSL_free(cli);
    close(fd[0]);
    close(fd[1]);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    sip_tls_ctx_release();
    ERR_clear_error();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_lines),
        cmocka_unit_test(test_other_lines),
        cmocka_unit_test(test_file_problems),
        cmocka_unit_test(test_answer_contact),
        cmocka_unit_test(test_pong_during_pending_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
