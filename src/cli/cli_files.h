/* cli_files.h - file-tree work of the maintenance commands (cleanup,
 * backup, restore): a walk that never follows symbolic links and works
 * relative to directory descriptors (so a path swapped for a link under
 * our feet leads nowhere), copying with a SHA-256 on the way, creating
 * files beneath a root, and removing a tree. */
#ifndef OPENBOOK_CLI_FILES_H
#define OPENBOOK_CLI_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* Longest relative path handled, and deepest nesting. */
#define OB_CLI_PATH_MAX 4096
#define OB_CLI_DEPTH_MAX 64

typedef enum {
    OB_WALK_DIR,      /* a directory, before its contents */
    OB_WALK_DIR_DONE, /* the same directory, after its contents */
    OB_WALK_FILE,     /* a regular file */
    OB_WALK_OTHER,    /* a symbolic link, socket, device... (never followed) */
} ob_walk_kind;

typedef struct ob_walk_entry {
    ob_walk_kind kind;
    int dirfd;             /* the directory that holds it */
    const char *name;      /* its name there */
    const char *path;      /* relative to the root: "a/b/c" */
    const struct stat *st; /* lstat of it */
} ob_walk_entry;

/* Returns 0 to go on, 1 to skip a directory's contents (OB_WALK_DIR), -1
 * to stop the walk. */
typedef int (*ob_walk_fn)(void *ctx, const ob_walk_entry *e);

enum {
    OB_WALK_MISSING_OK = 1, /* a missing root is an empty tree */
    OB_WALK_ROOT_NOFOLLOW = 2, /* a root that is a symbolic link is an error */
};

/* Walks everything below root (not root itself), entries of a directory
 * in name order.  Returns 0, or -1 (the callback's, or an error printed on
 * stderr: an unreadable directory, a path too long or too deep). */
int ob_cli_walk(const char *root, unsigned flags, ob_walk_fn fn, void *ctx);

/* Reads fd to its end, writing what it reads to out_fd (if >= 0), and
 * gives the SHA-256 as 64 hex digits and the byte count.  0, or -1 with
 * errno. */
int ob_cli_copy_hash(int fd, int out_fd, char hex[65], uint64_t *size);

/* Opens (O_NOFOLLOW) the directory that will hold rel, beneath the
 * directory rootfd, creating missing directories (mode 0755) when create;
 * *base gets the last component.  Returns the directory's descriptor, or
 * -1 with errno (ELOOP for a symbolic link on the way). */
int ob_cli_open_parent(int rootfd, const char *rel, bool create, const char **base);

/* True when dir has no entries but "lost+found" (a file system's root);
 * also when it does not exist.  -1 when it cannot be read. */
int ob_cli_dir_empty(const char *dir);

/* Writes len bytes (retrying short writes).  0, or -1 with errno. */
int ob_cli_write_all(int fd, const void *buf, size_t len);

#endif
