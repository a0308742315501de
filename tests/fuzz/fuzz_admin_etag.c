/* fuzz_admin_etag.c — libFuzzer target for what a client sends about
 * revisions (src/admin/admin_etag.c): the input up to the first NUL is an
 * If-Match value, and also a revision number as a path would hold it.
 * Whatever it is: an answer from the four, MISSING only for an empty
 * value, OK for the ETag we send; a number only for digits without a
 * leading zero, and printed back it is the same text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_etag.h"

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
    in[size] = '\0';
    admin_if_match r = admin_check_if_match(in, 42);
    check(r == ADMIN_IF_MATCH_MISSING || r == ADMIN_IF_MATCH_OK || r == ADMIN_IF_MATCH_STALE ||
          r == ADMIN_IF_MATCH_BAD);
    if (r == ADMIN_IF_MATCH_MISSING)
        check(strspn(in, " \t") == strlen(in));
    long n = 0;
    if (admin_parse_revision(in, &n)) {
        char back[32], tag[32];
        snprintf(back, sizeof back, "%ld", n);
        check(n > 0 && strcmp(back, in) == 0);
        admin_etag(tag, sizeof tag, n);
        check(admin_check_if_match(tag, n) == ADMIN_IF_MATCH_OK);
        check(admin_check_if_match(tag, n + 1 > n ? n + 1 : 1) == ADMIN_IF_MATCH_STALE);
    }
    free(in);
    return 0;
}
