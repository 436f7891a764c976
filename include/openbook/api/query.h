/* query.h - the list query compiler: the query string of a list request
 * and a description -> SQL text and its parameters (api-conventions.md
 * §7: filters, _search, _sort).
 *
 * Pure: no database, no response; the caller answers an error as a 400
 * {key: [message]}.  The text it writes names only what the description
 * holds (field SQL, filter SQL, search SQL, sort keys) and $n
 * placeholders; every byte of the query string travels as a parameter
 * (test/fuzz/fuzz_query.c checks exactly that). */
#ifndef OPENBOOK_QUERY_H
#define OPENBOOK_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include "openbook/core/buf.h"
#include "openbook/http/parse.h"
#include "openbook/api/resource.h"

/* What the compiler reads of a request. */
typedef struct ob_query_in {
    ob_arena *arena;
    const ob_kv *params;   /* the decoded query parameters, in order */
    size_t nparams;
    bool superuser;        /* the admin fields (OB_FF_ADMIN) exist */
} ob_query_in;

/* A refused query: a value, the 400 {key: [msg]}; or, key NULL, more
 * filters and search terms than one statement takes (the 400 {"detail":
 * msg}: never a list with one left out). */
typedef struct ob_query_error {
    const char *key, *msg;
} ob_query_error;

/* Appends the filters and the _search terms to `where` as " AND (...)"
 * terms, their values to p, and writes " ORDER BY <_sort or the default
 * order>, <key>" to `order`.  0, or -1 with *err set. */
int ob_query_compile(const ob_query_in *in, const ob_resource *res, ob_sql_params *p,
                     ob_buf *where, ob_buf *order, ob_query_error *err);

/* Lookups in a description, shared with the renderer. */
/* The field named name[0..n), when it exists for this requester. */
const ob_field *ob_query_field(const ob_resource *res, const char *name, size_t n,
                               bool superuser);
/* A field's reference facts (sort key, expansion), or NULL. */
const ob_field_ref *ob_query_ref(const ob_resource *res, const ob_field *f);
/* An optional sign and 1 to 18 digits. */
bool ob_query_valid_int(const char *v);

#endif
