/* fuzz_common.h - shared by the libFuzzer targets (one per fuzz_*.c).
 *
 * Each target includes this once.  It declares the libFuzzer entry point
 * (the tree builds with -Wmissing-prototypes), gives an abort-on-failure
 * check that reports the broken invariant, a per-process arena that every
 * input resets, and a stand-in routing table: the fuzz targets link
 * src/core + src/http only, and src/http/router.c refers to ob_routes from
 * src/api/routes.c.  The stand-in is weak, so a build that links the real
 * table uses it instead.
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
#include "openbook/core/arena.h"
#include "openbook/http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}

__attribute__((weak)) const ob_route ob_routes[1] = {{.pattern = "/"}};
__attribute__((weak)) const size_t ob_nroutes = 0;

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
