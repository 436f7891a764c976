/* html_libraries.c - /api/core/html_library/ (api-resources.md §2,
 * libraries.md): the five read resources (libraries, texts, versions,
 * components, component definitions), PATCH of a library's `published`,
 * the DELETE of a library or a version (uninstall), and
 * POST /api/core/html_library/install/.  Installing and uninstalling are
 * the install routine's (src/library/install.c), which the command-line
 * installer shares. */
#include <cjson/cJSON.h>
#include <string.h>
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/files/upload.h"
#include "openbook/http/multipart.h"
#include "openbook/library/library.h"
#include "openbook/perm/perm.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define APP "openbook_core"
#define LIB_JOIN " JOIN html_libraries tl ON tl.id = t.parent_id"
#define ICONTAINS(param, column) {.name = param, .kind = OB_FILT_SUBSTR, .sql = column " ILIKE $1"}

/* ---- libraries ---- */

static const ob_field library_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"fqn", "'@' || t.organization || '/' || t.name", OB_FT_TEXT, OB_FF_SORT},
    {"organization", "t.organization", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS},
    {"name", "t.name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS},
    {"author", "t.author", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS},
    {"license", "t.license", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS},
    {"website", "t.website", OB_FT_TEXT, OB_FF_SORT},
    {"coderepo", "t.coderepo", OB_FT_TEXT, OB_FF_SORT},
    {"bugtracker", "t.bugtracker", OB_FT_TEXT, OB_FF_SORT},
    {"readme", "t.readme", OB_FT_TEXT, 0},
    {"text_format", "t.text_format", OB_FT_TEXT, OB_FF_SORT},
    {"published", "t.published", OB_FT_BOOL, OB_FF_SORT | OB_FF_EQ},
    {"translations", "NULL", OB_FT_JSON, 0},
    {"versions", "NULL", OB_FT_JSON, 0},
    {"components", "NULL", OB_FT_JSON, 0},
    OB_AUDIT_FIELDS,
};

