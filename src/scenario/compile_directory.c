/* compile_directory.c — the directory sections: users (with their
 * voicemail boxes), groups and gateways. Each fills the program's arrays
 * and name indexes; names follow scn_name_ok (compile_settings.c). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/compile_int.h"

static bool is_phone(const char *s)
{
    if (*s == '+')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* users.N.voicemail: {pin, email, unsolicited}. */
static const scn_voicemail *compile_voicemail(scn_cx *x, const scn_node *v)
{
    static const char *const keys[] = {"pin", "email", "unsolicited", NULL};
    scn_voicemail *vm = cr_arena_alloc(x->pub.arena, sizeof *vm);
    if (!scn_expect_map(x, v, "a voicemail box ({pin, email, unsolicited})"))
        return vm;
    scn_check_keys(x, v, keys, "voicemail");
    const scn_node *f;
    if (!(f = scn_map_get(v, "pin")))
        scn_cx_error(&x->pub, v, "voicemail needs 'pin' (digits the owner enters in voicemail_main)");
    else
        SCN_WITH_KEY(x, "pin") {
            vm->pin = scn_expect_string(x, f, "a PIN of digits");
            size_t len = vm->pin ? strlen(vm->pin) : 0;
            if (vm->pin && (len < 1 || len > 16 || strspn(vm->pin, "0123456789") != len))
                scn_cx_error(&x->pub, f, "expected a PIN of 1 to 16 digits (quote it: pin: \"0042\"), got '%s'", vm->pin);
        }
    if ((f = scn_map_get(v, "email")))
        SCN_WITH_KEY(x, "email") {
            vm->email = scn_expect_string(x, f, "an e-mail address");
            if (vm->email && !strchr(vm->email, '@'))
                scn_cx_error(&x->pub, f, "expected an e-mail address, got '%s'", vm->email);
        }
    if ((f = scn_map_get(v, "unsolicited")))
        SCN_WITH_KEY(x, "unsolicited") scn_expect_bool(x, f, &vm->unsolicited);
    return vm;
}

void scn_compile_users(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"name", "password", "email", "mobile", "symmetric_rtp", "srtp", "voicemail", NULL};
    scn_program *p = x->pub.prog;
    if (!n || scn_is_null(n))
        return;
    SCN_WITH_KEY(x, "users") {
        if (scn_expect_map(x, n, "users (number: {name, password, email, mobile, voicemail})")) {
            p->users = cr_arena_alloc(x->pub.arena, (n->count + 1) * sizeof *p->users);
            for (size_t i = 0; i < n->count; i++) {
                const scn_node *k = n->pairs[i].key, *v = n->pairs[i].val;
                scn_user *u = &p->users[p->user_count];
                u->number = k->str;
                u->name = k->str;
                SCN_WITH_KEY(x, k->str) {
                    if (!scn_name_ok(k->str))
                        scn_cx_error(&x->pub, k, "bad user number '%s': use digits (or letters, '_', '-', '.', '+')",
                                     k->str);
                    bool bare = v->kind == SCN_NODE_SCALAR && scn_is_null(v);   /* "101": ~ */
                    if (!bare && scn_expect_map(x, v, "a user ({name, password, email, mobile})")) {
                        scn_check_keys(x, v, keys, "a user");
                        const scn_node *f;
                        if ((f = scn_map_get(v, "name")))
                            SCN_WITH_KEY(x, "name") u->name = scn_expect_string(x, f, "a display name");
                        if ((f = scn_map_get(v, "password")))
                            SCN_WITH_KEY(x, "password") u->password = scn_expect_string(x, f, "a password");
                        if ((f = scn_map_get(v, "email")))
                            SCN_WITH_KEY(x, "email") {
                                u->email = scn_expect_string(x, f, "an e-mail address");
                                if (u->email && !strchr(u->email, '@'))
                                    scn_cx_error(&x->pub, f, "expected an e-mail address, got '%s'", u->email);
                            }
                        if ((f = scn_map_get(v, "mobile")))
                            SCN_WITH_KEY(x, "mobile") {
                                u->mobile = scn_expect_string(x, f, "a phone number");
                                if (u->mobile && !is_phone(u->mobile))
                                    scn_cx_error(&x->pub, f, "expected a phone number like \"+79161234567\", got '%s'",
                                                 u->mobile);
                            }
                        if ((f = scn_map_get(v, "symmetric_rtp")))
                            SCN_WITH_KEY(x, "symmetric_rtp") scn_expect_bool(x, f, &u->symmetric_rtp);
                        if ((f = scn_map_get(v, "srtp")))
                            scn_compile_srtp(x, f, &u->srtp);
                        if ((f = scn_map_get(v, "voicemail")))
                            SCN_WITH_KEY(x, "voicemail") u->voicemail = compile_voicemail(x, f);
                        if (!u->name)
                            u->name = k->str;
                    }
                }
                if (!scn_strmap_put(x->pub.arena, &p->lookup->users, u->number, u))
                    p->user_count++;
            }
        }
    }
}

