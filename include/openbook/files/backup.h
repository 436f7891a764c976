/* backup.h - the manifest of a backup (`openbook backup`, `restore`).
 *
 * A backup is a directory:
 *
 *     manifest.json     this manifest (written last: a backup without it
 *                       is incomplete)
 *     database.dump     pg_dump custom format (-Fc)
 *     media/...         a copy of media.media_root, tree preserved
 *
 * The manifest names the versions (OpenBook, schema migration, PostgreSQL)
 * and every file with its size and SHA-256, so that restore verifies the
 * whole backup before it touches anything.  Both directions live here so
 * that the format is defined once; the parser takes (buf, len) and has a
 * fuzz target (test/fuzz/fuzz_backup_manifest.c). */
#ifndef OPENBOOK_BACKUP_H
#define OPENBOOK_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openbook/core/arena.h"
#include "openbook/core/buf.h"

#define OB_BACKUP_FORMAT 1
#define OB_BACKUP_MANIFEST "manifest.json"
#define OB_BACKUP_DUMP "database.dump"
#define OB_BACKUP_MEDIA "media"
/* Longest path in a manifest (bytes), and largest manifest read. */
#define OB_BACKUP_PATH_MAX 4096
#define OB_BACKUP_MANIFEST_MAX (256u << 20)

typedef struct ob_backup_file {
    const char *path; /* "database.dump" or "media/<relative path>" */
    uint64_t size;
    char sha256[65];  /* lower-case hex */
} ob_backup_file;

typedef struct ob_backup_manifest {
    int format;                  /* OB_BACKUP_FORMAT */
    const char *openbook_version;
    int schema_version;          /* highest applied migration */
    const char *created_at;      /* ISO 8601, UTC */
    const char *postgresql_version;
    const char **dirs;           /* "media" and "media/<dir>", parents first */
    size_t ndirs;
    ob_backup_file *files;
    size_t nfiles;
} ob_backup_manifest;

/* A relative path as a manifest may hold it: "database.dump", "media", or
 * "media/" and components that are valid UTF-8 without control characters,
 * never empty, "." or "..", at most OB_BACKUP_PATH_MAX bytes.  (So that no
 * manifest can make restore write outside its target.) */
bool ob_backup_path_valid(const char *s, size_t len);

/* Appends the manifest as JSON to out. */
void ob_backup_manifest_write(ob_buf *out, const ob_backup_manifest *m);

/* Parses and checks a manifest: the format number, every path valid and
 * named once, sizes and checksums well-formed, the database dump listed,
 * every file's directory listed.  Strings and arrays live in the arena.
 * Returns 0, or -1 with err (NUL-terminated) saying why. */
int ob_backup_manifest_parse(ob_arena *a, const char *buf, size_t len, ob_backup_manifest *m,
                             char err[256]);

#endif
