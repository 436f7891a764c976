/* test_router.c - pattern matching and the router's own answers
 * (404, 405 with Allow, OPTIONS, HEAD runs GET). */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/core/alloc.h"
#include "openbook/core/config.h"
#include "openbook/api/registry.h"
#include "openbook/api/resource.h"
#include "openbook/http/router.h"
#include "openbook/api/routes.h"
#include "tests.h"

static ob_arena A;
static ob_request R;
static ob_config CFG;
/* The application's table and refusals; the access checks (which need a
 * database) are stand-ins set by the tests below. */
static ob_router ROUTER;

static void setup(void)
{
    ob_arena_init(&A, 4096);
    memset(&R, 0, sizeof R);
    R.arena = &A;
    ob_config_defaults(&CFG);
    CFG.allowed_hosts.items = ob_malloc(sizeof(char *));
    CFG.allowed_hosts.items[0] = ob_strdup("example.org");
    CFG.allowed_hosts.count = 1;
    ROUTER = *ob_api_router();
    ROUTER.access = NULL;
}

static void teardown(void)
{
    ob_arena_destroy(&A);
    ob_config_free(&CFG);
}

static bool match(const char *pattern, const char *path)
{
    R.npath_params = 99;
    return ob_route_match(pattern, path, strlen(path), &R);
}

START_TEST(test_literal_match)
{
    ck_assert(match("/api/core/sites/", "/api/core/sites/"));
    ck_assert_uint_eq(R.npath_params, 0);
    ck_assert(!match("/api/core/sites/", "/api/core/site/"));
    ck_assert(!match("/api/core/sites/", "/api/core/sitesx/"));
    ck_assert(!match("/api/core/sites/", "/api/core/sites/x/"));
    ck_assert(!match("/api/core/sites/", "/api/core/"));
    ck_assert(!match("/api/core/sites/", "/API/core/sites/"));
    ck_assert(!match("/api/core/sites/", "/"));
    ck_assert(match("/", "/"));
}
END_TEST

START_TEST(test_params)
{
    ck_assert(match("/api/core/sites/{id}/", "/api/core/sites/42/"));
    ck_assert_uint_eq(R.npath_params, 1);
    ck_assert_str_eq(R.path_params[0], "42");
    ck_assert(match("/api/x/{a}/y/{b}/", "/api/x/one/y/t%20wo/"));
    ck_assert_uint_eq(R.npath_params, 2);
    ck_assert_str_eq(R.path_params[0], "one");
    ck_assert_str_eq(R.path_params[1], "t%20wo");
    ck_assert(match("/api/{a}/{b}/{c}/{d}/", "/api/1/2/3/4/"));
    ck_assert_uint_eq(R.npath_params, 4);
    ck_assert_str_eq(R.path_params[3], "4");
    /* More placeholders than OB_MAX_PATH_PARAMS never match. */
    ck_assert(!match("/api/{a}/{b}/{c}/{d}/{e}/", "/api/1/2/3/4/5/"));
}
END_TEST

START_TEST(test_param_must_be_one_nonempty_segment)
{
    ck_assert(!match("/api/core/sites/{id}/", "/api/core/sites//"));
    ck_assert(!match("/api/core/sites/{id}/", "/api/core/sites/"));
    ck_assert(!match("/api/core/sites/{id}/", "/api/core/sites"));
    ck_assert(!match("/api/core/sites/{id}/", "/api/core/sites/1/2/"));
    ck_assert(!match("/api/core/sites/{id}/", "/api/core/sites/1/2"));
    ck_assert(!match("/api/core/sites/{id}/", "/api/core/sites/1//"));
}
END_TEST

START_TEST(test_optional_trailing_slash_under_api)
{
    ck_assert(match("/api/core/sites/", "/api/core/sites"));
    ck_assert(match("/api/", "/api"));
    ck_assert(match("/api/core/sites/{id}/", "/api/core/sites/7"));
    ck_assert_uint_eq(R.npath_params, 1);
    ck_assert_str_eq(R.path_params[0], "7");
    ck_assert(match("/api/core/sites/{id}/health/", "/api/core/sites/7/health"));
    /* Only the final slash is optional. */
    ck_assert(!match("/api/core/sites/", "/api/coresites"));
    ck_assert(!match("/api/core/sites/", "/api/core/site"));
    ck_assert(!match("/api/core/sites/", "/api/core"));
    ck_assert(!match("/api/core/sites/", "/api/core/sites//"));
}
END_TEST

