/* resource.h - generic REST resources described by data.
 *
 * A resource is a table plus a list of fields; from that one description
 * the machinery answers list (envelope, paging, _search, _sort, filters,
 * _fields/_omit/_expand) and retrieve (src/api/read.c, with query.c,
 * mask.c, expand.c, render.c), and create, PUT, PATCH and delete
 * (write.c, with validate.c, write_input.c, write_facts.c,
 * write_state.c), with the visibility predicate of the permission engine
 * (perm.h) inside the SQL, so there is one query per page whatever the
 * number of rows.
 *
 * Describing a resource (see src/api/resources/roles.c for complete
 * examples; the README walks through adding one):
 * - read side: fields (ob_field, response order), refs (sort key,
 *   expansion target; a JSON-typed field with a ref is a list of keys),
 *   filters, search_sql, default_order;
 * - guard and permission facts: OB_GUARD_GLOBAL / SELF / SCOPE (rule R) /
 *   SCOPED (rule S) / ACCESS_REQUEST, with the SQL of the row's scope
 *   (scope_type_sql or a fixed scope_type_name, scope_uuid_sql), its
 *   owner_sql, priority_sql, user_sql.  A child whose scope is its
 *   parent's (permissions.md §5 extension) names the scope column of its
 *   row (e.g. "tb.group_id" through a join in `from`), and for writes the
 *   field that selects the scope (scope_field) with scope_lookup_sql when
 *   the field names the parent rather than the scope itself;
 * - write side: table, wfields (validation, natural keys, m2m), uniques
 *   (constraint -> message), audit, ops, write_gate, and hooks for the
 *   rules that look at several fields or at other tables. */
#ifndef OPENBOOK_RESOURCE_H
#define OPENBOOK_RESOURCE_H

#include <stdbool.h>
#include <libpq-fe.h>
#include "openbook/db/db.h"
#include "openbook/http/http.h"
#include "openbook/perm/perm.h"
#include "openbook/http/router.h"
#include "openbook/api/routes.h"

typedef enum {
    OB_FT_INT,
    OB_FT_TEXT,
    OB_FT_BOOL,
    OB_FT_DATETIME,
    OB_FT_JSON,
    OB_FT_NUMBER,
    OB_FT_FILE,     /* a media path: written as its absolute URL, "" as null */
    OB_FT_MEDIA_PATH, /* a media path written as <media_url><path>, not absolute (a
                         library version's frontend_url, libraries.md §6) */
} ob_field_type;

enum {
    OB_FF_SORT = 1 << 0,      /* allowed in _sort */
    OB_FF_SEARCH = 1 << 1,    /* matched by _search */
    OB_FF_EQ = 1 << 2,        /* filter field=v (equality) */
    OB_FF_SUBSTR = 1 << 3,    /* filter field=v (case-insensitive substring) */
    OB_FF_RANGE = 1 << 4,     /* filters field__lte / field__gte */
    OB_FF_ICONTAINS = 1 << 5, /* filter field__icontains */
    OB_FF_ADMIN = 1 << 6,     /* exists for superuser requesters only: output, filters, sort */
    OB_FF_EXPAND_ONLY = 1 << 7, /* shown only when named in _expand (auth config translations) */
};

struct ob_resource;

typedef struct ob_field {
    const char *name;   /* JSON name */
    const char *sql;    /* SQL expression, e.g. "t.domain" */
    ob_field_type type;
    unsigned flags;
} ob_field;

/* More about a reference field, kept apart from ob_field so that the
 * positional four-member field tables stay as they are. */
typedef struct ob_field_ref {
    const char *field;      /* the ob_field's name */
    const char *sort_sql;   /* _sort uses the stored key, not the natural one
                               (api-conventions.md §7.2); NULL: the field's sql */
    const struct ob_resource *expand; /* _expand target (§8), or NULL */
    const char *key_sql;    /* the stored key, compared with expand's ref_sql */
    /* A list of related items (e.g. a role's role_assignments): the
     * column of `expand`'s rows that refers to this row ("t.role_id").
     * The id list is then computed in the same query with the related
     * resource's visibility (api-conventions.md §8: a plain id list shows
     * only what the requester may view), instead of key_sql. */
    const char *link_sql;
} ob_field_ref;


