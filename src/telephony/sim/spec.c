/* spec.c — the SPEC grammar of simulate --caller / --party:
 * a comma list of EVENT@SECONDS, EVENT being a name or name:argument. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telephony/sim/sim.h"
#include "util/alloc.h"

static const struct {
    const char *name;
    sim_step_kind kind;
    bool caller, party;
} step_names[] = {
    {"ringing", SIM_RINGING, false, true},
    {"early_media", SIM_EARLY_MEDIA, false, true},
    {"answer", SIM_ANSWER, false, true},
    {"busy", SIM_BUSY, false, true},
    {"reject", SIM_REJECT, false, true},
    {"hold", SIM_HOLD, true, true},
    {"unhold", SIM_UNHOLD, true, true},
    {"dtmf", SIM_DTMF, true, true},
    {"hangup", SIM_HANGUP, true, true},
    {"transfer", SIM_TRANSFER, true, true},
};

static bool fail(char *err, size_t n, const char *fmt, const char *a, const char *b)
{
    snprintf(err, n, fmt, a, b);
    return false;
}

/* Stable: events at the same time keep their written order. */
static void sort_steps(sim_step *s, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        sim_step x = s[i];
        size_t j = i;
        while (j > 0 && s[j - 1].at > x.at) {
            s[j] = s[j - 1];
            j--;
        }
        s[j] = x;
    }
}

bool sim_spec_parse(const char *spec, bool caller, sim_spec *out, char *err, size_t errlen)
{
    out->steps = NULL;
    out->count = 0;
    if (!spec || !*spec)
        return true;
    char *copy = cr_xstrdup(spec);
    size_t cap = 1;
    for (const char *p = spec; *p; p++)
        cap += *p == ',';
    out->steps = cr_xcalloc(cap, sizeof *out->steps);
    bool ok = true;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item && ok; item = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*item))
            item++;
        char *end = item + strlen(item);
        while (end > item && isspace((unsigned char)end[-1]))
            *--end = '\0';
        char *at = strrchr(item, '@');
        if (!at) {
            ok = fail(err, errlen, "'%s': expected EVENT@SECONDS%s", item, "");
            break;
        }
        *at++ = '\0';
        char *num_end;
        double t = strtod(at, &num_end);
        if (num_end == at || *num_end || !(t >= 0) || t > 1e7) {
            ok = fail(err, errlen, "'%s': bad time '%s' (seconds, e.g. 2.5)", item, at);
            break;
        }
        char *arg = strchr(item, ':');
        if (arg)
            *arg++ = '\0';
        size_t k = 0, nk = sizeof step_names / sizeof step_names[0];
        while (k < nk && strcmp(step_names[k].name, item) != 0)
            k++;
        if (k == nk || !(caller ? step_names[k].caller : step_names[k].party)) {
            ok = fail(err, errlen,
                      caller ? "unknown caller event '%s' (hold, unhold, dtmf:DIGITS, transfer:TARGET, hangup)%s"
                             : "unknown party event '%s' (ringing, early_media, answer, busy, "
                               "reject:CODE, hold, unhold, dtmf:DIGITS, transfer:TARGET, hangup)%s",
                      item, "");
            break;
        }
        sim_step *s = &out->steps[out->count++];
        s->kind = step_names[k].kind;
        s->at = t;
        if (s->kind == SIM_DTMF) {
            if (!arg || !*arg || strlen(arg) >= sizeof s->digits ||
                strspn(arg, "0123456789*#ABCD") != strlen(arg)) {
                ok = fail(err, errlen, "dtmf needs digits (0-9 * # A-D), e.g. dtmf:123@5%s%s", "", "");
                break;
            }
            strcpy(s->digits, arg);
        } else if (s->kind == SIM_TRANSFER) {
            if (!arg || !*arg || strlen(arg) >= sizeof s->digits ||
                strspn(arg, "0123456789*#+abcdefghijklmnopqrstuvwxyz") != strlen(arg)) {
                ok = fail(err, errlen, "transfer needs a target (digits or a user), e.g. transfer:700@5%s%s", "",
                          "");
                break;
            }
            strcpy(s->digits, arg);
        } else if (s->kind == SIM_REJECT) {
            int code = arg ? atoi(arg) : 0;
            if (code < 400 || code > 699) {
                ok = fail(err, errlen, "reject needs a SIP code 400-699, e.g. reject:503@1%s%s", "", "");
                break;
            }
            s->code = code;
        } else if (arg) {
            ok = fail(err, errlen, "'%s' takes no argument ('%s')", item, arg);
            break;
        }
    }
    free(copy);
    if (!ok) {
        sim_spec_free(out);
        return false;
    }
    sort_steps(out->steps, out->count);
    return true;
}

void sim_spec_free(sim_spec *s)
{
    free(s->steps);
    s->steps = NULL;
    s->count = 0;
}
