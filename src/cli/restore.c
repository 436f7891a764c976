/* restore.c - `openbook restore DIR`: a backup of `openbook backup` back
 * into an empty database and an empty media root.
 *
 * Order: read and check the manifest; refuse a backup whose schema is
 * newer than this binary; verify the size and SHA-256 of every file; check
 * that the database and the media root are empty; only then pg_restore
 * (one transaction: a failure leaves the database empty) and copy the
 * media files (hashed again while copied).  An older schema is brought
 * forward by `openbook migrate` afterwards, as after an upgrade. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "openbook/core/alloc.h"
#include "openbook/files/backup.h"
#include "openbook/cli/cli.h"
#include "openbook/core/json.h"
#include "cli_account.h"
#include "cli_files.h"
#include "cli_pgtool.h"

static const char usage[] =
    "Usage: openbook restore [-c FILE] [--json] [--check] DIR\n\n"
    "Restores a backup written by `openbook backup` into the database of\n"
    "database.url and the media root (media.media_root).  Both must be empty:\n"
    "create the database first (createdb -O openbook openbook), do not run\n"
    "`openbook migrate` before.  Before it changes anything, it verifies the\n"
    "checksum of every file of the backup and refuses a backup whose schema is\n"
    "newer than this binary.  After restoring an older backup, run\n"
    "`openbook migrate`.  pg_restore must be installed (as pg_dump for backup).\n\n"
    "  -c, --config FILE   configuration file\n"
    "      --check         only verify the backup (no database needed)\n"
    "      --json          print the result as JSON\n"
    "  -h, --help          show this help\n\n"
    "Exit codes: 0 done, 1 failed or refused (the reason is printed), 2 usage\n"
    "error.\n";

/* Reads DIR/manifest.json into the arena. */
static char *read_manifest(ob_arena *a, int dirfd, const char *dir, size_t *len)
{
    int fd = openat(dirfd, OB_BACKUP_MANIFEST, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > OB_BACKUP_MANIFEST_MAX) {
        fprintf(stderr, "openbook: restore: %s/%s: %s\n", dir, OB_BACKUP_MANIFEST,
                fd < 0 && errno == ENOENT ? "missing (not a backup, or an unfinished one)"
                : fd < 0                  ? strerror(errno)
                                          : "not a regular file of a sensible size");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *buf = ob_arena_alloc(a, (size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != (size_t)st.st_size) {
        fprintf(stderr, "openbook: restore: cannot read %s/%s\n", dir, OB_BACKUP_MANIFEST);
        return NULL;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* Opens a file of the backup without following links.  -1 with errno. */
static int open_member(int dirfd, const char *path)
{
    const char *base;
    int parent = ob_cli_open_parent(dirfd, path, false, &base);
    if (parent < 0)
        return -1;
    int fd = openat(parent, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(parent);
    errno = e;
    return fd;
}

/* Hashes in (copying to out if >= 0) and compares with the manifest. */
static int check_file(const ob_backup_file *f, int in, int out)
{
    char hex[65];
    uint64_t size;
    if (ob_cli_copy_hash(in, out, hex, &size) != 0) {
        fprintf(stderr, "openbook: restore: %s: %s\n", f->path, strerror(errno));
        return -1;
    }
    if (size != f->size || strcmp(hex, f->sha256) != 0) {
        fprintf(stderr, "openbook: restore: %s: %s differs from the manifest (damaged backup)\n",
                f->path, size != f->size ? "the size" : "the SHA-256");
        return -1;
    }
    return 0;
}

static int verify(const ob_backup_manifest *m, int dirfd, uint64_t *bytes)
{
    int bad = 0;
    *bytes = 0;
    for (size_t i = 0; i < m->nfiles; i++) {
        int fd = open_member(dirfd, m->files[i].path);
        if (fd < 0) {
            fprintf(stderr, "openbook: restore: %s: %s\n", m->files[i].path, strerror(errno));
            bad++;
            continue;
        }
        bad += check_file(&m->files[i], fd, -1) != 0;
        *bytes += m->files[i].size;
        close(fd);
    }
    if (bad)
        fprintf(stderr, "openbook: restore: %d of %zu files missing or damaged; nothing restored\n",
                bad, m->nfiles);
    return bad ? -1 : 0;
}

/* Nothing in the database but PostgreSQL's own schemas. */
static int database_empty(ob_cli_account *ca)
{
    PGresult *res = ob_db_query(
        ca->db, &ca->arena,
        "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "        AND n.nspname NOT LIKE 'pg\\_%') "
        "     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "        AND n.nspname NOT LIKE 'pg\\_%')",
        0, NULL);
    if (!res) {
        fprintf(stderr, "openbook: restore: %s\n", ob_db_last_error(ca->db));
        return -1;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
        fprintf(stderr, "openbook: restore: the database is not empty (%s tables, sequences, "
                        "functions...); restore only into a new, empty database\n",
                PQgetvalue(res, 0, 0));
        return -1;
    }
    return 0;
}

static int copy_media(ob_cli_account *ca, const ob_backup_manifest *m, int dirfd)
{
    const char *root = ca->cfg.media_root;
    if (mkdir(root, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "openbook: restore: %s: %s\n", root, strerror(errno));
        return -1;
    }
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        fprintf(stderr, "openbook: restore: %s: %s\n", root, strerror(errno));
        return -1;
    }
    size_t skip = strlen(OB_BACKUP_MEDIA "/");
    int rc = 0;
    /* Folders first (parents before children: the order of the walk that
     * wrote them), so that empty ones come back too; files 0644 and
     * folders 0755, as the web server must read them. */
    for (size_t i = 0; i < m->ndirs && rc == 0; i++) {
        if (strcmp(m->dirs[i], OB_BACKUP_MEDIA) == 0)
            continue;
        const char *base;
        int parent = ob_cli_open_parent(rootfd, m->dirs[i] + skip, true, &base);
        if (parent < 0 || (mkdirat(parent, base, 0755) != 0 && errno != EEXIST)) {
            fprintf(stderr, "openbook: restore: %s/%s: %s\n", root, m->dirs[i] + skip,
                    strerror(errno));
            rc = -1;
        }
        if (parent >= 0)
            close(parent);
    }
    for (size_t i = 0; i < m->nfiles && rc == 0; i++) {
        const ob_backup_file *f = &m->files[i];
        if (strcmp(f->path, OB_BACKUP_DUMP) == 0)
            continue;
        const char *rel = f->path + skip, *base;
        int in = open_member(dirfd, f->path);
        int parent = in < 0 ? -1 : ob_cli_open_parent(rootfd, rel, true, &base);
        int out = parent < 0 ? -1
                             : openat(parent, base,
                                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (out < 0) {
            fprintf(stderr, "openbook: restore: %s: %s\n", f->path, strerror(errno));
            rc = -1;
        } else {
            rc = check_file(f, in, out);
            if (close(out) != 0 && rc == 0) {
                fprintf(stderr, "openbook: restore: writing %s/%s: %s\n", root, rel,
                        strerror(errno));
                rc = -1;
            }
        }
        if (parent >= 0)
            close(parent);
        if (in >= 0)
            close(in);
    }
    if (rc == 0 && syncfs(rootfd) != 0)
        rc = -1;
    close(rootfd);
    return rc;
}

static void report(const ob_backup_manifest *m, uint64_t bytes, bool json, bool check_only)
{
    int newest = ob_cli_newest_schema();
    bool migrate = m->schema_version < newest;
    if (json) {
        ob_arena a;
        ob_arena_init(&a, 1024);
        ob_buf b;
        ob_buf_init(&b, &a);
        ob_json j;
        ob_json_init(&j, &b);
        ob_json_object_begin(&j);
        ob_json_kv_string(&j, "created_at", m->created_at);
        ob_json_kv_string(&j, "openbook_version", m->openbook_version);
        ob_json_kv_int(&j, "schema_version", m->schema_version);
        ob_json_kv_int(&j, "binary_schema_version", newest);
        ob_json_kv_int(&j, "files", (int64_t)m->nfiles);
        ob_json_kv_int(&j, "bytes", (int64_t)bytes);
        ob_json_key(&j, "restored");
        ob_json_bool(&j, !check_only);
        ob_json_key(&j, "migrate_needed");
        ob_json_bool(&j, migrate);
        ob_json_object_end(&j);
        puts(ob_buf_cstr(&b));
        ob_arena_destroy(&a);
        return;
    }
    printf("%s backup of %s (OpenBook %s, schema version %d): %zu files, %llu bytes.\n",
           check_only ? "Verified the" : "Restored the", m->created_at, m->openbook_version,
           m->schema_version, m->nfiles, (unsigned long long)bytes);
    if (migrate && !check_only)
        printf("The schema is older than this binary's (%d): run `openbook migrate` now.\n",
               newest);
}

int ob_cmd_restore(int argc, char **argv, char **envp)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
        {"check", no_argument, NULL, 'k'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    bool json = false, check_only = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'j': json = true; break;
        case 'k': check_only = true; break;
        case 'h': fputs(usage, stdout); return OB_EXIT_OK;
        default: fputs(usage, stderr); return OB_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "openbook: restore: name the backup's directory\n%s", usage);
        return OB_EXIT_USAGE;
    }
    const char *dir = argv[optind];
    ob_arena a;
    ob_arena_init(&a, 64 * 1024);
    int rc = OB_EXIT_ERROR;
    ob_cli_account ca;
    bool opened = false;
    size_t len = 0;
    uint64_t bytes = 0;
    char err[256];
    ob_backup_manifest m;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const char *text = dirfd < 0 ? NULL : read_manifest(&a, dirfd, dir, &len);
    if (dirfd < 0)
        fprintf(stderr, "openbook: restore: %s: %s\n", dir, strerror(errno));
    if (!text)
        goto out;
    if (ob_backup_manifest_parse(&a, text, len, &m, err) != 0) {
        fprintf(stderr, "openbook: restore: %s/%s: %s\n", dir, OB_BACKUP_MANIFEST, err);
        goto out;
    }
    if (m.schema_version > ob_cli_newest_schema()) {
        fprintf(stderr, "openbook: restore: the backup's schema (version %d, OpenBook %s) is "
                        "newer than this binary knows (%d); restore it with a newer binary\n",
                m.schema_version, m.openbook_version, ob_cli_newest_schema());
        goto out;
    }
    if (verify(&m, dirfd, &bytes) != 0)
        goto out;
    if (check_only) {
        report(&m, bytes, json, true);
        rc = OB_EXIT_OK;
        goto out;
    }
    if (ob_cli_db_open(&ca, config, envp, 0) != 0)
        goto out;
    opened = true;
    int media = ob_cli_dir_empty(ca.cfg.media_root);
    if (media != 1) {
        fprintf(stderr, "openbook: restore: the media root %s is %s; restore only into an "
                        "empty one\n", ca.cfg.media_root,
                media < 0 ? "unreadable" : "not empty");
        goto out;
    }
    if (database_empty(&ca) != 0)
        goto out;
    const char *dump = ob_arena_printf(&a, "%s/" OB_BACKUP_DUMP, dir);
    const char *args[] = {"--exit-on-error", "--single-transaction", "--no-owner",
                          "--no-privileges", "--no-password", dump, NULL};
    int prc = ob_cli_pgtool(&ca.cfg, PQserverVersion(ob_db_conn(ca.db)), "pg_restore", args);
    if (prc != 0) {
        fprintf(stderr, "openbook: restore: pg_restore failed%s; the database is unchanged\n",
                prc > 0 ? "" : " to run");
        goto out;
    }
    if (copy_media(&ca, &m, dirfd) != 0) {
        fprintf(stderr, "openbook: restore: the database is restored, the media files are "
                        "NOT complete; empty %s and the database, then restore again\n",
                ca.cfg.media_root);
        goto out;
    }
    report(&m, bytes, json, false);
    rc = OB_EXIT_OK;
out:
    if (dirfd >= 0)
        close(dirfd);
    if (opened)
        ob_cli_account_close(&ca);
    ob_arena_destroy(&a);
    return rc;
}
