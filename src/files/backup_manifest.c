/* backup_manifest.c - writing and checking a backup's manifest
 * (backup.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/files/backup.h"
#include "openbook/core/json.h"
#include "openbook/http/parse.h"

bool ob_backup_path_valid(const char *s, size_t len)
{
    if (len == 0 || len > OB_BACKUP_PATH_MAX || memchr(s, '\0', len) || !ob_utf8_valid(s, len))
        return false;
    if (len == strlen(OB_BACKUP_DUMP) && memcmp(s, OB_BACKUP_DUMP, len) == 0)
        return true;
    size_t m = strlen(OB_BACKUP_MEDIA);
    if (len < m || memcmp(s, OB_BACKUP_MEDIA, m) != 0 || (len > m && s[m] != '/'))
        return false;
    /* Each component after "media/": not empty, not "." or "..", no
     * control character. */
    size_t i = m;
    while (i < len) {
        size_t start = ++i; /* past the '/' */
        while (i < len && s[i] != '/') {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c == 0x7f)
                return false;
            i++;
        }
        size_t n = i - start;
        if (n == 0 || (n == 1 && s[start] == '.') ||
            (n == 2 && s[start] == '.' && s[start + 1] == '.'))
            return false;
    }
    return true;
}

void ob_backup_manifest_write(ob_buf *out, const ob_backup_manifest *m)
{
    ob_json j;
    ob_json_init(&j, out);
    ob_json_object_begin(&j);
    ob_json_kv_int(&j, "format", m->format);
    ob_json_kv_string(&j, "openbook_version", m->openbook_version);
    ob_json_kv_int(&j, "schema_version", m->schema_version);
    ob_json_kv_string(&j, "created_at", m->created_at);
    ob_json_kv_string(&j, "postgresql_version", m->postgresql_version);
    ob_json_key(&j, "dirs");
    ob_json_array_begin(&j);
    for (size_t i = 0; i < m->ndirs; i++)
        ob_json_string(&j, m->dirs[i]);
    ob_json_array_end(&j);
    ob_json_key(&j, "files");
    ob_json_array_begin(&j);
    for (size_t i = 0; i < m->nfiles; i++) {
        ob_buf_puts(out, "\n  ");
        ob_json_object_begin(&j);
        ob_json_kv_string(&j, "path", m->files[i].path);
        ob_json_kv_int(&j, "size", (int64_t)m->files[i].size);
        ob_json_kv_string(&j, "sha256", m->files[i].sha256);
        ob_json_object_end(&j);
    }
    ob_json_array_end(&j);
    ob_json_object_end(&j);
    ob_buf_putc(out, '\n');
}

/* ---- parsing ---------------------------------------------------------- */

