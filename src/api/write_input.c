/* write_input.c - the body of a write: every writable field through the
 * validator (validate.c), then the lookups of the reference kinds (one
 * query per field, one per list), and the lists of objects. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/redis/events.h"
#include "openbook/http/fields.h"
#include "openbook/http/jsonvalue.h"
#include "openbook/core/log.h"
#include "openbook/perm/perm.h"
#include "openbook/api/resource.h"
#include "openbook/http/validate.h"
#include "write_parts.h"

static const char *pg_text_array(ob_arena *a, const char *const *v, int n)
{
    ob_buf b;
    ob_buf_init(&b, a);
    ob_buf_putc(&b, '{');
    for (int i = 0; i < n; i++) {
        ob_buf_puts(&b, i ? ",\"" : "\"");
        for (const char *s = v[i]; *s; s++) {
            if (*s == '"' || *s == '\\')
                ob_buf_putc(&b, '\\');
            ob_buf_putc(&b, *s);
        }
        ob_buf_putc(&b, '"');
    }
    ob_buf_putc(&b, '}');
    return ob_buf_cstr(&b);
}

/* Resolves a list of natural keys to ids in one query (sql: $1 is a text
 * array; rows are (key, id)).  Reports the first bad item as the
 * original does.  Returns -1 on a database failure (answered). */
static int resolve_list(ob_write *w, const ob_wfield *f, ob_wvalue *v, const char *sql,
                        const char *item_error, const char *fmt)
{
    ob_request *r = w->r;
    const char **strs = ob_arena_calloc(r->arena, (size_t)v->n + 1, sizeof *strs);
    int ns = 0;
    for (int i = 0; i < v->n; i++) {
        if (!v->list[i]) {
            ob_write_error(w, f->name, item_error);
            v->state = OB_WV_INVALID;
            return 0;
        }
        strs[ns++] = v->list[i];
    }
    PGresult *pg = NULL;
    if (ns) {
        const char *p[] = {pg_text_array(r->arena, strs, ns)};
        pg = ob_db_query(r->db, r->arena, sql, 1, p);
        if (!pg) {
            ob_write_fail(w);
            return -1;
        }
    }
    ob_buf ids;
    ob_buf_init(&ids, r->arena);
    ob_buf_putc(&ids, '{');
    for (int i = 0; i < v->n; i++) {
        const char *id = NULL;
        for (int k = 0; pg && k < PQntuples(pg) && !id; k++)
            if (strcmp(PQgetvalue(pg, k, 0), v->list[i]) == 0)
                id = PQgetvalue(pg, k, 1);
        if (!id) {
            ob_write_error(w, f->name, ob_arena_printf(r->arena, fmt, v->list[i]));
            v->state = OB_WV_INVALID;
            return 0;
        }
        ob_buf_printf(&ids, "%s%s", i ? "," : "", id);
    }
    ob_buf_putc(&ids, '}');
    v->ids = ob_buf_cstr(&ids);
    return 0;
}

/* Permission lists resolve through the cached catalogue. */
static int resolve_perms(ob_write *w, const ob_wfield *f, ob_wvalue *v)
{
    ob_request *r = w->r;
    ob_buf ids;
    ob_buf_init(&ids, r->arena);
    ob_buf_putc(&ids, '{');
    for (int i = 0; i < v->n; i++) {
        if (!v->list[i]) {
            ob_write_error(w, f->name, "Invalid format: Expected a permission string.");
            v->state = OB_WV_INVALID;
            return 0;
        }
        int id = ob_perm_id(r, v->list[i]);
        if (id < 0) {
            ob_db_rollback(r->db);
            return -1;
        }
        if (id == 0) {
            ob_write_error(w, f->name,
                           ob_arena_printf(r->arena, "Permission '%s' not found.", v->list[i]));
            v->state = OB_WV_INVALID;
            return 0;
        }
        ob_buf_printf(&ids, "%s%d", i ? "," : "", id);
    }
    ob_buf_putc(&ids, '}');
    v->ids = ob_buf_cstr(&ids);
    if (!(f->flags & OB_WF_WHITELIST) || v->n == 0)
        return 0;
    /* permissions.md §4: only permissions whitelisted for the scope type. */
    if (!w->scope_type_id)
        return 0; /* the scope is invalid: reported there */
    const char *p[] = {ob_arena_printf(r->arena, "%d", w->scope_type_id), v->ids};
    PGresult *pg = ob_db_query(r->db, r->arena,
                               "SELECT x::text FROM unnest($2::int[]) x WHERE NOT EXISTS"
                               " (SELECT 1 FROM allowed_role_permissions a"
                               " WHERE a.scope_type_id = $1::int AND a.permission_id = x)",
                               2, p);
    if (!pg) {
        ob_write_fail(w);
        return -1;
    }
    for (int k = 0; k < PQntuples(pg); k++) {
        int bad = (int)strtol(PQgetvalue(pg, k, 0), NULL, 10);
        for (int i = 0; i < v->n; i++)
            if (ob_perm_id(r, v->list[i]) == bad) {
                ob_write_error(w, f->name,
                               ob_arena_printf(r->arena,
                                               "Permission %s cannot be assigned in this scope",
                                               v->list[i]));
                v->state = OB_WV_INVALID;
                break;
            }
    }
    return 0;
}

