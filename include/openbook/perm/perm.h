/* perm.h - the permission engine (permissions.md §6, §7, §9).
 *
 * Per request, what the requester holds is loaded once (one query, lazily):
 * the global grants (anonymous permissions; model permissions of the user
 * and their groups), the effective role assignments with their role's
 * priority and permissions (§6.1), and the scopes the user owns.  The
 * permission catalogue and the content types are cached per process.
 *
 * From that, allowed() answers the algorithm of §6 for one item in C, and
 * ob_perm_visible_sql() writes the equivalent row predicate of §7 for a
 * list, so a list costs one query for the page whatever the number of
 * rows.  Items are described by their permission facts (ob_perm_item):
 * the same facts come from a stored row (a lookup selects the resource's
 * fact expressions) or from the validated input of a write. */
#ifndef OPENBOOK_PERM_H
#define OPENBOOK_PERM_H

#include <stdbool.h>
#include <stdint.h>
#include "openbook/db/db.h"
#include "openbook/http/http.h"

typedef enum {
    /* Rows visible when the requester holds the view (or change) permission
     * globally: permissions.md §7 step 1 (superuser, anonymous permission,
     * model permission of the user or their groups). */
    OB_GUARD_GLOBAL,
    /* Global, plus the requester's own rows (rule U; rule T when self_perm
     * is set): permissions.md §7 step 2. */
    OB_GUARD_SELF,
    /* Global, plus rule R on the row's scope (scope_*_sql): scope items
     * (courses, library groups) and the extension types of §5. */
    OB_GUARD_SCOPE,
    /* Global, plus rule S (owner; R for view; R for change with the
     * priority guard): roles, role assignments, enrollment methods. */
    OB_GUARD_SCOPED,
    /* Rule S, plus the requester's own requests (user_sql). */
    OB_GUARD_ACCESS_REQUEST,
} ob_guard;


/* ---- catalogue (cached per process) ---- */

/* One row of the catalogue: kind 'c', a content type (name: the model,
 * label: its verbose name), or 'p', a permission (name: the codename). */
typedef struct ob_perm_cat_row {
    char kind;
    int id;
    const char *app_label, *name, *label;
} ob_perm_cat_row;
/* Replaces the catalogue with these rows (copied): what the first lookup
 * of a process loads from the database, and what unit tests set.  NULL:
 * forgets it (the next lookup loads it). */
void ob_perm_catalogue_set(const ob_perm_cat_row *rows, size_t n);

/* The content-type id of "app_label.model", or 0.  May query (once per
 * process, and again after a miss). */
int ob_perm_content_type(ob_request *r, const char *app_label, const char *model);
/* The verbose name of a content type ("Course"; the model name when the
 * catalogue has none). */
const char *ob_perm_content_type_label(ob_request *r, int id);
/* The permission id of "app_label.codename", or 0 when the catalogue has
 * no such permission (the caller answers 400).  -1: database failure
 * (503 answered). */
int ob_perm_id(ob_request *r, const char *perm_string);
/* Same, from the two halves. */
int ob_perm_id2(ob_request *r, const char *app_label, const char *codename);

/* ---- scope types (permissions.md §4) ---- */

typedef struct ob_scope_type {
    const char *app_label;   /* "openbook_content" */
    const char *model;       /* "course" */
    const char *label;       /* "Course" (verbose name) */
} ob_scope_type;

/* The registry (src/perm/catalogue.c).  The scope objects themselves are found
 * through the SQL view scope_objects (migration 0003; the migration that
 * creates the scope tables redefines it). */
extern const ob_scope_type ob_scope_types[];
extern const size_t ob_nscope_types;
const ob_scope_type *ob_scope_type_by_name(const char *app_label, const char *model);

/* ---- the requester ---- */

bool ob_perm_is_superuser(const ob_request *r);
/* Loads what the requester holds (no-op after the first call).  Returns 0
 * or -1 after answering 503. */
int ob_perm_load(ob_request *r);

/* What a logged-in user holds (permissions.md §6.1), one row per grant:
 * kind ('a' anonymous, 'm' model, 'r' effective assignment, 'o' owned
 * scope) and four text columns.  UID is SQL for the user's id. */
#define OB_PERM_ROWS_SQL(UID)                                                                  \
    "SELECT 'a' AS k, permission_id::text AS v, NULL AS u, NULL AS p, NULL AS l"               \
    " FROM anonymous_permissions"                                                              \
    " UNION ALL SELECT 'm', up.permission_id::text, NULL, NULL, NULL"                          \
    " FROM user_permissions up WHERE up.user_id = " UID                                        \
    " UNION ALL SELECT 'm', gp.permission_id::text, NULL, NULL, NULL FROM user_groups ug"      \
    " JOIN group_permissions gp ON gp.group_id = ug.group_id WHERE ug.user_id = " UID          \
    " UNION ALL SELECT 'r', ra.scope_type_id::text, ra.scope_uuid::text, ro.priority::text,"   \
    " (SELECT coalesce(string_agg(rp.permission_id::text, ','), '') FROM role_permissions rp"  \
    " WHERE rp.role_id = ro.id)"                                                               \
    " FROM role_assignments ra JOIN roles ro ON ro.id = ra.role_id"                            \
    " WHERE ra.user_id = " UID " AND ra.is_active AND ro.is_active"                            \
    " AND (ra.start_date IS NULL OR ra.start_date <= now())"                                   \
    " AND (ra.end_date IS NULL OR ra.end_date > now())"                                        \
    " UNION ALL SELECT 'o', so.scope_type_id::text, so.scope_uuid::text, NULL, NULL"           \
    " FROM scope_objects so WHERE so.owner_id = " UID

