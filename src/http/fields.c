/* fields.c - pure field checks and duration arithmetic (fields.h). */
#include <ctype.h>
#include <string.h>
#include "openbook/http/fields.h"

bool ob_valid_slug(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c < 0x80 && (isalnum(c) || c == '_' || c == '-')))
            return false;
    }
    return true;
}

bool ob_valid_color(const char *s, size_t len)
{
    if ((len != 4 && len != 7) || s[0] != '#')
        return false;
    for (size_t i = 1; i < len; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

static bool prefix_ci(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != p[i])
            return false;
    return true;
}

/* One DNS label: letters, digits, hyphens inside; 1..63 characters. */
static bool url_label(const char *s, size_t len)
{
    if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool url_ipv4(const char *s, size_t len)
{
    int parts = 0;
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        unsigned v = 0;
        while (i < len && isdigit((unsigned char)s[i]) && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
            return false;
        parts++;
        if (i < len) {
            if (s[i] != '.' || parts == 4)
                return false;
            i++;
            if (i == len)
                return false;
        }
    }
    return parts == 4;
}

static bool url_host(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    if (s[0] == '[') /* IPv6: hex digits, colons and dots between brackets */
    {
        if (len < 4 || s[len - 1] != ']')
            return false;
        bool colon = false;
        for (size_t i = 1; i + 1 < len; i++) {
            if (s[i] == ':')
                colon = true;
            else if (!isxdigit((unsigned char)s[i]) && s[i] != '.')
                return false;
        }
        return colon;
    }
    if (len == 9 && prefix_ci(s, len, "localhost"))
        return true;
    bool digits_dots = true;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)s[i]) && s[i] != '.')
            digits_dots = false;
    if (digits_dots)
        return url_ipv4(s, len);
    /* Host names: labels separated by dots, an optional final dot, and a
     * top-level label of letters (2..63) as Django requires. */
    if (s[len - 1] == '.')
        len--;
    size_t start = 0, labels = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        if (!url_label(s + start, i - start))
            return false;
        if (i == len) {
            size_t tl = i - start;
            if (tl < 2)
                return false;
            bool alpha = true;
            for (size_t k = start; k < i; k++)
                if (!isalpha((unsigned char)s[k]))
                    alpha = false;
            /* punycode TLDs (xn--...) are allowed too */
            if (!alpha && !(tl > 4 && prefix_ci(s + start, tl, "xn--")))
                return false;
        }
        labels++;
        start = i + 1;
    }
    return labels >= 2;
}

bool ob_valid_url(const char *s, size_t len)
{
    if (len == 0 || len > 2048)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    size_t i;
    if (prefix_ci(s, len, "http://"))
        i = 7;
    else if (prefix_ci(s, len, "https://"))
        i = 8;
    else if (prefix_ci(s, len, "ftp://"))
        i = 6;
    else if (prefix_ci(s, len, "ftps://"))
        i = 7;
    else
        return false;
    /* authority: [user[:pass]@]host[:port] up to the first / ? # */
    size_t a = i;
    while (i < len && s[i] != '/' && s[i] != '?' && s[i] != '#')
        i++;
    const char *auth = s + a;
    size_t alen = i - a;
    const char *at = NULL;
    for (size_t k = 0; k < alen; k++)
        if (auth[k] == '@')
            at = auth + k;
    if (at) {
        alen -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    size_t hlen = alen;
    /* the port: digits after the last ':' that is outside brackets */
    for (size_t k = alen; k > 0; k--) {
        char c = auth[k - 1];
        if (c == ']')
            break;
        if (c == ':') {
            size_t plen = alen - k;
            if (plen == 0 || plen > 5)
                return false;
            unsigned long port = 0;
            for (size_t q = k; q < alen; q++) {
                if (!isdigit((unsigned char)auth[q]))
                    return false;
                port = port * 10 + (unsigned long)(auth[q] - '0');
            }
            if (port > 65535)
                return false;
            hlen = k - 1;
            break;
        }
    }
    return url_host(auth, hlen);
}

ob_period ob_period_parse(const char *s, size_t len)
{
    static const char *const names[] = {"", "minutes", "hours", "days", "weeks", "months",
                                        "years"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return (ob_period)i;
    return OB_PERIOD_INVALID;
}

/* H. Hinnant's algorithms. */
int64_t ob_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (int64_t)(m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void ob_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static unsigned month_days(int64_t y, unsigned m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

#define US_PER_DAY 86400000000LL
/* 0001-01-01 and 10000-01-01 in days since the epoch. */
#define MIN_DAY (-719162LL)
#define MAX_DAY 2932897LL

bool ob_duration_end(int64_t now_us, ob_period period, double value, int64_t *end_us)
{
    if (period <= OB_PERIOD_NONE || !(value > 0) || value > 1e7)
        return false;
    double unit = 0;
    switch (period) {
    case OB_PERIOD_MINUTES:
        unit = 60e6;
        break;
    case OB_PERIOD_HOURS:
        unit = 3600e6;
        break;
    case OB_PERIOD_DAYS:
        unit = 86400e6;
        break;
    case OB_PERIOD_WEEKS:
        unit = 7 * 86400e6;
        break;
    default:
        break;
    }
    if (unit > 0) {
        double add = value * unit;
        double end = (double)now_us + add;
        if (end >= (double)MAX_DAY * US_PER_DAY)
            return false;
        *end_us = now_us + (int64_t)(add + 0.5); /* add > 0 */
        return true;
    }
    /* months and years: the integer part, calendar arithmetic */
    int64_t n = (int64_t)value;
    if (n <= 0)
        return false;
    int64_t months = period == OB_PERIOD_YEARS ? n * 12 : n;
    int64_t day = now_us >= 0 ? now_us / US_PER_DAY : -((-now_us + US_PER_DAY - 1) / US_PER_DAY);
    int64_t tod = now_us - day * US_PER_DAY;
    int64_t y;
    unsigned m, d;
    ob_civil_from_days(day, &y, &m, &d);
    int64_t total = y * 12 + (int64_t)(m - 1) + months;
    int64_t ny = total / 12;
    unsigned nm = (unsigned)(total % 12) + 1;
    if (ny > 9999)
        return false;
    unsigned md = month_days(ny, nm);
    int64_t nday = ob_days_from_civil(ny, nm, d > md ? md : d);
    if (nday < MIN_DAY || nday >= MAX_DAY)
        return false;
    *end_us = nday * US_PER_DAY + tod;
    return true;
}
