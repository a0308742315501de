# callroute — GNU make + pkg-config (docs/decisions/0001-build.md).
#
#   make            build/callroute (optimised, -Werror)
#   make run        install what is missing, build, start the demo
#   make test       install, build, run every test (also under ASan+UBSan)
#   make asan       build/asan/callroute
#   make fuzz       libFuzzer targets, each run for FUZZ_SECONDS
#   make bench      benchmarks -> BENCHMARKS.md (QUICK=1 for a short run)
#   make deb        build/callroute_VERSION_ARCH.deb (debhelper, debian/)

PKGS      := yaml-0.1 jansson libpcre2-8 libcurl sqlite3 libpq sofia-sip-ua sndfile spandsp libmicrohttpd libsystemd libcrypto espeak-ng samplerate
CC        ?= cc
CSTD      := -std=c11 -D_GNU_SOURCE
WARN      := -Wall -Wextra -Werror
OPT       ?= -O2 -g
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread -lm $(EXTRA_LDLIBS)

LIB_SRCS  := $(sort $(shell find src -name '*.c' ! -path 'src/cli/*'))
CLI_SRCS  := $(sort $(wildcard src/cli/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))

# Each build flavour lives in its own directory with its own objects.
B         ?= build
OBJDIR    := $(B)/obj
LIB_OBJS  := $(LIB_SRCS:%.c=$(OBJDIR)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(OBJDIR)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

.PHONY: all run test asan unit deps fuzz bench clean check-examples deb

all: $(B)/callroute

$(B)/callroute: $(CLI_OBJS) $(B)/libcallroute.a
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJS) $(B)/libcallroute.a $(LDLIBS_ALL)

$(B)/libcallroute.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(OBJDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libcallroute.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(B)/libcallroute.a $(LDLIBS_ALL) $(shell pkg-config --libs cmocka)

unit: $(B)/callroute $(UNIT_BINS)

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)

deps:
	@sh scripts/install-deps.sh

asan:
	$(MAKE) B=build/asan OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" unit

run: deps
	$(MAKE) all
	sh scripts/run-demo.sh

test: deps
	$(MAKE) unit
	$(MAKE) asan
	sh tests/run.sh

FUZZ_SECONDS ?= 30
fuzz: deps
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# bench/run.sh builds callroute and each bench/*.c itself (B=build/bench), so
# one benchmark that does not build is reported, not fatal.
bench: deps
	sh scripts/install-deps.sh --bench
	sh bench/run.sh $(if $(QUICK),--quick)

# Benchmark programs: bench/NAME.c linked like a unit test; the Lua peer.
$(B)/bench/lua_peer: bench/lua/lua_peer.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(shell pkg-config --cflags lua5.4) -o $@ $< $(shell pkg-config --libs lua5.4)

$(B)/bench/%: bench/%.c $(B)/libcallroute.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ibench -o $@ $< $(B)/libcallroute.a $(LDLIBS_ALL)

deb: deps
	sh scripts/build-deb.sh

clean:
	rm -rf build
