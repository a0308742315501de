/* expr_func.c — the functions expressions may call (semantics: expr.c).
 * Arity is checked at compile time from this table; the functions receive
 * evaluated arguments that are never errors. */
#include "scenario/expr_int.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Text form of an argument: a string's own bytes, or BUF for the rest. */
#define TEXT(i, buf, len) cr_val_text(args[i], buf, &len)

static cr_value fn_len(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)env, (void)n;
    char buf[CR_VAL_TEXT_MAX];
    size_t len;
    TEXT(0, buf, len);
    return cr_val_num((double)len);
}

static cr_value map_case(const scn_env *env, cr_value v, bool up)
{
    char buf[CR_VAL_TEXT_MAX];
    size_t len;
    const char *s = cr_val_text(v, buf, &len);
    char *out = cr_arena_alloc(env->scratch, len + 1);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (up && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (!up && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[i] = c;
    }
    return cr_val_str(out, len);
}

static cr_value fn_lower(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)n;
    return map_case(env, args[0], false);
}

static cr_value fn_upper(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)n;
    return map_case(env, args[0], true);
}

/* A count argument clamped to [0, max]; false when it is not a number. */
static bool clamp_arg(cr_value v, size_t max, size_t *out)
{
    double d;
    if (!cr_val_as_number(v, &d) || isnan(d))
        return false;
    d = trunc(d);
    *out = d <= 0 ? 0 : d >= (double)max ? max : (size_t)d;
    return true;
}

static cr_value fn_substr(const scn_env *env, const cr_value *args, unsigned n)
{
    char buf[CR_VAL_TEXT_MAX];
    size_t len, start, count;
    const char *s = TEXT(0, buf, len);
    if (!clamp_arg(args[1], len, &start))
        return cr_val_err(env->scratch, "substr(): the start must be a number, not %s",
                          cr_val_kind_name(args[1].kind));
    count = len - start;
    if (n > 2 && !clamp_arg(args[2], len - start, &count))
        return cr_val_err(env->scratch, "substr(): the length must be a number, not %s",
                          cr_val_kind_name(args[2].kind));
    if (args[0].kind == CR_VAL_STR)
        return cr_val_str(s + start, count); /* a slice of a string that outlives us */
    return cr_val_str(cr_arena_strndup(env->scratch, s + start, count), count);
}

static cr_value fn_digits(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)n;
    char buf[CR_VAL_TEXT_MAX];
    size_t len, k = 0;
    const char *s = TEXT(0, buf, len);
    char *out = cr_arena_alloc(env->scratch, len + 1);
    for (size_t i = 0; i < len; i++)
        if (s[i] >= '0' && s[i] <= '9')
            out[k++] = s[i];
    return cr_val_str(out, k);
}

static cr_value fn_int(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)n;
    double d;
    if (!cr_val_as_number(args[0], &d)) {
        if (args[0].kind == CR_VAL_STR)
            return cr_val_err(env->scratch, "int(): '%.*s%s' is not a number",
                              (int)(args[0].len > 40 ? 40 : args[0].len), args[0].str,
                              args[0].len > 40 ? "..." : "");
        return cr_val_err(env->scratch, "int(): %s is not a number",
                          cr_val_kind_name(args[0].kind));
    }
    return cr_val_num(trunc(d));
}

static cr_value fn_str(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)n;
    size_t len;
    const char *s = cr_val_to_cstr(args[0], env->scratch, &len);
    return cr_val_str(s, len);
}

/* contains / starts_with / ends_with: where T may sit in S. */
typedef enum { AT_ANY, AT_START, AT_END } ex_at;

static cr_value find(const cr_value *args, ex_at at)
{
    char b1[CR_VAL_TEXT_MAX], b2[CR_VAL_TEXT_MAX];
    size_t sl, tl;
    const char *s = cr_val_text(args[0], b1, &sl);
    const char *t = cr_val_text(args[1], b2, &tl);
    if (tl > sl)
        return cr_val_bool(false);
    if (tl == 0)
        return cr_val_bool(true);
    switch (at) {
    case AT_START: return cr_val_bool(memcmp(s, t, tl) == 0);
    case AT_END: return cr_val_bool(memcmp(s + sl - tl, t, tl) == 0);
    default: return cr_val_bool(memmem(s, sl, t, tl) != NULL);
    }
}

