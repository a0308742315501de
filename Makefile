# callroute — GNU make + pkg-config (docs/decisions/0001-build.md).
#
#   make            build/callroute (optimised, -Werror)
#   make run        install what is missing, build, start the demo
#   make test       install, build, run every test (also under ASan+UBSan)
#   make asan       build/asan/callroute
#   make fuzz       libFuzzer targets, each run for FUZZ_SECONDS
#   make bench      benchmarks -> BENCHMARKS.md (QUICK=1 for a short run)
#   make deb        build/callroute_VERSION_ARCH.deb (debhelper, debian/)
#   make screenshots  docs/editor/*.png, docs/webphone/*.png: the editor and the phone in headless Chromium

PKGS      := yaml-0.1 jansson libpcre2-8 libcurl sqlite3 libpq sofia-sip-ua sndfile spandsp libmicrohttpd libsystemd libssl libcrypto espeak-ng samplerate libsrtp2 liburing nss
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
LIB_OBJS  := $(LIB_SRCS:%.c=$(OBJDIR)/%.o) $(OBJDIR)/web/editor_assets.o
CLI_OBJS  := $(CLI_SRCS:%.c=$(OBJDIR)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

.PHONY: all run test asan unit deps fuzz bench clean check-examples deb web screenshots layers

all: $(B)/callroute

# Which layer may include which (../shared/DESIGN.md): checked on every build.
all unit: layers
layers:
	@sh scripts/check-layers.sh

# The server's allocator (docs/decisions/sip-core.md): Debian's mimalloc,
# linked before libc so its malloc serves sofia-sip's too. glibc's heap
# fragments as sofia's finished transactions linger (~32 s) beside new
# ones and the cost per call drifts up with time. Only callroute itself:
# ASan brings its own allocator, and the benchmark programs read glibc's
# mallinfo2. MALLOC_LIB= builds with glibc's.
MALLOC_LIB ?= $(if $(wildcard /usr/lib/*/libmimalloc.so /usr/lib/libmimalloc.so),-lmimalloc)

$(B)/callroute: $(CLI_OBJS) $(B)/libcallroute.a
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJS) $(B)/libcallroute.a $(MALLOC_LIB) $(LDLIBS_ALL)

$(B)/libcallroute.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(OBJDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libcallroute.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(B)/libcallroute.a $(LDLIBS_ALL) $(shell pkg-config --libs cmocka)

# test_heap checks the arena `serve --heap-prefault` gives mimalloc: linked
# with the server's allocator (none in the ASan build: it checks the refusal).
$(B)/tests/test_heap: tests/unit/test_heap.c $(B)/libcallroute.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(B)/libcallroute.a $(MALLOC_LIB) $(LDLIBS_ALL) $(shell pkg-config --libs cmocka)

unit: $(B)/callroute $(UNIT_BINS)

# The editor and the browser phone (web/, docs/decisions/editor.md):
# esbuild bundles them into build/web, and web/build.mjs writes their files
# as C arrays, compiled into the library (src/admin/editor.c serves them).
# One bundle for every build flavour. npm ci installs web/package-lock.json's versions. Without Node.js
# and npm (or with WEB=off) the tables are empty and GET /editor/ and
# /phone/ say so.
WEB       ?= auto
WEB_OUT   := build/web
WEB_SRCS  := $(wildcard web/src/*) web/build.mjs web/package.json docs/callroute.schema.json
HAVE_NODE := $(if $(filter off,$(WEB)),,$(shell command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && echo yes))
ifneq ($(HAVE_NODE),)
WEB_C     := $(WEB_OUT)/editor_assets.c
$(WEB_C): $(WEB_SRCS) web/node_modules/.package-lock.json
	node web/build.mjs $(WEB_OUT)
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --prefer-offline --no-audit --no-fund --loglevel=error
else
WEB_C     := $(WEB_OUT)/editor_assets_none.c
$(WEB_C):
	@mkdir -p $(dir $@)
	printf '#include "admin/editor_assets.h"\nconst admin_editor_asset admin_editor_assets[] = {{0}};\nconst admin_editor_asset admin_phone_assets[] = {{0}};\n' >$@
endif

$(OBJDIR)/web/editor_assets.o: $(WEB_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

web: $(WEB_C)

# docs/editor/*.png from a real serve and headless Chromium (tests/editor);
# docs/webphone/phone-call.png from tests/webphone (Kamailio, rtpengine).
screenshots: all
	sh tests/editor/suite.sh --screenshots docs/editor
	sh tests/webphone/suite.sh --screenshot docs/webphone/phone-call.png

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)

deps:
	@sh scripts/install-deps.sh

asan:
	$(MAKE) B=build/asan MALLOC_LIB= OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" unit

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
$(B)/bench/media_bench: bench/rtpengine_ng.h
$(B)/bench/media_bench $(B)/bench/mixer_bench $(B)/bench/uring_relay_bench: bench/bench_clock.h
# The io_uring experiments (docs/decisions/rtp-ports.md, "io_uring:
# measured"): standalone, built by bench/run.sh, never run by it or by test.
$(B)/bench/uring_relay_bench $(B)/bench/uring_fixed_files: $(B)/bench/%: bench/uring/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< -luring

deb: deps
	sh scripts/build-deb.sh

clean:
	rm -rf build