START_TEST(test_trailing_slash_strict_elsewhere)
{
    ck_assert(match("/auth-api/browser/v1/auth/session", "/auth-api/browser/v1/auth/session"));
    ck_assert(!match("/auth-api/browser/v1/auth/session", "/auth-api/browser/v1/auth/session/"));
    ck_assert(match("/auth-api/app/v1/x/{k}", "/auth-api/app/v1/x/abc"));
    ck_assert(!match("/auth-api/app/v1/x/{k}", "/auth-api/app/v1/x/abc/"));
    ck_assert(!match("/other/", "/other"));
    ck_assert(match("/other/", "/other/"));
}
END_TEST

START_TEST(test_path_len_honoured_and_null_request)
{
    ck_assert(ob_route_match("/api/core/sites/", "/api/core/sites/XYZ", 16, NULL));
    ck_assert(!ob_route_match("/api/core/sites/", "/api/core/sites/XYZ", 17, NULL));
    ck_assert(ob_route_match("/api/core/sites/{id}/", "/api/core/sites/5/", 18, NULL));
}
END_TEST

/* ---- dispatch --------------------------------------------------------- */

static void init_request_cl(const char *method, const char *uri, long content_length)
{
    char m[64], u[256], cl[64];
    snprintf(m, sizeof m, "REQUEST_METHOD=%s", method);
    snprintf(u, sizeof u, "REQUEST_URI=%s", uri);
    snprintf(cl, sizeof cl, "CONTENT_LENGTH=%ld", content_length);
    const char *vars[] = {m, u, cl, "HTTP_HOST=example.org", NULL};
    memset(&R, 0, sizeof R); /* the worker hands over a zeroed request */
    ck_assert_int_eq(ob_request_init(&R, &A, &CFG, test_env(&A, vars)), 0);
}

static void init_request(const char *method, const char *uri)
{
    init_request_cl(method, uri, 0);
}

static const char *detail(void)
{
    cJSON *v = cJSON_ParseWithLength(R.res.body.data, R.res.body.len);
    ck_assert_ptr_nonnull(v);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "detail");
    const char *s = cJSON_IsString(d) ? ob_arena_strdup(&A, d->valuestring) : NULL;
    cJSON_Delete(v);
    ck_assert_ptr_nonnull(s);
    return s;
}

START_TEST(test_dispatch_404)
{
    init_request("GET", "/no/such/path/");
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 404);
    ck_assert_str_eq(detail(), "Not found.");
}
END_TEST

START_TEST(test_dispatch_auth_api_envelope)
{
    /* /auth-api/ errors use {"status": N} (api-auth.md §1), and a trailing
     * slash there is a different path. */
    init_request("GET", "/auth-api/browser/v1/no/such/thing");
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 404);
    ck_assert_str_eq(ob_buf_cstr(&R.res.body), "{\"status\":404}");
    init_request("DELETE", "/auth-api/browser/v1/config");
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 405);
    ck_assert_str_eq(ob_buf_cstr(&R.res.body), "{\"status\":405}");
    ck_assert_ptr_null(R.res.content_type);
    /* Paths that merely start alike keep the REST envelope. */
    init_request("GET", "/auth-apix/");
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_str_eq(detail(), "Not found.");
}
END_TEST

START_TEST(test_dispatch_405_with_allow)
{
    init_request("POST", "/api/core/sites/");
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 405);
    ck_assert_str_eq(detail(), "Method \"POST\" not allowed.");
    ck_assert_ptr_nonnull(strstr(ob_buf_cstr(&R.res.headers), "Allow: GET, HEAD, OPTIONS\r\n"));
}
END_TEST

/* The methods of a resource's routes are its description's operations
 * (routes.c): the Allow of its collection, items and actions. */
static const char *allow_of(const char *path)
{
    init_request("OPTIONS", path);
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 204);
    const char *h = strstr(ob_buf_cstr(&R.res.headers), "Allow: ");
    ck_assert_ptr_nonnull(h);
    return ob_arena_strndup(&A, h + 7, strcspn(h + 7, "\r"));
}

