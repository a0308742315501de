/* editor_assets.h — the editor's and the browser phone's files (web/,
 * bundled by esbuild) as they are compiled into the binary: web/build.mjs
 * writes build/web/editor_assets.c with one table per page, one entry per
 * file, so the packaged binary serves them with no directory to find at
 * run time. Built without Node.js, the tables are empty (the Makefile
 * writes those). */
#ifndef ADMIN_EDITOR_ASSETS_H
#define ADMIN_EDITOR_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct admin_editor_asset {
    const char *name;              /* "index.html", "editor-3F2A9C1B.js": flat, no '/' */
    const unsigned char *data;
    size_t len;
    const unsigned char *gzip;     /* the same, gzip-compressed (NULL: not smaller) */
    size_t gzip_len;
    const char *etag;              /* "\"<16 hex of its SHA-256>\"" */
    bool immutable;                /* its name holds its hash: cached for good */
} admin_editor_asset;

/* Each ends with an entry whose name is NULL. */
extern const admin_editor_asset admin_editor_assets[];   /* GET /editor/ */
extern const admin_editor_asset admin_phone_assets[];    /* GET /phone/ */

#endif
