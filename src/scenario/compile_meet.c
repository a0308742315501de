/* compile_meet.c — the declarations of calls that meet other calls:
 * `conferences:` (rooms and their settings), settings.park (the slots and
 * the music of parked calls) and settings.join (who may listen, whisper
 * and barge). docs/scenario.md: Conferences, park and join. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "scenario/compile_int.h"
#include "util/path.h"

const char *scn_sound_file(scn_cx *x, const scn_node *v, const char *what)
{
    const char *name = scn_expect_string(x, v, what);
    if (!name)
        return NULL;
    const char *base = x->pub.prog->settings.sounds;
    char out[PATH_MAX];
    cr_path_status st = cr_path_resolve(base && *base ? base : ".", name, out, sizeof out);
    if (st == CR_PATH_EMPTY) {
        scn_cx_error(&x->pub, v, "expected %s, got an empty name", what);
        return NULL;
    }
    if (st != CR_PATH_OK) {
        scn_cx_error(&x->pub, v, "'%s' is outside settings.media.sounds (%s): file names are relative to it, "
                     "and an absolute one must be inside it", name, base);
        return NULL;
    }
    scn_prompt_ref *r = cr_arena_alloc(x->pub.arena, sizeof *r);
    r->name = name;
    r->path = cr_arena_strdup(x->pub.arena, out);
    r->file = v->file;
    r->line = v->line;
    r->col = v->col;
    r->at = cr_arena_strdup(x->pub.arena, scn_path_str(&x->pub.path));
    r->next = x->pub.prog->prompts;
    x->pub.prog->prompts = r;
    return r->path;
}

/* ---- settings.park, settings.join ---------------------------------------- */

void scn_compile_park(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"slots", "music", NULL};
    scn_settings *s = &x->pub.prog->settings;
    if (!scn_expect_map(x, n, "settings.park ({slots, music})"))
        return;
    scn_check_keys(x, n, keys, "settings.park");
    const scn_node *v;
    if ((v = scn_map_get(n, "slots")))
        SCN_WITH_KEY(x, "slots") {
            const char *p = scn_expect_string(x, v, "a range of slot numbers like \"701-720\"");
            int lo, hi, used = 0;
            if (p && (sscanf(p, "%d-%d%n", &lo, &hi, &used) != 2 || p[used] || lo < 0 || hi < lo ||
                      hi - lo >= 1000 || hi > 99999999))
                scn_cx_error(&x->pub, v, "expected a range of at most 1000 slot numbers like \"701-720\", got '%s'",
                             p);
            else if (p) {
                s->park_first = lo;
                s->park_last = hi;
            }
        }
    if ((v = scn_map_get(n, "music")))
        SCN_WITH_KEY(x, "music") s->park_music = scn_sound_file(x, v, "a prompt file (8 kHz mono WAV)");
}

void scn_compile_join(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"group", NULL};
    if (!scn_expect_map(x, n, "settings.join ({group})"))
        return;
    scn_check_keys(x, n, keys, "settings.join");
    const scn_node *v = scn_map_get(n, "group");
    if (v)
        SCN_WITH_KEY(x, "group") {
            const char *g = scn_expect_string(x, v, "a group name");
            if (g)
                x->pub.prog->settings.join_group = g;
        }
}

/* ---- conferences ---------------------------------------------------------- */

bool scn_room_name_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && !strchr("_-.", s[n]))
            return false;
    return n > 0 && n <= SCN_ROOM_NAME_MAX;
}

static bool digits_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n > 0 && n <= max && strspn(s, "0123456789") == n;
}

static void dtmf_key(scn_cx *x, const scn_node *v, const char **out)
{
    const char *k = scn_expect_string(x, v, "a DTMF sequence like \"*6\"");
    if (!k)
        return;
    if (strlen(k) > 4 || strspn(k, "0123456789*#ABCD") != strlen(k))
        scn_cx_error(&x->pub, v, "expected up to 4 DTMF keys (0-9, *, #, A-D) or \"\" (off), got '%s'", k);
    else
        *out = k;
}

static void pin(scn_cx *x, const scn_node *v, const char **out)
{
    const char *p = v->kind == SCN_NODE_SCALAR ? v->str : NULL;
    if (!p || !digits_ok(p, 16))
        scn_cx_error(&x->pub, v, "expected a PIN of 1 to 16 digits (quote it: \"4321\"), got '%s'",
                     p ? p : "a collection");
    else
        *out = p;
}

