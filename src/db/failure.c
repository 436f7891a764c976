/* failure.c - the /api/ answer to a failed statement (db.h: what a
 * SQLSTATE means is ob_db_classify's, the same for every API). */
#include "openbook/db/db.h"
#include "openbook/http/http.h"
#include "openbook/core/log.h"

void ob_db_failure(ob_request *r)
{
    ob_db_class c = ob_db_classify(ob_db_last_sqlstate(r->db));
    if (ob_db_class_status(c) == 400) {
        /* A value the database refused is the client's input, never a
         * reason for a 5xx. */
        ob_fail(r, 400, "Invalid value in request.");
        return;
    }
    ob_warn("database error on %s %s: %s", r->method_name, r->path, ob_db_last_error(r->db));
    ob_fail(r, 503, "Service temporarily unavailable.");
}
