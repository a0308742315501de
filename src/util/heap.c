/* heap.c — the process's heap (heap.h): mimalloc in 2 MiB pages where the
 * host gives them, and prefaulted at start when asked.
 *
 * The prefault:
 * Why: sofia keeps every finished INVITE client transaction for Timer D
 * (32 s), so a server's heap grows for its first 32 s of load, ~19 KB for
 * each call a second (1.2 GB at 2,000 calls/s). Every page of that growth
 * is a page fault when first written, and on a VM whose host backs guest
 * memory lazily (and takes freed guest pages back: free page reporting) a
 * 2 MiB page's first touch costs 2-5 ms. While the heap grows that was
 * ~30% of a call's CPU and the loop's longest stalls (p99 of set-up
 * latency). Written here once, before the load, the pages are the
 * process's for good: mimalloc gets them as a committed arena, which it
 * never decommits or resets. */
#include "util/heap.h"

#include "util/alloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if __has_include(<mimalloc.h>)
#include <mimalloc.h>
/* Weak: mimalloc is linked into callroute where the machine has it
 * (Makefile MALLOC_LIB), not under ASan nor into most unit tests. */
#pragma weak mi_manage_os_memory
#pragma weak mi_option_set
#pragma weak mi_option_is_enabled
#define HAVE_MIMALLOC_H 1
#endif

#define MIB ((size_t)1 << 20)
/* mimalloc finds a block's segment by masking its address: an arena must
 * start on a segment boundary (32 MiB in mimalloc 2.0) and hold whole
 * segments. 64 MiB covers both. */
#define ARENA_GRAIN (64 * MIB)
/* Larger than mimalloc's largest "large" object (half a segment): served
 * by a segment of its own, so from the arena when the arena is used. */
#define PROBE_SIZE (24 * MIB)

static const char *pages_text = "libc's malloc";

#ifdef HAVE_MIMALLOC_H
/* FILE's first line, "" when it cannot be read. */
static const char *first_line(const char *file, char *line, int size)
{
    line[0] = '\0';
    FILE *f = fopen(file, "r");
    if (f) {
        if (!fgets(line, size, f))
            line[0] = '\0';
        fclose(f);
    }
    return line;
}
#endif

/* The heap in transparent huge pages (2 MiB) where the kernel gives them:
 * a server's heap grows for the first ~40 s of load (finished transactions
 * linger) and every 4 KiB page it touches the first time is a page fault,
 * which on a paravirtualised VM costs ~15 us: 6 faults a call while the
 * heap grows, 0.8 a call after, ~18% of a call's CPU (docs/decisions/
 * sip-core.md, "Page faults"). Not when THP is off ("[never]": mimalloc
 * would keep its segments committed for nothing), nor when the host
 * reserves hugetlb pages (mimalloc tries MAP_HUGETLB first and would take
 * pages reserved for, say, PostgreSQL). The cost: mimalloc keeps such
 * segments, so the heap stays at its peak. An explicit
 * MIMALLOC_LARGE_OS_PAGES in the environment wins. */
void heap_tune(void)
{
#ifdef HAVE_MIMALLOC_H
    if (!mi_option_set || !mi_option_is_enabled)
        return;
    char thp[256], reserved[32];
    if (getenv("MIMALLOC_LARGE_OS_PAGES"))
        pages_text = "mimalloc, pages as MIMALLOC_LARGE_OS_PAGES says";
    else if (!*first_line("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp) ||
             strstr(thp, "[never]"))
        pages_text = "mimalloc, 4 KiB pages (transparent huge pages off)";
    else if (strcmp(first_line("/proc/sys/vm/nr_hugepages", reserved, sizeof reserved), "0\n") != 0)
        pages_text = "mimalloc, 4 KiB pages (the host reserves hugetlb pages: not taken)";
    else {
        mi_option_set(mi_option_large_os_pages, 1);
        pages_text = mi_option_is_enabled(mi_option_large_os_pages) ? "mimalloc, 2 MiB transparent huge pages"
                                                                    : "mimalloc, 4 KiB pages (it refused large ones)";
    }
#endif
}

const char *heap_pages(void) { return pages_text; }

bool heap_size_parse(const char *text, size_t *bytes)
{
    if (!text || *text < '0' || *text > '9')
        return false;
    unsigned long long n = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (unsigned long long)(*p - '0');
        if (n > ((unsigned long long)1 << 20))   /* past 1 TiB in MiB */
            return false;
    }
    unsigned long long mib;
    if (strcasecmp(p, "M") == 0 || strcasecmp(p, "MB") == 0 || strcasecmp(p, "MiB") == 0)
        mib = n;
    else if (strcasecmp(p, "G") == 0 || strcasecmp(p, "GB") == 0 || strcasecmp(p, "GiB") == 0)
        mib = n * 1024;
    else
        return false;
    if (mib < 64 || mib > ((unsigned long long)1 << 20))
        return false;
    *bytes = (size_t)mib * MIB;
    return true;
}

