/* test_ws_ticket_api.c - POST /api/ws/ticket/ (src/api/ws_ticket.c) without
 * a database: input validation, user channels and the answer's shape.
 * (Content channels need the database too: test_relay_events.py.)
 * (library:updates needs the database: the integration tests cover it.) */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "openbook/core/alloc.h"
#include "openbook/auth/auth.h"
#include "openbook/core/config.h"
#include "openbook/http/http.h"
#include "openbook/core/ticket.h"
#include "openbook/api/ws.h"
#include "tests.h"

#define SECRET "ticket-api-unit-test-secret-key-0123456789"

static ob_arena A;
static ob_config CFG;
static ob_request R;
static ob_user U;

typedef struct {
    const char *data;
    size_t len, pos;
} body_io;
static body_io IO;

static long read_body(void *io, char *dst, size_t n)
{
    body_io *b = io;
    size_t left = b->len - b->pos;
    if (n > left)
        n = left;
    memcpy(dst, b->data + b->pos, n);
    b->pos += n;
    return (long)n;
}

static void setup(void)
{
    ob_arena_init(&A, 4096);
    ob_config_defaults(&CFG);
    ob_free(CFG.secret_key);
    CFG.secret_key = ob_strdup(SECRET);
    CFG.allowed_hosts.items = ob_calloc(1, sizeof(char *));
    CFG.allowed_hosts.items[0] = ob_strdup("example.org");
    CFG.allowed_hosts.count = 1;
    memset(&U, 0, sizeof U);
    U.id = 42;
    U.username = "alice";
    U.is_active = true;
}

static void teardown(void)
{
    ob_arena_destroy(&A);
    ob_config_free(&CFG);
}

/* Runs the handler on a JSON body, as `user` (NULL: anonymous); returns
 * the parsed answer (arena-owned). */
static cJSON *call(const char *json, ob_user *user)
{
    char cl[64];
    snprintf(cl, sizeof cl, "CONTENT_LENGTH=%zu", strlen(json));
    const char *vars[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/ws/ticket/",
                          "HTTP_HOST=example.org", "CONTENT_TYPE=application/json", cl, NULL};
    memset(&R, 0, sizeof R);
    ck_assert_int_eq(ob_request_init(&R, &A, &CFG, test_env(&A, vars)), 0);
    IO = (body_io){json, strlen(json), 0};
    R.io = &IO;
    R.read_body = read_body;
    R.user = user;
    ob_api_ws_ticket(&R);
    cJSON *j = cJSON_ParseWithLength(R.res.body.data, R.res.body.len);
    ck_assert_msg(j != NULL, "not JSON: %.*s", (int)R.res.body.len, R.res.body.data);
    return j;
}

/* {"channels": ["<msg>"]} with status 400. */
static void expect_field_error(const char *json, const char *msg)
{
    cJSON *j = call(json, &U);
    ck_assert_int_eq(R.res.status, 400);
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "channels");
    ck_assert_msg(cJSON_IsArray(l) && cJSON_GetArraySize(l) == 1, "for %s", json);
    ck_assert_str_eq(cJSON_GetArrayItem(l, 0)->valuestring, msg);
    ck_assert_int_eq(cJSON_GetArraySize(j), 1);
    cJSON_Delete(j);
}

START_TEST(test_validation)
{
    expect_field_error("{}", "This field is required.");
    expect_field_error("{\"channels\":null}", "This field may not be null.");
    expect_field_error("{\"channels\":\"user:42\"}", "Expected a list of items but got type \"str\".");
    expect_field_error("{\"channels\":{}}", "Expected a list of items but got type \"dict\".");
    expect_field_error("{\"channels\":1}", "Expected a list of items but got type \"int\".");
    expect_field_error("{\"channels\":1.5}", "Expected a list of items but got type \"float\".");
    expect_field_error("{\"channels\":true}", "Expected a list of items but got type \"bool\".");
    expect_field_error("{\"channels\":[]}", "This list may not be empty.");
    expect_field_error("{\"channels\":[true]}", "Not a valid string.");
    expect_field_error("{\"channels\":[[\"user:42\"]]}", "Not a valid string.");
    expect_field_error("{\"channels\":[null]}", "This field may not be null.");
    expect_field_error("{\"channels\":[\"user:42\", \"nope\"]}", "Unknown channel 'nope'.");
    expect_field_error("{\"channels\":[42]}", "Unknown channel '42'.");
    expect_field_error("{\"channels\":[\"course:3629D56B-E3AE-41C9-8438-0046E057A69B\"]}",
                       "Unknown channel 'course:3629D56B-E3AE-41C9-8438-0046E057A69B'.");
    /* 65 entries with the default limit of 64. */
    char big[2048] = "{\"channels\":[";
    for (int i = 0; i < 65; i++)
        strcat(big, i ? ",\"user:42\"" : "\"user:42\"");
    strcat(big, "]}");
    expect_field_error(big, "Ensure this field has no more than 64 elements.");
}
END_TEST

