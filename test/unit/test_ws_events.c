/* test_ws_events.c - publishing events after COMMIT (src/redis/events.c)
 * against a real redis-server started for this suite on a private unix
 * socket.  Without redis-server on the PATH the tests pass vacuously and
 * say so on stderr (make deps installs it). */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <hiredis.h>
#include "openbook/redis/events.h"
#include "openbook/redis/redis.h"
#include "tests.h"

extern char **environ;

static pid_t redis_pid = -1;
static char dir[64], sock_path[128], addr[160];
static ob_arena A;

static void redis_start(void)
{
    snprintf(dir, sizeof dir, "/tmp/openbook-unit-redis-XXXXXX");
    if (!mkdtemp(dir))
        return;
    snprintf(sock_path, sizeof sock_path, "%s/redis.sock", dir);
    snprintf(addr, sizeof addr, "unix:%s", sock_path);
    char log[128];
    snprintf(log, sizeof log, "%s/redis.log", dir);
    char *argv[] = {(char *)"redis-server", (char *)"--port", (char *)"0",
                    (char *)"--unixsocket", sock_path, (char *)"--save", (char *)"",
                    (char *)"--appendonly", (char *)"no", (char *)"--daemonize", (char *)"no",
                    (char *)"--logfile", log, (char *)"--dir", dir, NULL};
    if (posix_spawnp(&redis_pid, "redis-server", NULL, NULL, argv, environ) != 0) {
        redis_pid = -1;
        return;
    }
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        redisContext *c = redisConnectUnix(sock_path);
        bool up = c && !c->err;
        if (c)
            redisFree(c);
        if (up)
            return;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(redis_pid, SIGKILL);
    waitpid(redis_pid, NULL, 0);
    redis_pid = -1;
}

static void redis_stop(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGTERM);
        waitpid(redis_pid, NULL, 0);
        redis_pid = -1;
    }
    if (*sock_path) {
        unlink(sock_path);
        char log[128];
        snprintf(log, sizeof log, "%s/redis.log", dir);
        unlink(log);
        rmdir(dir);
    }
}

static bool have_redis(void)
{
    if (redis_pid < 0)
        fprintf(stderr, "test_ws_events: redis-server not available; test skipped\n");
    return redis_pid > 0;
}

static void setup(void)
{
    ob_arena_init(&A, 4096);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

static redisContext *raw(void)
{
    redisContext *c = redisConnectUnix(sock_path);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->err, 0);
    return c;
}

static void flushall(void)
{
    redisContext *c = raw();
    freeReplyObject(redisCommand(c, "FLUSHALL"));
    redisFree(c);
}

/* A second connection subscribed to `chan`, ready to read messages. */
static redisContext *subscriber(const char *chan)
{
    redisContext *c = raw();
    redisReply *r = redisCommand(c, "SUBSCRIBE %s", chan);
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
    struct timeval tv = {5, 0};
    redisSetTimeout(c, tv);
    return c;
}

/* The payload of the next published message. */
static cJSON *next_message(redisContext *c)
{
    void *rep = NULL;
    ck_assert_int_eq(redisGetReply(c, &rep), REDIS_OK);
    redisReply *r = rep;
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_str_eq(r->element[0]->str, "message");
    cJSON *j = cJSON_Parse(r->element[2]->str);
    ck_assert_msg(j != NULL, "not JSON: %s", r->element[2]->str);
    freeReplyObject(r);
    return j;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    ck_assert_msg(cJSON_IsString(v), "no string %s", k);
    return v->valuestring;
}

START_TEST(test_publish_after_commit)
{
    if (!have_redis())
        return;
    flushall();
    redisContext *sub = subscriber("openbook:user:7");
    ob_redis *rd = ob_redis_new(addr, 0, "", 1000);
    ob_events ev;
    ob_events_init(&ev, &A);
    ob_events_add(&ev, "user:7", "enrollment.created", 1,
                  "{\"scope_type\":\"openbook_content.course\",\"role\":\"student\"}");
    ob_events_add(&ev, "course:3629d56b-e3ae-41c9-8438-0046e057a69b", "course.updated", 1,
                  "{\"course\":\"3629d56b-e3ae-41c9-8438-0046e057a69b\",\"op\":\"updated\"}");
    ob_events_add(&ev, "user:7", "access_request.decided", 2, "{\"decision\":\"accepted\"}");
    ck_assert_uint_eq(ev.count, 3);
    ck_assert_int_eq(ob_events_publish(&ev, rd), 3);
    ck_assert_uint_eq(ev.count, 0);

    /* The subscriber sees the user's two events, in order, with the ids of
     * their stream entries. */
    redisContext *c = raw();
    redisReply *x = redisCommand(c, "XRANGE openbook:stream:user:7 - +");
    ck_assert_uint_eq(x->elements, 2);
    const char *types[] = {"enrollment.created", "access_request.decided"};
    for (int i = 0; i < 2; i++) {
        cJSON *m = next_message(sub);
        ck_assert_str_eq(str(m, "channel"), "user:7");
        ck_assert_str_eq(str(m, "type"), types[i]);
        ck_assert_str_eq(str(m, "id"), x->element[i]->element[0]->str);
        ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(m, "payload")));
        ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(m, "version")->valueint, i + 1);
        /* The stream entry holds the same event without channel and id. */
        ck_assert_str_eq(x->element[i]->element[1]->element[0]->str, "data");
        cJSON *d = cJSON_Parse(x->element[i]->element[1]->element[1]->str);
        ck_assert_str_eq(str(d, "type"), types[i]);
        ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(d, "channel"));
        cJSON_Delete(d);
        cJSON_Delete(m);
    }
    freeReplyObject(x);
    /* Streams expire after a week unless written again. */
    redisReply *ttl = redisCommand(c, "TTL openbook:stream:course:3629d56b-e3ae-41c9-8438-0046e057a69b");
    ck_assert_int_gt(ttl->integer, 604000);
    ck_assert_int_le(ttl->integer, 604800);
    freeReplyObject(ttl);
    redisFree(c);
    redisFree(sub);
    ob_redis_free(rd);
}
END_TEST

