/* compile_actions.c — action lists and single actions: the application
 * lookup, the common keys (id, label, comment, disabled, on_error, timeout),
 * then the application's own parameters and its check hook. */
#include <stdio.h>
#include <string.h>

#include "scenario/compile_int.h"

bool scn_compile_actions(scn_compile_ctx *cx, const scn_node *n, scn_actions *out)
{
    scn_cx *x = scn_cx_priv(cx);
    size_t errors = cx->diags->errors;
    out->count = 0;
    out->items = NULL;
    if (!n || (n->kind == SCN_NODE_SCALAR && scn_is_null(n)))
        return true;
    if (n->kind != SCN_NODE_SEQ) {
        char buf[64];
        scn_cx_error(cx, n, "expected a list of actions (each '- app: ...'), got %s",
                     scn_node_describe(n, buf, sizeof buf));
        return false;
    }
    scn_action *items = cr_arena_alloc(cx->arena, (n->count + 1) * sizeof *items);
    for (size_t i = 0; i < n->count; i++)
        SCN_WITH_INDEX(x, i) scn_compile_action(x, n->items[i], &items[i]);
    out->count = n->count;
    out->items = items;
    return cx->diags->errors == errors;
}

/* "- answer" or "- play: x" instead of "- app: answer": say how to write it. */
static void not_an_action(scn_cx *x, const scn_node *n)
{
    char buf[64];
    const char *name = NULL;
    if (n->kind == SCN_NODE_SCALAR && !scn_is_null(n))
        name = n->str;
    else if (n->kind == SCN_NODE_MAP && n->count > 0)
        name = n->pairs[0].key->str;
    if (name && scn_app_lookup(x->pub.registry, name))
        scn_cx_error(&x->pub, n, "an action is a mapping with 'app:'; write '- app: %s'", name);
    else if (n->kind == SCN_NODE_MAP)
        scn_cx_error(&x->pub, n, "an action needs 'app:' (the application name)");
    else
        scn_cx_error(&x->pub, n, "expected an action (a mapping with 'app:'), got %s",
                     scn_node_describe(n, buf, sizeof buf));
}

static bool compile_common(scn_cx *x, const app_def *app, const scn_node *n, scn_action *a)
{
    const scn_node *v;
    size_t errors = x->pub.diags->errors;
    if ((v = scn_map_get(n, "id")))
        SCN_WITH_KEY(x, "id") a->id = scn_expect_string(x, v, "an id (text)");
    if ((v = scn_map_get(n, "label")))
        SCN_WITH_KEY(x, "label") a->label = scn_expect_string(x, v, "a label (text)");
    if ((v = scn_map_get(n, "comment")))
        SCN_WITH_KEY(x, "comment") if (v->kind != SCN_NODE_SCALAR) scn_expect_string(x, v, "a comment (text)");
    if ((v = scn_map_get(n, "disabled")))
        SCN_WITH_KEY(x, "disabled") scn_expect_bool(x, v, &a->disabled);
    if ((v = scn_map_get(n, "on_error")))
        SCN_WITH_KEY(x, "on_error") scn_compile_actions(&x->pub, v, &a->on_error);
    a->timeout = app->default_timeout > 0 ? app->default_timeout : -1;
    /* An application with a `timeout` of its own compiles it as a parameter. */
    if ((v = scn_map_get(n, "timeout")) && (app->flags & APP_WAITS) && !(app->flags & APP_OWN_TIMEOUT))
        SCN_WITH_KEY(x, "timeout") {
            double d;
            if (scn_compile_duration(&x->pub, v, &d)) {
                if (d <= 0 || d > 86400)
                    scn_cx_error(&x->pub, v, "expected a timeout above 0 and at most 24h, got %s", v->str);
                else
                    a->timeout = d;
            }
        }
    return x->pub.diags->errors == errors;
}

bool scn_compile_action(scn_cx *x, const scn_node *n, scn_action *a)
{
    scn_program *p = x->pub.prog;
    size_t errors = x->pub.diags->errors;
    a->timeout = -1;
    a->file = n->file;
    a->line = n->line;
    a->col = n->col;
    a->path = cr_arena_strdup(x->pub.arena, scn_path_str(&x->pub.path));
    p->action_count++;
    const scn_node *name = n->kind == SCN_NODE_MAP ? scn_map_get(n, "app") : NULL;
    if (!name) {
        not_an_action(x, n);
        return false;
    }
    const app_def *app = NULL;
    SCN_WITH_KEY(x, "app") {
        const char *s = scn_expect_string(x, name, "an application name");
        if (s && !(app = scn_app_lookup(x->pub.registry, s))) {
            const char *sug = scn_suggest(s, x->app_names);
            if (sug)
                scn_cx_error(&x->pub, name, "unknown application '%s'; did you mean '%s'?", s, sug);
            else
                scn_cx_error(&x->pub, name, "unknown application '%s' (docs/scenario.md lists them)", s);
        }
    }
    if (!app)
        return false;
    a->app = app;
    if (x->hangup_depth > 0 && (app->flags & (APP_CALL_CONTROL | APP_MEDIA)))
        SCN_WITH_KEY(x, "app")
            scn_cx_error(&x->pub, name, "'%s' cannot run in a hangup handler: the call is gone (no %s)", app->name,
                         app->flags & APP_MEDIA ? "media" : "call control");
    if (x->message_route && (app->flags & (APP_CALL_CONTROL | APP_MEDIA)))
        SCN_WITH_KEY(x, "app")
            scn_cx_error(&x->pub, name, "'%s' cannot run in a message route: a message has no %s", app->name,
                         app->flags & APP_MEDIA ? "media" : "call to control");
    if (x->bypass_route && (app->flags & APP_MEDIA))
        SCN_WITH_KEY(x, "app")
            scn_cx_error(&x->pub, name,
                         "'%s' needs media, which a route with 'media: bypass' does not handle "
                         "(its RTP goes from phone to phone); remove it or anchor the media",
                         app->name);
    compile_common(x, app, n, a);
    void *params = NULL;
    bool ok = scn_compile_params(x, app, n, &params);
    a->params = params;
    /* The hook may assume the generic compile succeeded. */
    if (ok && app->check && !app->check(&x->pub, n, params) && x->pub.diags->errors == errors)
        scn_cx_error(&x->pub, n, "'%s' is not valid here", app->name);
    return x->pub.diags->errors == errors;
}
