/* alloc.h - the one place allocation failure is handled.
 *
 * Every allocation in OpenBook goes through these wrappers (or through an
 * arena, which uses them).  They never return NULL: on failure they log and
 * abort the process.  A worker that runs out of memory is replaced by the
 * master, which is the only sane recovery in a pre-forked server.
 *
 * cJSON allocates through them too (ob_alloc_init): its constructors,
 * cJSON_Duplicate and its printers therefore never return NULL for want of
 * memory, and the tree does not check them; what they print is freed with
 * cJSON_free.  A NULL from cJSON_Parse* means the input is not JSON and is
 * always answered as bad input. */
#ifndef OPENBOOK_ALLOC_H
#define OPENBOOK_ALLOC_H

#include <stddef.h>

void *ob_malloc(size_t n);
void *ob_calloc(size_t count, size_t size);
void *ob_realloc(void *p, size_t n);
char *ob_strdup(const char *s);
char *ob_strndup(const char *s, size_t n);
void ob_free(void *p);
_Noreturn void ob_oom(size_t wanted);

/* Routes the libraries that allocate on their own (cJSON) through these
 * wrappers.  Called once at start-up, before any other thread or call into
 * them, by every binary: openbook, openbook-relay, the unit tests and the
 * fuzz targets. */
void ob_alloc_init(void);

#endif