/* Operations a resource offers (the letters of api-resources.md §0). */
enum {
    OB_CAN_LIST = 1 << 0,
    OB_CAN_CREATE = 1 << 1,
    OB_CAN_RETRIEVE = 1 << 2,
    OB_CAN_UPDATE = 1 << 3,  /* PUT */
    OB_CAN_PATCH = 1 << 4,
    OB_CAN_DELETE = 1 << 5,
};
#define OB_CAN_READ (OB_CAN_LIST | OB_CAN_RETRIEVE)
#define OB_CAN_ALL (OB_CAN_LIST | OB_CAN_CREATE | OB_CAN_RETRIEVE | OB_CAN_UPDATE | OB_CAN_PATCH | OB_CAN_DELETE)

/* Admin gates of permissions.md §9. */
typedef enum {
    OB_ADMIN_NONE = 0,
    OB_ADMIN_SUPERUSER,   /* superuser-only */
    OB_ADMIN_STAFF_PERM,  /* staff + the model permission of the operation */
} ob_admin_gate;

/* How a writable field is parsed and stored (api-conventions.md §2, §9). */
typedef enum {
    OB_W_TEXT = 1,   /* string: trimmed, blank/max_len/choices/format */
    OB_W_BOOL,       /* true/false, "true"/"false"/"1"/"0", 1/0 */
    OB_W_INT,        /* integer within [min, max] when has_min/has_max */
    OB_W_NUMBER,     /* number (double) >= min when has_min */
    OB_W_DATETIME,   /* ISO 8601, stored UTC; "" = null when nullable */
    OB_W_JSON,       /* any JSON value, json_max_bytes / json_max_depth */
    OB_W_UUID_REF,   /* UUID of a row that ref_sql finds ($1 = the uuid) */
    OB_W_INT_REF,    /* integer id of a row that ref_sql finds */
    OB_W_USER,       /* username -> users.id */
    OB_W_ROLE,       /* role slug within the item's scope -> roles.id */
    OB_W_PERM,       /* perm string -> permissions.id */
    OB_W_PERM_LIST,  /* list of perm strings, stored in m2m_table */
    OB_W_GROUP_LIST, /* list of group slugs, stored in m2m_table */
    OB_W_SCOPE_TYPE, /* "app_label.model" of a scope type -> content_types.id */
    OB_W_SCOPE_UUID, /* UUID of an existing object of the posted scope type */
    OB_W_LANGUAGE,   /* language code of an existing language */
    OB_W_FILE,       /* a media path (column): JSON can only clear it with "" (uploads
                        are multipart); anything else is "not a file" */
    OB_W_CUSTOM,     /* parsed by the resource's validate hook */
    /* A list of objects whose fields are `items` (parsed as a create
     * parses the top level; a bad item's errors stay with it, as
     * {"field": [{...errors of item 0...}, {}, ...]}), at most `max`
     * when has_max, else 1000.  The values land in v->rows; the
     * resource's after_save hook stores them (auth config translations,
     * sign-up assertions). */
    OB_W_OBJECT_LIST,
} ob_write_kind;

enum {
    OB_WF_REQUIRED = 1 << 0,    /* required on create (and present on PUT) */
    OB_WF_NULL = 1 << 1,        /* null allowed ("" = null for dates, numbers, refs) */
    OB_WF_BLANK = 1 << 2,       /* "" allowed for text */
    OB_WF_CREATE_ONLY = 1 << 3, /* set on create, ignored on update */
    OB_WF_WRITE_ONLY = 1 << 4,  /* never shown (not among res->fields) */
    OB_WF_NO_TRIM = 1 << 5,     /* taken exactly as sent (passwords) */
    OB_WF_SUPERUSER = 1 << 6,   /* writable by superusers only; ignored otherwise */
    OB_WF_WHITELIST = 1 << 7,   /* PERM_LIST: allowed_role_permissions of the scope type */
    OB_WF_DEFAULT_REQUESTER = 1 << 8, /* USER: absent on create = the requester (owner) */
    OB_WF_UPDATE_OPTIONAL = 1 << 9, /* with REQUIRED: required on create only, not on PUT */
};

