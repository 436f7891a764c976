/* install.c - installs and removes HTML component libraries (library.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "openbook/files/archive.h"
#include "openbook/core/buf.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/redis/events.h"
#include "openbook/files/filename.h"
#include "openbook/core/json.h"
#include "openbook/library/library.h"
#include "openbook/core/log.h"
#include "openbook/files/manifest.h"
#include "openbook/files/semver.h"
#include "openbook/files/staging.h"

/* ---- results ------------------------------------------------------------ */

static ob_lib_status finish(ob_lib_result *out, ob_lib_status st)
{
    out->status = st;
    return st;
}

/* One message (the whole list of it). */
static ob_lib_status fail_msg(const ob_lib_ctx *c, ob_lib_result *out, ob_lib_status st,
                              const char *msg)
{
    const char **m = ob_arena_calloc(c->arena, 1, sizeof *m);
    m[0] = ob_arena_strdup(c->arena, msg);
    out->messages = m;
    out->nmessages = 1;
    return finish(out, st);
}

static ob_lib_status db_failed(const ob_lib_ctx *c, ob_lib_result *out, const char *what)
{
    ob_error("library: %s: %s", what, ob_db_last_error(c->db));
    return finish(out, OB_LIB_DB);
}

/* A growable list of strings in the arena. */
typedef struct {
    const char **items;
    size_t n, cap;
} strlist;

static void strlist_add(ob_arena *a, strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const char **items = ob_arena_calloc(a, cap, sizeof *items);
        if (l->n)
            memcpy(items, l->items, l->n * sizeof *items);
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = s;
}

/* ---- locks -------------------------------------------------------------- */

/* Session advisory locks on library names, held across the COMMIT until
 * the files are in place (a transaction lock would end at the COMMIT,
 * before the folder swap, and let a second install swap its folder under
 * the first one's rows). */
#define MAX_LOCKS 64

typedef struct {
    long long key;
    bool shared;
} lock_req;

typedef struct {
    lock_req held[MAX_LOCKS];
    size_t n;
} locks;

/* 64 bits of a keyed hash of the lower-case fqn; the key keeps them apart
 * from every other advisory lock of the database. */
static long long lock_key(const char *fqn)
{
    static const unsigned char ns[crypto_generichash_KEYBYTES] = "openbook html library lock";
    char lower[2 * OB_LIBRARY_PART_MAX + 3];
    size_t n = strlen(fqn);
    if (n >= sizeof lower)
        n = sizeof lower - 1;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)(fqn[i] >= 'A' && fqn[i] <= 'Z' ? fqn[i] + 32 : fqn[i]);
    unsigned char h[8];
    crypto_generichash(h, sizeof h, (const unsigned char *)lower, n, ns, sizeof ns);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | h[i];
    return (long long)v;
}

static int lock_cmp(const void *pa, const void *pb)
{
    const lock_req *a = pa, *b = pb;
    return a->key < b->key ? -1 : a->key > b->key;
}

static void unlock_all(const ob_lib_ctx *c, locks *l)
{
    while (l->n > 0) {
        lock_req *k = &l->held[--l->n];
        char key[24];
        snprintf(key, sizeof key, "%lld", k->key);
        const char *p[] = {key};
        ob_db_query(c->db, c->arena,
                    k->shared ? "SELECT pg_advisory_unlock_shared($1::bigint)"
                              : "SELECT pg_advisory_unlock($1::bigint)",
                    1, p);
    }
}

/* Takes the locks in key order, so that two callers never wait on each
 * other crosswise.  Duplicates are folded (exclusive wins).  0, or -1
 * (what was taken is released again). */
static int acquire(const ob_lib_ctx *c, locks *l, lock_req *want, size_t n)
{
    qsort(want, n, sizeof *want, lock_cmp);
    l->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && want[i + 1].key == want[i].key) {
            want[i + 1].shared = want[i + 1].shared && want[i].shared;
            continue;
        }
        if (l->n == MAX_LOCKS)
            break;
        char key[24];
        snprintf(key, sizeof key, "%lld", want[i].key);
        const char *p[] = {key};
        if (!ob_db_query(c->db, c->arena,
                         want[i].shared ? "SELECT pg_advisory_lock_shared($1::bigint)"
                                        : "SELECT pg_advisory_lock($1::bigint)",
                         1, p)) {
            unlock_all(c, l);
            return -1;
        }
        l->held[l->n++] = want[i];
    }
    return 0;
}

