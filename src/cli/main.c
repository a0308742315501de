/* main.c — `callroute COMMAND ...`: dispatch to the subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __has_include(<mimalloc.h>)
#include <mimalloc.h>
/* Weak: callroute links mimalloc when the machine has it (Makefile
 * MALLOC_LIB), and glibc's malloc otherwise (and under ASan). */
#pragma weak mi_option_set
#pragma weak mi_option_is_enabled
#define HAVE_MIMALLOC_H 1
#endif

#include "cli/cli.h"

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"check", cli_check, "validate scenario files"},
    {"simulate", cli_simulate, "run a call through a scenario on a simulated network"},
    {"route", cli_route, "show which route a call takes, and why"},
    {"test", cli_test, "run scenario test cases (mocked HTTP, DB, e-mail)"},
    {"serve", cli_serve, "run the SIP service"},
    {"schema", cli_schema, "print the JSON Schema of scenario files"},
    {"cdr", cli_cdr, "print call detail records"},
};

static void usage(FILE *out)
{
    fputs("usage: callroute COMMAND [ARGS...]\n\n"
          "A SIP call-routing engine: routes pick a scenario, a tree of applications.\n\n"
          "Commands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n`callroute COMMAND --help` explains a command. `callroute --version`.\n", out);
}

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

const char *cli_heap_pages = "libc's malloc";

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
static void tune_allocator(void)
{
#ifdef HAVE_MIMALLOC_H
    if (!mi_option_set || !mi_option_is_enabled)
        return;
    char thp[256], reserved[32];
    if (getenv("MIMALLOC_LARGE_OS_PAGES"))
        cli_heap_pages = "mimalloc, pages as MIMALLOC_LARGE_OS_PAGES says";
    else if (!*first_line("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp) ||
             strstr(thp, "[never]"))
        cli_heap_pages = "mimalloc, 4 KiB pages (transparent huge pages off)";
    else if (strcmp(first_line("/proc/sys/vm/nr_hugepages", reserved, sizeof reserved), "0\n") != 0)
        cli_heap_pages = "mimalloc, 4 KiB pages (the host reserves hugetlb pages: not taken)";
    else {
        mi_option_set(mi_option_large_os_pages, 1);
        cli_heap_pages = mi_option_is_enabled(mi_option_large_os_pages)
                             ? "mimalloc, 2 MiB transparent huge pages"
                             : "mimalloc, 4 KiB pages (it refused large ones)";
    }
#endif
}

int main(int argc, char **argv)
{
    tune_allocator();
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("callroute %s\n", CALLROUTE_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "callroute: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