typedef enum {
    OB_FMT_NONE = 0,
    OB_FMT_SLUG,   /* letters, digits, _ and - */
    OB_FMT_URL,    /* http(s)/ftp(s) URL, as Django's URLValidator */
    OB_FMT_EMAIL,
    OB_FMT_COLOR,  /* #rgb or #rrggbb */
    OB_FMT_USERNAME, /* ASCII letters, digits and @ . + - _ */
} ob_format;

struct ob_write;
struct ob_wvalue;

/* The write side of one field, kept apart from ob_field (as ob_field_ref)
 * so that the positional read-side tables stay as they are.  Write-only
 * fields (a passphrase) appear here only. */
typedef struct ob_wfield {
    const char *name;       /* JSON name */
    ob_write_kind kind;
    const char *column;     /* column of res->table; NULL: stored by a hook or m2m */
    unsigned flags;         /* OB_WF_* */
    int max_len;            /* characters (TEXT), 0: no limit */
    int min_len;            /* characters (TEXT), 0: no minimum */
    ob_format format;
    const char *const *choices; /* NULL-terminated */
    long long min, max;     /* INT bounds, NUMBER minimum */
    bool has_min, has_max;
    const char *def;        /* value on create when absent; NULL: the column default */
    const char *ref_sql;    /* UUID_REF/INT_REF: "SELECT 1 FROM x WHERE id = $1" */
    const char *m2m_table;  /* PERM_LIST/GROUP_LIST: link table ... */
    const char *m2m_self;   /* ... its column naming this row ... */
    const char *m2m_other;  /* ... and the column naming the permission/group */
    /* m2m keyed by a scope (scope_public_permissions): this column gets
     * the content-type id of res->scope_type_name in both directions. */
    const char *m2m_type_col;
    size_t json_max_bytes;  /* JSON: serialised size limit, 0: none */
    int json_max_depth;     /* JSON: nesting limit, 0: none */
    /* More checks of a given, valid value that look at other fields (a
     * password against the user's names): its errors are reported with
     * every other field's, which a validate hook's are not.  0, or -1
     * after answering. */
    int (*check)(struct ob_write *w, const struct ob_wfield *f, struct ob_wvalue *v);
    /* FILE: the folder, relative to the media root, that an uploaded file
     * of this field is stored in (api-conventions.md §13), e.g.
     * "openbook_auth/User/<username>"; called after before_save, in the
     * transaction.  NULL after answering. */
    const char *(*upload_dir)(struct ob_write *w, const struct ob_wfield *f);
    const struct ob_wfield *items; /* OBJECT_LIST: the fields of one item */
    size_t nitems;
} ob_wfield;

/* A unique constraint (or unique index) and the 400 it gives
 * (api-conventions.md §4): keyed by field, or non_field_errors. */
typedef struct ob_unique {
    const char *constraint;
    const char *field;      /* NULL: non_field_errors */
    const char *message;
} ob_unique;

/* Filters that are not a plain field lookup (api-conventions.md §7.3). */
typedef enum {
    OB_FILT_TEXT = 1,  /* sql with $1 = the value */
    OB_FILT_SUBSTR,    /* sql with $1 = an ILIKE pattern of the value */
    OB_FILT_UUID,      /* a UUID, else 400 "Enter a valid UUID." */
    OB_FILT_INT,       /* an integer, else 400 "Enter a whole number." */
    OB_FILT_ISNULL,    /* boolean: sql when true, sql_false when false */
    /* A reference (the original's choice filter): the key of the related
     * item, a UUID (REF) or an integer id (INT_REF), else 400 "Select a
     * valid choice. ..."; a well-formed key of nothing finds nothing. */
    OB_FILT_REF,
    OB_FILT_INT_REF,
} ob_filter_kind;

typedef struct ob_filter {
    const char *name;       /* query parameter */
    ob_filter_kind kind;
    const char *sql;
    const char *sql_false;  /* ISNULL */
} ob_filter;

/* Hooks: 0 to go on; -1 when the hook has answered (error or 503).  A
 * validate hook that only adds field errors returns 0. */
