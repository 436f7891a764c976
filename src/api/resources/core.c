/* core.c - /api/core/: health, sites and languages (api-resources.md §2). */
#include <string.h>
#include "openbook/db/db.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"

static const ob_field site_fields[] = {
    {"id", "t.id", OB_FT_INT, 0},
    {"domain", "t.domain", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_SUBSTR},
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_SUBSTR},
    {"short_name", "t.short_name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_SUBSTR},
    {"about_url", "t.about_url", OB_FT_TEXT, OB_FF_SORT},
    {"brand_color", "t.brand_color", OB_FT_TEXT, OB_FF_SORT},
    /* The auth config is keyed by the site id. */
    {"auth_config", "t.id", OB_FT_INT, 0},
};

static const ob_field_ref site_refs[] = {
    {.field = "auth_config", .expand = &ob_res_auth_configs, .key_sql = "t.id"},
};

/* Writes: the admin gate staff + change_site (api-resources.md §2). */
static const ob_wfield site_wfields[] = {
    {.name = "domain", .kind = OB_W_TEXT, .column = "domain", .flags = OB_WF_REQUIRED,
     .max_len = 100},
    {.name = "name", .kind = OB_W_TEXT, .column = "name", .flags = OB_WF_REQUIRED, .max_len = 50},
    {.name = "short_name", .kind = OB_W_TEXT, .column = "short_name", .flags = OB_WF_REQUIRED,
     .max_len = 50},
    {.name = "about_url", .kind = OB_W_TEXT, .column = "about_url", .flags = OB_WF_REQUIRED,
     .max_len = 200, .format = OB_FMT_URL},
    {.name = "brand_color", .kind = OB_W_TEXT, .column = "brand_color", .max_len = 7,
     .format = OB_FMT_COLOR},
};

static const ob_unique site_uniques[] = {
    {"sites_domain_key", "domain", "Website with this Domain already exists."},
};

const ob_resource ob_res_sites = {
    .app_label = "openbook_core",
    .model = "site",
    .class_name = "Site",
    .from = "sites t",
    .pk = &site_fields[0],
    .pk_is_int = true,
    .fields = site_fields,
    .nfields = sizeof site_fields / sizeof site_fields[0],
    .default_order = "t.domain, t.short_name, t.name",
    .guard = OB_GUARD_GLOBAL,
    .refs = site_refs,
    .nrefs = sizeof site_refs / sizeof site_refs[0],
    .path = "/api/core/sites/",
    .summary = "The site (the configured one is 1).",
    .ops = OB_CAN_READ | OB_CAN_UPDATE | OB_CAN_PATCH,
    .access = OB_ANON_READ,
    .write_gate = OB_ADMIN_STAFF_PERM,
    .table = "sites",
    .wfields = site_wfields,
    .nwfields = sizeof site_wfields / sizeof site_wfields[0],
    .uniques = site_uniques,
    .nuniques = sizeof site_uniques / sizeof site_uniques[0],
};

static const ob_field language_fields[] = {
    {"language", "t.language", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH},
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_SUBSTR},
};

/* Writes (admin addition): staff + the model permission.  The code is the
 * key, so it is set on create only; a slug, so that every code can be
 * named in a URL.  Deleting a language deletes the translations in it
 * (the foreign keys of the text tables, ON DELETE CASCADE). */
static const ob_wfield language_wfields[] = {
    {.name = "language", .kind = OB_W_TEXT, .column = "language",
     .flags = OB_WF_REQUIRED | OB_WF_CREATE_ONLY, .max_len = 3, .format = OB_FMT_SLUG},
    {.name = "name", .kind = OB_W_TEXT, .column = "name", .flags = OB_WF_REQUIRED, .max_len = 64},
};

static const ob_unique language_uniques[] = {
    {"languages_pkey", "language", "Language with this Language Code already exists."},
};

const ob_resource ob_res_languages = {
    .app_label = "openbook_core",
    .model = "language",
    .class_name = "Language",
    .from = "languages t",
    .pk = &language_fields[0],
    .pk_max_len = 3,
    .fields = language_fields,
    .nfields = sizeof language_fields / sizeof language_fields[0],
    .default_order = "t.language",
    .guard = OB_GUARD_GLOBAL,
    .path = "/api/core/languages/",
    .summary = "Languages of translated texts.",
    .key_name = "code",
    .access = OB_ANON_READ,
    .ops = OB_CAN_ALL,
    .write_gate = OB_ADMIN_STAFF_PERM,
    .table = "languages",
    .pk_column = "language",
    .wfields = language_wfields,
    .nwfields = sizeof language_wfields / sizeof language_wfields[0],
    .uniques = language_uniques,
    .nuniques = sizeof language_uniques / sizeof language_uniques[0],
};
