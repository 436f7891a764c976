/* fuzz_accept_language.c - ob_parse_accept_language.
 *
 * Input: byte 0 picks the output limit (0..19), the rest is an
 * Accept-Language header.  Invariants: the count never exceeds the limit,
 * the 16-entry internal cap or the number of comma-separated items; every
 * tag is 1..8 lower-case ASCII letters; a larger limit returns the smaller
 * limit's answer as its prefix (the order is deterministic). */
#include <string.h>
#include "openbook/http/parse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    size_t max = size ? data[0] % 20 : 4;
    const char *buf = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;

    const char *out[20];
    memset(out, 0, sizeof out);
    size_t n = ob_parse_accept_language(a, buf, len, out, max);
    size_t items = 1;
    for (size_t i = 0; i < len; i++)
        items += buf[i] == ',';
    FUZZ_CHECK(n <= max, "count %zu > max %zu", n, max);
    FUZZ_CHECK(n <= 16, "count %zu > 16", n);
    FUZZ_CHECK(n <= items, "count %zu > %zu items", n, items);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(out[i] != NULL, "tag %zu is NULL", i);
        size_t tl = strlen(out[i]);
        FUZZ_CHECK(tl >= 1 && tl <= 8, "tag length %zu", tl);
        for (size_t k = 0; k < tl; k++)
            FUZZ_CHECK(out[i][k] >= 'a' && out[i][k] <= 'z', "tag byte %02x",
                       (unsigned char)out[i][k]);
    }
    for (size_t i = n; i < 20; i++)
        FUZZ_CHECK(out[i] == NULL, "wrote past the count");

    const char *all[20];
    size_t n2 = ob_parse_accept_language(a, buf, len, all, 20);
    FUZZ_CHECK(n2 >= n, "larger limit gave fewer tags");
    FUZZ_CHECK(n == (n2 < max ? n2 : max), "count %zu, want min(%zu, %zu)", n, n2, max);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(strcmp(out[i], all[i]) == 0, "tag %zu differs between limits", i);
    ob_arena_reset(a);
    return 0;
}
