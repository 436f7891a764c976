/* cli_files.c - file-tree helpers of the maintenance commands
 * (cli_files.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "openbook/core/alloc.h"
#include "cli_files.h"

typedef struct walker {
    ob_walk_fn fn;
    void *ctx;
    char path[OB_CLI_PATH_MAX + 1];
} walker;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the directory, sorted; *n gets their count.  NULL with
 * errno on failure.  Takes over fd (closed by closedir). */
static char **read_names(int fd, size_t *n)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    size_t cap = 16, count = 0;
    char **names = ob_malloc(cap * sizeof *names);
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (count == cap) {
            cap *= 2;
            names = ob_realloc(names, cap * sizeof *names);
        }
        names[count++] = ob_strdup(de->d_name);
        errno = 0;
    }
    int e = errno;
    closedir(d);
    if (e) {
        for (size_t i = 0; i < count; i++)
            ob_free(names[i]);
        ob_free(names);
        errno = e;
        return NULL;
    }
    qsort(names, count, sizeof *names, cmp_names);
    *n = count;
    return names;
}

/* Walks the directory dirfd (which it keeps open) whose path is w->path
 * of length len. */
static int walk_dir(walker *w, int dirfd, size_t len, int depth)
{
    if (depth > OB_CLI_DEPTH_MAX) {
        fprintf(stderr, "openbook: %s: nested too deeply\n", w->path);
        return -1;
    }
    int fd = dup(dirfd);
    size_t n = 0;
    char **names = fd < 0 ? NULL : read_names(fd, &n);
    if (!names) {
        fprintf(stderr, "openbook: cannot read the directory %s: %s\n", len ? w->path : ".",
                strerror(errno));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t nl = strlen(names[i]);
        if (len + 1 + nl > OB_CLI_PATH_MAX) {
            fprintf(stderr, "openbook: %s/%s: path too long\n", w->path, names[i]);
            rc = -1;
            break;
        }
        size_t at = len;
        if (len)
            w->path[at++] = '/';
        memcpy(w->path + at, names[i], nl + 1);
        struct stat st;
        if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) { /* gone meanwhile: nothing to do */
                fprintf(stderr, "openbook: %s: %s\n", w->path, strerror(errno));
                rc = -1;
            }
            w->path[len] = '\0';
            continue;
        }
        ob_walk_entry e = {.dirfd = dirfd, .name = names[i], .path = w->path, .st = &st};
        if (S_ISDIR(st.st_mode)) {
            e.kind = OB_WALK_DIR;
            int r = w->fn(w->ctx, &e);
            if (r < 0) {
                rc = -1;
            } else if (r == 0) {
                int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                    fprintf(stderr, "openbook: %s: %s\n", w->path, strerror(errno));
                    rc = -1;
                } else {
                    rc = walk_dir(w, sub, at + nl, depth + 1);
                    close(sub);
                    w->path[at + nl] = '\0';
                    e.kind = OB_WALK_DIR_DONE;
                    if (rc == 0 && w->fn(w->ctx, &e) < 0)
                        rc = -1;
                }
            }
        } else {
            e.kind = S_ISREG(st.st_mode) ? OB_WALK_FILE : OB_WALK_OTHER;
            if (w->fn(w->ctx, &e) < 0)
                rc = -1;
        }
        w->path[len] = '\0';
    }
    for (size_t i = 0; i < n; i++)
        ob_free(names[i]);
    ob_free(names);
    return rc;
}

int ob_cli_walk(const char *root, unsigned flags, ob_walk_fn fn, void *ctx)
{
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                            (flags & OB_WALK_ROOT_NOFOLLOW ? O_NOFOLLOW : 0));
    if (fd < 0) {
        if (errno == ENOENT && (flags & OB_WALK_MISSING_OK))
            return 0;
        fprintf(stderr, "openbook: cannot open the directory %s: %s\n", root, strerror(errno));
        return -1;
    }
    walker *w = ob_calloc(1, sizeof *w);
    w->fn = fn;
    w->ctx = ctx;
    int rc = walk_dir(w, fd, 0, 0);
    ob_free(w);
    close(fd);
    return rc;
}

int ob_cli_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ob_cli_copy_hash(int fd, int out_fd, char hex[65], uint64_t *size)
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = ob_malloc(CHUNK);
    uint64_t total = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        crypto_hash_sha256_update(&h, buf, (unsigned long long)n);
        total += (uint64_t)n;
        if (out_fd >= 0 && ob_cli_write_all(out_fd, buf, (size_t)n) != 0) {
            rc = -1;
            break;
        }
    }
    int e = errno;
    ob_free(buf);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&h, digest);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
    *size = total;
    errno = e;
    return rc;
}

int ob_cli_open_parent(int rootfd, const char *rel, bool create, const char **base)
{
    int dir = dup(rootfd);
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash)
            break;
        size_t n = (size_t)(slash - p);
        char name[256];
        if (dir < 0 || n == 0 || n >= sizeof name) {
            if (dir >= 0)
                close(dir);
            errno = dir < 0 ? errno : EINVAL;
            return -1;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        if (create && mkdirat(dir, name, 0755) != 0 && errno != EEXIST) {
            close(dir);
            return -1;
        }
        int next = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(dir);
        errno = e;
        if (next < 0)
            return -1;
        dir = next;
        p = slash + 1;
    }
    *base = p;
    return dir;
}

int ob_cli_dir_empty(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    size_t n = 0;
    char **names = read_names(fd, &n);
    if (!names)
        return -1;
    int empty = 1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "lost+found") != 0)
            empty = 0;
        ob_free(names[i]);
    }
    ob_free(names);
    return empty;
}
