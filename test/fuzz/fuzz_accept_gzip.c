/* fuzz_accept_gzip.c - ob_parse_accept_gzip.
 *
 * Input: an Accept-Encoding header.  Invariants: the weight is 0..1000;
 * the first well-formed mention decides, so a leading "gzip;q=0," forces
 * 0 and a leading "gzip," forces 1000 whatever follows; a leading element
 * naming another coding changes nothing; and without a 'g' or '*' in the
 * header there is no weight at all. */
#include <string.h>
#include "openbook/http/parse.h"
#include "fuzz_common.h"

static int with_prefix(const char *prefix, const uint8_t *data, size_t size)
{
    static char buf[70000];
    size_t pl = strlen(prefix);
    if (size > sizeof buf - pl)
        size = sizeof buf - pl;
    memcpy(buf, prefix, pl);
    memcpy(buf + pl, data, size);
    return ob_parse_accept_gzip(buf, pl + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    const char *buf = (const char *)data;
    int q = ob_parse_accept_gzip(buf, size);
    FUZZ_CHECK(q >= 0 && q <= 1000, "weight %d", q);
    FUZZ_CHECK(ob_parse_accept_gzip(buf, size) == q, "not deterministic");
    FUZZ_CHECK(with_prefix("gzip;q=0,", data, size) == 0, "a leading gzip;q=0 was overridden");
    FUZZ_CHECK(with_prefix("gzip,", data, size) == 1000, "a leading gzip was overridden");
    FUZZ_CHECK(with_prefix("br;q=0.5, ", data, size) == q, "another coding changed the weight");
    bool mentions = false;
    for (size_t i = 0; i < size; i++)
        mentions |= buf[i] == 'g' || buf[i] == 'G' || buf[i] == '*';
    FUZZ_CHECK(mentions || q == 0, "weight %d without gzip or *", q);
    return 0;
}
