/* registry.c - the one table of descriptions (OB_API_RESOURCES) and the
 * lookups derived from it (see registry.h). */
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/api/registry.h"

#define OB_ENTRY(name) &name,
const ob_resource *const ob_api_resources[] = {OB_API_RESOURCES(OB_ENTRY)};
#undef OB_ENTRY
const size_t ob_api_nresources = sizeof ob_api_resources / sizeof ob_api_resources[0];

/* "/api/core/sites/" -> "core/sites": for the descriptions of the table
 * only, computed once each and kept. */
const char *ob_api_collection(const ob_resource *res)
{
    static char *names[sizeof ob_api_resources / sizeof ob_api_resources[0]];
    if (!res->path || res->kind == OB_RES_SHAPE || strncmp(res->path, "/api/", 5) != 0)
        return NULL;
    for (size_t i = 0; i < ob_api_nresources; i++) {
        if (ob_api_resources[i] != res)
            continue;
        if (!names[i]) {
            const char *s = res->path + 5;
            size_t n = strlen(s);
            names[i] = ob_strndup(s, n && s[n - 1] == '/' ? n - 1 : n);
        }
        return names[i];
    }
    return NULL;
}

const ob_resource *ob_api_resource(const char *collection)
{
    for (size_t i = 0; i < ob_api_nresources; i++) {
        const char *c = ob_api_collection(ob_api_resources[i]);
        if (c && strcmp(c, collection) == 0)
            return ob_api_resources[i];
    }
    return NULL;
}

bool ob_api_listed(const ob_resource *res)
{
    for (size_t i = 0; i < ob_api_nresources; i++)
        if (ob_api_resources[i] == res)
            return true;
    return false;
}
