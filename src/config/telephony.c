/* telephony.c — the telephony configuration: its lifetime, its user
 * index, and the gateways' number check. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "config/telephony.h"
#include "util/alloc.h"

const char *const cfg_srtp_names[] = {"off", "optional", "required", NULL};

/* A hostile number must not make a careless pattern backtrack for long. */
#define NUMBER_MATCH_LIMIT 100000
#define NUMBER_HEAP_LIMIT_KIB 1024

bool cfg_gateway_number_ok(const cfg_gateway *g, const char *number)
{
    if (!g || !g->number_re || !number)
        return false;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    int rc = PCRE2_ERROR_NOMEMORY;
    if (md && mc) {
        pcre2_set_match_limit(mc, NUMBER_MATCH_LIMIT);
        pcre2_set_heap_limit(mc, NUMBER_HEAP_LIMIT_KIB);
        rc = pcre2_match(g->number_re, (PCRE2_SPTR)number, strlen(number), 0, 0, md, mc);
    }
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    return rc >= 0;   /* no match, a limit or no memory: not sent */
}

static int by_number_cmp(const void *a, const void *b)
{
    const cfg_user *const *x = a, *const *y = b;
    return strcmp((*x)->number, (*y)->number);
}

tel_config *tel_config_new(const cfg_tel_settings *settings, const cfg_user *users, size_t user_count,
                           const cfg_gateway *gateways, size_t gateway_count, void *owner,
                           void (*owner_release)(void *owner))
{
    tel_config *c = cr_xcalloc(1, sizeof *c);
    c->refcount = 1;
    if (settings)
        c->settings = *settings;
    c->users = users;
    c->user_count = users ? user_count : 0;
    c->gateways = gateways;
    c->gateway_count = gateways ? gateway_count : 0;
    c->owner = owner;
    c->owner_release = owner_release;
    /* An index of its own (not the program's): the driver looks users up
     * per request without knowing where they came from. */
    size_t n = 0;
    c->users_by_number = cr_xcalloc(c->user_count ? c->user_count : 1, sizeof *c->users_by_number);
    for (size_t i = 0; i < c->user_count; i++)
        if (users[i].number)
            c->users_by_number[n++] = &users[i];
    qsort(c->users_by_number, n, sizeof *c->users_by_number, by_number_cmp);
    c->users_indexed = n;
    return c;
}

tel_config *tel_config_ref(tel_config *c)
{
    if (c)
        __atomic_add_fetch(&c->refcount, 1, __ATOMIC_RELAXED);
    return c;
}

void tel_config_unref(tel_config *c)
{
    if (!c || __atomic_sub_fetch(&c->refcount, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    if (c->owner_release)
        c->owner_release(c->owner);
    free(c->users_by_number);
    free(c);
}

const cfg_user *tel_config_user(const tel_config *c, const char *number)
{
    if (!c || !number || c->users_indexed == 0)
        return NULL;
    cfg_user key = {.number = number};
    const cfg_user *k = &key;
    const cfg_user *const *hit = bsearch(&k, c->users_by_number, c->users_indexed, sizeof k, by_number_cmp);
    return hit ? *hit : NULL;
}
