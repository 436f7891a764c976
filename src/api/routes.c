/* routes.c - the routing table of the FastCGI application, derived from
 * the table of descriptions (registry.h); GET /api/, which lists its
 * collections, and GET /api/schema/, which documents it (schema.c). */
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/auth/auth_api.h"
#include "openbook/api/registry.h"
#include "openbook/api/routes.h"
#include "openbook/api/ws.h"

/* Paths that are not resources.  Health comes before the sites' item
 * route, which would otherwise own /api/core/sites/health/. */
static const ob_route plain_routes[] = {
    {"/api/", OB_GET, ob_api_root, OB_ANON, NULL, NULL, 0},
    {"/api/schema/", OB_GET, ob_api_schema, OB_ANON, NULL, NULL, 0},
    {"/api/core/sites/health/", OB_GET, ob_api_health, OB_ANON, NULL, NULL, 0},
    /* WebSocket tickets (websocket.md §3): anonymous callers allowed. */
    {"/api/ws/ticket/", OB_POST, ob_api_ws_ticket, OB_ANON, NULL, NULL, 0},
    /* Library archives (libraries.md §5): staff + add_htmllibraryversion. */
    {"/api/core/html_library/install/", OB_POST, ob_api_library_install, OB_LOGIN, NULL, NULL,
     OB_ROUTE_ARCHIVE},
};

static const ob_route auth_routes[] = {
#include "../auth/routes_auth.inc"
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct {
    ob_route *v;
    size_t n;
} table;

static void add(ob_route rt)
{
    table.v[table.n++] = rt;
}

/* The methods of an operation mask, at the collection or at an item. */
static unsigned methods_of(unsigned ops, bool item)
{
    if (!item)
        return (ops & OB_CAN_LIST ? OB_GET : 0) | (ops & OB_CAN_CREATE ? OB_POST : 0);
    return (ops & OB_CAN_RETRIEVE ? OB_GET : 0) | (ops & OB_CAN_UPDATE ? OB_PUT : 0) |
           (ops & OB_CAN_PATCH ? OB_PATCH : 0) | (ops & OB_CAN_DELETE ? OB_DELETE : 0);
}

static char *joined(const char *a, const char *b, const char *c, const char *d)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
    char *s = ob_malloc(n);
    strcpy(s, a);
    strcat(s, b);
    strcat(s, c);
    strcat(s, d);
    return s;
}

/* A resource's routes: its collection, its items, its actions. */
static void add_resource(const ob_resource *res)
{
    unsigned ops = res->ops ? res->ops : OB_CAN_READ;
    bool single = res->kind == OB_RES_SINGLE;
    bool array = res->kind == OB_RES_ARRAY;
    ob_handler coll = res->list ? res->list : ob_resource_serve;
    unsigned cm = single || array ? OB_GET : methods_of(ops, false);
    /* Multipart bodies to a resource with file fields may be as large as
     * an upload (the router's 413). */
    int uploads = ob_resource_takes_files(res) ? OB_ROUTE_FILES : OB_ROUTE_NO_FILES;
    add((ob_route){res->path, cm, coll, res->access, ob_api_collection(res), res, uploads});
    if (single)
        return;
    const char *key = res->key_name ? res->key_name : res->pk->name;
    const char *item = joined(res->path, "{", key, "}/");
    unsigned im = array ? OB_GET : methods_of(ops, true);
    if (im)
        add((ob_route){item, im, res->retrieve ? res->retrieve : ob_resource_serve, res->access,
                       NULL, res, uploads});
    for (size_t i = 0; i < res->nactions; i++)
        add((ob_route){joined(item, res->actions[i].name, "/", ""), res->actions[i].methods,
                       res->actions[i].handler, res->access, NULL, res, 0});
}

const ob_route *ob_api_routes(size_t *nroutes)
{
    if (!table.v) {
        size_t max = N(plain_routes) + N(auth_routes);
        for (size_t i = 0; i < ob_api_nresources; i++)
            max += 2 + ob_api_resources[i]->nactions;
        table.v = ob_calloc(max, sizeof *table.v);
        for (size_t i = 0; i < N(plain_routes); i++)
            add(plain_routes[i]);
        for (size_t i = 0; i < ob_api_nresources; i++)
            if (ob_api_resources[i]->kind != OB_RES_SHAPE)
                add_resource(ob_api_resources[i]);
        for (size_t i = 0; i < N(auth_routes); i++)
            add(auth_routes[i]);
    }
    *nroutes = table.n;
    return table.v;
}

ob_router ob_api_router_state;

const ob_router *ob_api_router(void)
{
    if (!ob_api_router_state.routes) {
        ob_api_router_state.routes = ob_api_routes(&ob_api_router_state.nroutes);
        ob_api_router_state.access = ob_access_check;
        ob_api_router_state.refuse = ob_api_refuse;
    }
    return &ob_api_router_state;
}

/* GET /api/ - maps every collection to its absolute URL. */
void ob_api_root(ob_request *r)
{
    const char *base = ob_request_base_url(r);
    ob_json *j = ob_json_response(r, 200);
    ob_json_object_begin(j);
    for (size_t i = 0; i < ob_api_nresources; i++) {
        const char *coll = ob_api_collection(ob_api_resources[i]);
        if (!coll)
            continue;
        ob_json_key(j, coll);
        ob_json_string(j, ob_arena_printf(r->arena, "%s/api/%s/", base, coll));
    }
    ob_json_object_end(j);
}

/* ---- GET /api/schema/ ---- */

static ob_buf cached_json, cached_yaml;

const char *ob_schema_json(size_t *len)
{
    if (!cached_json.len) {
        ob_buf_init(&cached_json, NULL);
        size_t n;
        const ob_route *all = ob_api_routes(&n);
        ob_schema_write(&cached_json, all, n);
        ob_buf_cstr(&cached_json);
    }
    *len = cached_json.len;
    return cached_json.data;
}

const char *ob_schema_yaml(size_t *len)
{
    if (!cached_yaml.len) {
        size_t n;
        const char *json = ob_schema_json(&n);
        ob_buf_init(&cached_yaml, NULL);
        ob_yaml_from_json(&cached_yaml, json, n);
        ob_buf_cstr(&cached_yaml);
    }
    *len = cached_yaml.len;
    return cached_yaml.data;
}

/* GET /api/schema/: JSON, as everywhere under /api/; ?format=yaml for YAML. */
void ob_api_schema(ob_request *r)
{
    const char *format = ob_request_query(r, "format");
    bool yaml = format && strcmp(format, "yaml") == 0;
    size_t len;
    const char *doc = yaml ? ob_schema_yaml(&len) : ob_schema_json(&len);
    r->res.status = 200;
    ob_buf_reset(&r->res.body);
    ob_buf_append(&r->res.body, doc, len);
    r->res.content_type = yaml ? "application/yaml; charset=utf-8" : NULL;
}
