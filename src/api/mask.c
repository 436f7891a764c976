/* mask.c - which fields a request shows (api-conventions.md §8): _fields,
 * _omit, dotted paths for nested levels, admin fields for superusers,
 * expand-only fields when expanded. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/perm/perm.h"
#include "openbook/api/query.h"
#include "openbook/api/read_cache.h"
#include "openbook/api/resource.h"
#include "read_parts.h"

/* A field exists for this requester (admin fields: superusers only). */
bool ob_mask_field_exists(const ob_request *r, const ob_field *f)
{
    return !(f->flags & OB_FF_ADMIN) || ob_perm_is_superuser(r);
}

/* Does the comma-separated entry s[0..n) address this level?  `prefix` is
 * "" for the top level or e.g. "user." inside an expanded user.  On a hit,
 * name and nlen give the field name at this level, and deeper tells
 * whether the entry goes on below it. */
static bool entry_at(const char *s, size_t n, const char *prefix, const char **name,
                     size_t *nlen, bool *deeper)
{
    size_t pl = strlen(prefix);
    if (n <= pl || strncmp(s, prefix, pl) != 0)
        return false;
    *name = s + pl;
    const char *dot = memchr(*name, '.', n - pl);
    *nlen = dot ? (size_t)(dot - *name) : n - pl;
    *deeper = dot != NULL;
    return *nlen > 0;
}

/* Whether the comma-separated list names `prefix``name` (alone or with a
 * deeper part). */
bool ob_mask_listed(const char *list, const char *prefix, const char *name)
{
    size_t pl = strlen(prefix), nl = strlen(name);
    for (const char *s = list; s && *s;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (n > pl && strncmp(s, prefix, pl) == 0) {
            const char *rest = s + pl;
            size_t rn = n - pl;
            const char *dot = memchr(rest, '.', rn);
            size_t top = dot ? (size_t)(dot - rest) : rn;
            if (top == nl && strncmp(rest, name, nl) == 0)
                return true;
        }
        s = comma ? comma + 1 : NULL;
    }
    return false;
}

/* Which fields to output at one level: _fields, then _omit.  Dotted paths
 * reach nested levels (api-conventions.md §8): "user.username" keeps `user`
 * at the top and only `username` inside it.  A nested level that _fields
 * does not name shows all its fields. */
static void field_mask_lists(ob_request *r, const ob_resource *res, const char *prefix,
                             bool *show)
{
    const char *only = ob_request_query(r, "_fields");
    const char *omit = ob_request_query(r, "_omit");
    if (only && !*only)
        only = NULL;
    const char *name;
    size_t nlen;
    bool deeper;
    bool restrict_ = only && !*prefix;
    for (const char *s = only; s && *s && !restrict_;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        restrict_ = entry_at(s, n, prefix, &name, &nlen, &deeper);
        s = comma ? comma + 1 : NULL;
    }
    for (size_t i = 0; i < res->nfields; i++)
        show[i] = !restrict_ && ob_mask_field_exists(r, &res->fields[i]);
    const char *lists[2] = {restrict_ ? only : NULL, omit};
    for (int l = 0; l < 2; l++) {
        const char *s = lists[l];
        while (s && *s) {
            const char *comma = strchr(s, ',');
            size_t n = comma ? (size_t)(comma - s) : strlen(s);
            /* _omit removes only what it names exactly: "user.email" does
             * not remove `user`. */
            if (entry_at(s, n, prefix, &name, &nlen, &deeper) && (l == 0 || !deeper)) {
                for (size_t i = 0; i < res->nfields; i++)
                    if (strlen(res->fields[i].name) == nlen &&
                        strncmp(res->fields[i].name, name, nlen) == 0)
                        show[i] = l == 0 && ob_mask_field_exists(r, &res->fields[i]);
            }
            s = comma ? comma + 1 : NULL;
        }
    }
}

void ob_mask_fields(ob_request *r, const ob_resource *res, const char *prefix, bool *show)
{
    field_mask_lists(r, res, prefix, show);
    /* Fields that exist only when expanded (api-conventions.md §8). */
    const char *expand = ob_request_query(r, "_expand");
    for (size_t i = 0; i < res->nfields; i++)
        if ((res->fields[i].flags & OB_FF_EXPAND_ONLY) &&
            !(expand && ob_mask_listed(expand, prefix, res->fields[i].name)))
            show[i] = false;
}
