/* fuzz_cookies.c - ob_parse_cookies.
 *
 * Input: byte 0 picks the cookie limit (0..63), the rest is a Cookie
 * header.  Invariants: the count never exceeds the limit (and equals it on
 * TOO_MANY); names are non-empty, NUL-terminated at their length, hold no
 * NUL, ';' or '=' and no surrounding white space; values hold no NUL or
 * ';'; ob_kv_find returns the first cookie of a name. */
#include <string.h>
#include "openbook/http/parse.h"
#include "fuzz_common.h"

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    size_t max = size ? data[0] % 64 : 8;
    const char *buf = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;

    ob_kv *kv = NULL;
    size_t n = (size_t)-1;
    ob_parse_result r = ob_parse_cookies(a, buf, len, max, &kv, &n);
    FUZZ_CHECK(r == OB_PARSE_OK || r == OB_PARSE_TOO_MANY, "result %d", (int)r);
    FUZZ_CHECK(kv != NULL, "no array");
    FUZZ_CHECK(n <= max, "count %zu > max %zu", n, max);
    if (r == OB_PARSE_TOO_MANY)
        FUZZ_CHECK(n == max, "TOO_MANY with count %zu, max %zu", n, max);
    size_t semis = 0;
    for (size_t i = 0; i < len; i++)
        semis += buf[i] == ';';
    FUZZ_CHECK(n <= semis + 1, "%zu cookies from %zu items", n, semis + 1);
    for (size_t i = 0; i < n; i++) {
        const char *k = kv[i].key, *v = kv[i].value;
        size_t kl = kv[i].key_len, vl = kv[i].value_len;
        FUZZ_CHECK(k && v, "NULL name or value");
        FUZZ_CHECK(kl > 0, "empty name");
        FUZZ_CHECK(k[kl] == '\0' && v[vl] == '\0', "not terminated at length");
        FUZZ_CHECK(!memchr(k, '\0', kl) && !memchr(v, '\0', vl), "NUL inside");
        FUZZ_CHECK(!memchr(k, ';', kl) && !memchr(v, ';', vl), "';' inside");
        FUZZ_CHECK(!memchr(k, '=', kl), "'=' in name");
        FUZZ_CHECK(!ows(k[0]) && !ows(k[kl - 1]), "white space around name");
        /* Values come out of the header verbatim (no decoding). */
        FUZZ_CHECK(vl == 0 || memmem(buf, len, v, vl) != NULL, "value not from the header");
        const ob_kv *f = ob_kv_find(kv, n, k);
        FUZZ_CHECK(f != NULL && f <= &kv[i], "ob_kv_find missed cookie %zu", i);
    }
    ob_arena_reset(a);
    return 0;
}
