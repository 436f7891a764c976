/* router.c - matches a normalised path against the caller's routing table
 * and answers 404 / 405 / OPTIONS itself (see router.h). */
#include <stdio.h>
#include <string.h>
#include "openbook/core/config.h"
#include "openbook/http/multipart.h"
#include "openbook/http/router.h"

bool ob_route_match(const char *pattern, const char *path, size_t path_len, ob_request *r)
{
    const char *p = pattern;
    const char *s = path;
    const char *end = path + path_len;
    size_t nparams = 0;
    /* Under /api/ the final slash is optional (spec deviation 19). */
    bool api = strncmp(pattern, "/api/", 5) == 0;
    while (*p) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *seg_end = memchr(s, '/', (size_t)(end - s));
            if (!seg_end)
                seg_end = end;
            if (seg_end == s || nparams >= OB_MAX_PATH_PARAMS || !close)
                return false;
            if (r)
                r->path_params[nparams] = ob_arena_strndup(r->arena, s, (size_t)(seg_end - s));
            nparams++;
            s = seg_end;
            p = close + 1;
            continue;
        }
        if (s == end) {
            /* Path ran out: fine if only the trailing slash is left. */
            if (api && p[0] == '/' && p[1] == '\0')
                break;
            return false;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (s != end)
        return false;
    if (r)
        r->npath_params = nparams;
    return true;
}

static void allow_header(ob_request *r, unsigned mask)
{
    char buf[96] = "";
    static const ob_method order[] = {OB_GET, OB_POST, OB_PUT, OB_PATCH, OB_DELETE, OB_HEAD,
                                      OB_OPTIONS};
    if (mask & OB_GET)
        mask |= OB_HEAD;
    mask |= OB_OPTIONS;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        if (!(mask & order[i]))
            continue;
        if (*buf)
            strcat(buf, ", ");
        strcat(buf, ob_method_name(order[i]));
    }
    ob_response_header(&r->res, "Allow", buf);
}

static void refuse(const ob_router *rt, ob_request *r, int status, const char *detail)
{
    if (rt->refuse)
        rt->refuse(r, status, detail);
    else
        ob_fail(r, status, detail);
}

/* The body limit of a request to route rt (api-conventions.md §13): a
 * multipart body to a route that takes files gets that route's upload
 * limit, every other body http.max_body_bytes. */
static long body_limit(const ob_request *r, const ob_route *rt)
{
    if (rt->uploads == OB_ROUTE_NO_FILES || !r->content_type ||
        strcmp(r->content_type, "multipart/form-data") != 0)
        return r->cfg->max_body_bytes;
    ob_multipart_limits lim = ob_multipart_limits_for(r->cfg, rt->uploads == OB_ROUTE_ARCHIVE);
    return (long)lim.max_body_bytes;
}

void ob_route_dispatch(ob_request *r, const ob_router *router)
{
    unsigned allowed = 0;
    const ob_route *hit = NULL, *first = NULL;
    for (size_t i = 0; i < router->nroutes; i++) {
        const ob_route *rt = &router->routes[i];
        if (!ob_route_match(rt->pattern, r->path, r->path_len, NULL))
            continue;
        /* The first pattern that matches owns the path: a literal route
         * (/sites/health/) shadows a later placeholder (/sites/{id}/), so
         * the placeholder's methods do not leak onto it.  One pattern may
         * still be listed several times with different methods. */
        if (first && strcmp(rt->pattern, first->pattern) != 0)
            continue;
        if (!first)
            first = rt;
        allowed |= rt->methods;
        ob_method m = r->method == OB_HEAD ? OB_GET : r->method;
        if (!hit && (rt->methods & m))
            hit = rt;
    }
    if (!allowed) {
        refuse(router, r, 404, "Not found.");
        return;
    }
    r->route = first; /* metrics and the access log: the pattern, never the raw path */
    if (r->content_length > body_limit(r, hit ? hit : first)) {
        refuse(router, r, 413, "Request body too large.");
        return;
    }
    if (router->access && router->access(r, hit ? hit : first) != 0)
        return; /* authentication, CSRF or login refused; response set */
    if (r->method == OB_OPTIONS) {
        r->res.status = 204;
        allow_header(r, allowed);
        return;
    }
    if (!hit) {
        allow_header(r, allowed);
        refuse(router, r, 405,
               ob_arena_printf(r->arena, "Method \"%s\" not allowed.", r->method_name));
        return;
    }
    ob_route_match(hit->pattern, r->path, r->path_len, r);
    r->route_data = hit->data;
    hit->handler(r);
}
