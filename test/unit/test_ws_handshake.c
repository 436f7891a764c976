/* test_ws_handshake.c - the RFC 6455 opening handshake parser, the accept
 * key, SHA-1, Origin hosts and query parameters (src/http/ws_handshake.c). */
#include <stdio.h>
#include <string.h>
#include "openbook/http/ws_handshake.h"
#include "tests.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

static const char good[] = "GET /ws/events?ticket=abc.def&x=1 HTTP/1.1\r\n"
                           "Host: books.example.org\r\n"
                           "Upgrade: websocket\r\n"
                           "Connection: keep-alive, Upgrade\r\n"
                           "Sec-WebSocket-Key: " KEY "\r\n"
                           "Sec-WebSocket-Version: 13\r\n"
                           "Origin: https://books.example.org\r\n"
                           "Sec-WebSocket-Protocol: chat, openbook.v1\r\n"
                           "X-Forwarded-For: 192.0.2.7\r\n"
                           "\r\n";

static ob_ws_hs_result parse(const char *s, ob_ws_handshake *hs)
{
    return ob_ws_handshake_parse(s, strlen(s), OB_WS_MAX_HEAD, hs);
}

static bool span_is(ob_ws_span sp, const char *want)
{
    return sp.p && sp.len == strlen(want) && memcmp(sp.p, want, sp.len) == 0;
}

/* The good request with one header line replaced (or removed: with = ""). */
static const char *variant(char *buf, size_t cap, const char *line, const char *with)
{
    const char *at = strstr(good, line);
    ck_assert_ptr_nonnull(at);
    const char *end = strstr(at, "\r\n") + 2;
    snprintf(buf, cap, "%.*s%s%s", (int)(at - good), good, with, end);
    return buf;
}

START_TEST(test_good_request)
{
    ob_ws_handshake hs;
    ck_assert_int_eq(parse(good, &hs), OB_WS_HS_OK);
    ck_assert_uint_eq(hs.head_len, strlen(good));
    ck_assert(span_is(hs.path, "/ws/events"));
    ck_assert(span_is(hs.query, "ticket=abc.def&x=1"));
    ck_assert(span_is(hs.host, "books.example.org"));
    ck_assert(span_is(hs.origin, "https://books.example.org"));
    ck_assert(span_is(hs.key, KEY));
    ck_assert(span_is(hs.forwarded_for, "192.0.2.7"));
    ck_assert(hs.subprotocol_offered);
}
END_TEST

START_TEST(test_minimal_and_case)
{
    const char *req = "GET /ws/events HTTP/1.1\r\n"
                      "host: x\r\n"
                      "UPGRADE: WebSocket\r\n"
                      "connection: UPGRADE\r\n"
                      "sec-websocket-key:   " KEY "  \r\n"
                      "SEC-WEBSOCKET-VERSION: 13\r\n"
                      "\r\n";
    ob_ws_handshake hs;
    ck_assert_int_eq(parse(req, &hs), OB_WS_HS_OK);
    ck_assert(span_is(hs.key, KEY));
    ck_assert_ptr_null(hs.origin.p);
    ck_assert_uint_eq(hs.query.len, 0);
    ck_assert(!hs.subprotocol_offered);
}
END_TEST

START_TEST(test_incomplete_and_too_large)
{
    ob_ws_handshake hs;
    size_t n = strlen(good);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(ob_ws_handshake_parse(good, i, OB_WS_MAX_HEAD, &hs) == OB_WS_HS_INCOMPLETE,
                      "prefix of %zu bytes", i);
    /* Bytes after the head (an early frame) are left for the caller. */
    char more[1024];
    snprintf(more, sizeof more, "%s\x81\x85", good);
    ck_assert_int_eq(parse(more, &hs), OB_WS_HS_OK);
    ck_assert_uint_eq(hs.head_len, n);
    /* A head that does not end within the limit. */
    static char big[OB_WS_MAX_HEAD + 100];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    ck_assert_int_eq(ob_ws_handshake_parse(big, sizeof big, OB_WS_MAX_HEAD, &hs),
                     OB_WS_HS_TOO_LARGE);
    ck_assert_int_eq(ob_ws_handshake_parse(good, n, 64, &hs), OB_WS_HS_TOO_LARGE);
    /* Not even a GET: no need to wait for the rest. */
    ck_assert_int_eq(ob_ws_handshake_parse("POST /ws/ev", 11, OB_WS_MAX_HEAD, &hs), OB_WS_HS_BAD);
}
END_TEST