static const ob_field_ref library_refs[] = {
    {.field = "translations", .expand = &ob_res_html_library_texts, .link_sql = "t.parent_id",
     .key_sql = "NULL"},
    {.field = "versions", .expand = &ob_res_html_library_versions, .link_sql = "t.parent_id",
     .key_sql = "NULL"},
    {.field = "components", .expand = &ob_res_html_components, .link_sql = "t.library_id",
     .key_sql = "NULL"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

/* Everything but `published` is the install's (libraries.md §3). */
static const ob_wfield library_wfields[] = {
    {.name = "published", .kind = OB_W_BOOL, .column = "published"},
};

/* An answer for a failed install or uninstall (the routine logged why). */
static void answer_failure(ob_request *r, const ob_lib_result *res, const char *class_name)
{
    switch (res->status) {
    case OB_LIB_OK:
        break;
    case OB_LIB_BAD_ARCHIVE: {
        ob_json *j = ob_json_response(r, 400);
        ob_json_object_begin(j);
        ob_json_key(j, "file");
        ob_json_array_begin(j);
        for (size_t i = 0; i < res->nmessages; i++)
            ob_json_string(j, res->messages[i]);
        ob_json_array_end(j);
        ob_json_object_end(j);
        break;
    }
    case OB_LIB_EXISTS:
    case OB_LIB_DEPENDANTS:
        ob_fail(r, 409, res->messages[0]);
        break;
    case OB_LIB_FORBIDDEN:
        ob_fail(r, 403, "You do not have permission to perform this action.");
        break;
    case OB_LIB_NOT_FOUND:
        ob_failf(r, 404, "No %s matches the given query.", class_name);
        break;
    case OB_LIB_DB:
        ob_db_failure(r);
        break;
    case OB_LIB_IO:
        ob_fail(r, 500, "Internal server error.");
        break;
    }
}

static ob_lib_ctx lib_ctx(ob_request *r)
{
    return (ob_lib_ctx){.arena = r->arena, .cfg = r->cfg, .db = r->db, .redis = r->redis};
}

/* A boolean as api-conventions.md §2 reads it ("true", "1", ...), with the
 * validator's message; *out keeps its default when text is NULL.  0, or
 * -1 (400 answered). */
static int boolean(ob_request *r, const char *name, const char *text, bool *out)
{
    if (!text)
        return 0;
    const ob_wfield f = {.name = name, .kind = OB_W_BOOL};
    cJSON *in = cJSON_CreateString(text);
    ob_wvalue v = {0};
    const char *errs[2];
    int nerr = ob_wfield_parse(r->arena, &f, in, &v, errs);
    cJSON_Delete(in);
    if (nerr) {
        ob_json *j = ob_json_response(r, 400);
        ob_json_object_begin(j);
        ob_json_key(j, name);
        ob_json_array_begin(j);
        ob_json_string(j, errs[0]);
        ob_json_array_end(j);
        ob_json_object_end(j);
        return -1;
    }
    *out = v.num != 0;
    return 0;
}

/* DELETE of a library or a version: the uninstall of libraries.md §6,
 * refused with 409 while others depend on it, unless ?force=true. */
static void uninstall(ob_request *r, bool library)
{
    const ob_resource *res = r->route_data;
    if (ob_perm_admin_gate(r, ob_resource_perm(r, res, "delete")) != 0)
        return;
    const char *key = ob_resource_key(r, res, r->path_params[0]);
    bool force = false;
    if (!key) {
        ob_failf(r, 404, "No %s matches the given query.", res->class_name);
        return;
    }
    if (boolean(r, "force", ob_request_query(r, "force"), &force) != 0)
        return;
    ob_lib_ctx c = lib_ctx(r);
    ob_lib_result out;
    if ((library ? ob_library_uninstall(&c, key, force, &out)
                 : ob_library_uninstall_version(&c, key, force, &out)) != OB_LIB_OK) {
        answer_failure(r, &out, res->class_name);
        return;
    }
    r->res.status = 204;
    ob_buf_reset(&r->res.body);
}

static void library_destroy(ob_request *r)
{
    uninstall(r, true);
}

const ob_resource ob_res_html_libraries = {
    .app_label = APP,
    .model = "htmllibrary",
    .class_name = "HTMLLibrary",
    .from = "html_libraries t" OB_AUDIT_JOINS,
    .pk = &library_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = library_fields,
    .nfields = N(library_fields),
    .default_order = "t.organization, t.name",
    .guard = OB_GUARD_GLOBAL,
    .refs = library_refs,
    .nrefs = N(library_refs),
    .path = "/api/core/html_library/libraries/",
    .summary = "Installed HTML component libraries (installed and removed through "
               "html_library/install and DELETE; only `published` is writable).",
    .ops = OB_CAN_READ | OB_CAN_PATCH | OB_CAN_DELETE,
    .access = OB_ANON_READ,
    .write_gate = OB_ADMIN_STAFF_PERM,
    .destroy = library_destroy,
    .table = "html_libraries",
    .audit = true,
    .wfields = library_wfields,
    .nwfields = N(library_wfields),
};

/* ---- texts ---- */

static const ob_field text_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"parent", "t.parent_id", OB_FT_TEXT, OB_FF_SORT},
    {"language", "t.language", OB_FT_TEXT, OB_FF_SORT | OB_FF_EQ},
    {"short_description", "t.short_description", OB_FT_TEXT,
     OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS},
};

static const ob_field_ref text_refs[] = {
    {.field = "parent", .expand = &ob_res_html_libraries, .key_sql = "t.parent_id"},
};

static const ob_filter text_filters[] = {
    {.name = "parent__id", .kind = OB_FILT_UUID, .sql = "t.parent_id = $1::uuid"},
    ICONTAINS("parent__organization__icontains", "tl.organization"),
    ICONTAINS("parent__name__icontains", "tl.name"),
    ICONTAINS("parent__author__icontains", "tl.author"),
};

static const char *const parent_search[] = {"tl.organization", "tl.name", NULL};

const ob_resource ob_res_html_library_texts = {
    .app_label = APP,
    .model = "htmllibrarytext",
    .class_name = "HTMLLibraryText",
    .from = "html_library_texts t" LIB_JOIN,
    .pk = &text_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = text_fields,
    .nfields = N(text_fields),
    .default_order = "tl.organization, tl.name, t.language",
    .guard = OB_GUARD_GLOBAL,
    .refs = text_refs,
    .nrefs = N(text_refs),
    .path = "/api/core/html_library/texts/",
    .summary = "Short descriptions of the libraries, one per language.",
    .access = OB_ANON_READ,
    .filters = text_filters,
    .nfilters = N(text_filters),
    .search_sql = parent_search,
};

/* ---- versions ---- */

static const ob_field version_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"parent", "t.parent_id", OB_FT_TEXT, OB_FF_SORT},
    {"version", "t.version", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS},
    {"dependencies", "t.dependencies", OB_FT_JSON, 0},
    {"frontend_url", "'lib/' || tl.organization || '/' || tl.name || '/' || t.version"
                     " || '/library.js'",
     OB_FT_MEDIA_PATH, 0},
    {"file_data", "t.file_data", OB_FT_FILE, 0},
    {"file_name", "t.file_name", OB_FT_TEXT, OB_FF_SORT},
    {"file_size", "t.file_size", OB_FT_INT, OB_FF_SORT},
    {"mime_type", "t.mime_type", OB_FT_TEXT, OB_FF_SORT},
    {"components", "NULL", OB_FT_JSON, 0},
    OB_AUDIT_FIELDS,
};