typedef int (*ob_write_hook)(struct ob_write *w);

/* What a description stands for in the API. */
typedef enum {
    OB_RES_COLLECTION = 0, /* a paged list at path, items at path{key}/ */
    OB_RES_SINGLE,         /* one item at path: no key, no paging (the current user) */
    OB_RES_SHAPE,          /* no path of its own: what a reference expands to */
    OB_RES_ARRAY,          /* a plain JSON array at path and items at path{key}/, both
                              written by hand (list, retrieve); no fields */
} ob_res_kind;

/* An action on an item: <path>{key}/<name>/, e.g. PUT .../{id}/enroll/.
 * The handler finds the description in r->route_data. */
typedef struct ob_action {
    const char *name;
    unsigned methods;        /* mask of ob_method */
    ob_handler handler;
} ob_action;

/* What the fields do not say about a field, for the document. */
enum {
    OB_NOTE_NULLABLE = 1 << 0,     /* may be null in answers */
    OB_NOTE_NOT_NULLABLE = 1 << 1, /* never null, although its type usually may be */
    OB_NOTE_SHOWN_ONCE = 1 << 2,   /* its value appears in the create's 201 only, null
                                      everywhere else (tokens) */
};

typedef struct ob_field_note {
    const char *name;
    unsigned flags;          /* OB_NOTE_* */
} ob_field_note;

typedef struct ob_resource {
    const char *app_label;   /* "openbook_core" */
    const char *model;       /* "site": perm strings are <app>.<action>_<model> */
    const char *class_name;  /* "Site", for 404 messages */
    const char *from;        /* "sites t" */
    const ob_field *pk;      /* the key field (also among fields) */
    bool pk_is_int;
    size_t pk_max_len;       /* for text keys: longer keys are 404 at once */
    const ob_field *fields;
    size_t nfields;
    const char *default_order; /* SQL, without the pk tie-breaker */
    ob_guard guard;
    /* Optional members (zero when absent). */
    const char *self_sql;    /* OB_GUARD_SELF: the row's user id, e.g. "t.user_id" */
    const char *self_perm;   /* OB_GUARD_SELF: codename (same app) the requester must
                                hold globally to see own rows (rule T), NULL: none */
    const char *restrict_sql; /* rows visible only where this holds, except to
                                 superusers (users: "t.is_active") */
    bool pk_is_uuid;         /* key is a UUID: any case, hyphens optional; else 404 */
    const char *ref_sql;     /* what references store when it is not the pk
                                (users: "t.id", while the URL key is the username) */
    const char *ref_type;    /* SQL type of ref_sql (or of the pk), e.g. "bigint" */
    const ob_field_ref *refs; /* reference fields: sort key and expansion */
    size_t nrefs;

    /* ---- everything below is optional (zero: absent) ---- */

    /* Serving: the routes, the API root and the document come from these
     * (registry.h).  A collection answers at `path`, its items at
     * path{key}/, its actions at path{key}/<name>/; the methods follow
     * from ops, the access from `access`. */
    ob_res_kind kind;
    const char *path;        /* "/api/auth/roles/"; NULL for shapes */
    const char *key_name;    /* the item path's placeholder ("code"); NULL: the pk's name */
    int access;              /* OB_LOGIN (zero), OB_ANON_READ or OB_ANON (router.h) */
    unsigned ops;            /* OB_CAN_*; 0 means OB_CAN_READ */
    /* Reads written by hand (kinds SINGLE and ARRAY); NULL: the generic
     * list and retrieve. */
    ob_handler list, retrieve;
    /* DELETE of an item written by hand (uninstalling a library); NULL:
     * the generic delete. */
    ob_handler destroy;
    const ob_action *actions;
    size_t nactions;
    /* The document: a one-line summary, the schema's name when it is not
     * class_name, the collection a shape's items belong to, and what the
     * fields do not say. */
    const char *summary;
    const char *schema_name;
    const struct ob_resource *shape_of;
    const ob_field_note *notes;
    size_t nnotes;

    ob_admin_gate read_gate, write_gate;
    unsigned gate_ops;       /* the writes (OB_CAN_*) write_gate applies to; 0: every write */
    const char *const *search_sql; /* NULL-terminated: more _search expressions */
    const ob_filter *filters;
    size_t nfilters;

    /* Permission facts of a row (permissions.md §5), SQL over res->from. */
    const char *scope_type_sql;  /* the scope's content-type id, e.g. "t.scope_type_id" */
    const char *scope_type_name; /* or a fixed scope type, "openbook_content.librarygroup" */
    const char *scope_uuid_sql;  /* "t.scope_uuid", "t.group_id", "t.id" */
    const char *owner_sql;       /* the item's own owner (scope items), e.g. "t.owner_id" */
    const char *priority_sql;    /* rule S: the priority the guard compares */
    const char *user_sql;        /* access requests: the requesting user */
    const char *pending_sql;     /* access requests: "t.decision = 'pending'" */

    /* Writes. */
    const char *table;           /* INSERT/UPDATE/DELETE target (alias t in from) */
    const char *pk_column;       /* column of the key in table ("id") */
    bool audit;                  /* created_by/at, modified_by/at (api-conventions.md §10) */
    const ob_wfield *wfields;    /* in validation order (scope before role) */
    size_t nwfields;
    const ob_unique *uniques;
    size_t nuniques;
    /* Where the facts of a new or updated item come from. */
    const char *scope_field;       /* field whose value names the scope (or its parent) */
    const char *scope_lookup_sql;  /* maps that value ($1) to the scope uuid, e.g.
                                      "SELECT group_id FROM textbooks WHERE id = $1" */
    const char *priority_field;    /* "priority" (roles) or "role" (its role's priority) */
    const char *user_field;        /* "user" (access requests, tokens) */
    ob_write_hook validate;        /* cross-field rules, after the field checks */
    ob_write_hook authorize;       /* more permission checks, after the generic ones */
    ob_write_hook before_save;     /* in the transaction: extra columns (ob_write_set) */
    ob_write_hook after_save;      /* in the transaction, after insert/update and m2m */
    ob_write_hook before_delete;   /* in the transaction, before the delete */
} ob_resource;

