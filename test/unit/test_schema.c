/* test_schema.c - the OpenAPI document of GET /api/schema/ (src/api/schema.c)
 * against the routing table and the registry: valid JSON, an entry for
 * every route collection (and a route for every registered collection),
 * every $ref resolving, unique names, and the cached JSON/YAML answers. */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/core/alloc.h"
#include "openbook/core/config.h"
#include "openbook/http/http.h"
#include "openbook/api/registry.h"
#include "openbook/http/router.h"
#include "openbook/api/routes.h"
#include "tests.h"

static cJSON *document(void)
{
    ob_buf out;
    ob_buf_init(&out, NULL);
    size_t n;
    const ob_route *routes = ob_api_routes(&n);
    ob_schema_write(&out, routes, n);
    cJSON *doc = cJSON_ParseWithLength(out.data, out.len);
    ck_assert_msg(doc != NULL, "not JSON near: %.200s",
                  cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "?");
    ob_buf_free(&out);
    return doc;
}

static const cJSON *member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v != NULL, "no member \"%s\"", key);
    return v;
}

START_TEST(test_valid_openapi)
{
    cJSON *doc = document();
    ck_assert(cJSON_IsObject(doc));
    const cJSON *v = member(doc, "openapi");
    ck_assert(cJSON_IsString(v) && strncmp(v->valuestring, "3.", 2) == 0);
    ck_assert(cJSON_IsString(member(member(doc, "info"), "title")));
    ck_assert(cJSON_IsObject(member(doc, "paths")));
    ck_assert(cJSON_IsObject(member(member(doc, "components"), "schemas")));
    cJSON_Delete(doc);
}
END_TEST

/* Every collection route has its resource entry and every path its
 * document entry; every description of the table is routed (or is a
 * shape that says whose items it shows). */
START_TEST(test_every_route_collection)
{
    cJSON *doc = document();
    const cJSON *res = member(doc, "x-openbook-resources");
    const cJSON *paths = member(doc, "paths");
    size_t ncollections = 0, nroutes;
    const ob_route *routes = ob_api_routes(&nroutes);
    for (size_t i = 0; i < nroutes; i++) {
        const ob_route *rt = &routes[i];
        if (strncmp(rt->pattern, "/api/", 5) == 0)
            ck_assert_msg(cJSON_GetObjectItemCaseSensitive(paths, rt->pattern) != NULL,
                          "path %s missing from the document", rt->pattern);
        if (!rt->collection)
            continue;
        ncollections++;
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(res, rt->collection);
        ck_assert_msg(e != NULL, "route collection %s has no x-openbook-resources entry",
                      rt->collection);
        ck_assert_str_eq(member(e, "collection_path")->valuestring, rt->pattern);
        ck_assert_msg(cJSON_GetArraySize(member(e, "operations")) > 0, "%s: no operations",
                      rt->collection);
    }
    ck_assert_int_eq(cJSON_GetArraySize(res), (int)ncollections);
    for (size_t i = 0; i < ob_api_nresources; i++) {
        const ob_resource *d = ob_api_resources[i];
        if (d->kind == OB_RES_SHAPE) {
            ck_assert_msg(d->path == NULL && d->shape_of != NULL, "shape %s", d->class_name);
            continue;
        }
        const char *coll = ob_api_collection(d);
        ck_assert_msg(coll != NULL, "%s has no path under /api/", d->class_name);
        bool routed = false;
        for (size_t k = 0; k < nroutes && !routed; k++)
            routed = routes[k].collection && strcmp(routes[k].collection, coll) == 0 &&
                     routes[k].data == d;
        ck_assert_msg(routed, "collection %s has no route", coll);
        ck_assert_ptr_eq(ob_api_resource(coll), d);
    }
    cJSON_Delete(doc);
}
END_TEST

