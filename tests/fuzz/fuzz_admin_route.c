/* fuzz_admin_route.c — libFuzzer target for the admin API's request path
 * (src/admin/admin_route.c): the input up to the first space is the method,
 * the rest up to a NUL the URL, as libmicrohttpd hands them over. Whatever
 * they are: 405 for any method but GET and HEAD, else one of the four
 * resources or 404, and a call id only for /calls/ID: the rest of the URL,
 * never empty. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_route.h"

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
    char *sp = strchr(in, ' ');
    const char *method = in, *url = "";
    if (sp) {
        *sp = '\0';
        url = sp + 1;
    }
    const char *id = "unset";
    admin_resource r = admin_route(method, url, &id);
    bool readable = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    check((r == ADMIN_R_NOT_ALLOWED) == !readable);
    check((r == ADMIN_R_CALL) == (id != NULL));
    if (r == ADMIN_R_CALL)
        check(id == url + 7 && strncmp(url, "/calls/", 7) == 0 && id[0] != '\0');
    if (r == ADMIN_R_HEALTH)
        check(strcmp(url, "/health") == 0);
    if (r == ADMIN_R_REFUSED)
        check(strcmp(url, "/refused") == 0);
    if (r == ADMIN_R_CALLS)
        check(strcmp(url, "/calls") == 0 || strcmp(url, "/calls/") == 0);
    if (r == ADMIN_R_NOT_FOUND)
        check(readable && strncmp(url, "/calls/", 7) != 0);
    free(in);
    return 0;
}
