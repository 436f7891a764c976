/* fuzz_ws_handshake.c - the WebSocket opening-handshake parser and its
 * helpers (src/http/ws_handshake.c).
 *
 * Input: bytes as a client would send them.  Invariants: on OK the head
 * ends at head_len with a blank line, every span lies inside the head,
 * the path starts with '/', the key is a 24-character base64 key and its
 * accept value has the right shape; parsing just the head gives the same
 * answer; INCOMPLETE means no blank line within the limit.  The Origin,
 * query and client address helpers run on whatever the parser found and on
 * the raw input. */
#include <string.h>
#include "openbook/http/ws_handshake.h"
#include "fuzz_common.h"

static void span_inside(ob_ws_span s, const char *buf, size_t head_len, const char *what)
{
    if (!s.p)
        return;
    FUZZ_CHECK(s.p >= buf && s.p + s.len <= buf + head_len, "%s outside the head", what);
}

static void check_origin(const char *o, size_t len)
{
    char host[64];
    if (!ob_ws_origin_host(o, len, host, sizeof host))
        return;
    size_t hl = strlen(host);
    FUZZ_CHECK(hl > 0 && hl < sizeof host, "empty or unterminated host");
    for (size_t i = 0; i < hl; i++) {
        unsigned char c = (unsigned char)host[i];
        FUZZ_CHECK(c > 0x20 && c < 0x7f && !(c >= 'A' && c <= 'Z') && c != '/' && c != '@',
                   "bad byte %02x in host", c);
    }
}

/* An X-Forwarded-For value: when it yields an address, that is what its
 * last entry parses to on its own. */
static void check_forwarded(const char *v, size_t len)
{
    unsigned char a[16], b[16];
    if (!ob_ws_forwarded_addr(v, len, a))
        return;
    const char *comma = memrchr(v, ',', len);
    const char *e = comma ? comma + 1 : v;
    size_t el = len - (size_t)(e - v);
    while (el && (*e == ' ' || *e == '\t'))
        e++, el--;
    while (el && (e[el - 1] == ' ' || e[el - 1] == '\t'))
        el--;
    FUZZ_CHECK(ob_ws_parse_addr(e, el, b) && memcmp(a, b, 16) == 0, "last entry parses apart");
    (void)ob_ws_addr_key(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    ob_ws_handshake hs;
    ob_ws_hs_result r = ob_ws_handshake_parse(buf, size, OB_WS_MAX_HEAD, &hs);
    FUZZ_CHECK(r == OB_WS_HS_OK || r == OB_WS_HS_INCOMPLETE || r == OB_WS_HS_BAD ||
                   r == OB_WS_HS_BAD_VERSION || r == OB_WS_HS_TOO_LARGE,
               "unknown result %d", (int)r);
    if (r == OB_WS_HS_INCOMPLETE) {
        FUZZ_CHECK(size < OB_WS_MAX_HEAD, "incomplete past the limit");
        FUZZ_CHECK(!memmem(buf, size, "\r\n\r\n", 4), "blank line present but incomplete");
    }
    if (r == OB_WS_HS_TOO_LARGE)
        FUZZ_CHECK(size >= OB_WS_MAX_HEAD, "too large below the limit");
    check_origin(buf, size);
    check_forwarded(buf, size);
    const char *v;
    size_t vl;
    if (ob_ws_query_param(buf, size, "ticket", &v, &vl))
        FUZZ_CHECK(v >= buf && v + vl <= buf + size, "query value outside the input");
    if (r != OB_WS_HS_OK)
        return 0;

    FUZZ_CHECK(hs.head_len >= 4 && hs.head_len <= size && hs.head_len <= OB_WS_MAX_HEAD,
               "head_len %zu of %zu", hs.head_len, size);
    FUZZ_CHECK(memcmp(buf + hs.head_len - 4, "\r\n\r\n", 4) == 0, "head does not end in CRLFCRLF");
    FUZZ_CHECK(memmem(buf, hs.head_len - 2, "\r\n\r\n", 4) == NULL, "blank line inside the head");
    span_inside(hs.path, buf, hs.head_len, "path");
    span_inside(hs.query, buf, hs.head_len, "query");
    span_inside(hs.host, buf, hs.head_len, "host");
    span_inside(hs.origin, buf, hs.head_len, "origin");
    span_inside(hs.key, buf, hs.head_len, "key");
    span_inside(hs.forwarded_for, buf, hs.head_len, "x-forwarded-for");
    FUZZ_CHECK(hs.path.p && hs.path.len >= 1 && hs.path.p[0] == '/', "path not absolute");
    FUZZ_CHECK(!memchr(hs.path.p, '?', hs.path.len), "query left in the path");
    FUZZ_CHECK(hs.host.p && hs.host.len > 0, "no host");
    FUZZ_CHECK(hs.key.p && hs.key.len == 24 && hs.key.p[22] == '=' && hs.key.p[23] == '=',
               "bad key accepted");
    char accept[29];
    ob_ws_accept_key(hs.key.p, hs.key.len, accept);
    FUZZ_CHECK(strlen(accept) == 28 && accept[27] == '=', "accept key shape");
    if (hs.origin.p)
        check_origin(hs.origin.p, hs.origin.len);
    if (hs.forwarded_for.p)
        check_forwarded(hs.forwarded_for.p, hs.forwarded_for.len);
    if (ob_ws_query_param(hs.query.p, hs.query.len, "ticket", &v, &vl))
        FUZZ_CHECK(v >= hs.query.p && v + vl <= hs.query.p + hs.query.len, "value outside query");

    /* What follows the head does not change the answer. */
    ob_ws_handshake again;
    FUZZ_CHECK(ob_ws_handshake_parse(buf, hs.head_len, OB_WS_MAX_HEAD, &again) == OB_WS_HS_OK,
               "head alone not accepted");
    FUZZ_CHECK(again.head_len == hs.head_len && again.key.p == hs.key.p &&
                   again.subprotocol_offered == hs.subprotocol_offered,
               "head alone parses differently");
    /* A strict prefix of the head is never complete. */
    FUZZ_CHECK(ob_ws_handshake_parse(buf, hs.head_len - 1, OB_WS_MAX_HEAD, &again) !=
                   OB_WS_HS_OK,
               "prefix accepted");
    return 0;
}