/* ---- shared field groups (api-resources.md §0) ----
 * [audit]: the from clause joins the audit users as tcb/tmb
 * (OB_AUDIT_JOINS); the refs expand them to the public user shape. */
#define OB_AUDIT_FIELDS                                                                    \
    {"created_by", "tcb.username", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},                     \
    {"created_at", "t.created_at", OB_FT_DATETIME, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE},   \
    {"modified_by", "tmb.username", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},                    \
    {"modified_at", "t.modified_at", OB_FT_DATETIME, OB_FF_SORT | OB_FF_EQ | OB_FF_RANGE}
#define OB_AUDIT_JOINS                                                                     \
    " LEFT JOIN users tcb ON tcb.id = t.created_by LEFT JOIN users tmb ON tmb.id = t.modified_by"
#define OB_AUDIT_REFS(user_shape)                                                          \
    {.field = "created_by", .sort_sql = "t.created_by", .expand = (user_shape),            \
     .key_sql = "t.created_by"},                                                           \
    {.field = "modified_by", .sort_sql = "t.modified_by", .expand = (user_shape),          \
     .key_sql = "t.modified_by"}
/* [scope]: the from clause joins content_types as tct. */
#define OB_SCOPE_FIELDS                                                                    \
    {"scope_type", "tct.app_label || '.' || tct.model", OB_FT_TEXT, OB_FF_SORT},           \
    {"scope_uuid", "t.scope_uuid", OB_FT_TEXT, OB_FF_SORT}
#define OB_SCOPE_JOIN " JOIN content_types tct ON tct.id = t.scope_type_id"
#define OB_SCOPE_FILTERS                                                                   \
    {.name = "scope_type", .kind = OB_FILT_TEXT,                                           \
     .sql = "tct.app_label || '.' || tct.model = $1 OR tct.id::text = $1"},                \
    {.name = "scope_uuid", .kind = OB_FILT_UUID, .sql = "t.scope_uuid = $1::uuid"}
