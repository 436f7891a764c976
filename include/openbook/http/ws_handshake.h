/* ws_handshake.h - the opening handshake of RFC 6455 §4.2, as a parser
 * over (buf, len) like every request parser (parse.h), with a fuzz target.
 *
 * The relay reads the request head into a buffer and calls
 * ob_ws_handshake_parse() until it stops answering INCOMPLETE.  The result
 * points into the buffer; nothing is allocated.  Policy (which path, which
 * Origin, the ticket) is the relay's: this module only says whether the
 * bytes are a well-formed WebSocket upgrade request. */
#ifndef OPENBOOK_WS_HANDSHAKE_H
#define OPENBOOK_WS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest request head the relay reads (request line plus headers). */
#define OB_WS_MAX_HEAD 8192
/* Most header lines looked at; more is a bad request. */
#define OB_WS_MAX_HEADERS 64

typedef enum {
    OB_WS_HS_OK = 0,
    OB_WS_HS_INCOMPLETE = 1,   /* no end of head yet: read more */
    OB_WS_HS_BAD = -1,         /* not a valid upgrade request: 400 */
    OB_WS_HS_BAD_VERSION = -2, /* Sec-WebSocket-Version is not 13: 400 + our version */
    OB_WS_HS_TOO_LARGE = -3,   /* head longer than the limit: 400 */
} ob_ws_hs_result;

typedef struct ob_ws_span {
    const char *p; /* into the parsed buffer; NULL when absent */
    size_t len;
} ob_ws_span;

typedef struct ob_ws_handshake {
    size_t head_len;          /* bytes up to and including the blank line */
    ob_ws_span path;          /* raw path of the request target (no query) */
    ob_ws_span query;         /* raw query string, without '?' (len 0 if none) */
    ob_ws_span host;
    ob_ws_span origin;        /* p == NULL: no Origin header */
    ob_ws_span key;           /* Sec-WebSocket-Key, trimmed, 24 base64 chars */
    ob_ws_span forwarded_for; /* X-Forwarded-For (for logs) */
    bool subprotocol_offered; /* "openbook.v1" among Sec-WebSocket-Protocol */
} ob_ws_handshake;

#define OB_WS_SUBPROTOCOL "openbook.v1"

/* Parses buf[0..len).  Checks (RFC 6455 §4.2.1): "GET <origin-form>
 * HTTP/1.1" (or a later 1.x), a Host header, Upgrade containing
 * "websocket", Connection containing "Upgrade" (tokens, any case), one
 * Sec-WebSocket-Key that decodes to 16 bytes, Sec-WebSocket-Version 13,
 * at most one Origin, no request body.  Header lines end in CRLF; folded
 * lines and malformed names are refused.  max_head bounds the head (at most
 * OB_WS_MAX_HEAD). */
ob_ws_hs_result ob_ws_handshake_parse(const char *buf, size_t len, size_t max_head,
                                      ob_ws_handshake *hs);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)), 28 chars. */
void ob_ws_accept_key(const char *key, size_t len, char out[29]);

/* The host of an Origin value ("scheme://host[:port]"), lower case,
 * without port or IPv6 brackets, into out (NUL-terminated).  False for
 * "null", a missing scheme, user info, a path, or a host longer than
 * outcap - 1. */
bool ob_ws_origin_host(const char *origin, size_t len, char *out, size_t outcap);

/* Finds the first `name=` parameter of a raw query string; the value is
 * returned raw (undecoded). */
bool ob_ws_query_param(const char *q, size_t qlen, const char *name, const char **val,
                       size_t *vlen);

/* ---- client addresses (the relay's per-address limit) ---- */

/* An IPv4 or IPv6 address in text, without port, brackets or zone, into
 * 16 bytes (IPv4 as ::ffff:a.b.c.d).  False for anything else. */
bool ob_ws_parse_addr(const char *s, size_t len, unsigned char out[16]);

/* The last entry of an X-Forwarded-For value, parsed as above.  A front
 * server appends the address it got the request from (Apache) or sends it
 * alone (nginx: `proxy_set_header X-Forwarded-For $remote_addr`), so the
 * last entry is the one a client cannot choose.  False when it is not an
 * address ("unknown", with a port, empty). */
bool ob_ws_forwarded_addr(const char *v, size_t len, unsigned char out[16]);

/* What connections from an address are counted under: the IPv4 address,
 * or the /64 network of an IPv6 address (a host usually holds a whole
 * /64, so counting single IPv6 addresses would give it a limit per
 * address it cares to use).  IPv4 keys have the top 32 bits set, which
 * no IPv6 key of allocated space has; unspecified and loopback IPv6 are 0. */
uint64_t ob_ws_addr_key(const unsigned char addr[16]);

/* SHA-1 (FIPS 180-4), only for the accept key: libsodium has no SHA-1. */
void ob_sha1(const void *data, size_t len, unsigned char out[20]);

#endif
