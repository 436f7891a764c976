/* app.c - what a worker does for OpenBook (see app.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "openbook/api/app.h"
#include "openbook/auth/auth_api.h"
#include "openbook/auth/ratelimit.h"
#include "openbook/db/db.h"
#include "openbook/api/routes.h"
#include "openbook/auth/session.h"

/* Known language codes, refreshed from the database at most once a
 * minute: the request language is resolved on every request and must not
 * cost a query each time. */
#define MAX_LANGS 64
static struct {
    char codes[MAX_LANGS][4];
    size_t n;
    int64_t loaded_ns;
} langs;

static void langs_refresh(ob_db *db, ob_arena *a)
{
    int64_t now = ob_now_ns();
    if (langs.loaded_ns && now - langs.loaded_ns < 60LL * 1000000000LL)
        return;
    /* Without a connection this fails at once and the list stays. */
    PGresult *res = ob_db_query(db, a, "SELECT language FROM languages ORDER BY language", 0, NULL);
    if (!res)
        return;
    langs.loaded_ns = now;
    langs.n = 0;
    for (int i = 0; i < PQntuples(res) && langs.n < MAX_LANGS; i++)
        snprintf(langs.codes[langs.n++], 4, "%s", PQgetvalue(res, i, 0));
}

static const char *lang_known(const char *code)
{
    for (size_t i = 0; i < langs.n; i++)
        if (strcasecmp(langs.codes[i], code) == 0)
            return langs.codes[i];
    return NULL;
}

/* api-conventions.md §12: cookie, then Accept-Language, then default. */
static void resolve_language(ob_request *r)
{
    const char *c = ob_request_cookie(r, "django_language");
    const char *hit = c ? lang_known(c) : NULL;
    if (!hit) {
        const char *al = ob_request_param(r, "HTTP_ACCEPT_LANGUAGE");
        if (al) {
            const char *tags[8];
            size_t n = ob_parse_accept_language(r->arena, al, strlen(al), tags, 8);
            for (size_t i = 0; i < n && !hit; i++)
                hit = lang_known(tags[i]);
        }
    }
    r->language = hit ? hit : r->cfg->default_language;
}

static void handle(ob_request *r)
{
    langs_refresh(r->db, r->arena);
    resolve_language(r);
    ob_route_dispatch(r, ob_api_router());
    /* Every /auth-api/browser/ answer, errors from the router and the
     * access checks included, hands out a CSRF cookie if the client has
     * none (api-auth.md §1); a no-op when the handler already did. */
    if (strncmp(r->path, "/auth-api/browser/", 18) == 0)
        ob_csrf_cookie(r, false);
}

const ob_app ob_api_app = {
    /* The common-password list and the dummy hash: once, not per request. */
    .worker_init = ob_auth_worker_init,
    .handle = handle,
    .router = &ob_api_router_state,
    .ratelimit_name = ob_ratelimit_name,
};
