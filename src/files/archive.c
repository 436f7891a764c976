/* archive.c - library archive checks and extraction (archive.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>
#include "openbook/core/alloc.h"
#include "openbook/files/archive.h"
#include "openbook/core/config.h"

#define MSG_TOO_MANY "The archive contains too many files (limit %llu)."
#define MSG_TOO_LARGE "The archive is too large when unpacked (limit %llu bytes)."
#define MSG_UNSAFE "The archive contains an unsafe path: %s"
#define MSG_LINK "The archive contains a link or special file: %s"
#define MSG_DUPLICATE "The archive contains duplicate paths: %s"
#define MSG_UNSUPPORTED "The archive uses an unsupported compression method or encryption."
#define MSG_COMPONENT "Invalid component definition in %s: %s"

#define MANIFEST_PATH OB_ARCHIVE_ROOT "library.yml"
#define COMPONENTS_PREFIX OB_ARCHIVE_ROOT "components/"
#define READ_CHUNK 65536

/* What the checks learned about one entry. */
typedef struct entry {
    const char *raw;        /* the name as stored (may hold NUL); only the
                             * first OB_ARCHIVE_NAME_MAX + 1 bytes of a
                             * longer one */
    size_t raw_len;         /* the full length */
    char *shown;            /* the name for messages: control bytes as '?' */
    char *path;             /* normalized: no "", "." components, no trailing '/' */
    size_t path_len;
    uint64_t size;          /* declared uncompressed size */
    bool dir;
} entry;

struct ob_archive {
    ob_arena *arena;
    zip_t *zip;
    int fd;                 /* -1 for a buffer */
    const unsigned char *mem;
    uint64_t size;          /* of the archive file */
    ob_archive_limits limits;
    entry *entries;
    uint64_t count;
    ob_library_manifest manifest;
    ob_component_def *components;
    size_t ncomponents;
};

ob_archive_limits ob_archive_limits_for(const ob_config *cfg)
{
    return (ob_archive_limits){
        .max_entries = (uint64_t)cfg->library_max_entries,
        .max_uncompressed_bytes = (uint64_t)cfg->library_max_uncompressed_bytes,
        .max_manifest_bytes = (uint64_t)cfg->library_max_manifest_bytes,
    };
}

void ob_archive_close(ob_archive *ar)
{
    if (ar->zip)
        zip_discard(ar->zip);
    ar->zip = NULL;
}

static void archive_defer(void *p)
{
    ob_archive_close(p);
}

/* ---- raw reads and the central directory --------------------------------- */