static cr_value fn_contains(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)env, (void)n;
    return find(args, AT_ANY);
}

static cr_value fn_starts_with(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)env, (void)n;
    return find(args, AT_START);
}

static cr_value fn_ends_with(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)env, (void)n;
    return find(args, AT_END);
}

/* Whole seconds since the epoch; clamped so that the calendar arithmetic
 * below stays in range whatever the clock says. */
static int64_t epoch(const scn_env *env)
{
    double t = env->now;
    if (!(t > -1e15))
        t = -1e15;
    if (t > 1e15)
        t = 1e15;
    return (int64_t)floor(t);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t local_seconds(const scn_env *env) { return epoch(env) + env->utc_offset; }

static int64_t second_of_day(const scn_env *env)
{
    int64_t t = local_seconds(env);
    return t - floor_div(t, 86400) * 86400;
}

static cr_value fn_now(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)args, (void)n;
    return cr_val_num((double)epoch(env));
}

static cr_value fn_hour(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)args, (void)n;
    return cr_val_num((double)(second_of_day(env) / 3600));
}

static cr_value fn_minute(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)args, (void)n;
    return cr_val_num((double)(second_of_day(env) % 3600 / 60));
}

static cr_value fn_weekday(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)args, (void)n;
    int64_t days = floor_div(local_seconds(env), 86400);
    int64_t wd = (days + 3) % 7; /* 1970-01-01 was a Thursday */
    if (wd < 0)
        wd += 7;
    return cr_val_num((double)(wd + 1));
}

static cr_value fn_date(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)args, (void)n;
    /* Days since the epoch to the civil date (H. Hinnant's algorithm). */
    int64_t z = floor_div(local_seconds(env), 86400) + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    if (y < 0 || y > 9999) /* only absurd clocks: keep it simple */
        return cr_val_cstr(cr_arena_printf(env->scratch, "%lld-%02lld-%02lld", (long long)y,
                                           (long long)m, (long long)d));
    char *s = cr_arena_alloc(env->scratch, 11);
    const int64_t parts[] = {y / 1000, y / 100 % 10, y / 10 % 10, y % 10, -1,
                             m / 10, m % 10, -1, d / 10, d % 10};
    for (int i = 0; i < 10; i++)
        s[i] = parts[i] < 0 ? '-' : (char)('0' + parts[i]);
    return cr_val_str(s, 10);
}

static cr_value fn_var(const scn_env *env, const cr_value *args, unsigned n)
{
    (void)n;
    char buf[CR_VAL_TEXT_MAX];
    size_t len;
    const char *name = TEXT(0, buf, len);
    cr_value v;
    if (len && env->lookup && env->lookup(env->ctx, name, len, &v))
        return v;
    return cr_val_null();
}

const ex_func ex_funcs[] = {
    {"len", 1, 1, fn_len},
    {"lower", 1, 1, fn_lower},
    {"upper", 1, 1, fn_upper},
    {"substr", 2, 3, fn_substr},
    {"digits", 1, 1, fn_digits},
    {"int", 1, 1, fn_int},
    {"str", 1, 1, fn_str},
    {"contains", 2, 2, fn_contains},
    {"starts_with", 2, 2, fn_starts_with},
    {"ends_with", 2, 2, fn_ends_with},
    {"now", 0, 0, fn_now},
    {"hour", 0, 0, fn_hour},
    {"minute", 0, 0, fn_minute},
    {"weekday", 0, 0, fn_weekday},
    {"date", 0, 0, fn_date},
    {"var", 1, 1, fn_var},
    {NULL, 0, 0, NULL},
};

const char *const ex_func_names[] = {
    "len", "lower", "upper", "substr", "digits", "int", "str", "contains", "starts_with",
    "ends_with", "now", "hour", "minute", "weekday", "date", "var", NULL,
};

const ex_func *ex_func_find(const char *name, size_t len)
{
    for (const ex_func *f = ex_funcs; f->name; f++)
        if (strlen(f->name) == len && memcmp(f->name, name, len) == 0)
            return f;
    return NULL;
}
