/* describe.c - facts of a description that both sides use: the permission
 * strings of its model, its rows' permission facts for the engine's
 * visibility predicate, the choices shared by several descriptions. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/redis/events.h"
#include "openbook/http/fields.h"
#include "openbook/http/jsonvalue.h"
#include "openbook/core/log.h"
#include "openbook/perm/perm.h"
#include "openbook/api/resource.h"
#include "openbook/http/validate.h"
#include "write_parts.h"

const char *const ob_text_formats[] = {"TEXT", "HTML", "MD", NULL};
const char *const ob_duration_periods[] = {"", "minutes", "hours", "days", "weeks", "months",
                                           "years", NULL};
const char *ob_resource_perm(ob_request *r, const ob_resource *res, const char *action)
{
    return ob_arena_printf(r->arena, "%s.%s_%s", res->app_label, action, res->model);
}

/* The visibility predicate of permissions.md §7, written by the engine
 * (src/perm/) from what the requester holds and the description's facts.
 * -1: answered (503). */
int ob_resource_visible(ob_buf *sql, ob_sql_params *p, const ob_resource *res, ob_request *r)
{
    ob_perm_rows rows = {
        .app_label = res->app_label,
        .model = res->model,
        .guard = res->guard,
        .key_sql = res->pk->sql,
        .self_sql = res->self_sql,
        .self_perm = res->self_perm,
        .owner_sql = res->owner_sql,
        .user_sql = res->user_sql,
        .scope_type_sql = res->scope_type_sql,
        .scope_type_name = res->scope_type_name,
        .scope_uuid_sql = res->scope_uuid_sql,
        .priority_sql = res->priority_sql,
        .restrict_sql = res->restrict_sql,
    };
    return ob_perm_visible_sql(sql, p, &rows, r);
}

void ob_resource_visible_sql(ob_buf *sql, ob_sql_params *p, const ob_resource *res,
                             ob_request *r)
{
    if (ob_resource_visible(sql, p, res, r) != 0)
        ob_buf_puts(sql, "false"); /* the 503 is answered; keep the SQL valid */
}
