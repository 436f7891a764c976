/* fuzz_common.h - shared by the libFuzzer targets (one per fuzz_*.c).
 *
 * Each target includes this once.  It declares the libFuzzer entry point
 * (the tree builds with -Wmissing-prototypes), gives an abort-on-failure
 * check that reports the broken invariant, and a per-process arena that
 * every input resets.  The targets link src/core + src/http only, which
 * refer to nothing above them.
 *
 * test/test.mk builds the targets with -fsanitize=undefined but without
 * -fno-sanitize-recover, so UBSan would only log undefined behaviour and
 * the run would still count as clean; __ubsan_default_options makes every
 * UBSan report fatal, so libFuzzer saves the input as a crash. */
#ifndef OPENBOOK_FUZZ_COMMON_H
#define OPENBOOK_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "openbook/core/alloc.h"
#include "openbook/core/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Start-up as in every binary: cJSON allocates through ob_malloc. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    ob_alloc_init();
    return 0;
}

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}

#define FUZZ_CHECK(cond, ...)                                                                     \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond);         \
            fprintf(stderr, __VA_ARGS__);                                                         \
            fputc('\n', stderr);                                                                  \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

/* The arena of the target, created on first use and reset per input. */
static inline ob_arena *fuzz_arena(void)
{
    static ob_arena a;
    static bool ready;
    if (!ready) {
        ob_arena_init(&a, 1 << 16);
        ready = true;
    }
    return &a;
}

#endif