#define OB_SCOPE_WFIELDS                                                                   \
    {.name = "scope_type", .kind = OB_W_SCOPE_TYPE, .column = "scope_type_id",             \
     .flags = OB_WF_REQUIRED | OB_WF_CREATE_ONLY},                                         \
    {.name = "scope_uuid", .kind = OB_W_SCOPE_UUID, .column = "scope_uuid",                \
     .flags = OB_WF_REQUIRED | OB_WF_CREATE_ONLY}
/* [text] */
extern const char *const ob_text_formats[];
#define OB_TEXT_WFIELDS                                                                    \
    {.name = "name", .kind = OB_W_TEXT, .column = "name", .flags = OB_WF_REQUIRED,         \
     .max_len = 255},                                                                      \
    {.name = "description", .kind = OB_W_TEXT, .column = "description",                    \
     .flags = OB_WF_BLANK},                                                                \
    {.name = "text_format", .kind = OB_W_TEXT, .column = "text_format",                    \
     .choices = ob_text_formats}
/* [duration] */
extern const char *const ob_duration_periods[];
#define OB_DURATION_WFIELDS                                                                \
    {.name = "duration_period", .kind = OB_W_TEXT, .column = "duration_period",            \
     .flags = OB_WF_BLANK, .choices = ob_duration_periods},                                \
    {.name = "duration_value", .kind = OB_W_NUMBER, .column = "duration_value",            \
     .has_min = true, .min = 0}

/* [scoped-roles] of a scope resource (courses, library groups) whose row
 * is `t` and whose scope type is app.model: the content-type id, the id
 * lists of its role assignments, enrollment methods and access requests,
 * and its public permissions (scope_public_permissions, written through a
 * wfield {.kind = OB_W_PERM_LIST, .flags = OB_WF_WHITELIST,
 * .m2m_table = "scope_public_permissions", .m2m_self = "scope_uuid",
 * .m2m_other = "permission_id", .m2m_type_col = "scope_type_id"}).
 * Deleting a scope: ob_scope_delete_dependents() in a before_delete hook. */
#define OB_SCOPE_CT_SQL(app, model)                                                        \
    "(SELECT sct.id FROM content_types sct WHERE sct.app_label = '" app                     \
    "' AND sct.model = '" model "')"
#define OB_SCOPE_IDS_SQL(table, app, model)                                                \
    "(SELECT coalesce(json_agg(x.id ORDER BY x.id), '[]') FROM " table                      \
    " x WHERE x.scope_type_id = " OB_SCOPE_CT_SQL(app, model) " AND x.scope_uuid = t.id)"
#define OB_PUBLIC_PERMS_SQL(app, model)                                                    \
    "(SELECT coalesce(json_agg(pct.app_label || '.' || pp.codename ORDER BY pct.app_label," \
    " pp.codename), '[]') FROM scope_public_permissions sp JOIN permissions pp ON pp.id ="   \
    " sp.permission_id JOIN content_types pct ON pct.id = pp.content_type_id"               \
    " WHERE sp.scope_type_id = " OB_SCOPE_CT_SQL(app, model) " AND sp.scope_uuid = t.id)"

/* GET on the collection / on /{key}/ (the key is path parameter 0). */
void ob_resource_list(ob_request *r, const ob_resource *res);
void ob_resource_retrieve(ob_request *r, const ob_resource *res);

/* Answers with one item shaped as by GET, for `key`: retrieve, and the
 * answer of a write (status 200/201).  skip_visibility: the caller has
 * checked the permission already (a write by someone who may write but
 * not view).  set_field/set_value: that field is written as this string
 * instead of its column (the token, shown once in the 201 of a create). */
typedef struct ob_item_opts {
    int status;
    bool skip_visibility;
    const char *set_field;
    const char *set_value;
} ob_item_opts;
void ob_resource_item(ob_request *r, const ob_resource *res, const char *key,
                      const ob_item_opts *opts);

/* SQL building blocks for handlers that write: parameters travel apart
 * from the text, and the visibility predicate is the one lists use. */
/* Appends visible(requester, res) over the aliases of res->from: the
 * permission engine's predicate for the description's facts.  0, or -1
 * after answering 503 (ob_resource_visible_sql then writes "false", which
 * keeps the SQL valid for callers that go on). */
