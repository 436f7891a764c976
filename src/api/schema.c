/* schema.c - GET /api/schema/: the OpenAPI 3 document of /api/.
 *
 * Generated from the same data that drive the API: the routing table
 * (paths, methods, access), the registry (which description serves which
 * collection) and the resource descriptions (fields, writable fields and
 * their validation, filters, search, ordering, expansion, guard, gates).
 * What OpenAPI has no words for travels in x-openbook-* extensions, enough
 * for the contract suite (test/integration/test_contract.py) to derive its
 * tests from the document alone:
 *
 *   root   x-openbook-resources: per collection its kind, paths, key,
 *          model and permissions, access mode, operations, gates, guard
 *          (and what makes a row the requester's own), search, sort and
 *          default ordering, expansions, admin-only fields, uniques, actions
 *   field  x-openbook-admin (shown to superusers only), -admin-write,
 *          -create-only, -update-optional, -not-blank, -shown-once,
 *          -ref {resource, key}, -expand
 *   param  x-openbook-filter {field, lookup, custom, reference}
 *   op     x-openbook-operation, -permission, -gate, -access
 *
 * Descriptions grow (new guards, field types, write kinds): whatever this
 * file does not know yet is written as "unknown-<n>" or left without a
 * type, never guessed.
 *
 * The document does not depend on the request (relative server URL, no
 * configuration values), so each worker builds it once, on first use, and
 * serves the cached bytes afterwards. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "openbook/api/registry.h"
#include "openbook/http/router.h"

#ifndef OB_VERSION
#define OB_VERSION "0"
#endif

#define MAX_SHAPES 32

typedef struct gen {
    ob_json *j;
    ob_arena *a;
    const ob_route *routes; /* the routing table the document describes */
    size_t nroutes;
    /* Expansion targets without a registry row: emitted as schemas of their
     * own so every $ref resolves (the unit test asks for a row). */
    const ob_resource *extra[MAX_SHAPES];
    size_t nextra;
} gen;

/* The operations, in document order, with their resource.h bits. */
typedef enum { OP_LIST, OP_CREATE, OP_RETRIEVE, OP_UPDATE, OP_PARTIAL_UPDATE, OP_DESTROY, NOPS } op;

static const struct {
    const char *name, *action, *summary;
    unsigned bit;
} ops[NOPS] = {
    [OP_LIST] = {"list", "view", "List the items the requester may view.", OB_CAN_LIST},
    [OP_CREATE] = {"create", "add", "Create an item.", OB_CAN_CREATE},
    [OP_RETRIEVE] = {"retrieve", "view", "One item.", OB_CAN_RETRIEVE},
    [OP_UPDATE] = {"update", "change", "Replace the writable fields of an item.", OB_CAN_UPDATE},
    [OP_PARTIAL_UPDATE] = {"partial_update", "change", "Change the given fields of an item.",
                           OB_CAN_PATCH},
    [OP_DESTROY] = {"destroy", "delete", "Delete an item.", OB_CAN_DELETE},
};

/* ---- small helpers ---- */

static void flag(ob_json *j, const char *key, bool on)
{
    if (on) {
        ob_json_key(j, key);
        ob_json_bool(j, true);
    }
}

static void key_string_or_null(ob_json *j, const char *key, const char *v)
{
    ob_json_key(j, key);
    if (v)
        ob_json_string(j, v);
    else
        ob_json_null(j);
}

static void list_begin(gen *g, const char *key)
{
    ob_json_key(g->j, key);
    ob_json_array_begin(g->j);
}

static const ob_field_ref *ref_of(const ob_resource *res, const char *name)
{
    for (size_t i = 0; res->refs && i < res->nrefs; i++)
        if (res->refs[i].field && strcmp(res->refs[i].field, name) == 0)
            return &res->refs[i];
    return NULL;
}

static const ob_field *field_named(const ob_resource *res, const char *name)
{
    for (size_t i = 0; i < res->nfields; i++)
        if (strcmp(res->fields[i].name, name) == 0)
            return &res->fields[i];
    return NULL;
}

static const ob_field *field_by_sql(const ob_resource *res, const char *sql, size_t n)
{
    for (size_t i = 0; i < res->nfields; i++)
        if (res->fields[i].sql && strlen(res->fields[i].sql) == n &&
            strncmp(res->fields[i].sql, sql, n) == 0)
            return &res->fields[i];
    return NULL;
}

/* The write side of a description. */
static const ob_wfield *wfields_of(const ob_resource *res, size_t *n)
{
    *n = res->wfields ? res->nwfields : 0;
    return res->wfields;
}

static const ob_wfield *wfield_of(const ob_resource *res, const char *name)
{
    size_t n;
    const ob_wfield *w = wfields_of(res, &n);
    for (size_t i = 0; i < n; i++)
        if (w[i].name && strcmp(w[i].name, name) == 0)
            return &w[i];
    return NULL;
}

static const ob_field_note *note_of(const ob_resource *e, const char *name)
{
    for (size_t i = 0; e && i < e->nnotes; i++)
        if (strcmp(e->notes[i].name, name) == 0)
            return &e->notes[i];
    return NULL;
}

static const char *schema_name(gen *g, const ob_resource *res)
{
    if (!ob_api_listed(res))
        return ob_arena_printf(g->a, "%sExpanded", res->class_name);
    return res->schema_name ? res->schema_name : res->class_name;
}

static const char *schema_ref(gen *g, const char *name)
{
    return ob_arena_printf(g->a, "#/components/schemas/%s", name);
}

/* "openbook_core.view_site" */
static const char *perm(gen *g, const ob_resource *res, const char *action)
{
    return ob_arena_printf(g->a, "%s.%s_%s", res->app_label, action, res->model);
}

static const char *access_name(int access)
{
    switch (access) {
    case OB_ANON:
        return "anon";
    case OB_ANON_READ:
        return "anon_read";
    case OB_AUTH_API:
        return "auth_api";
    default:
        return "login";
    }
}

static const char *guard_name(gen *g, ob_guard guard)
{
    switch (guard) {
    case OB_GUARD_GLOBAL:
        return "global";
    case OB_GUARD_SELF:
        return "self";
    case OB_GUARD_SCOPE:
        return "scope";
    case OB_GUARD_SCOPED:
        return "scoped";
    case OB_GUARD_ACCESS_REQUEST:
        return "access_request";
    default:
        return ob_arena_printf(g->a, "unknown-%d", (int)guard);
    }
}

static const char *gate_name(ob_admin_gate gate)
{
    switch (gate) {
    case OB_ADMIN_NONE:
        return NULL;
    case OB_ADMIN_SUPERUSER:
        return "superuser";
    case OB_ADMIN_STAFF_PERM:
        return "staff";
    default:
        return "unknown";
    }
}

/* The admin gate of an operation (a write gate may cover only some
 * writes: gate_ops). */
static ob_admin_gate gate_of(const ob_resource *res, op o)
{
    if (o == OP_LIST || o == OP_RETRIEVE)
        return res->read_gate;
    return !res->gate_ops || (res->gate_ops & ops[o].bit) ? res->write_gate : OB_ADMIN_NONE;
}

static const char *lower(gen *g, const char *s)
{
    char *out = ob_arena_strdup(g->a, s);
    for (char *c = out; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return out;
}

/* "core/html_library/libraries" -> "core_html_library_libraries". */
static const char *ident(gen *g, const char *s)
{
    char *out = ob_arena_strdup(g->a, s);
    for (char *c = out; *c; c++)
        if (!isalnum((unsigned char)*c))
            *c = '_';
    return out;
}

/* ---- routes ---- */


static const char *coll_of(const ob_resource *res)
{
    return res ? ob_api_collection(res) : NULL;
}

/* Where a registered resource lives in the routing table. */
typedef struct placed {
    const ob_resource *e;
    const ob_route *coll;   /* the route carrying coll_of(e) */
    const ob_route *item;   /* <collection>{key}/, or NULL */
    const char *key_param;  /* the placeholder's name, e.g. "id" */
} placed;

static const ob_route *collection_route(const gen *g, const char *collection)
{
    for (size_t i = 0; i < g->nroutes; i++)
        if (g->routes[i].collection && strcmp(g->routes[i].collection, collection) == 0)
            return &g->routes[i];
    return NULL;
}

/* "<prefix>{name}/" exactly: the item route of a collection. */
static const char *item_param(gen *g, const char *pattern, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(pattern, prefix, n) != 0 || pattern[n] != '{')
        return NULL;
    const char *close = strchr(pattern + n, '}');
    if (!close || strcmp(close, "}/") != 0)
        return NULL;
    return ob_arena_strndup(g->a, pattern + n + 1, (size_t)(close - pattern - n - 1));
}

