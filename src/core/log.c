/* log.c - leveled logging to stderr (see log.h).  Each line is formatted
 * into one buffer and written with a single write(2), so lines from the
 * master and the workers never interleave mid-line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "openbook/core/log.h"

static ob_log_level current = OB_LOG_INFO;
static const char *names[] = {"debug", "info", "warning", "error"};

void ob_log_set_level(ob_log_level lvl)
{
    current = lvl;
}

ob_log_level ob_log_get_level(void)
{
    return current;
}

int ob_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

static void vlog(ob_log_level lvl, const char *fmt, va_list ap)
{
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* The access log writes a line per request: the date and time up to
     * the second are formatted once per second, the rest by hand (printf
     * has a high fixed cost). */
    static time_t stamp_sec = -1;
    static char stamp[64];
    static size_t stamp_len;
    if (ts.tv_sec != stamp_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        int k = snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (k < 0 || (size_t)k >= sizeof stamp)
            return;
        stamp_len = (size_t)k;
        stamp_sec = ts.tv_sec;
    }
    size_t n = stamp_len;
    memcpy(line, stamp, n);
    long ms = ts.tv_nsec / 1000000;
    line[n++] = (char)('0' + ms / 100);
    line[n++] = (char)('0' + ms / 10 % 10);
    line[n++] = (char)('0' + ms % 10);
    line[n++] = 'Z';
    line[n++] = ' ';
    size_t nl = strlen(names[lvl]);
    memcpy(line + n, names[lvl], nl);
    n += nl;
    line[n++] = ' ';
    line[n++] = '[';
    char digits[16];
    size_t d = sizeof digits;
    for (unsigned long pid = (unsigned long)getpid(); d == sizeof digits || pid; pid /= 10)
        digits[--d] = (char)('0' + pid % 10);
    memcpy(line + n, digits + d, sizeof digits - d);
    n += sizeof digits - d;
    line[n++] = ']';
    line[n++] = ' ';
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    /* Control characters from user data must not forge log lines. */
    for (size_t i = n; i < len; i++)
        if ((unsigned char)line[i] < 0x20)
            line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(2, line, len);
    (void)w;
}

void ob_log(ob_log_level lvl, const char *fmt, ...)
{
    if (lvl < current)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, fmt, ap);
    va_end(ap);
}

_Noreturn void ob_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(OB_LOG_ERROR, fmt, ap);
    va_end(ap);
    abort();
}
