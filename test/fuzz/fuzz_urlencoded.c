/* fuzz_urlencoded.c - ob_parse_urlencoded and ob_percent_decode.
 *
 * Input: byte 0 picks the pair limit (0..63), the rest is the query string
 * or form body.  Invariants: the count never exceeds the limit; every
 * decoded key and value is NUL-terminated at its length, holds no NUL and
 * is valid UTF-8; on success the count equals the number of non-empty
 * '&'-separated items; percent-encoding any bytes and decoding them gives
 * the bytes back. */
#include <string.h>
#include "openbook/http/parse.h"
#include "fuzz_common.h"

static size_t nonempty_items(const char *buf, size_t len)
{
    size_t n = 0, run = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || buf[i] == '&') {
            n += run > 0;
            run = 0;
        } else {
            run++;
        }
    }
    return n;
}

static void check_string(const char *s, size_t len, const char *what)
{
    FUZZ_CHECK(s != NULL, "%s is NULL", what);
    FUZZ_CHECK(s[len] == '\0', "%s not terminated at its length", what);
    FUZZ_CHECK(memchr(s, '\0', len) == NULL, "%s holds a NUL", what);
    FUZZ_CHECK(ob_utf8_valid(s, len), "%s is not UTF-8", what);
}

static void check_roundtrip(ob_arena *a, const char *buf, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    char *enc = ob_arena_alloc(a, 3 * len + 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        enc[3 * i] = '%';
        enc[3 * i + 1] = hex[c >> 4];
        enc[3 * i + 2] = hex[c & 15];
    }
    char *dec;
    size_t dlen;
    ob_percent_decode(a, enc, 3 * len, true, &dec, &dlen);
    FUZZ_CHECK(dlen == len && memcmp(dec, buf, len) == 0, "encode/decode round trip");
    /* Decoding never grows the text. */
    ob_percent_decode(a, buf, len, false, &dec, &dlen);
    FUZZ_CHECK(dlen <= len && dec[dlen] == '\0', "decoded length %zu > %zu", dlen, len);
    if (!memchr(buf, '%', len))
        FUZZ_CHECK(dlen == len && memcmp(dec, buf, len) == 0, "text without '%%' changed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    size_t max = size ? data[0] % 64 : 8;
    const char *buf = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;

    ob_kv *kv = NULL;
    size_t n = (size_t)-1;
    ob_parse_result r = ob_parse_urlencoded(a, buf, len, max, &kv, &n);
    FUZZ_CHECK(r == OB_PARSE_OK || r == OB_PARSE_TOO_MANY || r == OB_PARSE_BAD_ENCODING,
               "result %d", (int)r);
    FUZZ_CHECK(kv != NULL, "no array");
    FUZZ_CHECK(n <= max, "count %zu > max %zu", n, max);
    if (r == OB_PARSE_TOO_MANY)
        FUZZ_CHECK(n == max, "TOO_MANY with count %zu, max %zu", n, max);
    if (r == OB_PARSE_OK)
        FUZZ_CHECK(n == nonempty_items(buf, len), "count %zu, items %zu", n,
                   nonempty_items(buf, len));
    for (size_t i = 0; i < n; i++) {
        check_string(kv[i].key, kv[i].key_len, "key");
        check_string(kv[i].value, kv[i].value_len, "value");
        const ob_kv *f = ob_kv_find(kv, n, kv[i].key);
        FUZZ_CHECK(f != NULL && f <= &kv[i], "ob_kv_find missed key %zu", i);
    }
    check_roundtrip(a, buf, len);
    ob_arena_reset(a);
    return 0;
}
