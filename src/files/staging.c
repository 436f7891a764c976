/* staging.c - staged files and folders under <media_root>/.staging/
 * (staging.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "openbook/files/filename.h"
#include "openbook/files/staging.h"

/* Attempts at a free name before giving up (each one random). */
#define NAME_ATTEMPTS 16

int ob_mkdirs(const char *path, mode_t mode)
{
    size_t len = strlen(path);
    if (len == 0 || len >= PATH_MAX) {
        errno = len ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    char buf[PATH_MAX];
    memcpy(buf, path, len + 1);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    /* Walk down from the root; each component that is missing is made. */
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, mode) == 0) {
            if (chmod(buf, mode) != 0) /* mkdir applies the umask */
                return -1;
        } else if (errno != EEXIST) {
            return -1;
        } else {
            struct stat st;
            if (stat(buf, &st) != 0)
                return -1;
            if (!S_ISDIR(st.st_mode)) {
                errno = ENOTDIR;
                return -1;
            }
        }
        *p = saved;
        if (saved == '\0')
            return 0;
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int r = flag == FTW_DP ? rmdir(path) : unlink(path);
    return r != 0 && errno != ENOENT ? -1 : 0;
}

int ob_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    /* Depth first, never following links, never leaving the file system. */
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static char *staging_path(ob_arena *a, const char *media_root)
{
    return ob_arena_printf(a, "%s/%s", media_root, OB_STAGING_DIR);
}

int ob_staging_prepare(const char *media_root)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", media_root, OB_STAGING_DIR) >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* The media root is served by the front server; the staging folder is
     * the server's alone. */
    if (ob_mkdirs(media_root, 0755) != 0)
        return -1;
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* A fresh random name in the staging folder: 128 bits, so names never
 * collide and cannot be guessed; after the creator's pid and a '-', so
 * the pool master can remove what a worker it killed left behind
 * (ob_staging_cleanup_pid). */
static char *random_path(ob_arena *a, const char *media_root, const char *suffix)
{
    unsigned char r[16];
    char hex[sizeof r * 2 + 1];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(hex, sizeof hex, r, sizeof r);
    return ob_arena_printf(a, "%s/%ld-%s%s", staging_path(a, media_root), (long)getpid(), hex,
                           suffix);
}

void ob_staged_file_discard(ob_staged_file *f)
{
    if (f->done)
        return;
    f->done = true;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    unlink(f->path);
}

static void staged_file_defer(void *p)
{
    ob_staged_file_discard(p);
}

ob_staged_file *ob_staged_file_create(ob_arena *a, const char *media_root)
{
    if (ob_staging_prepare(media_root) != 0)
        return NULL;
    for (int i = 0; i < NAME_ATTEMPTS; i++) {
        char *path = random_path(a, media_root, ".part");
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            return NULL;
        }
        ob_staged_file *f = ob_arena_calloc(a, 1, sizeof *f);
        f->fd = fd;
        f->path = path;
        ob_arena_defer(a, staged_file_defer, f);
        return f;
    }
    errno = EEXIST;
    return NULL;
}

