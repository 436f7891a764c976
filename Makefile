# OpenBook - build, run, test.
#
#   make            build build/openbook (release, -O2)
#   make run        the whole system on loopback, data under var/, uploads and
#                   installed libraries under media/  (Ctrl-C stops it)
#   make test       unit tests, fuzz smoke, integration tests (ASan+UBSan build)
#   make bench      throughput/latency next to a same-run ceiling
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60)
#   make install    PREFIX=/usr/local DESTDIR=
#   make deps       install missing Debian packages (apt-get, as root)
#   make CC=clang   any C17 compiler; gcc and clang are both checked by `make test`
#   make app        the browser app only (static/src -> static/app, Node.js + npm)
#   make screenshots  the README's pictures of the app (docs/screenshots/)
#   make analyze    clang's static analyzer over src/ (run by `make test`)
#   make coverage   line coverage of the unit and integration tests (lcov)

CC ?= cc
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DESTDIR ?=
VERSION := 0.1.0

PKGS := fcgi libpq hiredis libcjson yaml-0.1 libsodium libsystemd zlib libdeflate libcurl libzip
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Wpointer-arith -Wundef -Wcast-align -Wwrite-strings \
        -Wno-format-nonliteral
CSTD := -std=c17 -D_GNU_SOURCE
CPPFLAGS += -Iinclude -Ibuild/gen -DOB_VERSION='"$(VERSION)"' \
            -DOB_SYSCONFDIR='"$(SYSCONFDIR)/openbook"' -DOB_DATADIR='"$(PREFIX)/share/openbook"'
OPT ?= -O2 -g
# Hardening of release builds (Debian's "hardening=+all"): glibc's checks of
# buffer sizes known at compile time or at run time (level 3, glibc 2.34 and
# gcc 12 / clang 9 or newer), stack canaries, a position-independent
# executable, and a read-only GOT bound at start-up.  The sanitizer, fuzz,
# coverage and analyzer builds leave it out (`HARDEN=`): FORTIFY's checked
# functions hide the accesses ASan would report.
HARDEN ?= -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
HARDEN_LD ?= -pie -Wl,-z,relro,-z,now
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(HARDEN) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(OPT) $(HARDEN_LD) $(LDFLAGS)
LDLIBS_ALL = $(PKG_LIBS) $(LDLIBS) -lm
# Each object records the headers it included (-MMD) in a .d file beside
# it, read back below, so a header change rebuilds only the objects that
# include it; -MP keeps a deleted header from breaking the build.
DEPFLAGS = -MMD -MP

# Sources by layer.  CORE has no dependency on libfcgi/libpq, so the fuzz
# targets and most unit tests link against it alone.
CORE_SRC := $(wildcard src/core/*.c) $(wildcard src/http/*.c)
# src/files (media root, library archives) needs libzip: not in CORE, so the
# relay does not link it.
FILES_SRC := $(wildcard src/files/*.c)
APP_SRC  := $(FILES_SRC) $(wildcard src/library/*.c) $(wildcard src/db/*.c) $(wildcard src/auth/*.c) $(wildcard src/perm/*.c) $(wildcard src/api/*.c) $(wildcard src/api/resources/*.c) $(wildcard src/pool/*.c) \
            $(wildcard src/cli/*.c) $(wildcard src/redis/*.c) $(wildcard src/mail/*.c)
MAIN_SRC := src/main.c
MIGRATIONS := $(sort $(wildcard src/db/migrations/*.sql))
GEN_SRC := build/gen/migrations_data.c

BUILD ?= build
OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(CORE_SRC) $(APP_SRC) $(MAIN_SRC)) $(BUILD)/obj/gen/migrations_data.o

# The WebSocket relay: its own small binary, on the core layer plus libev
# and wslay.  It never links libpq or libfcgi.

RELAY_SRC := $(wildcard src/relay/*.c)
RELAY_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(CORE_SRC) $(RELAY_SRC))
# libev and wslay ship no .pc files on Debian 12.
RELAY_LIBS = $(shell $(PKG_CONFIG) --libs hiredis libcjson yaml-0.1 libsodium zlib libdeflate 2>/dev/null) -lwslay -lev -lm

.PHONY: all deps run bench install clean asan FORCE app app-bench screenshots

all: $(BUILD)/openbook $(if $(RELAY_SRC),$(BUILD)/openbook-relay)

$(BUILD)/openbook: $(OBJ)
	@echo "  LD $@"
	@$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/openbook-relay: $(RELAY_OBJ)
	@echo "  LD $@"
	@$(CC) $(LDFLAGS_ALL) -o $@ $^ $(RELAY_LIBS)

# The browser app (README, "The browser app"): npm packages pinned by
# static/package-lock.json, installed by `npm ci` when the lock file
# changes; esbuild bundles static/src/ into static/app/ (git-ignored).
all: app
WEBAPP_SRC := $(shell find static/src -type f 2>/dev/null) static/build.mjs
app: static/app/index.html
static/node_modules/.package-lock.json: static/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: run make deps" >&2; exit 1; }
	cd static && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
static/app/index.html: $(WEBAPP_SRC) static/node_modules/.package-lock.json
	cd static && node build.mjs

# Objects depend on the flags they were built with (PREFIX and SYSCONFDIR
# are compiled in), so `make install PREFIX=/usr` after `make` rebuilds.
$(BUILD)/flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS_ALL)' | cmp -s - $@ || echo '$(CC) $(CFLAGS_ALL)' > $@
FORCE:

$(BUILD)/obj/%.o: %.c $(BUILD)/flags | build/gen/migrations_data.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/obj/gen/migrations_data.o: build/gen/migrations_data.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

-include $(wildcard $(BUILD)/obj/src/*.d $(BUILD)/obj/src/*/*.d $(BUILD)/obj/src/*/*/*.d)

