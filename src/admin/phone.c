/* phone.c — GET /phone/ and its files: the browser phone (web/src/phone.js),
 * compiled into the binary beside the editor and served the same way
 * (editor.c). It asks this server nothing: it registers as a SIP user over
 * a WebSocket to the cluster's Kamailio (docs/webrtc.md), so its page may
 * connect to any ws:/wss: address the user types, and to nothing else. */
#include "admin/admin_int.h"
#include "admin/editor_assets.h"

#define PHONE_CSP                                                                                      \
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " \
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

void admin_get_phone(admin_req *r)
{
    static const admin_page phone = {
        .files = admin_phone_assets, .path = "/phone", .slashed = "/phone/", .what = "phone", .csp = PHONE_CSP,
    };
    admin_serve_page(r, &phone);
}
