/* buf.h - growable byte buffer backed by an arena (or the heap when the
 * arena is NULL).  Used for response bodies and SQL text assembly. */
#ifndef OPENBOOK_BUF_H
#define OPENBOOK_BUF_H

#include <stddef.h>
#include <stdarg.h>
#include "openbook/core/arena.h"

typedef struct ob_buf {
    char *data;       /* always NUL-terminated when len > 0 or after _cstr */
    size_t len;
    size_t cap;
    ob_arena *arena;  /* NULL: heap, caller frees with ob_buf_free */
} ob_buf;

void ob_buf_init(ob_buf *b, ob_arena *arena);
void ob_buf_reserve(ob_buf *b, size_t extra);
void ob_buf_append(ob_buf *b, const void *p, size_t n);
void ob_buf_puts(ob_buf *b, const char *s);
void ob_buf_putc(ob_buf *b, char c);
/* Appends v in decimal (as "%lld", without the cost of printf). */
void ob_buf_put_int(ob_buf *b, long long v);
void ob_buf_printf(ob_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ob_buf_vprintf(ob_buf *b, const char *fmt, va_list ap);
const char *ob_buf_cstr(ob_buf *b);
void ob_buf_reset(ob_buf *b);
void ob_buf_free(ob_buf *b);

#endif
