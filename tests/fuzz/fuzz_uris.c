/* fuzz_uris.c — libFuzzer target for what callroute builds into the SIP
 * requests it sends (src/telephony/sip/sip_uri.c) from untrusted values:
 * whatever the input, a user part parses back to exactly the input at the
 * gateway's host, a name-addr parses as one From with our URI, a cleaned
 * URI carries no headers, and nothing holds CR or LF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include "telephony/sip/sip_uri.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';   /* values are C strings: stop at the first NUL */
    su_home_t home[1] = {SU_HOME_INIT(home)};
    char out[1024];

    if (sip_uri_gateway(out, sizeof out, "sip:192.0.2.1:5060;transport=udp", in)) {
        check(!strpbrk(out, "\r\n <>\""));
        url_t *u = url_make(home, out);
        check(u && u->url_host && strcmp(u->url_host, "192.0.2.1") == 0 && u->url_user && !u->url_headers);
        char *user = su_strdup(home, u->url_user);
        url_unescape(user, u->url_user);
        check(strcmp(user, in) == 0);
    }

    if (sip_uri_name_addr(out, sizeof out, in, "sip:1@192.0.2.1")) {
        check(!strpbrk(out, "\r\n"));
        sip_from_t *f = sip_from_make(home, out);
        check(f && f->a_url->url_host && strcmp(f->a_url->url_host, "192.0.2.1") == 0 &&
              f->a_url->url_user && strcmp(f->a_url->url_user, "1") == 0 && !f->a_params);
    }

    if (sip_uri_clean(out, sizeof out, in)) {
        check(!strpbrk(out, "\r\n <>\""));
        url_t *u = url_make(home, out);
        check(u && u->url_host && !u->url_headers);
    }

    su_home_deinit(home);
    free(in);
    return 0;
}
