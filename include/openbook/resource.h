/* resource.h - generic REST resources described by data.
 *
 * A resource is a table plus a list of fields; from that one description
 * the machinery answers list (envelope, paging, _search, _sort, filters,
 * _fields/_omit) and retrieve, with the visibility predicate inside the SQL
 * so there is one query per page, whatever the number of rows. */
#ifndef OPENBOOK_RESOURCE_H
#define OPENBOOK_RESOURCE_H

#include <stdbool.h>
#include "openbook/http.h"

typedef enum {
    OB_FT_INT,
    OB_FT_TEXT,
    OB_FT_BOOL,
    OB_FT_DATETIME,
    OB_FT_JSON,
    OB_FT_NUMBER,
    OB_FT_FILE,     /* a media path: written as its absolute URL, "" as null */
} ob_field_type;

enum {
    OB_FF_SORT = 1 << 0,      /* allowed in _sort */
    OB_FF_SEARCH = 1 << 1,    /* matched by _search */
    OB_FF_EQ = 1 << 2,        /* filter field=v (equality) */
    OB_FF_SUBSTR = 1 << 3,    /* filter field=v (case-insensitive substring) */
    OB_FF_RANGE = 1 << 4,     /* filters field__lte / field__gte */
    OB_FF_ICONTAINS = 1 << 5, /* filter field__icontains */
    OB_FF_ADMIN = 1 << 6,     /* exists for superuser requesters only: output, filters, sort */
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
} ob_field_ref;

typedef enum {
    /* Rows visible when the requester holds the view (or change) permission
     * globally: permissions.md §7 step 1 (superuser, anonymous permission,
     * model permission of the user or their groups). */
    OB_GUARD_GLOBAL,
    /* Global, plus the requester's own rows (rule U; rule T when self_perm
     * is set): permissions.md §7 step 2. */
    OB_GUARD_SELF,
} ob_guard;

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
} ob_resource;

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
#define OB_SQL_MAX_PARAMS 64
typedef struct ob_sql_params {
    const char *v[OB_SQL_MAX_PARAMS];
    int n;
} ob_sql_params;
/* Adds a parameter; returns its number ($n), or -1 when full. */
int ob_sql_param(ob_sql_params *p, const char *v);
/* Appends visible(requester, res) over the aliases of res->from. */
void ob_resource_visible_sql(ob_buf *sql, ob_sql_params *p, const ob_resource *res,
                             ob_request *r);
/* The key as the database wants it (UUIDs normalised), or NULL when it
 * cannot name an item (the caller answers 404). */
const char *ob_resource_key(ob_request *r, const ob_resource *res, const char *key);

/* Whether the requester holds <app_label>.<codename> globally
 * (permissions.md §6 without an item: superuser, anonymous permission,
 * model permission).  One query; no query for superusers.  Returns 1, 0,
 * or -1 after answering 503. */
int ob_perm_global(ob_request *r, const char *app_label, const char *codename);

/* Lower-case hyphenated UUID from any case, with or without hyphens. */
bool ob_parse_uuid(const char *in, char out[37]);
/* ISO 8601 date-time as api-conventions.md §3 accepts it (Z, a numeric
 * offset, or none = UTC); date_only_ok also takes YYYY-MM-DD (filters).
 * Writes a form PostgreSQL reads unambiguously; false if invalid. */
bool ob_parse_datetime(const char *in, bool date_only_ok, char out[40]);

/* Answers 503 for a database failure and logs it; use after a NULL result. */
void ob_db_failure(ob_request *r);

#endif
