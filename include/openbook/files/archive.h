/* archive.h - HTML component library archives (libraries.md §2, §4):
 * every check of §4 that needs no database, made from the ZIP central
 * directory before anything is written, then extraction into a staged
 * folder that enforces the size limits again.
 *
 * libzip reads the archive.  Its entry names have NUL bytes replaced by
 * spaces, so the raw names are also read from the central directory here
 * and must agree with libzip's, entry by entry (an archive on which the
 * two readings differ is refused).  Driven by test/fuzz/fuzz_archive.c;
 * hostile archives for tests come from test/integration/zip_factory.py. */
#ifndef OPENBOOK_ARCHIVE_H
#define OPENBOOK_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openbook/core/arena.h"
#include "openbook/files/manifest.h"

struct ob_config;

/* Longest entry name and deepest folder nesting; longer or deeper names
 * count as unsafe paths. */
#define OB_ARCHIVE_NAME_MAX 1024
#define OB_ARCHIVE_DEPTH_MAX 64
/* The folder all content sits in. */
#define OB_ARCHIVE_ROOT "openbook-library/"

typedef struct ob_archive_limits {
    uint64_t max_entries;             /* library_max_entries */
    uint64_t max_uncompressed_bytes;  /* library_max_uncompressed_bytes */
    uint64_t max_manifest_bytes;      /* library_max_manifest_bytes (each YAML file) */
} ob_archive_limits;

/* The http.library_* limits of the configuration. */
ob_archive_limits ob_archive_limits_for(const struct ob_config *cfg);

/* Each failure answers 400 {"file": ["<message>"]}, except
 * OB_ARCHIVE_IO (500: the disk, not the archive). */
typedef enum {
    OB_ARCHIVE_OK = 0,
    OB_ARCHIVE_INVALID,           /* "The archive file is no valid HTML library archive." */
    OB_ARCHIVE_TOO_MANY_FILES,    /* "The archive contains too many files (limit <n>)." */
    OB_ARCHIVE_TOO_LARGE,         /* "The archive is too large when unpacked (limit <n> bytes)." */
    OB_ARCHIVE_MANIFEST_TOO_LARGE,/* "A manifest file is too large." */
    OB_ARCHIVE_UNSAFE_PATH,       /* "The archive contains an unsafe path: <name>" */
    OB_ARCHIVE_LINK,              /* "The archive contains a link or special file: <name>" */
    OB_ARCHIVE_DUPLICATE,         /* "The archive contains duplicate paths: <name>" */
    OB_ARCHIVE_UNSUPPORTED,       /* "The archive uses an unsupported compression method or encryption." */
    OB_ARCHIVE_BAD_COMPONENT,     /* "Invalid component definition in <name>: <reason>" */
    OB_ARCHIVE_BAD_DEPENDENCY,    /* "Invalid version expression for <fqn>." */
    OB_ARCHIVE_SELF_DEPENDENCY,   /* "A library cannot depend on itself." */
    OB_ARCHIVE_IO,                /* the staged folder could not be written */
} ob_archive_status;

typedef struct ob_archive ob_archive;

/* Opens and checks an archive.  Runs, in this order: it is a ZIP; the
 * entry count; per entry (in central-directory order) a safe name, no
 * link or special file, stored or deflated without encryption; no two
 * entries on one path (a file where another entry needs a folder counts);
 * the sum of declared sizes; the declared size of each YAML file read;
 * library.yml (present, a mapping, valid name and version, valid
 * dependency expressions, not depending on itself); every ".yml" file
 * under components/ (later files replace earlier ones with the same
 * tag-name).  Reading the YAML files already enforces the declared sizes.
 * On failure *message holds the text for the `file` field (arena) and
 * *out is NULL.  The archive is closed by the arena's reset (or
 * ob_archive_close).
 *
 * ob_archive_open_fd reads fd with pread and through a dup of it; the
 * fd's offset must not matter to the caller while the archive is open.
 * ob_archive_open_buffer reads data[0..len), which must outlive it. */
ob_archive_status ob_archive_open_fd(ob_arena *a, int fd, const ob_archive_limits *limits,
                                     ob_archive **out, const char **message);
ob_archive_status ob_archive_open_buffer(ob_arena *a, const void *data, size_t len,
                                         const ob_archive_limits *limits, ob_archive **out,
                                         const char **message);

/* What the checks read: the manifest and the component definitions
 * (tag names unique).  Valid while the arena lives. */
const ob_library_manifest *ob_archive_manifest(const ob_archive *ar);
const ob_component_def *ob_archive_components(const ob_archive *ar, size_t *count);

/* Extracts every regular file under openbook-library/, without that
 * prefix, into dir (an existing, empty folder, e.g. a staged one):
 * folders 0755, files created O_CREAT|O_EXCL|O_NOFOLLOW with mode 0644.
 * Stops with OB_ARCHIVE_TOO_LARGE when an entry yields more than it
 * declared or the total passes the limit, OB_ARCHIVE_INVALID when data is
 * corrupt (CRC, short entry), OB_ARCHIVE_IO when writing fails.  With
 * sync, the file system is flushed (syncfs) before it returns.  A failed
 * extraction leaves partial files: discard the folder. */
ob_archive_status ob_archive_extract(ob_archive *ar, const char *dir, bool sync,
                                     const char **message);

/* Frees libzip's state now (idempotent; the arena does it otherwise). */
void ob_archive_close(ob_archive *ar);

#endif