/* ---- paths ------------------------------------------------------------- */

static const char *version_dir(ob_arena *a, const char *root, const char *org, const char *name,
                               const char *version)
{
    return ob_arena_printf(a, "%s/lib/%s/%s/%s", root, org, name, version);
}

/* Relative to the media root (the version's file_data). */
static const char *archive_rel(ob_arena *a, const char *org, const char *name,
                               const char *version)
{
    return ob_arena_printf(a, "lib/@%s_%s_%s.zip", org, name, version);
}

/* ---- dependencies (libraries.md §4.1) ----------------------------------- */

/* The installed versions of the given libraries (lower-case fqns), in
 * semver order per library. */
static PGresult *installed_versions(const ob_lib_ctx *c, const char *fqns_json)
{
    const char *p[] = {fqns_json};
    return ob_db_query(
        c->db, c->arena,
        "SELECT '@' || lower(l.organization) || '/' || lower(l.name), v.version"
        " FROM html_libraries l JOIN html_library_versions v ON v.parent_id = l.id"
        " WHERE '@' || lower(l.organization) || '/' || lower(l.name)"
        "       IN (SELECT json_array_elements_text($1::json))"
        " ORDER BY 1, v.sort_key",
        1, p);
}

static char *lower_dup(ob_arena *a, const char *s)
{
    char *d = ob_arena_strdup(a, s);
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    return d;
}

/* "<fqn> <expression>", without a trailing space for an empty one. */
static const char *dep_text(ob_arena *a, const char *fqn, const char *expr)
{
    return *expr ? ob_arena_printf(a, "%s %s", fqn, expr) : fqn;
}

/* Checks every dependency; problems go to *problems.  -1 on a database
 * failure. */
static int check_dependencies(const ob_lib_ctx *c, const ob_library_manifest *m, strlist *problems)
{
    if (m->ndependencies == 0)
        return 0;
    ob_buf j;
    ob_buf_init(&j, c->arena);
    ob_json w;
    ob_json_init(&w, &j);
    ob_json_array_begin(&w);
    for (size_t i = 0; i < m->ndependencies; i++)
        ob_json_string(&w, lower_dup(c->arena, m->dependencies[i].key));
    ob_json_array_end(&w);
    PGresult *res = installed_versions(c, ob_buf_cstr(&j));
    if (!res)
        return -1;
    int rows = PQntuples(res);
    for (size_t i = 0; i < m->ndependencies; i++) {
        const char *fqn = m->dependencies[i].key, *expr = m->dependencies[i].value;
        const char *lfqn = lower_dup(c->arena, fqn);
        ob_version_expr e;
        if (!ob_version_expr_parse(c->arena, expr, strlen(expr), &e))
            continue; /* the manifest reader refused these already */
        ob_buf have;
        ob_buf_init(&have, c->arena);
        bool any = false, ok = false;
        for (int r = 0; r < rows; r++) {
            if (strcmp(PQgetvalue(res, r, 0), lfqn) != 0)
                continue;
            const char *v = PQgetvalue(res, r, 1);
            ob_semver sv;
            if (!ob_semver_parse(v, strlen(v), &sv))
                continue;
            ob_buf_puts(&have, any ? ", " : "");
            ob_buf_puts(&have, v);
            any = true;
            ok = ok || ob_version_expr_match(&e, &sv);
        }
        if (!any)
            strlist_add(c->arena, problems,
                        ob_arena_printf(c->arena, "Missing dependency: %s",
                                        dep_text(c->arena, fqn, expr)));
        else if (!ok)
            strlist_add(c->arena, problems,
                        ob_arena_printf(c->arena, "Unsatisfied dependency: %s (installed: %s)",
                                        dep_text(c->arena, fqn, expr), ob_buf_cstr(&have)));
    }
    return 0;
}

/* ---- events -------------------------------------------------------------- */

