/* fuzz_fields.c - the field checks and duration arithmetic of fields.h.
 *
 * Input: byte 0 picks the check, the rest is its input.  Invariants: no
 * check reads outside (buf, len) (ASan); an accepted slug is non-empty
 * ASCII letters, digits, '_' and '-'; an accepted colour is '#' and 3 or 6
 * hex digits; an accepted URL is printable ASCII with an http(s)/ftp(s)
 * scheme; a duration end is never before `now` and stays in years
 * 1..9999; days <-> civil dates round-trip (UBSan: no overflow). */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "openbook/http/fields.h"
#include "fuzz_common.h"

static void check_slug(const char *buf, size_t len)
{
    if (!ob_valid_slug(buf, len))
        return;
    FUZZ_CHECK(len > 0, "empty slug");
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(isalnum((unsigned char)buf[i]) || buf[i] == '_' || buf[i] == '-', "byte %zu",
                   i);
}

static void check_color(const char *buf, size_t len)
{
    if (!ob_valid_color(buf, len))
        return;
    FUZZ_CHECK((len == 4 || len == 7) && buf[0] == '#', "length %zu", len);
}

static void check_url(const char *buf, size_t len)
{
    if (!ob_valid_url(buf, len))
        return;
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK((unsigned char)buf[i] > 0x20 && (unsigned char)buf[i] < 0x7f, "byte %zu", i);
    FUZZ_CHECK(len >= 6 && (strncasecmp(buf, "http", 4) == 0 || strncasecmp(buf, "ftp", 3) == 0),
               "scheme");
}

static void check_duration(const char *buf, size_t len)
{
    int64_t now;
    double value;
    if (len < 17)
        return;
    memcpy(&now, buf, 8);
    memcpy(&value, buf + 8, 8);
    /* Keep `now` inside the years the server can meet. */
    now %= 253402300800000000LL; /* 10000-01-01 in microseconds */
    if (now < 0)
        now = -now;
    ob_period p = ob_period_parse(buf + 16, len - 16);
    if (p == OB_PERIOD_INVALID)
        p = (ob_period)((unsigned char)buf[16] % 7);
    int64_t end;
    if (ob_duration_end(now, p, value, &end)) {
        FUZZ_CHECK(end >= now, "end %lld before now %lld", (long long)end, (long long)now);
        FUZZ_CHECK(end < 253402300800000000LL, "end %lld after year 9999", (long long)end);
    }
    int64_t y;
    unsigned m, d;
    int64_t day = now / 86400000000LL;
    ob_civil_from_days(day, &y, &m, &d);
    FUZZ_CHECK(m >= 1 && m <= 12 && d >= 1 && d <= 31, "date %u-%u", m, d);
    FUZZ_CHECK(ob_days_from_civil(y, m, d) == day, "round trip of day %lld", (long long)day);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data + 1, len);
    switch (data[0] % 4) {
    case 0: check_slug(buf, len); break;
    case 1: check_color(buf, len); break;
    case 2: check_url(buf, len); break;
    default: check_duration(buf, len); break;
    }
    free(buf);
    return 0;
}