/* Every "$ref" (and x-openbook schema pointer) names a schema that exists. */
static void check_refs(const cJSON *node, const cJSON *schemas)
{
    static const char prefix[] = "#/components/schemas/";
    for (const cJSON *c = node ? node->child : NULL; c; c = c->next) {
        if (cJSON_IsString(c) && strncmp(c->valuestring, prefix, sizeof prefix - 1) == 0)
            ck_assert_msg(cJSON_GetObjectItemCaseSensitive(schemas,
                                                           c->valuestring + sizeof prefix - 1),
                          "dangling reference %s", c->valuestring);
        check_refs(c, schemas);
    }
}

START_TEST(test_references_resolve)
{
    cJSON *doc = document();
    const cJSON *schemas = member(member(doc, "components"), "schemas");
    check_refs(doc, schemas);
    /* Unique component names (an object with a repeated key is not JSON
     * anyone can use), and unique operation ids. */
    for (const cJSON *a = schemas->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            ck_assert_msg(strcmp(a->string, b->string) != 0, "schema %s twice", a->string);
    const cJSON *paths = member(doc, "paths");
    int nops = 0;
    const char *ids[512];
    for (const cJSON *p = paths->child; p; p = p->next)
        for (const cJSON *o = p->child; o; o = o->next) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "operationId");
            if (!cJSON_IsString(id))
                continue;
            for (int k = 0; k < nops; k++)
                ck_assert_msg(strcmp(ids[k], id->valuestring) != 0, "operationId %s twice",
                              id->valuestring);
            if (nops < 512)
                ids[nops++] = id->valuestring;
        }
    ck_assert_int_gt(nops, 0);
    cJSON_Delete(doc);
}
END_TEST

