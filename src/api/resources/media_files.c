/* media_files.c - /api/core/media_files/ (api-resources.md §2): files
 * attached to any object, named by its content type and UUID.  Create and
 * file replacement are multipart (the write engine streams the file to
 * the media root, write_files.c); the file lives at
 * <app_label>/<model>/<media file id>/<name> (api-conventions.md §13, the
 * attached object's app label and model), and goes when the row goes or
 * names another file. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "openbook/api/registry.h"
#include "openbook/api/resource.h"
#include "openbook/api/resources.h"
#include "openbook/db/db.h"
#include "openbook/files/staging.h"
#include "openbook/files/upload.h"
#include "openbook/http/jsonvalue.h"
#include "openbook/http/parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const ob_field media_fields[] = {
    {"id", "t.id", OB_FT_TEXT, OB_FF_SORT},
    {"content_type", "t.content_type_id", OB_FT_INT, OB_FF_SORT},
    {"object_id", "t.object_id", OB_FT_TEXT, OB_FF_SORT},
    {"file_name", "t.file_name", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_SUBSTR},
    {"file_size", "t.file_size", OB_FT_INT, OB_FF_SORT | OB_FF_EQ},
    {"mime_type", "t.mime_type", OB_FT_TEXT, OB_FF_SORT | OB_FF_SEARCH | OB_FF_EQ},
    {"file_data", "t.file_data", OB_FT_FILE, 0},
};

static const ob_filter media_filters[] = {
    /* The id, or app_label.model (deliberate deviation 23). */
    {.name = "content_type", .kind = OB_FILT_TEXT,
     .sql = "(tct.id::text = $1 OR tct.app_label || '.' || tct.model = $1)"},
    {.name = "object_id", .kind = OB_FILT_UUID, .sql = "t.object_id = $1::uuid"},
};

/* What the validate hook found, for before_save and the upload folder. */
typedef struct {
    const char *app_label, *model;  /* of the attached object's type */
    const char *id;                 /* of the media file (made on create) */
} media_ctx;

static media_ctx *ctx_of(ob_write *w)
{
    if (!w->ctx)
        w->ctx = ob_arena_calloc(w->r->arena, 1, sizeof(media_ctx));
    return w->ctx;
}

/* The table of a content type whose rows have UUID keys (a listed
 * resource's), or NULL: no object of that type can be named by a UUID. */
static const ob_resource *uuid_table(const char *app_label, const char *model)
{
    for (size_t i = 0; i < ob_api_nresources; i++) {
        const ob_resource *res = ob_api_resources[i];
        if (res->table && res->pk_is_uuid && res->app_label && res->model &&
            strcmp(res->app_label, app_label) == 0 && strcmp(res->model, model) == 0)
            return res;
    }
    return NULL;
}

static PGresult *query(ob_write *w, const char *sql, const char *a)
{
    const char *p[] = {a};
    PGresult *pg = ob_db_query(w->r->db, w->r->arena, sql, 1, p);
    if (!pg) {
        ob_db_failure(w->r);
        ob_db_rollback(w->r->db);
    }
    return pg;
}

/* content_type: an integer id or "app_label.model"; object_id: the UUID
 * of an existing object of that type ("Object not found."). */