static void add_event(const ob_lib_ctx *c, ob_events *ev, const char *library_id,
                      const char *fqn, const char *version, const char *version_id,
                      const char *op)
{
    ob_buf b;
    ob_buf_init(&b, c->arena);
    ob_json j;
    ob_json_init(&j, &b);
    ob_json_object_begin(&j);
    ob_json_kv_string(&j, "library", library_id);
    ob_json_kv_string(&j, "fqn", fqn);
    ob_json_kv_string(&j, "version", version);
    ob_json_kv_string(&j, "version_id", version_id);
    ob_json_kv_string(&j, "op", op);
    ob_json_object_end(&j);
    ob_events_add(ev, OB_LIBRARY_CHANNEL, "library.installed", 1, ob_buf_cstr(&b));
}

/* ---- install ------------------------------------------------------------ */

static ob_lib_status archive_failed(const ob_lib_ctx *c, ob_lib_result *out,
                                    ob_archive_status st, const char *message)
{
    if (st == OB_ARCHIVE_IO) {
        ob_error("library: %s", message ? message : "the media root cannot be written");
        return finish(out, OB_LIB_IO);
    }
    return fail_msg(c, out, OB_LIB_BAD_ARCHIVE, message ? message : OB_ARCHIVE_INVALID_MESSAGE);
}

/* The manifest's texts and dependencies, and the components, as JSON
 * parameters. */
static const char *texts_json(ob_arena *a, const ob_library_manifest *m)
{
    ob_buf b;
    ob_buf_init(&b, a);
    ob_json j;
    ob_json_init(&j, &b);
    ob_json_array_begin(&j);
    for (size_t i = 0; i < m->ndescription; i++) {
        ob_json_object_begin(&j);
        ob_json_kv_string(&j, "language", m->description[i].key);
        ob_json_kv_string(&j, "text", m->description[i].value);
        ob_json_object_end(&j);
    }
    ob_json_array_end(&j);
    return ob_buf_cstr(&b);
}

static const char *dependencies_json(ob_arena *a, const ob_library_manifest *m)
{
    if (m->ndependencies == 0)
        return NULL;
    ob_buf b;
    ob_buf_init(&b, a);
    ob_json j;
    ob_json_init(&j, &b);
    ob_json_object_begin(&j);
    for (size_t i = 0; i < m->ndependencies; i++)
        ob_json_kv_string(&j, m->dependencies[i].key, m->dependencies[i].value);
    ob_json_object_end(&j);
    return ob_buf_cstr(&b);
}

static const char *components_json(ob_arena *a, const ob_component_def *defs, size_t n)
{
    ob_buf b;
    ob_buf_init(&b, a);
    ob_json j;
    ob_json_init(&j, &b);
    ob_json_array_begin(&j);
    for (size_t i = 0; i < n; i++) {
        ob_json_object_begin(&j);
        ob_json_kv_string(&j, "tag", defs[i].tag_name);
        ob_json_key(&j, "definition");
        ob_json_raw(&j, defs[i].definition, defs[i].definition_len);
        ob_json_object_end(&j);
    }
    ob_json_array_end(&j);
    return ob_buf_cstr(&b);
}

