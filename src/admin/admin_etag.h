/* admin_etag.h — the scenario's revision as the admin API shows it in
 * headers and paths: the ETag `"N"`, the If-Match a change must carry
 * (RFC 9110 13.1.1), and the N of /revisions/N. Pure functions of what the
 * client sent, unit tested and fuzzed apart from the code that acts. */
#ifndef ADMIN_ETAG_H
#define ADMIN_ETAG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum admin_if_match {
    ADMIN_IF_MATCH_MISSING,   /* no header (or an empty one): 428 */
    ADMIN_IF_MATCH_OK,        /* "*" or a list holding the current tag */
    ADMIN_IF_MATCH_STALE,     /* well-formed, the current tag not in it: 409 */
    ADMIN_IF_MATCH_BAD,       /* not an If-Match value: 400 */
} admin_if_match;

/* The ETag of revision N into OUT (size SIZE >= 24): "\"N\"". */
void admin_etag(char *out, size_t size, long revision);

/* Does the If-Match header value H (NULL: absent) allow a change of
 * revision CURRENT? `*` or a comma-separated list of entity tags; tags are
 * compared strongly (a weak W/"N" never matches) and exactly ("07" is not
 * "7"). */
admin_if_match admin_check_if_match(const char *h, long current);

/* A revision number as written in a path: decimal digits only, 1 to
 * LONG_MAX, no sign, no leading zero. */
bool admin_parse_revision(const char *s, long *out);

#endif
