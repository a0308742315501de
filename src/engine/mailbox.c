/* mailbox.c — voicemail boxes (engine.h: voicemail). A box is a directory
 * below settings.media.recordings: voicemail/BOX/new/ and old/ hold the
 * messages (ID.wav and ID.json: caller, caller_name, call_id, time,
 * duration), tmp/ what is being recorded, greeting.wav the owner's
 * greeting. The engine reads a box once (on the worker pool) and keeps its
 * index; every change is made to the index at once and to the files on the
 * pool, and the driver is told the counts (message waiting, RFC 3842).
 * With eng_options.dry_run nothing touches the disk: boxes start empty and
 * live in memory (simulate, callroute test).
 *
 * Pool jobs run one at a time, in the order asked (a message marked heard
 * and then deleted is renamed before it is removed), and hold a reference
 * on the store: one that finishes after the engine is gone only frees
 * itself. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine_int.h"
#include "util/alloc.h"
#include "util/path.h"

typedef struct vm_msg {
    eng_vm_msg pub;            /* strings below are malloc'd */
} vm_msg;

typedef struct vm_waiter {
    struct vm_waiter *next;
    void (*done)(void *arg);
    void *arg;
} vm_waiter;

typedef struct store_job {
    struct store_job *next;
    struct eng_mailstore *st;
    loop_work_fn work;
    loop_done_cb done;
    void *arg;
} store_job;

typedef struct eng_mailstore {
    int refs;
    eng_engine *e;             /* NULL once the engine is gone */
    loop *l;
    store_job *head, *tail;    /* waiting for the pool, the first one running when RUNNING */
    bool running;
    struct eng_vm_box *boxes;
    unsigned long seq;         /* message ids */
    loop_timer *wake;          /* dry run: loads complete on the next turn */
} eng_mailstore;

struct eng_vm_box {
    struct eng_vm_box *next;
    eng_mailstore *st;
    char *name;
    char *dir;                 /* <recordings>/voicemail/NAME */
    bool loaded, loading;
    vm_msg *msgs;
    size_t count, cap;
    eng_vm_msg *view;          /* eng_vm_box_messages: new first */
    vm_waiter *waiters;
    unsigned told_new, told_old;
    bool told;
};

static void store_unref(eng_mailstore *st);

static void store_job_done(loop *l, void *arg);

/* Worker: the job's own work. */
static void store_job_work(void *arg)
{
    store_job *j = arg;
    j->work(j->arg);
}

static void store_job_start(eng_mailstore *st)
{
    if (st->running || !st->head)
        return;
    st->running = true;
    loop_work(st->l, store_job_work, store_job_done, st->head);
}

static void store_job_done(loop *l, void *arg)
{
    store_job *j = arg;
    eng_mailstore *st = j->st;
    st->head = j->next;
    if (!st->head)
        st->tail = NULL;
    st->running = false;   /* a job the callback asks for may start */
    st->refs++;            /* the done callback may drop the job's reference */
    j->done(l, j->arg);
    free(j);
    store_job_start(st);
    store_unref(st);
}

/* WORK on the pool after every job asked before; DONE on the loop. */
static void store_work(eng_mailstore *st, loop_work_fn work, loop_done_cb done, void *arg)
{
    store_job *j = cr_xcalloc(1, sizeof *j);
    j->st = st;
    j->work = work;
    j->done = done;
    j->arg = arg;
    if (st->tail)
        st->tail->next = j;
    else
        st->head = j;
    st->tail = j;
    store_job_start(st);
}

/* ---- names and paths ---- */

/* A message id as we make them (and the only ones read back): letters,
 * digits, '-' and '_'. */
static bool id_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              s[i] == '-' || s[i] == '_'))
            return false;
    return true;
}

static bool box_name_ok(const char *s) { return s && *s && *s != '.' && !strchr(s, '/') && strlen(s) <= 64; }

/* ---- the index ---- */

static void msg_free(vm_msg *m)
{
    free((char *)m->pub.id);
    free((char *)m->pub.caller);
    free((char *)m->pub.caller_name);
    free((char *)m->pub.call_id);
}

