/* arena.c - per-request bump allocator (see arena.h).
 *
 * Blocks are chained newest-first.  Reset keeps the oldest block (sized
 * for a typical request) so a steady worker allocates nothing from the
 * heap per request, and frees everything else, so one large request does
 * not leave the worker fat. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/core/arena.h"

#define ALIGN 16

struct ob_arena_defer_item {
    void (*fn)(void *);
    void *arg;
    struct ob_arena_defer_item *next;
};

struct ob_arena_block {
    ob_arena_block *prev;
    size_t size;   /* usable bytes in data */
    size_t used;
    struct ob_arena_defer_item *defers; /* only kept on the oldest block */
    _Alignas(ALIGN) unsigned char data[];
};

static ob_arena_block *block_new(size_t size)
{
    ob_arena_block *b = ob_malloc(sizeof *b + size);
    b->prev = NULL;
    b->size = size;
    b->used = 0;
    b->defers = NULL;
    return b;
}

static ob_arena_block *oldest(ob_arena *a)
{
    ob_arena_block *b = a->head;
    while (b && b->prev)
        b = b->prev;
    return b;
}

void ob_arena_init(ob_arena *a, size_t first_block)
{
    a->block_size = first_block < 1024 ? 1024 : first_block;
    a->head = block_new(a->block_size);
    a->total = 0;
}

static void run_defers(ob_arena *a)
{
    ob_arena_block *first = oldest(a);
    if (!first)
        return;
    /* Deferred items live in arena memory; pop each before running it so a
     * callback that fails cannot run twice. */
    while (first->defers) {
        struct ob_arena_defer_item *d = first->defers;
        first->defers = d->next;
        d->fn(d->arg);
    }
}

void ob_arena_reset(ob_arena *a)
{
    run_defers(a);
    ob_arena_block *b = a->head;
    while (b && b->prev) {
        ob_arena_block *prev = b->prev;
        ob_free(b);
        b = prev;
    }
    a->head = b;
    if (b)
        b->used = 0;
    a->total = 0;
}

void ob_arena_destroy(ob_arena *a)
{
    ob_arena_reset(a);
    ob_free(a->head);
    a->head = NULL;
}

void *ob_arena_alloc(ob_arena *a, size_t n)
{
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < n)
        ob_oom(n);
    ob_arena_block *b = a->head;
    if (!b || b->size - b->used < need) {
        /* Large requests get a block of their own; otherwise grow by the
         * first block's size, doubling with the request's appetite. */
        size_t size = a->block_size;
        if (a->total > size)
            size = a->total;
        if (size < need)
            size = need;
        ob_arena_block *nb = block_new(size);
        nb->prev = b;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    return p;
}

void *ob_arena_calloc(ob_arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        ob_oom(SIZE_MAX);
    void *p = ob_arena_alloc(a, count * size);
    memset(p, 0, count * size);
    return p;
}

char *ob_arena_strndup(ob_arena *a, const char *s, size_t n)
{
    char *p = ob_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ob_arena_strdup(ob_arena *a, const char *s)
{
    return ob_arena_strndup(a, s, strlen(s));
}

char *ob_arena_strdup_lower(ob_arena *a, const char *s)
{
    char *o = ob_arena_strdup(a, s);
    for (char *p = o; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return o;
}

char *ob_arena_vprintf(ob_arena *a, const char *fmt, va_list ap)
{
    /* Short results (the common case) are formatted once, on the stack:
     * vsnprintf has a high fixed cost. */
    char tmp[128];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        n = 0;
        tmp[0] = '\0';
    }
    char *p = ob_arena_alloc(a, (size_t)n + 1);
    if ((size_t)n < sizeof tmp)
        memcpy(p, tmp, (size_t)n + 1);
    else
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *ob_arena_printf(ob_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = ob_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void ob_arena_defer(ob_arena *a, void (*fn)(void *), void *arg)
{
    struct ob_arena_defer_item *d = ob_arena_alloc(a, sizeof *d);
    ob_arena_block *first = oldest(a);
    d->fn = fn;
    d->arg = arg;
    d->next = first->defers;
    first->defers = d;
}
