/* read_parts.h - what the files of the read side share (not a contract
 * outside src/api/: resource.h is).  read.c answers lists and items,
 * mask.c says which fields a request shows, expand.c plans and fetches
 * the expansions and builds the SELECT list, render.c writes the rows as
 * JSON. */
#ifndef OPENBOOK_API_READ_PARTS_H
#define OPENBOOK_API_READ_PARTS_H

#include <stdbool.h>
#include <libpq-fe.h>
#include "openbook/api/resource.h"

struct cJSON;

typedef struct expansions expansions;
typedef struct {
    size_t field;        /* index in res->fields */
    int col;             /* column of the stored key in the outer result */
    const char *key_sql; /* the stored key (a JSON array of keys for lists) */
    const ob_field_ref *ref;
    const ob_resource *target;
    PGresult *pg;        /* the visible referenced rows; key in the last column */
    bool *show;
    const char *prefix;
    bool list;           /* a list of references (JSON-typed field) */
    bool expand;         /* asked for in _expand; else only filters a plain id list */
    expansions *sub;     /* nested expansions of the target (dotted _expand) */
} expansion;
/* At most one per field of the resource: every expansion the resource
 * offers can be asked for at once (api-conventions.md §8 limits only the
 * depth), and every plain id list that needs filtering gets its entry. */
struct expansions {
    expansion *e;
    size_t n;
};

/* mask.c: the fields to show at one level (prefix "" at the top, "user."
 * inside an expanded user): _fields, then _omit, the admin fields for
 * superusers only, expand-only fields when expanded. */
bool ob_mask_field_exists(const ob_request *r, const ob_field *f);
bool ob_mask_listed(const char *list, const char *prefix, const char *name);
void ob_mask_fields(ob_request *r, const ob_resource *res, const char *prefix, bool *show);

/* expand.c: the expansions a request asks for (and the id lists that
 * show only visible items); the SELECT list of a resource with their key
 * columns; one query per expansion for the whole page; the keys of a
 * JSON key list. */
void ob_expand_plan(ob_request *r, const ob_resource *res, expansions *ex);
int ob_expand_select(ob_request *r, ob_sql_params *p, ob_buf *sql, const ob_resource *res,
                     const expansions *ex);
int ob_expand_fetch(ob_request *r, expansions *ex, const PGresult *outer);
const struct cJSON *ob_expand_keys(ob_request *r, const char *text);
const char *ob_expand_key_text(ob_arena *a, const struct cJSON *it);

/* render.c: one row as a JSON object (expanded references inline). */
void ob_render_row(ob_request *r, ob_json *j, const ob_resource *res, const bool *show,
                   const PGresult *pg, int row, const expansions *ex, const ob_item_opts *o);

#endif