static placed place(gen *g, const ob_resource *e)
{
    placed p = {.e = e};
    if (!coll_of(e))
        return p;
    p.coll = collection_route(g, coll_of(e));
    if (!p.coll || (e->kind != OB_RES_COLLECTION && e->kind != OB_RES_ARRAY))
        return p;
    for (size_t i = 0; i < g->nroutes && !p.item; i++) {
        const char *name = item_param(g, g->routes[i].pattern, p.coll->pattern);
        if (name) {
            p.item = &g->routes[i];
            p.key_param = name;
        }
    }
    return p;
}

/* Methods offered at a pattern (several rows may share one). */
static unsigned pattern_methods(const gen *g, const char *pattern)
{
    unsigned m = 0;
    for (size_t i = 0; i < g->nroutes; i++)
        if (strcmp(g->routes[i].pattern, pattern) == 0)
            m |= g->routes[i].methods;
    return m;
}

/* The row that answers method m at a pattern. */
static const ob_route *pattern_route(const gen *g, const char *pattern, unsigned m)
{
    for (size_t i = 0; i < g->nroutes; i++)
        if (strcmp(g->routes[i].pattern, pattern) == 0 && (g->routes[i].methods & m))
            return &g->routes[i];
    return NULL;
}

static bool needs_login(const ob_route *rt, unsigned m)
{
    bool read = m == OB_GET || m == OB_HEAD || m == OB_OPTIONS;
    return !(rt->access == OB_ANON || rt->access == OB_AUTH_API ||
             (rt->access == OB_ANON_READ && read));
}

static const unsigned doc_methods[] = {OB_GET, OB_POST, OB_PUT, OB_PATCH, OB_DELETE};

/* The operation a method at a placed path stands for, or -1. */
static int op_of(const placed *p, bool item, unsigned m)
{
    if (p->e->kind == OB_RES_ARRAY)
        return -1; /* written by hand: plain operations */
    if (p->e->kind == OB_RES_SINGLE)
        return !item && m == OB_GET ? OP_RETRIEVE : -1;
    if (!item)
        return m == OB_GET ? OP_LIST : m == OB_POST ? OP_CREATE : -1;
    switch (m) {
    case OB_GET:
        return OP_RETRIEVE;
    case OB_PUT:
        return OP_UPDATE;
    case OB_PATCH:
        return OP_PARTIAL_UPDATE;
    case OB_DELETE:
        return OP_DESTROY;
    default:
        return -1;
    }
}

/* Whether a resource really offers method m at its collection or item
 * path: the router lets it through, and a generic resource (res->ops set)
 * has the operation; otherwise the handler answers 405 itself. */
static bool offers(const gen *g, const placed *p, bool item, unsigned m)
{
    const ob_route *rt = item ? p->item : p->coll;
    if (!rt || !(pattern_methods(g, rt->pattern) & m))
        return false;
    int o = op_of(p, item, m);
    unsigned have = p->e ? p->e->ops : 0;
    if (o >= 0 && have)
        return (have & ops[o].bit) != 0;
    return true;
}

/* ---- field schemas ---- */

typedef struct fmeta {
    const char *name;
    const ob_field *f;          /* read side; NULL for write-only fields */
    const ob_wfield *w;         /* write side; NULL for read-only fields */
    const ob_field_note *note;
    const ob_field_ref *ref;
    bool nullable;              /* in answers */
} fmeta;

static fmeta meta(const ob_resource *e, const ob_resource *res, const ob_field *f,
                  const ob_wfield *w)
{
    fmeta m = {.f = f, .w = w};
    m.name = f ? f->name : w ? w->name : "";
    if (!m.w)
        m.w = wfield_of(res, m.name);
    m.note = note_of(e, m.name);
    m.ref = ref_of(res, m.name);
    unsigned nf = m.note ? m.note->flags : 0;
    /* Types whose columns are usually nullable, and references (a deleted
     * user leaves null behind), say so unless told otherwise. */
    bool usually = (f && (f->type == OB_FT_DATETIME || f->type == OB_FT_FILE ||
                          f->type == OB_FT_JSON)) ||
                   (m.ref && m.ref->expand) || (m.w && (m.w->flags & OB_WF_NULL));
    m.nullable = ((nf & OB_NOTE_NULLABLE) || usually) && !(nf & OB_NOTE_NOT_NULLABLE);
    return m;
}

static bool is_list_kind(const ob_wfield *w)
{
    return w && (w->kind == OB_W_PERM_LIST || w->kind == OB_W_GROUP_LIST);
}

static void string_array(ob_json *j)
{
    ob_json_kv_string(j, "type", "array");
    ob_json_key(j, "items");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", "string");
    ob_json_object_end(j);
}

static void property_body(gen *g, const fmeta *m, const ob_resource *res, bool request);

/* A list of objects (OB_W_OBJECT_LIST): an array whose items have the
 * fields of w->items, as written. */
static void object_array(gen *g, const ob_wfield *w, const ob_resource *res)
{
    ob_json *j = g->j;
    ob_json_kv_string(j, "type", "array");
    if (w->has_max)
        ob_json_kv_int(j, "maxItems", w->max);
    ob_json_key(j, "items");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", "object");
    ob_json_key(j, "properties");
    ob_json_object_begin(j);
    for (size_t i = 0; i < w->nitems; i++) {
        fmeta im = {.name = w->items[i].name, .w = &w->items[i]};
        ob_json_key(j, im.name);
        ob_json_object_begin(j);
        property_body(g, &im, res, true);
        if (w->items[i].def)
            ob_json_kv_string(j, "x-openbook-default", w->items[i].def);
        ob_json_object_end(j);
    }
    ob_json_object_end(j);
    list_begin(g, "required");
    for (size_t i = 0; i < w->nitems; i++)
        if (w->items[i].flags & OB_WF_REQUIRED)
            ob_json_string(j, w->items[i].name);
    ob_json_array_end(j);
    ob_json_object_end(j);
}

/* The JSON type of a read-side field. */
static void read_type(gen *g, const fmeta *m, const ob_resource *res, bool request)
{
    ob_json *j = g->j;
    switch (m->f->type) {
    case OB_FT_INT:
        ob_json_kv_string(j, "type", "integer");
        break;
    case OB_FT_NUMBER:
        ob_json_kv_string(j, "type", "number");
        break;
    case OB_FT_BOOL:
        ob_json_kv_string(j, "type", "boolean");
        break;
    case OB_FT_DATETIME:
        ob_json_kv_string(j, "type", "string");
        ob_json_kv_string(j, "format", "date-time");
        break;
    case OB_FT_MEDIA_PATH:
        ob_json_kv_string(j, "type", "string");
        break;
    case OB_FT_FILE:
        ob_json_kv_string(j, "type", "string");
        /* Uploads are multipart (api-conventions.md §2); answers carry the URL. */
        ob_json_kv_string(j, "format", request ? "binary" : "uri");
        break;
    case OB_FT_JSON:
        if (is_list_kind(m->w))
            string_array(j);
        else
            ob_json_kv_string(j, "description", "Any JSON value, returned verbatim.");
        break;
    case OB_FT_TEXT:
        ob_json_kv_string(j, "type", "string");
        if (res->pk == m->f && res->pk_is_uuid)
            ob_json_kv_string(j, "format", "uuid");
        break;
    default:
        ob_json_kv_string(j, "x-openbook-type", ob_arena_printf(g->a, "unknown-%d", (int)m->f->type));
        break;
    }
}

