/* strtab.h — the admin API's shared strings: each distinct string its
 * calls keep (a route's name, a dialled leg, "start", a caller's number)
 * is stored once, counted, and named by a small number. A held call's
 * trace and entry then keep numbers, not copies: a thousand calls through
 * one route keep its name once (docs/decisions/sip-core.md, "Held-call
 * memory (nta)").
 *
 * A string is freed when its last reference goes; its number is then
 * given to the next new string. Strings may hold NULs (a variable's
 * value): they are compared and kept by length, and always followed by a
 * NUL. Number 0 is no string (NULL). */
#ifndef ADMIN_STRTAB_H
#define ADMIN_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct strtab strtab;

strtab *strtab_new(void);
/* Every string, referenced or not. */
void strtab_free(strtab *t);

/* The number of S (LEN bytes), added if new, with one more reference;
 * 0 for a NULL S (no reference taken). */
uint32_t strtab_ref(strtab *t, const char *s, size_t len);
/* strtab_ref of a C string (NULL: 0). */
uint32_t strtab_ref_cstr(strtab *t, const char *s);
/* strtab_ref_cstr, *LEN set to S's length (0 for NULL): a string found by
 * its pointer is not measured twice. */
uint32_t strtab_ref_cstr_len(strtab *t, const char *s, size_t *len);
/* One reference less (0: nothing). */
void strtab_unref(strtab *t, uint32_t id);
/* The string ID names (NUL-terminated; *LEN its length when LEN is not
 * NULL); NULL for 0. Valid while a reference to it is held. */
const char *strtab_str(const strtab *t, uint32_t id, size_t *len);
/* Distinct strings held. */
size_t strtab_count(const strtab *t);

#endif