/* The same rows as one text column of an authentication query whose user
 * is `u` (NULL for superusers, who need none): the authentication of a
 * read request fetches them with the user, which saves the round trip of
 * ob_perm_load.  Fields are separated by '|', rows by ';' (the values are
 * integers, uuids and comma-separated integers). */
#define OB_PERM_PRELOAD_COL                                                                    \
    "CASE WHEN u.is_superuser THEN NULL ELSE (SELECT coalesce(string_agg(x.k || '|' || x.v"    \
    " || '|' || coalesce(x.u, '') || '|' || coalesce(x.p, '') || '|' || coalesce(x.l, ''),"     \
    " ';'), '') FROM (" OB_PERM_ROWS_SQL("u.id") ") x) END"

/* Takes the rows of OB_PERM_PRELOAD_COL for r->user (already set, active);
 * a NULL or malformed text leaves the lazy ob_perm_load in place. */
void ob_perm_preload(ob_request *r, const char *text);

/* Global check (§6 without an item): superuser, anonymous permission,
 * model permission.  1, 0, or -1 (answered). */
int ob_perm_global_id(ob_request *r, int perm_id);
/* The same for <app_label>.<codename>: no query for superusers. */
int ob_perm_global(ob_request *r, const char *app_label, const char *codename);
/* Whether perm_id is one of the requester's *model* permissions (user or
 * group, not anonymous): the admin gate counts only these (§9). */
int ob_perm_model(ob_request *r, int perm_id);

/* The admin gate of §9.  Returns 0 when the requester passes, else answers
 * 403 (with "Authentication credentials were not provided." for anonymous
 * callers) and returns -1.  perm is "app.codename" (staff + P), NULL for
 * superuser-only. */
int ob_perm_admin_gate(ob_request *r, const char *perm);
/* Whether the requester passes that gate, without answering: 1, 0, or -1
 * (answered 503). */
int ob_perm_admin_holds(ob_request *r, const char *perm);

/* ---- items ---- */

typedef enum {
    OB_RULE_NONE = 0,   /* global grants only */
    OB_RULE_USER,       /* rule U: the item is a user (user_id) */
    OB_RULE_TOKEN,      /* rule T: owner user_id, with self_perm held globally */
    OB_RULE_SCOPE,      /* rule R on the item's scope (scope items and extension types) */
    OB_RULE_SCOPED,     /* rule S: roles, assignments, methods (priority guard) */
    OB_RULE_ACCESS_REQUEST, /* own request first, then rule S */
} ob_rule;

/* The permission facts of one item. */
typedef struct ob_perm_item {
    ob_rule rule;
    int64_t user_id;          /* U: the user; T: the owner; access request: its user */
    int scope_type_id;        /* R/S: the scope (0/NULL: none, e.g. a new scope) */
    const char *scope_uuid;
    int64_t owner_id;         /* an owner of the item itself (scope items), 0: none */
    int priority;             /* S: the role's priority (or the role's own) */
    bool pending;             /* access request: decision is pending */
    const char *self_perm;    /* T: "app.codename" held globally for own items */
} ob_perm_item;

/* allowed(user, perm, item) of §6 ("app.codename").  1, 0, or -1 after
 * answering 503.  item NULL: a global check. */
int ob_perm_allowed(ob_request *r, const char *perm, const ob_perm_item *item);

/* ---- list visibility (§7) ---- */

/* What the predicate needs of a kind of row: its model (for the view and
 * change permissions), its guard, and SQL over its table's aliases for
 * the row's permission facts (permissions.md §5; resource.h says what
 * each is).  NULL: the row has no such fact. */
typedef struct ob_perm_rows {
    const char *app_label, *model;
    ob_guard guard;
    const char *key_sql;         /* the row's key: a scope item whose scope is itself */
    const char *self_sql;        /* SELF: the row's user */
    const char *self_perm;       /* SELF: codename held globally to see own rows */
    const char *owner_sql;       /* the row's own owner */
    const char *user_sql;        /* ACCESS_REQUEST: the requesting user */
    const char *scope_type_sql;  /* the scope's content type, or ... */
    const char *scope_type_name; /* ... a fixed one, "app.model" */
    const char *scope_uuid_sql;
    const char *priority_sql;    /* SCOPED: what the priority guard compares */
    const char *restrict_sql;    /* rows only superusers see otherwise */
} ob_perm_rows;

/* Appends the predicate "the requester may view this row", equivalent to
 * allowed(view_<model>) row by row.  Returns 0, or -1 after answering
 * 503. */
int ob_perm_visible_sql(ob_buf *sql, ob_sql_params *p, const ob_perm_rows *rows, ob_request *r);

/* Rule R as a predicate for a scope given by SQL expressions (type id and
 * uuid) and perm ids (view and change of the type).  Used by
 * ob_perm_visible_sql and by the scope_types objects list. */
int ob_perm_scope_sql(ob_buf *sql, ob_sql_params *p, ob_request *r, const char *type_sql,
                      const char *uuid_sql, const int *perm_ids, int nperm);

/* The requester's effective assignment with the highest priority in a
 * scope: its priority, or -1 when there is none. */
int ob_perm_max_priority(ob_request *r, int scope_type_id, const char *scope_uuid);

#endif
