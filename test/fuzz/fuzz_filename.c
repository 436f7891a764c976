/* fuzz_filename.c - stored upload names and MIME types (filename.h,
 * mime.h).
 *
 * Input: a client-supplied file name.  Invariants: the stored name is
 * 1..255 bytes of valid UTF-8 without '/', '\', NUL, C0/C1 controls or
 * DEL, does not start with '.' or white space, and is never "." or "..";
 * sanitizing it again changes nothing; the suffixed name is within 255
 * bytes, valid UTF-8 and keeps the extension; every MIME type is a
 * non-empty "type/subtype". */
#include <string.h>
#include "openbook/files/filename.h"
#include "openbook/files/mime.h"
#include "openbook/http/parse.h"
#include "fuzz_common.h"

static void check_name(const char *s, const char *what)
{
    size_t n = strlen(s);
    FUZZ_CHECK(n >= 1 && n <= OB_FILENAME_MAX, "%s: length %zu", what, n);
    FUZZ_CHECK(ob_utf8_valid(s, n), "%s: not UTF-8", what);
    FUZZ_CHECK(s[0] != '.' && s[0] != ' ' && s[0] != '\t', "%s: leading dot or space", what);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        FUZZ_CHECK(c >= 0x20 && c != 0x7f && c != '/' && c != '\\', "%s: byte %zu", what, i);
        if (c == 0xc2 && i + 1 < n)
            FUZZ_CHECK((unsigned char)s[i + 1] > 0x9f, "%s: C1 control at %zu", what, i);
    }
}

static void check_mime(const char *t)
{
    const char *slash = strchr(t, '/');
    FUZZ_CHECK(slash && slash > t && slash[1], "MIME type \"%s\"", t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    const char *buf = (const char *)data;
    char *s = ob_filename_sanitize(a, buf, size);
    check_name(s, "sanitized");
    char *again = ob_filename_sanitize(a, s, strlen(s));
    FUZZ_CHECK(strcmp(s, again) == 0, "sanitizing twice changed \"%s\"", s);
    char *u = ob_filename_with_suffix(a, s);
    check_name(u, "suffixed");
    const char *dot = strrchr(s, '.');
    if (dot && strlen(dot) <= 32)
        FUZZ_CHECK(strlen(u) >= strlen(dot) && strcmp(u + strlen(u) - strlen(dot), dot) == 0,
                   "extension lost: %s -> %s", s, u);
    check_mime(ob_mime_type(buf, size));
    check_mime(ob_mime_type(s, strlen(s)));
    FUZZ_CHECK(strcmp(ob_mime_type(s, strlen(s)), ob_mime_type(u, strlen(u))) == 0,
               "the suffix changed the type");
    ob_arena_reset(a);
    return 0;
}
