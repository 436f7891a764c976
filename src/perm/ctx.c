/* ctx.c - the request's permission state and the small helpers every
 * file of the engine uses (internal.h); nothing here queries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/auth/auth.h"
#include "openbook/perm/perm.h"
#include "internal.h"

perm_ctx *ob_perm_ctx(ob_request *r)
{
    if (!r->perm)
        r->perm = ob_arena_calloc(r->arena, 1, sizeof(perm_ctx));
    return r->perm;
}

bool ob_perm_is_superuser(const ob_request *r)
{
    return r->user && r->user->is_superuser;
}

const char *ob_perm_uid_text(ob_request *r)
{
    return ob_arena_printf(r->arena, "%lld", (long long)r->user->id);
}

int32_t *ob_perm_parse_ids(ob_arena *a, const char *s, size_t *n)
{
    size_t count = *s ? 1 : 0;
    for (const char *q = s; *q; q++)
        count += *q == ',';
    int32_t *out = ob_arena_calloc(a, count + 1, sizeof *out);
    *n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s)
            break;
        out[(*n)++] = (int32_t)v;
        s = *end == ',' ? end + 1 : end;
    }
    return out;
}

bool ob_perm_has_id(const int32_t *ids, size_t n, int id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

bool ob_perm_same_scope(int st, const char *uuid, int st2, const char *uuid2)
{
    return st == st2 && uuid && uuid2 && strcmp(uuid, uuid2) == 0;
}