# Migrations are compiled into the binary (one file per version) so a
# deployed binary always carries the schema it expects.
build/gen/migrations_data.c: $(MIGRATIONS) src/db/embed-migrations.sh
	@mkdir -p build/gen
	sh src/db/embed-migrations.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

# Sanitizer build used by the tests.
asan:
	$(MAKE) BUILD=build/asan OPT='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined' \
	        HARDEN= HARDEN_LD= LDFLAGS='-fsanitize=address,undefined' build/asan/openbook \
	        $(if $(RELAY_SRC),build/asan/openbook-relay)

deps:
	@sh deploy/local/deps.sh

# Sub-makes so that pkg-config runs after deps has installed the libraries.
run: deps
	@$(MAKE) --no-print-directory all
	python3 deploy/local/stack.py run --dir var --media media --port $${PORT:-8080}

bench: deps
	@$(MAKE) --no-print-directory all
	python3 test/bench/bench.py
	python3 test/bench/relay_bench.py
	python3 test/bench/files_bench.py
	@$(MAKE) --no-print-directory app-bench

# The app's bundle size and page timings (static/test/bench/app-bench.mjs),
# on the release build.
app-bench: app
	cd static && OPENBOOK_BIN=build/openbook node test/e2e/run.mjs bench

screenshots: app asan
	cd static && node test/e2e/run.mjs screenshots

include test/test.mk

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/openbook \
	           $(DESTDIR)$(PREFIX)/share/openbook $(DESTDIR)/var/lib/openbook/media
	install -m 0755 $(BUILD)/openbook $(DESTDIR)$(PREFIX)/bin/openbook
	$(if $(RELAY_SRC),install -m 0755 $(BUILD)/openbook-relay $(DESTDIR)$(PREFIX)/bin/openbook-relay)
	install -m 0644 conf/openbook.yaml $(DESTDIR)$(SYSCONFDIR)/openbook/openbook.yaml
	install -m 0644 conf/local.yaml.example $(DESTDIR)$(SYSCONFDIR)/openbook/local.yaml.example
	install -d $(DESTDIR)$(PREFIX)/share/openbook/migrations
	install -m 0644 $(MIGRATIONS) $(DESTDIR)$(PREFIX)/share/openbook/migrations/
	install -m 0644 conf/common-passwords.txt.gz $(DESTDIR)$(PREFIX)/share/openbook/
	install -d $(DESTDIR)$(PREFIX)/share/openbook/static
	cp -R static/app static/ws-demo.html $(DESTDIR)$(PREFIX)/share/openbook/static/
	cp -R deploy $(DESTDIR)$(PREFIX)/share/openbook/deploy

clean:
	rm -rf build