static void index_add(eng_vm_box *b, const eng_vm_msg *src)
{
    for (size_t i = 0; i < b->count; i++)
        if (strcmp(b->msgs[i].pub.id, src->id) == 0)
            return;
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->msgs = cr_xrealloc(b->msgs, b->cap * sizeof *b->msgs);
    }
    vm_msg *m = &b->msgs[b->count++];
    m->pub = *src;
    m->pub.id = cr_xstrdup(src->id);
    m->pub.caller = cr_xstrdup(src->caller ? src->caller : "");
    m->pub.caller_name = cr_xstrdup(src->caller_name ? src->caller_name : "");
    m->pub.call_id = cr_xstrdup(src->call_id ? src->call_id : "");
}

static vm_msg *index_find(eng_vm_box *b, const char *id)
{
    for (size_t i = 0; i < b->count; i++)
        if (strcmp(b->msgs[i].pub.id, id) == 0)
            return &b->msgs[i];
    return NULL;
}

static int by_time(const void *a, const void *b)
{
    const eng_vm_msg *x = a, *y = b;
    if (x->old != y->old)
        return x->old ? 1 : -1;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return strcmp(x->id, y->id);
}

void eng_vm_box_counts(eng_vm_box *b, unsigned *new_, unsigned *old)
{
    *new_ = *old = 0;
    for (size_t i = 0; i < b->count; i++)
        (*(b->msgs[i].pub.old ? old : new_))++;
}

size_t eng_vm_box_messages(eng_vm_box *b, const eng_vm_msg **out)
{
    free(b->view);
    b->view = cr_xmalloc((b->count ? b->count : 1) * sizeof *b->view);
    for (size_t i = 0; i < b->count; i++)
        b->view[i] = b->msgs[i].pub;
    qsort(b->view, b->count, sizeof *b->view, by_time);
    *out = b->view;
    return b->count;
}

const char *eng_vm_box_name(const eng_vm_box *b) { return b->name; }

/* The phones are told the counts when they changed (or were never told). */
static void tell(eng_vm_box *b)
{
    eng_engine *e = b->st->e;
    if (!e || !b->loaded)
        return;
    unsigned n, o;
    eng_vm_box_counts(b, &n, &o);
    if (b->told && n == b->told_new && o == b->told_old)
        return;
    b->told = true;
    b->told_new = n;
    b->told_old = o;
    const scn_user *u = scn_program_user(e->prog, b->name);
    bool unsolicited = u && u->voicemail && u->voicemail->unsolicited;
    if (e->tel && e->tel->ops->mwi)
        e->tel->ops->mwi(e->tel, b->name, n, o, unsolicited);
}

/* ---- the store and its boxes ---- */

static eng_mailstore *store(eng_engine *e)
{
    if (!e->mail) {
        e->mail = cr_xcalloc(1, sizeof *e->mail);
        e->mail->refs = 1;
        e->mail->e = e;
        e->mail->l = e->l;
    }
    return e->mail;
}

static void store_unref(eng_mailstore *st)
{
    if (--st->refs > 0)
        return;
    while (st->boxes) {
        eng_vm_box *b = st->boxes;
        st->boxes = b->next;
        for (size_t i = 0; i < b->count; i++)
            msg_free(&b->msgs[i]);
        free(b->msgs);
        free(b->view);
        while (b->waiters) {
            vm_waiter *w = b->waiters;
            b->waiters = w->next;
            free(w);
        }
        free(b->name);
        free(b->dir);
        free(b);
    }
    free(st);
}

void eng_mailstore_free(eng_engine *e)
{
    eng_mailstore *st = e->mail;
    if (!st)
        return;
    e->mail = NULL;
    if (st->wake)
        loop_timer_stop(e->l, st->wake);
    st->wake = NULL;
    st->e = NULL;
    store_unref(st);
}

