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

#include <cmocka.h>

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
    scn_tls_settings t = {.enabled = true};
    char c2[128], k2[128];
    snprintf(c2, sizeof c2, "%s/c.pem", dir);
    snprintf(k2, sizeof k2, "%s/k.pem", dir);
    t.cert = (scn_tls_file){.path = c2, .file = "s.yaml", .line = 4, .col = 12};
    t.key = (scn_tls_file){.path = missing, .file = "s.yaml", .line = 5, .col = 11};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_lines),
        cmocka_unit_test(test_other_lines),
        cmocka_unit_test(test_file_problems),
        cmocka_unit_test(test_answer_contact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
