/* test_engine_sim.c — the sim driver on its own: the SPEC grammar (events,
 * arguments, times, order, errors), parties found by target then gw:NAME,
 * the default party that rings forever, DTMF strings 100 ms apart, prompt
 * lengths from WAV files, a missing prompt reported through the callback,
 * cancelled operations never calling back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "telephony/sim/sim.h"

static void test_spec_parse(void **state)
{
    (void)state;
    sim_spec s;
    char err[200];
    assert_true(sim_spec_parse("answer@4, ringing@0,dtmf:12#@6,reject:503@1.5,hangup@30", false, &s,
                               err, sizeof err));
    assert_int_equal(s.count, 5);
    assert_int_equal(s.steps[0].kind, SIM_RINGING);
    assert_int_equal(s.steps[1].kind, SIM_REJECT);
    assert_int_equal(s.steps[1].code, 503);
    assert_true(s.steps[1].at == 1.5);
    assert_int_equal(s.steps[2].kind, SIM_ANSWER);
    assert_string_equal(s.steps[3].digits, "12#");
    assert_int_equal(s.steps[4].kind, SIM_HANGUP);
    sim_spec_free(&s);
    /* Same time: written order kept. */
    assert_true(sim_spec_parse("hold@5,unhold@5", true, &s, err, sizeof err));
    assert_int_equal(s.steps[0].kind, SIM_HOLD);
    assert_int_equal(s.steps[1].kind, SIM_UNHOLD);
    sim_spec_free(&s);
    assert_true(sim_spec_parse("", true, &s, err, sizeof err));
    assert_int_equal(s.count, 0);
}

static void test_spec_errors(void **state)
{
    (void)state;
    static const struct {
        const char *spec;
        bool caller;
        const char *msg;
    } bad[] = {
        {"answer@2", true, "unknown caller event 'answer'"},
        {"explode@1", false, "unknown party event 'explode'"},
        {"hold", true, "expected EVENT@SECONDS"},
        {"hold@soon", true, "bad time 'soon'"},
        {"hold@-1", true, "bad time '-1'"},
        {"dtmf@1", true, "dtmf needs digits"},
        {"dtmf:12x@1", true, "dtmf needs digits"},
        {"reject:200@1", false, "reject needs a SIP code"},
        {"busy:3@1", false, "takes no argument"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sim_spec s;
        char err[200] = "";
        assert_false(sim_spec_parse(bad[i].spec, bad[i].caller, &s, err, sizeof err));
        if (!strstr(err, bad[i].msg))
            fail_msg("%s: got '%s'", bad[i].spec, err);
        assert_null(s.steps);
    }
}

/* ---- a tiny engine stand-in recording what the driver raises ---- */

typedef struct seen {
    loop *l;
    char log[2048];
    tel_driver *t;
    tel_leg *caller;
} seen;

static bool incoming_cb(void *eng, tel_leg *leg, const tel_call_info *info, int *reject)
{
    (void)info;
    (void)reject;
    seen *s = eng;
    s->caller = leg;
    s->t->ops->leg_set_user(s->t, leg, "caller");
    return true;
}

static void event_cb(void *eng, tel_leg *leg, void *user, const tel_event *ev)
{
    (void)leg;
    seen *s = eng;
    char one[64];
    snprintf(one, sizeof one, "%s:%s%c%s@%g;", (const char *)user, tel_event_names[ev->kind],
             ev->digit ? ev->digit : ' ', ev->kind == TEL_EV_FAILED || ev->kind == TEL_EV_BUSY ? "!" : "",
             loop_now(s->l));
    strncat(s->log, one, sizeof s->log - strlen(s->log) - 1);
}

static void test_parties_and_dtmf(void **state)
{
    (void)state;
    loop *l = loop_new_virtual(0);
    sim_driver *d = sim_driver_new(l);
    tel_driver *t = sim_driver_tel(d);
    seen s = {.l = l, .t = t};
    tel_handler h = {.incoming = incoming_cb, .event = event_cb, .eng = &s};
    t->ops->set_handler(t, &h);
    char err[100];
    assert_true(sim_party_add(d, "101", "answer@1,dtmf:42@2", err, sizeof err));
    assert_true(sim_party_add(d, "gw:trunk", "busy@3", err, sizeof err));
    assert_false(sim_party_add(d, "102", "nope@1", err, sizeof err));
    tel_call_info info = {.caller_number = "1", .called_number = "2", .source = "trunk"};
    assert_int_equal(sim_call(d, &info, "hangup@10", err, sizeof err), 0);
    tel_dial_req a = {.kind = TEL_DIAL_USER, .target = "101"};
    tel_dial_req b = {.kind = TEL_DIAL_GATEWAY, .target = "74950001122", .gateway = "trunk"};
    tel_dial_req c = {.kind = TEL_DIAL_URI, .target = "sip:x@y"};
    tel_leg *la = t->ops->dial(t, &a, "a");
    tel_leg *lb = t->ops->dial(t, &b, "b");
    tel_leg *lc = t->ops->dial(t, &c, "c");
    loop_run(l);
    assert_string_equal(s.log, "a:trying @0;b:trying @0;c:trying @0;c:ringing @0;a:answer @1;"
                               "a:dtmf4@2;a:dtmf2@2.1;b:busy !@3;caller:hangup @10;");
    assert_int_equal(sim_dialled_count(d), 3);
    t->ops->leg_release(t, la);
    t->ops->leg_release(t, lb);
    t->ops->leg_release(t, lc);
    t->ops->leg_release(t, s.caller);
    assert_int_equal(sim_live_legs(d), 0);
    sim_driver_free(d);
    loop_destroy(l);
}

typedef struct op_result {
    int calls, status;
    double at;
    char msg[200];
} op_result;

static void op_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit;
    op_result *r = arg;
    r->calls++;
    r->status = status;
    snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
}