/* A number from the line of FILE that starts with KEY ("" for a file of
 * one number), or -1. */
static long long read_number(const char *file, const char *key)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -1;
    char line[256];
    long long n = -1;
    size_t klen = strlen(key);
    while (n < 0 && fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && sscanf(line + klen, " %lld", &n) != 1)
            n = -1;
    fclose(f);
    return n;
}

/* Bytes the prefault may take without the kernel's OOM killer ending the
 * start: what the kernel says is available (MemAvailable), and within the
 * process's cgroup (v2) its memory.max less its memory.current. WHICH
 * names the smaller. */
static size_t memory_room(const char **which)
{
    size_t room = SIZE_MAX;
    *which = "";
    long long kib = read_number("/proc/meminfo", "MemAvailable:");
    if (kib >= 0) {
        room = (size_t)kib * 1024;
        *which = "the memory available (MemAvailable)";
    }
    char line[512], path[600];
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "0::/", 4) != 0)
                continue;
            line[strcspn(line, "\n")] = '\0';
            snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", line + 3);
            long long max = read_number(path, "");   /* "max": none */
            snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.current", line + 3);
            long long cur = read_number(path, "");
            if (max >= 0 && cur >= 0 && (size_t)(max > cur ? max - cur : 0) < room) {
                room = (size_t)(max > cur ? max - cur : 0);
                *which = "what its cgroup may still take (memory.max)";
            }
        }
        fclose(f);
    }
    return room;
}

int heap_prefault(size_t bytes, char *what, size_t what_size)
{
#ifdef HAVE_MIMALLOC_H
    if (!mi_manage_os_memory) {
        snprintf(what, what_size, "not done: it needs mimalloc (this build uses libc's malloc)");
        return -2;
    }
    size_t size = (bytes + ARENA_GRAIN - 1) / ARENA_GRAIN * ARENA_GRAIN;
    const char *which;
    size_t room = memory_room(&which);
    if (size >= room) {
        snprintf(what, what_size, "not done: %zu MiB is more than %s, %zu MiB", size / MIB, which, room / MIB);
        return -1;
    }
    long page = sysconf(_SC_PAGESIZE);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Mapped one grain more, so that a grain-aligned SIZE fits inside. */
    char *raw = mmap(NULL, size + ARENA_GRAIN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        snprintf(what, what_size, "not done: mapping %zu MiB: %s", size / MIB, strerror(errno));
        return -1;
    }
    char *start = (char *)(((uintptr_t)raw + ARENA_GRAIN - 1) & ~(uintptr_t)(ARENA_GRAIN - 1));
    char *end = start + size;
    if (start > raw)
        munmap(raw, (size_t)(start - raw));
    munmap(end, (size_t)(raw + size + ARENA_GRAIN - end));
    madvise(start, size, MADV_HUGEPAGE);   /* where THP is "madvise"; harmless elsewhere */
    /* Written, not only mapped: a read would map the shared zero page.
     * The memory is nobody else's yet, so plain writes are safe. */
    for (volatile char *p = start; p < end; p += page)
        *p = 0;
    /* Committed: mimalloc never decommits nor resets it (pinned). Not
     * "large": mimalloc gives a large arena only to requests that allow
     * large pages, which a thread's first segment does not. */
    if (!mi_manage_os_memory(start, size, true, false, true, -1)) {
        munmap(start, size);
        snprintf(what, what_size, "not done: mimalloc refused the memory");
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    char *probe = cr_xmalloc(PROBE_SIZE);
    bool taken = probe >= start && probe < end;
    free(probe);
    if (!taken) {
        snprintf(what, what_size, "%zu MiB written in %.1f s, but mimalloc does not allocate from it", size / MIB,
                 secs);
        return -1;
    }
    snprintf(what, what_size, "%zu MiB prefaulted in %.1f s", size / MIB, secs);
    return 0;
#else
    (void)bytes;
    snprintf(what, what_size, "not done: it needs mimalloc (built without mimalloc.h)");
    return -2;
#endif
}