/* Steps 3 to 5 in the open transaction.  Fills out's ids. */
static int write_rows(const ob_lib_ctx *c, const ob_library_manifest *m,
                      const ob_component_def *defs, size_t ndefs, const char *sort_key,
                      const ob_lib_install_opts *o, const char *file_name, long long file_size,
                      ob_lib_result *out, const char **stored_version)
{
    ob_arena *a = c->arena;
    const char *user = o->user_id;
    const char *lp[] = {m->organization, m->name, m->author, m->license, m->website,
                        m->coderepo, m->bugtracker, m->readme, user};
    PGresult *lib = ob_db_query(
        c->db, a,
        "INSERT INTO html_libraries (organization, name, author, license, website, coderepo,"
        " bugtracker, readme, text_format, created_by, modified_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'MD', $9, $9)"
        " ON CONFLICT ((lower(organization)), (lower(name))) DO UPDATE SET"
        " organization = EXCLUDED.organization, name = EXCLUDED.name,"
        " author = EXCLUDED.author, license = EXCLUDED.license, website = EXCLUDED.website,"
        " coderepo = EXCLUDED.coderepo, bugtracker = EXCLUDED.bugtracker,"
        " readme = EXCLUDED.readme, text_format = 'MD', modified_by = EXCLUDED.modified_by,"
        " modified_at = now()"
        " RETURNING id",
        9, lp);
    if (!lib || PQntuples(lib) != 1)
        return -1;
    const char *library_id = ob_arena_strdup(a, PQgetvalue(lib, 0, 0));

    /* One text per description language that exists (libraries.md §2.1). */
    const char *tp[] = {library_id, texts_json(a, m)};
    if (!ob_db_query(c->db, a,
                     "INSERT INTO html_library_texts (parent_id, language, short_description)"
                     " SELECT $1, l.language, d.text"
                     " FROM json_to_recordset($2::json) AS d(language text, text text)"
                     " JOIN languages l ON lower(l.language) = lower(d.language)"
                     " ON CONFLICT (parent_id, language) DO UPDATE"
                     " SET short_description = EXCLUDED.short_description",
                     2, tp))
        return -1;

    char size[24];
    snprintf(size, sizeof size, "%lld", file_size);
    const char *archive = archive_rel(a, m->organization, m->name, m->version);
    const char *vp[] = {library_id, m->version, sort_key, dependencies_json(a, m),
                        archive, file_name, size, user};
    /* The stored version string stays on replace (a case-only difference
     * matches it), and so do its folder and archive names (file_data):
     * organization and name are lower case by definition. */
    PGresult *ver = ob_db_query(
        c->db, a,
        "INSERT INTO html_library_versions (parent_id, version, sort_key, dependencies,"
        " file_data, file_name, file_size, mime_type, created_by, modified_by)"
        " VALUES ($1, $2, $3::bytea, $4::json, $5, $6, $7::bigint, 'application/zip', $8, $8)"
        " ON CONFLICT (parent_id, lower(version)) DO UPDATE SET"
        " dependencies = EXCLUDED.dependencies, file_name = EXCLUDED.file_name,"
        " file_size = EXCLUDED.file_size, mime_type = EXCLUDED.mime_type,"
        " modified_by = EXCLUDED.modified_by, modified_at = now()"
        " RETURNING id, version",
        8, vp);
    if (!ver || PQntuples(ver) != 1)
        return -1;
    const char *version_id = ob_arena_strdup(a, PQgetvalue(ver, 0, 0));
    *stored_version = ob_arena_strdup(a, PQgetvalue(ver, 0, 1));

    /* Step 5: this version's definitions anew, components found or made by
     * tag name (case-insensitively), and the library's components that no
     * version defines any more removed. */
    const char *dp[] = {version_id};
    if (!ob_db_query(c->db, a, "DELETE FROM html_component_definitions WHERE version_id = $1", 1,
                     dp))
        return -1;
    const char *cp[] = {library_id, version_id, components_json(a, defs, ndefs)};
    const char *tp2[] = {library_id, cp[2]};
    if (!ob_db_query(c->db, a,
                     "INSERT INTO html_components (library_id, tag_name)"
                     " SELECT $1, d.tag FROM json_to_recordset($2::json) AS d(tag text)"
                     " ON CONFLICT (library_id, lower(tag_name)) DO NOTHING",
                     2, tp2) ||
        !ob_db_query(c->db, a,
                     "INSERT INTO html_component_definitions (component_id, version_id, definition)"
                     " SELECT hc.id, $2, d.definition"
                     " FROM json_to_recordset($3::json) AS d(tag text, definition json)"
                     " JOIN html_components hc"
                     "   ON hc.library_id = $1 AND lower(hc.tag_name) = lower(d.tag)",
                     3, cp))
        return -1;
    const char *gp[] = {library_id};
    if (!ob_db_query(c->db, a,
                     "DELETE FROM html_components hc WHERE hc.library_id = $1 AND NOT EXISTS"
                     " (SELECT 1 FROM html_component_definitions d WHERE d.component_id = hc.id)",
                     1, gp))
        return -1;
    out->library_id = library_id;
    out->version_id = version_id;
    return 0;
}

