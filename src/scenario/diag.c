/* diag.c — collecting, sorting and printing diagnostics; "did you mean";
 * node paths (routes[2].script[4].then[0]). */
#include "scenario/diag.h"
#include "util/alloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Warnings are capped too (silently) so hostile input cannot grow memory. */
#define SCN_MAX_WARNINGS SCN_MAX_ERRORS

void scn_diags_init(scn_diags *d)
{
    memset(d, 0, sizeof *d);
    cr_arena_init(&d->arena, 4096);
}

void scn_diags_free(scn_diags *d)
{
    free(d->items);
    cr_arena_free(&d->arena);
    memset(d, 0, sizeof *d);
}

static void diag_vadd(scn_diags *d, scn_severity sev, const char *file, unsigned line,
                      unsigned col, const char *path, const char *fmt, va_list ap)
{
    if (sev == SCN_SEV_ERROR && d->errors >= SCN_MAX_ERRORS) {
        d->truncated = true;
        return;
    }
    if (sev == SCN_SEV_WARNING && d->warnings >= SCN_MAX_WARNINGS)
        return;
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        d->items = cr_xrealloc(d->items, cap * sizeof *d->items);
        d->cap = cap;
    }
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *msg = cr_arena_alloc(&d->arena, n > 0 ? (size_t)n + 1 : 1);
    if (n > 0)
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
    scn_diag *g = &d->items[d->count++];
    g->sev = sev;
    g->file = cr_arena_strdup(&d->arena, file ? file : "<input>");
    g->line = line;
    g->col = col;
    g->path = cr_arena_strdup(&d->arena, path ? path : "");
    g->msg = msg;
    if (sev == SCN_SEV_ERROR)
        d->errors++;
    else
        d->warnings++;
}

void scn_diag_at(scn_diags *d, scn_severity sev, const char *file, unsigned line, unsigned col,
                 const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, sev, file, line, col, path, fmt, ap);
    va_end(ap);
}

void scn_error(scn_diags *d, const scn_node *n, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, SCN_SEV_ERROR, n ? n->file : NULL, n ? n->line : 0, n ? n->col : 0, path, fmt,
              ap);
    va_end(ap);
}

void scn_warning(scn_diags *d, const scn_node *n, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, SCN_SEV_WARNING, n ? n->file : NULL, n ? n->line : 0, n ? n->col : 0, path,
              fmt, ap);
    va_end(ap);
}

/* Sorting: by file, line, col; equal positions keep the order they were
 * reported in (qsort is not stable, so the index breaks ties). */
static const scn_diag *sort_base;

static int diag_cmp(const void *a, const void *b)
{
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    const scn_diag *x = &sort_base[ia], *y = &sort_base[ib];
    int c = strcmp(x->file, y->file);
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return ia < ib ? -1 : ia > ib;
}

static size_t *sorted_order(const scn_diags *d)
{
    size_t *idx = cr_xmalloc((d->count ? d->count : 1) * sizeof *idx);
    for (size_t i = 0; i < d->count; i++)
        idx[i] = i;
    sort_base = d->items;
    qsort(idx, d->count, sizeof *idx, diag_cmp);
    return idx;
}

static const char *sev_name(scn_severity s)
{
    return s == SCN_SEV_ERROR ? "error" : "warning";
}

void scn_diags_print(scn_diags *d, FILE *out)
{
    size_t *idx = sorted_order(d);
    for (size_t k = 0; k < d->count; k++) {
        const scn_diag *g = &d->items[idx[k]];
        /* Line 0: the diagnostic is about the whole file (unreadable, too big). */
        if (g->line)
            fprintf(out, "%s:%u:%u: %s: %s", g->file, g->line, g->col, sev_name(g->sev), g->msg);
        else
            fprintf(out, "%s: %s: %s", g->file, sev_name(g->sev), g->msg);
        if (g->path[0])
            fprintf(out, " (at %s)", g->path);
        fputc('\n', out);
    }
    if (d->truncated) {
        const char *file = d->count ? d->items[idx[0]].file : "<input>";
        fprintf(out, "%s: note: too many errors; stopped after %d\n", file, SCN_MAX_ERRORS);
    }
    free(idx);
}

void scn_diags_sort(scn_diags *d)
{
    size_t *idx = sorted_order(d);
    scn_diag *items = cr_xmalloc((d->count ? d->count : 1) * sizeof *items);
    for (size_t k = 0; k < d->count; k++)
        items[k] = d->items[idx[k]];
    if (d->count)
        memcpy(d->items, items, d->count * sizeof *items);
    free(items);
    free(idx);
}

