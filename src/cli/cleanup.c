/* cleanup.c - `openbook cleanup`: removes what has expired, in bounded
 * batches, and says what it removed.  Run daily by
 * deploy/systemd/openbook-cleanup.timer.
 *
 * What goes:
 *   - sessions past expires_at (sessions table);
 *   - expired login stages inside live sessions (the pending login by
 *     e-mailed code, e-mail verification...: data->'stage', whose code
 *     hash must not outlive auth.login_timeout); the API ignores such a
 *     stage already (api_state.c), so removing it changes no answer;
 *   - one-time keys past expires_at (auth_keys: password reset, e-mail
 *     verification; a used reset key is deleted when the password is set);
 *   - rows of delivered or given-up mail older than mail.retention;
 *   - staged uploads and library folders under <media_root>/.staging/
 *     (leftovers of requests or installs that died before they finished)
 *     older than --staging-age;
 *   - entries of the event streams (openbook:stream:<channel>) beyond their
 *     cap: XADD trims approximately (MAXLEN ~), XTRIM here exactly.
 * WebSocket tickets leave nothing to remove: the relay's single-use marks
 * expire in Redis by themselves (SET NX EX).
 *
 * Idempotent: each step selects by expiry only, so a second run finds
 * nothing.  Bounded: each database step deletes in batches of --batch rows
 * (DELETE ... WHERE ctid IN (SELECT ctid ... LIMIT n): short transactions,
 * no long lock), at most --max rows per run; the rest waits for the next
 * run, and the report says so. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "openbook/core/alloc.h"
#include "openbook/cli/cli.h"
#include "openbook/redis/events.h"
#include "openbook/core/json.h"
#include "openbook/mail/mail.h"
#include "openbook/redis/redis.h"
#include "openbook/files/staging.h"
#include "cli_account.h"
#include "cli_files.h"

static const char usage[] =
    "Usage: openbook cleanup [-c FILE] [--json] [--batch N] [--max N] [--staging-age S]\n\n"
    "Removes what has expired: sessions, login stages (e-mailed login codes),\n"
    "one-time keys (password reset, e-mail verification), rows of delivered or\n"
    "given-up mail older than mail.retention, upload leftovers under\n"
    "<media_root>/.staging/ older than --staging-age, and event-stream entries\n"
    "beyond the cap of 1000 per channel.  Safe to run at any time and as often\n"
    "as wanted; deploy/systemd/openbook-cleanup.timer runs it daily.\n\n"
    "  -c, --config FILE     configuration file\n"
    "      --json            print the report as JSON\n"
    "      --batch N         rows per transaction (default 1000)\n"
    "      --max N           at most N rows (files, streams) per kind and run\n"
    "                        (default 100000); the rest is left for the next run\n"
    "      --staging-age S   seconds after which a staged upload is dead\n"
    "                        (default 3600)\n"
    "  -h, --help            show this help\n\n"
    "Exit codes: 0 done, 1 a step failed (the others still ran; the report\n"
    "says which), 2 usage error.\n";

typedef struct options {
    const char *config;
    bool json;
    long batch, max, staging_age;
} options;

typedef struct report {
    long sessions, stages, keys_reset, keys_verify, keys_code, mail;
    long staging, streams_trimmed, stream_entries;
    bool more;              /* a --max was reached */
    const char *failed[8];  /* the steps that failed */
    int nfailed;
} report;

typedef struct ctx {
    ob_cli_account ca;
    options o;
    report rep;
} ctx;

static void failed(ctx *c, const char *step, const char *why)
{
    fprintf(stderr, "openbook: cleanup: %s: %s\n", step, why);
    if (c->rep.nfailed < (int)(sizeof c->rep.failed / sizeof *c->rep.failed))
        c->rep.failed[c->rep.nfailed++] = step;
}

/* ---- database --------------------------------------------------------- */

/* One batch: changes at most `limit` rows and returns how many, or -1. */
typedef long (*batch_fn)(ctx *c, long limit, const void *arg);

/* Runs batches until one changes fewer rows than it may, or --max rows are
 * done (then the report says more is left).  Returns the rows changed, or
 * -1 after naming the failed step. */
static long batches(ctx *c, const char *step, batch_fn fn, const void *arg)
{
    long total = 0;
    for (;;) {
        long want = c->o.max - total < c->o.batch ? c->o.max - total : c->o.batch;
        if (want <= 0) {
            c->rep.more = true;
            break;
        }
        ob_arena_reset(&c->ca.arena);
        long n = fn(c, want, arg);
        if (n < 0) {
            failed(c, step, ob_db_last_error(c->ca.db));
            return -1;
        }
        total += n;
        if (n < want)
            break;
    }
    return total;
}

/* A statement changing at most $1 rows ($2 = arg, if any); count (may be
 * NULL) sees the RETURNING rows. */
typedef struct statement {
    const char *sql, *arg;
    void (*count)(ctx *, const PGresult *);
} statement;