static const ob_field_ref version_refs[] = {
    {.field = "parent", .expand = &ob_res_html_libraries, .key_sql = "t.parent_id"},
    /* Semver precedence (libraries.md §1): the stored sort key. */
    {.field = "version", .sort_sql = "t.sort_key"},
    {.field = "components", .expand = &ob_res_html_component_definitions,
     .link_sql = "t.version_id", .key_sql = "NULL"},
    OB_AUDIT_REFS(&ob_res_users_public),
};

static const ob_filter version_filters[] = {
    {.name = "parent__id", .kind = OB_FILT_UUID, .sql = "t.parent_id = $1::uuid"},
    ICONTAINS("parent__organization__icontains", "tl.organization"),
    ICONTAINS("parent__name__icontains", "tl.name"),
    ICONTAINS("parent__author__icontains", "tl.author"),
};

static const char *const version_search[] = {"tl.organization", "tl.name", "t.dependencies::text",
                                             NULL};

static const ob_field_note version_notes[] = {
    {"dependencies", OB_NOTE_NULLABLE},
};

static void version_destroy(ob_request *r)
{
    uninstall(r, false);
}

const ob_resource ob_res_html_library_versions = {
    .app_label = APP,
    .model = "htmllibraryversion",
    .class_name = "HTMLLibraryVersion",
    .from = "html_library_versions t" LIB_JOIN OB_AUDIT_JOINS,
    .pk = &version_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = version_fields,
    .nfields = N(version_fields),
    .default_order = "tl.organization, tl.name, t.sort_key",
    .guard = OB_GUARD_GLOBAL,
    .refs = version_refs,
    .nrefs = N(version_refs),
    .path = "/api/core/html_library/versions/",
    .summary = "Installed versions of the libraries, in semver order; DELETE uninstalls one "
               "(409 while other libraries depend on it, unless ?force=true).",
    .ops = OB_CAN_READ | OB_CAN_DELETE,
    .access = OB_ANON_READ,
    .write_gate = OB_ADMIN_STAFF_PERM,
    .destroy = version_destroy,
    .filters = version_filters,
    .nfilters = N(version_filters),
    .search_sql = version_search,
    .notes = version_notes,
    .nnotes = N(version_notes),
};

/* ---- components ---- */

#define COMPONENT_LIB_JOIN " JOIN html_libraries tl ON tl.id = t.library_id"

static const ob_field component_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"library", "t.library_id", OB_FT_TEXT, OB_FF_SORT},
    {"tag_name", "t.tag_name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_ICONTAINS},
    {"definitions", "NULL", OB_FT_JSON, 0},
};

static const ob_field_ref component_refs[] = {
    {.field = "library", .expand = &ob_res_html_libraries, .key_sql = "t.library_id"},
    {.field = "definitions", .expand = &ob_res_html_component_definitions,
     .link_sql = "t.component_id", .key_sql = "NULL"},
};

static const ob_filter component_filters[] = {
    ICONTAINS("library__organization__icontains", "tl.organization"),
    ICONTAINS("library__name__icontains", "tl.name"),
    ICONTAINS("library__author__icontains", "tl.author"),
};

static const char *const component_search[] = {"tl.organization", "tl.name", "tl.author", NULL};

const ob_resource ob_res_html_components = {
    .app_label = APP,
    .model = "htmlcomponent",
    .class_name = "HTMLComponent",
    .from = "html_components t" COMPONENT_LIB_JOIN,
    .pk = &component_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = component_fields,
    .nfields = N(component_fields),
    .default_order = "tl.organization, tl.name, t.tag_name",
    .guard = OB_GUARD_GLOBAL,
    .refs = component_refs,
    .nrefs = N(component_refs),
    .path = "/api/core/html_library/components/",
    .summary = "The elements the libraries define (one per library and tag name).",
    .access = OB_ANON_READ,
    .filters = component_filters,
    .nfilters = N(component_filters),
    .search_sql = component_search,
};

/* ---- component definitions ---- */

static const ob_field definition_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"html_component", "t.component_id", OB_FT_TEXT, OB_FF_SORT},
    {"library_version", "t.version_id", OB_FT_TEXT, OB_FF_SORT},
    {"definition", "t.definition", OB_FT_JSON, 0},
};