static bool raw_read(const ob_archive *ar, uint64_t off, void *buf, size_t n)
{
    if (off > ar->size || n > ar->size - off)
        return false;
    if (ar->fd < 0) {
        memcpy(buf, ar->mem + off, n);
        return true;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(ar->fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static uint64_t le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Finds the central directory: offset and record count, from the end of
 * central directory record (the last one whose comment reaches exactly to
 * the end of the file, else the last one at all) and, for ZIP64, from
 * the records its locator points to. */
static bool find_cdir(const ob_archive *ar, uint64_t *cd_off, uint64_t *cd_count)
{
    size_t tail = ar->size < 22 + 65535 ? (size_t)ar->size : 22 + 65535;
    if (tail < 22)
        return false;
    unsigned char *buf = ob_malloc(tail);
    bool ok = false;
    if (!raw_read(ar, ar->size - tail, buf, tail))
        goto out;
    size_t best = (size_t)-1, exact = (size_t)-1;
    for (size_t p = tail - 22 + 1; p-- > 0;) {
        if (memcmp(buf + p, "PK\5\6", 4) != 0)
            continue;
        uint64_t clen = le(buf + p + 20, 2);
        if (best == (size_t)-1)
            best = p;
        if (p + 22 + clen == tail) {
            exact = p;
            break;
        }
    }
    size_t p = exact != (size_t)-1 ? exact : best;
    if (p == (size_t)-1)
        goto out;
    uint64_t eocd_at = ar->size - tail + p;
    *cd_count = le(buf + p + 10, 2);
    uint64_t cd_size = le(buf + p + 12, 4);
    *cd_off = le(buf + p + 16, 4);
    if (*cd_count == 0xffff || cd_size == 0xffffffffu || *cd_off == 0xffffffffu) {
        unsigned char loc[20], z[56];
        if (eocd_at < 20 || !raw_read(ar, eocd_at - 20, loc, sizeof loc) ||
            memcmp(loc, "PK\6\7", 4) != 0)
            goto out;
        if (!raw_read(ar, le(loc + 8, 8), z, sizeof z) || memcmp(z, "PK\6\6", 4) != 0)
            goto out;
        *cd_count = le(z + 32, 8);
        *cd_off = le(z + 48, 8);
    }
    ok = true;
out:
    ob_free(buf);
    return ok;
}

/* The raw names of the central directory, which must be count records
 * whose names equal libzip's once NUL reads as a space. */
static bool read_raw_names(ob_archive *ar)
{
    uint64_t off, n;
    if (!find_cdir(ar, &off, &n) || n != ar->count)
        return false;
    for (uint64_t i = 0; i < n; i++) {
        unsigned char h[46];
        if (!raw_read(ar, off, h, sizeof h) || memcmp(h, "PK\1\2", 4) != 0)
            return false;
        size_t nlen = (size_t)le(h + 28, 2);
        uint64_t skip = 46 + nlen + le(h + 30, 2) + le(h + 32, 2);
        /* A name over the limit is refused anyway: keep enough to show. */
        size_t keep = nlen <= OB_ARCHIVE_NAME_MAX ? nlen : OB_ARCHIVE_NAME_MAX + 1;
        char *name = ob_arena_alloc(ar->arena, keep + 1);
        if (!raw_read(ar, off + 46, name, keep))
            return false;
        name[keep] = '\0';
        const char *lz = zip_get_name(ar->zip, i, ZIP_FL_ENC_RAW);
        if (!lz || strlen(lz) != nlen)
            return false;
        for (size_t k = 0; k < keep; k++)
            if (lz[k] != (name[k] ? name[k] : ' '))
                return false;
        ar->entries[i].raw = name;
        ar->entries[i].raw_len = nlen;
        off += skip;
    }
    return true;
}

/* ---- per-entry checks -------------------------------------------------------- */

static char *shown_name(ob_arena *a, const char *s, size_t n)
{
    char *o = ob_arena_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        o[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    o[n] = '\0';
    return o;
}

/* Normalizes e->raw into e->path; false for an unsafe name. */
static bool normalize(ob_arena *a, entry *e)
{
    const char *s = e->raw;
    size_t n = e->raw_len;
    if (n == 0 || n > OB_ARCHIVE_NAME_MAX || s[0] == '/' || s[0] == '\\')
        return false;
    if (n >= 2 && s[1] == ':' && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false; /* a drive letter */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return false;
    }
    char *out = ob_arena_alloc(a, n + 1);
    size_t o = 0, depth = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        size_t len = j - i;
        if (len == 2 && s[i] == '.' && s[i + 1] == '.')
            return false;
        if (len > 255 || ++depth > OB_ARCHIVE_DEPTH_MAX)
            return false;
        if (len > 0 && !(len == 1 && s[i] == '.')) {
            if (o)
                out[o++] = '/';
            memcpy(out + o, s + i, len);
            o += len;
        }
        i = j + 1;
    }
    if (o == 0)
        return false; /* names nothing ("./") */
    out[o] = '\0';
    e->path = out;
    e->path_len = o;
    return true;
}

/* Paths compared with '/' below every other byte, so that the entries
 * inside a folder sort right after the folder's own path. */
static int path_cmp(const void *pa, const void *pb)
{
    const entry *a = *(entry *const *)pa, *b = *(entry *const *)pb;
    size_t n = a->path_len < b->path_len ? a->path_len : b->path_len;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a->path[i], y = (unsigned char)b->path[i];
        if (x != y) {
            x = x == '/' ? 0 : x;
            y = y == '/' ? 0 : y;
            return x < y ? -1 : 1;
        }
    }
    if (a->path_len != b->path_len)
        return a->path_len < b->path_len ? -1 : 1;
    return a < b ? -1 : a > b; /* central-directory order */
}

/* The first later entry on a path that another entry already takes: the
 * same path twice, or a path inside a file. */
static const entry *find_duplicate(ob_archive *ar)
{
    if (ar->count < 2)
        return NULL;
    entry **order = ob_malloc(ar->count * sizeof *order);
    for (uint64_t i = 0; i < ar->count; i++)
        order[i] = &ar->entries[i];
    qsort(order, ar->count, sizeof *order, path_cmp);
    const entry *dup = NULL;
    for (uint64_t i = 0; i + 1 < ar->count; i++) {
        const entry *x = order[i], *y = order[i + 1];
        bool same = x->path_len == y->path_len && memcmp(x->path, y->path, x->path_len) == 0;
        bool inside = !x->dir && y->path_len > x->path_len &&
                      memcmp(x->path, y->path, x->path_len) == 0 && y->path[x->path_len] == '/';
        if (same || inside) {
            const entry *later = x > y ? x : y;
            if (!dup || later < dup)
                dup = later;
        }
    }
    ob_free(order);
    return dup;
}

static bool is_component(const entry *e)
{
    size_t pl = strlen(COMPONENTS_PREFIX);
    return !e->dir && e->path_len > pl + 4 && memcmp(e->path, COMPONENTS_PREFIX, pl) == 0 &&
           memcmp(e->path + e->path_len - 4, ".yml", 4) == 0;
}

static bool is_manifest(const entry *e)
{
    return !e->dir && strcmp(e->path, MANIFEST_PATH) == 0;
}

/* ---- reading entries -------------------------------------------------------- */

typedef int (*sink_fn)(void *ctx, const char *data, size_t n);

/* Streams entry i to sink, holding it to its declared size and the
 * running total *total to the limit. */
static ob_archive_status read_entry(ob_archive *ar, uint64_t i, uint64_t *total, sink_fn sink,
                                    void *ctx)
{
    zip_file_t *f = zip_fopen_index(ar->zip, i, 0);
    if (!f) {
        int ze = zip_error_code_zip(zip_get_error(ar->zip));
        return ze == ZIP_ER_COMPNOTSUPP || ze == ZIP_ER_ENCRNOTSUPP || ze == ZIP_ER_NOPASSWD
                   ? OB_ARCHIVE_UNSUPPORTED
                   : OB_ARCHIVE_INVALID;
    }
    char *buf = ob_malloc(READ_CHUNK);
    uint64_t got = 0;
    ob_archive_status st = OB_ARCHIVE_OK;
    for (;;) {
        zip_int64_t r = zip_fread(f, buf, READ_CHUNK);
        if (r < 0) {
            st = OB_ARCHIVE_INVALID; /* corrupt data or CRC mismatch */
            break;
        }
        if (r == 0)
            break;
        got += (uint64_t)r;
        *total += (uint64_t)r;
        if (got > ar->entries[i].size || *total > ar->limits.max_uncompressed_bytes) {
            st = OB_ARCHIVE_TOO_LARGE;
            break;
        }
        if (sink(ctx, buf, (size_t)r) != 0) {
            st = OB_ARCHIVE_IO;
            break;
        }
    }
    if (st == OB_ARCHIVE_OK && got != ar->entries[i].size)
        st = OB_ARCHIVE_INVALID; /* shorter than declared */
    ob_free(buf);
    zip_fclose(f);
    return st;
}

typedef struct membuf {
    char *data;
    size_t len, cap;
} membuf;

static int mem_sink(void *ctx, const char *data, size_t n)
{
    membuf *m = ctx;
    if (n > m->cap - m->len)
        return -1; /* cannot happen: the entry is held to its declared size */
    memcpy(m->data + m->len, data, n);
    m->len += n;
    return 0;
}

/* Reads a YAML entry (declared size already checked) into m. */
static ob_archive_status read_yaml(ob_archive *ar, uint64_t i, membuf *m)
{
    size_t need = (size_t)ar->entries[i].size;
    if (need + 1 > m->cap) {
        m->data = ob_realloc(m->data, need + 1);
        m->cap = need + 1;
    }
    m->len = 0;
    uint64_t total = 0;
    ob_archive_status st = read_entry(ar, i, &total, mem_sink, m);
    return st == OB_ARCHIVE_IO ? OB_ARCHIVE_INVALID : st;
}

/* ---- opening -------------------------------------------------------------- */

static ob_archive_status fail(ob_archive *ar, ob_archive_status st, const char **message,
                              const char *fmt, const char *arg)
{
    ob_arena *a = ar->arena;
    switch (st) {
    case OB_ARCHIVE_TOO_MANY_FILES:
        *message = ob_arena_printf(a, MSG_TOO_MANY, (unsigned long long)ar->limits.max_entries);
        break;
    case OB_ARCHIVE_TOO_LARGE:
        *message = ob_arena_printf(a, MSG_TOO_LARGE,
                                   (unsigned long long)ar->limits.max_uncompressed_bytes);
        break;
    case OB_ARCHIVE_MANIFEST_TOO_LARGE:
        *message = OB_MANIFEST_TOO_LARGE_MESSAGE;
        break;
    case OB_ARCHIVE_UNSUPPORTED:
        *message = MSG_UNSUPPORTED;
        break;
    case OB_ARCHIVE_INVALID:
        *message = OB_ARCHIVE_INVALID_MESSAGE;
        break;
    default:
        *message = fmt ? ob_arena_printf(a, fmt, arg) : arg;
        break;
    }
    return st;
}

static zip_source_t *make_source(ob_archive *ar, zip_error_t *err)
{
    if (ar->fd < 0)
        return zip_source_buffer_create(ar->mem, ar->size, 0, err);
    int fd = dup(ar->fd);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        return NULL;
    }
    zip_source_t *src = zip_source_filep_create(fp, 0, -1, err);
    if (!src)
        fclose(fp);
    return src;
}

/* Opens the ZIP.  libzip refuses duplicate names when asked to check
 * consistency (ZIP_CHECKCONS); such an archive is reopened without the
 * check only so that the duplicate can be named, and is refused in any
 * case (*must_fail). */
static bool open_zip(ob_archive *ar, bool *must_fail)
{
    *must_fail = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        zip_error_t err;
        zip_error_init(&err);
        zip_source_t *src = make_source(ar, &err);
        if (!src) {
            zip_error_fini(&err);
            return false;
        }
        ar->zip = zip_open_from_source(src, ZIP_RDONLY | (attempt ? 0 : ZIP_CHECKCONS), &err);
        int code = zip_error_code_zip(&err);
        zip_error_fini(&err);
        if (ar->zip)
            return true;
        zip_source_free(src);
        if (code != ZIP_ER_EXISTS)
            return false;
        *must_fail = true;
    }
    return false;
}

