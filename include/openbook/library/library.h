/* library.h - installing and removing HTML component libraries
 * (libraries.md §4.1, §5, §6).  The one routine behind
 * POST /api/core/html_library/install/ and `openbook install-library`, and
 * the uninstall behind the DELETE of a version or a library.
 *
 * Layering: uses db/, files/ (archive checks, staging) and redis/ (the
 * event); knows nothing of HTTP.  Callers map the status to an answer.
 *
 * Install (libraries.md §5):
 *   1. the archive checks of files/archive.c (central directory, manifest,
 *      components) - nothing is written yet;
 *   2. session advisory locks: exclusive on the library's fqn, shared on
 *      each library it depends on (taken in key order, so two installs
 *      never deadlock).  Held until its files are published, so two
 *      installs of the same version, or an install and an uninstall, run
 *      one after the other, files included; a dependency cannot be
 *      uninstalled while a library that needs it is being installed;
 *   3. BEGIN; an existing version (409 / 403), the dependency check of
 *      §4.1 (400, or warnings with force);
 *   4. extraction into a staged folder (sizes enforced again);
 *   5. library, texts, version, components and definitions; COMMIT;
 *   6. the archive renamed to lib/@<org>_<name>_<version>.zip and the
 *      folder swapped into lib/<org>/<name>/<version>/ atomically;
 *   7. unlock; the event library.installed (op installed or replaced).
 * Any failure before the COMMIT rolls back and the arena removes the
 * staged files: nothing is left behind. */
#ifndef OPENBOOK_LIBRARY_H
#define OPENBOOK_LIBRARY_H

#include <stdbool.h>
#include <stddef.h>
#include "openbook/core/arena.h"
#include "openbook/files/manifest.h"

struct ob_config;
struct ob_db;
struct ob_redis;
struct ob_staged_file;

#define OB_LIBRARY_EXISTS_MESSAGE "This library version is already installed."
/* The event channel of libraries (websocket.md §9). */
#define OB_LIBRARY_CHANNEL "library:updates"

typedef enum {
    OB_LIB_OK = 0,
    OB_LIB_BAD_ARCHIVE,  /* 400 {"file": messages} (§4, §4.1) */
    OB_LIB_EXISTS,       /* 409 {"detail": OB_LIBRARY_EXISTS_MESSAGE} (replace = false) */
    OB_LIB_FORBIDDEN,    /* 403: replacing needs change_htmllibraryversion */
    OB_LIB_DEPENDANTS,   /* 409 {"detail": messages[0]} (uninstall without force) */
    OB_LIB_NOT_FOUND,    /* the version or library does not exist (any more) */
    OB_LIB_DB,           /* a database failure: ob_db_last_error() says which */
    OB_LIB_IO,           /* the media root cannot be written (500; logged) */
} ob_lib_status;

typedef struct ob_lib_ctx {
    ob_arena *arena;     /* everything returned lives here */
    const struct ob_config *cfg;
    struct ob_db *db;
    struct ob_redis *redis; /* NULL: no event */
} ob_lib_ctx;

struct ob_lib_result;

typedef struct ob_lib_install_opts {
    bool force;          /* install despite dependency problems (warnings) */
    bool replace;        /* replace an installed version, else OB_LIB_EXISTS */
    bool may_replace;    /* the requester may replace, else OB_LIB_FORBIDDEN */
    const char *user_id; /* created_by / modified_by; NULL: none (the CLI) */
    const char *file_name; /* the archive's name as uploaded (sanitized); NULL:
                              the stored name */
    /* Called once the install is complete (committed, files in place) but
     * before its locks go, so that what it reads (the answer of the API)
     * is the version installed, not what a DELETE waiting for the lock
     * leaves.  NULL: none. */
    void (*installed)(void *ctx, const struct ob_lib_result *res);
    void *ctx;
} ob_lib_install_opts;

typedef struct ob_lib_result {
    ob_lib_status status;
    const char **messages;   /* the 400 `file` messages, or the 409 detail */
    size_t nmessages;
    const char **warnings;   /* dependency problems installed with force */
    size_t nwarnings;
    const char *library_id;  /* of the installed or removed version */
    const char *version_id;
    const char *fqn;         /* "@org/name" */
    const char *version;
    bool replaced;           /* the version existed before */
} ob_lib_result;

/* Installs the archive held in a staged file (an upload, or a copy made by
 * ob_library_install_file).  On success the staged file has become the
 * stored archive.  Returns out->status. */
ob_lib_status ob_library_install(const ob_lib_ctx *c, struct ob_staged_file *archive,
                                 const ob_lib_install_opts *o, ob_lib_result *out);

/* The same for an archive on disk (the command-line installer): the file
 * is copied into the staging folder first.  An unreadable file is
 * OB_LIB_BAD_ARCHIVE with the system's reason. */
ob_lib_status ob_library_install_file(const ob_lib_ctx *c, const char *path,
                                      const ob_lib_install_opts *o, ob_lib_result *out);

/* Removes one version (libraries.md §6): its definitions, the components
 * left without one, its folder and its archive, then publishes
 * library.installed with op "deleted".  Refused (OB_LIB_DEPENDANTS) when
 * another library's dependency that holds now would no longer hold,
 * unless force. */
ob_lib_status ob_library_uninstall_version(const ob_lib_ctx *c, const char *version_id,
                                           bool force, ob_lib_result *out);

/* Removes a library with every version, its texts and lib/<org>/<name>/. */
ob_lib_status ob_library_uninstall(const ob_lib_ctx *c, const char *library_id, bool force,
                                   ob_lib_result *out);

/* The archive's manifest name and dependencies, without installing (the
 * command-line installer orders a folder's archives by them).  NULL with
 * *message set when the archive fails the checks. */
const ob_library_manifest *ob_library_peek(ob_arena *a, const struct ob_config *cfg,
                                           const char *path, const char **message);

#endif
