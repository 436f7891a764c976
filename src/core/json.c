/* json.c - streaming JSON writer (see json.h).  The escaping writer is the
 * only way user data reaches a response body. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "openbook/core/json.h"
#include "openbook/core/log.h"
#include "openbook/core/utf8.h"

void ob_json_init(ob_json *j, ob_buf *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
}

/* Emits the separator a new value needs at the current position. */
static void before_value(ob_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->need_comma[j->depth])
        ob_buf_putc(j->out, ',');
    j->need_comma[j->depth] = true;
}

static void open(ob_json *j, char c)
{
    before_value(j);
    if (j->depth >= OB_JSON_MAX_DEPTH)
        ob_fatal("json writer nested deeper than %d", OB_JSON_MAX_DEPTH);
    ob_buf_putc(j->out, c);
    j->depth++;
    j->need_comma[j->depth] = false;
}

static void close_(ob_json *j, char c)
{
    if (j->depth <= 0)
        ob_fatal("json writer closed more than it opened");
    j->depth--;
    ob_buf_putc(j->out, c);
}

void ob_json_object_begin(ob_json *j) { open(j, '{'); }
void ob_json_object_end(ob_json *j) { close_(j, '}'); }
void ob_json_array_begin(ob_json *j) { open(j, '['); }
void ob_json_array_end(ob_json *j) { close_(j, ']'); }

void ob_json_escape(ob_buf *out, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    ob_buf_reserve(out, n + 2);
    ob_buf_putc(out, '"');
    size_t run = 0; /* start of a run of bytes that need no escaping */
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            unsigned cp;
            size_t l = ob_utf8_decode((const char *)s + i, n - i, &cp);
            if (l) {
                i += l;
                continue;
            }
        }
        ob_buf_append(out, s + run, i - run);
        switch (c) {
        case '"': ob_buf_append(out, "\\\"", 2); break;
        case '\\': ob_buf_append(out, "\\\\", 2); break;
        case '\n': ob_buf_append(out, "\\n", 2); break;
        case '\r': ob_buf_append(out, "\\r", 2); break;
        case '\t': ob_buf_append(out, "\\t", 2); break;
        case '\b': ob_buf_append(out, "\\b", 2); break;
        case '\f': ob_buf_append(out, "\\f", 2); break;
        default:
            if (c < 0x20) {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                ob_buf_append(out, u, 6);
            } else {
                ob_buf_append(out, "\xef\xbf\xbd", 3); /* U+FFFD for a bad byte */
            }
        }
        i++;
        run = i;
    }
    ob_buf_append(out, s + run, n - run);
    ob_buf_putc(out, '"');
}

void ob_json_key(ob_json *j, const char *key)
{
    before_value(j);
    ob_json_escape(j->out, key, strlen(key));
    ob_buf_putc(j->out, ':');
    j->after_key = true;
}

void ob_json_string_n(ob_json *j, const char *s, size_t n)
{
    before_value(j);
    ob_json_escape(j->out, s, n);
}

void ob_json_string(ob_json *j, const char *s)
{
    if (!s) {
        ob_json_null(j);
        return;
    }
    ob_json_string_n(j, s, strlen(s));
}

void ob_json_int(ob_json *j, int64_t v)
{
    before_value(j);
    ob_buf_put_int(j->out, (long long)v);
}

void ob_json_double(ob_json *j, double v)
{
    before_value(j);
    if (!isfinite(v)) {
        ob_buf_puts(j->out, "null");
        return;
    }
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.17g", v);
    /* Shortest form that round-trips, and always a number with a dot so
     * 0.0 stays a float the way the original sends it. */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* %g switches to exponents early (100.0 -> "1e+02"); Python, and so
     * the original, writes plain decimals below 1e16. */
    if (strpbrk(tmp, "eE") && fabs(v) < 1e16 && v == floor(v))
        snprintf(tmp, sizeof tmp, "%.0f", v);
    ob_buf_puts(j->out, tmp);
    if (!strpbrk(tmp, ".eE"))
        ob_buf_puts(j->out, ".0");
}

void ob_json_bool(ob_json *j, bool v)
{
    before_value(j);
    ob_buf_puts(j->out, v ? "true" : "false");
}

void ob_json_null(ob_json *j)
{
    before_value(j);
    ob_buf_puts(j->out, "null");
}

void ob_json_raw(ob_json *j, const char *text, size_t n)
{
    before_value(j);
    ob_buf_append(j->out, text, n);
}

void ob_json_kv_string(ob_json *j, const char *key, const char *value)
{
    ob_json_key(j, key);
    ob_json_string(j, value);
}

void ob_json_kv_int(ob_json *j, const char *key, int64_t v)
{
    ob_json_key(j, key);
    ob_json_int(j, v);
}