static ob_archive_status check_entries(ob_archive *ar, const char **message)
{
    ob_arena *a = ar->arena;
    for (uint64_t i = 0; i < ar->count; i++) {
        entry *e = &ar->entries[i];
        e->shown = shown_name(a, e->raw,
                              e->raw_len <= OB_ARCHIVE_NAME_MAX ? e->raw_len
                                                                : OB_ARCHIVE_NAME_MAX + 1);
        if (!normalize(a, e))
            return fail(ar, OB_ARCHIVE_UNSAFE_PATH, message, MSG_UNSAFE, e->shown);
        zip_stat_t st;
        zip_uint8_t opsys;
        zip_uint32_t attr;
        if (zip_stat_index(ar->zip, i, ZIP_FL_ENC_RAW, &st) != 0 ||
            zip_file_get_external_attributes(ar->zip, i, 0, &opsys, &attr) != 0 ||
            !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD) ||
            !(st.valid & ZIP_STAT_ENCRYPTION_METHOD))
            return fail(ar, OB_ARCHIVE_INVALID, message, NULL, NULL);
        e->size = st.size;
        e->dir = e->raw[e->raw_len - 1] == '/';
        unsigned mode = opsys == ZIP_OPSYS_UNIX ? (attr >> 16) & 0170000 : 0;
        if (mode == 0040000)
            e->dir = true;
        else if (mode != 0 && mode != 0100000)
            return fail(ar, OB_ARCHIVE_LINK, message, MSG_LINK, e->shown);
        if (e->dir && e->size != 0)
            return fail(ar, OB_ARCHIVE_LINK, message, MSG_LINK, e->shown);
        if ((st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) ||
            st.encryption_method != ZIP_EM_NONE)
            return fail(ar, OB_ARCHIVE_UNSUPPORTED, message, NULL, NULL);
    }
    const entry *dup = find_duplicate(ar);
    if (dup)
        return fail(ar, OB_ARCHIVE_DUPLICATE, message, MSG_DUPLICATE, dup->shown);
    uint64_t total = 0;
    for (uint64_t i = 0; i < ar->count; i++) {
        total += ar->entries[i].size;
        if (ar->entries[i].size > ar->limits.max_uncompressed_bytes ||
            total > ar->limits.max_uncompressed_bytes)
            return fail(ar, OB_ARCHIVE_TOO_LARGE, message, NULL, NULL);
    }
    for (uint64_t i = 0; i < ar->count; i++) {
        const entry *e = &ar->entries[i];
        if ((is_manifest(e) || is_component(e)) && e->size > ar->limits.max_manifest_bytes)
            return fail(ar, OB_ARCHIVE_MANIFEST_TOO_LARGE, message, NULL, NULL);
    }
    return OB_ARCHIVE_OK;
}