START_TEST(test_body_errors_come_first)
{
    cJSON *j = call("[1]", &U);
    ck_assert_int_eq(R.res.status, 400);
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(j, "non_field_errors"));
    cJSON_Delete(j);
    j = call("{\"channels\":", &U);
    ck_assert_int_eq(R.res.status, 400);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_user_channel)
{
    cJSON *j = call("{\"channels\":[\" user:42 \",\"user:43\",\"user:42\"]}",
                    &U);
    ck_assert_int_eq(R.res.status, 200);
    /* Trimmed, granted in order without duplicates; the rest denied. */
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "channels");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "denied");
    ck_assert_int_eq(cJSON_GetArraySize(g), 1);
    ck_assert_str_eq(cJSON_GetArrayItem(g, 0)->valuestring, "user:42");
    ck_assert_int_eq(cJSON_GetArraySize(d), 1);
    ck_assert_str_eq(cJSON_GetArrayItem(d, 0)->valuestring, "user:43");

    /* The ticket verifies with the relay's key and carries what was granted. */
    const char *tk = cJSON_GetObjectItemCaseSensitive(j, "ticket")->valuestring;
    ob_ticket_keys k;
    ck_assert_int_eq(ob_ticket_keys_from_config(&k, &CFG), 0);
    ob_ticket t;
    ck_assert_int_eq(ob_ticket_verify(&k, tk, strlen(tk), time(NULL), 64, &A, &t), OB_TICKET_OK);
    ck_assert(!t.anonymous);
    ck_assert_int_eq(t.uid, 42);
    ck_assert_uint_eq(t.nchannels, 1);
    ck_assert_str_eq(t.channels[0], "user:42");
    ck_assert_int_le(t.exp - time(NULL), CFG.relay_ticket_ttl);
    ck_assert_int_ge(t.exp - time(NULL), CFG.relay_ticket_ttl - 2);

    /* expires_at is the same instant, in ISO 8601 UTC. */
    char want[32];
    time_t e = (time_t)t.exp;
    struct tm tm;
    gmtime_r(&e, &tm);
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "expires_at")->valuestring, want);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_nothing_granted)
{
    /* Anonymous callers cannot have user channels. */
    cJSON *j = call("{\"channels\":[\"user:42\"]}", NULL);
    ck_assert_int_eq(R.res.status, 403);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "detail")->valuestring,
                     "You do not have permission to perform this action.");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_configured_ticket_secret)
{
    ob_free(CFG.relay_ticket_secret);
    CFG.relay_ticket_secret = ob_strdup("a-separate-ticket-secret-of-32-bytes-or-more");
    cJSON *j = call("{\"channels\":[\"user:42\"]}", &U);
    ck_assert_int_eq(R.res.status, 200);
    const char *tk = cJSON_GetObjectItemCaseSensitive(j, "ticket")->valuestring;
    ob_ticket_keys derived, configured;
    ck_assert_int_eq(ob_ticket_keys_init(&derived, "", "", SECRET), 0);
    ck_assert_int_eq(ob_ticket_keys_from_config(&configured, &CFG), 0);
    ob_ticket t;
    ck_assert_int_eq(ob_ticket_verify(&configured, tk, strlen(tk), time(NULL), 64, &A, &t),
                     OB_TICKET_OK);
    ck_assert_int_eq(ob_ticket_verify(&derived, tk, strlen(tk), time(NULL), 64, &A, &t),
                     OB_TICKET_BAD_SIGNATURE);
    cJSON_Delete(j);
    /* No key at all: refuse to sign rather than sign with a guessable one. */
    ob_free(CFG.relay_ticket_secret);
    CFG.relay_ticket_secret = ob_strdup("");
    ob_free(CFG.secret_key);
    CFG.secret_key = ob_strdup("");
    j = call("{\"channels\":[\"user:42\"]}", &U);
    ck_assert_int_eq(R.res.status, 503);
    cJSON_Delete(j);
}
END_TEST

Suite *ws_ticket_api_suite(void)
{
    Suite *s = suite_create("ws_ticket_api");
    TCase *tc = tcase_create("handler");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_validation);
    tcase_add_test(tc, test_body_errors_come_first);
    tcase_add_test(tc, test_user_channel);
    tcase_add_test(tc, test_nothing_granted);
    tcase_add_test(tc, test_configured_ticket_secret);
    suite_add_tcase(s, tc);
    return s;
}
