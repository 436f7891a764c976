/* ws_ticket.c - POST /api/ws/ticket/ (websocket.md §3): a short-lived,
 * single-use ticket for the channels the caller may view.  The relay has
 * no database; this check is the only one. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "openbook/http/jsonvalue.h"
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"
#include "openbook/core/ticket.h"
#include "openbook/api/ws.h"

static void field_error(ob_request *r, const char *msg)
{
    ob_json *j = ob_json_response(r, 400);
    ob_json_object_begin(j);
    ob_json_key(j, "channels");
    ob_json_array_begin(j);
    ob_json_string(j, msg);
    ob_json_array_end(j);
    ob_json_object_end(j);
}

/* openbook_core.view_htmllibrary, globally (permissions.md §6 without an
 * item): an active superuser, an anonymous permission, or a model
 * permission of the user or one of their groups; change_htmllibrary also
 * grants view (step 5).  One query. */
static int library_allowed(ob_request *r)
{
    if (r->user && r->user->is_superuser)
        return 1;
    const char *uid = r->user ? ob_arena_printf(r->arena, "%lld", (long long)r->user->id) : NULL;
    const char *params[] = {uid};
    PGresult *res = ob_db_query(
        r->db, r->arena,
        "SELECT EXISTS (SELECT 1 FROM permissions p"
        " JOIN content_types ct ON ct.id = p.content_type_id"
        " WHERE ct.app_label = 'openbook_core'"
        " AND p.codename IN ('view_htmllibrary', 'change_htmllibrary')"
        " AND (EXISTS (SELECT 1 FROM anonymous_permissions ap WHERE ap.permission_id = p.id)"
        "  OR EXISTS (SELECT 1 FROM user_permissions up"
        "   WHERE up.user_id = $1::bigint AND up.permission_id = p.id)"
        "  OR EXISTS (SELECT 1 FROM user_groups ug"
        "   JOIN group_permissions gp ON gp.group_id = ug.group_id"
        "   WHERE ug.user_id = $1::bigint AND gp.permission_id = p.id)))",
        1, params);
    if (!res) {
        ob_db_failure(r);
        return -1;
    }
    return PQgetvalue(res, 0, 0)[0] == 't';
}

/* allowed(user, view_<model>, item) for a course or textbook channel: the
 * list's visibility predicate on that one row.  A malformed or unknown id
 * is simply denied, like an invisible one (nothing tells them apart). */
static int item_visible(ob_request *r, const ob_resource *res, const char *id)
{
    char uuid[37];
    if (strlen(id) > 36 || !ob_parse_uuid(id, uuid))
        return 0;
    ob_sql_params p = {.n = 0};
    ob_buf sql;
    ob_buf_init(&sql, r->arena);
    ob_buf_printf(&sql, "SELECT 1 FROM %s WHERE ", res->from);
    ob_resource_visible_sql(&sql, &p, res, r);
    ob_buf_printf(&sql, " AND t.id = $%d::uuid", ob_sql_param(&p, ob_arena_strdup(r->arena, uuid)));
    PGresult *pg = ob_db_query(r->db, r->arena, ob_buf_cstr(&sql), p.n, p.v);
    if (!pg) {
        ob_db_failure(r);
        return -1;
    }
    return PQntuples(pg) > 0;
}

int ob_ws_channel_allowed(ob_request *r, const char *channel)
{
    if (strncmp(channel, "user:", 5) == 0) {
        /* Only that user (websocket.md §2). */
        return r->user && r->user->id == strtoll(channel + 5, NULL, 10);
    }
    if (strcmp(channel, "library:updates") == 0)
        return library_allowed(r);
    if (strncmp(channel, "course:", 7) == 0)
        return item_visible(r, &ob_res_courses, channel + 7);
    if (strncmp(channel, "textbook:", 9) == 0)
        return item_visible(r, &ob_res_textbooks, channel + 9);
    return 0;
}

/* Validates the list; returns the trimmed names (arena) or NULL with the
 * 400 answer set. */