static ob_archive_status read_manifest(ob_archive *ar, membuf *m, const char **message)
{
    uint64_t i = 0;
    while (i < ar->count && !is_manifest(&ar->entries[i]))
        i++;
    if (i == ar->count)
        return fail(ar, OB_ARCHIVE_INVALID, message, NULL, NULL);
    ob_archive_status st = read_yaml(ar, i, m);
    if (st != OB_ARCHIVE_OK)
        return fail(ar, st, message, NULL, NULL);
    const char *msg;
    switch (ob_manifest_parse(ar->arena, m->data, m->len, ar->limits.max_manifest_bytes,
                              &ar->manifest, &msg)) {
    case OB_MANIFEST_OK:
        return OB_ARCHIVE_OK;
    case OB_MANIFEST_TOO_LARGE:
        return fail(ar, OB_ARCHIVE_MANIFEST_TOO_LARGE, message, NULL, NULL);
    case OB_MANIFEST_BAD_DEPENDENCY:
        return fail(ar, OB_ARCHIVE_BAD_DEPENDENCY, message, NULL, msg);
    case OB_MANIFEST_SELF_DEPENDENCY:
        return fail(ar, OB_ARCHIVE_SELF_DEPENDENCY, message, NULL, msg);
    default:
        return fail(ar, OB_ARCHIVE_INVALID, message, NULL, NULL);
    }
}

