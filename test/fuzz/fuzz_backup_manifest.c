/* fuzz_backup_manifest.c - the backup manifest parser and path check
 * (src/core/backup_manifest.c), which decide what `openbook restore`
 * writes where.
 *
 * The input is tried as a manifest and as a path.  Invariants: an accepted
 * path is "database.dump" or lies under "media/" with no empty, "." or ".."
 * component and no control character (restore can never write outside the
 * media root); an accepted manifest holds only such paths, the database
 * dump among its files, 64-hex checksums, and written out again it parses
 * to the same content. */
#include <string.h>
#include "openbook/files/backup.h"
#include "fuzz_common.h"

static void check_path(const char *s, size_t len)
{
    if (!ob_backup_path_valid(s, len))
        return;
    FUZZ_CHECK(len > 0 && len <= OB_BACKUP_PATH_MAX, "length %zu", len);
    if (len == strlen(OB_BACKUP_DUMP) && memcmp(s, OB_BACKUP_DUMP, len) == 0)
        return;
    FUZZ_CHECK(len >= 5 && memcmp(s, "media", 5) == 0 && (len == 5 || s[5] == '/'), "prefix");
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/') {
            FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f, "control byte at %zu", i);
            continue;
        }
        size_t n = i - start;
        FUZZ_CHECK(n > 0, "empty component at %zu", i);
        FUZZ_CHECK(!(n == 1 && s[start] == '.') && !(n == 2 && s[start] == '.' && s[start + 1] == '.'),
                   "dot component at %zu", start);
        start = i + 1;
    }
}

static void check_manifest(ob_arena *a, const char *buf, size_t len)
{
    ob_backup_manifest m;
    char err[256];
    if (ob_backup_manifest_parse(a, buf, len, &m, err) != 0) {
        FUZZ_CHECK(err[0] && strlen(err) < 256, "no reason given");
        return;
    }
    bool dump = false;
    for (size_t i = 0; i < m.nfiles; i++) {
        check_path(m.files[i].path, strlen(m.files[i].path));
        FUZZ_CHECK(strlen(m.files[i].sha256) == 64, "checksum");
        dump = dump || strcmp(m.files[i].path, OB_BACKUP_DUMP) == 0;
    }
    for (size_t i = 0; i < m.ndirs; i++)
        check_path(m.dirs[i], strlen(m.dirs[i]));
    FUZZ_CHECK(dump, "no database dump");
    ob_buf out;
    ob_buf_init(&out, a);
    ob_backup_manifest_write(&out, &m);
    ob_backup_manifest again;
    FUZZ_CHECK(ob_backup_manifest_parse(a, out.data, out.len, &again, err) == 0, "%s", err);
    FUZZ_CHECK(again.schema_version == m.schema_version && again.nfiles == m.nfiles &&
                   again.ndirs == m.ndirs,
               "round trip");
    for (size_t i = 0; i < m.nfiles; i++)
        FUZZ_CHECK(strcmp(again.files[i].path, m.files[i].path) == 0 &&
                       again.files[i].size == m.files[i].size &&
                       strcmp(again.files[i].sha256, m.files[i].sha256) == 0,
                   "file %zu differs", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    ob_arena_reset(a);
    check_path((const char *)data, size);
    check_manifest(a, (const char *)data, size);
    return 0;
}