ob_lib_status ob_library_install(const ob_lib_ctx *c, ob_staged_file *archive,
                                 const ob_lib_install_opts *o, ob_lib_result *out)
{
    ob_arena *a = c->arena;
    memset(out, 0, sizeof *out);
    /* 1. Every check that needs no database, before anything is written. */
    ob_archive_limits limits = ob_archive_limits_for(c->cfg);
    ob_archive *ar;
    const char *msg;
    ob_archive_status ast = ob_archive_open_fd(a, archive->fd, &limits, &ar, &msg);
    if (ast != OB_ARCHIVE_OK)
        return archive_failed(c, out, ast, msg);
    const ob_library_manifest *m = ob_archive_manifest(ar);
    size_t ndefs;
    const ob_component_def *defs = ob_archive_components(ar, &ndefs);
    ob_semver sv;
    if (!ob_semver_parse(m->version, strlen(m->version), &sv))
        return fail_msg(c, out, OB_LIB_BAD_ARCHIVE, OB_ARCHIVE_INVALID_MESSAGE);
    const char *sort_key = ob_semver_sort_key_text(a, &sv);
    out->fqn = ob_arena_printf(a, "@%s/%s", m->organization, m->name);
    out->version = m->version;

    /* 2. Locks: this library exclusively, its dependencies shared. */
    size_t nwant = m->ndependencies + 1 > MAX_LOCKS ? MAX_LOCKS : m->ndependencies + 1;
    lock_req want[MAX_LOCKS];
    want[0] = (lock_req){lock_key(out->fqn), false};
    for (size_t i = 1; i < nwant; i++)
        want[i] = (lock_req){lock_key(m->dependencies[i - 1].key), true};
    locks held;
    if (acquire(c, &held, want, nwant) != 0)
        return db_failed(c, out, "lock");

    ob_lib_status st = OB_LIB_OK;
    if (ob_db_begin(c->db) != 0) {
        st = db_failed(c, out, "begin");
        goto unlock;
    }
    /* 3. An existing version, then the dependencies. */
    const char *ep[] = {m->organization, m->name, m->version};
    PGresult *ex = ob_db_query(c->db, a,
                               "SELECT v.id FROM html_library_versions v"
                               " JOIN html_libraries l ON l.id = v.parent_id"
                               " WHERE lower(l.organization) = lower($1)"
                               "   AND lower(l.name) = lower($2)"
                               "   AND lower(v.version) = lower($3)",
                               3, ep);
    if (!ex) {
        st = db_failed(c, out, "lookup");
        goto rollback;
    }
    out->replaced = PQntuples(ex) > 0;
    if (out->replaced && !o->replace) {
        st = fail_msg(c, out, OB_LIB_EXISTS, OB_LIBRARY_EXISTS_MESSAGE);
        goto rollback;
    }
    if (out->replaced && !o->may_replace) {
        st = finish(out, OB_LIB_FORBIDDEN);
        goto rollback;
    }
    strlist problems = {0};
    if (check_dependencies(c, m, &problems) != 0) {
        st = db_failed(c, out, "dependencies");
        goto rollback;
    }
    if (problems.n && !o->force) {
        out->messages = problems.items;
        out->nmessages = problems.n;
        st = finish(out, OB_LIB_BAD_ARCHIVE);
        goto rollback;
    }
    out->warnings = problems.items;
    out->nwarnings = problems.n;

    /* 4. The files, staged; the sizes are enforced again.  Not synced:
     * syncfs would flush every dirty page of the file system, other
     * processes' too (0.8 s for a 10 MiB install on a busy disk, twice
     * unzip's time), and 500 fsyncs cost as much.  The archive itself is
     * synced when it is published (ob_staged_file_commit), so after a power
     * loss that lost unpacked files, installing it again restores them. */
    ob_staged_dir *dir = ob_staged_dir_create(a, c->cfg->media_root);
    if (!dir) {
        ob_error("library: staging folder in %s: %s", c->cfg->media_root, strerror(errno));
        st = finish(out, OB_LIB_IO);
        goto rollback;
    }
    ast = ob_archive_extract(ar, dir->path, false, &msg);
    if (ast != OB_ARCHIVE_OK) {
        st = archive_failed(c, out, ast, msg);
        goto rollback;
    }
    ob_archive_close(ar);

    /* 5. The rows, then COMMIT. */
    const char *file_name = o->file_name && *o->file_name
                                ? o->file_name
                                : archive_rel(a, m->organization, m->name, m->version) + 4;
    const char *stored_version = m->version;
    if (write_rows(c, m, defs, ndefs, sort_key, o, file_name, (long long)archive->size, out,
                   &stored_version) != 0) {
        st = db_failed(c, out, "write");
        goto rollback;
    }
    out->version = stored_version;
    if (ob_db_commit(c->db) != 0) {
        st = db_failed(c, out, "commit");
        goto rollback;
    }

    /* 6. The files in place, under the lock still. */
    const char *root = c->cfg->media_root;
    const char *dest_zip =
        ob_arena_printf(a, "%s/%s", root, archive_rel(a, m->organization, m->name, stored_version));
    const char *dest_dir = version_dir(a, root, m->organization, m->name, stored_version);
    if (ob_staged_file_commit(archive, dest_zip, true) != 0 ||
        ob_staged_dir_commit(dir, dest_dir) != 0) {
        /* The rows are committed: the library works again after another
         * install of the same archive. */
        ob_error("library: %s %s installed, but its files could not be moved to %s: %s",
                 out->fqn, stored_version, dest_dir, strerror(errno));
        st = finish(out, OB_LIB_IO);
        goto unlock;
    }
    out->status = OB_LIB_OK;
    if (o->installed)
        o->installed(o->ctx, out);
    unlock_all(c, &held);

    /* 7. The event, after the COMMIT. */
    ob_events ev;
    ob_events_init(&ev, a);
    add_event(c, &ev, out->library_id, out->fqn, stored_version, out->version_id,
              out->replaced ? "replaced" : "installed");
    if (c->redis)
        ob_events_publish(&ev, c->redis);
    return finish(out, OB_LIB_OK);

rollback:
    ob_db_rollback(c->db);
unlock:
    unlock_all(c, &held);
    return st;
}

