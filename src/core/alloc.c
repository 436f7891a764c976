/* alloc.c - heap wrappers that never return NULL (see alloc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "openbook/core/alloc.h"

_Noreturn void ob_oom(size_t wanted)
{
    /* No allocation here: write straight to stderr and abort, so the master
     * sees the worker die and replaces it. */
    char msg[96];
    int n = snprintf(msg, sizeof msg, "openbook[%d]: out of memory (%zu bytes)\n", (int)getpid(),
                     wanted);
    if (n > 0) {
        ssize_t w = write(2, msg, (size_t)n);
        (void)w;
    }
    abort();
}

void *ob_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        ob_oom(n);
    return p;
}

void *ob_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        ob_oom(count * size);
    return p;
}

void *ob_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        ob_oom(n);
    return q;
}

char *ob_strdup(const char *s)
{
    return ob_strndup(s, strlen(s));
}

char *ob_strndup(const char *s, size_t n)
{
    char *p = ob_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void ob_free(void *p)
{
    free(p);
}

void ob_alloc_init(void)
{
    cJSON_Hooks hooks = {.malloc_fn = ob_malloc, .free_fn = ob_free};
    cJSON_InitHooks(&hooks);
}