static eng_vm_box *box_get(eng_engine *e, const scn_program *prog, const char *name)
{
    const scn_user *u = scn_program_user(prog, name);
    if (!u || !u->voicemail || !box_name_ok(name))
        return NULL;
    eng_mailstore *st = store(e);
    char dir[PATH_MAX];
    const char *rec = prog->settings.recordings && *prog->settings.recordings ? prog->settings.recordings : ".";
    snprintf(dir, sizeof dir, "%s/voicemail/%s", rec, name);
    for (eng_vm_box *b = st->boxes; b; b = b->next)
        if (strcmp(b->name, name) == 0) {
            if (strcmp(b->dir, dir) != 0 && !b->loading) {
                /* settings.media.recordings moved (a reload): read it there */
                free(b->dir);
                b->dir = cr_xstrdup(dir);
                b->loaded = false;
            }
            return b;
        }
    eng_vm_box *b = cr_xcalloc(1, sizeof *b);
    b->st = st;
    b->name = cr_xstrdup(name);
    b->dir = cr_xstrdup(dir);
    b->next = st->boxes;
    st->boxes = b;
    return b;
}

eng_vm_box *eng_vm_box_get(eng_call *c, const char *box) { return box_get(c->e, c->prog, box); }

/* ---- loading ---- */

typedef struct load_job {
    eng_mailstore *st;
    eng_vm_box *b;
    char *dir;
    eng_vm_msg *found;         /* the worker's: strings malloc'd */
    size_t n, cap;
} load_job;

static char *json_text(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return cr_xstrdup(s ? s : "");
}

/* Worker: the messages of DIR/SUB. */
static void scan(load_job *j, const char *sub, bool old)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", j->dir, sub);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0 || !id_ok(de->d_name, len - 5))
            continue;
        char meta[PATH_MAX + 128], wav[PATH_MAX + 128];
        snprintf(meta, sizeof meta, "%s/%.*s.json", path, (int)(len - 5), de->d_name);
        snprintf(wav, sizeof wav, "%s/%.*s.wav", path, (int)(len - 5), de->d_name);
        if (access(wav, R_OK) != 0)
            continue;
        json_t *o = json_load_file(meta, 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            continue;
        }
        if (j->n == j->cap) {
            j->cap = j->cap ? j->cap * 2 : 16;
            j->found = cr_xrealloc(j->found, j->cap * sizeof *j->found);
        }
        eng_vm_msg *m = &j->found[j->n++];
        m->id = cr_xstrndup(de->d_name, len - 5);
        m->caller = json_text(o, "caller");
        m->caller_name = json_text(o, "caller_name");
        m->call_id = json_text(o, "call_id");
        m->time = json_number_value(json_object_get(o, "time"));
        m->duration = json_number_value(json_object_get(o, "duration"));
        m->old = old;
        json_decref(o);
    }
    closedir(d);
}

static void load_work(void *arg)
{
    load_job *j = arg;
    scan(j, "new", false);
    scan(j, "old", true);
}

static void run_waiters(eng_vm_box *b)
{
    vm_waiter *w = b->waiters;
    b->waiters = NULL;
    while (w) {
        vm_waiter *next = w->next;
        w->done(w->arg);
        free(w);
        w = next;
    }
}

static void loaded(eng_vm_box *b)
{
    b->loaded = true;
    b->loading = false;
    run_waiters(b);
    tell(b);
}

static void load_done(loop *l, void *arg)
{
    (void)l;
    load_job *j = arg;
    eng_vm_box *b = j->b;
    for (size_t i = 0; i < j->n; i++) {
        if (j->st->e)
            index_add(b, &j->found[i]);
        msg_free(&(vm_msg){.pub = j->found[i]});
    }
    free(j->found);
    free(j->dir);
    eng_mailstore *st = j->st;
    free(j);
    if (st->e)
        loaded(b);
    store_unref(st);
}

static void wake_cb(loop *l, void *arg)
{
    (void)l;
    eng_mailstore *st = arg;
    st->wake = NULL;
    for (eng_vm_box *b = st->boxes; b; b = b->next) {
        if (b->loading && st->e->opt.dry_run)
            loaded(b);
        else if (b->loaded)
            run_waiters(b);
    }
}

