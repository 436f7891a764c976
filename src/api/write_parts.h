/* write_parts.h - what the files of the write side share (not a contract
 * outside src/api/: resource.h is).  write_state.c holds what hooks see of
 * a write (errors, values, queued effects), write_input.c parses the body
 * (the validator, then the lookups), write_facts.c locks the stored row
 * and gives the permission facts, write.c runs create, update and delete,
 * serve.c dispatches a resource's routes. */
#ifndef OPENBOOK_API_WRITE_PARTS_H
#define OPENBOOK_API_WRITE_PARTS_H

#include <stdbool.h>
#include "openbook/api/resource.h"

/* Stored-row columns before the wfield columns (see ob_write_lock). */
enum { COL_PK, COL_ST, COL_SU, COL_OWNER, COL_PRIO, COL_USER, COL_PENDING, COL_FIRST };
/* Whether the write gate stands in for the object permission of an
 * operation (OB_CAN_*): permissions.md §9. */
static inline bool gated(const ob_resource *res, unsigned op)
{
    return res->write_gate && (!res->gate_ops || (res->gate_ops & op));
}
static inline unsigned write_op(const ob_write *w)
{
    if (w->create)
        return OB_CAN_CREATE;
    if (w->is_delete)
        return OB_CAN_DELETE;
    return w->partial ? OB_CAN_PATCH : OB_CAN_UPDATE;
}

/* ---- errors ---- */

/* write_state.c: answers 503 (or 400, ob_db_classify) and rolls back;
 * writes w's errors as {"field": ["message", ...]} (an item of a list). */
void ob_write_fail(ob_write *w);
void ob_write_errors_json(ob_json *j, const ob_write *w);
/* write_input.c: one existence query (sql with $1, and $2, $3 when given):
 * 1 when it finds a row (*out: the result), 0, or -1 (answered). */
int ob_write_exists(ob_write *w, const char *sql, int n, const char *a, const char *b,
                    const char *c, PGresult **out);
/* write_files.c: file fields (api-conventions.md §2, §13).  Whether the
 * body is multipart. */
bool ob_request_is_multipart(const ob_request *r);
/* Reads a multipart body (files staged as they arrive, http.max_upload_bytes)
 * into r->json (the plain fields) and r->upload (the files).  0, or -1
 * answered (400, 413, 415, 500). */
int ob_write_read_upload(ob_request *r, const ob_resource *res);
/* In the transaction, after before_save: publishes each uploaded file
 * under its field's upload_dir (a unique name; the value becomes its
 * path), and queues the removal of the file a replaced or cleared field
 * named.  Published files are removed when the request ends unless
 * ob_write_keep_files ran after the COMMIT.  0, or -1 answered. */
int ob_write_publish_files(ob_write *w);
void ob_write_keep_files(ob_write *w);
/* write_input.c: every writable field of the body, 400s collected in w;
 * -1 after a database failure (answered). */
int ob_write_parse_fields(ob_write *w);
/* write_facts.c: the content-type id of res->scope_type_name, or 0. */
int ob_write_fixed_scope_type(ob_request *r, const ob_resource *res);
/* write.c: the three writes, in the order of checks of
 * api-conventions.md §5; each answers. */
void ob_write_create(ob_request *r, const ob_resource *res);
void ob_write_update(ob_request *r, const ob_resource *res, const char *key);
void ob_write_destroy(ob_request *r, const ob_resource *res, const char *key);

#endif
