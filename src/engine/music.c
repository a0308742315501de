/* music.c — music on a leg (a parked call, a conference member alone): a
 * prompt played over and over with the driver's play, restarted by the
 * engine when it ends, until stopped. A play that fails (a missing file,
 * the leg gone) or ends at once is not restarted: it would spin. */
#include <stdlib.h>

#include "engine/engine_int.h"
#include "util/alloc.h"

struct eng_music {
    eng_engine *e;
    tel_leg *leg;
    char *path;
    tel_op *op;
    double started;
};

static void play(eng_music *m);

static void played_cb(void *arg, int status, const char *msg, char digit)
{
    (void)msg;
    (void)digit;
    eng_music *m = arg;
    m->op = NULL;
    if (status < 0 || loop_now(m->e->l) - m->started < 0.05)
        return;
    play(m);
}

static void play(eng_music *m)
{
    tel_driver *d = m->e->tel;
    m->started = loop_now(m->e->l);
    m->op = d->ops->play(d, m->leg, m->path, false, played_cb, m);
}

eng_music *eng_music_start(eng_engine *e, tel_leg *leg, const char *path)
{
    if (!path || !leg)
        return NULL;
    eng_music *m = cr_xcalloc(1, sizeof *m);
    m->e = e;
    m->leg = leg;
    m->path = cr_xstrdup(path);
    play(m);
    return m;
}

void eng_music_stop(eng_music *m)
{
    if (!m)
        return;
    if (m->op)
        m->e->tel->ops->op_cancel(m->e->tel, m->op);
    free(m->path);
    free(m);
}
