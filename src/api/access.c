/* access.c - the request's access checks, run by the router after the
 * path and size checks (api-conventions.md §5): authentication (403 for an
 * invalid credential), CSRF for cookie sessions on unsafe methods (403),
 * then "login required" (403). */
#include <string.h>
#include "openbook/auth.h"
#include "openbook/router.h"
#include "openbook/routes.h"

static bool unsafe(ob_method m)
{
    return m == OB_POST || m == OB_PUT || m == OB_PATCH || m == OB_DELETE;
}

static int access_check(ob_request *r, const ob_route *route)
{
    if (ob_authenticate(r) != 0)
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

void ob_access_install(void)
{
    ob_dispatch_hook = access_check;
}
