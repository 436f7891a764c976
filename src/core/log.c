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
#include "openbook/core/buf.h"
#include "openbook/core/json.h"
#include "openbook/core/log.h"

#define LINE_MAX_BYTES 2048

static ob_log_level current = OB_LOG_INFO;
static ob_log_format format = OB_LOG_TEXT;
static const char *request_id;
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

int ob_log_format_parse(const char *s)
{
    if (strcasecmp(s, "text") == 0)
        return OB_LOG_TEXT;
    if (strcasecmp(s, "json") == 0)
        return OB_LOG_JSON;
    return -1;
}

void ob_log_set_format(ob_log_format f)
{
    format = f;
}

void ob_log_configure(const char *level, const char *fmt)
{
    int lvl = level ? ob_log_level_parse(level) : -1;
    ob_log_set_level(lvl < 0 ? OB_LOG_INFO : (ob_log_level)lvl);
    int f = fmt ? ob_log_format_parse(fmt) : -1;
    ob_log_set_format(f < 0 ? OB_LOG_TEXT : (ob_log_format)f);
}

void ob_log_set_request_id(const char *id)
{
    request_id = id;
}

/* "2025-06-01T12:00:00.123Z" into out (at least 32 bytes); returns its
 * length.  The access log writes a line per request: the date and time up
 * to the second are formatted once per second, the rest by hand (printf
 * has a high fixed cost). */
static size_t timestamp(char *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    static time_t stamp_sec = -1;
    static char stamp[64];
    static size_t stamp_len;
    if (ts.tv_sec != stamp_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        int k = snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (k < 0 || (size_t)k >= 28)
            k = 0;
        stamp_len = (size_t)k;
        stamp_sec = ts.tv_sec;
    }
    size_t n = stamp_len;
    memcpy(out, stamp, n);
    long ms = ts.tv_nsec / 1000000;
    out[n++] = (char)('0' + ms / 100);
    out[n++] = (char)('0' + ms / 10 % 10);
    out[n++] = (char)('0' + ms % 10);
    out[n++] = 'Z';
    return n;
}

static size_t put_pid(char *out)
{
    char digits[16];
    size_t d = sizeof digits;
    for (unsigned long pid = (unsigned long)getpid(); d == sizeof digits || pid; pid /= 10)
        digits[--d] = (char)('0' + pid % 10);
    memcpy(out, digits + d, sizeof digits - d);
    return sizeof digits - d;
}

static void write_line(const char *line, size_t len)
{
    ssize_t w = write(2, line, len);
    (void)w;
}

/* Text: "<time> <level> [<pid>] [req=<id> ]<msg>". */
static void emit_text(ob_log_level lvl, const char *msg, size_t mlen)
{
    char line[LINE_MAX_BYTES];
    size_t n = timestamp(line);
    line[n++] = ' ';
    size_t nl = strlen(names[lvl]);
    memcpy(line + n, names[lvl], nl);
    n += nl;
    line[n++] = ' ';
    line[n++] = '[';
    n += put_pid(line + n);
    line[n++] = ']';
    line[n++] = ' ';
    if (request_id) {
        /* At most OB_REQUEST_ID_MAX (128) characters, checked on input. */
        size_t rl = strnlen(request_id, 128);
        memcpy(line + n, "req=", 4);
        memcpy(line + n + 4, request_id, rl);
        n += 4 + rl;
        line[n++] = ' ';
    }
    size_t start = n;
    if (mlen > sizeof line - n - 1)
        mlen = sizeof line - n - 1;
    memcpy(line + n, msg, mlen);
    n += mlen;
    /* Control characters from user data must not forge log lines. */
    for (size_t i = start; i < n; i++)
        if ((unsigned char)line[i] < 0x20)
            line[i] = ' ';
    line[n++] = '\n';
    write_line(line, n);
}

/* JSON: the common members, then the caller's, then "}\n".  One buffer
 * for the process, kept between lines (every process is single-threaded). */
static ob_buf json_line;

static void json_begin(ob_log_level lvl)
{
    ob_buf *b = &json_line;
    ob_buf_reset(b);
    char ts[40];
    size_t tl = timestamp(ts);
    ob_buf_puts(b, "{\"time\":\"");
    ob_buf_append(b, ts, tl);
    ob_buf_puts(b, "\",\"level\":\"");
    ob_buf_puts(b, names[lvl]);
    ob_buf_puts(b, "\",\"pid\":");
    ob_buf_put_int(b, (long long)getpid());
    if (request_id) {
        ob_buf_puts(b, ",\"request_id\":");
        ob_json_escape(b, request_id, strlen(request_id));
    }
}

static void json_end(void)
{
    ob_buf_puts(&json_line, "}\n");
    write_line(json_line.data, json_line.len);
    /* A long message once must not keep its memory for the process's life. */
    if (json_line.cap > 64 * 1024)
        ob_buf_free(&json_line);
}

static void vlog(ob_log_level lvl, const char *fmt, va_list ap)
{
    char msg[LINE_MAX_BYTES];
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    size_t mlen = m < 0 ? 0 : (size_t)m < sizeof msg ? (size_t)m : sizeof msg - 1;
    if (format == OB_LOG_JSON) {
        json_begin(lvl);
        ob_buf_puts(&json_line, ",\"msg\":");
        ob_json_escape(&json_line, msg, mlen);
        json_end();
    } else {
        emit_text(lvl, msg, mlen);
    }
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

void ob_log_access(const ob_access_entry *e)
{
    if (OB_LOG_INFO < current)
        return;
    const char *method = e->method ? e->method : "-";
    const char *uri = e->uri ? e->uri : "-";
    long long us = e->duration_us;
    if (format == OB_LOG_JSON) {
        ob_buf *b = &json_line;
        json_begin(OB_LOG_INFO);
        ob_buf_puts(b, ",\"type\":\"access\",\"method\":");
        ob_json_escape(b, method, strlen(method));
        ob_buf_puts(b, ",\"uri\":");
        ob_json_escape(b, uri, strlen(uri));
        ob_buf_puts(b, ",\"route\":");
        if (e->route)
            ob_json_escape(b, e->route, strlen(e->route));
        else
            ob_buf_puts(b, "null");
        ob_buf_puts(b, ",\"status\":");
        ob_buf_put_int(b, e->status);
        ob_buf_puts(b, ",\"bytes\":");
        ob_buf_put_int(b, (long long)e->bytes);
        ob_buf_puts(b, ",\"duration_ms\":");
        ob_buf_put_int(b, us / 1000);
        char frac[5] = {'.', (char)('0' + us % 1000 / 100), (char)('0' + us % 100 / 10),
                        (char)('0' + us % 10), 0};
        ob_buf_puts(b, frac);
        ob_buf_puts(b, e->cached ? ",\"cached\":true" : ",\"cached\":false");
        json_end();
        return;
    }
    /* Integer formatting: %f showed up in profiles of the hot path. */
    char msg[LINE_MAX_BYTES];
    int m = snprintf(msg, sizeof msg, "%s %s %d %zu %lld.%03lldms%s", method, uri, e->status,
                     e->bytes, us / 1000, us % 1000, e->cached ? " cached" : "");
    size_t mlen = m < 0 ? 0 : (size_t)m < sizeof msg ? (size_t)m : sizeof msg - 1;
    emit_text(OB_LOG_INFO, msg, mlen);
}

_Noreturn void ob_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(OB_LOG_ERROR, fmt, ap);
    va_end(ap);
    abort();
}
