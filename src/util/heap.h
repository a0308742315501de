/* heap.h — the process's heap: its pages chosen at start (heap_tune), and
 * prefaulted when asked (`serve --heap-prefault SIZE`):
 * memory written once before the first call and handed to the allocator,
 * so a server's heap growth under load costs no page faults
 * (docs/decisions/sip-core.md, "The heap prefaulted"). Like Kamailio's
 * shm_force_alloc or the JVM's AlwaysPreTouch. */
#ifndef CR_HEAP_H
#define CR_HEAP_H

#include <stdbool.h>
#include <stddef.h>

/* Asks mimalloc for 2 MiB pages where the host gives them (main, first
 * thing); heap_pages() then says what the heap runs on, for serve's log:
 * "mimalloc, 2 MiB transparent huge pages", or why not. */
void heap_tune(void);
const char *heap_pages(void);

/* "512M", "2G", "1536MiB", "3GB": a whole number of mebibytes (M, MB, MiB)
 * or gibibytes (G, GB, GiB), case-insensitive, at least 64 MiB and at most
 * 1 TiB. Pure: false for anything else (no unit, 0, a fraction, junk). */
bool heap_size_parse(const char *text, size_t *bytes);

/* Maps BYTES (rounded up to 64 MiB), asks for transparent huge pages,
 * writes every page and gives the memory to mimalloc as an arena it never
 * returns to the system. Then checks that the allocator takes from it (a
 * large allocation made and freed). 0 and, in WHAT, "2048 MiB prefaulted
 * in 1.8 s"; -1 and why not in WHAT (more than the memory available or
 * the cgroup's limit allows, the mapping refused, the allocator not
 * taking it); -2 when this build has
 * no mimalloc (libc's malloc, ASan). Call once, before the load. */
int heap_prefault(size_t bytes, char *what, size_t what_size);

#endif
