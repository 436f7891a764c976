/* buf.c - growable byte buffer (see buf.h). */
#include <stdio.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/core/buf.h"

void ob_buf_init(ob_buf *b, ob_arena *arena)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->arena = arena;
}

void ob_buf_reserve(ob_buf *b, size_t extra)
{
    if (b->cap - b->len > extra)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len <= extra) {
        if (cap > ((size_t)-1) / 2)
            ob_oom(b->len + extra);
        cap *= 2;
    }
    if (b->arena) {
        /* Arena memory cannot be resized in place; the old copy is
         * reclaimed with the arena. */
        char *p = ob_arena_alloc(b->arena, cap);
        if (b->len)
            memcpy(p, b->data, b->len);
        b->data = p;
    } else {
        b->data = ob_realloc(b->data, cap);
    }
    b->cap = cap;
}

void ob_buf_append(ob_buf *b, const void *p, size_t n)
{
    ob_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ob_buf_puts(ob_buf *b, const char *s)
{
    ob_buf_append(b, s, strlen(s));
}

void ob_buf_putc(ob_buf *b, char c)
{
    ob_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void ob_buf_put_int(ob_buf *b, long long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    /* Negated as unsigned, so LLONG_MIN works too. */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    ob_buf_append(b, tmp + i, sizeof tmp - i);
}

void ob_buf_vprintf(ob_buf *b, const char *fmt, va_list ap)
{
    /* Format straight into the spare room and only again when it did not
     * fit: vsnprintf has a high fixed cost, and SQL text and headers are
     * built with many small calls per request (a profile showed a third of
     * a list request's instructions in vsnprintf). */
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = b->cap - b->len;
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap2);
    va_end(ap2);
    if (n <= 0) {
        if (room)
            b->data[b->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        ob_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
}

void ob_buf_printf(ob_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ob_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

const char *ob_buf_cstr(ob_buf *b)
{
    ob_buf_reserve(b, 0);
    b->data[b->len] = '\0';
    return b->data;
}

void ob_buf_reset(ob_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void ob_buf_free(ob_buf *b)
{
    if (!b->arena)
        ob_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