static long run_statement(ctx *c, long limit, const void *arg)
{
    const statement *st = arg;
    char lim[24];
    snprintf(lim, sizeof lim, "%ld", limit);
    const char *p[] = {lim, st->arg};
    PGresult *res = ob_db_query(c->ca.db, &c->ca.arena, st->sql, st->arg ? 2 : 1, p);
    if (!res)
        return -1;
    if (st->count)
        st->count(c, res);
    return strtol(PQcmdTuples(res), NULL, 10);
}

static long purge_mail(ctx *c, long limit, const void *arg)
{
    (void)arg;
    return ob_mail_purge(c->ca.db, &c->ca.cfg, limit);
}

static void count_keys(ctx *c, const PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        const char *kind = PQgetvalue(res, i, 0);
        if (strcmp(kind, "reset") == 0)
            c->rep.keys_reset++;
        else if (strcmp(kind, "verify") == 0)
            c->rep.keys_verify++;
        else
            c->rep.keys_code++;
    }
}

/* A stage is over when auth.login_timeout has passed since it began, or
 * its own "expires" has passed: the test of ob_authapi_stage().  A stage
 * without a numeric "at" is invalid, hence over too.  (CASE: the casts
 * must not see a value that is not a number.) */
#define STAGE_OVER                                                                                \
    "(data ? 'stage' AND (coalesce(CASE WHEN jsonb_typeof(data->'stage'->'at') = 'number' "       \
    "THEN (data->'stage'->>'at')::float8 END, 0) < extract(epoch FROM now()) - $2::float8 "       \
    "OR coalesce(CASE WHEN jsonb_typeof(data->'stage'->'expires') = 'number' "                    \
    "THEN (data->'stage'->>'expires')::float8 END, 'infinity') < extract(epoch FROM now())))"

static void clean_database(ctx *c)
{
    static const statement sessions = {
        "DELETE FROM sessions WHERE ctid IN (SELECT ctid FROM sessions "
        "WHERE expires_at <= now() LIMIT $1::bigint)",
        NULL, NULL};
    long n = batches(c, "sessions", run_statement, &sessions);
    c->rep.sessions = n > 0 ? n : 0;

    /* The outer test again: a request that stored a new stage meanwhile
     * made a new row version, which must keep its stage. */
    char timeout[24];
    snprintf(timeout, sizeof timeout, "%ld", c->ca.cfg.auth_login_timeout);
    statement stages = {
        "UPDATE sessions SET data = data - 'stage' WHERE ctid IN (SELECT ctid FROM "
        "sessions WHERE expires_at > now() AND " STAGE_OVER " LIMIT $1::bigint) "
        "AND " STAGE_OVER,
        timeout, NULL};
    n = batches(c, "login stages", run_statement, &stages);
    c->rep.stages = n > 0 ? n : 0;

    static const statement keys = {
        "DELETE FROM auth_keys WHERE ctid IN (SELECT ctid FROM auth_keys "
        "WHERE expires_at <= now() LIMIT $1::bigint) RETURNING kind",
        NULL, count_keys};
    batches(c, "one-time keys", run_statement, &keys);

    n = batches(c, "mail", purge_mail, NULL);
    c->rep.mail = n > 0 ? n : 0;
}

/* ---- staged uploads --------------------------------------------------- */

/* Each top-level entry of .staging is one staged upload or library
 * folder; ob_staging_cleanup (shared with the pool's start-up) removes the
 * dead ones whole. */
static void clean_staging(ctx *c)
{
    long n = ob_staging_cleanup(c->ca.cfg.media_root, c->o.staging_age, time(NULL));
    if (n < 0)
        failed(c, "staged uploads", strerror(errno));
    else
        c->rep.staging = n;
}

/* ---- event streams ---------------------------------------------------- */

static void clean_streams(ctx *c)
{
    ob_redis *r = ob_redis_new(c->ca.cfg.redis_address, c->ca.cfg.redis_db,
                               c->ca.cfg.redis_password, c->ca.cfg.redis_timeout);
    char cursor[32] = "0", cap[24];
    snprintf(cap, sizeof cap, "%d", OB_EVENT_STREAM_MAXLEN);
    long seen = 0;
    do {
        if (seen >= c->o.max) {
            c->rep.more = true;
            break;
        }
        const char *scan[] = {"SCAN", cursor, "MATCH", OB_EVENT_STREAM_PREFIX "*",
                              "COUNT", "500", "TYPE", "stream"};
        redisReply *rep = ob_redis_command(r, 8, scan, NULL);
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
            rep->element[0]->type != REDIS_REPLY_STRING ||
            rep->element[1]->type != REDIS_REPLY_ARRAY) {
            if (rep)
                freeReplyObject(rep);
            failed(c, "event streams", "Redis is unavailable or answered SCAN oddly");
            break;
        }
        snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
        const redisReply *keys = rep->element[1];
        bool ok = true;
        for (size_t i = 0; i < keys->elements && ok; i++, seen++) {
            if (keys->element[i]->type != REDIS_REPLY_STRING)
                continue;
            const char *trim[] = {"XTRIM", keys->element[i]->str, "MAXLEN", cap};
            size_t lens[] = {5, keys->element[i]->len, 6, strlen(cap)};
            redisReply *t = ob_redis_command(r, 4, trim, lens);
            if (!t && !ob_redis_connected(r)) {
                failed(c, "event streams", "lost Redis");
                ok = false;
            } else if (t && t->type == REDIS_REPLY_INTEGER && t->integer > 0) {
                c->rep.streams_trimmed++;
                c->rep.stream_entries += (long)t->integer;
            }
            if (t)
                freeReplyObject(t);
        }
        freeReplyObject(rep);
        if (!ok)
            break;
    } while (strcmp(cursor, "0") != 0);
    ob_redis_free(r);
}

