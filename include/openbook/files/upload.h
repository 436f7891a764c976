/* upload.h - a multipart/form-data request read as it arrives
 * (api-conventions.md §2, §13): plain fields into the request's arena,
 * file parts streamed into staged files on the media root's file system
 * (staging.h), never into memory.
 *
 *     static const char *const files[] = {"file_data", NULL};
 *     ob_upload u;
 *     ob_upload_init(&u, r->arena, r->cfg->media_root, files);
 *     ob_multipart_limits lim = ob_multipart_limits_for(r->cfg, false);
 *     if (ob_upload_read(r, &u, &lim) != 0)
 *         return;                       // 400, 413, 415 or 500 answered
 *     const ob_upload_file *f = ob_upload_file_get(&u, "file_data");
 *     ... ob_staged_file_commit_unique(r->arena, f->file, dir, f->name) ...
 *
 * A staged file not committed is removed with the arena, so a request that
 * fails anywhere, or whose client goes away mid-body, leaves nothing. */
#ifndef OPENBOOK_UPLOAD_H
#define OPENBOOK_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include "openbook/core/arena.h"
#include "openbook/http/multipart.h"
#include "openbook/http/parse.h"

struct ob_request;
struct ob_staged_file;

typedef struct ob_upload_file {
    const char *field;            /* the form field */
    const char *name;             /* the client's file name, sanitized (filename.h) */
    const char *mime_type;        /* from the name's extension (mime.h) */
    struct ob_staged_file *file;  /* the data; ->size is its length */
} ob_upload_file;

typedef struct ob_upload {
    /* Plain fields in the order sent, values NUL-terminated (a repeated
     * name appears once per part). */
    ob_kv *fields;
    size_t nfields;
    ob_upload_file *files;
    size_t nfiles;

    /* Internal. */
    ob_arena *arena;
    const char *media_root;
    const char *const *file_fields;
    size_t fields_cap, files_cap;
    ob_buf value;                 /* the current plain field's data */
    const char *name;             /* the current part's name */
    ob_upload_file *current;      /* the current file part, or NULL */
    char *wbuf;                   /* its data not written yet (64 KiB, arena) */
    size_t wlen;
    bool skip;                    /* the current part is dropped */
    int status;                   /* why a callback stopped the parser */
    const char *detail;
} ob_upload;

/* file_fields: the names whose parts may carry a file (NULL-terminated).
 * A file sent in another field is dropped unread (like an unknown field);
 * a part with an empty filename (a browser form's "no file chosen") counts
 * as absent. */
void ob_upload_init(ob_upload *u, ob_arena *a, const char *media_root,
                    const char *const *file_fields);

/* The parser's callbacks for this upload (ob_request_read_multipart). */
ob_multipart_handler ob_upload_handler(ob_upload *u);

/* Reads the request's body (ob_request_read_multipart).  0, or -1 with
 * the answer set: 415, 413, 400 for the body; 400 when a plain field is
 * not UTF-8 or holds a NUL; 500 when the media root cannot be written. */
int ob_upload_read(struct ob_request *r, ob_upload *u, const ob_multipart_limits *lim);

/* The last file sent in field, or NULL. */
const ob_upload_file *ob_upload_file_get(const ob_upload *u, const char *field);
/* The last value of a plain field, or NULL. */
const char *ob_upload_field(const ob_upload *u, const char *name);

#endif
