/* editor.c — GET /editor/ and its files: the visual scenario editor (web/),
 * compiled into the binary (editor_assets.h), so nothing is read from disk
 * and a name from the URL can only pick one of the known files: it is
 * compared whole with their names, never joined to a path. The browser
 * phone's page (phone.c, GET /phone/) is served the same way.
 *
 * Caching: the bundle's files have their hash in their names and are kept
 * for good (immutable); index.html, which names them, is revalidated each
 * time (ETag, 304). gzip when the client takes it. settings.admin.editor:
 * false (of the program in force) turns the editor off: 404. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin/admin_int.h"
#include "admin/editor_assets.h"

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".json", "application/json"},
        {".svg", "image/svg+xml"},             {".png", "image/png"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static const admin_editor_asset *find(const admin_editor_asset *table, const char *name)
{
    for (const admin_editor_asset *f = table; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* Accept-Encoding H takes gzip: "gzip" (or "*") listed without q=0. */
static bool takes_gzip(const char *h)
{
    while (h && *h) {
        h += strspn(h, " \t,");
        size_t n = strcspn(h, ",");
        size_t name = strcspn(h, " \t;,");
        bool gzip = (name == 4 && strncasecmp(h, "gzip", 4) == 0) || (name == 1 && h[0] == '*');
        const char *q = memchr(h, ';', n);
        bool refused = false;
        if (q) {
            q++;
            q += strspn(q, " \t");
            if (strncasecmp(q, "q=", 2) == 0) {
                q += 2;
                refused = q[0] == '0' && (q[1] == '\0' || q[1] == ',' || q[1] == ' ' ||
                                          (q[1] == '.' && strspn(q + 2, "0") == strcspn(q + 2, ", \t")));
            }
        }
        if (gzip)
            return !refused;
        h += n;
    }
    return false;
}

/* If-None-Match H names ETAG (or is *). */
static bool not_modified(const char *h, const char *etag)
{
    if (!h)
        return false;
    h += strspn(h, " \t");
    return strcmp(h, "*") == 0 || strstr(h, etag) != NULL;
}

/* The editor's page runs only its own scripts and talks only to this
 * server; no other site may frame it. */
#define EDITOR_CSP                                                                                     \
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

void admin_serve_page(admin_req *r, const admin_page *pg)
{
    if (!pg->files[0].name) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "this callroute was built without the %s: Node.js and npm were missing at build time "
                 "(scripts/install-deps.sh installs them; then make)",
                 pg->what);
        admin_reply_error(r, MHD_HTTP_NOT_FOUND, msg, NULL);
        return;
    }
    /* /editor: the page's relative links need the trailing slash */
    if (strcmp(r->url, pg->path) == 0) {
        admin_raw raw = {.data = (const unsigned char *)"", .content_type = "text/plain", .location = pg->slashed,
                         .cache_control = "no-cache"};
        admin_reply_raw(r, MHD_HTTP_PERMANENT_REDIRECT, &raw);
        return;
    }
    const admin_editor_asset *f = find(pg->files, r->param ? r->param : "index.html");
    if (!f) {
        char msg[80];
        snprintf(msg, sizeof msg, "no such file of the %s", pg->what);
        admin_reply_error(r, MHD_HTTP_NOT_FOUND, msg, NULL);
        return;
    }
    snprintf(r->etag, sizeof r->etag, "%s", f->etag);
    admin_raw raw = {
        .content_type = content_type(f->name),
        .cache_control = f->immutable ? "public, max-age=31536000, immutable" : "no-cache",
        .csp = strcmp(f->name, "index.html") == 0 ? pg->csp : NULL,
        .vary_encoding = f->gzip != NULL,
    };
    if (not_modified(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH), f->etag)) {
        raw.data = (const unsigned char *)"";
        admin_reply_raw(r, MHD_HTTP_NOT_MODIFIED, &raw);
        return;
    }
    const char *ae = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (f->gzip && takes_gzip(ae)) {
        raw.data = f->gzip;
        raw.len = f->gzip_len;
        raw.content_encoding = "gzip";
    } else {
        raw.data = f->data;
        raw.len = f->len;
    }
    admin_reply_raw(r, MHD_HTTP_OK, &raw);
}

void admin_get_editor(admin_req *r)
{
    static const admin_page editor = {
        .files = admin_editor_assets, .path = "/editor", .slashed = "/editor/", .what = "editor", .csp = EDITOR_CSP,
    };
    const scn_program *p = r->a->prog;
    if (p && p->settings.admin_editor_off) {
        admin_reply_error(r, MHD_HTTP_NOT_FOUND, "the editor is turned off (settings.admin.editor: false)", NULL);
        return;
    }
    admin_serve_page(r, &editor);
}
