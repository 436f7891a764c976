/* staging.h - files and folders written beside their final place, then
 * published with one atomic rename.
 *
 * Everything is staged in <media_root>/.staging/ (OB_STAGING_DIR), on the
 * media root's file system, so the final rename(2) never copies.  Staged
 * files are created O_CREAT|O_EXCL|O_NOFOLLOW under random names, mode
 * 0600 while staged; the rename publishes them 0644 (folders 0755), as
 * the front server must read them.
 *
 * Ownership: a staged file or folder belongs to the arena it was created
 * with.  Unless it was committed, the arena's reset removes it, so every
 * early return of a request (bad input, a client that went away) cleans
 * up by itself.  A process killed mid-request leaves its staged entries
 * behind: the pool master removes a dead worker's at once
 * (ob_staging_cleanup_pid), and ob_staging_cleanup removes old ones at
 * start-up and from the cleanup timer (`openbook cleanup`). */
#ifndef OPENBOOK_STAGING_H
#define OPENBOOK_STAGING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "openbook/core/arena.h"

#define OB_STAGING_DIR ".staging"
/* A staged entry untouched this long (seconds) is left over from a killed
 * process: far beyond any request_timeout and any install. */
#define OB_STAGING_MAX_AGE 3600

typedef struct ob_staged_file {
    int fd;                 /* open for reading and writing; -1 once closed */
    char *path;             /* in the staging folder (arena) */
    uint64_t size;          /* bytes written */
    bool done;              /* committed or discarded */
} ob_staged_file;

typedef struct ob_staged_dir {
    char *path;             /* in the staging folder (arena) */
    bool done;
} ob_staged_dir;

/* Creates <media_root>/.staging (0700) and a missing media root (0755).  0, or -1
 * with errno. */
int ob_staging_prepare(const char *media_root);

/* A new, empty staged file; NULL with errno on failure.  The staging
 * folder is created when missing. */
ob_staged_file *ob_staged_file_create(ob_arena *a, const char *media_root);

/* Appends n bytes (the whole of them, or -1 with errno). */
int ob_staged_file_write(ob_staged_file *f, const void *p, size_t n);

/* Publishes the file as dest: fsync, mode 0644, close, parent folders
 * (0755) created, rename, fsync of the parent folder.  replace = false
 * refuses an existing dest (-1, errno EEXIST), atomically.  On failure the
 * file stays staged (and the arena removes it). */
int ob_staged_file_commit(ob_staged_file *f, const char *dest, bool replace);

/* Publishes the file in folder dir under name, or, when that exists,
 * under the name with a random suffix (ob_filename_with_suffix); never
 * replaces a file.  Returns the name used (arena), or NULL with errno. */
char *ob_staged_file_commit_unique(ob_arena *a, ob_staged_file *f, const char *dir,
                                   const char *name);

/* Closes and removes the staged file now (idempotent). */
void ob_staged_file_discard(ob_staged_file *f);

/* A new, empty staged folder (mode 0700 while staged); NULL with errno. */
ob_staged_dir *ob_staged_dir_create(ob_arena *a, const char *media_root);

/* Publishes the folder as dest, mode 0755: an atomic exchange when dest
 * exists (renameat2 RENAME_EXCHANGE; where the file system lacks it, the
 * old folder is renamed aside first), then the old folder is removed.
 * Parent folders are created.  0, or -1 with errno (the folder stays
 * staged). */
int ob_staged_dir_commit(ob_staged_dir *d, const char *dest);

/* Removes the staged folder and its contents now (idempotent). */
void ob_staged_dir_discard(ob_staged_dir *d);

/* mkdir -p: creates path and its missing parents with mode (exactly:
 * umask does not apply).  0, or -1 with errno. */
int ob_mkdirs(const char *path, mode_t mode);

/* Removes path and, for a folder, everything in it, without following
 * symbolic links.  A missing path is not an error.  0, or -1 with errno. */
int ob_remove_tree(const char *path);

/* Removes staged entries last modified before now - max_age.  Returns how
 * many were removed (0 when there is no staging folder), or -1 with errno
 * when the folder cannot be read. */
long ob_staging_cleanup(const char *media_root, long max_age, time_t now);

/* Removes the staged entries of process pid (their names start with
 * "<pid>-"): the pool master calls it for a worker that did not exit
 * cleanly (killed for request_timeout, crashed), whose requests' arenas
 * never ran.  Returns how many were removed, or -1 with errno. */
long ob_staging_cleanup_pid(const char *media_root, pid_t pid);

#endif