/* The JSON type of a write-side field, from how it is parsed. */
static void write_type(gen *g, const fmeta *m, const ob_resource *res)
{
    ob_json *j = g->j;
    switch (m->w->kind) {
    case OB_W_TEXT:
    case OB_W_USER:
    case OB_W_ROLE:
    case OB_W_PERM:
    case OB_W_SCOPE_TYPE:
    case OB_W_LANGUAGE:
        ob_json_kv_string(j, "type", "string");
        break;
    case OB_W_BOOL:
        ob_json_kv_string(j, "type", "boolean");
        break;
    case OB_W_INT:
    case OB_W_INT_REF:
        ob_json_kv_string(j, "type", "integer");
        break;
    case OB_W_NUMBER:
        ob_json_kv_string(j, "type", "number");
        break;
    case OB_W_DATETIME:
        ob_json_kv_string(j, "type", "string");
        ob_json_kv_string(j, "format", "date-time");
        break;
    case OB_W_UUID_REF:
    case OB_W_SCOPE_UUID:
        ob_json_kv_string(j, "type", "string");
        ob_json_kv_string(j, "format", "uuid");
        break;
    case OB_W_PERM_LIST:
    case OB_W_GROUP_LIST:
        string_array(j);
        break;
    case OB_W_JSON:
        ob_json_kv_string(j, "description", "Any JSON value.");
        break;
    case OB_W_OBJECT_LIST:
        object_array(g, m->w, res);
        break;
    case OB_W_FILE:
    case OB_W_CUSTOM:
        if (m->f)
            read_type(g, m, res, true);
        break;
    default:
        ob_json_kv_string(j, "x-openbook-type", ob_arena_printf(g->a, "unknown-%d", (int)m->w->kind));
        break;
    }
}

/* The collection and key a natural-key reference names. */
static void ref_of_kind(const ob_wfield *w, const char **coll, const char **key)
{
    switch (w ? w->kind : 0) {
    case OB_W_USER:
        *coll = "auth/users", *key = "username";
        break;
    case OB_W_ROLE:
        *coll = "auth/roles", *key = "slug";
        break;
    case OB_W_PERM:
    case OB_W_PERM_LIST:
        *coll = "auth/permissions", *key = "perm_string";
        break;
    case OB_W_GROUP_LIST:
        *coll = "auth/groups", *key = "slug";
        break;
    case OB_W_SCOPE_TYPE:
        *coll = "auth/scope_types", *key = "id";
        break;
    case OB_W_LANGUAGE:
        *coll = "core/languages", *key = "language";
        break;
    default:
        break;
    }
}

/* The collection a reference names items of, and the field of those items
 * that a plain (unexpanded) reference shows.  References compare their
 * stored key with the target's ref_sql; when a field of the target shows
 * that expression and the reference is shown as the same type (or is a
 * list), that field is the natural key (permissions: perm_string);
 * otherwise the target's key (users: the username, though id is stored). */
static void ref_target(const ob_resource *target, const ob_field *from, const char **coll,
                       const char **key)
{
    bool listed = ob_api_listed(target);
    *coll = !listed ? NULL : target->shape_of ? coll_of(target->shape_of) : coll_of(target);
    *key = target->pk ? target->pk->name : NULL;
    const ob_field *f = target->ref_sql
                            ? field_by_sql(target, target->ref_sql, strlen(target->ref_sql))
                            : NULL;
    if (f && (!from || from->type == OB_FT_JSON || from->type == f->type))
        *key = f->name;
    /* A reference shown through a join ("tr.slug": a role by its slug
     * within the scope) names the target by that column of its own row. */
    const char *dot = from && from->type != OB_FT_JSON ? strchr(from->sql, '.') : NULL;
    if (dot && !(dot - from->sql == 1 && from->sql[0] == 't')) {
        char own[128];
        int n = snprintf(own, sizeof own, "t%s", dot);
        const ob_field *g = n > 0 && (size_t)n < sizeof own ? field_by_sql(target, own, (size_t)n)
                                                            : NULL;
        if (g && g->type == from->type)
            *key = g->name;
    }
}

static const char *format_name(ob_format f)
{
    switch (f) {
    case OB_FMT_URL:
        return "uri";
    case OB_FMT_EMAIL:
        return "email";
    default:
        return NULL;
    }
}

/* The format's own name, for the messages of api-conventions.md §4. */
static const char *format_label(ob_format f)
{
    switch (f) {
    case OB_FMT_NONE:
        return NULL;
    case OB_FMT_SLUG:
        return "slug";
    case OB_FMT_URL:
        return "url";
    case OB_FMT_EMAIL:
        return "email";
    case OB_FMT_COLOR:
        return "color";
    case OB_FMT_USERNAME:
        return "username";
    default:
        return "unknown";
    }
}

static const char *format_pattern(ob_format f)
{
    switch (f) {
    case OB_FMT_SLUG:
        return "^[-a-zA-Z0-9_]+$";
    case OB_FMT_COLOR:
        return "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$";
    case OB_FMT_USERNAME:
        return "^[A-Za-z0-9@.+_-]+$";
    default:
        return NULL;
    }
}

/* Type, constraints, nullability and reference of one property. */
static void property_body(gen *g, const fmeta *m, const ob_resource *res, bool request)
{
    ob_json *j = g->j;
    const ob_wfield *w = m->w;
    if (request || !m->f) {
        write_type(g, m, res);
    } else if (is_list_kind(w)) {
        string_array(j);
    } else if (w && w->kind == OB_W_OBJECT_LIST && !(m->ref && m->ref->expand)) {
        object_array(g, w, res); /* shown as written (an expansion shows its target) */
    } else {
        read_type(g, m, res, false);
    }
    if (w) {
        bool text = w->kind == OB_W_TEXT;
        if (format_name(w->format))
            ob_json_kv_string(j, "format", format_name(w->format));
        if (format_pattern(w->format))
            ob_json_kv_string(j, "pattern", format_pattern(w->format));
        if (format_label(w->format))
            ob_json_kv_string(j, "x-openbook-format", format_label(w->format));
        if (text && w->max_len > 0)
            ob_json_kv_int(j, "maxLength", w->max_len);
        if (text && w->min_len > 0)
            ob_json_kv_int(j, "minLength", w->min_len);
        if (w->choices) {
            list_begin(g, "enum");
            for (size_t i = 0; w->choices[i]; i++)
                ob_json_string(j, w->choices[i]);
            ob_json_array_end(j);
        }
        if ((w->kind == OB_W_INT || w->kind == OB_W_NUMBER) && w->has_min)
            ob_json_kv_int(j, "minimum", w->min);
        if (w->kind == OB_W_INT && w->has_max)
            ob_json_kv_int(j, "maximum", w->max);
        if (w->kind == OB_W_JSON && w->json_max_bytes)
            ob_json_kv_int(j, "x-openbook-max-bytes", (int64_t)w->json_max_bytes);
        if (w->kind == OB_W_JSON && w->json_max_depth)
            ob_json_kv_int(j, "x-openbook-max-depth", w->json_max_depth);
    }
    bool nullable = request ? (w && (w->flags & OB_WF_NULL)) : m->nullable;
    flag(j, "nullable", nullable);

    /* Natural-key references: what the value names. */
    const char *rc = NULL, *rk = NULL;
    if (m->ref && m->ref->expand)
        ref_target(m->ref->expand, m->f, &rc, &rk);
    ref_of_kind(w, &rc, &rk);
    if (rc || rk) {
        ob_json_key(j, "x-openbook-ref");
        ob_json_object_begin(j);
        key_string_or_null(j, "resource", rc);
        key_string_or_null(j, "key", rk);
        ob_json_object_end(j);
    }
    if (w && w->kind == OB_W_SCOPE_UUID)
        flag(j, "x-openbook-scope-uuid", true);
}

static void response_property(gen *g, const ob_resource *res, const fmeta *m)
{
    ob_json *j = g->j;
    const ob_wfield *w = m->w;
    ob_json_key(j, m->name);
    ob_json_object_begin(j);
    property_body(g, m, res, false);
    flag(j, "readOnly", !w);
    flag(j, "x-openbook-admin", (m->f->flags & OB_FF_ADMIN) != 0);
    flag(j, "x-openbook-expand-only", (m->f->flags & OB_FF_EXPAND_ONLY) != 0);
    flag(j, "x-openbook-admin-write", w && (w->flags & OB_WF_SUPERUSER));
    flag(j, "x-openbook-create-only", w && (w->flags & OB_WF_CREATE_ONLY));
    flag(j, "x-openbook-shown-once", m->note && (m->note->flags & OB_NOTE_SHOWN_ONCE));
    if (m->ref && m->ref->expand && m->ref->key_sql)
        ob_json_kv_string(j, "x-openbook-expand", schema_ref(g, schema_name(g, m->ref->expand)));
    ob_json_object_end(j);
}

