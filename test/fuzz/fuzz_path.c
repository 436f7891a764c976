/* fuzz_path.c - ob_parse_path against a reference model.
 *
 * Input: the raw path part of a request URI.  Invariants on success: the
 * result starts with '/', is NUL-terminated at its length, holds no NUL,
 * no "//", no "." or ".." segment, no control character or backslash, is
 * valid UTF-8, and equals the percent-decoded input with slash runs
 * collapsed.  On failure the outputs are cleared, and the error kind
 * matches the model: not absolute or a bad segment -> BAD_PATH, an
 * (encoded) NUL or invalid UTF-8 -> BAD_ENCODING. */
#include <string.h>
#include "openbook/http/parse.h"
#include "fuzz_common.h"

static bool bad_char(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '\\';
}

/* The model: returns the expected result and fills *want on success. */
static ob_parse_result model(ob_arena *a, const char *buf, size_t len, char **want,
                             size_t *want_len)
{
    if (len == 0 || buf[0] != '/')
        return OB_PARSE_BAD_PATH;
    char *dec;
    size_t dlen;
    ob_percent_decode(a, buf, len, false, &dec, &dlen);
    if (memchr(dec, '\0', dlen) || !ob_utf8_valid(dec, dlen))
        return OB_PARSE_BAD_ENCODING;
    char *out = ob_arena_alloc(a, dlen + 1);
    size_t j = 0;
    for (size_t i = 0; i < dlen; i++) {
        if (dec[i] == '/' && j > 0 && out[j - 1] == '/')
            continue;
        if (bad_char((unsigned char)dec[i]))
            return OB_PARSE_BAD_PATH;
        out[j++] = dec[i];
    }
    out[j] = '\0';
    /* Segments between slashes. */
    for (size_t s = 1; s <= j;) {
        size_t e = s;
        while (e < j && out[e] != '/')
            e++;
        size_t n = e - s;
        if ((n == 1 && out[s] == '.') || (n == 2 && out[s] == '.' && out[s + 1] == '.'))
            return OB_PARSE_BAD_PATH;
        s = e + 1;
    }
    *want = out;
    *want_len = j;
    return OB_PARSE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    const char *buf = (const char *)data;
    char *out = (char *)"sentinel";
    size_t olen = 12345;
    ob_parse_result r = ob_parse_path(a, buf, size, &out, &olen);

    char *want = NULL;
    size_t want_len = 0;
    ob_parse_result m = model(a, buf, size, &want, &want_len);
    FUZZ_CHECK(r == m, "result %d, model says %d", (int)r, (int)m);

    if (r != OB_PARSE_OK) {
        FUZZ_CHECK(out == NULL && olen == 0, "outputs not cleared on error");
        ob_arena_reset(a);
        return 0;
    }
    FUZZ_CHECK(out != NULL && olen > 0, "empty result");
    FUZZ_CHECK(out[0] == '/', "not absolute");
    FUZZ_CHECK(out[olen] == '\0', "not terminated at its length");
    FUZZ_CHECK(memchr(out, '\0', olen) == NULL, "holds a NUL");
    FUZZ_CHECK(memmem(out, olen, "//", 2) == NULL, "holds \"//\"");
    FUZZ_CHECK(ob_utf8_valid(out, olen), "not UTF-8");
    for (size_t i = 0; i < olen; i++)
        FUZZ_CHECK(!bad_char((unsigned char)out[i]), "bad byte %02x", (unsigned char)out[i]);
    for (size_t s = 1; s <= olen;) {
        size_t e = s;
        while (e < olen && out[e] != '/')
            e++;
        size_t n = e - s;
        FUZZ_CHECK(!(n == 1 && out[s] == '.'), "\".\" segment");
        FUZZ_CHECK(!(n == 2 && out[s] == '.' && out[s + 1] == '.'), "\"..\" segment");
        s = e + 1;
    }
    FUZZ_CHECK(olen == want_len && memcmp(out, want, olen) == 0, "differs from the model");
    /* A result without escapes is a fixed point. */
    if (!memchr(out, '%', olen)) {
        char *again;
        size_t alen;
        FUZZ_CHECK(ob_parse_path(a, out, olen, &again, &alen) == OB_PARSE_OK, "not idempotent");
        FUZZ_CHECK(alen == olen && memcmp(again, out, olen) == 0, "not idempotent");
    }
    ob_arena_reset(a);
    return 0;
}
