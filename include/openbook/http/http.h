/* http.h - the request and response of one FastCGI request.
 *
 * The worker fills an ob_request from the FastCGI params (http/request.c),
 * the router picks a handler, the handler fills an ob_response, and the
 * worker writes it out (http/response.c).  Everything hangs off the
 * request's arena and dies with it. */
#ifndef OPENBOOK_HTTP_H
#define OPENBOOK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openbook/core/arena.h"
#include "openbook/core/buf.h"
#include "openbook/core/json.h"
#include "openbook/http/parse.h"

struct cJSON;
struct ob_config;
struct ob_db;
struct ob_redis;
struct ob_cache;
struct ob_user;
struct ob_session;
struct ob_route;

typedef enum {
    OB_GET = 1 << 0,
    OB_HEAD = 1 << 1,
    OB_POST = 1 << 2,
    OB_PUT = 1 << 3,
    OB_PATCH = 1 << 4,
    OB_DELETE = 1 << 5,
    OB_OPTIONS = 1 << 6,
    OB_OTHER = 1 << 7,
} ob_method;

#define OB_MAX_PATH_PARAMS 4

typedef struct ob_response {
    int status;
    ob_buf headers;        /* extra header lines, each ending in "\r\n" */
    ob_buf body;
    const char *content_type; /* NULL: application/json */
    bool gzip;             /* body is gzip-compressed (compress.c) */
} ob_response;

typedef struct ob_request {
    ob_arena *arena;
    const struct ob_config *cfg;
    struct ob_db *db;
    struct ob_redis *redis;    /* lazily connected; NULL-safe to use */
    struct ob_cache *cache;    /* the worker's response cache; NULL = none */

    /* From the FastCGI params, indexed once by ob_request_init (a small
     * hash table) so each lookup is not a scan of every param. */
    char **envp;
    struct ob_param_slot *param_index;
    unsigned param_mask;
    ob_method method;
    const char *method_name;
    const char *raw_uri;       /* REQUEST_URI as received */
    const char *path;          /* decoded, normalised (see ob_parse_path) */
    size_t path_len;
    const char *query;         /* raw query string, "" if none */
    size_t query_len;
    ob_kv *params;             /* decoded query parameters */
    size_t nparams;
    ob_kv *cookies;
    size_t ncookies;
    const char *host;          /* Host without port, lower case */
    const char *host_header;   /* Host as received (with port) */
    bool https;
    const char *remote_addr;
    const char *content_type;  /* media type only, lower case, no params */
    const char *language;      /* resolved request language */
    bool accepts_gzip;         /* Accept-Encoding gives gzip a weight > 0 */

    /* Body: read lazily (ob_request_read_json, ob_request_read_body). */
    long content_length;
    char *body;
    size_t body_len;
    struct cJSON *json;        /* parsed JSON body (a multipart body's plain fields), or NULL */
    struct ob_upload *upload;  /* a multipart body's files (upload.h), or NULL */

    /* Authentication (auth.c): NULL user = anonymous. */
    struct ob_user *user;
    int auth_method;           /* ob_auth_method */
    struct ob_session *session;
    bool bad_app_session;      /* X-Session-Token presented but unknown */
    void *perm;                /* what the requester holds, loaded once (src/perm/) */

    /* Routing. */
    const struct ob_route *route; /* the pattern that matched the path; NULL: none */
    const char *path_params[OB_MAX_PATH_PARAMS];
    size_t npath_params;
    const void *route_data;    /* the matched route's data (router.h) */

    /* I/O hooks, so unit tests and the fuzzers can run without libfcgi. */
    void *io;
    long (*read_body)(void *io, char *dst, size_t n);

    ob_response res;
    int64_t start_ns;
    /* X-Request-Id: the front server's (checked by ob_parse_request_id),
     * else one the worker made; sent back on every answer and logged. */
    const char *request_id;
    /* Set by ob_read_cache_answer on a miss, for ob_read_cache_keep. */
    const char *cache_key;
    size_t cache_klen;
    uint64_t cache_gen;
    bool cache_hit;            /* answered from the cache (access log) */
} ob_request;

