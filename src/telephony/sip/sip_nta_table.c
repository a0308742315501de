/* sip_nta_table.c — the driver's legs by Call-ID (an open hash table with
 * chains through sip_leg.hnext): a request finds its leg by its whole
 * dialog (Call-ID and both tags); a merged request (RFC 3261 8.2.2.2) is
 * one whose Call-ID and From tag a live leg already has. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_header.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_nta_int.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "util/random.h"

/* The Call-ID LEG is found by: the one we made for a dialled leg, or the
 * caller's. */
static const char *leg_key(const sip_leg *leg) { return leg->nta->own_key ? leg->nta->own_key : leg->call_id; }

/* Call-IDs are the caller's choice: hashed with a secret key drawn when
 * the table is first made (util/hash.h), so that a caller cannot pick
 * Call-IDs that share one chain and make every lookup walk them all. */
static size_t hash_key(const struct sip_nta *t, const char *s, size_t n)
{
    return (size_t)(cr_keyed_hash_str(&t->key, s) & (n - 1));
}

static void table_grow(struct sip_nta *t)
{
    size_t n = t->nbuckets ? t->nbuckets * 2 : 1024;
    if (!t->nbuckets)
        cr_random_hash_key(&t->key);
    sip_leg **b = cr_xcalloc(n, sizeof *b);
    for (size_t i = 0; i < t->nbuckets; i++)
        for (sip_leg *l = t->buckets[i], *next; l; l = next) {
            next = l->nta->hnext;
            size_t h = hash_key(t, leg_key(l), n);
            l->nta->hnext = b[h];
            b[h] = l;
        }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

void sip_nta_table_add(struct sip_nta *t, sip_leg *leg)
{
    if (t->count >= t->nbuckets)
        table_grow(t);
    size_t h = hash_key(t, leg_key(leg), t->nbuckets);
    leg->nta->hnext = t->buckets[h];
    t->buckets[h] = leg;
    leg->nta->hashed = true;
    t->count++;
}

void sip_nta_table_remove(struct sip_nta *t, sip_leg *leg)
{
    if (!leg->nta->hashed)
        return;
    for (sip_leg **p = &t->buckets[hash_key(t, leg_key(leg), t->nbuckets)]; *p; p = &(*p)->nta->hnext)
        if (*p == leg) {
            *p = leg->nta->hnext;
            t->count--;
            break;
        }
    leg->nta->hashed = false;
}

sip_leg *sip_nta_table_find(struct sip_nta *t, const char *call_id)
{
    if (!t->nbuckets || !call_id)
        return NULL;
    for (sip_leg *l = t->buckets[hash_key(t, call_id, t->nbuckets)]; l; l = l->nta->hnext)
        if (strcmp(leg_key(l), call_id) == 0)
            return l;
    return NULL;
}

/* The leg whose dialog SIP (a request in a dialog) belongs to: two
 * callers may send the same Call-ID (a dialog is the Call-ID and both
 * tags, RFC 3261 12), so the first leg with the Call-ID is only the
 * answer when none's dialog matches (it then gets the 481). */
sip_leg *sip_nta_table_find_dialog(struct sip_nta *t, const sip_t *sip)
{
    const char *call_id = sip->sip_call_id->i_id;
    sip_leg *first = NULL;
    if (!t->nbuckets)
        return NULL;
    for (sip_leg *l = t->buckets[hash_key(t, call_id, t->nbuckets)]; l; l = l->nta->hnext) {
        if (strcmp(leg_key(l), call_id) != 0)
            continue;
        if (l->nta->have_dlg && sip_dialog_matches(&l->nta->dlg, sip))
            return l;
        if (!first)
            first = l;
    }
    return first;
}

/* A new INVITE (SIP) that is one we already have a call for, come again
 * by another path (same Call-ID and From tag, another branch): RFC 3261
 * 8.2.2.2's merged request. Another From tag is another caller's dialog. */
bool sip_nta_table_merged(struct sip_nta *t, const sip_t *sip)
{
    const char *call_id = sip->sip_call_id->i_id, *from_tag = sip->sip_from->a_tag;
    if (!t->nbuckets)
        return false;
    for (sip_leg *l = t->buckets[hash_key(t, call_id, t->nbuckets)]; l; l = l->nta->hnext)
        if (strcmp(leg_key(l), call_id) == 0 && !l->outgoing && l->nta->have_dlg &&
            (from_tag ? strcasecmp(from_tag, l->nta->dlg.remote_tag) == 0 : !*l->nta->dlg.remote_tag))
            return true;
    return false;
}