static void load_start(eng_vm_box *b)
{
    eng_mailstore *st = b->st;
    if (b->loaded || b->loading || !st->e)
        return;
    b->loading = true;
    if (st->e->opt.dry_run) {
        if (!st->wake)
            st->wake = loop_timer_start(st->e->l, 0, wake_cb, st);
        return;
    }
    load_job *j = cr_xcalloc(1, sizeof *j);
    j->st = st;
    j->b = b;
    j->dir = cr_xstrdup(b->dir);
    st->refs++;
    store_work(st, load_work, load_done, j);
}

void eng_vm_box_load(eng_vm_box *b, void (*done)(void *arg), void *arg)
{
    vm_waiter *w = cr_xcalloc(1, sizeof *w);
    w->done = done;
    w->arg = arg;
    w->next = b->waiters;
    b->waiters = w;
    if (b->loaded) {   /* on a later turn all the same, as promised */
        if (!b->st->wake)
            b->st->wake = loop_timer_start(b->st->e->l, 0, wake_cb, b->st);
        return;
    }
    load_start(b);
}

void eng_vm_box_load_cancel(eng_vm_box *b, void *arg)
{
    if (!b)
        return;
    for (vm_waiter **p = &b->waiters; *p;) {
        vm_waiter *w = *p;
        if (w->arg == arg) {
            *p = w->next;
            free(w);
        } else {
            p = &w->next;
        }
    }
}

bool eng_mailbox_counts_cb(void *eng, const char *user, unsigned *new_, unsigned *old)
{
    eng_engine *e = eng;
    eng_vm_box *b = e->prog ? box_get(e, e->prog, user) : NULL;
    *new_ = *old = 0;
    if (!b)
        return false;
    if (b->loaded) {
        eng_vm_box_counts(b, new_, old);
        b->told = true;   /* the phone hears these now */
        b->told_new = *new_;
        b->told_old = *old;
    } else {
        /* The phone hears 0/0 now; once the box is read it is told again
         * if there is more. */
        b->told = true;
        b->told_new = b->told_old = 0;
        load_start(b);
    }
    return true;
}

/* ---- paths ---- */

static const char *box_path(eng_strand *s, eng_vm_box *b, const char *rest, const char **why)
{
    char name[PATH_MAX];
    snprintf(name, sizeof name, "voicemail/%s/%s", b->name, rest);
    return eng_file_resolve(s, ENG_DIR_RECORDINGS, "voicemail file", name, why);
}

const char *eng_vm_record_path(eng_strand *s, eng_vm_box *b, const char **why)
{
    char id[64], rest[96];
    time_t t = (time_t)loop_now(s->call->e->l);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(id, sizeof id, "%Y%m%d-%H%M%S", &tm);
    snprintf(id + n, sizeof id - n, "-%lu", ++b->st->seq);
    snprintf(rest, sizeof rest, "tmp/%s.wav", id);
    return box_path(s, b, rest, why);
}

const char *eng_vm_greeting_path(eng_strand *s, eng_vm_box *b, const char **why)
{
    return box_path(s, b, "greeting.wav", why);
}

const char *eng_vm_msg_path(eng_strand *s, eng_vm_box *b, const eng_vm_msg *m)
{
    char rest[96];
    snprintf(rest, sizeof rest, "%s/%s.wav", m->old ? "old" : "new", m->id);
    const char *why;
    return box_path(s, b, rest, &why);
}

/* ---- changes ---- */

struct eng_vm_job {
    eng_mailstore *st;
    eng_vm_box *b;
    char *from, *to, *from_meta, *to_meta, *meta_text;
    char *err;
    void (*saved)(void *arg, const char *path, const char *err);
    void (*done)(void *arg, const char *err);
    void *arg;
    eng_vm_msg msg;            /* save: the message */
    bool have_msg;
};
typedef struct eng_vm_job file_job;

static void job_free(file_job *j)
{
    free(j->from);
    free(j->to);
    free(j->from_meta);
    free(j->to_meta);
    free(j->meta_text);
    free(j->err);
    if (j->have_msg)
        msg_free(&(vm_msg){.pub = j->msg});
    free(j);
}

