/* test_ticket.c - WebSocket tickets, channel names and event ids
 * (src/core/ticket.c).  The fixed tickets below were made by an
 * independent implementation (Python hmac/base64), so these tests pin the
 * wire format, not just sign/verify agreeing with each other. */
#include <string.h>
#include <sodium.h>
#include "openbook/core/config.h"
#include "openbook/core/ticket.h"
#include "tests.h"

#define SECRET_KEY "unit-test-secret-key-0123456789-abcdef"
#define TICKET_SECRET "a-configured-ticket-secret-of-32-bytes-or-more"
#define T0 1900000000 /* "now" for verification; the fixed tickets expire at 2e9 */

/* uid 42, ["user:42","library:updates"], exp 2e9, key derived from SECRET_KEY */
static const char fixed_user[] =
    "eyJ2IjoxLCJ1aWQiOjQyLCJjaCI6WyJ1c2VyOjQyIiwibGlicmFyeTp1cGRhdGVzIl0sImV4cCI6MjAwMDAwMDAwMC"
    "wianRpIjoiMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYifQ."
    "UJ4XzIXhnMWVWSeMaGum_HVVSYME4cFVJadalskHQkE";
/* anonymous, ["library:updates"], exp 2e9, key TICKET_SECRET */
static const char fixed_anon[] =
    "eyJ2IjoxLCJ1aWQiOm51bGwsImNoIjpbImxpYnJhcnk6dXBkYXRlcyJdLCJleHAiOjIwMDAwMDAwMDAsImp0aSI6ImZm"
    "ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmIn0."
    "CE4gyGWUkOi5elSt-6DzjjZgr1N2XJFNJl2PLLtJiCk";

static ob_arena A;
static ob_ticket_keys K;

