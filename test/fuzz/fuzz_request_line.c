/* fuzz_request_line.c - ob_parse_request_line (the metrics endpoint's
 * request head).
 *
 * Invariants: on success the method is a non-empty token at the start of
 * the input, followed by one space; the path starts with '/', lies inside
 * the input, holds no space, control character or '?'; the line ends with
 * LF within the input.  A prefix of an accepted input that stops before
 * its line feed is refused. */
#include <ctype.h>
#include <string.h>
#include "openbook/http/parse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    ob_request_line rl;
    if (!ob_parse_request_line(buf, size, &rl))
        return 0;
    FUZZ_CHECK(rl.method == buf && rl.method_len > 0, "method at %p", (const void *)rl.method);
    FUZZ_CHECK(rl.method_len < size && buf[rl.method_len] == ' ', "no space after the method");
    for (size_t i = 0; i < rl.method_len; i++)
        FUZZ_CHECK(isgraph((unsigned char)buf[i]), "method byte %02x", (unsigned char)buf[i]);
    FUZZ_CHECK(rl.path == buf + rl.method_len + 1, "path not after the method");
    FUZZ_CHECK(rl.path_len > 0 && rl.path[0] == '/', "path does not start with /");
    FUZZ_CHECK(rl.path + rl.path_len <= buf + size, "path beyond the input");
    for (size_t i = 0; i < rl.path_len; i++) {
        unsigned char c = (unsigned char)rl.path[i];
        FUZZ_CHECK(c > 0x20 && c != 0x7f && c != '?', "path byte %02x", c);
    }
    const char *lf = memchr(buf, '\n', size);
    FUZZ_CHECK(lf != NULL, "accepted without a line feed");
    size_t upto = (size_t)(lf - buf);
    FUZZ_CHECK(!ob_parse_request_line(buf, upto, &rl), "accepted without its line feed");
    return 0;
}