static const ob_field_ref definition_refs[] = {
    {.field = "html_component", .expand = &ob_res_html_components, .key_sql = "t.component_id"},
    {.field = "library_version", .expand = &ob_res_html_library_versions,
     .key_sql = "t.version_id"},
};

static const ob_filter definition_filters[] = {
    ICONTAINS("html_component__library__organization__icontains", "tl.organization"),
    ICONTAINS("html_component__library__name__icontains", "tl.name"),
    ICONTAINS("html_component__library__author__icontains", "tl.author"),
    ICONTAINS("html_component__tag_name__icontains", "tc.tag_name"),
    {.name = "library_version__version", .kind = OB_FILT_TEXT, .sql = "tv.version = $1"},
};

static const char *const definition_search[] = {"tl.organization", "tl.name", "tl.author",
                                                 "tc.tag_name", "tv.version", NULL};

const ob_resource ob_res_html_component_definitions = {
    .app_label = APP,
    .model = "htmlcomponentdefinition",
    .class_name = "HTMLComponentDefinition",
    .from = "html_component_definitions t"
            " JOIN html_components tc ON tc.id = t.component_id"
            " JOIN html_libraries tl ON tl.id = tc.library_id"
            " JOIN html_library_versions tv ON tv.id = t.version_id",
    .pk = &definition_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = definition_fields,
    .nfields = N(definition_fields),
    .default_order = "tl.organization, tl.name, tc.tag_name, tv.sort_key",
    .guard = OB_GUARD_GLOBAL,
    .refs = definition_refs,
    .nrefs = N(definition_refs),
    .path = "/api/core/html_library/component_definitions/",
    .summary = "What each library version says about each element (libraries.md §2.2).",
    .access = OB_ANON_READ,
    .filters = definition_filters,
    .nfilters = N(definition_filters),
    .search_sql = definition_search,
};

/* ---- POST /api/core/html_library/install/ (libraries.md §5) ---- */

/* The version as GET shows it (with _expand), plus the warnings: read
 * while the install still holds its lock (ob_lib_install_opts). */
static void answer_installed(void *ctx, const ob_lib_result *out)
{
    ob_request *r = ctx;
    ob_resource_item(r, &ob_res_html_library_versions, out->version_id,
                     &(ob_item_opts){.status = out->replaced ? 200 : 201,
                                     .skip_visibility = true});
    ob_buf *b = &r->res.body;
    if (r->res.status / 100 != 2 || b->len < 2 || b->data[b->len - 1] != '}')
        return;
    b->len--;
    ob_buf_puts(b, ",\"warnings\":");
    ob_json j;
    ob_json_init(&j, b);
    ob_json_array_begin(&j);
    for (size_t i = 0; i < out->nwarnings; i++)
        ob_json_string(&j, out->warnings[i]);
    ob_json_array_end(&j);
    ob_buf_putc(b, '}');
}

void ob_api_library_install(ob_request *r)
{
    if (ob_perm_admin_gate(r, APP ".add_htmllibraryversion") != 0)
        return;
    static const char *const files[] = {"file", NULL};
    ob_upload u;
    ob_upload_init(&u, r->arena, r->cfg->media_root, files);
    ob_multipart_limits lim = ob_multipart_limits_for(r->cfg, true);
    if (ob_upload_read(r, &u, &lim) != 0)
        return;
    ob_lib_install_opts o = {.force = false, .replace = true};
    if (boolean(r, "force", ob_upload_field(&u, "force"), &o.force) != 0 ||
        boolean(r, "replace", ob_upload_field(&u, "replace"), &o.replace) != 0)
        return;
    const ob_upload_file *f = ob_upload_file_get(&u, "file");
    if (!f) {
        ob_json *j = ob_json_response(r, 400);
        ob_json_object_begin(j);
        ob_json_key(j, "file");
        ob_json_array_begin(j);
        ob_json_string(j, "No file was submitted.");
        ob_json_array_end(j);
        ob_json_object_end(j);
        return;
    }
    /* Replacing also needs change_htmllibraryversion (libraries.md §5). */
    int may = ob_perm_admin_holds(r, APP ".change_htmllibraryversion");
    if (may < 0)
        return;
    o.may_replace = may == 1;
    o.user_id = r->user ? ob_arena_printf(r->arena, "%lld", (long long)r->user->id) : NULL;
    o.file_name = f->name;
    o.installed = answer_installed;
    o.ctx = r;
    ob_lib_ctx c = lib_ctx(r);
    ob_lib_result out;
    if (ob_library_install(&c, f->file, &o, &out) != OB_LIB_OK)
        answer_failure(r, &out, "HTMLLibraryVersion");
}