static void response_schema(gen *g, const ob_resource *e, const ob_resource *res,
                            const char *name)
{
    ob_json *j = g->j;
    ob_json_key(j, name);
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", "object");
    if (e && e->summary)
        ob_json_kv_string(j, "description", e->summary);
    ob_json_key(j, "properties");
    ob_json_object_begin(j);
    for (size_t i = 0; i < res->nfields; i++) {
        fmeta m = meta(e, res, &res->fields[i], NULL);
        response_property(g, res, &m);
    }
    ob_json_object_end(j);
    /* Every field is always present, except the admin ones and those
     * shown only when expanded. */
    list_begin(g, "required");
    for (size_t i = 0; i < res->nfields; i++)
        if (!(res->fields[i].flags & (OB_FF_ADMIN | OB_FF_EXPAND_ONLY)))
            ob_json_string(j, res->fields[i].name);
    ob_json_array_end(j);
    ob_json_object_end(j);
}

/* The body of a create or PUT; patch: of a PATCH (nothing required, no
 * create-only fields).  In the order the description validates them. */
static void request_schema(gen *g, const ob_resource *e, const ob_resource *res,
                           const char *name, bool patch)
{
    ob_json *j = g->j;
    size_t n;
    const ob_wfield *ws = wfields_of(res, &n);
    ob_json_key(j, name);
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", "object");
    ob_json_key(j, "properties");
    ob_json_object_begin(j);
    for (size_t i = 0; i < n; i++) {
        const ob_wfield *w = &ws[i];
        if (!w->name || (patch && (w->flags & OB_WF_CREATE_ONLY)))
            continue;
        const ob_field *f = field_named(res, w->name);
        fmeta m = meta(e, res, f, w);
        ob_json_key(j, w->name);
        ob_json_object_begin(j);
        property_body(g, &m, res, true);
        flag(j, "writeOnly", !f || (w->flags & OB_WF_WRITE_ONLY));
        flag(j, "x-openbook-admin-write", (w->flags & OB_WF_SUPERUSER) != 0);
        flag(j, "x-openbook-create-only", (w->flags & OB_WF_CREATE_ONLY) != 0);
        flag(j, "x-openbook-update-optional", (w->flags & OB_WF_UPDATE_OPTIONAL) != 0);
        /* (A choice refuses "" as a bad choice instead.) */
        flag(j, "x-openbook-not-blank",
             w->kind == OB_W_TEXT && !(w->flags & OB_WF_BLANK) && !w->choices);
        flag(j, "x-openbook-no-trim", (w->flags & OB_WF_NO_TRIM) != 0);
        flag(j, "x-openbook-whitelisted", (w->flags & OB_WF_WHITELIST) != 0);
        if (w->def)
            ob_json_kv_string(j, "x-openbook-default", w->def);
        ob_json_object_end(j);
    }
    ob_json_object_end(j);
    if (!patch) {
        list_begin(g, "required");
        for (size_t i = 0; i < n; i++)
            if (ws[i].name && (ws[i].flags & OB_WF_REQUIRED))
                ob_json_string(j, ws[i].name);
        ob_json_array_end(j);
    }
    ob_json_object_end(j);
}

static void paginated_schema(gen *g, const char *name)
{
    ob_json *j = g->j;
    ob_json_key(j, ob_arena_printf(g->a, "Paginated%sList", name));
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", "object");
    list_begin(g, "required");
    ob_json_string(j, "count");
    ob_json_string(j, "next");
    ob_json_string(j, "previous");
    ob_json_string(j, "results");
    ob_json_array_end(j);
    ob_json_key(j, "properties");
    ob_json_object_begin(j);
    ob_json_key(j, "count");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", "integer");
    ob_json_object_end(j);
    static const char *const links[] = {"next", "previous"};
    for (size_t i = 0; i < 2; i++) {
        ob_json_key(j, links[i]);
        ob_json_object_begin(j);
        ob_json_kv_string(j, "type", "string");
        ob_json_kv_string(j, "format", "uri");
        flag(j, "nullable", true);
        ob_json_object_end(j);
    }
    ob_json_key(j, "results");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", "array");
    ob_json_key(j, "items");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "$ref", schema_ref(g, name));
    ob_json_object_end(j);
    ob_json_object_end(j);
    ob_json_object_end(j);
    ob_json_object_end(j);
}

/* ---- operations ---- */

static void json_content(gen *g, const char *schema)
{
    ob_json *j = g->j;
    ob_json_key(j, "content");
    ob_json_object_begin(j);
    ob_json_key(j, "application/json");
    ob_json_object_begin(j);
    ob_json_key(j, "schema");
    ob_json_object_begin(j);
    if (schema)
        ob_json_kv_string(j, "$ref", schema_ref(g, schema));
    ob_json_object_end(j);
    ob_json_object_end(j);
    ob_json_object_end(j);
}

static void response(gen *g, int status, const char *description, const char *schema)
{
    ob_json *j = g->j;
    ob_json_key(j, ob_arena_printf(g->a, "%d", status));
    ob_json_object_begin(j);
    ob_json_kv_string(j, "description", description);
    if (status != 204)
        json_content(g, schema);
    ob_json_object_end(j);
}

static void security(gen *g, bool login)
{
    ob_json *j = g->j;
    static const char *const schemes[] = {"tokenAuth", "appSessionAuth", "sessionAuth"};
    list_begin(g, "security");
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++) {
        ob_json_object_begin(j);
        ob_json_key(j, schemes[i]);
        ob_json_array_begin(j);
        ob_json_array_end(j);
        ob_json_object_end(j);
    }
    if (!login) { /* anonymous callers too */
        ob_json_object_begin(j);
        ob_json_object_end(j);
    }
    ob_json_array_end(j);
}

/* Opens a query parameter object; the caller may add extensions and
 * closes it. */
static void query_param(gen *g, const char *name, const char *type, const char *format,
                        const char *description)
{
    ob_json *j = g->j;
    ob_json_object_begin(j);
    ob_json_kv_string(j, "name", name);
    ob_json_kv_string(j, "in", "query");
    ob_json_key(j, "required");
    ob_json_bool(j, false);
    if (description)
        ob_json_kv_string(j, "description", description);
    ob_json_key(j, "schema");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", type);
    if (format)
        ob_json_kv_string(j, "format", format);
    ob_json_object_end(j);
}

static void field_names(gen *g, const ob_resource *res, unsigned flag_mask)
{
    ob_json_array_begin(g->j);
    for (size_t i = 0; i < res->nfields; i++)
        if (res->fields[i].flags & flag_mask)
            ob_json_string(g->j, res->fields[i].name);
    ob_json_array_end(g->j);
}

static bool any_flag(const ob_resource *res, unsigned flag_mask)
{
    for (size_t i = 0; i < res->nfields; i++)
        if (res->fields[i].flags & flag_mask)
            return true;
    return false;
}

static bool expandable(const ob_resource *res, const ob_field *f)
{
    const ob_field_ref *ref = ref_of(res, f->name);
    return ref && ref->expand && ref->key_sql;
}

/* What _expand may name: references, and fields shown only when named
 * there (auth config translations, current_user permissions). */
static bool expand_name(const ob_resource *res, const ob_field *f)
{
    return expandable(res, f) || (f->flags & OB_FF_EXPAND_ONLY);
}

static bool any_expand(const ob_resource *res)
{
    for (size_t i = 0; i < res->nfields; i++)
        if (expand_name(res, &res->fields[i]))
            return true;
    return false;
}