START_TEST(test_rollback_publishes_nothing)
{
    if (!have_redis())
        return;
    flushall();
    ob_redis *rd = ob_redis_new(addr, 0, "", 1000);
    ob_events ev;
    ob_events_init(&ev, &A);
    ob_events_add(&ev, "library:updates", "library.installed", 1, "{\"op\":\"installed\"}");
    ob_events_discard(&ev);
    ck_assert_int_eq(ob_events_publish(&ev, rd), 0);
    redisContext *c = raw();
    redisReply *n = redisCommand(c, "EXISTS openbook:stream:library:updates");
    ck_assert_int_eq(n->integer, 0);
    freeReplyObject(n);
    redisFree(c);
    ob_redis_free(rd);
}
END_TEST

START_TEST(test_bad_events_are_dropped)
{
    ob_events ev;
    ob_events_init(&ev, &A);
    ob_events_add(&ev, "user:0", "x", 1, "{}");
    ob_events_add(&ev, "openbook:control", "x", 1, "{}");
    ob_events_add(&ev, "course:NOT-A-UUID", "x", 1, "{}");
    static char big[OB_EVENT_MAX_BYTES + 10];
    memset(big, 'a', sizeof big);
    memcpy(big, "{\"a\":\"", 6);
    memcpy(big + sizeof big - 3, "\"}", 3);
    ob_events_add(&ev, "user:1", "too.big", 1, big);
    ck_assert_uint_eq(ev.count, 0);
    /* Escaping happens in the writer: a type with quotes stays one string. */
    ob_events_add(&ev, "user:1", "we\"ird", 1, "{}");
    ck_assert_uint_eq(ev.count, 1);
    ck_assert_str_eq(ev.head->data, "{\"type\":\"we\\\"ird\",\"version\":1,\"payload\":{}}");
}
END_TEST

START_TEST(test_many_events_in_batches)
{
    if (!have_redis())
        return;
    flushall();
    redisContext *sub = subscriber("openbook:library:updates");
    ob_redis *rd = ob_redis_new(addr, 0, "", 1000);
    ob_events ev;
    ob_events_init(&ev, &A);
    for (int i = 0; i < 150; i++) {
        char p[32];
        snprintf(p, sizeof p, "{\"n\":%d}", i);
        ob_events_add(&ev, "library:updates", "library.installed", 1, p);
    }
    ck_assert_int_eq(ob_events_publish(&ev, rd), 150);
    for (int i = 0; i < 150; i++) {
        cJSON *m = next_message(sub);
        ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(
                             cJSON_GetObjectItemCaseSensitive(m, "payload"), "n")->valueint, i);
        cJSON_Delete(m);
    }
    redisContext *c = raw();
    redisReply *n = redisCommand(c, "XLEN openbook:stream:library:updates");
    ck_assert_int_eq(n->integer, 150);
    freeReplyObject(n);
    redisFree(c);
    redisFree(sub);
    ob_redis_free(rd);
}
END_TEST

START_TEST(test_revoke_user)
{
    if (!have_redis())
        return;
    redisContext *sub = subscriber("openbook:control");
    ob_redis *rd = ob_redis_new(addr, 0, "", 1000);
    ck_assert_int_eq(ob_events_revoke_user(rd, 42), 0);
    cJSON *m = next_message(sub);
    ck_assert_str_eq(str(m, "op"), "revoke_user");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(m, "user_id")->valueint, 42);
    cJSON_Delete(m);
    redisFree(sub);
    ob_redis_free(rd);
}
END_TEST

START_TEST(test_redis_down_never_fails)
{
    ob_redis *rd = ob_redis_new("unix:/nonexistent/openbook-test.sock", 0, "", 200);
    ob_events ev;
    ob_events_init(&ev, &A);
    ob_events_add(&ev, "user:1", "enrollment.removed", 1, "{}");
    time_t t0 = time(NULL);
    ck_assert_int_eq(ob_events_publish(&ev, rd), -1);
    ck_assert_uint_eq(ev.count, 0);
    ck_assert_int_eq(ob_events_revoke_user(rd, 1), -1);
    ck_assert_int_le(time(NULL) - t0, 2);
    ck_assert_int_eq(ob_events_revoke_user(NULL, 1), -1);
    ob_redis_free(rd);
}
END_TEST

Suite *ws_events_suite(void)
{
    Suite *s = suite_create("ws_events");
    TCase *tc = tcase_create("redis");
    tcase_add_unchecked_fixture(tc, redis_start, redis_stop);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_publish_after_commit);
    tcase_add_test(tc, test_rollback_publishes_nothing);
    tcase_add_test(tc, test_bad_events_are_dropped);
    tcase_add_test(tc, test_many_events_in_batches);
    tcase_add_test(tc, test_revoke_user);
    tcase_add_test(tc, test_redis_down_never_fails);
    suite_add_tcase(s, tc);
    return s;
}