/* Copies fd into a new staged file. */
static int copy_into(ob_staged_file *f, int fd)
{
    for (;;) {
        ssize_t n = copy_file_range(fd, NULL, f->fd, NULL, 1 << 30, 0);
        if (n > 0) {
            f->size += (uint64_t)n;
            continue;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
            return -1;
        break; /* no copy_file_range between these: read and write */
    }
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (ob_staged_file_write(f, buf, (size_t)n) != 0)
            return -1;
    }
}

static int open_regular(const char *path, const char **why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        *why = strerror(errno);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        close(fd);
        return -1;
    }
    return fd;
}

ob_lib_status ob_library_install_file(const ob_lib_ctx *c, const char *path,
                                      const ob_lib_install_opts *o, ob_lib_result *out)
{
    memset(out, 0, sizeof *out);
    const char *why;
    int fd = open_regular(path, &why);
    if (fd < 0)
        return fail_msg(c, out, OB_LIB_BAD_ARCHIVE, ob_arena_printf(c->arena, "%s: %s", path, why));
    ob_staged_file *f = ob_staged_file_create(c->arena, c->cfg->media_root);
    if (!f || copy_into(f, fd) != 0) {
        ob_error("library: cannot copy %s into %s/%s: %s", path, c->cfg->media_root,
                 OB_STAGING_DIR, strerror(errno));
        close(fd);
        return finish(out, OB_LIB_IO);
    }
    close(fd);
    ob_lib_install_opts opts = *o;
    if (!opts.file_name) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        opts.file_name = ob_filename_sanitize(c->arena, base, strlen(base));
    }
    return ob_library_install(c, f, &opts, out);
}

const ob_library_manifest *ob_library_peek(ob_arena *a, const ob_config *cfg, const char *path,
                                           const char **message)
{
    const char *why;
    int fd = open_regular(path, &why);
    if (fd < 0) {
        *message = ob_arena_strdup(a, why);
        return NULL;
    }
    ob_archive_limits limits = ob_archive_limits_for(cfg);
    ob_archive *ar = NULL;
    ob_archive_status st = ob_archive_open_fd(a, fd, &limits, &ar, message);
    const ob_library_manifest *m = st == OB_ARCHIVE_OK ? ob_archive_manifest(ar) : NULL;
    if (ar)
        ob_archive_close(ar);
    close(fd);
    return m;
}

/* ---- uninstall ------------------------------------------------------------ */

typedef struct {
    const char *library_id, *organization, *name;
    /* The versions: all of the library's, those to remove flagged. */
    size_t n;
    const char **ids, **versions;
    bool *removed;
} lib_state;

