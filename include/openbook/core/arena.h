/* arena.h - per-request bump allocator.
 *
 * A request's memory comes from one arena that is reset when the request
 * ends, so nothing allocated while answering a request can outlive it.
 * Allocation never fails (see alloc.h). */
#ifndef OPENBOOK_ARENA_H
#define OPENBOOK_ARENA_H

#include <stddef.h>
#include <stdarg.h>

typedef struct ob_arena_block ob_arena_block;
typedef struct ob_arena {
    ob_arena_block *head;   /* current block; older blocks chained behind */
    size_t block_size;      /* size of the first, retained block */
    size_t total;           /* bytes handed out since the last reset */
} ob_arena;

void ob_arena_init(ob_arena *a, size_t first_block);
/* Frees every block but the first and rewinds it: the end of a request. */
void ob_arena_reset(ob_arena *a);
void ob_arena_destroy(ob_arena *a);

void *ob_arena_alloc(ob_arena *a, size_t n);          /* 16-byte aligned */
void *ob_arena_calloc(ob_arena *a, size_t count, size_t size);
char *ob_arena_strdup(ob_arena *a, const char *s);
char *ob_arena_strndup(ob_arena *a, const char *s, size_t n);
/* A copy with ASCII letters lower-cased (e-mail addresses, usernames). */
char *ob_arena_strdup_lower(ob_arena *a, const char *s);
char *ob_arena_printf(ob_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *ob_arena_vprintf(ob_arena *a, const char *fmt, va_list ap);

#endif

#ifndef OPENBOOK_ARENA_DEFER
#define OPENBOOK_ARENA_DEFER
/* Runs fn(arg) when the arena is reset or destroyed (latest first): ties
 * foreign objects such as PGresult to the request's lifetime. */
void ob_arena_defer(ob_arena *a, void (*fn)(void *), void *arg);
#endif