static void shaping_params(gen *g, const ob_resource *res)
{
    ob_json *j = g->j;
    query_param(g, "_fields", "string", NULL,
                "Comma-separated fields to return; dotted paths reach expanded items.");
    ob_json_object_end(j);
    query_param(g, "_omit", "string", NULL, "Comma-separated fields to leave out.");
    ob_json_object_end(j);
    if (any_expand(res)) {
        query_param(g, "_expand", "string", NULL,
                    "Comma-separated references to replace by the referenced item.");
        list_begin(g, "x-openbook-fields");
        for (size_t i = 0; i < res->nfields; i++)
            if (expand_name(res, &res->fields[i]))
                ob_json_string(j, res->fields[i].name);
        ob_json_array_end(j);
        ob_json_object_end(j);
    }
}

static bool custom_filter_named(const ob_resource *res, const char *name)
{
    for (size_t i = 0; res->filters && i < res->nfilters; i++)
        if (res->filters[i].name && strcmp(res->filters[i].name, name) == 0)
            return true;
    return false;
}

/* One field filter (api-conventions.md §7.3), read as query.c's
 * filter_sql reads it.  The resource's own filters win over a field
 * filter of the same name, as there. */
static void field_filter(gen *g, const ob_resource *res, const ob_field *f, const char *suffix,
                         const char *lookup)
{
    ob_json *j = g->j;
    const char *name = ob_arena_printf(g->a, "%s%s", f->name, suffix);
    if (custom_filter_named(res, name))
        return;
    bool substr = strcmp(lookup, "icontains") == 0;
    const char *type = "string", *format = NULL;
    if (!substr && f->type == OB_FT_INT)
        type = "integer";
    else if (!substr && f->type == OB_FT_BOOL)
        type = "boolean";
    else if (!substr && f->type == OB_FT_DATETIME)
        format = "date-time";
    query_param(g, name, type, format, NULL);
    ob_json_key(j, "x-openbook-filter");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "field", f->name);
    ob_json_kv_string(j, "lookup", lookup);
    ob_json_object_end(j);
    flag(j, "x-openbook-admin", (f->flags & OB_FF_ADMIN) != 0);
    ob_json_object_end(j);
}

/* The resource's own filters (res->filters). */
static void custom_filters(gen *g, const ob_resource *res)
{
    ob_json *j = g->j;
    for (size_t i = 0; res->filters && i < res->nfilters; i++) {
        const ob_filter *f = &res->filters[i];
        if (!f->name)
            continue;
        const char *type = "string", *format = NULL, *lookup;
        bool reference = false;
        switch (f->kind) {
        case OB_FILT_TEXT:
            lookup = "exact";
            break;
        case OB_FILT_SUBSTR:
            lookup = "icontains";
            break;
        case OB_FILT_UUID:
            lookup = "exact";
            format = "uuid";
            break;
        case OB_FILT_INT:
            lookup = "exact";
            type = "integer";
            break;
        case OB_FILT_ISNULL:
            lookup = "isnull";
            type = "boolean";
            break;
        case OB_FILT_REF:
            lookup = "exact";
            format = "uuid";
            reference = true;
            break;
        case OB_FILT_INT_REF:
            lookup = "exact";
            type = "integer";
            reference = true;
            break;
        default:
            lookup = ob_arena_printf(g->a, "unknown-%d", (int)f->kind);
            break;
        }
        query_param(g, f->name, type, format, NULL);
        ob_json_key(j, "x-openbook-filter");
        ob_json_object_begin(j);
        /* The field it is about, when the name starts with one and goes on
         * with a lookup of that field's own value (parent__isnull,
         * parent__id); parent__name__icontains is about the related item's
         * name, which the answer does not show. */
        const char *sep = strstr(f->name, "__");
        size_t n = sep ? (size_t)(sep - f->name) : strlen(f->name);
        static const char *const own[] = {"id", "exact", "icontains", "isnull", "lte", "gte",
                                          NULL};
        bool about_field = !sep;
        for (size_t k = 0; sep && own[k]; k++)
            about_field = about_field || strcmp(sep + 2, own[k]) == 0;
        const ob_field *fld = NULL;
        for (size_t k = 0; about_field && k < res->nfields && !fld; k++)
            if (strlen(res->fields[k].name) == n && strncmp(res->fields[k].name, f->name, n) == 0)
                fld = &res->fields[k];
        key_string_or_null(j, "field", fld ? fld->name : NULL);
        ob_json_kv_string(j, "lookup", lookup);
        flag(j, "custom", true);
        /* A bad value is "Select a valid choice..." (api-conventions.md §7.3). */
        flag(j, "reference", reference);
        ob_json_object_end(j);
        ob_json_object_end(j);
    }
}

static void list_params(gen *g, const ob_resource *res)
{
    ob_json *j = g->j;
    query_param(g, "_page", "string", NULL, "1-based page number, or `last`.");
    ob_json_object_end(j);
    query_param(g, "_page_size", "integer", NULL,
                "Rows per page; clamped at the configured maximum.");
    ob_json_object_end(j);
    if (any_flag(res, OB_FF_SEARCH) || (res->search_sql && res->search_sql[0])) {
        query_param(g, "_search", "string", NULL,
                    "Terms (white space or commas; \"quoted\" keeps spaces); every term must "
                    "occur in one of the search fields.");
        ob_json_key(j, "x-openbook-fields");
        field_names(g, res, OB_FF_SEARCH);
        ob_json_object_end(j);
    }
    if (any_flag(res, OB_FF_SORT)) {
        query_param(g, "_sort", "string", NULL,
                    "Comma-separated field names, `-` for descending; unknown names are "
                    "ignored.");
        ob_json_key(j, "x-openbook-fields");
        field_names(g, res, OB_FF_SORT);
        ob_json_object_end(j);
    }
    shaping_params(g, res);
    custom_filters(g, res);
    for (size_t i = 0; i < res->nfields; i++) {
        const ob_field *f = &res->fields[i];
        if (f->flags & OB_FF_SUBSTR)
            field_filter(g, res, f, "", "icontains");
        else if (f->flags & OB_FF_EQ)
            field_filter(g, res, f, "", "exact");
        if (f->flags & (OB_FF_ICONTAINS | OB_FF_SUBSTR))
            field_filter(g, res, f, "__icontains", "icontains");
        if (f->flags & OB_FF_RANGE) {
            field_filter(g, res, f, "__lte", "lte");
            field_filter(g, res, f, "__gte", "gte");
        }
    }
}

static void key_param(gen *g, const ob_resource *res, const char *name)
{
    ob_json *j = g->j;
    ob_json_object_begin(j);
    ob_json_kv_string(j, "name", name);
    ob_json_kv_string(j, "in", "path");
    ob_json_key(j, "required");
    ob_json_bool(j, true);
    ob_json_key(j, "schema");
    ob_json_object_begin(j);
    if (res->pk_is_int) {
        ob_json_kv_string(j, "type", "integer");
    } else {
        ob_json_kv_string(j, "type", "string");
        if (res->pk_is_uuid)
            ob_json_kv_string(j, "format", "uuid");
        else if (res->pk_max_len)
            ob_json_kv_int(j, "maxLength", (int64_t)res->pk_max_len);
    }
    ob_json_object_end(j);
    ob_json_object_end(j);
}

static bool has_writes(const ob_resource *res)
{
    size_t n;
    wfields_of(res, &n);
    return n > 0;
}

static const char *name_of(const ob_resource *e)
{
    return e->schema_name ? e->schema_name : e->class_name;
}

