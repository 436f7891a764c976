/* failure.c - a request's answer to a failed statement (see db.h). */
#include <string.h>
#include "openbook/db/db.h"
#include "openbook/http/http.h"
#include "openbook/core/log.h"

void ob_db_failure(ob_request *r)
{
    /* Class 22 is "data exception": a value the database refused.  That is
     * the client's input, never a reason for a 5xx. */
    if (strncmp(ob_db_last_sqlstate(r->db), "22", 2) == 0) {
        ob_fail(r, 400, "Invalid value in request.");
        return;
    }
    ob_warn("database error on %s %s: %s", r->method_name, r->path, ob_db_last_error(r->db));
    ob_fail(r, 503, "Service temporarily unavailable.");
}
