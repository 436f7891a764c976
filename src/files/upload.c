/* upload.c - multipart/form-data requests: fields in memory, files staged
 * on disk as they arrive (upload.h). */
#include <errno.h>
#include <string.h>
#include "openbook/files/filename.h"
#include "openbook/http/http.h"
#include "openbook/core/log.h"
#include "openbook/files/mime.h"
#include "openbook/files/staging.h"
#include "openbook/files/upload.h"

void ob_upload_init(ob_upload *u, ob_arena *a, const char *media_root,
                    const char *const *file_fields)
{
    memset(u, 0, sizeof *u);
    u->arena = a;
    u->media_root = media_root;
    u->file_fields = file_fields;
    ob_buf_init(&u->value, a);
}

static bool takes_files(const ob_upload *u, const char *name)
{
    for (const char *const *f = u->file_fields; f && *f; f++)
        if (strcmp(*f, name) == 0)
            return true;
    return false;
}

/* Room for one more of n items (arena memory; the part count is bounded
 * by the parser's max_parts). */
static void *grow(ob_arena *a, void *items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return items;
    *cap = *cap ? *cap * 2 : 8;
    void *grown = ob_arena_calloc(a, *cap, size);
    if (n)
        memcpy(grown, items, n * size);
    return grown;
}

static int stop(ob_upload *u, int status, const char *detail)
{
    u->status = status;
    u->detail = detail;
    return -1;
}

/* File data goes out in pieces of up to this size: the parser hands it
 * over in runs that end at every CR of the data (a CR may begin the
 * boundary), which for binary files is one every 256 bytes on average, so
 * writing each run was a write(2) per 256 bytes. */
#define WRITE_BUF (64 * 1024)

static int flush(ob_upload *u)
{
    if (!u->current || u->wlen == 0)
        return 0;
    int r = ob_staged_file_write(u->current->file, u->wbuf, u->wlen);
    u->wlen = 0;
    if (r != 0) {
        ob_error("upload: writing %s: %s", u->current->file->path, strerror(errno));
        return stop(u, 500, "Internal server error.");
    }
    return 0;
}

static int part_begin(void *ctx, const ob_multipart_part *part)
{
    ob_upload *u = ctx;
    u->name = ob_arena_strndup(u->arena, part->name, part->name_len);
    u->current = NULL;
    u->skip = false;
    ob_buf_reset(&u->value);
    if (!part->filename)
        return 0;
    /* A form's "no file chosen" sends an empty filename: no file. */
    if (!takes_files(u, u->name) || part->filename_len == 0) {
        u->skip = true;
        return 0;
    }
    ob_staged_file *f = ob_staged_file_create(u->arena, u->media_root);
    if (!f) {
        ob_error("upload: cannot stage a file in %s/%s: %s", u->media_root, OB_STAGING_DIR,
                 strerror(errno));
        return stop(u, 500, "Internal server error.");
    }
    u->files = grow(u->arena, u->files, u->nfiles, &u->files_cap, sizeof *u->files);
    ob_upload_file *uf = &u->files[u->nfiles++];
    uf->field = u->name;
    uf->name = ob_filename_sanitize(u->arena, part->filename, part->filename_len);
    uf->mime_type = ob_mime_type(uf->name, strlen(uf->name));
    uf->file = f;
    u->current = uf;
    return 0;
}

static int part_data(void *ctx, const char *data, size_t len)
{
    ob_upload *u = ctx;
    if (u->skip)
        return 0;
    if (u->current) {
        if (!u->wbuf)
            u->wbuf = ob_arena_alloc(u->arena, WRITE_BUF);
        while (len > 0) {
            size_t n = WRITE_BUF - u->wlen < len ? WRITE_BUF - u->wlen : len;
            memcpy(u->wbuf + u->wlen, data, n);
            u->wlen += n;
            data += n;
            len -= n;
            if (u->wlen == WRITE_BUF && flush(u) != 0)
                return -1;
        }
        return 0;
    }
    /* The parser bounds a field's size (max_field_bytes). */
    ob_buf_append(&u->value, data, len);
    return 0;
}

static int part_end(void *ctx)
{
    ob_upload *u = ctx;
    if (u->skip)
        return 0;
    if (u->current) {
        int r = flush(u);
        u->current = NULL;
        return r;
    }
    const char *v = u->value.len ? ob_buf_cstr(&u->value) : "";
    if (!ob_utf8_valid(v, u->value.len) || memchr(v, '\0', u->value.len))
        return stop(u, 400, "Multipart form parse error - a field is not valid UTF-8.");
    u->fields = grow(u->arena, u->fields, u->nfields, &u->fields_cap, sizeof *u->fields);
    u->fields[u->nfields] = (ob_kv){.key = u->name,
                                    .key_len = strlen(u->name),
                                    .value = ob_arena_strndup(u->arena, v, u->value.len),
                                    .value_len = u->value.len};
    u->nfields++;
    return 0;
}

ob_multipart_handler ob_upload_handler(ob_upload *u)
{
    return (ob_multipart_handler){
        .part_begin = part_begin, .part_data = part_data, .part_end = part_end, .ctx = u};
}

int ob_upload_read(ob_request *r, ob_upload *u, const ob_multipart_limits *lim)
{
    ob_multipart_handler h = ob_upload_handler(u);
    int res = ob_request_read_multipart(r, lim, &h);
    if (res == OB_MP_OK)
        return 0;
    if (res == OB_MP_ABORTED)
        ob_fail(r, u->status ? u->status : 500, u->detail ? u->detail : "Internal server error.");
    return -1;
}

const ob_upload_file *ob_upload_file_get(const ob_upload *u, const char *field)
{
    for (size_t i = u->nfiles; i-- > 0;)
        if (strcmp(u->files[i].field, field) == 0)
            return &u->files[i];
    return NULL;
}

const char *ob_upload_field(const ob_upload *u, const char *name)
{
    for (size_t i = u->nfields; i-- > 0;)
        if (strcmp(u->fields[i].key, name) == 0)
            return u->fields[i].value;
    return NULL;
}
