/* core.c - /api/core/: health, sites and languages (api-resources.md §2). */
#include <string.h>
#include "openbook/db.h"
#include "openbook/resource.h"
#include "openbook/routes.h"

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

static const ob_resource sites = {
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
};

static const ob_field language_fields[] = {
    {"language", "t.language", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH},
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_SUBSTR},
};

static const ob_resource languages = {
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
};

void ob_api_sites_list(ob_request *r) { ob_resource_list(r, &sites); }
void ob_api_sites_get(ob_request *r) { ob_resource_retrieve(r, &sites); }
void ob_api_languages_list(ob_request *r) { ob_resource_list(r, &languages); }
void ob_api_languages_get(ob_request *r) { ob_resource_retrieve(r, &languages); }
