/* values.c - parsers of typed values in requests: UUID keys and ISO 8601
 * date-times (api-conventions.md §3).  Pure functions of the core layer,
 * so the fuzz target (test/fuzz/fuzz_values.c) links them alone. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "openbook/http/parse.h"

bool ob_parse_uuid(const char *in, char out[37])
{
    size_t n = 0;
    for (const char *s = in; *s; s++) {
        if (*s == '-')
            continue;
        if (!isxdigit((unsigned char)*s) || n >= 32)
            return false;
        if (n == 8 || n == 12 || n == 16 || n == 20)
            *out++ = '-';
        *out++ = (char)tolower((unsigned char)*s);
        n++;
    }
    *out = '\0';
    /* Hyphens may be left out, but only where they belong if present. */
    if (n != 32)
        return false;
    size_t len = strlen(in);
    return len == 32 || (len == 36 && in[8] == '-' && in[13] == '-' && in[18] == '-' && in[23] == '-');
}

/* ---- ISO 8601 input ---- */

static bool digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return false;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return true;
}

bool ob_parse_datetime(const char *in, bool date_only_ok, char out[40])
{
    const char *s = in;
    int y, mo, d, h = 0, mi = 0, sec = 0, us = 0, oh = 0, om = 0;
    char sign = '+';
    while (*s == ' ')
        s++;
    if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' ||
        !digits(&s, 2, &d))
        return false;
    if (*s == '\0' && date_only_ok)
        goto check;
    if (*s != 'T' && *s != 't' && *s != ' ')
        return false;
    s++;
    if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi))
        return false;
    if (*s == ':') {
        s++;
        if (!digits(&s, 2, &sec))
            return false;
        if (*s == '.' || *s == ',') {
            s++;
            int nd = 0;
            while (isdigit((unsigned char)*s)) {
                if (nd < 6)
                    us = us * 10 + (*s - '0');
                nd++;
                s++;
            }
            if (nd == 0 || nd > 12)
                return false;
            for (; nd < 6; nd++)
                us *= 10;
        }
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s++;
        if (!digits(&s, 2, &oh))
            return false;
        if (*s == ':')
            s++;
        if (isdigit((unsigned char)*s) && !digits(&s, 2, &om))
            return false;
    }
    while (*s == ' ')
        s++;
    if (*s)
        return false;
check:;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || sec > 59 || oh > 23 || om > 59)
        return false;
    /* Every value is range-checked above, so this fits in 33 bytes. */
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%06d%c%02d:%02d", y % 10000, mo % 100,
             d % 100, h % 100, mi % 100, sec % 100, us % 1000000, sign, oh % 100, om % 100);
    return true;
}