int ob_staged_file_write(ob_staged_file *f, const void *p, size_t n)
{
    if (f->fd < 0) {
        errno = EBADF;
        return -1;
    }
    const char *s = p;
    while (n > 0) {
        ssize_t w = write(f->fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += w;
        n -= (size_t)w;
        f->size += (uint64_t)w;
    }
    return 0;
}

/* The folder part of path (a copy in buf); "." when there is none. */
static void parent_of(const char *path, char buf[PATH_MAX])
{
    snprintf(buf, PATH_MAX, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        strcpy(buf, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

/* Makes a rename in folder dir durable. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

static int make_parent(const char *dest, char parent[PATH_MAX])
{
    if (strlen(dest) >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    parent_of(dest, parent);
    return ob_mkdirs(parent, 0755);
}

/* rename(2) that refuses to replace dest (EEXIST). */
static int rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* No RENAME_NOREPLACE on this file system: link(2) refuses too. */
    if (link(from, to) != 0)
        return -1;
    unlink(from);
    return 0;
}

/* Flushes and closes a staged file before it is published. */
static int seal(ob_staged_file *f)
{
    if (f->fd < 0)
        return 0;
    if (fsync(f->fd) != 0 || fchmod(f->fd, 0644) != 0)
        return -1;
    int r = close(f->fd);
    f->fd = -1;
    return r;
}

int ob_staged_file_commit(ob_staged_file *f, const char *dest, bool replace)
{
    char parent[PATH_MAX];
    if (f->done) {
        errno = EINVAL;
        return -1;
    }
    if (seal(f) != 0 || make_parent(dest, parent) != 0)
        return -1;
    if ((replace ? rename(f->path, dest) : rename_noreplace(f->path, dest)) != 0)
        return -1;
    f->done = true;
    sync_dir(parent); /* the file is in place; durability is best effort */
    return 0;
}

char *ob_staged_file_commit_unique(ob_arena *a, ob_staged_file *f, const char *dir,
                                   const char *name)
{
    char *candidate = ob_arena_strdup(a, name);
    for (int i = 0; i < NAME_ATTEMPTS; i++) {
        char *dest = ob_arena_printf(a, "%s/%s", dir, candidate);
        if (ob_staged_file_commit(f, dest, false) == 0)
            return candidate;
        if (errno != EEXIST)
            return NULL;
        candidate = ob_filename_with_suffix(a, name);
    }
    errno = EEXIST;
    return NULL;
}

void ob_staged_dir_discard(ob_staged_dir *d)
{
    if (d->done)
        return;
    d->done = true;
    ob_remove_tree(d->path);
}

static void staged_dir_defer(void *p)
{
    ob_staged_dir_discard(p);
}

ob_staged_dir *ob_staged_dir_create(ob_arena *a, const char *media_root)
{
    if (ob_staging_prepare(media_root) != 0)
        return NULL;
    for (int i = 0; i < NAME_ATTEMPTS; i++) {
        char *path = random_path(a, media_root, ".d");
        if (mkdir(path, 0700) != 0) {
            if (errno == EEXIST)
                continue;
            return NULL;
        }
        ob_staged_dir *d = ob_arena_calloc(a, 1, sizeof *d);
        d->path = path;
        ob_arena_defer(a, staged_dir_defer, d);
        return d;
    }
    errno = EEXIST;
    return NULL;
}

int ob_staged_dir_commit(ob_staged_dir *d, const char *dest)
{
    char parent[PATH_MAX];
    if (d->done) {
        errno = EINVAL;
        return -1;
    }
    if (chmod(d->path, 0755) != 0 || make_parent(dest, parent) != 0)
        return -1;
    /* Two tries: dest may appear or vanish between the calls (another
     * process installing or removing the same folder). */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (renameat2(AT_FDCWD, d->path, AT_FDCWD, dest, RENAME_EXCHANGE) == 0) {
            /* d->path now holds the old folder. */
            d->done = true;
            sync_dir(parent);
            ob_remove_tree(d->path);
            return 0;
        }
        if (errno == ENOENT) {
            if (rename_noreplace(d->path, dest) == 0) {
                d->done = true;
                sync_dir(parent);
                return 0;
            }
            if (errno == EEXIST)
                continue;
            return -1;
        }
        if (errno != EINVAL && errno != ENOSYS)
            return -1;
        /* No RENAME_EXCHANGE here: the old folder goes aside first, so
         * for a moment dest is missing (never half-written). */
        char aside[PATH_MAX];
        if ((size_t)snprintf(aside, sizeof aside, "%s.old", d->path) >= sizeof aside) {
            errno = ENAMETOOLONG;
            return -1;
        }
        bool moved = rename(dest, aside) == 0;
        if (!moved && errno != ENOENT)
            return -1;
        if (rename(d->path, dest) != 0) {
            int e = errno;
            if (moved)
                rename(aside, dest);
            errno = e;
            return -1;
        }
        d->done = true;
        sync_dir(parent);
        if (moved)
            ob_remove_tree(aside);
        return 0;
    }
    errno = EEXIST;
    return -1;
}

/* Removes the staging folder's entries for which keep() is false. */
static long sweep(const char *media_root, bool (*keep)(const char *name, const struct stat *st,
                                                      const void *arg),
                  const void *arg)
{
    char dir[PATH_MAX];
    if ((size_t)snprintf(dir, sizeof dir, "%s/%s", media_root, OB_STAGING_DIR) >= sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* Never through a link: what lies elsewhere is not ours to delete. */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    DIR *dp = fdopendir(fd);
    if (!dp) {
        close(fd);
        return -1;
    }
    long removed = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (keep(e->d_name, &st, arg))
            continue;
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
            continue;
        if (ob_remove_tree(path) == 0)
            removed++;
    }
    closedir(dp);
    return removed;
}

static bool young(const char *name, const struct stat *st, const void *arg)
{
    (void)name;
    return st->st_mtime > *(const time_t *)arg;
}

long ob_staging_cleanup(const char *media_root, long max_age, time_t now)
{
    time_t before = now - max_age;
    return sweep(media_root, young, &before);
}

static bool not_of_pid(const char *name, const struct stat *st, const void *arg)
{
    (void)st;
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "%ld-", (long)*(const pid_t *)arg);
    return strncmp(name, prefix, (size_t)n) != 0;
}

long ob_staging_cleanup_pid(const char *media_root, pid_t pid)
{
    return sweep(media_root, not_of_pid, &pid);
}