/* One existence query: sql with $1 (and $2, $3 when given); true when it
 * returns a row.  -1 on failure (answered). */
int ob_write_exists(ob_write *w, const char *sql, int n, const char *a, const char *b,
                  const char *c, PGresult **out)
{
    const char *p[] = {a, b, c};
    PGresult *pg = ob_db_query(w->r->db, w->r->arena, sql, n, p);
    if (!pg) {
        ob_write_fail(w);
        return -1;
    }
    if (out)
        *out = pg;
    return PQntuples(pg) > 0;
}

/* Whether this write names a scope (type or UUID) that its own field
 * refused: parsed before the role (wfields in validation order). */
static bool scope_refused(ob_write *w)
{
    for (size_t i = 0; i < w->res->nwfields; i++) {
        ob_write_kind k = w->res->wfields[i].kind;
        if ((k == OB_W_SCOPE_TYPE || k == OB_W_SCOPE_UUID) && w->v[i].state == OB_WV_INVALID)
            return true;
    }
    return false;
}

/* ---- lists of objects (OB_W_OBJECT_LIST) ---- */
/* The items' errors as they are parsed: [{...errors of item 0...}, {}, ...]. */
typedef struct items_list {
    ob_write *w;
    ob_buf errs;
    ob_json j;
    bool bad; /* some item has an error */
} items_list;

static int parse_field(ob_write *w, const ob_wfield *f, ob_wvalue *v, const cJSON *in);
static bool items_begin(ob_write *w, items_list *it, const char *field, const cJSON *in,
                        int max)
{
    ob_arena *a = w->r->arena;
    memset(it, 0, sizeof *it);
    it->w = w;
    if (!cJSON_IsArray(in)) /* (null is the validator's) */
        ob_write_error(w, field,
                       ob_arena_printf(a, "Expected a list of items but got type \"%s\".",
                                       ob_json_type_name(in)));
    else if (cJSON_GetArraySize(in) > max)
        ob_write_error(w, field,
                       ob_arena_printf(a, "Ensure this field has no more than %d elements.", max));
    else {
        ob_buf_init(&it->errs, a);
        ob_json_init(&it->j, &it->errs);
        ob_json_array_begin(&it->j);
        return true;
    }
    return false;
}

static int items_parse(items_list *it, const ob_wfield *fields, size_t n, const cJSON *item,
                       ob_wvalue *out)
{
    ob_write *w = it->w;
    /* The item's fields are parsed by the rules of a top-level create, in
     * a write of their own, so that their errors stay with the item. */
    ob_resource item_res = *w->res;
    item_res.wfields = fields;
    item_res.nwfields = n;
    ob_write sub = {.r = w->r, .res = &item_res, .create = true, .v = out};
    if (!cJSON_IsObject(item)) {
        ob_write_error(&sub, "non_field_errors",
                       ob_arena_printf(w->r->arena,
                                       "Invalid data. Expected a dictionary, but got %s.",
                                       ob_json_type_name(item)));
    } else {
        for (size_t i = 0; i < n; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, fields[i].name);
            if (!v) {
                if (fields[i].flags & OB_WF_REQUIRED)
                    ob_write_error(&sub, fields[i].name, "This field is required.");
                out[i].text = fields[i].def; /* (state stays absent) */
                continue;
            }
            if (parse_field(&sub, &fields[i], &out[i], v) != 0)
                return -1;
        }
    }
    ob_write_errors_json(&it->j, &sub);
    it->bad = it->bad || sub.nerr > 0;
    return 0;
}