static int media_validate(ob_write *w)
{
    ob_arena *a = w->r->arena;
    media_ctx *c = ctx_of(w);
    ob_wvalue *ct = ob_write_value(w, "content_type");
    ob_wvalue *obj = ob_write_value(w, "object_id");
    const char *ct_key = NULL;
    if (ct->state == OB_WV_GIVEN) {
        const cJSON *in = ct->json;
        if (cJSON_IsNumber(in))
            ct_key = ob_arena_printf(a, "%lld", (long long)in->valuedouble);
        else if (cJSON_IsString(in))
            ct_key = ob_str_trim(a, in->valuestring);
        else
            ct_key = "";
    } else if (!w->create) {
        ct_key = ob_write_stored(w, "content_type_id");
    }
    if (ct_key) {
        PGresult *pg = query(w,
                             "SELECT id::text, app_label, model FROM content_types"
                             " WHERE id::text = $1 OR app_label || '.' || model = $1",
                             ct_key);
        if (!pg)
            return -1;
        if (PQntuples(pg) != 1) {
            /* Neither an id nor app_label.model: not a key at all. */
            bool integral = *ct_key && strspn(ct_key, "0123456789") == strlen(ct_key);
            ob_write_error(w, "content_type",
                           integral || strchr(ct_key, '.')
                               ? ob_arena_printf(a, "Invalid pk \"%s\" - object does not exist.",
                                                 ct_key)
                               : "A valid integer is required.");
            ct->state = OB_WV_INVALID;
            return 0;
        }
        if (ct->state == OB_WV_GIVEN)
            ct->text = ob_arena_strdup(a, PQgetvalue(pg, 0, 0));
        c->app_label = ob_arena_strdup(a, PQgetvalue(pg, 0, 1));
        c->model = ob_arena_strdup(a, PQgetvalue(pg, 0, 2));
    }
    const char *uuid = NULL;
    if (obj->state == OB_WV_GIVEN) {
        char norm[37];
        const cJSON *in = obj->json;
        if (!cJSON_IsString(in) || !ob_parse_uuid(ob_str_trim(a, in->valuestring), norm)) {
            ob_write_error(w, "object_id", "Must be a valid UUID.");
            obj->state = OB_WV_INVALID;
            return 0;
        }
        obj->text = uuid = ob_arena_strdup(a, norm);
    } else if (!w->create) {
        uuid = ob_write_stored(w, "object_id");
    }
    /* The pair must name an object whenever either changes. */
    if (!c->app_label || !uuid || (ct->state != OB_WV_GIVEN && obj->state != OB_WV_GIVEN))
        return 0;
    const ob_resource *res = uuid_table(c->app_label, c->model);
    bool found = false;
    if (res) {
        const char *sql = ob_arena_printf(a, "SELECT 1 FROM %s WHERE %s = $1::uuid", res->table,
                                          res->pk_column ? res->pk_column : "id");
        PGresult *pg = query(w, sql, uuid);
        if (!pg)
            return -1;
        found = PQntuples(pg) > 0;
    }
    if (!found) {
        ob_write_error(w, "object_id", "Object not found.");
        obj->state = OB_WV_INVALID;
    }
    return 0;
}

/* The new row's id before the insert (its folder is named after it), and
 * the file's name, size and type from the upload. */
static int media_before_save(ob_write *w)
{
    media_ctx *c = ctx_of(w);
    if (w->create) {
        unsigned char b[16];
        randombytes_buf(b, sizeof b);
        b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
        b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
        c->id = ob_arena_printf(w->r->arena,
                                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                                "%02x%02x%02x%02x%02x%02x",
                                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
                                b[11], b[12], b[13], b[14], b[15]);
        ob_write_set(w, "id", c->id, "uuid");
    } else {
        c->id = w->key;
    }
    const ob_upload_file *f = ob_write_upload(w, "file_data");
    if (f) {
        ob_write_set(w, "file_name", f->name, NULL);
        ob_write_set(w, "file_size", ob_arena_printf(w->r->arena, "%llu",
                                                     (unsigned long long)f->file->size),
                     "bigint");
        ob_write_set(w, "mime_type", f->mime_type, NULL);
    }
    return 0;
}

static const char *media_dir(ob_write *w, const ob_wfield *f)
{
    (void)f;
    media_ctx *c = ctx_of(w);
    return ob_write_upload_dir(
        w, ob_arena_printf(w->r->arena, "%s/%s", c->app_label, c->model), c->id);
}

static int media_before_delete(ob_write *w)
{
    ob_write_remove_file(w, ob_write_stored(w, "file_data"));
    return 0;
}

static const ob_wfield media_wfields[] = {
    {.name = "content_type", .kind = OB_W_CUSTOM, .column = "content_type_id",
     .flags = OB_WF_REQUIRED},
    {.name = "object_id", .kind = OB_W_CUSTOM, .column = "object_id", .flags = OB_WF_REQUIRED},
    /* A new file replaces the stored one (its old file goes after the
     * COMMIT); JSON cannot set one. */
    {.name = "file_data", .kind = OB_W_FILE, .column = "file_data",
     .flags = OB_WF_REQUIRED | OB_WF_UPDATE_OPTIONAL, .upload_dir = media_dir},
};

const ob_resource ob_res_media_files = {
    .app_label = "openbook_core",
    .model = "mediafile",
    .class_name = "MediaFile",
    .from = "media_files t JOIN content_types tct ON tct.id = t.content_type_id",
    .pk = &media_fields[0],
    .pk_is_uuid = true,
    .ref_type = "uuid",
    .fields = media_fields,
    .nfields = N(media_fields),
    .default_order = "t.content_type_id, t.object_id, t.file_name, t.file_size",
    .guard = OB_GUARD_GLOBAL,
    .path = "/api/core/media_files/",
    .summary = "Files attached to objects (multipart create and file replacement; public under "
               "the media URL once stored).",
    .ops = OB_CAN_ALL,
    .access = OB_LOGIN,
    .filters = media_filters,
    .nfilters = N(media_filters),
    .table = "media_files",
    .audit = true,
    .wfields = media_wfields,
    .nwfields = N(media_wfields),
    .validate = media_validate,
    .before_save = media_before_save,
    .before_delete = media_before_delete,
};
