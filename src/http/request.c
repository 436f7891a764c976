/* request.c - turns FastCGI params into an ob_request, and reads bodies.
 * Everything is validated and bounded here, before any handler runs. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "openbook/http/jsonvalue.h"
#include "openbook/core/config.h"
#include "openbook/http/http.h"
#include "openbook/http/multipart.h"

struct ob_param_slot {
    const char *entry;   /* "NAME=value" */
    size_t name_len;
};

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* One pass over the params into an open-addressing table twice their
 * number (a power of two); without it every lookup scanned them all. */
static void index_params(ob_request *r)
{
    size_t n = 0;
    for (char **e = r->envp; e && *e; e++)
        n++;
    size_t cap = 16;
    while (cap < 2 * n + 2)
        cap *= 2;
    r->param_index = ob_arena_calloc(r->arena, cap, sizeof *r->param_index);
    r->param_mask = (unsigned)cap - 1;
    for (char **e = r->envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        size_t nl = (size_t)(eq - *e);
        unsigned i = name_hash(*e, nl) & r->param_mask;
        for (;;) {
            struct ob_param_slot *s = &r->param_index[i];
            if (!s->entry) {
                s->entry = *e;
                s->name_len = nl;
                break;
            }
            if (s->name_len == nl && memcmp(s->entry, *e, nl) == 0)
                break; /* duplicate name: the first one stays */
            i = (i + 1) & r->param_mask;
        }
    }
}

const char *ob_request_param(const ob_request *r, const char *name)
{
    size_t n = strlen(name);
    if (!r->param_index) {
        for (char **e = r->envp; e && *e; e++)
            if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                return *e + n + 1;
        return NULL;
    }
    unsigned i = name_hash(name, n) & r->param_mask;
    for (;;) {
        const struct ob_param_slot *s = &r->param_index[i];
        if (!s->entry)
            return NULL;
        if (s->name_len == n && memcmp(s->entry, name, n) == 0)
            return s->entry + n + 1;
        i = (i + 1) & r->param_mask;
    }
}

const char *ob_request_query(const ob_request *r, const char *key)
{
    const ob_kv *kv = ob_kv_find(r->params, r->nparams, key);
    return kv ? kv->value : NULL;
}

const char *ob_request_cookie(const ob_request *r, const char *name)
{
    const ob_kv *kv = ob_kv_find(r->cookies, r->ncookies, name);
    return kv ? kv->value : NULL;
}

static bool is_trusted_proxy(const ob_request *r)
{
    if (!r->remote_addr)
        return false;
    const ob_strlist *l = &r->cfg->trusted_proxies;
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], r->remote_addr) == 0)
            return true;
    return false;
}

/* Splits "host[:port]" / "[v6]:port"; returns the host part lower-cased,
 * or NULL if the header is not a valid host. */
static const char *host_only(ob_arena *a, const char *h)
{
    size_t len = strlen(h);
    if (len == 0 || len > 255)
        return NULL;
    const char *end = h + len;
    if (h[0] == '[') {
        const char *rb = strchr(h, ']');
        if (!rb)
            return NULL;
        end = rb + 1;
        if (*end && *end != ':')
            return NULL;
    } else {
        const char *colon = strchr(h, ':');
        if (colon)
            end = colon;
    }
    if (*end == ':') {
        for (const char *p = end + 1; *p; p++)
            if (!isdigit((unsigned char)*p))
                return NULL;
    }
    char *out = ob_arena_strndup(a, h, (size_t)(end - h));
    for (char *p = out; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(isalnum(c) || c == '-' || c == '.' || c == '[' || c == ']' || c == ':' || c == '_'))
            return NULL;
        *p = (char)tolower(c);
    }
    return out;
}

/* A request id for requests that came without one (no front server, or
 * one not configured to send it): 32 hex digits like nginx's $request_id,
 * unique with overwhelming probability.  splitmix64 from a random seed
 * taken at the first request of the process (the master never answers
 * requests, so each worker seeds its own); the ids need not be secret. */