static int fail(char err[256], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char err[256], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, 256, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *string_member(ob_arena *a, const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? ob_arena_strdup(a, v->valuestring) : NULL;
}

/* An integer member in [0, max]; -1 when absent or not such a number. */
static double int_member(const cJSON *o, const char *name, double max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return -1;
    return v->valuedouble;
}

static bool hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A valid path (as a C string: cJSON strings cannot hold NUL). */
static const char *path_of(ob_arena *a, const cJSON *v)
{
    if (!cJSON_IsString(v) || !ob_backup_path_valid(v->valuestring, strlen(v->valuestring)))
        return NULL;
    return ob_arena_strdup(a, v->valuestring);
}

static bool listed(const char *const *sorted, size_t n, const char *s)
{
    return bsearch(&s, sorted, n, sizeof *sorted, cmp_str) != NULL;
}

static int check_names(ob_arena *a, ob_backup_manifest *m, char err[256])
{
    /* Every name once, files and directories together. */
    size_t n = m->ndirs + m->nfiles;
    const char **all = ob_arena_calloc(a, n ? n : 1, sizeof *all);
    for (size_t i = 0; i < m->ndirs; i++)
        all[i] = m->dirs[i];
    for (size_t i = 0; i < m->nfiles; i++)
        all[m->ndirs + i] = m->files[i].path;
    qsort(all, n, sizeof *all, cmp_str);
    for (size_t i = 1; i < n; i++)
        if (strcmp(all[i - 1], all[i]) == 0)
            return fail(err, "the path \"%.100s\" is listed twice", all[i]);
    /* Every directory's and file's parent is a listed directory, and the
     * database dump is a file. */
    const char **dirs = ob_arena_calloc(a, m->ndirs ? m->ndirs : 1, sizeof *dirs);
    memcpy(dirs, m->dirs, m->ndirs * sizeof *dirs);
    qsort(dirs, m->ndirs, sizeof *dirs, cmp_str);
    bool dump = false;
    for (size_t i = 0; i < n; i++) {
        const char *p = all[i];
        if (strcmp(p, OB_BACKUP_DUMP) == 0 || strcmp(p, OB_BACKUP_MEDIA) == 0) {
            dump = dump || strcmp(p, OB_BACKUP_DUMP) == 0;
            continue;
        }
        const char *slash = strrchr(p, '/');
        const char *parent = ob_arena_strndup(a, p, (size_t)(slash - p));
        if (!listed(dirs, m->ndirs, parent))
            return fail(err, "the folder of \"%.100s\" is not listed", p);
    }
    for (size_t i = 0; i < m->ndirs; i++)
        if (strcmp(m->dirs[i], OB_BACKUP_DUMP) == 0)
            return fail(err, "%s must be a file", OB_BACKUP_DUMP);
    if (!dump)
        return fail(err, "the database dump (%s) is not listed", OB_BACKUP_DUMP);
    return 0;
}

int ob_backup_manifest_parse(ob_arena *a, const char *buf, size_t len, ob_backup_manifest *m,
                             char err[256])
{
    memset(m, 0, sizeof *m);
    err[0] = '\0';
    cJSON *root = cJSON_ParseWithLength(buf, len);
    if (!root)
        return fail(err, "not valid JSON");
    ob_arena_defer(a, (void (*)(void *))cJSON_Delete, root);
    if (!cJSON_IsObject(root))
        return fail(err, "not a JSON object");
    double format = int_member(root, "format", 1e6);
    if (format != OB_BACKUP_FORMAT)
        return fail(err, "format %g is not %d (a backup of another OpenBook version?)", format,
                    OB_BACKUP_FORMAT);
    m->format = OB_BACKUP_FORMAT;
    double schema = int_member(root, "schema_version", 1e9);
    m->openbook_version = string_member(a, root, "openbook_version");
    m->created_at = string_member(a, root, "created_at");
    m->postgresql_version = string_member(a, root, "postgresql_version");
    if (schema < 0 || !m->openbook_version || !m->created_at || !m->postgresql_version)
        return fail(err, "schema_version, openbook_version, created_at or postgresql_version "
                         "missing or of the wrong type");
    m->schema_version = (int)schema;

    const cJSON *dirs = cJSON_GetObjectItemCaseSensitive(root, "dirs");
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files");
    if (!cJSON_IsArray(dirs) || !cJSON_IsArray(files))
        return fail(err, "dirs or files is not an array");
    size_t nd = (size_t)cJSON_GetArraySize(dirs), nf = (size_t)cJSON_GetArraySize(files);
    m->dirs = ob_arena_calloc(a, nd ? nd : 1, sizeof *m->dirs);
    m->files = ob_arena_calloc(a, nf ? nf : 1, sizeof *m->files);
    const cJSON *v;
    cJSON_ArrayForEach(v, dirs) {
        const char *p = path_of(a, v);
        if (!p || strcmp(p, OB_BACKUP_DUMP) == 0)
            return fail(err, "dirs[%zu] is not a valid folder path", m->ndirs);
        m->dirs[m->ndirs++] = p;
    }
    cJSON_ArrayForEach(v, files) {
        ob_backup_file *f = &m->files[m->nfiles];
        f->path = cJSON_IsObject(v) ? path_of(a, cJSON_GetObjectItemCaseSensitive(v, "path")) : NULL;
        if (!f->path || strcmp(f->path, OB_BACKUP_MEDIA) == 0)
            return fail(err, "files[%zu]: no valid path", m->nfiles);
        double size = int_member(v, "size", 9007199254740992.0);
        const cJSON *sum = cJSON_GetObjectItemCaseSensitive(v, "sha256");
        if (size < 0 || !cJSON_IsString(sum) || !hex64(sum->valuestring))
            return fail(err, "files[%zu] (%.100s): size or sha256 malformed", m->nfiles, f->path);
        f->size = (uint64_t)size;
        memcpy(f->sha256, sum->valuestring, 65);
        m->nfiles++;
    }
    return check_names(a, m, err);
}