START_TEST(test_methods_follow_the_description)
{
    /* sites: read, PUT and PATCH (no create, no delete) */
    ck_assert_str_eq(allow_of("/api/core/sites/"), "GET, HEAD, OPTIONS");
    ck_assert_str_eq(allow_of("/api/core/sites/1/"), "GET, PUT, PATCH, HEAD, OPTIONS");
    /* languages: every operation; the item's placeholder is named by the
     * description ({code}), not by its key field */
    ck_assert_str_eq(allow_of("/api/core/languages/"), "GET, POST, HEAD, OPTIONS");
    ck_assert_str_eq(allow_of("/api/core/languages/de/"),
                     "GET, PUT, PATCH, DELETE, HEAD, OPTIONS");
    /* permissions: read only; the current user: one item, no key */
    ck_assert_str_eq(allow_of("/api/auth/permissions/"), "GET, HEAD, OPTIONS");
    ck_assert_str_eq(allow_of("/api/auth/current_user/"), "GET, HEAD, OPTIONS");
    /* an action of a description */
    ck_assert_str_eq(allow_of("/api/auth/access_requests/x/accept/"), "PUT, OPTIONS");
    /* a literal route listed before a resource owns its path */
    ck_assert_str_eq(allow_of("/api/core/sites/health/"), "GET, HEAD, OPTIONS");
    const ob_route *routes = ROUTER.routes;
    for (size_t i = 0; i < ROUTER.nroutes; i++) {
        const ob_resource *res = routes[i].data;
        if (!res || routes[i].handler != ob_resource_serve)
            continue;
        /* a generic route offers no method its resource lacks */
        unsigned ops = res->ops ? res->ops : OB_CAN_READ;
        bool item = strchr(routes[i].pattern, '{') != NULL;
        unsigned want = item ? (ops & OB_CAN_RETRIEVE ? OB_GET : 0) |
                                   (ops & OB_CAN_UPDATE ? OB_PUT : 0) |
                                   (ops & OB_CAN_PATCH ? OB_PATCH : 0) |
                                   (ops & OB_CAN_DELETE ? OB_DELETE : 0)
                             : (ops & OB_CAN_LIST ? OB_GET : 0) | (ops & OB_CAN_CREATE ? OB_POST : 0);
        ck_assert_msg(routes[i].methods == want, "%s: methods %u, ops say %u", routes[i].pattern,
                      routes[i].methods, want);
    }
}
END_TEST

START_TEST(test_dispatch_options)
{
    init_request("OPTIONS", "/api/core/sites");
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 204);
    ck_assert_ptr_nonnull(strstr(ob_buf_cstr(&R.res.headers), "Allow: GET, HEAD, OPTIONS\r\n"));
    ck_assert_uint_eq(R.res.body.len, 0);
}
END_TEST

START_TEST(test_dispatch_api_root_get_and_head)
{
    static const char *const methods[] = {"GET", "HEAD"};
    for (int m = 0; m < 2; m++) {
        init_request(methods[m], "/api");
        ob_route_dispatch(&R, &ROUTER);
        ck_assert_int_eq(R.res.status, 200);
        cJSON *v = cJSON_ParseWithLength(R.res.body.data, R.res.body.len);
        ck_assert_ptr_nonnull(v);
        ck_assert(cJSON_IsObject(v));
        /* Every collection of the table is listed with its canonical URL. */
        size_t listed = 0;
        for (size_t i = 0; i < ROUTER.nroutes; i++) {
            if (!ROUTER.routes[i].collection)
                continue;
            listed++;
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(v, ROUTER.routes[i].collection);
            char want[256];
            snprintf(want, sizeof want, "http://example.org/api/%s/", ROUTER.routes[i].collection);
            bool ok = cJSON_IsString(u) && strcmp(u->valuestring, want) == 0;
            if (!ok)
                cJSON_Delete(v);
            ck_assert_msg(ok, "root lacks %s", want);
        }
        ck_assert_int_eq(cJSON_GetArraySize(v), (int)listed);
        cJSON_Delete(v);
        ob_arena_reset(&A);
    }
}
END_TEST

/* Without hooks the router answers in the {"detail"} envelope; the table
 * is the caller's alone. */
