/* mime.h - the MIME type of a stored file, from its name's extension
 * (api-conventions.md §13). */
#ifndef OPENBOOK_MIME_H
#define OPENBOOK_MIME_H

#include <stddef.h>

#define OB_MIME_DEFAULT "application/octet-stream"

/* The type for the extension after the last '.' of name[0..len)
 * (compared case-insensitively), or OB_MIME_DEFAULT.  A name without a
 * dot, or whose only dot leads it (".bashrc"), has no extension.  The
 * table holds Python's mimetypes defaults (the original's source) plus
 * the web formats libraries ship (.mjs, .woff2, .wasm, ...).  "x.tar.gz"
 * is application/gzip: the stored type describes the bytes as stored. */
const char *ob_mime_type(const char *name, size_t len);

#endif
