/* filename.h - names of stored uploads (api-conventions.md §13): the
 * sanitizer for client-supplied file names and the random suffix that
 * keeps stored names unique.  Pure over (buf, len); driven by
 * test/fuzz/fuzz_filename.c. */
#ifndef OPENBOOK_FILENAME_H
#define OPENBOOK_FILENAME_H

#include <stddef.h>
#include "openbook/core/arena.h"

/* Longest stored name, in bytes. */
#define OB_FILENAME_MAX 255
/* Random characters a colliding name gets before its extension. */
#define OB_FILENAME_SUFFIX_LEN 7

/* The stored form of an uploaded file name: its last path component
 * (after the last '/' or '\'); without control characters (C0, DEL, C1),
 * Unicode line separators and bidirectional controls, and without bytes
 * that are not UTF-8; without leading dots and white space, and without
 * trailing white space; at most OB_FILENAME_MAX bytes (cut on a character
 * boundary, keeping an extension of up to 32 bytes).  "file" when nothing
 * is left.  NUL-terminated, in the arena; never a path, never "." or "..". */
char *ob_filename_sanitize(ob_arena *a, const char *buf, size_t len);

/* name (a sanitized name) with "_" and OB_FILENAME_SUFFIX_LEN random
 * letters and digits before its extension ("photo.jpg" ->
 * "photo_a8Kq2Zx.jpg", as Django names a duplicate), the stem cut so the
 * result stays within OB_FILENAME_MAX bytes. */
char *ob_filename_with_suffix(ob_arena *a, const char *name);

#endif