/* User numbers as a NULL-terminated list, for suggestions. */
static const char **user_numbers(scn_cx *x)
{
    scn_program *p = x->pub.prog;
    const char **v = cr_arena_alloc(x->pub.arena, (p->user_count + 1) * sizeof *v);
    for (size_t i = 0; i < p->user_count; i++)
        v[i] = p->users[i].number;
    return v;
}

void scn_compile_groups(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"members", "strategy", NULL};
    scn_program *p = x->pub.prog;
    const char **numbers = NULL;
    if (!n || scn_is_null(n))
        return;
    SCN_WITH_KEY(x, "groups") {
        if (scn_expect_map(x, n, "groups (name: {members, strategy})")) {
            p->groups = cr_arena_alloc(x->pub.arena, (n->count + 1) * sizeof *p->groups);
            for (size_t i = 0; i < n->count; i++) {
                const scn_node *k = n->pairs[i].key, *v = n->pairs[i].val;
                scn_group *g = &p->groups[p->group_count];
                g->name = k->str;
                SCN_WITH_KEY(x, k->str) {
                    if (!scn_name_ok(k->str))
                        scn_cx_error(&x->pub, k, "bad group name '%s': use letters, digits, '_', '-' or '.'", k->str);
                    if (scn_program_user(p, k->str))
                        scn_cx_error(&x->pub, k, "group '%s' has the name of a user: `dial: { to: %s }` would be ambiguous",
                                     k->str, k->str);
                    if (scn_expect_map(x, v, "a group ({members, strategy})")) {
                        scn_check_keys(x, v, keys, "a group");
                        const scn_node *m = scn_map_get(v, "members"), *st = scn_map_get(v, "strategy");
                        if (!m)
                            scn_cx_error(&x->pub, v, "group '%s' needs 'members' (a list of user numbers)", k->str);
                        else
                            SCN_WITH_KEY(x, "members") {
                                if (m->kind != SCN_NODE_SEQ || m->count == 0) {
                                    char buf[64];
                                    scn_cx_error(&x->pub, m, "expected a non-empty list of user numbers, got %s",
                                                 m->kind == SCN_NODE_SEQ ? "an empty list"
                                                                         : scn_node_describe(m, buf, sizeof buf));
                                } else {
                                    g->members = cr_arena_alloc(x->pub.arena, m->count * sizeof *g->members);
                                    for (size_t j = 0; j < m->count; j++)
                                        SCN_WITH_INDEX(x, j) {
                                            const char *num = scn_expect_string(x, m->items[j], "a user number");
                                            if (num && !scn_program_user(p, num)) {
                                                if (!numbers)
                                                    numbers = user_numbers(x);
                                                const char *s = scn_suggest(num, numbers);
                                                if (s)
                                                    scn_cx_error(&x->pub, m->items[j],
                                                                 "unknown user '%s' in group '%s'; did you mean '%s'?",
                                                                 num, k->str, s);
                                                else
                                                    scn_cx_error(&x->pub, m->items[j],
                                                                 "unknown user '%s' in group '%s' (not in users:)",
                                                                 num, k->str);
                                            }
                                            g->members[j] = num;
                                        }
                                    g->member_count = m->count;
                                }
                            }
                        if (st)
                            SCN_WITH_KEY(x, "strategy") {
                                int e;
                                if (scn_expect_enum(x, st, scn_group_strategy_names, &e))
                                    g->strategy = (scn_group_strategy)e;
                            }
                    }
                }
                if (!scn_strmap_put(x->pub.arena, &p->lookup->groups, g->name, g))
                    p->group_count++;
            }
        }
    }
}

