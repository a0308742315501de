/* admin_route.c — method + URL -> admin API resource (see admin_route.h). */
#include "admin/admin_route.h"

#include <string.h>

admin_resource admin_route(const char *method, const char *url, const char **call_id)
{
    *call_id = NULL;
    if (!method || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0))
        return ADMIN_R_NOT_ALLOWED;
    if (!url)
        return ADMIN_R_NOT_FOUND;
    if (strcmp(url, "/health") == 0)
        return ADMIN_R_HEALTH;
    if (strcmp(url, "/refused") == 0)
        return ADMIN_R_REFUSED;
    if (strcmp(url, "/calls") == 0 || strcmp(url, "/calls/") == 0)
        return ADMIN_R_CALLS;
    if (strncmp(url, "/calls/", 7) == 0) {
        *call_id = url + 7;
        return ADMIN_R_CALL;
    }
    return ADMIN_R_NOT_FOUND;
}