/* ---- report ----------------------------------------------------------- */

static void print_report(ctx *c)
{
    const report *r = &c->rep;
    if (c->o.json) {
        ob_buf b;
        ob_buf_init(&b, &c->ca.arena);
        ob_json j;
        ob_json_init(&j, &b);
        ob_json_object_begin(&j);
        ob_json_kv_int(&j, "sessions", r->sessions);
        ob_json_kv_int(&j, "login_stages", r->stages);
        ob_json_key(&j, "keys");
        ob_json_object_begin(&j);
        ob_json_kv_int(&j, "reset", r->keys_reset);
        ob_json_kv_int(&j, "verify", r->keys_verify);
        ob_json_kv_int(&j, "code", r->keys_code);
        ob_json_object_end(&j);
        ob_json_kv_int(&j, "mail", r->mail);
        ob_json_kv_int(&j, "staging", r->staging);
        ob_json_kv_int(&j, "streams_trimmed", r->streams_trimmed);
        ob_json_kv_int(&j, "stream_entries", r->stream_entries);
        ob_json_key(&j, "more");
        ob_json_bool(&j, r->more);
        ob_json_key(&j, "failed");
        ob_json_array_begin(&j);
        for (int i = 0; i < r->nfailed; i++)
            ob_json_string(&j, r->failed[i]);
        ob_json_array_end(&j);
        ob_json_object_end(&j);
        puts(ob_buf_cstr(&b));
        return;
    }
    printf("expired sessions:        %ld\n"
           "expired login stages:    %ld\n"
           "expired one-time keys:   %ld (reset %ld, verify %ld, other %ld)\n"
           "old mail rows:           %ld\n"
           "stale staged uploads:    %ld\n"
           "event streams trimmed:   %ld (%ld entries)\n",
           r->sessions, r->stages, r->keys_reset + r->keys_verify + r->keys_code, r->keys_reset,
           r->keys_verify, r->keys_code, r->mail, r->staging,
           r->streams_trimmed, r->stream_entries);
    if (r->more)
        printf("(the limit of --max was reached: the next run goes on)\n");
    for (int i = 0; i < r->nfailed; i++)
        printf("FAILED: %s\n", r->failed[i]);
}

/* ---- command ---------------------------------------------------------- */

static bool number(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int ob_cmd_cleanup(int argc, char **argv, char **envp)
{
    enum { L_BATCH = 256, L_MAX, L_AGE };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},  {"json", no_argument, NULL, 'j'},
        {"batch", required_argument, NULL, L_BATCH}, {"max", required_argument, NULL, L_MAX},
        {"staging-age", required_argument, NULL, L_AGE}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ctx *c = ob_calloc(1, sizeof *c);
    c->o = (options){.batch = 1000, .max = 100000, .staging_age = OB_STAGING_MAX_AGE};
    int opt, rc = -1;
    optind = 1;
    while (rc < 0 && (opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': c->o.config = optarg; break;
        case 'j': c->o.json = true; break;
        case 'h': fputs(usage, stdout); rc = OB_EXIT_OK; break;
        case L_BATCH:
        case L_MAX:
        case L_AGE:
            if (!number(optarg, opt == L_AGE ? 0 : 1, opt == L_BATCH ? 100000 : 1000000000,
                        opt == L_BATCH ? &c->o.batch : opt == L_MAX ? &c->o.max
                                                                    : &c->o.staging_age)) {
                fprintf(stderr, "openbook: cleanup: bad number '%s'\n%s", optarg, usage);
                rc = OB_EXIT_USAGE;
            }
            break;
        default: fputs(usage, stderr); rc = OB_EXIT_USAGE; break;
        }
    }
    if (rc < 0 && optind < argc) {
        fprintf(stderr, "openbook: unexpected argument '%s'\n%s", argv[optind], usage);
        rc = OB_EXIT_USAGE;
    }
    if (rc >= 0) {
        ob_free(c);
        return rc;
    }
    if (ob_cli_db_open(&c->ca, c->o.config, envp, OB_CLI_CURRENT_SCHEMA) != 0) {
        ob_free(c);
        return OB_EXIT_ERROR;
    }
    clean_database(c);
    clean_staging(c);
    clean_streams(c);
    print_report(c);
    rc = c->rep.nfailed ? OB_EXIT_ERROR : OB_EXIT_OK;
    ob_cli_account_close(&c->ca);
    ob_free(c);
    return rc;
}