static void setup(void)
{
    ob_arena_init(&A, 4096);
    ck_assert_int_eq(ob_ticket_keys_init(&K, "", "", SECRET_KEY), 0);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

/* A ticket around an arbitrary payload, signed with K as the format says
 * (what a buggy or hostile signer holding the key could produce). */
static const char *sign_raw(const char *payload)
{
    size_t n = strlen(payload);
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *p64 = ob_arena_alloc(&A, cap);
    sodium_bin2base64(p64, cap, (const unsigned char *)payload, n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    unsigned char mac[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, K.current.bytes, K.current.len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)p64, strlen(p64));
    crypto_auth_hmacsha256_final(&st, mac);
    char s64[64];
    sodium_bin2base64(s64, sizeof s64, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return ob_arena_printf(&A, "%s.%s", p64, s64);
}

static ob_ticket_status verify(const ob_ticket_keys *k, const char *s, ob_ticket *t)
{
    return ob_ticket_verify(k, s, strlen(s), T0, 64, &A, t);
}

START_TEST(test_derived_key_matches_reference)
{
    static const unsigned char want[32] = {
        0x0a, 0xdc, 0x62, 0xb1, 0x64, 0x44, 0x7f, 0x20, 0xc6, 0x96, 0x33, 0x14, 0x80, 0x44, 0xef, 0x8e,
        0xb4, 0xd4, 0xf1, 0x98, 0x63, 0xc4, 0xb0, 0xf4, 0xd5, 0x67, 0x12, 0x8f, 0xd0, 0xa9, 0xd6, 0x7a};
    ck_assert_uint_eq(K.current.len, 32);
    ck_assert_mem_eq(K.current.bytes, want, 32);
    ck_assert(!K.has_previous);
}
END_TEST

START_TEST(test_verify_reference_tickets)
{
    ob_ticket t;
    ck_assert_int_eq(verify(&K, fixed_user, &t), OB_TICKET_OK);
    ck_assert(!t.anonymous);
    ck_assert_int_eq(t.uid, 42);
    ck_assert_int_eq(t.exp, 2000000000);
    ck_assert_str_eq(t.jti, "0123456789abcdef0123456789abcdef");
    ck_assert_uint_eq(t.nchannels, 2);
    ck_assert_str_eq(t.channels[0], "user:42");
    ck_assert_str_eq(t.channels[1], "library:updates");

    ob_ticket_keys k2;
    ck_assert_int_eq(ob_ticket_keys_init(&k2, TICKET_SECRET, "", SECRET_KEY), 0);
    ck_assert_int_eq(verify(&k2, fixed_anon, &t), OB_TICKET_OK);
    ck_assert(t.anonymous);
    ck_assert_uint_eq(t.nchannels, 1);
    /* Each key only verifies its own tickets. */
    ck_assert_int_eq(verify(&k2, fixed_user, &t), OB_TICKET_BAD_SIGNATURE);
    ck_assert_int_eq(verify(&K, fixed_anon, &t), OB_TICKET_BAD_SIGNATURE);
    ck_assert_ptr_null(t.channels);
}
END_TEST

START_TEST(test_sign_matches_reference)
{
    const char *ch[] = {"user:42", "library:updates"};
    ob_ticket t = {.uid = 42, .exp = 2000000000, .channels = ch, .nchannels = 2};
    strcpy(t.jti, "0123456789abcdef0123456789abcdef");
    ck_assert_str_eq(ob_ticket_sign(&K, &A, &t), fixed_user);
}
END_TEST

START_TEST(test_roundtrip_and_fresh_jti)
{
    const char *ch[] = {"course:3629d56b-e3ae-41c9-8438-0046e057a69b"};
    ob_ticket t = {.anonymous = true, .exp = T0 + 60, .channels = ch, .nchannels = 1};
    char *s = ob_ticket_sign(&K, &A, &t);
    ck_assert_uint_eq(strlen(t.jti), OB_TICKET_JTI_LEN);
    ob_ticket got;
    ck_assert_int_eq(verify(&K, s, &got), OB_TICKET_OK);
    ck_assert(got.anonymous);
    ck_assert_str_eq(got.jti, t.jti);
    ck_assert_str_eq(got.channels[0], ch[0]);
    /* A second ticket gets another jti. */
    ob_ticket t2 = {.anonymous = true, .exp = T0 + 60, .channels = ch, .nchannels = 1};
    ob_ticket_sign(&K, &A, &t2);
    ck_assert_str_ne(t.jti, t2.jti);
}
END_TEST

START_TEST(test_expiry)
{
    const char *ch[] = {"library:updates"};
    ob_ticket t = {.anonymous = true, .exp = T0, .channels = ch, .nchannels = 1};
    char *s = ob_ticket_sign(&K, &A, &t);
    ob_ticket got;
    ck_assert_int_eq(ob_ticket_verify(&K, s, strlen(s), T0, 64, &A, &got), OB_TICKET_EXPIRED);
    ck_assert_int_eq(ob_ticket_verify(&K, s, strlen(s), T0 - 1, 64, &A, &got), OB_TICKET_OK);
}
END_TEST

START_TEST(test_previous_key_rotation)
{
    ob_ticket_keys old, rotated;
    ck_assert_int_eq(ob_ticket_keys_init(&old, TICKET_SECRET, "", ""), 0);
    ck_assert_int_eq(ob_ticket_keys_init(&rotated, "the-new-secret-after-rotation-0123456789",
                                         TICKET_SECRET, ""),
                     0);
    ck_assert(rotated.has_previous);
    ob_ticket t;
    ck_assert_int_eq(verify(&rotated, fixed_anon, &t), OB_TICKET_OK);
    /* New tickets are signed with the new key only. */
    const char *ch[] = {"library:updates"};
    ob_ticket n = {.anonymous = true, .exp = T0 + 5, .channels = ch, .nchannels = 1};
    char *s = ob_ticket_sign(&rotated, &A, &n);
    ck_assert_int_eq(verify(&rotated, s, &t), OB_TICKET_OK);
    ck_assert_int_eq(verify(&old, s, &t), OB_TICKET_BAD_SIGNATURE);
}
END_TEST

START_TEST(test_keys_need_a_secret)
{
    ob_ticket_keys k;
    ck_assert_int_eq(ob_ticket_keys_init(&k, "", "", ""), -1);
    ck_assert_int_eq(ob_ticket_keys_init(&k, NULL, NULL, NULL), -1);
    /* A long configured secret behaves like HMAC's own key hashing. */
    char longkey[200];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    ck_assert_int_eq(ob_ticket_keys_init(&k, longkey, "", ""), 0);
    ck_assert_uint_eq(k.current.len, 32);
    ob_config cfg;
    ob_config_defaults(&cfg);
    ck_assert_int_eq(ob_ticket_keys_from_config(&k, &cfg), -1);
    ob_config_free(&cfg);
}
END_TEST

START_TEST(test_tampering)
{
    ob_ticket t;
    char s[sizeof fixed_user];
    /* Flip one character of the payload, then of the signature. */
    memcpy(s, fixed_user, sizeof s);
    s[10] = s[10] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(verify(&K, s, &t), OB_TICKET_BAD_SIGNATURE);
    memcpy(s, fixed_user, sizeof s);
    s[sizeof s - 5] = s[sizeof s - 5] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(verify(&K, s, &t), OB_TICKET_BAD_SIGNATURE);
    /* Shapes that are not tickets at all. */
    static const char *const bad[] = {
        "", ".", "abc", "abc.", ".abc", "a.b.c",
        "eyJ2IjoxfQ.UJ4XzIXhnMWVWSeMaGum_HVVSYME4cFVJadalskHQkE=",  /* padding */
        "eyJ2IjoxfQ.UJ4XzIXhnMWVWSeMaGum_HVVSYME4cFVJadalskHQk",    /* 42 chars */
        "eyJ2Ijox+Q.UJ4XzIXhnMWVWSeMaGum_HVVSYME4cFVJadalskHQkE",   /* not base64url */
        "eyJ2IjoxfQ.UJ4XzIXhnMWVWSeMaGum_HVVSYME4cFVJadalskHQkF",   /* non-canonical tail */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(verify(&K, bad[i], &t) == OB_TICKET_MALFORMED, "accepted \"%s\"", bad[i]);
    /* Embedded NUL: the length counts, not the terminator. */
    ck_assert_int_eq(ob_ticket_verify(&K, fixed_user, 5, T0, 64, &A, &t), OB_TICKET_MALFORMED);
}
END_TEST

START_TEST(test_payload_rules)
{
    /* Correctly signed payloads that are still refused. */
    static const char *const bad[] = {
        "{\"v\":2,\"uid\":1,\"ch\":[\"user:1\"],\"exp\":2000000000,\"jti\":\"0123456789abcdef0123456789abcdef\"}",
        "{\"v\":1,\"uid\":0,\"ch\":[\"user:1\"],\"exp\":2000000000,\"jti\":\"0123456789abcdef0123456789abcdef\"}",
        "{\"v\":1,\"uid\":1.5,\"ch\":[\"user:1\"],\"exp\":2000000000,\"jti\":\"0123456789abcdef0123456789abcdef\"}",
        "{\"v\":1,\"uid\":\"1\",\"ch\":[\"user:1\"],\"exp\":2000000000,\"jti\":\"0123456789abcdef0123456789abcdef\"}",
        "{\"v\":1,\"uid\":1,\"ch\":[],\"exp\":2000000000,\"jti\":\"0123456789abcdef0123456789abcdef\"}",
        "{\"v\":1,\"uid\":1,\"ch\":[\"user:01\"],\"exp\":2000000000,\"jti\":\"0123456789abcdef0123456789abcdef\"}",
        "{\"v\":1,\"uid\":1,\"ch\":[1],\"exp\":2000000000,\"jti\":\"0123456789abcdef0123456789abcdef\"}",
        "{\"v\":1,\"uid\":1,\"ch\":\"user:1\",\"exp\":2000000000,\"jti\":\"0123456789abcdef0123456789abcdef\"}",
        "{\"v\":1,\"uid\":1,\"ch\":[\"user:1\"],\"exp\":\"2000000000\",\"jti\":\"0123456789abcdef0123456789abcdef\"}",
        "{\"v\":1,\"uid\":1,\"ch\":[\"user:1\"],\"exp\":2000000000,\"jti\":\"0123456789ABCDEF0123456789abcdef\"}",
        "{\"v\":1,\"uid\":1,\"ch\":[\"user:1\"],\"exp\":2000000000,\"jti\":\"0123\"}",
        "{\"v\":1,\"uid\":1,\"ch\":[\"user:1\"],\"exp\":2000000000}",
        "[1]", "null", "{\"v\":1", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ob_ticket t;
        ck_assert_msg(verify(&K, sign_raw(bad[i]), &t) == OB_TICKET_MALFORMED,
                      "accepted payload %s", bad[i]);
    }
}
END_TEST

START_TEST(test_max_channels)
{
    const char *ch[] = {"user:1", "library:updates", "textbook:3629d56b-e3ae-41c9-8438-0046e057a69b"};
    ob_ticket t = {.uid = 1, .exp = T0 + 60, .channels = ch, .nchannels = 3};
    char *s = ob_ticket_sign(&K, &A, &t);
    ob_ticket got;
    ck_assert_int_eq(ob_ticket_verify(&K, s, strlen(s), T0, 3, &A, &got), OB_TICKET_OK);
    ck_assert_int_eq(ob_ticket_verify(&K, s, strlen(s), T0, 2, &A, &got), OB_TICKET_MALFORMED);
}
END_TEST

START_TEST(test_channel_names)
{
    static const char *const good[] = {
        "user:1", "user:42", "user:9223372036854775807", "library:updates",
        "course:3629d56b-e3ae-41c9-8438-0046e057a69b",
        "textbook:00000000-0000-0000-0000-000000000000",
    };
    static const char *const bad[] = {
        "", "user:", "user:0", "user:01", "user:-1", "user:1a", "user: 1",
        "user:9223372036854775808", "user:99999999999999999999", "library:update",
        "library:updates ", "Library:updates", "course:3629D56B-E3AE-41C9-8438-0046E057A69B",
        "course:3629d56be3ae41c984380046e057a69b", "course:3629d56b-e3ae-41c9-8438-0046e057a69",
        "textbook:3629d56b-e3ae-41c9-8438-0046e057a69bb", "page:3629d56b-e3ae-41c9-8438-0046e057a69b",
        "control", "openbook:control",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(ob_ws_channel_valid(good[i], strlen(good[i])), "refused %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ob_ws_channel_valid(bad[i], strlen(bad[i])), "accepted \"%s\"", bad[i]);
    /* The length given counts, not a terminator. */
    ck_assert(ob_ws_channel_valid("user:12345", 6));
    ck_assert(!ob_ws_channel_valid("library:updates", 14));
}
END_TEST

START_TEST(test_event_ids)
{
    ob_event_id a, b;
    ck_assert(ob_event_id_parse("1700000000000-0", 15, &a));
    ck_assert(ob_event_id_parse("1700000000000-12", 16, &b));
    ck_assert_int_lt(ob_event_id_cmp(a, b), 0);
    ck_assert_int_gt(ob_event_id_cmp(b, a), 0);
    ck_assert_int_eq(ob_event_id_cmp(a, a), 0);
    ck_assert(ob_event_id_parse("0-0", 3, &a));
    ck_assert(a.ms == 0 && a.seq == 0);
    ck_assert(ob_event_id_parse("18446744073709551615-18446744073709551615", 41, &a));
    char out[48];
    ob_event_id_format(a, out);
    ck_assert_str_eq(out, "18446744073709551615-18446744073709551615");
    ob_event_id_format(b, out);
    ck_assert_str_eq(out, "1700000000000-12");
    static const char *const bad[] = {"", "-", "1-", "-1", "1", "a-1", "1-a", "1--1", "1-1-1",
                                      "+1-1", " 1-1", "18446744073709551616-0", "1.0-0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ob_event_id_parse(bad[i], strlen(bad[i]), &a), "accepted \"%s\"", bad[i]);
}
END_TEST

Suite *ticket_suite(void)
{
    Suite *s = suite_create("ticket");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_derived_key_matches_reference);
    tcase_add_test(tc, test_verify_reference_tickets);
    tcase_add_test(tc, test_sign_matches_reference);
    tcase_add_test(tc, test_roundtrip_and_fresh_jti);
    tcase_add_test(tc, test_expiry);
    tcase_add_test(tc, test_previous_key_rotation);
    tcase_add_test(tc, test_keys_need_a_secret);
    tcase_add_test(tc, test_tampering);
    tcase_add_test(tc, test_payload_rules);
    tcase_add_test(tc, test_max_channels);
    tcase_add_test(tc, test_channel_names);
    tcase_add_test(tc, test_event_ids);
    suite_add_tcase(s, tc);
    return s;
}
