/* lua_peer.c — the Lua 5.4 peer of the engine benchmark.
 *
 * A small host, as an embedder of Lua would write one: one coroutine per
 * strand (main script, stream, each event handler run), a virtual clock with
 * a binary timer heap that resumes coroutines in time order, and the call
 * events of the workload (hold at 2 s, DTMF at 4 s) delivered to the
 * handlers the script registered. The scenario is bench/lua/scenario.lua.
 *
 *   lua_peer SCENARIO.lua run    CALLS RATE   time per action step
 *   lua_peer SCENARIO.lua memory CALLS        memory per waiting call
 *
 * Prints one JSON line ({"bench":"lua",...}). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { T_START, T_RESUME, T_EVENT };
enum { EV_HOLD, EV_DTMF };

typedef struct tev {
    double at;
    uint64_t seq;     /* FIFO among equal times, as a loop's timer list */
    int kind, ref, arg;
} tev;

static struct {
    lua_State *L;
    tev *heap;
    size_t n, cap;
    uint64_t seq;
    double now;
    int *call_ref;    /* registry ref of each live call's table */
    size_t live_calls, peak_calls;
    size_t lua_bytes, lua_peak;
} H;

/* Counting allocator: Lua's heap in use, exactly. */
static void *alloc_cb(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        free(ptr);
        H.lua_bytes -= osize;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p != NULL) {
        H.lua_bytes += nsize - osize;
        if (H.lua_bytes > H.lua_peak)
            H.lua_peak = H.lua_bytes;
    }
    return p;
}

static int tev_less(const tev *a, const tev *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void push(double at, int kind, int ref, int arg)
{
    if (H.n == H.cap) {
        H.cap = H.cap ? 2 * H.cap : 1024;
        H.heap = realloc(H.heap, H.cap * sizeof *H.heap);
        if (H.heap == NULL)
            abort();
    }
    size_t i = H.n++;
    tev e = {at, H.seq++, kind, ref, arg};
    while (i > 0 && tev_less(&e, &H.heap[(i - 1) / 2])) {
        H.heap[i] = H.heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    H.heap[i] = e;
}

static tev pop(void)
{
    tev top = H.heap[0], last = H.heap[--H.n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= H.n)
            break;
        if (c + 1 < H.n && tev_less(&H.heap[c + 1], &H.heap[c]))
            c++;
        if (!tev_less(&H.heap[c], &last))
            break;
        H.heap[i] = H.heap[c];
        i = c;
    }
    if (H.n > 0)
        H.heap[i] = last;
    return top;
}

/* Resumes the coroutine anchored at REF; a yield of N seconds re-arms it. */
static void resume(int ref)
{
    lua_State *L = H.L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_State *co = lua_tothread(L, -1);
    lua_pop(L, 1);
    int nargs = lua_status(co) == LUA_OK ? lua_gettop(co) - 1 : 0;
    int nres = 0;
    int rc = lua_resume(co, L, nargs, &nres);
    if (rc == LUA_YIELD) {
        double secs = lua_tonumber(co, -1);
        lua_pop(co, nres);
        push(H.now + secs, T_RESUME, ref, 0);
    } else if (rc == LUA_OK) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
    } else {
        fprintf(stderr, "lua_peer: %s\n", lua_tostring(co, -1));
        exit(1);
    }
}

/* A new strand: FN(CALL) in its own coroutine, anchored in the registry. */
static int new_strand(lua_State *L, int fn_idx, int call_idx)
{
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, fn_idx);
    lua_pushvalue(L, call_idx);
    lua_xmove(L, co, 2);
    return luaL_ref(L, LUA_REGISTRYINDEX);   /* pops the thread */
}

static int l_spawn(lua_State *L)   /* spawn(fn, call): a stream */
{
    push(H.now, T_RESUME, new_strand(L, 1, 2), 0);
    return 0;
}

static int l_answer(lua_State *L) { (void)L; return 0; }
static int l_log(lua_State *L) { (void)L; return 0; }

static int l_hangup(lua_State *L)  /* the call ends: its table is released */
{
    lua_getfield(L, 1, "id");
    lua_Integer id = lua_tointeger(L, -1);
    lua_pop(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, H.call_ref[id]);
    H.call_ref[id] = LUA_NOREF;
    H.live_calls--;
    return 0;
}

static void start_call(int i)
{
    lua_State *L = H.L;
    lua_getglobal(L, "new_call");
    lua_pushinteger(L, i);
    lua_call(L, 1, 1);
    lua_pushvalue(L, -1);
    H.call_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    if (++H.live_calls > H.peak_calls)
        H.peak_calls = H.live_calls;
    lua_getglobal(L, "main");
    int ref = new_strand(L, lua_gettop(L), lua_gettop(L) - 1);
    lua_pop(L, 2);
    push(H.now + 2, T_EVENT, EV_HOLD, i);
    push(H.now + 4, T_EVENT, EV_DTMF, i);
    resume(ref);
}

/* An event runs the call's handler, if any, in a new strand that sees the
 * event's variables. */
