/* fuzz_json_body.c - ob_request_read_json and ob_json_escape.
 *
 * Input: a request body, sent as POST with Content-Type application/json
 * and a matching Content-Length, read through the read_body hook in
 * chunks whose size byte 0 picks.  Invariants: success leaves a JSON
 * object in r.json; failure answers 400 (or 413) with a body that is
 * valid JSON in valid UTF-8.  The input also goes through
 * ob_json_escape: the output is valid UTF-8, a JSON string literal, and
 * when the input is UTF-8 without NUL it reads back as the input. */
#include <string.h>
#include <cjson/cJSON.h>
#include "openbook/core/alloc.h"
#include "openbook/core/config.h"
#include "openbook/http/http.h"
#include "openbook/http/parse.h"
#include "fuzz_common.h"

typedef struct {
    const char *data;
    size_t len, pos, chunk;
} body_io;

static long read_body(void *io, char *dst, size_t n)
{
    body_io *b = io;
    size_t left = b->len - b->pos;
    if (n > left)
        n = left;
    if (n > b->chunk)
        n = b->chunk;
    memcpy(dst, b->data + b->pos, n);
    b->pos += n;
    return (long)n;
}

static const ob_config *config(void)
{
    static ob_config cfg;
    static bool ready;
    if (!ready) {
        ob_config_defaults(&cfg);
        cfg.allowed_hosts.items = ob_malloc(sizeof(char *));
        cfg.allowed_hosts.items[0] = ob_strdup("example.org");
        cfg.allowed_hosts.count = 1;
        cfg.max_json_depth = 32;
        ready = true;
    }
    return &cfg;
}

static void check_escape(ob_arena *a, const char *buf, size_t len)
{
    ob_buf out;
    ob_buf_init(&out, a);
    ob_json_escape(&out, buf, len);
    FUZZ_CHECK(out.len >= 2 && out.data[0] == '"' && out.data[out.len - 1] == '"',
               "not a string literal");
    FUZZ_CHECK(ob_utf8_valid(out.data, out.len), "escaped output is not UTF-8");
    for (size_t i = 0; i < out.len; i++)
        FUZZ_CHECK((unsigned char)out.data[i] >= 0x20, "raw control byte in output");
    cJSON *v = cJSON_ParseWithLength(out.data, out.len);
    FUZZ_CHECK(v != NULL && cJSON_IsString(v), "escaped output is not a JSON string");
    if (ob_utf8_valid(buf, len) && !memchr(buf, '\0', len))
        FUZZ_CHECK(strlen(v->valuestring) == len && memcmp(v->valuestring, buf, len) == 0,
                   "escaped string does not read back as the input");
    cJSON_Delete(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    size_t chunk = size ? (size_t)data[0] % 17 + 1 : 1;
    if (chunk == 17)
        chunk = (size_t)-1; /* all at once */
    const char *body = (const char *)data;

    char cl[48];
    snprintf(cl, sizeof cl, "CONTENT_LENGTH=%zu", size);
    char *env[] = {
        ob_arena_strdup(a, "REQUEST_METHOD=POST"),
        ob_arena_strdup(a, "REQUEST_URI=/api/core/sites/"),
        ob_arena_strdup(a, "HTTP_HOST=example.org"),
        ob_arena_strdup(a, "CONTENT_TYPE=application/json"),
        ob_arena_strdup(a, cl),
        NULL,
    };
    ob_request r;
    memset(&r, 0, sizeof r);
    FUZZ_CHECK(ob_request_init(&r, a, config(), env) == 0, "init failed");
    body_io io = {body, size, 0, chunk};
    r.io = &io;
    r.read_body = read_body;
    int rc = ob_request_read_json(&r);
    FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
    FUZZ_CHECK(io.pos == size, "read %zu of %zu bytes", io.pos, size);
    if (rc == 0) {
        FUZZ_CHECK(r.json != NULL && cJSON_IsObject(r.json), "success without an object");
        FUZZ_CHECK(r.res.status == 200, "status %d on success", r.res.status);
    } else {
        FUZZ_CHECK(r.res.status == 400 || r.res.status == 413, "status %d", r.res.status);
        FUZZ_CHECK(r.res.body.len > 0, "error without a body");
        FUZZ_CHECK(ob_utf8_valid(r.res.body.data, r.res.body.len), "error body not UTF-8");
        cJSON *v = cJSON_ParseWithLength(r.res.body.data, r.res.body.len);
        FUZZ_CHECK(v != NULL && cJSON_IsObject(v), "error body is not a JSON object");
        cJSON_Delete(v);
    }
    check_escape(a, body, size);
    ob_arena_reset(a); /* also frees the parsed body */
    return 0;
}
