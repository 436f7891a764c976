/* write_files.c - file fields in writes (api-conventions.md §2, §13): a
 * multipart body read as it arrives (upload.h), its plain fields turned
 * into the JSON object the rest of the write engine reads, and its files
 * published under the folder their field names once the write is allowed,
 * removed again unless the COMMIT succeeds. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "openbook/api/resource.h"
#include "openbook/core/config.h"
#include "openbook/core/log.h"
#include "openbook/files/filename.h"
#include "openbook/files/staging.h"
#include "openbook/files/upload.h"
#include "openbook/http/multipart.h"
#include "write_parts.h"

/* A file published by a write: removed when the request ends, unless the
 * write committed (kept). */
typedef struct ob_write_published {
    struct ob_write_published *next;
    const char *path;   /* absolute */
    bool kept;
} ob_write_published;

bool ob_resource_takes_files(const ob_resource *res)
{
    for (size_t i = 0; i < res->nwfields; i++)
        if (res->wfields[i].kind == OB_W_FILE)
            return true;
    return false;
}

bool ob_request_is_multipart(const ob_request *r)
{
    return r->content_type && strcmp(r->content_type, "multipart/form-data") == 0;
}

static void json_delete(void *p)
{
    cJSON_Delete(p);
}

static const ob_wfield *wfield(const ob_resource *res, const char *name)
{
    for (size_t i = 0; i < res->nwfields; i++)
        if (strcmp(res->wfields[i].name, name) == 0)
            return &res->wfields[i];
    return NULL;
}

/* One form value as JSON: a JSON-typed field is sent as JSON text
 * (api-conventions.md §2); anything else is its text. */
static cJSON *value_of(const ob_wfield *f, const char *text)
{
    if (f && f->kind == OB_W_JSON) {
        cJSON *v = cJSON_Parse(text);
        if (v)
            return v;
    }
    return cJSON_CreateString(text);
}

static bool is_list(const ob_wfield *f)
{
    return f && (f->kind == OB_W_PERM_LIST || f->kind == OB_W_GROUP_LIST);
}

int ob_write_read_upload(ob_request *r, const ob_resource *res)
{
    const char **names = ob_arena_calloc(r->arena, res->nwfields + 1, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; i < res->nwfields; i++)
        if (res->wfields[i].kind == OB_W_FILE)
            names[n++] = res->wfields[i].name;
    ob_upload *u = ob_arena_calloc(r->arena, 1, sizeof *u);
    ob_upload_init(u, r->arena, r->cfg->media_root, names);
    ob_multipart_limits lim = ob_multipart_limits_for(r->cfg, false);
    if (ob_upload_read(r, u, &lim) != 0)
        return -1;
    /* The plain fields as the JSON object a JSON body would have been: a
     * repeated name (a list field) becomes a list. */
    cJSON *obj = cJSON_CreateObject();
    ob_arena_defer(r->arena, json_delete, obj);
    for (size_t i = 0; i < u->nfields; i++) {
        const char *key = u->fields[i].key;
        const ob_wfield *f = wfield(res, key);
        cJSON *v = value_of(f, u->fields[i].value);
        cJSON *have = cJSON_GetObjectItemCaseSensitive(obj, key);
        if (!have && is_list(f)) {
            have = cJSON_CreateArray();
            cJSON_AddItemToObject(obj, key, have);
        }
        if (!have) {
            cJSON_AddItemToObject(obj, key, v);
        } else if (cJSON_IsArray(have) && (is_list(f) || cJSON_IsArray(have))) {
            cJSON_AddItemToArray(have, v);
        } else {
            cJSON *list = cJSON_CreateArray();
            cJSON_AddItemToArray(list, cJSON_DetachItemViaPointer(obj, have));
            cJSON_AddItemToArray(list, v);
            cJSON_AddItemToObject(obj, key, list);
        }
    }
    r->json = obj;
    r->upload = u;
    return 0;
}

const ob_upload_file *ob_write_upload(const ob_write *w, const char *field)
{
    return w->r->upload ? ob_upload_file_get(w->r->upload, field) : NULL;
}

static void remove_unless_kept(void *p)
{
    ob_write_published *pub = p;
    if (!pub->kept && unlink(pub->path) != 0 && errno != ENOENT)
        ob_warn("write: could not remove %s: %s", pub->path, strerror(errno));
}

const char *ob_write_upload_dir(ob_write *w, const char *prefix, const char *segment)
{
    /* The segment comes from a key (a username, an id): one path
     * component, never "." or "..". */
    const char *seg = ob_filename_sanitize(w->r->arena, segment ? segment : "",
                                           segment ? strlen(segment) : 0);
    return ob_arena_printf(w->r->arena, "%s/%s", prefix, seg);
}

int ob_write_publish_files(ob_write *w)
{
    ob_request *r = w->r;
    const ob_resource *res = w->res;
    for (size_t i = 0; i < res->nwfields; i++) {
        const ob_wfield *f = &res->wfields[i];
        ob_wvalue *v = &w->v[i];
        if (f->kind != OB_W_FILE || v->state != OB_WV_GIVEN)
            continue;
        const ob_upload_file *uf = ob_write_upload(w, f->name);
        if (uf) {
            const char *dir = f->upload_dir(w, f); /* (every FILE field has one) */
            if (!dir)
                return -1; /* answered */
            const char *full = ob_arena_printf(r->arena, "%s/%s", r->cfg->media_root, dir);
            char *name = ob_staged_file_commit_unique(r->arena, uf->file, full, uf->name);
            if (!name) {
                ob_error("write: cannot store %s in %s: %s", uf->name, full, strerror(errno));
                ob_db_rollback(r->db);
                ob_fail(r, 500, "Internal server error.");
                return -1;
            }
            ob_write_published *pub = ob_arena_calloc(r->arena, 1, sizeof *pub);
            pub->path = ob_arena_printf(r->arena, "%s/%s", full, name);
            pub->next = w->published;
            w->published = pub;
            ob_arena_defer(r->arena, remove_unless_kept, pub);
            v->text = ob_arena_printf(r->arena, "%s/%s", dir, name);
        }
        /* The file the row named before (replaced, or cleared by "") goes
         * once the COMMIT has succeeded. */
        const char *old = w->create ? NULL : ob_write_stored(w, f->column);
        if (old && *old && (!v->text || strcmp(old, v->text) != 0))
            ob_write_remove_file(w, old);
    }
    return 0;
}

void ob_write_keep_files(ob_write *w)
{
    for (ob_write_published *p = w->published; p; p = p->next)
        p->kept = true;
}