/* An operation of a registered resource at its collection or item path. */
static void resource_operation(gen *g, const placed *p, const ob_route *rt, unsigned m, op o)
{
    ob_json *j = g->j;
    const ob_resource *e = p->e;
    const ob_resource *res = e;
    const char *name = name_of(e);
    bool login = needs_login(rt, m);

    ob_json_key(j, lower(g, ob_method_name((ob_method)m)));
    ob_json_object_begin(j);
    ob_json_kv_string(j, "operationId",
                      ob_arena_printf(g->a, "%s_%s", ident(g, coll_of(e)), ops[o].name));
    ob_json_kv_string(j, "summary", ops[o].summary);
    list_begin(g, "tags");
    ob_json_string(j, ob_arena_strndup(g->a, coll_of(e), strcspn(coll_of(e), "/")));
    ob_json_array_end(j);
    security(g, login);
    ob_json_kv_string(j, "x-openbook-operation", ops[o].name);
    ob_json_kv_string(j, "x-openbook-access", login ? "login" : "anon");
    ob_json_kv_string(j, "x-openbook-permission", perm(g, res, ops[o].action));
    const char *gate = gate_name(gate_of(res, o));
    if (gate)
        ob_json_kv_string(j, "x-openbook-gate", gate);

    list_begin(g, "parameters");
    if (o != OP_LIST && o != OP_CREATE && p->key_param)
        key_param(g, res, p->key_param);
    if (o == OP_LIST)
        list_params(g, res);
    else if (o != OP_DESTROY)
        shaping_params(g, res);
    ob_json_array_end(j);

    bool body = o == OP_CREATE || o == OP_UPDATE || o == OP_PARTIAL_UPDATE;
    if (body && has_writes(res)) {
        ob_json_key(j, "requestBody");
        ob_json_object_begin(j);
        ob_json_key(j, "required");
        ob_json_bool(j, true);
        ob_json_key(j, "content");
        ob_json_object_begin(j);
        const char *schema = ob_arena_printf(g->a, "%s%sRequest",
                                             o == OP_PARTIAL_UPDATE ? "Patched" : "", name);
        bool files = false;
        for (size_t i = 0; i < res->nfields; i++)
            files = files || (res->fields[i].type == OB_FT_FILE &&
                              wfield_of(res, res->fields[i].name));
        for (int k = 0; k < (files ? 2 : 1); k++) {
            ob_json_key(j, k ? "multipart/form-data" : "application/json");
            ob_json_object_begin(j);
            ob_json_key(j, "schema");
            ob_json_object_begin(j);
            ob_json_kv_string(j, "$ref", schema_ref(g, schema));
            ob_json_object_end(j);
            ob_json_object_end(j);
        }
        ob_json_object_end(j);
        ob_json_object_end(j);
    }

    ob_json_key(j, "responses");
    ob_json_object_begin(j);
    switch (o) {
    case OP_LIST:
        response(g, 200, "A page of the items the requester may view.",
                 ob_arena_printf(g->a, "Paginated%sList", name));
        response(g, 400, "A filter value is invalid.", "ValidationError");
        response(g, 404, "Invalid page.", "Error");
        break;
    case OP_CREATE:
        response(g, 201, "The created item.", name);
        response(g, 400, "Invalid input.", "ValidationError");
        response(g, 404, "The requester could not view the would-be item.", "Error");
        break;
    case OP_DESTROY:
        response(g, 204, "Deleted.", NULL);
        response(g, 404, "No such item, or not visible.", "Error");
        break;
    case OP_UPDATE:
    case OP_PARTIAL_UPDATE:
        response(g, 200, "The item.", name);
        response(g, 400, "Invalid input.", "ValidationError");
        response(g, 404, "No such item, or not visible.", "Error");
        break;
    default:
        response(g, 200, "The item.", name);
        if (e->kind == OB_RES_COLLECTION)
            response(g, 404, "No such item, or not visible.", "Error");
        break;
    }
    if (login || gate || o != OP_LIST)
        response(g, 403, login ? "Not logged in, or not allowed." : "Not allowed.", "Error");
    ob_json_object_end(j);
    ob_json_object_end(j);
}

/* Known paths that are not resources: a word on what they answer. */
static const char *plain_summary(const ob_route *rt)
{
    if (strcmp(rt->pattern, "/api/") == 0)
        return "The API root: every collection name mapped to its absolute URL.";
    if (strcmp(rt->pattern, "/api/schema/") == 0)
        return "This document (OpenAPI 3; `?format=yaml` for YAML).";
    if (strcmp(rt->pattern, "/api/core/sites/health/") == 0)
        return "Health: {\"status\": \"GOOD\"} when the database answers, else 503 BAD.";
    if (strcmp(rt->pattern, "/api/core/html_library/install/") == 0)
        return "Installs an HTML component library archive (multipart: file, force, replace; "
               "staff + add_htmllibraryversion): the version, plus warnings.";
    return NULL;
}

static void plain_operation(gen *g, const ob_route *rt, unsigned m, const placed *owner)
{
    ob_json *j = g->j;
    const char *mname = lower(g, ob_method_name((ob_method)m));
    const char *path = rt->pattern + 5; /* after "/api/" */
    bool login = needs_login(rt, m);
    ob_json_key(j, mname);
    ob_json_object_begin(j);
    ob_json_kv_string(j, "operationId",
                      ob_arena_printf(g->a, "%s_%s", *path ? ident(g, path) : "root", mname));
    const char *summary = plain_summary(rt);
    if (summary)
        ob_json_kv_string(j, "summary", summary);
    list_begin(g, "tags");
    ob_json_string(j, *path ? ob_arena_strndup(g->a, path, strcspn(path, "/")) : "root");
    ob_json_array_end(j);
    security(g, login);
    ob_json_kv_string(j, "x-openbook-access", login ? "login" : "anon");
    if (owner)
        ob_json_kv_string(j, "x-openbook-action-of", coll_of(owner->e));
    ob_json_key(j, "responses");
    ob_json_object_begin(j);
    ob_json_key(j, "default");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "description", "A JSON answer.");
    ob_json_key(j, "content");
    ob_json_object_begin(j);
    int types = strcmp(rt->pattern, "/api/schema/") == 0 ? 2 : 1;
    for (int k = 0; k < types; k++) {
        ob_json_key(j, k ? "application/yaml" : "application/json");
        ob_json_object_begin(j);
        ob_json_key(j, "schema");
        ob_json_object_begin(j);
        ob_json_object_end(j);
        ob_json_object_end(j);
    }
    ob_json_object_end(j);
    ob_json_object_end(j);
    ob_json_object_end(j);
    ob_json_object_end(j);
}

/* The registered resource a pattern belongs to, and as what. */
typedef enum { ROLE_NONE, ROLE_COLLECTION, ROLE_ITEM, ROLE_ACTION } role;

static role role_of(const placed *pl, size_t npl, const char *pattern, const placed **out)
{
    const placed *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < npl; i++) {
        if (!pl[i].coll)
            continue;
        if (strcmp(pl[i].coll->pattern, pattern) == 0) {
            *out = &pl[i];
            return ROLE_COLLECTION;
        }
        if (pl[i].item && strcmp(pl[i].item->pattern, pattern) == 0) {
            *out = &pl[i];
            return ROLE_ITEM;
        }
        size_t n = strlen(pl[i].coll->pattern);
        if (strncmp(pattern, pl[i].coll->pattern, n) == 0 && n > best_len) {
            best = &pl[i];
            best_len = n;
        }
    }
    *out = best;
    return best ? ROLE_ACTION : ROLE_NONE;
}

static void path_params(gen *g, const char *pattern)
{
    ob_json *j = g->j;
    list_begin(g, "parameters");
    for (const char *s = strchr(pattern, '{'); s; s = strchr(s + 1, '{')) {
        const char *close = strchr(s, '}');
        if (!close)
            break;
        ob_json_object_begin(j);
        ob_json_kv_string(j, "name", ob_arena_strndup(g->a, s + 1, (size_t)(close - s - 1)));
        ob_json_kv_string(j, "in", "path");
        ob_json_key(j, "required");
        ob_json_bool(j, true);
        ob_json_key(j, "schema");
        ob_json_object_begin(j);
        ob_json_kv_string(j, "type", "string");
        ob_json_object_end(j);
        ob_json_object_end(j);
    }
    ob_json_array_end(j);
}

static bool first_of_pattern(const gen *g, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (strcmp(g->routes[k].pattern, g->routes[i].pattern) == 0)
            return false;
    return true;
}

