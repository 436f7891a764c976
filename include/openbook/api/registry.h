/* registry.h - every resource description the API serves, in one list.
 *
 * The OpenAPI document (GET /api/schema/, src/api/schema.c) is generated
 * from this list, the routing table (paths, methods, access) and the
 * descriptions themselves (fields, writable fields and their validation,
 * filters, search, ordering, expansion, guard, gates).  The contract suite
 * (test/integration/test_contract.py) derives its tests from that
 * document, so a resource listed here gets them for free.
 *
 * Adding a resource: define its ob_resource (non-static) and declare it in
 * resources.h, add a row to ob_registry[] (src/api/registry.c) and its
 * routes to src/api/routes.c.  test/unit/test_schema.c fails while a route
 * collection has no row there, or a row no route.  What a description
 * carries (fields, wfields, filters, ops, gates, guard) reaches the
 * document by itself; a row only names the collection and, for handlers
 * written by hand, what their description does not say. */
#ifndef OPENBOOK_REGISTRY_H
#define OPENBOOK_REGISTRY_H

#include <stddef.h>
#include "openbook/core/buf.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"

/* The descriptions, defined next to their handlers (the permission model's
 * are declared in resources.h). */
extern const ob_resource sites, languages;                          /* core.c */
extern const ob_resource users, users_public, current_user, tokens; /* auth_users.c */

typedef enum {
    OB_REG_COLLECTION = 0, /* list at the collection, items at .../{key}/ */
    OB_REG_SINGLE,         /* the requester's own item: no key, no paging (current_user) */
    OB_REG_SHAPE,          /* no path of its own: what a reference expands to */
    OB_REG_ARRAY,          /* written by hand, no description: a plain JSON array at the
                              collection, no paging (scope_types); resource is NULL */
} ob_reg_kind;

/* What a description does not say about a field (yet), for the document. */
enum {
    OB_NOTE_NULLABLE = 1 << 0,        /* may be null in answers */
    OB_NOTE_NOT_NULLABLE = 1 << 1,    /* never null, although its type usually may be */
    OB_NOTE_UPDATE_OPTIONAL = 1 << 2, /* required on create only, not on PUT */
    OB_NOTE_SHOWN_ONCE = 1 << 3,      /* its value appears in the create's 201 only,
                                         null everywhere else (tokens) */
};

typedef struct ob_field_note {
    const char *name;
    unsigned flags;          /* OB_NOTE_* */
    int min_length;          /* characters; 0: none */
    const char *pattern;     /* ECMA regular expression the value matches */
} ob_field_note;

typedef struct ob_registry_entry {
    /* The API-root name ("core/sites"): the route with this `collection`
     * gives the path, methods and access; NULL for shapes. */
    const char *collection;
    const ob_resource *resource;    /* NULL only for OB_REG_ARRAY */
    ob_reg_kind kind;
    const char *schema_name;    /* components/schemas name; NULL: class_name */
    const char *shape_of;       /* OB_REG_SHAPE: the collection whose items these are */
    const char *summary;        /* one line for the document */
    /* Resources whose writes are written by hand (no wfields in the
     * description): their write side in the description's own terms, and
     * the admin gate of the operations in gated_ops (OB_CAN_*).  The
     * contract suite checks the handlers against these. */
    const ob_wfield *wfields;
    size_t nwfields;
    unsigned gated_ops;
    ob_admin_gate gate;
    const ob_field_note *notes;
    size_t nnotes;
} ob_registry_entry;

extern const ob_registry_entry ob_registry[];
extern const size_t ob_nregistry;

/* The row of a collection name / of a description; NULL when absent. */
const ob_registry_entry *ob_registry_find(const char *collection);
const ob_registry_entry *ob_registry_of(const ob_resource *res);

/* schema.c: the OpenAPI document.  ob_schema_write appends it to out;
 * ob_schema_json/_yaml return this process's copy, built on first use and
 * kept for the life of the worker. */
void ob_schema_write(ob_buf *out);
const char *ob_schema_json(size_t *len);
const char *ob_schema_yaml(size_t *len);

#endif
