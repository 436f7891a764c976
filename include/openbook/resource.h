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
} ob_field_type;

enum {
    OB_FF_SORT = 1 << 0,      /* allowed in _sort */
    OB_FF_SEARCH = 1 << 1,    /* matched by _search */
    OB_FF_EQ = 1 << 2,        /* filter field=v (equality) */
    OB_FF_SUBSTR = 1 << 3,    /* filter field=v (case-insensitive substring) */
    OB_FF_RANGE = 1 << 4,     /* filters field__lte / field__gte */
    OB_FF_ICONTAINS = 1 << 5, /* filter field__icontains */
};

typedef struct ob_field {
    const char *name;   /* JSON name */
    const char *sql;    /* SQL expression, e.g. "t.domain" */
    ob_field_type type;
    unsigned flags;
} ob_field;

typedef enum {
    /* Rows visible when the requester holds the view (or change) permission
     * globally: permissions.md §7 step 1. */
    OB_GUARD_GLOBAL,
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
} ob_resource;

/* GET on the collection / on /{key}/ (the key is path parameter 0). */
void ob_resource_list(ob_request *r, const ob_resource *res);
void ob_resource_retrieve(ob_request *r, const ob_resource *res);

/* Answers 503 for a database failure and logs it; use after a NULL result. */
void ob_db_failure(ob_request *r);

#endif