static void paths(gen *g, const placed *pl, size_t npl)
{
    ob_json *j = g->j;
    ob_json_key(j, "paths");
    ob_json_object_begin(j);
    for (size_t i = 0; i < g->nroutes; i++) {
        const char *pattern = g->routes[i].pattern;
        /* /auth-api/ has its own envelope and document (api-auth.md). */
        if (strncmp(pattern, "/api/", 5) != 0 || !first_of_pattern(g, i))
            continue;
        const placed *p = NULL;
        role ro = role_of(pl, npl, pattern, &p);
        bool item = ro == ROLE_ITEM;
        bool res_path = ro == ROLE_COLLECTION || ro == ROLE_ITEM;
        unsigned methods = pattern_methods(g, pattern);
        ob_json_key(j, pattern);
        ob_json_object_begin(j);
        if (res_path)
            ob_json_kv_string(j, "x-openbook-resource", coll_of(p->e));
        /* Resource operations declare their key themselves. */
        bool keyed = item && p->e && p->e->kind == OB_RES_COLLECTION;
        if (!keyed && strchr(pattern, '{'))
            path_params(g, pattern);
        for (size_t k = 0; k < sizeof doc_methods / sizeof *doc_methods; k++) {
            unsigned m = doc_methods[k];
            if (!(methods & m))
                continue;
            const ob_route *rt = pattern_route(g, pattern, m);
            int o = res_path ? op_of(p, item, m) : -1;
            if (o >= 0 && !offers(g, p, item, m))
                continue; /* routed, but the resource answers 405 */
            if (o >= 0)
                resource_operation(g, p, rt, m, (op)o);
            else
                plain_operation(g, rt, m, ro == ROLE_ACTION ? p : NULL);
        }
        ob_json_object_end(j);
    }
    ob_json_object_end(j);
}

/* ---- x-openbook-resources ---- */

/* The default ordering as field names ("-name" descending), read from the
 * SQL of the description; it stops at the first part no field shows, so
 * what it gives is always a true prefix of the ordering. */
static void default_ordering(gen *g, const ob_resource *res)
{
    ob_json *j = g->j;
    ob_json_array_begin(j);
    const char *s = res->default_order ? res->default_order : "";
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t n = strcspn(s, ",");
        const char *part = s;
        s += n;
        while (n && part[n - 1] == ' ')
            n--;
        if (!n)
            continue;
        bool desc = false;
        if (n > 5 && strncasecmp(part + n - 5, " DESC", 5) == 0) {
            desc = true;
            n -= 5;
        } else if (n > 4 && strncasecmp(part + n - 4, " ASC", 4) == 0) {
            n -= 4;
        }
        const ob_field *f = field_by_sql(res, part, n);
        for (size_t i = 0; !f && res->refs && i < res->nrefs; i++) {
            const char *sq = res->refs[i].sort_sql;
            if (sq && strlen(sq) == n && strncmp(sq, part, n) == 0)
                f = field_named(res, res->refs[i].field);
        }
        if (!f)
            break;
        ob_json_string(j, ob_arena_printf(g->a, "%s%s", desc ? "-" : "", f->name));
    }
    ob_json_array_end(j);
}

/* What makes a row the requester's own (rules U and T): the output field
 * that shows self_sql, and which attribute of the user it shows. */
static void self_rule(gen *g, const ob_resource *res)
{
    ob_json *j = g->j;
    const char *field = NULL, *user_key = NULL;
    if (res->self_sql) {
        const ob_field *f = field_by_sql(res, res->self_sql, strlen(res->self_sql));
        if (f) {
            field = f->name;
            user_key = "id";
        }
        for (size_t i = 0; !field && res->refs && i < res->nrefs; i++) {
            const ob_field_ref *ref = &res->refs[i];
            if (ref->key_sql && strcmp(ref->key_sql, res->self_sql) == 0 && ref->expand &&
                ref->expand->pk) {
                field = ref->field;
                user_key = ref->expand->pk->name;
            }
        }
    }
    ob_json_key(j, "self");
    ob_json_object_begin(j);
    key_string_or_null(j, "field", field);
    key_string_or_null(j, "user_key", user_key);
    key_string_or_null(j, "permission",
                       res->self_perm
                           ? ob_arena_printf(g->a, "%s.%s", res->app_label, res->self_perm)
                           : NULL);
    ob_json_object_end(j);
}

/* A collection written by hand without a description: where it is, who
 * may call it, and that its list is a plain array. */
static void array_summary(gen *g, const placed *p)
{
    ob_json *j = g->j;
    ob_json_key(j, coll_of(p->e));
    ob_json_object_begin(j);
    ob_json_kv_string(j, "kind", "array");
    if (p->e->summary)
        ob_json_kv_string(j, "summary", p->e->summary);
    key_string_or_null(j, "collection_path", p->coll ? p->coll->pattern : NULL);
    key_string_or_null(j, "item_path", p->item ? p->item->pattern : NULL);
    ob_json_kv_string(j, "access", p->coll ? access_name(p->coll->access) : "login");
    list_begin(g, "operations");
    if (p->coll && (pattern_methods(g, p->coll->pattern) & OB_GET))
        ob_json_string(j, ops[OP_LIST].name);
    if (p->item && (pattern_methods(g, p->item->pattern) & OB_GET))
        ob_json_string(j, ops[OP_RETRIEVE].name);
    ob_json_array_end(j);
    ob_json_object_end(j);
}

static void resource_summary(gen *g, const placed *p, const placed *all, size_t nall)
{
    ob_json *j = g->j;
    const ob_resource *e = p->e;
    const ob_resource *res = e;
    if (res->kind == OB_RES_ARRAY) {
        array_summary(g, p);
        return;
    }
    const char *name = name_of(e);
    ob_json_key(j, coll_of(e));
    ob_json_object_begin(j);
    ob_json_kv_string(j, "kind", e->kind == OB_RES_SINGLE ? "single" : "collection");
    if (e->summary)
        ob_json_kv_string(j, "summary", e->summary);
    key_string_or_null(j, "collection_path", p->coll ? p->coll->pattern : NULL);
    key_string_or_null(j, "item_path", p->item ? p->item->pattern : NULL);
    ob_json_kv_string(j, "access", p->coll ? access_name(p->coll->access) : "login");
    ob_json_kv_string(j, "schema", schema_ref(g, name));
    if (has_writes(res)) {
        ob_json_kv_string(j, "request_schema",
                          schema_ref(g, ob_arena_printf(g->a, "%sRequest", name)));
        ob_json_kv_string(j, "patch_schema",
                          schema_ref(g, ob_arena_printf(g->a, "Patched%sRequest", name)));
    }
    ob_json_kv_string(j, "model", ob_arena_printf(g->a, "%s.%s", res->app_label, res->model));
    ob_json_kv_string(j, "class", res->class_name);
    key_string_or_null(j, "key", res->pk ? res->pk->name : NULL);
    ob_json_kv_string(j, "key_format",
                      res->pk_is_int ? "integer" : res->pk_is_uuid ? "uuid" : "string");
    if (res->pk_max_len)
        ob_json_kv_int(j, "key_max_length", (int64_t)res->pk_max_len);

    list_begin(g, "operations");
    for (int o = 0; o < NOPS; o++) {
        bool item = o == OP_RETRIEVE || o == OP_UPDATE || o == OP_PARTIAL_UPDATE ||
                    o == OP_DESTROY;
        static const unsigned method[NOPS] = {OB_GET, OB_POST, OB_GET, OB_PUT, OB_PATCH,
                                              OB_DELETE};
        if (e->kind == OB_RES_SINGLE)
            item = false;
        if (op_of(p, item, method[o]) == o && offers(g, p, item, method[o]))
            ob_json_string(j, ops[o].name);
    }
    ob_json_array_end(j);

    ob_json_key(j, "permissions");
    ob_json_object_begin(j);
    static const char *const actions[] = {"view", "add", "change", "delete"};
    for (size_t i = 0; i < 4; i++)
        ob_json_kv_string(j, actions[i], perm(g, res, actions[i]));
    ob_json_object_end(j);
    ob_json_key(j, "gates");
    ob_json_object_begin(j);
    for (int o = 0; o < NOPS; o++) {
        const char *gate = gate_name(gate_of(res, (op)o));
        if (gate)
            ob_json_kv_string(j, ops[o].name, gate);
    }
    ob_json_object_end(j);
    ob_json_kv_string(j, "guard", guard_name(g, res->guard));
    if (res->guard == OB_GUARD_SELF)
        self_rule(g, res);
    ob_json_key(j, "restricted");
    ob_json_bool(j, res->restrict_sql != NULL);

    ob_json_key(j, "search");
    field_names(g, res, OB_FF_SEARCH);
    ob_json_key(j, "search_beyond_fields");
    ob_json_bool(j, res->search_sql && res->search_sql[0]);
    ob_json_key(j, "sort");
    field_names(g, res, OB_FF_SORT);
    /* References sort by the stored key, not by the natural key shown. */
    list_begin(g, "sort_by_stored_key");
    for (size_t i = 0; i < res->nfields; i++) {
        const ob_field *f = &res->fields[i];
        const ob_field_ref *ref = ref_of(res, f->name);
        if ((f->flags & OB_FF_SORT) && ref && ref->sort_sql && strcmp(ref->sort_sql, f->sql) != 0)
            ob_json_string(j, f->name);
    }
    ob_json_array_end(j);
    ob_json_key(j, "default_ordering");
    default_ordering(g, res);

    ob_json_key(j, "expand");
    ob_json_object_begin(j);
    for (size_t i = 0; i < res->nfields; i++) {
        const ob_field *f = &res->fields[i];
        if (!expandable(res, f))
            continue;
        const ob_resource *t = ref_of(res, f->name)->expand;
        const char *rc, *rk;
        ref_target(t, f, &rc, &rk);
        ob_json_key(j, f->name);
        ob_json_object_begin(j);
        ob_json_kv_string(j, "schema", schema_ref(g, schema_name(g, t)));
        key_string_or_null(j, "resource", rc);
        key_string_or_null(j, "key", rk);
        /* A field of type JSON holds a list of keys (an id list). */
        flag(j, "many", f->type == OB_FT_JSON);
        ob_json_object_end(j);
    }
    ob_json_object_end(j);
    ob_json_key(j, "admin_fields");
    field_names(g, res, OB_FF_ADMIN);
    ob_json_key(j, "expand_only_fields");
    field_names(g, res, OB_FF_EXPAND_ONLY);

    list_begin(g, "uniques");
    for (size_t i = 0; res->uniques && i < res->nuniques; i++) {
        ob_json_object_begin(j);
        key_string_or_null(j, "field", res->uniques[i].field);
        key_string_or_null(j, "message", res->uniques[i].message);
        ob_json_object_end(j);
    }
    ob_json_array_end(j);

    list_begin(g, "actions");
    for (size_t i = 0; p->coll && i < g->nroutes; i++) {
        const char *pat = g->routes[i].pattern;
        const placed *owner = NULL;
        if (!first_of_pattern(g, i) || role_of(all, nall, pat, &owner) != ROLE_ACTION || owner != p)
            continue;
        ob_json_object_begin(j);
        ob_json_kv_string(j, "path", pat);
        list_begin(g, "methods");
        unsigned ms = pattern_methods(g, pat);
        for (size_t k = 0; k < sizeof doc_methods / sizeof *doc_methods; k++)
            if (ms & doc_methods[k])
                ob_json_string(j, ob_method_name((ob_method)doc_methods[k]));
        ob_json_array_end(j);
        ob_json_object_end(j);
    }
    ob_json_array_end(j);
    ob_json_object_end(j);
}