static void items_end(items_list *it, const char *field)
{
    ob_json_array_end(&it->j);
    if (it->bad)
        ob_write_error_json(it->w, field, ob_buf_cstr(&it->errs));
}

static int parse_object_list(ob_write *w, const ob_wfield *f, ob_wvalue *v, const cJSON *in)
{
    items_list it;
    if (!items_begin(w, &it, f->name, in, f->has_max ? (int)f->max : 1000)) {
        v->state = OB_WV_INVALID;
        return 0;
    }
    v->n = cJSON_GetArraySize(in);
    v->rows = ob_arena_calloc(w->r->arena, (size_t)v->n * f->nitems + 1, sizeof *v->rows);
    const cJSON *item;
    int k = 0;
    cJSON_ArrayForEach(item, in)
    {
        if (items_parse(&it, f->items, f->nitems, item, v->rows + (size_t)k++ * f->nitems) != 0)
            return -1;
    }
    items_end(&it, f->name);
    if (it.bad)
        v->state = OB_WV_INVALID;
    return 0;
}

/* One field: its value parsed by the validator (validate.c), then the
 * keys of the reference kinds looked up.  Returns -1 after a database
 * failure (answered). */
static int parse_field(ob_write *w, const ob_wfield *f, ob_wvalue *v, const cJSON *in)
{
    ob_request *r = w->r;
    ob_arena *a = r->arena;
    const char *errs[2];
    int nerr = ob_wfield_parse(a, f, in, v, errs);
    for (int i = 0; i < nerr; i++)
        ob_write_error(w, f->name, errs[i]);
    if (v->state == OB_WV_GIVEN && f->kind == OB_W_OBJECT_LIST && !cJSON_IsNull(in))
        return parse_object_list(w, f, v, in);
    /* Null (SQL NULL) and refused values need no lookup. */
    bool list = f->kind == OB_W_PERM_LIST || f->kind == OB_W_GROUP_LIST;
    if (v->state != OB_WV_GIVEN || (list ? !v->list : !v->text))
        return 0;
#define BAD(msg)                                                                           \
    do {                                                                                   \
        ob_write_error(w, f->name, (msg));                                                 \
        v->state = OB_WV_INVALID;                                                          \
        return 0;                                                                          \
    } while (0)
    const char *s = v->text;
    switch (f->kind) {
    case OB_W_UUID_REF:
    case OB_W_INT_REF: {
        int ok = ob_write_exists(w, f->ref_sql, 1, s, NULL, NULL, NULL);
        if (ok < 0)
            return -1;
        if (!ok)
            BAD(ob_arena_printf(a, "Invalid pk \"%s\" - object does not exist.", s));
        return 0;
    }
    case OB_W_USER: {
        PGresult *pg;
        int ok = ob_write_exists(w, "SELECT id::text FROM users WHERE username = $1", 1, s, NULL, NULL,
                        &pg);
        if (ok < 0)
            return -1;
        if (!ok)
            BAD(ob_arena_printf(a, "Object with username=%s does not exist.", s));
        v->text = ob_arena_strdup(a, PQgetvalue(pg, 0, 0));
        v->num = strtoll(v->text, NULL, 10);
        return 0;
    }
    case OB_W_LANGUAGE: {
        int ok = strlen(s) > 3 ? 0
                               : ob_write_exists(w, "SELECT 1 FROM languages WHERE language = $1", 1, s,
                                        NULL, NULL, NULL);
        if (ok < 0)
            return -1;
        if (!ok)
            BAD(ob_arena_printf(a, "Invalid pk \"%s\" - object does not exist.", s));
        return 0;
    }
    case OB_W_PERM: {
        int id = ob_perm_id(r, s);
        if (id < 0) {
            ob_db_rollback(r->db);
            return -1;
        }
        if (id == 0)
            BAD(ob_arena_printf(a, "Permission '%s' not found.", s));
        v->num = id;
        v->text = ob_arena_printf(a, "%d", id);
        return 0;
    }
    case OB_W_PERM_LIST:
        return resolve_perms(w, f, v);
    case OB_W_GROUP_LIST:
        return resolve_list(w, f, v, "SELECT slug, id::text FROM groups WHERE slug = ANY($1::text[])",
                            "Invalid value.", "Object with slug=%s does not exist.");
    case OB_W_SCOPE_TYPE: {
        const char *dot = strchr(s, '.');
        int ct = 0;
        if (dot && dot != s && dot[1]) {
            char *app = ob_arena_strndup(a, s, (size_t)(dot - s));
            ct = ob_perm_content_type(r, app, dot + 1);
            if (ct && !ob_scope_type_by_name(app, dot + 1))
                BAD(ob_arena_printf(a, "Scope type %s is not valid.",
                                    ob_perm_content_type_label(r, ct)));
        }
        if (!ct)
            BAD(ob_arena_printf(a, "Scope type '%s' not found.", s));
        v->num = ct;
        v->text = ob_arena_printf(a, "%d", ct);
        w->scope_type_id = ct;
        return 0;
    }
    case OB_W_SCOPE_UUID:
        if (w->scope_type_id) {
            int ok = ob_write_exists(w,
                            "SELECT 1 FROM scope_objects WHERE scope_type_id = $1::int"
                            " AND scope_uuid = $2::uuid",
                            2, ob_arena_printf(a, "%d", w->scope_type_id), s, NULL, NULL);
            if (ok < 0)
                return -1;
            if (!ok)
                BAD("Scope object not found.");
            w->scope_uuid = s;
        }
        return 0;
    case OB_W_ROLE: {
        if (!w->scope_type_id || !w->scope_uuid) {
            /* A scope given but refused has its own error (an unknown type,
             * "Scope object not found."); the role adds none to it.  Only a
             * role without a scope says so (api-conventions.md §9). */
            if (scope_refused(w)) {
                v->state = OB_WV_INVALID;
                return 0;
            }
            BAD("Scope type and scope UUID are required.");
        }
        PGresult *pg;
        int ok = ob_write_exists(w,
                        "SELECT id::text, priority FROM roles WHERE scope_type_id = $1::int"
                        " AND scope_uuid = $2::uuid AND slug = $3",
                        3, ob_arena_printf(a, "%d", w->scope_type_id), w->scope_uuid, s, &pg);
        if (ok < 0)
            return -1;
        if (!ok)
            BAD(ob_arena_printf(a, "Role '%s' not found.", s));
        v->text = ob_arena_strdup(a, PQgetvalue(pg, 0, 0));
        v->num = strtoll(PQgetvalue(pg, 0, 1), NULL, 10);
        return 0;
    }
    default:
        return 0; /* the validator's value is final */
    }
#undef BAD
}