START_TEST(test_bad_requests)
{
    char buf[2048];
    ob_ws_handshake hs;
    struct {
        const char *line, *with;
    } cases[] = {
        {"GET /ws/events", "POST /ws/events?ticket=abc.def&x=1 HTTP/1.1\r\n"},
        {"GET /ws/events", "GET /ws/events?ticket=abc.def&x=1 HTTP/1.0\r\n"},
        {"GET /ws/events", "GET http://x/ws/events HTTP/1.1\r\n"},
        {"GET /ws/events", "GET /ws/events HTTP/1.1 extra\r\n"},
        {"GET /ws/events", "GET /ws/ev ents HTTP/1.1\r\n"},
        {"GET /ws/events", "GET /ws/events#frag HTTP/1.1\r\n"},
        {"Host:", ""},
        {"Host:", "Host:\r\n"},
        {"Host:", "Host: a\r\nHost: b\r\n"},
        {"Upgrade:", ""},
        {"Upgrade:", "Upgrade: h2c\r\n"},
        {"Connection:", ""},
        {"Connection:", "Connection: keep-alive\r\n"},
        {"Sec-WebSocket-Key:", ""},
        {"Sec-WebSocket-Key:", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n"},
        {"Sec-WebSocket-Key:", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n"},
        {"Sec-WebSocket-Key:", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: " KEY "\r\n"},
        {"Sec-WebSocket-Key:", "Sec-WebSocket-Key: !GhlIHNhbXBsZSBub25jZQ==\r\n"},
        {"Sec-WebSocket-Version:", ""},
        {"Origin:", "Origin: https://a\r\nOrigin: https://b\r\n"},
        {"X-Forwarded-For:", " folded: line\r\n"},
        {"X-Forwarded-For:", "Bad Name: x\r\n"},
        {"X-Forwarded-For:", ": x\r\n"},
        {"X-Forwarded-For:", "NoColon\r\n"},
        {"X-Forwarded-For:", "X: a\x01b\r\n"},
        {"X-Forwarded-For:", "X: a\rb\r\n"},
        {"X-Forwarded-For:", "Content-Length: 5\r\n"},
        {"X-Forwarded-For:", "Transfer-Encoding: chunked\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *req = variant(buf, sizeof buf, cases[i].line, cases[i].with);
        ck_assert_msg(parse(req, &hs) == OB_WS_HS_BAD, "case %zu accepted:\n%s", i, req);
    }
    /* Allowed: Content-Length 0, an unknown header. */
    ck_assert_int_eq(parse(variant(buf, sizeof buf, "X-Forwarded-For:", "Content-Length: 0\r\n"), &hs),
                     OB_WS_HS_OK);
    /* Bare LF line ends are not HTTP/1.1. */
    const char *lf = "GET / HTTP/1.1\nHost: x\n\n";
    ck_assert_int_ne(parse(lf, &hs), OB_WS_HS_OK);
}
END_TEST

START_TEST(test_version)
{
    char buf[2048];
    ob_ws_handshake hs;
    static const char *const bad[] = {"Sec-WebSocket-Version: 8\r\n", "Sec-WebSocket-Version: 13, 8\r\n",
                                      "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Version: 13\r\n",
                                      "Sec-WebSocket-Version: 130\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_int_eq(parse(variant(buf, sizeof buf, "Sec-WebSocket-Version:", bad[i]), &hs),
                         OB_WS_HS_BAD_VERSION);
    /* The path survives a refusal, so the caller can still answer 404. */
    ck_assert(span_is(hs.path, "/ws/events"));
}
END_TEST

START_TEST(test_subprotocol)
{
    char buf[2048];
    ob_ws_handshake hs;
    const char *p1 = variant(buf, sizeof buf, "Sec-WebSocket-Protocol:", "Sec-WebSocket-Protocol: chat\r\n");
    ck_assert_int_eq(parse(p1, &hs), OB_WS_HS_OK);
    ck_assert(!hs.subprotocol_offered);
    const char *p2 = variant(buf, sizeof buf, "Sec-WebSocket-Protocol:",
                             "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: openbook.v1\r\n");
    ck_assert_int_eq(parse(p2, &hs), OB_WS_HS_OK);
    ck_assert(hs.subprotocol_offered);
    /* Subprotocols are case-sensitive. */
    const char *p3 = variant(buf, sizeof buf, "Sec-WebSocket-Protocol:", "Sec-WebSocket-Protocol: OpenBook.v1\r\n");
    ck_assert_int_eq(parse(p3, &hs), OB_WS_HS_OK);
    ck_assert(!hs.subprotocol_offered);
}
END_TEST

START_TEST(test_accept_key_and_sha1)
{
    char out[29];
    ob_ws_accept_key(KEY, strlen(KEY), out);
    ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 §1.3 */
    struct {
        const char *in;
        size_t n;
        const char *hex;
    } v[] = {
        {"abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {NULL, 55, "cef734ba81a024479e09eb5a75b6ddae62e6abf1"},
        {NULL, 56, "901305367c259952f4e7af8323f480d59f81335b"},
        {NULL, 64, "bb2fa3ee7afb9f54c6dfb5d021f14b1ffe40c163"},
    };
    static char xs[64];
    memset(xs, 'x', sizeof xs);
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        unsigned char d[20];
        ob_sha1(v[i].in ? v[i].in : xs, v[i].n, d);
        char hex[41];
        for (int k = 0; k < 20; k++)
            snprintf(hex + 2 * k, 3, "%02x", d[k]);
        ck_assert_str_eq(hex, v[i].hex);
    }
    static char as[1000];
    memset(as, 'a', sizeof as);
    unsigned char d[20];
    ob_sha1(as, sizeof as, d);
    ck_assert_int_eq(d[0], 0x29);
    ck_assert_int_eq(d[19], 0xba);
}
END_TEST

START_TEST(test_origin_host)
{
    char h[64];
    struct {
        const char *origin, *host;
    } ok[] = {
        {"https://books.example.org", "books.example.org"},
        {"http://127.0.0.1:8080", "127.0.0.1"},
        {"HTTP://LocalHost:80", "localhost"},
        {"https://[::1]:8443", "::1"},
        {"chrome-extension://abcdef", "abcdef"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        ck_assert_msg(ob_ws_origin_host(ok[i].origin, strlen(ok[i].origin), h, sizeof h), "%s",
                      ok[i].origin);
        ck_assert_str_eq(h, ok[i].host);
    }
    static const char *const bad[] = {
        "null", "", "books.example.org", "://x", "https://", "https://a/b", "https://a:b",
        "https://a:", "https://u@a", "https://a?x", "https://[::1", "https://a:1234567",
        "1http://a", "https://a b",
        "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ob_ws_origin_host(bad[i], strlen(bad[i]), h, sizeof h), "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_query_param)
{
    const char *q = "a=1&ticket=abc.def&ticket=second&tickets=x";
    const char *v;
    size_t n;
    ck_assert(ob_ws_query_param(q, strlen(q), "ticket", &v, &n));
    ck_assert_uint_eq(n, 7);
    ck_assert(memcmp(v, "abc.def", 7) == 0);
    ck_assert(ob_ws_query_param(q, strlen(q), "a", &v, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert(!ob_ws_query_param(q, strlen(q), "b", &v, &n));
    ck_assert(!ob_ws_query_param("ticket", 6, "ticket", &v, &n));
    ck_assert(!ob_ws_query_param("", 0, "ticket", &v, &n));
    ck_assert_ptr_null(v);
}
END_TEST

/* Parses `text` (which must be an address) and returns its key. */
static uint64_t key_of(const char *text)
{
    unsigned char a[16];
    ck_assert_msg(ob_ws_parse_addr(text, strlen(text), a), "refused %s", text);
    return ob_ws_addr_key(a);
}

START_TEST(test_parse_addr)
{
    unsigned char a[16];
    static const unsigned char v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
    ck_assert(ob_ws_parse_addr("192.0.2.7", 9, a));
    ck_assert_mem_eq(a, v4, 16);
    /* The mapped spelling is the same address. */
    ck_assert(ob_ws_parse_addr("::ffff:192.0.2.7", 16, a));
    ck_assert_mem_eq(a, v4, 16);
    /* len bounds the text: no terminator needed. */
    ck_assert(ob_ws_parse_addr("192.0.2.7, 10.0.0.1", 9, a));
    ck_assert_mem_eq(a, v4, 16);
    static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                         0, 0, 0, 0, 0, 0, 0, 1};
    ck_assert(ob_ws_parse_addr("2001:DB8::1", 11, a));
    ck_assert_mem_eq(a, v6, 16);
    static const char *const bad[] = {
        "", "unknown", "192.0.2.7:80", "[2001:db8::1]", "[2001:db8::1]:443", "2001:db8::1%eth0",
        "192.0.2", "192.0.2.256", " 192.0.2.7", "192.0.2.7 ", "0x7f.0.0.1", "_hidden",
        "1:2:3:4:5:6:7:8:9", "2001:db8:0:0:0:0:0:0:0:1:2:3:4:5:6:7:8:9:10:11:12",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ob_ws_parse_addr(bad[i], strlen(bad[i]), a), "accepted \"%s\"", bad[i]);
    ck_assert(!ob_ws_parse_addr("192.0.2.7\0", 10, a));
}
END_TEST

START_TEST(test_forwarded_addr)
{
    unsigned char a[16], want[16];
    ck_assert(ob_ws_parse_addr("203.0.113.5", 11, want));
    /* The last entry is the front server's; what came before is the
     * client's to choose. */
    static const char *const same[] = {
        "203.0.113.5", " 203.0.113.5 ", "10.0.0.1, 203.0.113.5", "unknown,203.0.113.5",
        "2001:db8::1 ,\t203.0.113.5",
    };
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        ck_assert_msg(ob_ws_forwarded_addr(same[i], strlen(same[i]), a), "refused \"%s\"", same[i]);
        ck_assert_mem_eq(a, want, 16);
    }
    ck_assert(ob_ws_forwarded_addr("192.0.2.1, 2001:db8::1", 22, a));
    ck_assert(ob_ws_parse_addr("2001:db8::1", 11, want));
    ck_assert_mem_eq(a, want, 16);
    static const char *const bad[] = {
        "", " ", ",", "203.0.113.5,", "203.0.113.5, unknown", "203.0.113.5:4711",
        "for=203.0.113.5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ob_ws_forwarded_addr(bad[i], strlen(bad[i]), a), "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_addr_key)
{
    /* IPv4: one key per address, the top 32 bits set. */
    ck_assert_uint_eq(key_of("192.0.2.7"), 0xffffffffc0000207ull);
    ck_assert_uint_ne(key_of("192.0.2.7"), key_of("192.0.2.8"));
    ck_assert_uint_eq(key_of("::ffff:192.0.2.7"), key_of("192.0.2.7"));
    /* IPv6: one key per /64. */
    ck_assert_uint_eq(key_of("2001:db8:1:2::1"), 0x20010db800010002ull);
    ck_assert_uint_eq(key_of("2001:db8:1:2:ffff:ffff:ffff:ffff"), key_of("2001:db8:1:2::1"));
    ck_assert_uint_ne(key_of("2001:db8:1:3::1"), key_of("2001:db8:1:2::1"));
    ck_assert_uint_ne(key_of("::ffff:0:0"), key_of("::1"));
    /* Loopback and unspecified IPv6 share the key of a unix socket peer. */
    ck_assert_uint_eq(key_of("::1"), 0);
    ck_assert_uint_eq(key_of("::"), 0);
}
END_TEST

Suite *ws_handshake_suite(void)
{
    Suite *s = suite_create("ws_handshake");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_good_request);
    tcase_add_test(tc, test_minimal_and_case);
    tcase_add_test(tc, test_incomplete_and_too_large);
    tcase_add_test(tc, test_bad_requests);
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_subprotocol);
    tcase_add_test(tc, test_accept_key_and_sha1);
    tcase_add_test(tc, test_origin_host);
    tcase_add_test(tc, test_query_param);
    tcase_add_test(tc, test_parse_addr);
    tcase_add_test(tc, test_forwarded_addr);
    tcase_add_test(tc, test_addr_key);
    suite_add_tcase(s, tc);
    return s;
}
