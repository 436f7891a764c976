# test/test.mk - test targets, included by the Makefile.
#
#   make test         deps, then: the layer check, gcc and clang builds, the
#                     static analyzer, unit tests (Check, under ASan+UBSan),
#                     the saved fuzz crashes, every fuzz target briefly, and
#                     the integration tests against the real stack
#   make check-layers no lower layer includes a higher one's header
#   make unit         unit tests only
#   make integration  integration tests only
#   make e2e          the browser app: unit tests (node --test) and the
#                     end-to-end tests in headless Chromium (static/test/)
#   make fuzz         every fuzz target for FUZZ_SECONDS (default 60)
#   make analyze      clang's static analyzer over src/; any report fails
#   make coverage     line coverage of the unit and integration tests
#   make bench        see test/bench/README

SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
UNIT_SRC := $(wildcard test/unit/*.c)
# UNIT_DIR, UNIT_OPT and UNIT_SAN are changed by `make coverage`.
UNIT_DIR ?= build/test
UNIT_OPT ?= -O1 -g
UNIT_SAN ?= $(SAN)
UNIT_BIN := $(UNIT_DIR)/unit-tests
# Unit tests link every module except main.c; libfcgi/libpq-dependent
# modules come along but are only exercised where a test asks for them.
UNIT_LIB_SRC := $(CORE_SRC) $(APP_SRC) build/gen/migrations_data.c
UNIT_OBJ := $(patsubst %.c,$(UNIT_DIR)/obj/%.o,$(UNIT_SRC) $(UNIT_LIB_SRC))
UNIT_CFLAGS = $(CSTD) $(WARN) $(UNIT_OPT) $(UNIT_SAN) $(CPPFLAGS) -Itest/unit $(PKG_CFLAGS) \
              $(shell $(PKG_CONFIG) --cflags check) $(CFLAGS)
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst test/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10

.PHONY: test unit integration fuzz fuzz-smoke fuzz-crashes build-both analyze coverage check-layers e2e

test: deps
	@sh test/check-layers.sh
	@$(MAKE) --no-print-directory build-both
	@sh test/check-docs.sh build/openbook
	@$(MAKE) --no-print-directory analyze
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-crashes
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory e2e

# No layer includes a header of a layer above it (the order is in the script).
check-layers:
	@sh test/check-layers.sh

# Both compilers must build the tree warning-free.
build-both:
	@$(MAKE) --no-print-directory CC=gcc BUILD=build/gcc all
	@$(MAKE) --no-print-directory CC=clang BUILD=build/clang all
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory asan

$(UNIT_DIR)/obj/%.o: %.c | build/gen/migrations_data.c
	@mkdir -p $(dir $@)
	@echo "  CC $< (unit)"
	@$(CC) $(UNIT_CFLAGS) $(DEPFLAGS) -c -o $@ $<
-include $(wildcard $(UNIT_DIR)/obj/*/*/*.d $(UNIT_DIR)/obj/*/*/*/*.d)

$(UNIT_BIN): $(UNIT_OBJ)
	@echo "  LD $@"
	@$(CC) $(UNIT_OPT) $(UNIT_SAN) -o $@ $^ $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs check) -lm

unit: $(UNIT_BIN)
	@cd test/unit && CK_FORK=no ASAN_OPTIONS=detect_leaks=1 ../../$(UNIT_BIN)

# libFuzzer targets: one per parser, each `LLVMFuzzerTestOneInput(buf, len)`,
# with a committed seed corpus in test/fuzz/corpus/<name>/.
FUZZ_LIB_SRC := $(CORE_SRC) $(FILES_SRC)
FUZZ_CFLAGS = $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=undefined $(CPPFLAGS) $(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(FUZZ_LIB_SRC))
# The core layer is compiled once for every target (not once per target);
# the objects are kept between runs.
.SECONDARY: $(FUZZ_LIB_OBJ)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@clang $(FUZZ_CFLAGS) $(DEPFLAGS) -c -o $@ $<
build/fuzz/%: test/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p build/fuzz
	@echo "  FUZZ $@"
	@clang $(FUZZ_CFLAGS) $(DEPFLAGS) -MF build/fuzz/$*.d -fsanitize=fuzzer -o $@ $< \
	    $(filter %.o,$^) $(PKG_LIBS) -lm
# The relay's client protocol: proto.c alone, the rest of the relay (and
# libev's clock) stood in for by the target.
build/fuzz/fuzz_relay_proto: build/fuzz/obj/src/relay/proto.o
.SECONDARY: build/fuzz/obj/src/relay/proto.o
# The API's pure cores: the query compiler and the field validator.
build/fuzz/fuzz_query: build/fuzz/obj/src/api/query.o build/fuzz/obj/src/db/sql.o
build/fuzz/fuzz_wfield: build/fuzz/obj/src/api/validate.o
.SECONDARY: build/fuzz/obj/src/api/query.o build/fuzz/obj/src/db/sql.o build/fuzz/obj/src/api/validate.o
-include $(wildcard build/fuzz/*.d build/fuzz/obj/src/*/*.d)

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=build/fuzz/ \
	      build/fuzz/corpus-$$n test/fuzz/corpus/$$n >build/fuzz/$$n.log 2>&1 \
	      || { tail -40 build/fuzz/$$n.log; exit 1; }; \
	done; echo "fuzz: all targets ran clean"

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

