/* fuzz_archive.c - library archive checks and extraction (archive.h).
 *
 * Input: a ZIP file, opened from memory with small limits (64 entries,
 * 256 KiB unpacked, 16 KiB per YAML file).  Invariants: a refused archive
 * comes with a message and no archive; an accepted one has a valid
 * manifest and unique, valid component tags, and extracting it into a
 * fresh folder either succeeds with every file inside that folder and
 * no more bytes than the limit, or fails with a message; nothing is ever
 * written outside the folder (checked by walking it for links and by the
 * sanitizers).  The folder is removed after each input. */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "openbook/files/archive.h"
#include "openbook/files/semver.h"
#include "openbook/files/staging.h"
#include "fuzz_common.h"

static const ob_archive_limits LIMITS = {
    .max_entries = 64,
    .max_uncompressed_bytes = 256 * 1024,
    .max_manifest_bytes = 16 * 1024,
};

static unsigned long long unpacked;

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    FUZZ_CHECK(flag == FTW_F || flag == FTW_D || flag == FTW_DP, "not a file or folder: %s",
               path);
    FUZZ_CHECK(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode), "special file %s", path);
    if (S_ISREG(st->st_mode)) {
        FUZZ_CHECK((st->st_mode & 07777) == 0644, "file mode %o", st->st_mode & 07777);
        unpacked += (unsigned long long)st->st_size;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    ob_archive *ar;
    const char *msg;
    ob_archive_status st = ob_archive_open_buffer(a, data, size, &LIMITS, &ar, &msg);
    if (st != OB_ARCHIVE_OK) {
        FUZZ_CHECK(ar == NULL && msg != NULL && *msg, "refused without a message");
        ob_arena_reset(a);
        return 0;
    }
    const ob_library_manifest *m = ob_archive_manifest(ar);
    FUZZ_CHECK(ob_library_part_valid(m->organization, strlen(m->organization)), "organization");
    ob_semver v;
    FUZZ_CHECK(ob_semver_parse(m->version, strlen(m->version), &v), "version");
    size_t n;
    const ob_component_def *c = ob_archive_components(ar, &n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(ob_tag_name_valid(c[i].tag_name, strlen(c[i].tag_name)), "tag");
        for (size_t j = i + 1; j < n; j++)
            FUZZ_CHECK(strcmp(c[i].tag_name, c[j].tag_name) != 0, "repeated tag");
    }
    char dir[] = "/tmp/openbook-fuzz-archive-XXXXXX";
    FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    st = ob_archive_extract(ar, dir, false, &msg);
    FUZZ_CHECK(st == OB_ARCHIVE_OK || (msg && *msg), "extraction failed without a message");
    FUZZ_CHECK(st != OB_ARCHIVE_IO, "I/O error: %s", msg);
    unpacked = 0;
    FUZZ_CHECK(nftw(dir, visit, 16, FTW_PHYS) == 0, "walk");
    FUZZ_CHECK(unpacked <= LIMITS.max_uncompressed_bytes + 65536, "unpacked %llu", unpacked);
    ob_remove_tree(dir);
    ob_arena_reset(a);
    return 0;
}
