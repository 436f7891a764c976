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
#include "openbook/log.h"

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
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s [%d] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, names[lvl], (int)getpid());
    if (n < 0)
        return;
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    /* Control characters from user data must not forge log lines. */
    for (size_t i = (size_t)n; i < len; i++)
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