int ob_write_parse_fields(ob_write *w)
{
    const ob_resource *res = w->res;
    const cJSON *body = w->r->json;
    w->v = ob_arena_calloc(w->r->arena, res->nwfields + 1, sizeof *w->v);
    for (size_t i = 0; i < res->nwfields; i++) {
        const ob_wfield *f = &res->wfields[i];
        ob_wvalue *v = &w->v[i];
        if (!w->create && (f->flags & OB_WF_CREATE_ONLY))
            continue; /* set on create, ignored on update */
        if ((f->flags & OB_WF_SUPERUSER) && !ob_perm_is_superuser(w->r))
            continue; /* read-only for everybody else */
        if (f->kind == OB_W_FILE && ob_write_upload(w, f->name)) {
            /* Published once the write is allowed (ob_write_publish_files). */
            v->state = OB_WV_GIVEN;
            continue;
        }
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(body, f->name);
        if (!in) {
            bool put = !w->partial && !(f->flags & OB_WF_UPDATE_OPTIONAL);
            if ((f->flags & OB_WF_REQUIRED) && (w->create || put))
                ob_write_error(w, f->name, f->kind == OB_W_FILE ? "No file was submitted."
                                                                : "This field is required.");
            continue;
        }
        if (parse_field(w, f, v, in) != 0)
            return -1;
        if (f->check && v->state == OB_WV_GIVEN && f->check(w, f, v) != 0)
            return -1;
    }
    return 0;
}

/* ---- permission facts ---- */