static void answer_x(ob_request *r)
{
    ob_json *j = ob_json_response(r, 200);
    ob_json_object_begin(j);
    ob_json_kv_string(j, "x", r->path_params[0]);
    ob_json_object_end(j);
}

START_TEST(test_dispatch_own_table_no_hooks)
{
    static const ob_route table[] = {
        {"/x/{v}", OB_GET, answer_x, 0, NULL, NULL, 0},
        {"/auth-api/y", OB_POST, answer_x, 0, NULL, NULL, 0},
    };
    const ob_router bare = {table, 2, NULL, NULL};
    init_request("GET", "/x/7");
    ob_route_dispatch(&R, &bare);
    ck_assert_int_eq(R.res.status, 200);
    ck_assert_str_eq(ob_buf_cstr(&R.res.body), "{\"x\":\"7\"}");
    init_request("GET", "/api/");
    ob_route_dispatch(&R, &bare);
    ck_assert_int_eq(R.res.status, 404);
    ck_assert_str_eq(detail(), "Not found.");
    /* No special envelope for /auth-api/ without the application's hook. */
    init_request("GET", "/auth-api/y");
    ob_route_dispatch(&R, &bare);
    ck_assert_int_eq(R.res.status, 405);
    ck_assert_str_eq(detail(), "Method \"GET\" not allowed.");
    ck_assert_ptr_nonnull(strstr(ob_buf_cstr(&R.res.headers), "Allow: POST, OPTIONS\r\n"));
}
END_TEST

/* Multipart bodies get the upload limit of the route that takes files
 * (api-conventions.md §13); other bodies, and other routes, max_body_bytes. */
START_TEST(test_dispatch_upload_limits)
{
    static const ob_route table[] = {
        {"/plain/", OB_POST, answer_x, 0, NULL, NULL, OB_ROUTE_NO_FILES},
        {"/files/", OB_POST, answer_x, 0, NULL, NULL, OB_ROUTE_FILES},
        {"/archive/", OB_POST, answer_x, 0, NULL, NULL, OB_ROUTE_ARCHIVE},
    };
    const ob_router bare = {table, 3, NULL, NULL};
    struct {
        const char *uri, *type;
        long length;
        int status; /* 413, or 200 (passed on: answer_x has no path parameter) */
    } cases[] = {
        {"/plain/", "multipart/form-data", CFG.max_body_bytes + 1, 413},
        {"/files/", "application/json", CFG.max_body_bytes + 1, 413},
        {"/files/", "multipart/form-data", CFG.max_upload_bytes, 200},
        {"/files/", "multipart/form-data", CFG.max_upload_bytes + 1, 413},
        {"/archive/", "multipart/form-data", CFG.library_archive_max_bytes + 65536, 200},
        {"/archive/", "multipart/form-data", CFG.library_archive_max_bytes + 65537, 413},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char m[] = "REQUEST_METHOD=POST", u[64], cl[64], ct[96];
        snprintf(u, sizeof u, "REQUEST_URI=%s", cases[i].uri);
        snprintf(cl, sizeof cl, "CONTENT_LENGTH=%ld", cases[i].length);
        snprintf(ct, sizeof ct, "CONTENT_TYPE=%s; boundary=x", cases[i].type);
        const char *vars[] = {m, u, cl, ct, "HTTP_HOST=example.org", NULL};
        memset(&R, 0, sizeof R);
        ck_assert_int_eq(ob_request_init(&R, &A, &CFG, test_env(&A, vars)), 0);
        ob_route_dispatch(&R, &bare);
        ck_assert_msg(R.res.status == cases[i].status, "case %zu: %d", i, R.res.status);
    }
}
END_TEST

/* A stand-in for the access checks (src/api/access.c). */
static int hook_calls;
static const ob_route *hook_route;
static int hook_refuse(ob_request *r, const ob_route *route)
{
    hook_calls++;
    hook_route = route;
    ob_fail(r, 403, "Authentication credentials were not provided.");
    return -1;
}
static int hook_allow(ob_request *r, const ob_route *route)
{
    (void)r;
    hook_calls++;
    hook_route = route;
    return 0;
}

