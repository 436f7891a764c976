/* api_config.c - GET /auth-api/{client}/v1/config (api-auth.md §4.1). */
#include "openbook/auth/auth_api.h"

static void kv_bool(ob_json *j, const char *key, bool v)
{
    ob_json_key(j, key);
    ob_json_bool(j, v);
}

void ob_authapi_config(ob_request *r)
{
    ob_authapi *a = ob_authapi_begin(r);
    bool open;
    const char *suffix;
    if (ob_authapi_signup_config(a, &open, &suffix) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    ob_json *j = ob_authapi_body(a, 200);
    ob_json_key(j, "data");
    ob_json_object_begin(j);
    ob_json_key(j, "account");
    ob_json_object_begin(j);
    ob_json_key(j, "login_methods");
    ob_json_array_begin(j);
    ob_json_string(j, "username");
    ob_json_array_end(j);
    kv_bool(j, "is_open_for_signup", open);
    kv_bool(j, "email_verification_by_code_enabled", false);
    kv_bool(j, "login_by_code_enabled", true);
    kv_bool(j, "password_reset_by_code_enabled", false);
    ob_json_kv_string(j, "authentication_method", "username");
    ob_json_object_end(j);
    ob_json_key(j, "socialaccount");
    ob_json_object_begin(j);
    ob_json_key(j, "providers");
    ob_json_array_begin(j);
    ob_json_array_end(j);
    ob_json_object_end(j);
    ob_json_object_end(j);
    ob_authapi_end(a, j);
}