void scn_diags_json(const scn_diags *d, cr_strbuf *out)
{
    size_t *idx = sorted_order(d);
    cr_strbuf_puts(out, "{\"diagnostics\":[");
    for (size_t k = 0; k < d->count; k++) {
        const scn_diag *g = &d->items[idx[k]];
        if (k)
            cr_strbuf_putc(out, ',');
        cr_strbuf_puts(out, "{\"file\":");
        cr_strbuf_json_str(out, g->file, strlen(g->file));
        cr_strbuf_printf(out, ",\"line\":%u,\"column\":%u,\"severity\":\"%s\",\"message\":",
                         g->line, g->col, sev_name(g->sev));
        cr_strbuf_json_str(out, g->msg, strlen(g->msg));
        cr_strbuf_puts(out, ",\"path\":");
        cr_strbuf_json_str(out, g->path, strlen(g->path));
        cr_strbuf_putc(out, '}');
    }
    /* "truncated" is an addition to the format in diag.h (editors may show it). */
    cr_strbuf_printf(out, "],\"errors\":%zu,\"warnings\":%zu,\"truncated\":%s}", d->errors,
                     d->warnings, d->truncated ? "true" : "false");
    free(idx);
}

/* ---- did you mean ---- */

#define SUGGEST_MAX_LEN 128

/* Optimal string alignment distance (Damerau–Levenshtein where no substring
 * is edited twice), ASCII case-insensitive: 'paly' -> 'play' is 1. */
static size_t osa_distance(const char *a, size_t n, const char *b, size_t m)
{
    size_t rows[3][SUGGEST_MAX_LEN + 1];
    size_t *pp = rows[0], *p = rows[1], *c = rows[2];
    for (size_t j = 0; j <= m; j++)
        p[j] = j;
    for (size_t i = 1; i <= n; i++) {
        c[0] = i;
        int ai = tolower((unsigned char)a[i - 1]);
        for (size_t j = 1; j <= m; j++) {
            int bj = tolower((unsigned char)b[j - 1]);
            size_t cost = ai != bj;
            size_t v = p[j] + 1;
            if (c[j - 1] + 1 < v)
                v = c[j - 1] + 1;
            if (p[j - 1] + cost < v)
                v = p[j - 1] + cost;
            if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == bj && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            c[j] = v;
        }
        size_t *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[m];
}

const char *scn_suggest(const char *word, const char *const *candidates)
{
    if (!word || !candidates)
        return NULL;
    size_t n = strlen(word);
    if (n == 0 || n > SUGGEST_MAX_LEN)
        return NULL;
    size_t limit = n / 3 > 1 ? n / 3 : 1;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    bool unique = false;
    for (const char *const *c = candidates; *c; c++) {
        size_t m = strlen(*c);
        if (m > SUGGEST_MAX_LEN || (m > n ? m - n : n - m) > limit)
            continue;
        size_t dist = osa_distance(word, n, *c, m);
        if (dist < best_d) {
            best_d = dist;
            best = *c;
            unique = true;
        } else if (dist == best_d && strcmp(best, *c) != 0) {
            unique = false;
        }
    }
    return best && unique && best_d <= limit ? best : NULL;
}

/* ---- paths ---- */

static void path_append(scn_path *p, const char *s, size_t n)
{
    size_t room = sizeof p->buf - 1 - p->len;
    if (n > room)
        n = room;   /* truncate: a path is for people, a cut one still helps */
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

static bool key_is_plain(const char *key)
{
    if (!*key)
        return false;
    for (const char *s = key; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '+' && *s != '@')
            return false;
    return true;
}

size_t scn_path_key(scn_path *p, const char *key)
{
    size_t old = p->len;
    if (p->len >= sizeof p->buf)   /* never initialised properly: start over */
        p->len = old = 0;
    p->buf[p->len] = '\0';
    if (key_is_plain(key)) {
        if (p->len)
            path_append(p, ".", 1);
        path_append(p, key, strlen(key));
    } else {
        /* Keys with dots, spaces or brackets: ["a.b"], so the path stays readable. */
        path_append(p, "[\"", 2);
        for (const char *s = key; *s; s++) {
            if (*s == '"' || *s == '\\')
                path_append(p, "\\", 1);
            path_append(p, s, 1);
        }
        path_append(p, "\"]", 2);
    }
    return old;
}

size_t scn_path_index(scn_path *p, size_t i)
{
    size_t old = p->len;
    if (p->len >= sizeof p->buf)
        p->len = old = 0;
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "[%zu]", i);
    path_append(p, tmp, (size_t)n);
    return old;
}

void scn_path_pop(scn_path *p, size_t old_len)
{
    if (old_len < sizeof p->buf && old_len <= p->len) {
        p->len = old_len;
        p->buf[old_len] = '\0';
    }
}