START_TEST(test_dispatch_413_after_path)
{
    CFG.max_body_bytes = 1024;
    /* An unknown path is 404 whatever the body size. */
    init_request_cl("POST", "/no/such/", 5000);
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 404);
    /* A known path with a body over the limit is 413, before 405. */
    init_request_cl("POST", "/api/core/sites/", 1025);
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 413);
    ck_assert_str_eq(detail(), "Request body too large.");
    init_request_cl("POST", "/api/core/sites/", 1024);
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 405);
}
END_TEST

START_TEST(test_dispatch_hook_order)
{
    CFG.max_body_bytes = 1024;
    ROUTER.access = hook_refuse;
    hook_calls = 0;
    /* Path (404) and size (413) come before the access checks. */
    init_request("GET", "/no/such/");
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 404);
    init_request_cl("POST", "/api/core/sites/", 2048);
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 413);
    ck_assert_int_eq(hook_calls, 0);
    /* Access checks come before 405 and OPTIONS. */
    init_request("POST", "/api/core/sites/");
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 403);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_ptr_nonnull(hook_route);
    ck_assert_str_eq(hook_route->pattern, "/api/core/sites/");
    init_request("OPTIONS", "/api/core/sites/");
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(R.res.status, 403);
    ck_assert_int_eq(hook_calls, 2);
    /* A hook that lets the request pass leaves 405 to the router, and is
     * told which route matched. */
    ROUTER.access = hook_allow;
    init_request("DELETE", "/api/core/sites/5");
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(hook_calls, 3);
    ck_assert_str_eq(hook_route->pattern, "/api/core/sites/{id}/");
    ck_assert_int_eq(R.res.status, 405);
    ck_assert_str_eq(detail(), "Method \"DELETE\" not allowed.");
    init_request("GET", "/api/");
    ob_route_dispatch(&R, &ROUTER);
    ck_assert_int_eq(hook_calls, 4);
    ck_assert_str_eq(hook_route->pattern, "/api/");
    ck_assert_int_eq(R.res.status, 200);
}
END_TEST

START_TEST(test_route_table_well_formed)
{
    for (size_t i = 0; i < ROUTER.nroutes; i++) {
        const ob_route *rt = &ROUTER.routes[i];
        ck_assert_int_eq(rt->pattern[0], '/');
        ck_assert_ptr_nonnull(rt->handler);
        ck_assert_uint_ne(rt->methods, 0);
        ck_assert(rt->access == OB_LOGIN || rt->access == OB_ANON_READ || rt->access == OB_ANON ||
                  rt->access == OB_AUTH_API);
        /* /auth-api/ routes use the auth envelope and have no final slash. */
        if (strncmp(rt->pattern, "/auth-api/", 10) == 0) {
            ck_assert_int_eq(rt->access, OB_AUTH_API);
            ck_assert_int_ne(rt->pattern[strlen(rt->pattern) - 1], '/');
        }
        if (strncmp(rt->pattern, "/api/", 5) == 0)
            ck_assert_msg(rt->pattern[strlen(rt->pattern) - 1] == '/',
                          "%s: /api/ patterns are canonical (end in '/')", rt->pattern);
        /* A pattern matches its own literal form. */
        if (!strchr(rt->pattern, '{'))
            ck_assert(ob_route_match(rt->pattern, rt->pattern, strlen(rt->pattern), NULL));
    }
}
END_TEST

Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("router");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_literal_match);
    tcase_add_test(tc, test_params);
    tcase_add_test(tc, test_param_must_be_one_nonempty_segment);
    tcase_add_test(tc, test_optional_trailing_slash_under_api);
    tcase_add_test(tc, test_trailing_slash_strict_elsewhere);
    tcase_add_test(tc, test_path_len_honoured_and_null_request);
    tcase_add_test(tc, test_dispatch_404);
    tcase_add_test(tc, test_dispatch_auth_api_envelope);
    tcase_add_test(tc, test_dispatch_405_with_allow);
    tcase_add_test(tc, test_dispatch_options);
    tcase_add_test(tc, test_methods_follow_the_description);
    tcase_add_test(tc, test_dispatch_api_root_get_and_head);
    tcase_add_test(tc, test_dispatch_413_after_path);
    tcase_add_test(tc, test_dispatch_hook_order);
    tcase_add_test(tc, test_dispatch_own_table_no_hooks);
    tcase_add_test(tc, test_dispatch_upload_limits);
    tcase_add_test(tc, test_route_table_well_formed);
    suite_add_tcase(s, tc);
    return s;
}