static void write_wav(const char *path, double seconds)
{
    SF_INFO info = {.samplerate = 8000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    assert_non_null(f);
    short zero[800] = {0};
    for (int i = 0; i < (int)(seconds * 10); i++)
        sf_write_short(f, zero, 800);
    sf_close(f);
}

static loop *media_loop;

static void note_time_cb(void *arg, int status, const char *msg, char digit)
{
    op_cb(arg, status, msg, digit);
    ((op_result *)arg)->at = loop_now(media_loop);
}

static void test_media_ops(void **state)
{
    (void)state;
    char path[] = "/tmp/test_sim_XXXXXX.wav";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    close(fd);
    write_wav(path, 2.5);
    loop *l = loop_new_virtual(0);
    media_loop = l;
    sim_driver *d = sim_driver_new(l);
    tel_driver *t = sim_driver_tel(d);
    seen s = {.l = l, .t = t};
    tel_handler h = {.incoming = incoming_cb, .event = event_cb, .eng = &s};
    t->ops->set_handler(t, &h);
    char err[100];
    tel_call_info info = {.caller_number = "1", .called_number = "2", .source = "x"};
    assert_int_equal(sim_call(d, &info, NULL, err, sizeof err), 0);
    op_result played = {0}, missing = {0}, cancelled = {0};
    t->ops->play(t, s.caller, path, false, note_time_cb, &played);
    t->ops->play(t, s.caller, "/nonexistent/prompt.wav", false, op_cb, &missing);
    tel_op *rec = t->ops->record(t, s.caller, "/tmp/x.wav", 100, true, 5, op_cb, &cancelled);
    loop_run(l);   /* the recording keeps the loop until 100.25 s (its 0.25 s beep, then 100 s) */
    (void)rec;
    assert_int_equal(played.calls, 1);
    assert_int_equal(played.status, 0);
    assert_true(played.at == 2.5);   /* the WAV's length, in virtual time */
    assert_int_equal(missing.calls, 1);
    assert_true(missing.status < 0);
    assert_non_null(strstr(missing.msg, "/nonexistent/prompt.wav"));
    assert_true(loop_now(l) == 100.25);

    op_result c2 = {0};
    double t0 = loop_now(l);
    tel_op *op = t->ops->tone(t, s.caller, TEL_TONE_BEEP, 5, op_cb, &c2);
    t->ops->op_cancel(t, op);
    loop_run(l);
    assert_int_equal(c2.calls, 0);
    assert_true(loop_now(l) == t0);
    t->ops->leg_release(t, s.caller);
    sim_driver_free(d);
    loop_destroy(l);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_parse),
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_parties_and_dtmf),
        cmocka_unit_test(test_media_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