static ob_archive_status read_components(ob_archive *ar, membuf *m, const char **message)
{
    ar->components = ob_arena_calloc(ar->arena, ar->count ? ar->count : 1,
                                     sizeof *ar->components);
    for (uint64_t i = 0; i < ar->count; i++) {
        const entry *e = &ar->entries[i];
        if (!is_component(e))
            continue;
        ob_archive_status st = read_yaml(ar, i, m);
        if (st != OB_ARCHIVE_OK)
            return fail(ar, st, message, NULL, NULL);
        ob_component_def def;
        const char *reason;
        ob_component_status cs = ob_component_parse(ar->arena, m->data, m->len, &def, &reason);
        if (cs == OB_COMPONENT_SKIP)
            continue;
        if (cs != OB_COMPONENT_OK)
            return fail(ar, OB_ARCHIVE_BAD_COMPONENT, message, NULL,
                        ob_arena_printf(ar->arena, MSG_COMPONENT, e->shown, reason));
        size_t k = 0;
        while (k < ar->ncomponents && strcmp(ar->components[k].tag_name, def.tag_name) != 0)
            k++;
        ar->components[k] = def; /* a later file replaces an earlier one */
        if (k == ar->ncomponents)
            ar->ncomponents++;
    }
    return OB_ARCHIVE_OK;
}