# Every input that once crashed a target, kept in test/fuzz/crashes/ as
# <target>-<anything>, runs again through that target (once, no fuzzing):
# a fixed crash that comes back fails the build.
FUZZ_CRASHES := $(wildcard test/fuzz/crashes/fuzz_*)
fuzz-crashes: $(sort $(foreach c,$(FUZZ_CRASHES),build/fuzz/$(firstword $(subst -, ,$(notdir $(c))))))
	@for c in $(FUZZ_CRASHES); do t=$$(basename $$c | cut -d- -f1); \
	  build/fuzz/$$t $$c >build/fuzz/$$t.replay.log 2>&1 \
	      || { tail -30 build/fuzz/$$t.replay.log; echo "fuzz-crashes: $$c crashes $$t again"; exit 1; }; \
	done; echo "fuzz-crashes: $(words $(FUZZ_CRASHES)) reproducer(s) replayed clean"

# clang's static analyzer, one report file per source (kept, so a rerun
# analyzes only what changed); -analyzer-werror turns every finding into
# an error.  Same flags as the build, without optimisation or hardening.
ANALYZE_SRC := $(CORE_SRC) $(APP_SRC) $(MAIN_SRC) $(RELAY_SRC)
ANALYZE_OUT := $(patsubst %.c,build/analyze/%.txt,$(ANALYZE_SRC))
build/analyze/%.txt: %.c | build/gen/migrations_data.c
	@mkdir -p $(dir $@)
	@echo "  ANALYZE $<"
	@clang --analyze $(CSTD) $(WARN) $(CPPFLAGS) $(PKG_CFLAGS) -include test/analyze/models.h \
	    $(DEPFLAGS) -MF $(@:.txt=.d) -MT $@ \
	    -Xclang -analyzer-werror -Xclang -analyzer-output=text -o /dev/null $< >$@.tmp 2>&1 \
	    || { cat $@.tmp; rm -f $@.tmp; exit 1; }
	@mv $@.tmp $@
-include $(wildcard build/analyze/src/*.d build/analyze/src/*/*.d)

analyze: $(ANALYZE_OUT)
	@echo "analyze: $(words $(ANALYZE_SRC)) files, no findings"

# Line coverage: gcc --coverage builds of the server, the relay and the
# unit tests under build/coverage, the unit tests and the integration
# tests run against them (COVERAGE_TESTS: only these modules), then lcov
# sums it up; the HTML report is build/coverage/html/index.html.
# Unoptimised, so every line counts as written; gcc's -O0 sees less of the
# value ranges, so its format-truncation guesses are warnings here, not
# errors (the gcc and clang builds of `make test` keep them errors).
COVERAGE_TESTS ?=
# lcov 1.16's geninfo has perl warn of "Subroutine ... redefined" on every
# run; they say nothing about the figures.
LCOV = sh -c 'lcov --quiet "$$@" 2>build/coverage/lcov.err; rc=$$?; \
       grep -v "^Subroutine .* redefined" build/coverage/lcov.err >&2; exit $$rc' lcov
COV_FLAGS := CC=gcc HARDEN= HARDEN_LD= CFLAGS=-Wno-error
coverage:
	@$(MAKE) --no-print-directory $(COV_FLAGS) BUILD=build/coverage OPT='-O0 -g --coverage' \
	    LDFLAGS=--coverage build/coverage/openbook build/coverage/openbook-relay
	@$(MAKE) --no-print-directory $(COV_FLAGS) UNIT_DIR=build/coverage/test \
	    UNIT_OPT='-O0 -g --coverage' UNIT_SAN= build/coverage/test/unit-tests
	@$(LCOV) --zerocounters --directory build/coverage
	@cd test/unit && CK_FORK=no ../../build/coverage/test/unit-tests >/dev/null
	@$(LCOV) --capture --directory build/coverage/test --output-file build/coverage/unit.info
	@OPENBOOK_BIN=build/coverage/openbook sh test/run-integration.sh $(COVERAGE_TESTS) \
	    || echo "coverage: some integration tests failed (the figures still count what ran)"
	@$(LCOV) --capture --directory build/coverage/obj --output-file build/coverage/integration.info
	@for s in unit integration; do \
	  $(LCOV) --extract build/coverage/$$s.info '$(CURDIR)/src/*' -o build/coverage/$$s.src.info; \
	  printf 'coverage, %s tests: ' $$s; lcov --summary build/coverage/$$s.src.info 2>&1 | grep lines; done
	@$(LCOV) -a build/coverage/unit.src.info -a build/coverage/integration.src.info \
	    -o build/coverage/all.info
	@printf 'coverage, both: '; lcov --summary build/coverage/all.info 2>&1 | grep lines
	@genhtml --quiet --output-directory build/coverage/html build/coverage/all.info
	@echo "coverage: build/coverage/html/index.html"

integration: asan
	@OPENBOOK_BIN=build/asan/openbook sh test/run-integration.sh

# The browser app: its unit tests, then one stack for all end-to-end tests
# (two test files at a time).
e2e: asan app
	cd static && node --test test/unit/
	cd static && OPENBOOK_BIN=build/asan/openbook node test/e2e/run.mjs test