/* Header lookup by CGI name, e.g. "HTTP_ACCEPT_LANGUAGE".  The first of
 * duplicate params wins. */
const char *ob_request_param(const ob_request *r, const char *name);
const char *ob_request_query(const ob_request *r, const char *key);
const char *ob_request_cookie(const ob_request *r, const char *name);

/* Fills method, path, query, cookies, host... from envp.  r must be zeroed
 * by the caller.  On bad input it sets the error response (400/414) and
 * returns -1. */
int ob_request_init(ob_request *r, ob_arena *a, const struct ob_config *cfg, char **envp);

/* Reads and parses the body according to its content type.  Returns 0, or
 * -1 with the error response set (413, 415, 400). */
int ob_request_read_json(ob_request *r);

/* The two steps under every API's body reader, which answer nothing (each
 * API words the errors in its own envelope; the caller has checked the
 * size and the media type).  ob_request_read_body reads content_length
 * bytes into r->body (NUL-terminated): 0, or -1 when the client sent
 * fewer.  ob_request_parse_json parses r->body as one JSON object into
 * r->json (freed with the request; an empty body is {}); *at is the byte
 * of a syntax error or of trailing data, *type the JSON type of a value
 * that is not an object. */
typedef enum {
    OB_BODY_OK = 0,
    OB_BODY_NOT_UTF8,   /* invalid UTF-8, or a NUL byte */
    OB_BODY_TOO_DEEP,   /* nested deeper than max_json_depth */
    OB_BODY_SYNTAX,     /* not JSON */
    OB_BODY_TRAILING,   /* data after the value */
    OB_BODY_NOT_OBJECT, /* JSON, but not an object */
} ob_body_status;
int ob_request_read_body(ob_request *r);
ob_body_status ob_request_parse_json(ob_request *r, size_t *at, const char **type);

/* Reads a multipart/form-data body as it arrives, in pieces of 64 KiB,
 * into a streaming parser (multipart.h) that calls h for each part: a
 * file part can go to disk as it comes, and the request's memory stays
 * the same whatever the body's size.  Answers 415 for another content
 * type, 413 when Content-Length already exceeds lim->max_body_bytes (before
 * reading), 400 "Incomplete request body." when the client sends less
 * than it announced, and the parser's answer for its errors.  Returns
 * OB_MP_OK (0) or the ob_multipart_result; for OB_MP_ABORTED (a callback
 * refused) no answer is set: the caller knows why. */
struct ob_multipart_limits;
struct ob_multipart_handler;
int ob_request_read_multipart(ob_request *r, const struct ob_multipart_limits *lim,
                              const struct ob_multipart_handler *h);

/* The absolute URL base ("https://host") for generated links. */
const char *ob_request_base_url(ob_request *r);

/* Whether r may be answered from the worker's cache (cache.h): a GET or
 * HEAD with a cache, and no `Cache-Control: no-cache` (or no-store,
 * max-age=0; or `Pragma: no-cache`) from the client.  The answer to such
 * a request is still kept. */
bool ob_request_cache_allowed(const ob_request *r);

/* Response helpers. */
void ob_response_init(ob_response *res, ob_arena *a);
void ob_response_header(ob_response *res, const char *name, const char *value);
/* Sets status and a {"detail": msg} body. */
void ob_fail(ob_request *r, int status, const char *detail);
void ob_failf(ob_request *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Starts a JSON body; returns a writer on res.body. */
ob_json *ob_json_response(ob_request *r, int status);

/* Serialises status line, headers and body into out (FastCGI stdout). */
void ob_response_serialize(const ob_request *r, bool head_only, ob_buf *out);
/* The same in two parts, so that a server can write the body from where it
 * is instead of copying it behind the head: the CGI head (status, headers,
 * blank line), and whether the body follows. */
void ob_response_head(const ob_request *r, ob_buf *out);
bool ob_response_sends_body(const ob_request *r, bool head_only);

const char *ob_status_text(int status);
const char *ob_method_name(ob_method m);
ob_method ob_method_parse(const char *s);

#endif
