/* backup.c - `openbook backup`: the database (pg_dump, custom format) and
 * the media root in one directory, with a manifest of versions and
 * checksums (backup.h); `openbook restore` reads it back.
 *
 * Consistency of the database and the files.  Files under the media root
 * are written before the rows that name them are committed, or renamed
 * into place right after that commit (libraries.md §5: staged, commit,
 * rename), and are deleted only after the rows that named them are gone
 * (commit, then delete).  So the backup takes the database first:
 *
 *   1. A REPEATABLE READ transaction exports its snapshot
 *      (pg_export_snapshot()); pg_dump dumps exactly that snapshot
 *      (--snapshot), and the schema version and time in the manifest are
 *      read in it as well.
 *   2. Only after pg_dump has finished is the media root copied.  Every
 *      row in the dump was committed before the snapshot, and its file was
 *      in place then or moments after, so the later copy finds it.
 *
 * The copy may hold more: files of rows committed after the snapshot
 * (unreferenced after a restore; a re-install replaces them).  It can miss
 * only the file of a row deleted between the snapshot and the moment the
 * copy reaches that file (a library uninstalled while the backup runs).
 * Copying the files first would instead miss the files of everything
 * created during the copy (installs, uploads), the commoner case.
 * Temporary uploads (<media_root>/.staging/) are not copied: no row names
 * them.
 *
 * Everything written is private (directories 0700, files 0600): the dump
 * holds password hashes and the site's data.  The manifest is written last
 * (and atomically), so a directory without one is an unfinished backup. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "openbook/core/alloc.h"
#include "openbook/files/backup.h"
#include "openbook/cli/cli.h"
#include "openbook/core/json.h"
#include "openbook/db/migrations.h"
#include "cli_account.h"
#include "openbook/files/staging.h"
#include "cli_files.h"
#include "cli_pgtool.h"

static const char usage[] =
    "Usage: openbook backup [-c FILE] [--json] DIR\n"
    "       openbook backup [-c FILE] [--json] --in PARENT [--keep N]\n\n"
    "Writes a consistent backup of the database (pg_dump, custom format) and of\n"
    "the media root (media.media_root) into DIR, which must not exist or be\n"
    "empty, with manifest.json: the versions, the schema migration and the\n"
    "SHA-256 of every file.  `openbook restore DIR` reads it back.\n\n"
    "With --in, DIR is PARENT/openbook-<UTC time>, e.g.\n"
    "PARENT/openbook-20250102T030405Z; --keep N then removes all but the N newest\n"
    "complete backups there (and unfinished ones of earlier runs).\n\n"
    "pg_dump must be installed (package postgresql-client, the server's major\n"
    "version or newer): from database.tools_dir, else\n"
    "/usr/lib/postgresql/<version>/bin, else PATH.\n"
    "It connects with database.url; a password in it reaches pg_dump through a\n"
    "temporary pgpass file, never on the command line.\n\n"
    "  -c, --config FILE   configuration file\n"
    "      --in PARENT     write a new, time-stamped backup into PARENT\n"
    "      --keep N        with --in: keep the N newest backups (N >= 1)\n"
    "      --json          print the result as JSON\n"
    "  -h, --help          show this help\n\n"
    "Exit codes: 0 done, 1 failed (nothing usable written: no manifest),\n"
    "2 usage error.\n";

typedef struct backup {
    ob_cli_account ca;
    const char *dir;        /* the backup */
    int mediafd;            /* dir/media */
    ob_backup_file *files;  /* heap, grown */
    size_t nfiles, cap;
    const char **dirs;      /* heap, grown */
    size_t ndirs, dcap;
    const char **skipped;   /* heap: media entries not copied */
    size_t nskipped, scap;
    uint64_t bytes;
} backup;

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return p;
    *cap = *cap ? *cap * 2 : 64;
    return ob_realloc(p, *cap * size);
}

static void add_dir(backup *b, const char *path)
{
    b->dirs = grow(b->dirs, &b->dcap, b->ndirs, sizeof *b->dirs);
    b->dirs[b->ndirs++] = ob_arena_strdup(&b->ca.arena, path);
}

static void skip(backup *b, const char *path, const char *why)
{
    fprintf(stderr, "openbook: backup: warning: media/%s not copied: %s\n", path, why);
    b->skipped = grow(b->skipped, &b->scap, b->nskipped, sizeof *b->skipped);
    b->skipped[b->nskipped++] = ob_arena_strdup(&b->ca.arena, path);
}

