/* api_email.c - /auth-api/{client}/v1/account/email (api-auth.md §4.14):
 * list, add, resend verification, remove, make primary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>
#include "openbook/auth/auth_api.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/auth/ratelimit.h"

typedef struct {
    bool found, verified, primary;
} address;

static const char *uid_text(ob_authapi *a)
{
    return ob_arena_printf(a->r->arena, "%lld", (long long)a->user->id);
}

static void write_list(ob_authapi *a)
{
    const char *p[] = {uid_text(a)};
    PGresult *res = ob_db_query(a->r->db, a->r->arena,
                                "SELECT email, is_primary, verified FROM email_addresses "
                                "WHERE user_id = $1::bigint ORDER BY id",
                                1, p);
    if (!res) {
        ob_authapi_db_failure(a);
        return;
    }
    ob_json *j = ob_authapi_body(a, 200);
    ob_json_key(j, "data");
    ob_json_array_begin(j);
    for (int i = 0; i < PQntuples(res); i++) {
        ob_json_object_begin(j);
        ob_json_kv_string(j, "email", PQgetvalue(res, i, 0));
        ob_json_key(j, "primary");
        ob_json_bool(j, PQgetvalue(res, i, 1)[0] == 't');
        ob_json_key(j, "verified");
        ob_json_bool(j, PQgetvalue(res, i, 2)[0] == 't');
        ob_json_object_end(j);
    }
    ob_json_array_end(j);
    ob_authapi_end(a, j);
}

static int lookup(ob_authapi *a, const char *email, address *out)
{
    const char *p[] = {uid_text(a), email};
    PGresult *res = ob_db_query(a->r->db, a->r->arena,
                                "SELECT verified, is_primary FROM email_addresses "
                                "WHERE user_id = $1::bigint AND email = $2",
                                2, p);
    if (!res)
        return -1;
    out->found = PQntuples(res) > 0;
    out->verified = out->found && PQgetvalue(res, 0, 0)[0] == 't';
    out->primary = out->found && PQgetvalue(res, 0, 1)[0] == 't';
    return 0;
}

static int run(ob_authapi *a, const char *sql, const char *email)
{
    const char *p[] = {uid_text(a), email};
    return ob_db_query(a->r->db, a->r->arena, sql, 2, p) ? 0 : -1;
}

/* Ends a write: commit, then the list (or the failure). */
static void commit_list(ob_authapi *a, int rc)
{
    if (rc != 0 || ob_db_commit(a->r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    write_list(a);
}

/* POST: add an unverified address and send its verification mail. */
static void add(ob_authapi *a, const char *email)
{
    const char *p[] = {uid_text(a), email};
    PGresult *res = ob_db_query(a->r->db, a->r->arena,
                                "SELECT count(*), bool_or(email = $2) FROM email_addresses "
                                "WHERE user_id = $1::bigint",
                                2, p);
    if (!res) {
        ob_authapi_db_failure(a);
        return;
    }
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    long max = a->r->cfg->auth_max_email_addresses;
    if (PQgetvalue(res, 0, 1)[0] == 't') {
        ob_authapi_fail(a, "duplicate_email", "email");
        return;
    }
    if (n >= max) {
        ob_authapi_add_error(a, "max_email_addresses", "email",
                             ob_arena_printf(a->r->arena, ob_authapi_msg(a, "max_email_addresses"), max));
        ob_authapi_errors(a);
        return;
    }
    int rc = ob_db_begin(a->r->db) != 0 ||
             run(a, "INSERT INTO email_addresses (user_id, email) VALUES ($1::bigint, $2)", email) ||
             ob_authapi_send_verification(a, a->user->id, a->user->username, email, false) < 0;
    commit_list(a, rc ? -1 : 0);
}

/* PUT: resend the verification mail (403 within the cooldown). */
static void resend(ob_authapi *a, const char *email, const address *ad)
{
    if (ad->verified) {
        ob_authapi_status(a, 403);
        return;
    }
    int sent = ob_db_begin(a->r->db) == 0
                   ? ob_authapi_send_verification(a, a->user->id, a->user->username, email, true)
                   : -1;
    if (sent < 0 || ob_db_commit(a->r->db) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    ob_authapi_status(a, sent ? 200 : 403);
}

static void remove_address(ob_authapi *a, const char *email, const address *ad)
{
    if (ad->primary) {
        ob_authapi_fail(a, "cannot_remove_primary_email", "email");
        return;
    }
    int rc = ob_db_begin(a->r->db) != 0 ||
             run(a, "DELETE FROM email_addresses WHERE user_id = $1::bigint AND email = $2", email) ||
             run(a, "DELETE FROM auth_keys WHERE kind = 'verify' AND user_id = $1::bigint AND email = $2",
                 email);
    commit_list(a, rc ? -1 : 0);
}

static bool truthy(const cJSON *v)
{
    if (cJSON_IsTrue(v))
        return true;
    if (cJSON_IsNumber(v))
        return v->valuedouble == 1;
    return cJSON_IsString(v) &&
           (strcasecmp(v->valuestring, "true") == 0 || strcmp(v->valuestring, "1") == 0);
}

/* PATCH: make a verified address primary and copy it to users.email; the
 * user's reset keys die with the old address. */
static void make_primary(ob_authapi *a, const char *email, const address *ad)
{
    if (!truthy(cJSON_GetObjectItemCaseSensitive(a->body, "primary"))) {
        ob_authapi_fail(a, "required", "primary");
        return;
    }
    if (!ad->verified) {
        ob_authapi_fail(a, "unverified_primary_email", "email");
        return;
    }
    int rc = ob_db_begin(a->r->db) != 0 ||
             run(a, "UPDATE email_addresses SET is_primary = false WHERE user_id = $1::bigint "
                    "AND is_primary AND email <> $2", email) ||
             run(a, "UPDATE email_addresses SET is_primary = true WHERE user_id = $1::bigint "
                    "AND email = $2", email) ||
             run(a, "UPDATE users SET email = $2 WHERE id = $1::bigint", email) ||
             run(a, "DELETE FROM auth_keys WHERE kind = 'reset' AND user_id = $1::bigint "
                    "AND email <> $2", email);
    commit_list(a, rc ? -1 : 0);
}

/* The address named by PUT/DELETE/PATCH: any address that is not one of
 * the user's, malformed ones included, is unknown_email. */
static void change(ob_authapi *a)
{
    const char *email;
    if (ob_authapi_string(a, "email", 254, OB_FIELD_TRIM | OB_FIELD_REQUIRED, &email) != 1) {
        ob_authapi_errors(a);
        return;
    }
    email = ob_authapi_lower(a, email);
    address ad;
    if (lookup(a, email, &ad) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    if (!ad.found)
        ob_authapi_fail(a, "unknown_email", "email");
    else if (a->r->method == OB_PUT)
        resend(a, email, &ad);
    else if (a->r->method == OB_DELETE)
        remove_address(a, email, &ad);
    else
        make_primary(a, email, &ad);
}

void ob_authapi_email(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    if (!a->user) {
        ob_authapi_unauthenticated(a);
        return;
    }
    if (r->method == OB_GET || r->method == OB_HEAD) {
        write_list(a);
        return;
    }
    long wait = ob_ratelimit_hit(r, &ob_rate_manage_email, ob_authapi_user_key(a));
    if (wait) {
        ob_authapi_throttled(a, wait);
        return;
    }
    if (ob_authapi_read_body(a) != 0)
        return;
    /* Deliberate (§4.14): changes need a recent authentication. */
    if (r->method != OB_PUT && !ob_authapi_recent(a)) {
        ob_authapi_reauth_required(a);
        return;
    }
    if (r->method != OB_POST) {
        change(a);
        return;
    }
    const char *email = ob_authapi_email_field(a);
    if (a->nerrors)
        ob_authapi_errors(a);
    else
        add(a, email);
}