static const char *new_request_id(ob_arena *a)
{
    static uint64_t state;
    static bool seeded;
    if (!seeded) {
        if (getrandom(&state, sizeof state, 0) != (ssize_t)sizeof state)
            state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        seeded = true;
    }
    char *id = ob_arena_alloc(a, 33);
    for (int half = 0; half < 2; half++) {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        for (int i = 0; i < 16; i++)
            id[half * 16 + i] = "0123456789abcdef"[(z >> (60 - 4 * i)) & 15];
    }
    id[32] = '\0';
    return id;
}

int ob_request_init(ob_request *r, ob_arena *a, const ob_config *cfg, char **envp)
{
    r->arena = a;
    r->cfg = cfg;
    r->envp = envp;
    index_params(r);
    ob_response_init(&r->res, a);
    r->query = "";
    r->path = "/";
    r->path_len = 1;
    r->language = cfg->default_language;

    r->method_name = ob_request_param(r, "REQUEST_METHOD");
    if (!r->method_name)
        r->method_name = "GET";
    r->method = ob_method_parse(r->method_name);
    r->remote_addr = ob_request_param(r, "REMOTE_ADDR");
    const char *rid = ob_request_param(r, "HTTP_X_REQUEST_ID");
    r->request_id = rid && ob_parse_request_id(rid, strlen(rid)) ? rid : new_request_id(a);
    const char *ae = ob_request_param(r, "HTTP_ACCEPT_ENCODING");
    r->accepts_gzip = ae && ob_parse_accept_gzip(ae, strlen(ae)) > 0;

    const char *https = ob_request_param(r, "HTTPS");
    r->https = https && (strcasecmp(https, "on") == 0 || strcmp(https, "1") == 0);
    if (!r->https && is_trusted_proxy(r)) {
        const char *xfp = ob_request_param(r, "HTTP_X_FORWARDED_PROTO");
        r->https = xfp && strcasecmp(xfp, "https") == 0;
    }

    /* Host first: a request for a host we do not serve learns nothing. */
    const char *host = ob_request_param(r, "HTTP_HOST");
    if (!host)
        host = ob_request_param(r, "SERVER_NAME");
    r->host_header = host ? host : "";
    r->host = host ? host_only(a, host) : NULL;
    if (!r->host || !ob_config_host_allowed(cfg, r->host, strlen(r->host))) {
        r->host = NULL;
        ob_fail(r, 400, "Invalid host header.");
        return -1;
    }

    const char *uri = ob_request_param(r, "REQUEST_URI");
    if (!uri) {
        /* Servers that do not pass REQUEST_URI (some mod_fcgid set-ups)
         * still give SCRIPT_NAME + PATH_INFO and QUERY_STRING. */
        const char *sn = ob_request_param(r, "SCRIPT_NAME");
        const char *pi = ob_request_param(r, "PATH_INFO");
        const char *qs = ob_request_param(r, "QUERY_STRING");
        uri = ob_arena_printf(a, "%s%s%s%s", sn ? sn : "", pi ? pi : "", qs && *qs ? "?" : "",
                              qs ? qs : "");
    }
    r->raw_uri = uri;
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    if (q) {
        r->query = q + 1;
        r->query_len = strlen(q + 1);
    }
    if (r->query_len > (size_t)cfg->max_query_string_bytes) {
        ob_fail(r, 414, "Request-URI too long.");
        return -1;
    }
    char *path;
    size_t path_len;
    ob_parse_result pr = ob_parse_path(a, uri, plen, &path, &path_len);
    if (pr != OB_PARSE_OK) {
        ob_fail(r, 400, pr == OB_PARSE_BAD_ENCODING ? "Invalid characters in path."
                                                     : "Invalid path.");
        return -1;
    }
    r->path = path;
    r->path_len = path_len;

    /* Query parameters beyond the cap are an attack, not a request. */
    if (ob_parse_urlencoded(a, r->query, r->query_len, (size_t)cfg->max_form_fields, &r->params,
                            &r->nparams) != OB_PARSE_OK) {
        ob_fail(r, 400, "Invalid query string.");
        return -1;
    }
    const char *cookie = ob_request_param(r, "HTTP_COOKIE");
    if (cookie)
        ob_parse_cookies(a, cookie, strlen(cookie), (size_t)cfg->max_cookies, &r->cookies,
                         &r->ncookies); /* extra cookies are ignored */

    const char *ct = ob_request_param(r, "CONTENT_TYPE");
    if (ct && *ct) {
        size_t n = strcspn(ct, ";");
        while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
            n--;
        char *m = ob_arena_strndup(a, ct, n);
        for (char *p = m; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        r->content_type = m;
    }
    const char *cl = ob_request_param(r, "CONTENT_LENGTH");
    r->content_length = 0;
    if (cl && *cl) {
        char *end;
        long v = strtol(cl, &end, 10);
        if (*end || v < 0) {
            ob_fail(r, 400, "Invalid Content-Length.");
            return -1;
        }
        r->content_length = v;
    }
    return 0;
}

static void json_delete(void *p)
{
    cJSON_Delete(p);
}

int ob_request_read_body(ob_request *r)
{
    size_t want = r->content_length > 0 ? (size_t)r->content_length : 0;
    char *body = ob_arena_alloc(r->arena, want + 1);
    size_t got = 0;
    while (got < want && r->read_body) {
        long n = r->read_body(r->io, body + got, want - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    body[got] = '\0';
    r->body = body;
    r->body_len = got;
    return got == want ? 0 : -1;
}

ob_body_status ob_request_parse_json(ob_request *r, size_t *at, const char **type)
{
    const char *body = r->body ? r->body : "";
    size_t len = r->body ? r->body_len : 0;
    *at = 0;
    *type = NULL;
    if (len == 0) {
        r->json = cJSON_CreateObject();
        ob_arena_defer(r->arena, json_delete, r->json);
        return OB_BODY_OK;
    }
    if (!ob_utf8_valid(body, len) || memchr(body, '\0', len))
        return OB_BODY_NOT_UTF8;
    if (ob_json_depth(body, len) > (size_t)r->cfg->max_json_depth)
        return OB_BODY_TOO_DEEP;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) {
        *at = end ? (size_t)(end - body) : 0;
        return OB_BODY_SYNTAX;
    }
    ob_arena_defer(r->arena, json_delete, root);
    /* Trailing garbage after the value is also malformed. */
    while (end && (size_t)(end - body) < len && isspace((unsigned char)*end))
        end++;
    if (end && (size_t)(end - body) < len) {
        *at = (size_t)(end - body);
        return OB_BODY_TRAILING;
    }
    if (!cJSON_IsObject(root)) {
        *type = ob_json_type_name(root);
        return OB_BODY_NOT_OBJECT;
    }
    r->json = root;
    return OB_BODY_OK;
}

int ob_request_read_json(ob_request *r)
{
    if (r->content_length > r->cfg->max_body_bytes) {
        ob_fail(r, 413, "Request body too large.");
        return -1;
    }
    if (r->content_length > 0 || r->content_type) {
        if (!r->content_type || strcmp(r->content_type, "application/json") != 0) {
            ob_failf(r, 415, "Unsupported media type \"%s\" in request.",
                      r->content_type ? r->content_type : "");
            return -1;
        }
    }
    if (ob_request_read_body(r) != 0) {
        ob_fail(r, 400, "Incomplete request body.");
        return -1;
    }
    size_t at;
    const char *type;
    switch (ob_request_parse_json(r, &at, &type)) {
    case OB_BODY_OK:
        return 0;
    case OB_BODY_NOT_UTF8:
        ob_fail(r, 400, "JSON parse error - request body is not valid UTF-8");
        return -1;
    case OB_BODY_TOO_DEEP:
        ob_failf(r, 400, "JSON parse error - nesting deeper than %ld levels",
                  r->cfg->max_json_depth);
        return -1;
    case OB_BODY_SYNTAX:
        ob_failf(r, 400, "JSON parse error - invalid JSON at byte %zu", at);
        return -1;
    case OB_BODY_TRAILING:
        ob_failf(r, 400, "JSON parse error - extra data at byte %zu", at);
        return -1;
    case OB_BODY_NOT_OBJECT:
        break;
    }
    ob_json *j = ob_json_response(r, 400);
    ob_json_object_begin(j);
    ob_json_key(j, "non_field_errors");
    ob_json_array_begin(j);
    char msg[96];
    snprintf(msg, sizeof msg, "Invalid data. Expected a dictionary, but got %s.", type);
    ob_json_string(j, msg);
    ob_json_array_end(j);
    ob_json_object_end(j);
    return -1;
}

const char *ob_request_base_url(ob_request *r)
{
    if (*r->cfg->public_base_url) {
        const char *b = r->cfg->public_base_url;
        size_t n = strlen(b);
        while (n > 0 && b[n - 1] == '/')
            n--;
        return ob_arena_strndup(r->arena, b, n);
    }
    /* host_header passed the allowed_hosts check, so it is safe to echo. */
    return ob_arena_printf(r->arena, "%s://%s", r->https ? "https" : "http", r->host_header);
}

/* Bytes read from the FastCGI stream per call: the parser and the staged
 * files see the body in pieces of this size, so a request's memory does
 * not grow with its body. */
#define MULTIPART_CHUNK (64 * 1024)

int ob_request_read_multipart(ob_request *r, const ob_multipart_limits *lim,
                              const ob_multipart_handler *h)
{
    const char *ct = ob_request_param(r, "CONTENT_TYPE");
    char boundary[OB_MULTIPART_BOUNDARY_MAX + 1];
    size_t blen;
    ob_multipart_result res = ob_multipart_boundary(ct ? ct : "", ct ? strlen(ct) : 0, boundary,
                                                    &blen);
    if (res == OB_MP_NOT_MULTIPART) {
        ob_failf(r, 415, "Unsupported media type \"%s\" in request.",
                 r->content_type ? r->content_type : "");
        return res;
    }
    /* Before a byte is read: the front server has the same limit, so this
     * only answers a client that reached the application directly. */
    if (r->content_length > 0 && (uint64_t)r->content_length > lim->max_body_bytes) {
        ob_fail(r, 413, "Request body too large.");
        return OB_MP_TOO_LARGE;
    }
    if (res == OB_MP_OK) {
        ob_multipart p;
        ob_multipart_init(&p, r->arena, boundary, blen, lim, h);
        char *buf = ob_arena_alloc(r->arena, MULTIPART_CHUNK);
        size_t want = r->content_length > 0 ? (size_t)r->content_length : 0;
        size_t got = 0;
        while (res == OB_MP_OK && got < want && r->read_body) {
            size_t n = want - got < MULTIPART_CHUNK ? want - got : MULTIPART_CHUNK;
            long k = r->read_body(r->io, buf, n);
            if (k <= 0)
                break;
            got += (size_t)k;
            res = ob_multipart_feed(&p, buf, (size_t)k);
        }
        if (res == OB_MP_OK && got < want) {
            /* The client went away mid-body: what the handler staged goes
             * with the arena. */
            ob_fail(r, 400, "Incomplete request body.");
            return OB_MP_TRUNCATED;
        }
        if (res == OB_MP_OK)
            res = ob_multipart_finish(&p);
    }
    if (res != OB_MP_OK && res != OB_MP_ABORTED)
        ob_fail(r, ob_multipart_status(res), ob_multipart_message(res));
    return res;
}

bool ob_request_cache_allowed(const ob_request *r)
{
    if (!r->cache || (r->method != OB_GET && r->method != OB_HEAD))
        return false;
    /* A client that asks for a fresh answer (a browser's reload, a test
     * counting statements) gets one; what it gets is kept for the next. */
    const char *cc = ob_request_param(r, "HTTP_CACHE_CONTROL");
    if (cc && (strcasestr(cc, "no-cache") || strcasestr(cc, "no-store") ||
               strcasestr(cc, "max-age=0")))
        return false;
    const char *pragma = ob_request_param(r, "HTTP_PRAGMA");
    return !(pragma && strcasestr(pragma, "no-cache"));
}