/* The library's versions; NULL when the library does not exist. */
static int load_library(const ob_lib_ctx *c, const char *library_id, lib_state *s)
{
    const char *p[] = {library_id};
    PGresult *res = ob_db_query(c->db, c->arena,
                                "SELECT l.organization, l.name, v.id, v.version"
                                " FROM html_libraries l"
                                " LEFT JOIN html_library_versions v ON v.parent_id = l.id"
                                " WHERE l.id = $1 ORDER BY v.sort_key",
                                1, p);
    if (!res)
        return -1;
    int rows = PQntuples(res);
    if (rows == 0)
        return 1;
    s->library_id = library_id;
    s->organization = ob_arena_strdup(c->arena, PQgetvalue(res, 0, 0));
    s->name = ob_arena_strdup(c->arena, PQgetvalue(res, 0, 1));
    s->ids = ob_arena_calloc(c->arena, (size_t)rows, sizeof *s->ids);
    s->versions = ob_arena_calloc(c->arena, (size_t)rows, sizeof *s->versions);
    s->removed = ob_arena_calloc(c->arena, (size_t)rows, sizeof *s->removed);
    s->n = 0;
    for (int i = 0; i < rows; i++) {
        if (PQgetisnull(res, i, 2))
            continue;
        s->ids[s->n] = ob_arena_strdup(c->arena, PQgetvalue(res, i, 2));
        s->versions[s->n] = ob_arena_strdup(c->arena, PQgetvalue(res, i, 3));
        s->n++;
    }
    return 0;
}

static bool any_match(const lib_state *s, const ob_version_expr *e, bool after)
{
    for (size_t i = 0; i < s->n; i++) {
        if (after && s->removed[i])
            continue;
        ob_semver sv;
        if (ob_semver_parse(s->versions[i], strlen(s->versions[i]), &sv) &&
            ob_version_expr_match(e, &sv))
            return true;
    }
    return false;
}

/* Installed versions of other libraries whose dependency on this one holds
 * now (or whose library would go entirely) and would not hold once the
 * flagged versions are gone: "<fqn> <version>" each. */
static int find_dependants(const ob_lib_ctx *c, const lib_state *s, strlist *out)
{
    const char *fqn = ob_arena_printf(c->arena, "@%s/%s", s->organization, s->name);
    const char *p[] = {s->library_id, lower_dup(c->arena, fqn)};
    PGresult *res = ob_db_query(
        c->db, c->arena,
        "SELECT '@' || l.organization || '/' || l.name, v.version, d.value"
        " FROM html_library_versions v JOIN html_libraries l ON l.id = v.parent_id,"
        " LATERAL json_each_text(CASE WHEN json_typeof(v.dependencies) = 'object'"
        "                        THEN v.dependencies ELSE '{}'::json END) d"
        " WHERE v.parent_id <> $1 AND lower(d.key) = $2"
        " ORDER BY l.organization, l.name, v.sort_key",
        2, p);
    if (!res)
        return -1;
    bool remains = false;
    for (size_t i = 0; i < s->n; i++)
        remains = remains || !s->removed[i];
    for (int r = 0; r < PQntuples(res); r++) {
        const char *expr = PQgetvalue(res, r, 2);
        ob_version_expr e;
        if (!ob_version_expr_parse(c->arena, expr, strlen(expr), &e))
            continue;
        bool before = any_match(s, &e, false), after = any_match(s, &e, true);
        if (!after && (before || !remains))
            strlist_add(c->arena, out,
                        ob_arena_printf(c->arena, "%s %s", PQgetvalue(res, r, 0),
                                        PQgetvalue(res, r, 1)));
    }
    return 0;
}