static ob_archive_status open_archive(ob_archive *ar, ob_archive **out, const char **message)
{
    *out = NULL;
    *message = NULL;
    bool must_fail;
    if (!open_zip(ar, &must_fail))
        return fail(ar, OB_ARCHIVE_INVALID, message, NULL, NULL);
    ob_arena_defer(ar->arena, archive_defer, ar);
    zip_int64_t n = zip_get_num_entries(ar->zip, 0);
    if (n < 0)
        return fail(ar, OB_ARCHIVE_INVALID, message, NULL, NULL);
    ar->count = (uint64_t)n;
    if (ar->count > ar->limits.max_entries)
        return fail(ar, OB_ARCHIVE_TOO_MANY_FILES, message, NULL, NULL);
    ar->entries = ob_arena_calloc(ar->arena, ar->count ? ar->count : 1, sizeof *ar->entries);
    if (!read_raw_names(ar))
        return fail(ar, OB_ARCHIVE_INVALID, message, NULL, NULL);
    ob_archive_status st = check_entries(ar, message);
    if (st == OB_ARCHIVE_OK && must_fail) /* libzip saw duplicates that the checks did not */
        st = fail(ar, OB_ARCHIVE_INVALID, message, NULL, NULL);
    membuf m = {0};
    if (st == OB_ARCHIVE_OK)
        st = read_manifest(ar, &m, message);
    if (st == OB_ARCHIVE_OK)
        st = read_components(ar, &m, message);
    ob_free(m.data);
    if (st != OB_ARCHIVE_OK) {
        ob_archive_close(ar);
        return st;
    }
    *out = ar;
    return OB_ARCHIVE_OK;
}

static ob_archive *archive_new(ob_arena *a, const ob_archive_limits *limits)
{
    ob_archive *ar = ob_arena_calloc(a, 1, sizeof *ar);
    ar->arena = a;
    ar->fd = -1;
    ar->limits = *limits;
    return ar;
}

ob_archive_status ob_archive_open_fd(ob_arena *a, int fd, const ob_archive_limits *limits,
                                     ob_archive **out, const char **message)
{
    ob_archive *ar = archive_new(a, limits);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *out = NULL;
        return fail(ar, OB_ARCHIVE_INVALID, message, NULL, NULL);
    }
    ar->fd = fd;
    ar->size = (uint64_t)st.st_size;
    return open_archive(ar, out, message);
}

ob_archive_status ob_archive_open_buffer(ob_arena *a, const void *data, size_t len,
                                         const ob_archive_limits *limits, ob_archive **out,
                                         const char **message)
{
    ob_archive *ar = archive_new(a, limits);
    ar->mem = data;
    ar->size = len;
    return open_archive(ar, out, message);
}

const ob_library_manifest *ob_archive_manifest(const ob_archive *ar)
{
    return &ar->manifest;
}