static void fire(int ev, int i)
{
    lua_State *L = H.L;
    if (H.call_ref[i] == LUA_NOREF)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, H.call_ref[i]);
    int call = lua_gettop(L);
    lua_getfield(L, call, "vars");
    if (ev == EV_DTMF) {
        lua_pushliteral(L, "1");
        lua_setfield(L, -2, "dtmf_digit");
    } else {
        lua_pushliteral(L, "agent");
        lua_setfield(L, -2, "hold_by");
    }
    lua_pop(L, 1);
    lua_getfield(L, call, "handlers");
    lua_getfield(L, -1, ev == EV_DTMF ? "dtmf" : "hold");
    if (lua_isfunction(L, -1)) {
        int ref = new_strand(L, lua_gettop(L), call);
        lua_settop(L, call - 1);
        resume(ref);
    } else {
        lua_settop(L, call - 1);
    }
}

static void run_until(double until)
{
    while (H.n > 0 && H.heap[0].at <= until) {
        tev e = pop();
        H.now = e.at;
        switch (e.kind) {
        case T_START: start_call(e.arg); break;
        case T_RESUME: resume(e.ref); break;
        case T_EVENT: fire(e.ref, e.arg); break;
        }
    }
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(key);
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            kb = atol(line + n + 1);
    if (f != NULL)
        fclose(f);
    return kb;
}

static lua_Integer step_count(void)
{
    lua_getglobal(H.L, "step_count");
    lua_call(H.L, 0, 1);
    lua_Integer n = lua_tointeger(H.L, -1);
    lua_pop(H.L, 1);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[2], "run") != 0 && strcmp(argv[2], "memory") != 0)) {
        fprintf(stderr, "usage: %s SCENARIO.lua run CALLS RATE | memory CALLS\n", argv[0]);
        return 2;
    }
    int calls = atoi(argv[3]);
    double rate = argc > 4 ? atof(argv[4]) : 1000;
    long rss0 = status_kb("VmRSS");

    H.L = lua_newstate(alloc_cb, NULL);
    luaL_openlibs(H.L);
    lua_register(H.L, "spawn", l_spawn);
    lua_register(H.L, "answer", l_answer);
    lua_register(H.L, "hangup", l_hangup);
    lua_register(H.L, "log", l_log);
    if (luaL_dofile(H.L, argv[1]) != LUA_OK) {
        fprintf(stderr, "lua_peer: %s\n", lua_tostring(H.L, -1));
        return 1;
    }
    if (strcmp(argv[2], "run") == 0) {
        H.call_ref = malloc((size_t)calls * sizeof *H.call_ref);
        if (H.call_ref == NULL)
            return 1;
        for (int i = 0; i < calls; i++)
            push(i / rate, T_START, 0, i);
        double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
        run_until(1e300);
        double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        double wall = clock_s(CLOCK_MONOTONIC) - w0;
        lua_Integer steps = step_count();
        /* Field names as engine_bench's, so the report pairs them. */
        printf("{\"bench\":\"lua\",\"phase\":\"run\",\"lua\":\"%s\",\"calls\":%d,"
               "\"rate\":%g,\"steps\":%lld,\"steps_per_call\":%.2f,\"cpu_seconds\":%.4f,"
               "\"ns_per_step\":%.1f,\"calls_per_second\":%.0f,\"wall_seconds\":%.3f,"
               "\"virtual_seconds\":%.1f,\"peak_calls\":%zu,\"lua_peak_bytes\":%zu,"
               "\"peak_rss_kb\":%ld}\n",
               LUA_RELEASE, calls, rate, (long long)steps, (double)steps / calls, cpu,
               1e9 * cpu / (double)steps, calls / wall, wall, H.now, H.peak_calls, H.lua_peak,
               status_kb("VmHWM"));
    } else {
        /* All calls start at once; at 0.5 s every main strand waits in
         * `wait 10` and every stream in `wait 1`, handlers registered. */
        lua_gc(H.L, LUA_GCCOLLECT);
        malloc_trim(0);
        /* Live heap from malloc's own count (mallinfo2, as engine_bench):
         * Lua's objects with malloc's overhead, and the host's tables. */
        struct mallinfo2 m0 = mallinfo2();
        size_t lua0 = H.lua_bytes;
        H.call_ref = malloc((size_t)calls * sizeof *H.call_ref);
        if (H.call_ref == NULL)
            return 1;
        for (int i = 0; i < calls; i++)
            push(0, T_START, 0, i);
        run_until(0.5);
        lua_gc(H.L, LUA_GCCOLLECT);   /* live memory, not garbage not yet swept */
        struct mallinfo2 m1 = mallinfo2();
        /* hblkhd: large blocks malloc serves by mmap (the timer heap). */
        size_t live = m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd;
        size_t waiting = 0;
        for (size_t k = 0; k < H.n; k++)
            waiting += H.heap[k].kind == T_RESUME;
        long rss = status_kb("VmRSS");
        printf("{\"bench\":\"lua\",\"phase\":\"memory\",\"lua\":\"%s\",\"calls\":%d,"
               "\"waiting_strands\":%zu,\"bytes_per_call\":%.0f,"
               "\"lua_heap_bytes_per_call\":%.0f,\"rss_delta_per_call\":%.0f,"
               "\"peak_rss_kb\":%ld}\n",
               LUA_RELEASE, calls, waiting, (double)live / calls,
               (double)(H.lua_bytes - lua0) / calls,
               1024.0 * (double)(rss - rss0) / calls, status_kb("VmHWM"));
    }
    lua_close(H.L);
    free(H.heap);
    free(H.call_ref);
    return 0;
}