/* Copies one media file to dir/media/<path>, hashing it. */
static int copy_file(backup *b, const ob_walk_entry *e, const char *mpath)
{
    int in = openat(e->dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) {
        if (errno == ENOENT) { /* deleted meanwhile (see the comment on top) */
            skip(b, e->path, "deleted while the backup ran");
            return 0;
        }
        fprintf(stderr, "openbook: backup: media/%s: %s\n", e->path, strerror(errno));
        return -1;
    }
    int out = openat(b->mediafd, e->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     0600);
    b->files = grow(b->files, &b->cap, b->nfiles, sizeof *b->files);
    ob_backup_file *f = &b->files[b->nfiles];
    int rc = out < 0 ? -1 : ob_cli_copy_hash(in, out, f->sha256, &f->size);
    if (rc != 0)
        fprintf(stderr, "openbook: backup: copying media/%s: %s\n", e->path, strerror(errno));
    close(in);
    if (out >= 0 && close(out) != 0 && rc == 0) {
        fprintf(stderr, "openbook: backup: writing media/%s: %s\n", e->path, strerror(errno));
        rc = -1;
    }
    if (rc == 0) {
        f->path = mpath;
        b->bytes += f->size;
        b->nfiles++;
    }
    return rc;
}

static int media_entry(void *arg, const ob_walk_entry *e)
{
    backup *b = arg;
    if (e->kind == OB_WALK_DIR_DONE)
        return 0;
    /* Uploads in progress: no row names them yet. */
    if (e->kind == OB_WALK_DIR && strcmp(e->path, ".staging") == 0)
        return 1;
    const char *mpath = ob_arena_printf(&b->ca.arena, OB_BACKUP_MEDIA "/%s", e->path);
    if (!ob_backup_path_valid(mpath, strlen(mpath))) {
        skip(b, e->path, "its name is not valid UTF-8 or holds control characters");
        return e->kind == OB_WALK_DIR ? 1 : 0;
    }
    if (e->kind == OB_WALK_OTHER) {
        skip(b, e->path, "not a regular file or folder (links are not followed)");
        return 0;
    }
    if (e->kind == OB_WALK_DIR) {
        if (mkdirat(b->mediafd, e->path, 0700) != 0) {
            fprintf(stderr, "openbook: backup: media/%s: %s\n", e->path, strerror(errno));
            return -1;
        }
        add_dir(b, mpath);
        return 0;
    }
    return copy_file(b, e, mpath);
}

/* ---- the database ----------------------------------------------------- */

typedef struct snapshot {
    const char *id, *created_at, *server_version;
    int schema_version, server_version_num;
} snapshot;

/* Opens the exporting transaction (see the comment on top). */
static int open_snapshot(backup *b, snapshot *s)
{
    PGconn *c = ob_db_conn(b->ca.db);
    PGresult *r = PQexec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        fprintf(stderr, "openbook: backup: %s", PQerrorMessage(c));
        return -1;
    }
    /* A fresh database has no schema_migrations: then nothing to back up. */
    r = PQexec(c, "SELECT pg_export_snapshot(), "
                  "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                  "current_setting('server_version'), "
                  "(SELECT coalesce(max(version), 0) FROM schema_migrations)");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "openbook: backup: %s(has `openbook migrate` run?)\n", PQerrorMessage(c));
        PQclear(r);
        return -1;
    }
    s->id = ob_arena_strdup(&b->ca.arena, PQgetvalue(r, 0, 0));
    s->created_at = ob_arena_strdup(&b->ca.arena, PQgetvalue(r, 0, 1));
    s->server_version = ob_arena_strdup(&b->ca.arena, PQgetvalue(r, 0, 2));
    s->schema_version = atoi(PQgetvalue(r, 0, 3));
    s->server_version_num = PQserverVersion(c);
    PQclear(r);
    if (s->schema_version > ob_cli_newest_schema()) {
        fprintf(stderr, "openbook: backup: the database schema (%d) is newer than this binary "
                        "knows (%d); back up with the newer binary\n",
                s->schema_version, ob_cli_newest_schema());
        return -1;
    }
    return 0;
}