void scn_compile_gateways(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"uri", "auth", "register", "accept_any_source", "number_pattern",
                                       "match", "trust_identity", "symmetric_rtp", "srtp", "transport", NULL};
    static const char *const auth_keys[] = {"username", "password", NULL};
    scn_program *p = x->pub.prog;
    if (!n || scn_is_null(n))
        return;
    SCN_WITH_KEY(x, "gateways") {
        if (scn_expect_map(x, n, "gateways (name: {uri, auth, register})")) {
            p->gateways = cr_arena_alloc(x->pub.arena, (n->count + 1) * sizeof *p->gateways);
            for (size_t i = 0; i < n->count; i++) {
                const scn_node *k = n->pairs[i].key, *v = n->pairs[i].val;
                scn_gateway *g = &p->gateways[p->gateway_count];
                g->name = k->str;
                SCN_WITH_KEY(x, k->str) {
                    if (!scn_name_ok(k->str))
                        scn_cx_error(&x->pub, k, "bad gateway name '%s': use letters, digits, '_', '-' or '.'", k->str);
                    if (scn_expect_map(x, v, "a gateway ({uri, auth, register})")) {
                        scn_check_keys(x, v, keys, "a gateway");
                        const scn_node *f;
                        if (!(f = scn_map_get(v, "uri")))
                            scn_cx_error(&x->pub, v, "gateway '%s' needs 'uri' (like \"sip:198.51.100.7:5060\")", k->str);
                        else
                            SCN_WITH_KEY(x, "uri") {
                                g->uri = scn_expect_string(x, f, "a SIP URI like \"sip:198.51.100.7:5060\"");
                                if (g->uri && !((strncmp(g->uri, "sip:", 4) == 0 && g->uri[4]) ||
                                                (strncmp(g->uri, "sips:", 5) == 0 && g->uri[5])))
                                    scn_cx_error(&x->pub, f, "expected a SIP URI like \"sip:198.51.100.7:5060\", got '%s'",
                                                 g->uri);
                            }
                        if ((f = scn_map_get(v, "transport")))
                            SCN_WITH_KEY(x, "transport") {
                                /* Said once, in the URI the gateway is dialled
                                 * and registered with: sofia picks the tport
                                 * from ;transport= (sips: means TLS too). */
                                static const char *const transports[] = {"udp", "tcp", "tls", NULL};
                                int t = 0;
                                if (scn_expect_enum(x, f, transports, &t) && g->uri) {
                                    if (strstr(g->uri, ";transport=") || strncmp(g->uri, "sips:", 5) == 0)
                                        scn_cx_error(&x->pub, f, "gateway '%s': give the transport in 'uri' or in "
                                                     "'transport', not both", k->str);
                                    else
                                        g->uri = cr_arena_printf(x->pub.arena, "%s;transport=%s", g->uri,
                                                                 transports[t]);
                                }
                            }
                        if ((f = scn_map_get(v, "auth")))
                            SCN_WITH_KEY(x, "auth") {
                                if (scn_expect_map(x, f, "auth ({username, password})")) {
                                    scn_check_keys(x, f, auth_keys, "auth");
                                    const scn_node *u = scn_map_get(f, "username"), *pw = scn_map_get(f, "password");
                                    if (!u)
                                        scn_cx_error(&x->pub, f, "auth needs 'username'");
                                    else
                                        SCN_WITH_KEY(x, "username") g->auth_user = scn_expect_string(x, u, "a user name");
                                    if (pw)
                                        SCN_WITH_KEY(x, "password") g->auth_password = scn_expect_string(x, pw, "a password");
                                    if (!g->auth_password)
                                        g->auth_password = "";
                                }
                            }
                        if ((f = scn_map_get(v, "register")))
                            SCN_WITH_KEY(x, "register") scn_expect_bool(x, f, &g->register_);
                        if ((f = scn_map_get(v, "accept_any_source")))
                            SCN_WITH_KEY(x, "accept_any_source") scn_expect_bool(x, f, &g->accept_any_source);
                        if ((f = scn_map_get(v, "trust_identity")))
                            SCN_WITH_KEY(x, "trust_identity") scn_expect_bool(x, f, &g->trust_identity);
                        if ((f = scn_map_get(v, "symmetric_rtp")))
                            SCN_WITH_KEY(x, "symmetric_rtp") scn_expect_bool(x, f, &g->symmetric_rtp);
                        if ((f = scn_map_get(v, "srtp")))
                            scn_compile_srtp(x, f, &g->srtp);
                        if ((f = scn_map_get(v, "match")))
                            SCN_WITH_KEY(x, "match") {
                                /* address: its IP and port (as in uri); ip: any port of its IP */
                                static const char *const matches[] = {"address", "ip", NULL};
                                int m = 0;
                                if (scn_expect_enum(x, f, matches, &m))
                                    g->match_ip = m == 1;
                            }
                        f = scn_map_get(v, "number_pattern");
                        if (!f)
                            scn_gateway_compile_number_pattern(&x->pub, g, NULL);
                        else
                            SCN_WITH_KEY(x, "number_pattern") {
                                if (scn_expect_string(x, f, "a regex numbers sent through it must match"))
                                    scn_gateway_compile_number_pattern(&x->pub, g, f);
                            }
                    }
                }
                if (!scn_strmap_put(x->pub.arena, &p->lookup->gateways, g->name, g))
                    p->gateway_count++;
            }
        }
    }
}
