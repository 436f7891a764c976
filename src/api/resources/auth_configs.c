/* auth_configs.c - /api/auth/auth_configs/{site}/ (api-resources.md §1,
 * admin addition): the site's authentication settings.  Reads are
 * anonymous (the initial data grants view_authconfig to everybody);
 * writes are superuser-only.  Also the shape of _expand=auth_config on
 * sites. */
#include <cjson/cJSON.h>
#include <string.h>
#include "openbook/db/db.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_TRANSLATIONS 100

/* One translation, as `translations` expands.  Visibility follows the
 * config itself (model authconfig), so whoever sees the config sees its
 * texts. */
static const ob_field text_fields[] = {
    {"id", "t.id", OB_FT_TEXT, 0},
    {"parent", "t.site_id", OB_FT_INT, 0},
    {"language", "t.language", OB_FT_TEXT, 0},
    {"logout_next_text", "t.logout_next_text", OB_FT_TEXT, 0},
};

static const ob_resource auth_config_texts = {
    .app_label = "openbook_auth",
    .model = "authconfig",
    .class_name = "AuthConfigText",
    .from = "auth_config_texts t",
    .pk = &text_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    /* The id is internal: the shape is parent, language, text. */
    .fields = text_fields + 1,
    .nfields = N(text_fields) - 1,
    .default_order = "t.language",
    .guard = OB_GUARD_GLOBAL,
    .ref_sql = "t.id",
};

#define TEXT_IDS                                                                           \
    "(SELECT coalesce(json_agg(x.id ORDER BY x.language), '[]') FROM auth_config_texts x"   \
    " WHERE x.site_id = t.site_id)"

static const ob_field config_fields[] = {
    {"site", "t.site_id", OB_FT_INT, OB_FF_SORT},
    {"local_signup_allowed", "t.local_signup_allowed", OB_FT_BOOL, 0},
    {"signup_email_suffix", "t.signup_email_suffix", OB_FT_TEXT, 0},
    {"logout_next_url", "t.logout_next_url", OB_FT_TEXT, 0},
    {"signup_image", "t.signup_image", OB_FT_FILE, 0},
    {"login_image", "t.login_image", OB_FT_FILE, 0},
    {"logout_image", "t.logout_image", OB_FT_FILE, 0},
    {"password_reset_image", "t.password_reset_image", OB_FT_FILE, 0},
    {"translations", TEXT_IDS, OB_FT_JSON, OB_FF_EXPAND_ONLY},
};

static const ob_field_ref config_refs[] = {
    {.field = "translations", .expand = &auth_config_texts, .key_sql = TEXT_IDS},
};

/* One translation as written: {language, logout_next_text}. */
enum { T_LANGUAGE, T_TEXT, T_N };
static const ob_wfield text_wfields[T_N] = {
    [T_LANGUAGE] = {.name = "language", .kind = OB_W_LANGUAGE, .flags = OB_WF_REQUIRED},
    [T_TEXT] = {.name = "logout_next_text", .kind = OB_W_TEXT, .flags = OB_WF_BLANK | OB_WF_NULL,
                .max_len = 255, .def = ""},
};

/* Images: openbook_auth/AuthConfig/<site id>/<name> (api-conventions.md §13). */
static const char *image_dir(ob_write *w, const ob_wfield *f)
{
    (void)f;
    return ob_write_upload_dir(w, "openbook_auth/AuthConfig", w->key);
}

static const ob_wfield config_wfields[] = {
    {.name = "local_signup_allowed", .kind = OB_W_BOOL, .column = "local_signup_allowed"},
    {.name = "signup_email_suffix", .kind = OB_W_TEXT, .column = "signup_email_suffix",
     .flags = OB_WF_BLANK, .max_len = 255},
    {.name = "logout_next_url", .kind = OB_W_TEXT, .column = "logout_next_url",
     .flags = OB_WF_REQUIRED, .max_len = 255},
    /* Uploaded with multipart; "" clears an image (its file goes). */
    {.name = "signup_image", .kind = OB_W_FILE, .column = "signup_image", .flags = OB_WF_BLANK,
     .upload_dir = image_dir},
    {.name = "login_image", .kind = OB_W_FILE, .column = "login_image", .flags = OB_WF_BLANK,
     .upload_dir = image_dir},
    {.name = "logout_image", .kind = OB_W_FILE, .column = "logout_image", .flags = OB_WF_BLANK,
     .upload_dir = image_dir},
    {.name = "password_reset_image", .kind = OB_W_FILE, .column = "password_reset_image",
     .flags = OB_WF_BLANK, .upload_dir = image_dir},
    {.name = "translations", .kind = OB_W_OBJECT_LIST, .items = text_wfields, .nitems = T_N,
     .has_max = true, .max = MAX_TRANSLATIONS},
};

/* Writing translations replaces them all. */
static int config_after_save(ob_write *w)
{
    const ob_wvalue *t = ob_write_value(w, "translations");
    if (t->state != OB_WV_GIVEN || !t->rows)
        return 0;
    ob_request *r = w->r;
    const char *p[] = {w->new_key};
    if (!ob_db_query(r->db, r->arena, "DELETE FROM auth_config_texts WHERE site_id = $1::int", 1,
                     p))
        goto fail;
    for (int i = 0; i < t->n; i++) {
        const ob_wvalue *row = t->rows + (size_t)i * T_N;
        const char *q[] = {w->new_key, row[T_LANGUAGE].text,
                           row[T_TEXT].text ? row[T_TEXT].text : ""};
        if (!ob_db_query(r->db, r->arena,
                         "INSERT INTO auth_config_texts (site_id, language, logout_next_text)"
                         " VALUES ($1::int, $2, $3) ON CONFLICT (site_id, language)"
                         " DO UPDATE SET logout_next_text = excluded.logout_next_text",
                         3, q))
            goto fail;
    }
    return 0;
fail:
    ob_write_db_error(w);
    return -1;
}

const ob_resource ob_res_auth_configs = {
    .app_label = "openbook_auth",
    .model = "authconfig",
    .class_name = "AuthConfig",
    .from = "auth_configs t",
    .pk = &config_fields[0],
    .pk_is_int = true,
    .ref_sql = "t.site_id",
    .ref_type = "integer",
    .fields = config_fields,
    .nfields = N(config_fields),
    .default_order = "t.site_id",
    .guard = OB_GUARD_GLOBAL,
    .refs = config_refs,
    .nrefs = N(config_refs),
    .path = "/api/auth/auth_configs/",
    .summary = "Authentication settings of the site (keyed by the site id).",
    .key_name = "site",
    .ops = OB_CAN_READ | OB_CAN_UPDATE | OB_CAN_PATCH,
    .access = OB_ANON_READ,
    .write_gate = OB_ADMIN_SUPERUSER,
    .table = "auth_configs",
    .pk_column = "site_id",
    .wfields = config_wfields,
    .nwfields = N(config_wfields),
    .after_save = config_after_save,
};