/* ---- components ---- */

static void note_extra(gen *g, const ob_resource *res)
{
    if (ob_api_listed(res))
        return;
    for (size_t i = 0; i < g->nextra; i++)
        if (g->extra[i] == res)
            return;
    if (g->nextra < MAX_SHAPES)
        g->extra[g->nextra++] = res;
}

static void note_targets(gen *g, const ob_resource *res)
{
    for (size_t k = 0; res->refs && k < res->nrefs; k++)
        if (res->refs[k].expand)
            note_extra(g, res->refs[k].expand);
}

static void fixed_schemas(gen *g)
{
    ob_json *j = g->j;
    ob_json_key(j, "Error");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", "object");
    ob_json_key(j, "properties");
    ob_json_object_begin(j);
    ob_json_key(j, "detail");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", "string");
    ob_json_object_end(j);
    ob_json_object_end(j);
    list_begin(g, "required");
    ob_json_string(j, "detail");
    ob_json_array_end(j);
    ob_json_object_end(j);

    ob_json_key(j, "ValidationError");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", "object");
    ob_json_kv_string(j, "description",
                      "Messages per field; `non_field_errors` for the whole object.");
    ob_json_key(j, "additionalProperties");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "type", "array");
    ob_json_key(j, "items");
    ob_json_object_begin(j);
    ob_json_object_end(j);
    ob_json_object_end(j);
    ob_json_object_end(j);
}

static void security_schemes(gen *g)
{
    ob_json *j = g->j;
    static const struct {
        const char *name, *in, *header, *description;
    } schemes[] = {
        {"tokenAuth", "header", "Authorization", "`Token <token>` (an API token)."},
        {"appSessionAuth", "header", "X-Session-Token", "An app session token."},
        {"sessionAuth", "cookie", "sessionid",
         "A browser session; unsafe methods need the X-CSRFToken header."},
    };
    ob_json_key(j, "securitySchemes");
    ob_json_object_begin(j);
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++) {
        ob_json_key(j, schemes[i].name);
        ob_json_object_begin(j);
        ob_json_kv_string(j, "type", "apiKey");
        ob_json_kv_string(j, "in", schemes[i].in);
        ob_json_kv_string(j, "name", schemes[i].header);
        ob_json_kv_string(j, "description", schemes[i].description);
        ob_json_object_end(j);
    }
    ob_json_object_end(j);
}

static void components(gen *g)
{
    ob_json *j = g->j;
    ob_json_key(j, "components");
    ob_json_object_begin(j);
    security_schemes(g);
    ob_json_key(j, "schemas");
    ob_json_object_begin(j);
    fixed_schemas(g);
    for (size_t i = 0; i < ob_api_nresources; i++) {
        const ob_resource *e = ob_api_resources[i];
        const ob_resource *res = e;
        if (res->kind == OB_RES_ARRAY)
            continue;
        const char *name = name_of(e);
        response_schema(g, e, res, name);
        if (e->kind == OB_RES_COLLECTION && coll_of(e))
            paginated_schema(g, name);
        if (has_writes(res)) {
            request_schema(g, e, res, ob_arena_printf(g->a, "%sRequest", name), false);
            request_schema(g, e, res, ob_arena_printf(g->a, "Patched%sRequest", name), true);
        }
        note_targets(g, res);
    }
    /* Targets of targets join the list while it is walked. */
    for (size_t i = 0; i < g->nextra; i++) {
        response_schema(g, NULL, g->extra[i], schema_name(g, g->extra[i]));
        note_targets(g, g->extra[i]);
    }
    ob_json_object_end(j);
    ob_json_object_end(j);
}

/* ---- the document ---- */

static void document(gen *g)
{
    ob_json *j = g->j;
    size_t npl = ob_api_nresources;
    placed *pl = ob_arena_calloc(g->a, npl ? npl : 1, sizeof *pl);
    for (size_t i = 0; i < npl; i++)
        pl[i] = place(g, ob_api_resources[i]);

    ob_json_object_begin(j);
    ob_json_kv_string(j, "openapi", "3.0.3");
    ob_json_key(j, "info");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "title", "OpenBook API");
    ob_json_kv_string(j, "version", OB_VERSION);
    ob_json_kv_string(j, "description",
                      "The REST API under /api/, generated from the resource descriptions "
                      "that drive it. x-openbook-* extensions carry permissions, guards, "
                      "natural keys, filters, search, ordering and expansion.");
    ob_json_object_end(j);
    list_begin(g, "servers");
    ob_json_object_begin(j);
    ob_json_kv_string(j, "url", "/");
    ob_json_object_end(j);
    ob_json_array_end(j);
    paths(g, pl, npl);
    components(g);
    ob_json_key(j, "x-openbook-resources");
    ob_json_object_begin(j);
    for (size_t i = 0; i < npl; i++)
        if (coll_of(pl[i].e) && pl[i].e->kind != OB_RES_SHAPE)
            resource_summary(g, &pl[i], pl, npl);
    ob_json_object_end(j);
    ob_json_object_end(j);
}

void ob_schema_write(ob_buf *out, const ob_route *table, size_t ntable)
{
    ob_arena a;
    ob_arena_init(&a, 16384);
    ob_json j;
    ob_json_init(&j, out);
    gen g = {.j = &j, .a = &a, .routes = table, .nroutes = table ? ntable : 0};
    document(&g);
    ob_arena_destroy(&a);
}