static char **read_channels(ob_request *r, size_t *count)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(r->json, "channels");
    if (!list) {
        field_error(r, "This field is required.");
        return NULL;
    }
    if (cJSON_IsNull(list)) {
        field_error(r, "This field may not be null.");
        return NULL;
    }
    if (!cJSON_IsArray(list)) {
        field_error(r, ob_arena_printf(r->arena, "Expected a list of items but got type \"%s\".",
                                       ob_json_type_name(list)));
        return NULL;
    }
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (n == 0) {
        field_error(r, "This list may not be empty.");
        return NULL;
    }
    if (n > (size_t)r->cfg->relay_max_channels) {
        field_error(r, ob_arena_printf(r->arena, "Ensure this field has no more than %ld elements.",
                                       r->cfg->relay_max_channels));
        return NULL;
    }
    char **names = ob_arena_calloc(r->arena, n, sizeof *names);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const char *s;
        if (cJSON_IsString(it)) {
            s = it->valuestring;
        } else if (cJSON_IsNumber(it)) {
            /* Like the original's CharField: numbers become their text
             * (and then are no channel name). */
            double d = it->valuedouble;
            s = ob_json_integral(d) ? ob_arena_printf(r->arena, "%lld", (long long)d)
                                          : ob_arena_printf(r->arena, "%.15g", d);
        } else if (cJSON_IsNull(it)) {
            field_error(r, "This field may not be null.");
            return NULL;
        } else {
            field_error(r, "Not a valid string.");
            return NULL;
        }
        /* Strings are trimmed before validation (api-conventions.md §2). */
        size_t len = strlen(s);
        while (len && isspace((unsigned char)*s)) {
            s++;
            len--;
        }
        while (len && isspace((unsigned char)s[len - 1]))
            len--;
        if (!ob_ws_channel_valid(s, len)) {
            ob_buf m;
            ob_buf_init(&m, r->arena);
            /* The name is echoed: cut it so the answer stays small. */
            ob_buf_printf(&m, "Unknown channel '%.*s'.", (int)(len > 100 ? 100 : len), s);
            field_error(r, m.data);
            return NULL;
        }
        names[i++] = ob_arena_strndup(r->arena, s, len);
    }
    *count = n;
    return names;
}

void ob_api_ws_ticket(ob_request *r)
{
    if (ob_request_read_json(r) != 0)
        return;
    size_t n = 0;
    char **names = read_channels(r, &n);
    if (!names)
        return;
    ob_ticket_keys keys;
    if (ob_ticket_keys_from_config(&keys, r->cfg) != 0) {
        ob_error("ws ticket: neither relay.ticket_secret nor security.secret_key is set");
        ob_fail(r, 503, "Service temporarily unavailable.");
        return;
    }
    const char **granted = ob_arena_calloc(r->arena, n, sizeof *granted);
    const char **denied = ob_arena_calloc(r->arena, n, sizeof *denied);
    size_t ng = 0, nd = 0;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++)
            dup = strcmp(names[k], names[i]) == 0;
        if (dup)
            continue; /* "in request order, without duplicates" */
        int ok = ob_ws_channel_allowed(r, names[i]);
        if (ok < 0)
            return;
        if (ok)
            granted[ng++] = names[i];
        else
            denied[nd++] = names[i];
    }
    if (ng == 0) {
        ob_fail(r, 403, "You do not have permission to perform this action.");
        return;
    }
    ob_ticket t;
    memset(&t, 0, sizeof t);
    t.anonymous = r->user == NULL;
    t.uid = r->user ? r->user->id : 0;
    t.exp = (int64_t)time(NULL) + r->cfg->relay_ticket_ttl;
    t.channels = granted;
    t.nchannels = ng;
    char *ticket = ob_ticket_sign(&keys, r->arena, &t);

    time_t exp = (time_t)t.exp;
    struct tm tm;
    gmtime_r(&exp, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);

    ob_json *j = ob_json_response(r, 200);
    ob_json_object_begin(j);
    ob_json_kv_string(j, "ticket", ticket);
    ob_json_kv_string(j, "expires_at", when);
    ob_json_key(j, "channels");
    ob_json_array_begin(j);
    for (size_t i = 0; i < ng; i++)
        ob_json_string(j, granted[i]);
    ob_json_array_end(j);
    ob_json_key(j, "denied");
    ob_json_array_begin(j);
    for (size_t i = 0; i < nd; i++)
        ob_json_string(j, denied[i]);
    ob_json_array_end(j);
    ob_json_object_end(j);
}
