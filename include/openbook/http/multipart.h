/* multipart.h - a streaming multipart/form-data parser (RFC 7578, RFC 2046
 * §5.1).  The body is pushed in chunks of any size (ob_multipart_feed);
 * the parser calls back for each part's headers, each run of its data and
 * its end, so a file part can stream to disk and never sits in memory.
 * Memory: one header buffer of limits.max_header_bytes from the arena,
 * and a decoded copy of each RFC 8187 filename* there.
 *
 * Every limit has its own result code, and ob_multipart_status() and
 * ob_multipart_message() give the answer the API sends for it
 * (api-conventions.md §13).  Driven by test/fuzz/fuzz_multipart.c. */
#ifndef OPENBOOK_MULTIPART_H
#define OPENBOOK_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openbook/core/arena.h"

struct ob_config;

/* RFC 2046: a boundary is 1 to 70 characters. */
#define OB_MULTIPART_BOUNDARY_MAX 70
/* Default bound of one part's header block (all its lines). */
#define OB_MULTIPART_HEADER_MAX 8192
/* Room for the multipart framing and the small fields next to a file of
 * the largest allowed size (see ob_multipart_limits_for). */
#define OB_MULTIPART_OVERHEAD 65536

typedef enum {
    OB_MP_OK = 0,
    OB_MP_NOT_MULTIPART = -1,   /* Content-Type is not multipart/form-data: 415 */
    OB_MP_BAD_BOUNDARY = -2,    /* no boundary, or not 1..70 valid characters: 400 */
    OB_MP_MALFORMED = -3,       /* the body breaks the syntax: 400 */
    OB_MP_TRUNCATED = -4,       /* the body ended before the closing delimiter: 400 */
    OB_MP_HEADER_TOO_LONG = -5, /* a part's header block > max_header_bytes: 400 */
    OB_MP_BAD_ENCODING = -6,    /* a name or filename is not UTF-8, or holds NUL: 400 */
    OB_MP_TOO_MANY_FIELDS = -7, /* more than max_parts parts: 400 "Too many fields." */
    OB_MP_TOO_LARGE = -8,       /* body, file or field over its limit: 413 */
    OB_MP_ABORTED = -9,         /* a callback returned non-zero */
} ob_multipart_result;

typedef struct ob_multipart_limits {
    uint64_t max_body_bytes;    /* the whole body, preamble and epilogue included */
    uint64_t max_file_bytes;    /* the data of one part that has a filename */
    uint64_t max_field_bytes;   /* the data of one part without a filename */
    size_t max_parts;           /* parts, counted when their headers begin */
    size_t max_header_bytes;    /* one part's header block */
} ob_multipart_limits;

/* Limits from the configuration: uploads (media files, pictures, images)
 * get http.max_upload_bytes for the body and the file; a library archive
 * (archive = true) gets http.library_archive_max_bytes for the file and
 * that plus OB_MULTIPART_OVERHEAD for the body.  Fields get
 * http.max_body_bytes, parts http.max_form_fields. */
ob_multipart_limits ob_multipart_limits_for(const struct ob_config *cfg, bool archive);

/* One part, as its headers describe it.  Strings are NUL-terminated and
 * valid only during the part_begin call (copy what you keep). */
typedef struct ob_multipart_part {
    const char *name;           /* the form field name; never NULL */
    size_t name_len;
    const char *filename;       /* NULL for a plain field; may be "" (no file chosen) */
    size_t filename_len;
    const char *content_type;   /* the part's Content-Type, "" when absent */
} ob_multipart_part;

/* Callbacks; any may be NULL.  A non-zero return stops the parser with
 * OB_MP_ABORTED.  Parts without a form-data name are skipped: no calls. */
typedef struct ob_multipart_handler {
    int (*part_begin)(void *ctx, const ob_multipart_part *part);
    int (*part_data)(void *ctx, const char *data, size_t len);
    int (*part_end)(void *ctx);
    void *ctx;
} ob_multipart_handler;

typedef struct ob_multipart {
    ob_multipart_limits limits;
    ob_multipart_handler h;
    char delim[4 + OB_MULTIPART_BOUNDARY_MAX]; /* "\r\n--" boundary */
    size_t delim_len;
    size_t match;               /* bytes of delim matched and held back */
    int state;
    ob_multipart_result result; /* sticky once not OB_MP_OK */
    ob_arena *arena;
    char *hbuf;                 /* the current part's header block */
    size_t hlen;
    bool in_part;               /* part_begin was called, part_end not yet */
    bool is_file;
    uint64_t body_bytes, part_bytes;
    size_t parts;
} ob_multipart;

/* The boundary parameter of a Content-Type value (buf[0..len), e.g.
 * "multipart/form-data; boundary=XyZ"): type and parameter names compare
 * case-insensitively, the value may be quoted, and must be 1..70
 * characters of RFC 2046's bchars, not ending in a space.  Writes it
 * NUL-terminated to out.  Returns OB_MP_OK, OB_MP_NOT_MULTIPART or
 * OB_MP_BAD_BOUNDARY. */
ob_multipart_result ob_multipart_boundary(const char *buf, size_t len,
                                          char out[OB_MULTIPART_BOUNDARY_MAX + 1],
                                          size_t *out_len);

/* Starts a parser for a body with the given boundary (from
 * ob_multipart_boundary).  The header buffer comes from the arena. */
void ob_multipart_init(ob_multipart *p, ob_arena *a, const char *boundary, size_t boundary_len,
                       const ob_multipart_limits *limits, const ob_multipart_handler *h);

/* Pushes the next len bytes of the body.  Returns OB_MP_OK or the first
 * error, which sticks: later calls return it again and call nothing. */
ob_multipart_result ob_multipart_feed(ob_multipart *p, const char *buf, size_t len);

/* The body has ended: OB_MP_OK if the closing delimiter was seen (the
 * epilogue after it is ignored), else OB_MP_TRUNCATED or the sticky
 * error.  The last part's part_end has been called on OB_MP_OK. */
ob_multipart_result ob_multipart_finish(ob_multipart *p);

/* The HTTP status for a result (400, 413, 415; 200 for OB_MP_OK and 500
 * for OB_MP_ABORTED) and the "detail" text.  The message is NULL where
 * the caller words it: OB_MP_NOT_MULTIPART (415 names the type:
 * "Unsupported media type \"<type>\" in request.") and OB_MP_ABORTED
 * (the callback knows why it stopped). */
int ob_multipart_status(ob_multipart_result r);
const char *ob_multipart_message(ob_multipart_result r);

#endif