const ob_component_def *ob_archive_components(const ob_archive *ar, size_t *count)
{
    *count = ar->ncomponents;
    return ar->components;
}

/* ---- extraction ------------------------------------------------------------ */

/* Opens (creating it when missing, 0755) the folder rel[0..len) below the
 * folder root_fd, one component at a time, never through a link. */
static int open_dirs(int root_fd, const char *rel, size_t len)
{
    int fd = dup(root_fd);
    size_t i = 0;
    while (fd >= 0 && i < len) {
        size_t j = i;
        while (j < len && rel[j] != '/')
            j++;
        char name[256];
        memcpy(name, rel + i, j - i); /* components are at most 255 bytes */
        name[j - i] = '\0';
        if (mkdirat(fd, name, 0755) == 0) {
            if (fchmodat(fd, name, 0755, 0) != 0) {
                close(fd);
                return -1;
            }
        } else if (errno != EEXIST) {
            close(fd);
            return -1;
        }
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = next;
        i = j + 1;
    }
    return fd;
}

static int fd_sink(void *ctx, const char *data, size_t n)
{
    int fd = *(int *)ctx;
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

ob_archive_status ob_archive_extract(ob_archive *ar, const char *dir, bool sync,
                                     const char **message)
{
    *message = NULL;
    if (!ar->zip)
        return fail(ar, OB_ARCHIVE_IO, message, NULL, "The archive is closed.");
    int root = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (root < 0)
        return fail(ar, OB_ARCHIVE_IO, message, NULL, "The library folder cannot be written.");
    size_t pl = strlen(OB_ARCHIVE_ROOT);
    uint64_t total = 0;
    ob_archive_status st = OB_ARCHIVE_OK;
    /* The folder of the previous file, kept open: files come grouped. */
    char *cached = NULL;
    size_t cached_len = 0;
    int cached_fd = -1;
    for (uint64_t i = 0; i < ar->count && st == OB_ARCHIVE_OK; i++) {
        const entry *e = &ar->entries[i];
        if (e->path_len <= pl || memcmp(e->path, OB_ARCHIVE_ROOT, pl) != 0)
            continue; /* outside openbook-library/, or the folder itself */
        const char *rel = e->path + pl;
        size_t rel_len = e->path_len - pl;
        if (e->dir) {
            int fd = open_dirs(root, rel, rel_len);
            if (fd < 0)
                st = OB_ARCHIVE_IO;
            else
                close(fd);
            continue;
        }
        const char *slash = memrchr(rel, '/', rel_len);
        size_t dir_len = slash ? (size_t)(slash - rel) : 0;
        if (cached_fd < 0 || dir_len != cached_len || memcmp(rel, cached, dir_len) != 0) {
            if (cached_fd >= 0)
                close(cached_fd);
            cached_fd = open_dirs(root, rel, dir_len);
            cached = (char *)rel;
            cached_len = dir_len;
            if (cached_fd < 0) {
                st = OB_ARCHIVE_IO;
                break;
            }
        }
        const char *base = slash ? slash + 1 : rel;
        int fd = openat(cached_fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0644);
        if (fd < 0 || fchmod(fd, 0644) != 0) {
            if (fd >= 0)
                close(fd);
            st = OB_ARCHIVE_IO;
            break;
        }
        st = read_entry(ar, i, &total, fd_sink, &fd);
        if (close(fd) != 0 && st == OB_ARCHIVE_OK)
            st = OB_ARCHIVE_IO;
    }
    if (cached_fd >= 0)
        close(cached_fd);
    if (st == OB_ARCHIVE_OK && sync && syncfs(root) != 0)
        st = OB_ARCHIVE_IO;
    close(root);
    if (st == OB_ARCHIVE_IO)
        return fail(ar, st, message, NULL, "The library folder cannot be written.");
    return st == OB_ARCHIVE_OK ? st : fail(ar, st, message, NULL, NULL);
}