static int dump_database(backup *b, const snapshot *s)
{
    const char *file = ob_arena_printf(&b->ca.arena, "%s/" OB_BACKUP_DUMP, b->dir);
    const char *snap = ob_arena_printf(&b->ca.arena, "--snapshot=%s", s->id);
    const char *out = ob_arena_printf(&b->ca.arena, "--file=%s", file);
    const char *args[] = {"--format=custom", "--no-password", snap, out, NULL};
    int rc = ob_cli_pgtool(&b->ca.cfg, s->server_version_num, "pg_dump", args);
    if (rc != 0) {
        if (rc > 0)
            fprintf(stderr, "openbook: backup: pg_dump failed (exit %d)\n", rc);
        return -1;
    }
    int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    b->files = grow(b->files, &b->cap, b->nfiles, sizeof *b->files);
    ob_backup_file *f = &b->files[b->nfiles];
    if (fd < 0 || ob_cli_copy_hash(fd, -1, f->sha256, &f->size) != 0) {
        fprintf(stderr, "openbook: backup: reading %s: %s\n", file, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    f->path = OB_BACKUP_DUMP;
    b->bytes += f->size;
    b->nfiles++;
    return 0;
}

/* ---- the manifest ----------------------------------------------------- */

static int write_manifest(backup *b, const snapshot *s)
{
    ob_backup_manifest m = {
        .format = OB_BACKUP_FORMAT,
        .openbook_version = OB_VERSION,
        .schema_version = s->schema_version,
        .created_at = s->created_at,
        .postgresql_version = s->server_version,
        .dirs = b->dirs,
        .ndirs = b->ndirs,
        .files = b->files,
        .nfiles = b->nfiles,
    };
    ob_buf out;
    ob_buf_init(&out, NULL);
    ob_backup_manifest_write(&out, &m);
    int dfd = open(b->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd = dfd < 0 ? -1
                     : openat(dfd, OB_BACKUP_MANIFEST ".tmp",
                              O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    /* Everything durable before the manifest says the backup is whole. */
    int rc = fd < 0 || syncfs(fd) != 0 || ob_cli_write_all(fd, out.data, out.len) != 0 ||
                     fsync(fd) != 0
                 ? -1
                 : 0;
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    if (rc == 0 && (renameat(dfd, OB_BACKUP_MANIFEST ".tmp", dfd, OB_BACKUP_MANIFEST) != 0 ||
                    fsync(dfd) != 0))
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "openbook: backup: writing %s/%s: %s\n", b->dir, OB_BACKUP_MANIFEST,
                strerror(errno));
    if (dfd >= 0)
        close(dfd);
    ob_buf_free(&out);
    return rc;
}

/* ---- the target directory and retention ------------------------------- */

/* Makes dir (0700), or accepts an existing empty one. */
static int make_target(const char *dir)
{
    if (mkdir(dir, 0700) == 0)
        return 0;
    int e = errno;
    struct stat st;
    if (e == EEXIST && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && ob_cli_dir_empty(dir) == 1)
        return 0;
    fprintf(stderr, "openbook: backup: %s: %s\n", dir,
            e == EEXIST ? "exists and is not an empty folder" : strerror(e));
    return -1;
}

/* A backup inside the media root would be served to everybody (password
 * hashes included) and copy itself.  Checked on the made directory, whose
 * real path is known. */
static int outside_media(const char *dir, const char *media_root)
{
    char *d = realpath(dir, NULL), *m = realpath(media_root, NULL);
    size_t n = m ? strlen(m) : 0;
    bool inside = d && m && strncmp(d, m, n) == 0 && (d[n] == '/' || d[n] == '\0');
    free(d);
    free(m);
    if (!inside)
        return 0;
    fprintf(stderr, "openbook: backup: %s is inside the media root %s, which the web server "
                    "serves: choose a folder elsewhere\n", dir, media_root);
    rmdir(dir);
    return -1;
}

#define STAMP_LEN 16 /* YYYYMMDDTHHMMSSZ */

static bool backup_name(const char *n)
{
    if (strncmp(n, "openbook-", 9) != 0 || strlen(n) != 9 + STAMP_LEN)
        return false;
    for (int i = 0; i < STAMP_LEN; i++) {
        char c = n[9 + i];
        if (i == 8 ? c != 'T' : i == 15 ? c != 'Z' : (c < '0' || c > '9'))
            return false;
    }
    return true;
}

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static int list_backups(void *arg, const ob_walk_entry *e)
{
    names *l = arg;
    if (e->kind == OB_WALK_DIR && backup_name(e->name)) {
        l->v = grow(l->v, &l->cap, l->n, sizeof *l->v);
        l->v[l->n++] = ob_strdup(e->name);
    }
    return e->kind == OB_WALK_DIR ? 1 : 0;
}

/* Removes all but the newest `keep` complete backups in parent, and the
 * unfinished ones except `current` (the lock on parent says no other
 * backup runs).  Names sort by time.  The removed names go to *removed. */
static int prune(backup *b, const char *parent, long keep, const char *current,
                 const char ***removed, size_t *nremoved)
{
    names l = {0};
    int rc = ob_cli_walk(parent, 0, list_backups, &l);
    size_t complete = 0;
    for (size_t i = 0; i < l.n; i++) {
        const char *m = ob_arena_printf(&b->ca.arena, "%s/%s/" OB_BACKUP_MANIFEST, parent, l.v[i]);
        if (access(m, F_OK) == 0)
            complete++;
    }
    *removed = ob_arena_calloc(&b->ca.arena, l.n + 1, sizeof **removed);
    *nremoved = 0;
    /* Oldest first (the walk sorts names). */
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        const char *path = ob_arena_printf(&b->ca.arena, "%s/%s", parent, l.v[i]);
        bool whole = access(ob_arena_printf(&b->ca.arena, "%s/" OB_BACKUP_MANIFEST, path), F_OK) == 0;
        bool drop = whole ? complete > (size_t)keep : strcmp(l.v[i], current) != 0;
        if (!drop)
            continue;
        if (ob_remove_tree(path) != 0) {
            rc = -1;
            break;
        }
        if (whole)
            complete--;
        (*removed)[(*nremoved)++] = ob_arena_strdup(&b->ca.arena, path);
    }
    for (size_t i = 0; i < l.n; i++)
        ob_free(l.v[i]);
    ob_free(l.v);
    return rc;
}

/* ---- command ---------------------------------------------------------- */

typedef struct options {
    const char *config, *dir, *parent;
    long keep;
    bool json;
} options;

/* Returns 0 to go on, else exit code + 1. */
static int parse_options(int argc, char **argv, options *o)
{
    enum { L_IN = 256, L_KEEP };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
        {"in", required_argument, NULL, L_IN},    {"keep", required_argument, NULL, L_KEEP},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'j': o->json = true; break;
        case L_IN: o->parent = optarg; break;
        case L_KEEP: {
            char *end;
            o->keep = strtol(optarg, &end, 10);
            if (end == optarg || *end || o->keep < 1 || o->keep > 100000) {
                fprintf(stderr, "openbook: backup: --keep wants a number >= 1\n");
                return OB_EXIT_USAGE + 1;
            }
            break;
        }
        case 'h': fputs(usage, stdout); return OB_EXIT_OK + 1;
        default: fputs(usage, stderr); return OB_EXIT_USAGE + 1;
        }
    }
    int want = o->parent ? 0 : 1;
    if (argc - optind != want || (o->keep && !o->parent)) {
        fprintf(stderr, "openbook: backup: %s\n%s",
                o->keep && !o->parent ? "--keep needs --in"
                : want                ? "name the backup's directory (or use --in)"
                                      : "--in and a DIR exclude each other",
                usage);
        return OB_EXIT_USAGE + 1;
    }
    o->dir = want ? argv[optind] : NULL;
    return 0;
}