static void set_err(file_job *j, const char *what, const char *path)
{
    char buf[PATH_MAX + 100];
    snprintf(buf, sizeof buf, "%s %s: %s", what, path, strerror(errno));
    if (!j->err)
        j->err = cr_xstrdup(buf);
}

static char *dir_of(const char *path)
{
    char *d = cr_xstrdup(path);
    char *slash = strrchr(d, '/');
    if (slash)
        *slash = '\0';
    return d;
}

/* Worker: metadata written (a temporary name, then renamed), then the
 * files moved (FROM -> TO, FROM_META -> TO_META); with neither TO nor
 * TO_META, FROM and FROM_META are removed. */
static void file_work(void *arg)
{
    file_job *j = arg;
    if (j->err)
        return;   /* refused before it ran (no path in the box): nothing is touched */
    if (j->to) {
        char *d = dir_of(j->to);
        if (cr_path_mkdirs(d, 0750) != 0)
            set_err(j, "cannot create", d);
        free(d);
    }
    if (!j->err && j->meta_text && j->to_meta) {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s.tmp", j->to_meta);
        FILE *f = fopen(tmp, "w");
        if (!f || fputs(j->meta_text, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0)
            set_err(j, "cannot write", tmp);
        if (f)
            fclose(f);
        if (!j->err && rename(tmp, j->to_meta) != 0)
            set_err(j, "cannot rename", tmp);
    }
    if (!j->err && j->from && j->to && rename(j->from, j->to) != 0)
        set_err(j, "cannot move", j->from);
    if (!j->err && j->from_meta && j->to_meta && !j->meta_text && rename(j->from_meta, j->to_meta) != 0)
        set_err(j, "cannot move", j->from_meta);
    if (!j->to) {
        if (j->from && unlink(j->from) != 0 && errno != ENOENT)
            set_err(j, "cannot remove", j->from);
        if (j->from_meta && unlink(j->from_meta) != 0 && errno != ENOENT)
            set_err(j, "cannot remove", j->from_meta);
    }
}

static void file_done(loop *l, void *arg)
{
    (void)l;
    file_job *j = arg;
    eng_mailstore *st = j->st;
    if (st->e) {
        if (j->have_msg && !j->err && !j->b->loaded && st->e->opt.dry_run) {
            j->b->loaded = true;   /* a box in memory starts empty: nothing to read */
            j->b->loading = false;
        }
        if (j->have_msg && !j->err && j->b->loaded) {
            index_add(j->b, &j->msg);
            tell(j->b);
        } else if (j->have_msg && !j->err) {
            load_start(j->b);   /* read with the new message in it; the phones are told then */
        }
        if (j->saved)
            j->saved(j->arg, j->err ? NULL : j->to, j->err);
        if (j->done)
            j->done(j->arg, j->err);
    }
    job_free(j);
    store_unref(st);
}

/* Runs J on the pool: J, to detach from; or (dry run) at once without
 * touching a file: NULL, its callback has run. */
static file_job *file_run(file_job *j)
{
    eng_mailstore *st = j->st;
    st->refs++;
    if (st->e->opt.dry_run) {
        file_done(st->e->l, j);
        return NULL;
    }
    store_work(st, file_work, file_done, j);
    return j;
}

void eng_vm_job_detach(eng_vm_job *j)
{
    if (j) {
        j->saved = NULL;
        j->done = NULL;
    }
}

/* S as a JSON string, or "" when it is not UTF-8. */
static json_t *text_or_empty(const char *s)
{
    json_t *j = json_string(s);
    return j ? j : json_string("");
}

eng_vm_job *eng_vm_save(eng_strand *s, eng_vm_box *b, const char *tmp, double duration,
                        void (*done)(void *arg, const char *path, const char *err), void *arg)
{
    eng_call *c = s->call;
    file_job *j = cr_xcalloc(1, sizeof *j);
    j->st = b->st;
    j->b = b;
    j->saved = done;
    j->arg = arg;
    const char *base = strrchr(tmp, '/');
    base = base ? base + 1 : tmp;
    size_t idlen = strlen(base) > 4 ? strlen(base) - 4 : 0;
    char id[80];
    snprintf(id, sizeof id, "%.*s", (int)idlen, base);
    cr_value v;
    const char *caller = eng_var_get(c, "caller_number", &v) && v.kind == CR_VAL_STR ? v.str : "";
    const char *name = eng_var_get(c, "caller_name", &v) && v.kind == CR_VAL_STR ? v.str : "";
    j->msg = (eng_vm_msg){.id = cr_xstrdup(id), .caller = cr_xstrdup(caller), .caller_name = cr_xstrdup(name),
                          .call_id = cr_xstrdup(eng_call_idp(c)), .time = loop_now(c->e->l), .duration = duration};
    j->have_msg = true;
    char rest[128];
    const char *why;
    snprintf(rest, sizeof rest, "new/%s.wav", id);
    const char *to = box_path(s, b, rest, &why);
    snprintf(rest, sizeof rest, "new/%s.json", id);
    const char *meta = to ? box_path(s, b, rest, &why) : NULL;
    j->to = to ? cr_xstrdup(to) : NULL;
    j->to_meta = meta ? cr_xstrdup(meta) : NULL;
    j->from = cr_xstrdup(tmp);
    if (!to || !meta)   /* the recording stays where it is; the caller is told it failed */
        j->err = cr_xstrdup(why ? why : "no place for the message in the box");
    json_t *o = json_object();
    /* The caller's number and name come from the network: jansson refuses
     * what is not UTF-8, and they are then left empty. */
    json_object_set_new(o, "caller", text_or_empty(caller));
    json_object_set_new(o, "caller_name", text_or_empty(name));
    json_object_set_new(o, "call_id", text_or_empty(eng_call_idp(c)));
    json_object_set_new(o, "time", json_real(j->msg.time));
    json_object_set_new(o, "duration", json_real(duration));
    j->meta_text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return file_run(j);
}

eng_vm_job *eng_vm_set_greeting(eng_strand *s, eng_vm_box *b, const char *tmp,
                                void (*done)(void *arg, const char *err), void *arg)
{
    file_job *j = cr_xcalloc(1, sizeof *j);
    j->st = b->st;
    j->b = b;
    j->done = done;
    j->arg = arg;
    const char *why, *to = eng_vm_greeting_path(s, b, &why);
    j->from = cr_xstrdup(tmp);
    j->to = to ? cr_xstrdup(to) : NULL;
    if (!to)
        j->err = cr_xstrdup(why ? why : "no place for the greeting in the box");
    return file_run(j);
}

/* Moves (OLD: new -> old) or removes message M's files. */
static void msg_files(eng_vm_box *b, const eng_vm_msg *m, bool remove)
{
    if (!b->st->e)
        return;
    file_job *j = cr_xcalloc(1, sizeof *j);
    j->st = b->st;
    j->b = b;
    const char *folder = m->old ? "old" : "new";
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s/%s.wav", b->dir, folder, m->id);
    j->from = cr_xstrdup(p);
    snprintf(p, sizeof p, "%s/%s/%s.json", b->dir, folder, m->id);
    j->from_meta = cr_xstrdup(p);
    if (!remove) {
        snprintf(p, sizeof p, "%s/old/%s.wav", b->dir, m->id);
        j->to = cr_xstrdup(p);
        snprintf(p, sizeof p, "%s/old/%s.json", b->dir, m->id);
        j->to_meta = cr_xstrdup(p);
    }
    file_run(j);
}

void eng_vm_mark_old(eng_vm_box *b, const char *id)
{
    vm_msg *m = index_find(b, id);
    if (!m || m->pub.old)
        return;
    msg_files(b, &m->pub, false);
    m->pub.old = true;
    tell(b);
}

void eng_vm_delete(eng_vm_box *b, const char *id)
{
    vm_msg *m = index_find(b, id);
    if (!m)
        return;
    msg_files(b, &m->pub, true);
    msg_free(m);
    *m = b->msgs[--b->count];
    tell(b);
}

void eng_vm_discard(eng_call *c, const char *path)
{
    eng_mailstore *st = store(c->e);
    file_job *j = cr_xcalloc(1, sizeof *j);
    j->st = st;
    j->from = cr_xstrdup(path);
    file_run(j);
}