/* The resource entries carry what the contract suite needs. */
START_TEST(test_resource_entries)
{
    cJSON *doc = document();
    const cJSON *res = member(doc, "x-openbook-resources");
    const cJSON *schemas = member(member(doc, "components"), "schemas");
    for (const cJSON *e = res->child; e; e = e->next) {
        if (strcmp(member(e, "kind")->valuestring, "array") == 0)
            continue; /* written by hand: paths and access only */
        static const char *const keys[] = {"kind", "access", "schema", "model", "class",
                                           "key_format", "operations", "permissions", "gates",
                                           "guard", "search", "sort", "default_ordering",
                                           "expand", "admin_fields", "uniques", "actions"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            ck_assert_msg(cJSON_GetObjectItemCaseSensitive(e, keys[k]) != NULL, "%s: no %s",
                          e->string, keys[k]);
        const char *schema = strrchr(member(e, "schema")->valuestring, '/') + 1;
        const cJSON *props = member(member(schemas, schema), "properties");
        /* Search, sort and ordering name fields of the shape. */
        const char *lists[] = {"search", "sort", "default_ordering", "admin_fields"};
        for (size_t l = 0; l < sizeof lists / sizeof *lists; l++) {
            const cJSON *f;
            cJSON_ArrayForEach(f, member(e, lists[l]))
            {
                const char *name = f->valuestring + (f->valuestring[0] == '-');
                ck_assert_msg(cJSON_GetObjectItemCaseSensitive(props, name) != NULL,
                              "%s: %s names %s, not a field", e->string, lists[l], name);
            }
        }
        if (strcmp(member(e, "guard")->valuestring, "self") == 0)
            ck_assert_msg(cJSON_IsString(member(member(e, "self"), "field")),
                          "%s: self guard without the field that shows the user", e->string);
    }
    /* Spot checks against the descriptions. */
    const cJSON *tokens_e = member(res, "auth/auth_tokens");
    ck_assert_str_eq(member(tokens_e, "guard")->valuestring, "self");
    ck_assert_str_eq(member(member(tokens_e, "self"), "field")->valuestring, "user");
    ck_assert_str_eq(member(member(tokens_e, "self"), "user_key")->valuestring, "username");
    ck_assert_str_eq(member(member(tokens_e, "self"), "permission")->valuestring,
                     "openbook_auth.manage_own_authtoken");
    ck_assert_str_eq(cJSON_GetArrayItem(member(tokens_e, "default_ordering"), 0)->valuestring,
                     "user");
    const cJSON *users_e = member(res, "auth/users");
    ck_assert_str_eq(member(member(users_e, "gates"), "create")->valuestring, "superuser");
    ck_assert_str_eq(member(users_e, "access")->valuestring, "login");
    ck_assert_str_eq(member(member(res, "core/sites"), "access")->valuestring, "anon_read");
    const cJSON *req = member(member(schemas, "UserRequest"), "required");
    ck_assert_int_eq(cJSON_GetArraySize(req), 2); /* username, email */
    const cJSON *pw = member(member(member(schemas, "UserRequest"), "properties"), "password");
    ck_assert(cJSON_IsTrue(member(pw, "writeOnly")));
    cJSON_Delete(doc);
}
END_TEST

START_TEST(test_cached_and_yaml)
{
    size_t n1, n2, ny;
    const char *a = ob_schema_json(&n1);
    const char *b = ob_schema_json(&n2);
    ck_assert_ptr_eq(a, b); /* built once */
    ck_assert_uint_eq(n1, n2);
    ck_assert_uint_eq(strlen(a), n1);
    const char *y = ob_schema_yaml(&ny);
    ck_assert_ptr_eq(y, ob_schema_yaml(&n2));
    ck_assert_uint_gt(ny, 0);
    ck_assert_ptr_nonnull(strstr(y, "\nopenapi: \"3.0.3\"\n"));
    ck_assert_ptr_nonnull(strstr(y, "\npaths:\n  /api/:\n"));
    ck_assert_ptr_nonnull(strstr(y, "\n  /api/core/sites/:\n"));
    ck_assert_ptr_nonnull(strstr(y, "\"200\":"));
}
END_TEST

static ob_arena A;
static ob_config CFG;

static void run_handler(const char *uri, ob_request *r)
{
    char req_uri[128], query[128];
    snprintf(req_uri, sizeof req_uri, "REQUEST_URI=%s", uri);
    const char *q = strchr(uri, '?');
    snprintf(query, sizeof query, "QUERY_STRING=%s", q ? q + 1 : "");
    const char *vars[] = {"REQUEST_METHOD=GET", req_uri, query, "HTTP_HOST=example.org", NULL};
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(ob_request_init(r, &A, &CFG, test_env(&A, vars)), 0);
    ob_api_schema(r);
}

START_TEST(test_handler)
{
    ob_arena_init(&A, 4096);
    ob_config_defaults(&CFG);
    CFG.allowed_hosts.items = ob_calloc(1, sizeof(char *));
    CFG.allowed_hosts.items[0] = ob_strdup("example.org");
    CFG.allowed_hosts.count = 1;
    ob_request r;
    size_t n;
    const char *json = ob_schema_json(&n);
    run_handler("/api/schema/", &r);
    ck_assert_int_eq(r.res.status, 200);
    ck_assert_ptr_null(r.res.content_type); /* application/json */
    ck_assert_uint_eq(r.res.body.len, n);
    ck_assert(memcmp(r.res.body.data, json, n) == 0);
    run_handler("/api/schema/?format=yaml", &r);
    ck_assert_int_eq(r.res.status, 200);
    ck_assert_str_eq(r.res.content_type, "application/yaml; charset=utf-8");
    const char *yaml = ob_schema_yaml(&n);
    ck_assert_uint_eq(r.res.body.len, n);
    ck_assert(memcmp(r.res.body.data, yaml, n) == 0);
    ob_arena_destroy(&A);
    ob_config_free(&CFG);
}
END_TEST

Suite *schema_suite(void)
{
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_valid_openapi);
    tcase_add_test(tc, test_every_route_collection);
    tcase_add_test(tc, test_references_resolve);
    tcase_add_test(tc, test_resource_entries);
    tcase_add_test(tc, test_cached_and_yaml);
    tcase_add_test(tc, test_handler);
    suite_add_tcase(s, tc);
    return s;
}
