/* access.c - the request's access checks, run by the router after the
 * path and size checks (api-conventions.md §5): authentication (403 for an
 * invalid credential), CSRF for cookie sessions on unsafe methods (403),
 * then "login required" (403). */
#include <string.h>
#include "openbook/auth/auth.h"
#include "openbook/auth/auth_api.h"
#include "openbook/perm/perm.h"
#include "openbook/http/router.h"
#include "openbook/api/routes.h"

/* What the requester holds comes with the user on reads (perm.h). */
static const ob_auth_preload perm_preload = {OB_PERM_PRELOAD_COL, ob_perm_preload};

static bool unsafe(ob_method m)
{
    return m == OB_POST || m == OB_PUT || m == OB_PATCH || m == OB_DELETE;
}

/* /auth-api/: sessions only; a bad X-Session-Token is 410 for app clients;
 * browser clients need CSRF on every unsafe request, logged in or not. */
static int auth_api_check(ob_request *r)
{
    bool app = strncmp(r->path, "/auth-api/app/", 14) == 0;
    if (ob_authenticate(r, &perm_preload) != 0) {
        if (app && r->bad_app_session) {
            ob_json *j = ob_json_response(r, 410);
            ob_json_object_begin(j);
            ob_json_kv_int(j, "status", 410);
            ob_json_key(j, "data");
            ob_json_object_begin(j);
            ob_json_object_end(j);
            ob_json_key(j, "meta");
            ob_json_object_begin(j);
            ob_json_key(j, "is_authenticated");
            ob_json_bool(j, false);
            ob_json_object_end(j);
            ob_json_object_end(j);
        } else if (r->res.status != 503) {
            ob_auth_api_status(r, 403);
        }
        return -1;
    }
    if (!app && unsafe(r->method)) {
        const char *why = ob_csrf_check(r);
        if (why) {
            ob_json *j = ob_json_response(r, 403);
            ob_json_object_begin(j);
            ob_json_kv_int(j, "status", 403);
            ob_json_key(j, "errors");
            ob_json_array_begin(j);
            ob_json_object_begin(j);
            ob_json_kv_string(j, "code", "csrf_failed");
            ob_json_kv_string(j, "message", ob_arena_printf(r->arena, "CSRF Failed: %s", why));
            ob_json_object_end(j);
            ob_json_array_end(j);
            ob_json_object_end(j);
            return -1;
        }
    }
    return 0;
}

int ob_access_check(ob_request *r, const ob_route *route)
{
    if (route->access == OB_AUTH_API)
        return auth_api_check(r);
    if (ob_authenticate(r, &perm_preload) != 0)
        return -1;
    if (r->auth_method == OB_AUTH_COOKIE && r->user && unsafe(r->method)) {
        const char *why = ob_csrf_check(r);
        if (why) {
            ob_failf(r, 403, "CSRF Failed: %s", why);
            return -1;
        }
    }
    bool read = r->method == OB_GET || r->method == OB_HEAD || r->method == OB_OPTIONS;
    bool anon_ok = route->access == OB_ANON || (route->access == OB_ANON_READ && read);
    if (!r->user && !anon_ok) {
        ob_fail(r, 403, "Authentication credentials were not provided.");
        return -1;
    }
    return 0;
}

void ob_api_refuse(ob_request *r, int status, const char *detail)
{
    if (strncmp(r->path, "/auth-api/", 10) == 0)
        ob_auth_api_status(r, status);
    else
        ob_fail(r, status, detail);
}