int ob_resource_visible(ob_buf *sql, ob_sql_params *p, const ob_resource *res, ob_request *r);
void ob_resource_visible_sql(ob_buf *sql, ob_sql_params *p, const ob_resource *res,
                             ob_request *r);
/* `from` (a description's from clause) without the LEFT JOINs whose alias
 * neither `used` (WHERE/ORDER BY text) nor another join names: for the
 * key query of a list, which PostgreSQL can then answer from an index
 * alone.  Only for LEFT JOINs that reach at most one row. */
const char *ob_sql_prune_left_joins(ob_arena *a, const char *from, const char *used);
/* The key as the database wants it (UUIDs normalised), or NULL when it
 * cannot name an item (the caller answers 404). */
const char *ob_resource_key(ob_request *r, const ob_resource *res, const char *key);


/* ---- the generic handler (serve.c) and the write engine (write*.c) ---- */

/* The handler of a resource's collection and item routes (routes.c):
 * serves the description in r->route_data, list and create at the
 * collection, retrieve, PUT, PATCH and delete at an item (key = path
 * parameter 0).  The route offers only the methods of its ops. */
void ob_resource_serve(ob_request *r);

/* The value of one writable field in a write. */
typedef enum { OB_WV_ABSENT = 0, OB_WV_GIVEN = 1, OB_WV_INVALID = -1 } ob_wv_state;
typedef struct ob_wvalue {
    ob_wv_state state;
    const char *text;      /* the SQL parameter text; NULL = SQL NULL */
    const char **list;     /* lists: the natural keys as given */
    int n;
    const char *ids;       /* lists: PostgreSQL array literal of resolved ids */
    struct ob_wvalue *rows; /* OBJECT_LIST: n items of f->nitems values each */
    long long num;         /* INT/BOOL (0/1) value; ROLE: the role's priority */
    double dbl;            /* NUMBER */
    const struct cJSON *json; /* the raw input value */
} ob_wvalue;

#define OB_WRITE_MAX_ERRORS 48
#define OB_WRITE_MAX_SET 12

/* One write in progress, handed to the hooks. */
typedef struct ob_write {
    ob_request *r;
    const ob_resource *res;
    bool create, partial, is_delete;
    const char *key;           /* the stored item's key (update/delete) */
    ob_wvalue *v;              /* one per res->wfields */
    PGresult *stored;          /* update/delete: the locked row (see ob_write_stored) */
    int scope_type_id;         /* the item's scope (create: from the input) */
    const char *scope_uuid;
    const char *new_key;       /* after the insert */
    /* errors, in order */
    const char *err_field[OB_WRITE_MAX_ERRORS];
    const char *err_msg[OB_WRITE_MAX_ERRORS];
    bool err_raw[OB_WRITE_MAX_ERRORS]; /* msg is the field's whole JSON value */
    int nerr;
    /* extra columns the hooks set */
    const char *set_col[OB_WRITE_MAX_SET];
    const char *set_val[OB_WRITE_MAX_SET];
    const char *set_cast[OB_WRITE_MAX_SET];
    int nset;
    void *ctx;                 /* for the hooks */
    /* After-commit effects the hooks queue (websocket.md §6): published
     * only when the COMMIT succeeded, forgotten on rollback. */
    struct ob_events *events;  /* lazily created by ob_write_event */
    int64_t revoke[8];         /* users whose relay connections end */
    int nrevoke;
    const char *unlink[4];     /* media files that go (paths under media_root) */
    int nunlink;
    /* Uploaded files published for this write (write.c): removed again
     * unless the COMMIT succeeds. */
    struct ob_write_published *published;
    /* A value the answer of a create shows once, in place of its column
     * (a token, stored hashed). */
    const char *show_field, *show_value;
} ob_write;

/* The field validator (validate.c, pure): one JSON value of a writable
 * field, parsed as its kind wants it, without looking anything up.  For
 * the kinds whose value is final (TEXT, FILE, BOOL, INT, NUMBER,
 * DATETIME, JSON) v->text is what is stored (NULL: SQL NULL); for the
 * references it is the key the write engine then looks up (a normalised
 * UUID, an id, a username, a language code, a perm or scope type string,
 * a role slug; lists in v->list, non-strings as NULL).  Writes its error
 * messages to errs (two at most: a length minimum and a format are both
 * reported) and returns their number; v->state is OB_WV_INVALID then. */
