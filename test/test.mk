# test/test.mk - test targets, included by the Makefile.
#
#   make test         deps, then: gcc and clang builds, unit tests (Check,
#                     under ASan+UBSan), every fuzz target briefly, and the
#                     integration tests against the real stack
#   make unit         unit tests only
#   make integration  integration tests only
#   make e2e          the browser app: unit tests (node --test) and the
#                     end-to-end tests in headless Chromium (static/test/)
#   make fuzz         every fuzz target for FUZZ_SECONDS (default 60)
#   make bench        see test/bench/README

SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
UNIT_SRC := $(wildcard test/unit/*.c)
UNIT_BIN := build/test/unit-tests
# Unit tests link every module except main.c; libfcgi/libpq-dependent
# modules come along but are only exercised where a test asks for them.
UNIT_LIB_SRC := $(CORE_SRC) $(APP_SRC) build/gen/migrations_data.c
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst test/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10

.PHONY: test unit integration fuzz fuzz-smoke build-both e2e

test: deps
	@$(MAKE) --no-print-directory build-both
	@sh test/check-docs.sh build/openbook
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory e2e

# Both compilers must build the tree warning-free.
build-both:
	@$(MAKE) --no-print-directory CC=gcc BUILD=build/gcc all
	@$(MAKE) --no-print-directory CC=clang BUILD=build/clang all
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory asan

$(UNIT_BIN): $(UNIT_SRC) $(UNIT_LIB_SRC) $(wildcard include/openbook/*.h) $(wildcard test/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g $(SAN) $(CPPFLAGS) -Itest/unit $(PKG_CFLAGS) \
	    $(shell $(PKG_CONFIG) --cflags check) -o $@ $(UNIT_SRC) $(UNIT_LIB_SRC) \
	    $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs check) -lm

unit: $(UNIT_BIN)
	@cd test/unit && CK_FORK=no ASAN_OPTIONS=detect_leaks=1 ../../$(UNIT_BIN)

# libFuzzer targets: one per parser, each `LLVMFuzzerTestOneInput(buf, len)`,
# with a committed seed corpus in test/fuzz/corpus/<name>/.
# The router needs the API's routing table: not a parser, not fuzzed.
FUZZ_LIB_SRC := $(filter-out src/http/router.c,$(CORE_SRC)) $(FILES_SRC)
FUZZ_CFLAGS = $(CSTD) $(WARN) -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=undefined $(CPPFLAGS) $(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(FUZZ_LIB_SRC))
# The core layer is compiled once for every target (not once per target);
# the objects are kept between runs.
.SECONDARY: $(FUZZ_LIB_OBJ)
build/fuzz/obj/%.o: %.c $(wildcard include/openbook/*.h)
	@mkdir -p $(dir $@)
	@clang $(FUZZ_CFLAGS) -c -o $@ $<
build/fuzz/%: test/fuzz/%.c $(FUZZ_LIB_OBJ) $(wildcard test/fuzz/*.h)
	@mkdir -p build/fuzz
	@echo "  FUZZ $@"
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(FUZZ_EXTRA) $(PKG_LIBS) -lm
# The API's pure cores: their targets link those files on top of the core.
FUZZ_QUERY_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,src/api/query.c src/db/sql.c)
.SECONDARY: $(FUZZ_QUERY_OBJ)
build/fuzz/fuzz_query: FUZZ_EXTRA = $(FUZZ_QUERY_OBJ)
build/fuzz/fuzz_query: $(FUZZ_QUERY_OBJ)
FUZZ_WFIELD_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,src/api/validate.c)
.SECONDARY: $(FUZZ_WFIELD_OBJ)
build/fuzz/fuzz_wfield: FUZZ_EXTRA = $(FUZZ_WFIELD_OBJ)
build/fuzz/fuzz_wfield: $(FUZZ_WFIELD_OBJ)

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=build/fuzz/ \
	      build/fuzz/corpus-$$n test/fuzz/corpus/$$n >build/fuzz/$$n.log 2>&1 \
	      || { tail -40 build/fuzz/$$n.log; exit 1; }; \
	done; echo "fuzz: all targets ran clean"

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

integration: asan
	@OPENBOOK_BIN=build/asan/openbook sh test/run-integration.sh

# The browser app: its unit tests, then one stack for all end-to-end tests
# (two test files at a time).
e2e: asan app
	cd static && node --test test/unit/
	cd static && OPENBOOK_BIN=build/asan/openbook node test/e2e/run.mjs test
