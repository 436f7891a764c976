/* health.c - GET /api/core/sites/health/: no authentication; 200 GOOD when
 * the database answers, 503 BAD when it does not (spec deviation 18).
 *
 * Load balancers call this many times a second.  A worker whose database
 * answered a query within the last second, and whose connection is still
 * open (a non-blocking read sees a terminated backend at once), reports
 * GOOD without another round trip; otherwise it asks with SELECT 1. */
#include <time.h>
#include "openbook/db/db.h"
#include "openbook/api/routes.h"

#define FRESH_NS 1000000000LL

static int64_t last_answer_ns;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void ob_api_health(ob_request *r)
{
    int64_t now = mono_ns();
    bool good = last_answer_ns && now - last_answer_ns < FRESH_NS && ob_db_alive(r->db);
    if (!good && !ob_db_broken(r->db)) {
        good = ob_db_query(r->db, r->arena, "SELECT 1", 0, NULL) != NULL;
        if (good)
            last_answer_ns = now;
    }
    if (!good)
        last_answer_ns = 0;
    ob_json *j = ob_json_response(r, good ? 200 : 503);
    ob_json_object_begin(j);
    ob_json_kv_string(j, "status", good ? "GOOD" : "BAD");
    ob_json_object_end(j);
}