int ob_wfield_parse(ob_arena *a, const ob_wfield *f, const struct cJSON *in, ob_wvalue *v,
                    const char *errs[2]);

/* Queues a live event for after the COMMIT (see events.h). */
void ob_write_event(ob_write *w, const char *channel, const char *type,
                    const char *payload_json);
/* Queues revoke_user for after the COMMIT (duplicates are merged). */
void ob_write_revoke(ob_write *w, int64_t user_id);
/* Queues the removal of a media file (a path under media_root, as a file
 * column stores it; "" is none) for after the COMMIT. */
void ob_write_remove_file(ob_write *w, const char *path);
/* "<prefix>/<segment>" for a FILE field's upload_dir, the segment (a key:
 * a username, an id) made one safe path component (filename.h). */
const char *ob_write_upload_dir(ob_write *w, const char *prefix, const char *segment);
/* Whether a resource has FILE fields (its routes then take uploads). */
bool ob_resource_takes_files(const ob_resource *res);
/* The file a multipart write uploaded for a FILE field (name, MIME type,
 * size in ->file->size), or NULL. */
struct ob_upload_file;
const struct ob_upload_file *ob_write_upload(const ob_write *w, const char *field);
/* [validity]: end_date after start_date, on the values as they will be
 * stored (a validate hook). */
int ob_write_check_dates(ob_write *w);
/* After a successful COMMIT: publishes the queued events, revokes the
 * queued users and removes the queued files.  Redis failures are logged
 * only. */
void ob_write_after_commit(ob_write *w);

void ob_write_error(ob_write *w, const char *field, const char *msg);
/* An error whose value is JSON text, e.g. per-item errors of a list:
 * [{"language": ["This field is required."]}, {}] (api-conventions.md §4). */
void ob_write_error_json(ob_write *w, const char *field, const char *json);
/* The value of a writable field by name (never NULL for a described field). */
ob_wvalue *ob_write_value(ob_write *w, const char *name);
/* The stored value of a column of the locked row (update/delete), as
 * text; datetimes as microseconds since the epoch.  NULL: SQL NULL or not
 * selected. */
const char *ob_write_stored(const ob_write *w, const char *column);
/* Sets a column in the INSERT/UPDATE (cast: e.g. "timestamptz", or NULL);
 * it wins over a described field stored in the same column. */
void ob_write_set(ob_write *w, const char *column, const char *value, const char *cast);
/* The effective value of a datetime field after the write, in
 * microseconds since the epoch: *set false when null. */
long long ob_write_datetime_us(const ob_write *w, const char *name, const char *column,
                               bool *set);
/* {"field": ["message", ...]} with 400. */
void ob_write_answer_errors(ob_request *r, const ob_write *w);
/* Maps a failed statement: unique violation -> 400 with the resource's
 * message, foreign key violation -> 400, anything else -> 503/400. */
void ob_write_db_error(ob_write *w);

/* Facts of the stored item / of the item as the write would leave it. */
struct ob_perm_item;
void ob_write_stored_item(const ob_write *w, struct ob_perm_item *it);
int ob_write_new_item(ob_write *w, struct ob_perm_item *it);

/* Looks an item up among the rows the requester may view (or all rows,
 * for gated resources) and locks it, in the open transaction.  Returns 1
 * (w->stored set), 0 (404 answered, rolled back) or -1 (answered). */
int ob_write_lock(ob_write *w, const char *key);

/* "app.<action>_<model>" for a resource. */
const char *ob_resource_perm(ob_request *r, const ob_resource *res, const char *action);

/* Reads a JSON body for a write: 413/415/400 answered, -1. */
int ob_resource_read_body(ob_request *r);

/* Parsers shared with the hand-written handlers (unit-tested). */
/* The datetime text of ob_parse_datetime as microseconds since the epoch. */
long long ob_datetime_us(const char *norm);

#endif