static void report(backup *b, const options *o, const snapshot *s, const char **removed,
                   size_t nremoved)
{
    if (!o->json) {
        printf("Backup written to %s: schema version %d, %zu files (%llu bytes: the database "
               "and %zu media files).\n",
               b->dir, s->schema_version, b->nfiles, (unsigned long long)b->bytes, b->nfiles - 1);
        if (b->nskipped)
            printf("%zu media entries were not copied (see the warnings).\n", b->nskipped);
        for (size_t i = 0; i < nremoved; i++)
            printf("Removed the old backup %s.\n", removed[i]);
        return;
    }
    ob_buf out;
    ob_buf_init(&out, &b->ca.arena);
    ob_json j;
    ob_json_init(&j, &out);
    ob_json_object_begin(&j);
    ob_json_kv_string(&j, "dir", b->dir);
    ob_json_kv_int(&j, "schema_version", s->schema_version);
    ob_json_kv_string(&j, "created_at", s->created_at);
    ob_json_kv_int(&j, "files", (int64_t)b->nfiles);
    ob_json_kv_int(&j, "bytes", (int64_t)b->bytes);
    ob_json_key(&j, "skipped");
    ob_json_array_begin(&j);
    for (size_t i = 0; i < b->nskipped; i++)
        ob_json_string(&j, b->skipped[i]);
    ob_json_array_end(&j);
    ob_json_key(&j, "removed");
    ob_json_array_begin(&j);
    for (size_t i = 0; i < nremoved; i++)
        ob_json_string(&j, removed[i]);
    ob_json_array_end(&j);
    ob_json_object_end(&j);
    puts(ob_buf_cstr(&out));
}