/* Removes the flagged versions (or the whole library). */
static ob_lib_status uninstall(const ob_lib_ctx *c, const char *library_id,
                               const char *version_id, bool force, ob_lib_result *out)
{
    ob_arena *a = c->arena;
    lib_state s = {0};
    int lr = load_library(c, library_id, &s);
    if (lr < 0)
        return db_failed(c, out, "lookup");
    if (lr > 0)
        return finish(out, OB_LIB_NOT_FOUND);
    const char *fqn = ob_arena_printf(a, "@%s/%s", s.organization, s.name);
    lock_req want[1] = {{lock_key(fqn), false}};
    locks held;
    if (acquire(c, &held, want, 1) != 0)
        return db_failed(c, out, "lock");
    ob_lib_status st = OB_LIB_OK;
    if (ob_db_begin(c->db) != 0) {
        st = db_failed(c, out, "begin");
        goto unlock;
    }
    /* Again under the lock: another request may have changed it. */
    memset(&s, 0, sizeof s);
    lr = load_library(c, library_id, &s);
    if (lr != 0) {
        st = lr < 0 ? db_failed(c, out, "lookup") : finish(out, OB_LIB_NOT_FOUND);
        goto rollback;
    }
    bool found = version_id == NULL;
    for (size_t i = 0; i < s.n; i++) {
        s.removed[i] = !version_id || strcmp(s.ids[i], version_id) == 0;
        if (s.removed[i] && version_id) {
            found = true;
            out->version = s.versions[i];
        }
    }
    if (!found) {
        st = finish(out, OB_LIB_NOT_FOUND);
        goto rollback;
    }
    out->fqn = fqn;
    out->library_id = library_id;
    out->version_id = version_id;
    strlist deps = {0};
    if (find_dependants(c, &s, &deps) != 0) {
        st = db_failed(c, out, "dependants");
        goto rollback;
    }
    if (deps.n && !force) {
        ob_buf b;
        ob_buf_init(&b, a);
        ob_buf_puts(&b, "Other libraries depend on this version: ");
        for (size_t i = 0; i < deps.n; i++) {
            ob_buf_puts(&b, i ? ", " : "");
            ob_buf_puts(&b, deps.items[i]);
        }
        st = fail_msg(c, out, OB_LIB_DEPENDANTS, ob_buf_cstr(&b));
        goto rollback;
    }
    const char *p[] = {version_id ? version_id : library_id, library_id};
    if (!ob_db_query(c->db, a,
                     version_id ? "DELETE FROM html_library_versions WHERE id = $1"
                                : "DELETE FROM html_libraries WHERE id = $1",
                     1, p) ||
        (version_id &&
         !ob_db_query(c->db, a,
                      "DELETE FROM html_components hc WHERE hc.library_id = $1 AND NOT EXISTS"
                      " (SELECT 1 FROM html_component_definitions d"
                      "  WHERE d.component_id = hc.id)",
                      1, p + 1))) {
        st = db_failed(c, out, "delete");
        goto rollback;
    }
    if (ob_db_commit(c->db) != 0) {
        st = db_failed(c, out, "commit");
        goto rollback;
    }
    /* The files, after the COMMIT and under the lock: a failure only
     * leaves files nobody refers to (logged). */
    const char *root = c->cfg->media_root;
    ob_events ev;
    ob_events_init(&ev, a);
    for (size_t i = 0; i < s.n; i++) {
        if (!s.removed[i])
            continue;
        const char *zip = ob_arena_printf(
            a, "%s/%s", root, archive_rel(a, s.organization, s.name, s.versions[i]));
        const char *dir = version_dir(a, root, s.organization, s.name, s.versions[i]);
        if (ob_remove_tree(dir) != 0 || ob_remove_tree(zip) != 0)
            ob_warn("library: %s %s removed, but not all of its files: %s", fqn, s.versions[i],
                    strerror(errno));
        add_event(c, &ev, library_id, fqn, s.versions[i], s.ids[i], "deleted");
    }
    if (!version_id) {
        const char *dir = ob_arena_printf(a, "%s/lib/%s/%s", root, s.organization, s.name);
        if (ob_remove_tree(dir) != 0)
            ob_warn("library: %s removed, but not its folder %s: %s", fqn, dir, strerror(errno));
    }
    unlock_all(c, &held);
    if (c->redis)
        ob_events_publish(&ev, c->redis);
    return finish(out, OB_LIB_OK);

rollback:
    ob_db_rollback(c->db);
unlock:
    unlock_all(c, &held);
    return st;
}

ob_lib_status ob_library_uninstall_version(const ob_lib_ctx *c, const char *version_id,
                                           bool force, ob_lib_result *out)
{
    memset(out, 0, sizeof *out);
    const char *p[] = {version_id};
    PGresult *res = ob_db_query(c->db, c->arena,
                                "SELECT parent_id FROM html_library_versions WHERE id = $1", 1,
                                p);
    if (!res)
        return db_failed(c, out, "lookup");
    if (PQntuples(res) == 0)
        return finish(out, OB_LIB_NOT_FOUND);
    return uninstall(c, ob_arena_strdup(c->arena, PQgetvalue(res, 0, 0)), version_id, force, out);
}

ob_lib_status ob_library_uninstall(const ob_lib_ctx *c, const char *library_id, bool force,
                                   ob_lib_result *out)
{
    memset(out, 0, sizeof *out);
    return uninstall(c, library_id, NULL, force, out);
}