static void compile_room(scn_cx *x, const scn_node *k, const scn_node *v, scn_conference *c)
{
    static const char *const keys[] = {"pin", "moderator_pin", "max_members", "music_when_alone",
                                       "announce_join", "mute_key", "leave_key", "comment", NULL};
    static const char *const announce[] = {"tone", "name", NULL};
    c->name = k->str;
    c->max_members = SCN_CONFERENCE_MAX_MEMBERS;
    c->mute_key = "*6";
    c->leave_key = "*#";
    if (!scn_room_name_ok(k->str))
        scn_cx_error(&x->pub, k, "bad room name '%s': use letters, digits, '_', '-' or '.' (at most %d)", k->str,
                     SCN_ROOM_NAME_MAX);
    if (v->kind == SCN_NODE_SCALAR && scn_is_null(v))
        return;   /* sales: ~ : a room with the defaults */
    if (!scn_expect_map(x, v, "a conference room ({pin, moderator_pin, max_members, ...})"))
        return;
    scn_check_keys(x, v, keys, "a conference room");
    const scn_node *f;
    if ((f = scn_map_get(v, "pin")))
        SCN_WITH_KEY(x, "pin") pin(x, f, &c->pin);
    if ((f = scn_map_get(v, "moderator_pin")))
        SCN_WITH_KEY(x, "moderator_pin") pin(x, f, &c->moderator_pin);
    if (c->pin && c->moderator_pin && strcmp(c->pin, c->moderator_pin) == 0)
        scn_cx_error(&x->pub, scn_map_get(v, "moderator_pin"),
                     "moderator_pin is the same as pin: moderators could not be told from members");
    if ((f = scn_map_get(v, "max_members")))
        SCN_WITH_KEY(x, "max_members") {
            long l;
            if (scn_expect_int(x, f, 2, 1000, &l))
                c->max_members = (int)l;
        }
    if ((f = scn_map_get(v, "music_when_alone")))
        SCN_WITH_KEY(x, "music_when_alone") c->music_when_alone = scn_sound_file(x, f, "a prompt file (8 kHz mono WAV)");
    if ((f = scn_map_get(v, "announce_join")))
        SCN_WITH_KEY(x, "announce_join") {
            /* true: a tone; or say which: tone | name (the member's name spoken) */
            bool b;
            int e;
            if (f->kind == SCN_NODE_SCALAR && !f->quoted &&
                (strcmp(f->str, "true") == 0 || strcmp(f->str, "false") == 0)) {
                scn_expect_bool(x, f, &b);
                c->announce = b ? SCN_ANNOUNCE_TONE : SCN_ANNOUNCE_NONE;
            } else if (scn_expect_enum(x, f, announce, &e)) {
                c->announce = e == 0 ? SCN_ANNOUNCE_TONE : SCN_ANNOUNCE_NAME;
            }
        }
    if ((f = scn_map_get(v, "mute_key")))
        SCN_WITH_KEY(x, "mute_key") dtmf_key(x, f, &c->mute_key);
    if ((f = scn_map_get(v, "leave_key")))
        SCN_WITH_KEY(x, "leave_key") dtmf_key(x, f, &c->leave_key);
    if (*c->mute_key && *c->leave_key && strcmp(c->mute_key, c->leave_key) == 0)
        scn_cx_error(&x->pub, v, "mute_key and leave_key are the same ('%s')", c->mute_key);
}

void scn_compile_conferences(scn_cx *x, const scn_node *n)
{
    scn_program *p = x->pub.prog;
    if (!n || scn_is_null(n))
        return;
    SCN_WITH_KEY(x, "conferences") {
        if (scn_expect_map(x, n, "conferences (room: {pin, moderator_pin, max_members, ...})")) {
            p->conferences = cr_arena_alloc(x->pub.arena, (n->count + 1) * sizeof *p->conferences);
            for (size_t i = 0; i < n->count; i++) {
                const scn_node *k = n->pairs[i].key, *v = n->pairs[i].val;
                scn_conference *c = &p->conferences[p->conference_count];
                SCN_WITH_KEY(x, k->str) compile_room(x, k, v, c);
                if (!scn_strmap_put(x->pub.arena, &p->lookup->conferences, c->name, c))
                    p->conference_count++;
            }
        }
    }
}