/* The whole backup into b->dir (made already). */
static int run(backup *b, snapshot *s)
{
    if (open_snapshot(b, s) != 0 || dump_database(b, s) != 0)
        return -1;
    /* The snapshot has served: pg_dump is done. */
    PQclear(PQexec(ob_db_conn(b->ca.db), "COMMIT"));
    const char *media = ob_arena_printf(&b->ca.arena, "%s/" OB_BACKUP_MEDIA, b->dir);
    if (mkdir(media, 0700) != 0 ||
        (b->mediafd = open(media, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "openbook: backup: %s: %s\n", media, strerror(errno));
        return -1;
    }
    add_dir(b, OB_BACKUP_MEDIA);
    /* (The media root itself may be a link, to another disk, say.) */
    int rc = ob_cli_walk(b->ca.cfg.media_root, OB_WALK_MISSING_OK, media_entry, b);
    close(b->mediafd);
    return rc == 0 ? write_manifest(b, s) : -1;
}

int ob_cmd_backup(int argc, char **argv, char **envp)
{
    options o = {0};
    int rc = parse_options(argc, argv, &o);
    if (rc)
        return rc - 1;
    backup *b = ob_calloc(1, sizeof *b);
    b->mediafd = -1;
    if (ob_cli_db_open(&b->ca, o.config, envp, 0) != 0) {
        ob_free(b);
        return OB_EXIT_ERROR;
    }
    rc = OB_EXIT_ERROR;
    int lock = -1;
    const char *name = NULL, **removed = NULL;
    size_t nremoved = 0;
    snapshot s = {0};
    /* Private: the dump holds password hashes (pg_dump's file too). */
    umask(077);
    if (o.parent) {
        /* One backup at a time in a parent: pruning must not remove a
         * backup another run is still writing. */
        if (mkdir(o.parent, 0700) != 0 && errno != EEXIST)
            fprintf(stderr, "openbook: backup: %s: %s\n", o.parent, strerror(errno));
        const char *lp = ob_arena_printf(&b->ca.arena, "%s/.lock", o.parent);
        lock = open(lp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
            fprintf(stderr, "openbook: backup: %s: %s\n", lp,
                    lock >= 0 && errno == EWOULDBLOCK ? "another backup is running"
                                                      : strerror(errno));
            goto out;
        }
        char stamp[STAMP_LEN + 1];
        time_t now = time(NULL);
        struct tm tm;
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
        name = ob_arena_printf(&b->ca.arena, "openbook-%s", stamp);
        b->dir = ob_arena_printf(&b->ca.arena, "%s/%s", o.parent, name);
    } else {
        b->dir = o.dir;
    }
    if (make_target(b->dir) != 0 || outside_media(b->dir, b->ca.cfg.media_root) != 0)
        goto out;
    if (run(b, &s) != 0) {
        fprintf(stderr, "openbook: backup: FAILED; %s is incomplete (it has no %s)\n", b->dir,
                OB_BACKUP_MANIFEST);
        goto out;
    }
    rc = OB_EXIT_OK;
    if (o.keep && prune(b, o.parent, o.keep, name, &removed, &nremoved) != 0)
        rc = OB_EXIT_ERROR;
    report(b, &o, &s, removed, nremoved);
out:
    if (lock >= 0)
        close(lock);
    ob_free(b->files);
    ob_free(b->dirs);
    ob_free(b->skipped);
    ob_cli_account_close(&b->ca);
    ob_free(b);
    return rc;
}
