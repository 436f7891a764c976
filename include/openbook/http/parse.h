/* parse.h - the request parsers.  Each takes (buf, len), never assumes NUL
 * termination, allocates only from the given arena, bounds its output, and
 * has a libFuzzer target under test/fuzz/. */
#ifndef OPENBOOK_PARSE_H
#define OPENBOOK_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include "openbook/core/arena.h"
#include "openbook/core/utf8.h"

typedef struct ob_kv {
    const char *key;     /* decoded, NUL-terminated */
    const char *value;   /* decoded, NUL-terminated */
    size_t key_len, value_len;
} ob_kv;

typedef enum {
    OB_PARSE_OK = 0,
    OB_PARSE_TOO_MANY = -1,   /* more pairs than allowed */
    OB_PARSE_BAD_ENCODING = -2, /* invalid UTF-8 or an encoded NUL */
    OB_PARSE_BAD_PATH = -3,   /* '.'/'..' segments, not absolute */
} ob_parse_result;

/* True if buf[0..len) is valid UTF-8 (no overlongs, no surrogates). */
bool ob_utf8_valid(const char *buf, size_t len);


/* Decodes %XX escapes (and '+' as space when plus_is_space).  Writes a
 * NUL-terminated copy to *out and its length to *out_len.  Malformed
 * escapes are kept literally, as browsers and Django do. */
void ob_percent_decode(ob_arena *a, const char *buf, size_t len, bool plus_is_space,
                       char **out, size_t *out_len);

/* application/x-www-form-urlencoded, also used for query strings.  Pairs
 * are split on '&' (and ';' is NOT a separator); an item without '=' has an
 * empty value; empty items are skipped.  At most max pairs; more gives
 * OB_PARSE_TOO_MANY.  Keys and values must decode to UTF-8 without NUL. */
ob_parse_result ob_parse_urlencoded(ob_arena *a, const char *buf, size_t len, size_t max,
                                    ob_kv **out, size_t *count);

/* Cookie header: "a=1; b=2".  Values may be double-quoted (quotes are
 * removed); no percent-decoding, as RFC 6265 says.  Malformed items are
 * skipped.  The first occurrence of a name wins when looking up. */
ob_parse_result ob_parse_cookies(ob_arena *a, const char *buf, size_t len, size_t max,
                                 ob_kv **out, size_t *count);

/* The path part of a request URI: percent-decodes, collapses repeated '/',
 * and refuses encoded NUL, invalid UTF-8, '.' and '..' segments (raw or
 * encoded) and anything not starting with '/'.  The result keeps a trailing
 * slash if the input had one. */
ob_parse_result ob_parse_path(ob_arena *a, const char *buf, size_t len, char **out,
                              size_t *out_len);

/* Accept-Language: writes up to max primary language subtags (lower case,
 * at most 8 letters) ordered by quality, highest first; q=0 entries are
 * dropped.  Returns the count. */
size_t ob_parse_accept_language(ob_arena *a, const char *buf, size_t len, const char **out,
                                size_t max);

/* Accept-Encoding: the quality (0..1000, in thousandths) the client gives
 * gzip: its first well-formed "gzip" or "x-gzip" element, else the first
 * "*" element, else 0 (RFC 9110 12.5.3; no header at all means the same
 * as an empty one here, since compressing for a client that did not ask
 * gains nothing).  Elements with a malformed q are ignored.  Parameter
 * values are not unquoted: codings carry none but q. */
int ob_parse_accept_gzip(const char *buf, size_t len);

/* Maximum nesting depth of a JSON text (brackets outside strings), without
 * parsing it.  Lets the server refuse deep bodies before cJSON recurses. */
size_t ob_json_depth(const char *buf, size_t len);

/* X-Request-Id as the front server passes it (nginx's $request_id is 32
 * hex digits, Apache's UNIQUE_ID base64-like): 1 to OB_REQUEST_ID_MAX
 * characters of [A-Za-z0-9-._:@+=/].  Anything else is not used (it would
 * go into a response header and every log line of the request). */
#define OB_REQUEST_ID_MAX 128
bool ob_parse_request_id(const char *buf, size_t len);

/* The request line of an HTTP/1.x request head (the metrics endpoint's
 * small server): a token method, one space, an origin-form target (starts
 * with '/', no space or control character), one space, HTTP/1.0 or
 * HTTP/1.1, then LF or CRLF.  path is the target without its query.
 * Pointers go into buf. */
typedef struct ob_request_line {
    const char *method;
    size_t method_len;
    const char *path;
    size_t path_len;
} ob_request_line;
bool ob_parse_request_line(const char *buf, size_t len, ob_request_line *out);

/* ---- typed values (values.c; api-conventions.md §3) ---- */

/* Lower-case hyphenated UUID from any case, with or without hyphens. */
bool ob_parse_uuid(const char *in, char out[37]);
/* ISO 8601 date-time as api-conventions.md §3 accepts it (Z, a numeric
 * offset, or none = UTC); date_only_ok also takes YYYY-MM-DD (filters).
 * Writes a form PostgreSQL reads unambiguously; false if invalid. */
bool ob_parse_datetime(const char *in, bool date_only_ok, char out[40]);

/* Looks a key up in a parsed list; returns NULL if absent. */
const ob_kv *ob_kv_find(const ob_kv *kv, size_t count, const char *key);

#endif
