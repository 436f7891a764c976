/* fuzz_request_id.c - ob_parse_request_id (X-Request-Id from the front
 * server).
 *
 * Invariants: an accepted id is 1..OB_REQUEST_ID_MAX bytes of printable
 * ASCII without space, quote, backslash, ';' or ',' (it is written into a
 * response header and every log line of the request); the answer depends
 * only on the bytes within the length. */
#include <ctype.h>
#include <string.h>
#include "openbook/http/parse.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    bool ok = ob_parse_request_id(buf, size);
    if (ok) {
        FUZZ_CHECK(size >= 1 && size <= OB_REQUEST_ID_MAX, "length %zu", size);
        for (size_t i = 0; i < size; i++) {
            unsigned char c = (unsigned char)buf[i];
            FUZZ_CHECK(isgraph(c) && !strchr("\"\\;,<>'", c), "byte %02x", c);
        }
    }
    /* Nothing past the length is read: a copy with junk behind it agrees. */
    static char copy[OB_REQUEST_ID_MAX + 64];
    if (size + 1 <= sizeof copy) {
        memcpy(copy, buf, size);
        copy[size] = ' ';
        FUZZ_CHECK(ob_parse_request_id(copy, size) == ok, "depends on the byte after the end");
    }
    return 0;
}
