/* conferences.c — the conference rooms (engine/conference.c) through the
 * admin API: GET /conferences lists every room and its members; POST
 * /conferences/ROOM/members/ID {"muted":true|false} mutes or unmutes a
 * member; DELETE /conferences/ROOM/members/ID removes it from the room
 * (its `conference` action ends with conference_status kicked, and its
 * script goes on). ROOM and ID come from the path: checked (a room name,
 * a member number) before anything is looked up; the body is an object
 * with `muted` and nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"

static void room_json(void *arg, const eng_conf_room_info *ri)
{
    json_t *rooms = arg;
    json_t *members = json_array();
    for (size_t i = 0; i < ri->count; i++) {
        const eng_conf_member_info *m = &ri->members[i];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(m->id));
        json_object_set_new(o, "call_id", admin_jstr(m->call_id));
        json_object_set_new(o, "number", admin_jstr(m->number ? m->number : ""));
        json_object_set_new(o, "name", admin_jstr(m->name ? m->name : ""));
        json_object_set_new(o, "muted", json_boolean(m->muted));
        json_object_set_new(o, "moderator", json_boolean(m->moderator));
        json_object_set_new(o, "joined", admin_jtime(m->joined));
        json_array_append_new(members, o);
    }
    json_t *r = json_object();
    json_object_set_new(r, "room", admin_jstr(ri->name));
    json_object_set_new(r, "count", json_integer((json_int_t)ri->count));
    json_object_set_new(r, "max_members", json_integer(ri->max_members));
    json_object_set_new(r, "created", admin_jtime(ri->created));
    json_object_set_new(r, "members", members);
    json_array_append_new(rooms, r);
}

void admin_get_conferences(admin_req *r)
{
    json_t *rooms = json_array();
    if (r->a->eng)
        eng_conf_each(r->a->eng, room_json, rooms);
    json_t *o = json_object();
    json_object_set_new(o, "conferences", rooms);
    admin_reply(r, MHD_HTTP_OK, o);
}

/* The member the path names: false when R has been answered. */
static bool member_of(admin_req *r, unsigned *id)
{
    if (!r->a->eng) {
        admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the engine is not running yet", NULL);
        return false;
    }
    const char *p = r->param2 ? r->param2 : "";
    size_t n = strlen(p);
    char *end = NULL;
    unsigned long v = n && n <= 9 && strspn(p, "0123456789") == n ? strtoul(p, &end, 10) : 0;
    if (!r->param || !scn_room_name_ok(r->param) || v == 0) {
        admin_reply_error(r, MHD_HTTP_NOT_FOUND,
                          "no such member: /conferences/ROOM/members/ID takes a room name and a member number",
                          NULL);
        return false;
    }
    *id = (unsigned)v;
    return true;
}

static void not_found(admin_req *r, int rc, unsigned id)
{
    json_t *x = json_object();
    json_object_set_new(x, "room", admin_jstr(r->param));
    json_object_set_new(x, "member", json_integer(id));
    admin_reply_error(r, MHD_HTTP_NOT_FOUND, rc == -1 ? "no such room" : "no such member in the room", x);
}

void admin_post_conf_member(admin_req *r)
{
    unsigned id;
    if (!member_of(r, &id))
        return;
    json_error_t je;
    json_t *o = json_loadb(r->body.s ? r->body.s : "", r->body.len, JSON_REJECT_DUPLICATES, &je);
    json_t *muted = json_is_object(o) ? json_object_get(o, "muted") : NULL;
    if (!json_is_object(o) || json_object_size(o) != 1 || !json_is_boolean(muted)) {
        json_decref(o);
        json_t *x = json_object();
        json_object_set_new(x, "field", json_string("muted"));
        admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "the body must be {\"muted\": true|false} and nothing else", x);
        return;
    }
    bool m = json_is_true(muted);
    json_decref(o);
    int rc = eng_conf_set_muted(r->a->eng, r->param, id, m, "admin");
    if (rc < 0) {
        not_found(r, rc, id);
        return;
    }
    json_t *a = json_object();
    json_object_set_new(a, "room", admin_jstr(r->param));
    json_object_set_new(a, "member", json_integer(id));
    json_object_set_new(a, "muted", json_boolean(m));
    admin_reply(r, MHD_HTTP_OK, a);
}

void admin_delete_conf_member(admin_req *r)
{
    unsigned id;
    if (!member_of(r, &id))
        return;
    int rc = eng_conf_kick(r->a->eng, r->param, id, "admin");
    if (rc < 0) {
        not_found(r, rc, id);
        return;
    }
    json_t *a = json_object();
    json_object_set_new(a, "room", admin_jstr(r->param));
    json_object_set_new(a, "member", json_integer(id));
    json_object_set_new(a, "kicked", json_true());
    admin_reply(r, MHD_HTTP_OK, a);
}
