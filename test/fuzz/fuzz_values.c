/* fuzz_values.c - ob_parse_datetime and ob_parse_uuid (src/http/values.c).
 *
 * Input: any bytes, cut at the first NUL (the parsers take C strings, as
 * query parameters and JSON strings arrive).  Invariants: an accepted
 * date-time is written in the one canonical form, which parses again to
 * itself; date-only input is accepted only when asked for.  An accepted
 * UUID is 36 characters of lower-case hex with hyphens at 8-13-18-23, and
 * parses again to itself. */
#include <ctype.h>
#include <string.h>
#include "openbook/http/parse.h"
#include "fuzz_common.h"

static void check_datetime(const char *in, bool date_only_ok)
{
    char out[40];
    memset(out, 'X', sizeof out);
    if (!ob_parse_datetime(in, date_only_ok, out))
        return;
    FUZZ_CHECK(strlen(out) == 32, "%s -> %s", in, out);
    FUZZ_CHECK(out[4] == '-' && out[7] == '-' && out[10] == 'T' && out[13] == ':' &&
                   out[16] == ':' && out[19] == '.' && (out[26] == '+' || out[26] == '-') &&
                   out[29] == ':',
               "%s -> %s", in, out);
    char again[40];
    FUZZ_CHECK(ob_parse_datetime(out, false, again), "%s -> %s does not parse", in, out);
    FUZZ_CHECK(strcmp(out, again) == 0, "%s -> %s -> %s", in, out, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';

    check_datetime(s, false);
    check_datetime(s, true);
    char out[40];
    if (ob_parse_datetime(s, true, out) && !ob_parse_datetime(s, false, out)) {
        /* Only a bare date may need date_only_ok. */
        const char *p = s;
        while (*p == ' ')
            p++;
        FUZZ_CHECK(strlen(p) == 10, "date-only accepted for '%s'", s);
    }

    char u[37];
    if (ob_parse_uuid(s, u)) {
        FUZZ_CHECK(strlen(u) == 36, "%s -> %s", s, u);
        for (int i = 0; i < 36; i++) {
            bool hy = i == 8 || i == 13 || i == 18 || i == 23;
            FUZZ_CHECK(hy ? u[i] == '-' : (isxdigit((unsigned char)u[i]) && !isupper((unsigned char)u[i])),
                       "%s -> %s", s, u);
        }
        char again[37];
        FUZZ_CHECK(ob_parse_uuid(u, again) && strcmp(u, again) == 0, "%s -> %s", s, u);
    }
    free(s);
    return 0;
}
