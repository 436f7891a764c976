/* response.c - building and serialising responses.  Every response gets
 * the security headers of api-conventions.md §3; errors are JSON. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "openbook/http/http.h"

void ob_response_init(ob_response *res, ob_arena *a)
{
    res->status = 200;
    ob_buf_init(&res->headers, a);
    ob_buf_init(&res->body, a);
    res->content_type = NULL;
    res->gzip = false;
}

void ob_response_header(ob_response *res, const char *name, const char *value)
{
    /* Header values never carry CR/LF: callers pass fixed names and values
     * built from validated data, and anything else is cut here. */
    ob_buf_puts(&res->headers, name);
    ob_buf_append(&res->headers, ": ", 2);
    ob_buf_append(&res->headers, value, strcspn(value, "\r\n"));
    ob_buf_append(&res->headers, "\r\n", 2);
}

ob_json *ob_json_response(ob_request *r, int status)
{
    r->res.status = status;
    ob_buf_reset(&r->res.body);
    r->res.content_type = NULL;
    r->res.gzip = false;
    ob_json *j = ob_arena_alloc(r->arena, sizeof *j);
    ob_json_init(j, &r->res.body);
    return j;
}

void ob_fail(ob_request *r, int status, const char *detail)
{
    ob_json *j = ob_json_response(r, status);
    ob_json_object_begin(j);
    ob_json_kv_string(j, "detail", detail);
    ob_json_object_end(j);
}

void ob_failf(ob_request *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = ob_arena_vprintf(r->arena, fmt, ap);
    va_end(ap);
    ob_fail(r, status, msg);
}

const char *ob_status_text(int s)
{
    switch (s) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static const struct {
    ob_method m;
    const char *name;
} methods[] = {
    {OB_GET, "GET"},     {OB_HEAD, "HEAD"},     {OB_POST, "POST"},       {OB_PUT, "PUT"},
    {OB_PATCH, "PATCH"}, {OB_DELETE, "DELETE"}, {OB_OPTIONS, "OPTIONS"},
};

const char *ob_method_name(ob_method m)
{
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (methods[i].m == m)
            return methods[i].name;
    return "OTHER";
}

ob_method ob_method_parse(const char *s)
{
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (strcmp(methods[i].name, s) == 0)
            return methods[i].m;
    return OB_OTHER;
}

bool ob_response_sends_body(const ob_request *r, bool head_only)
{
    return !head_only && r->res.status != 204 && r->res.status != 304;
}

void ob_response_head(const ob_request *r, ob_buf *out)
{
    const ob_response *res = &r->res;
    bool empty = res->status == 204 || res->status == 304;
    /* puts and put_int, not printf: this runs for every response. */
    ob_buf_puts(out, "Status: ");
    ob_buf_put_int(out, res->status);
    ob_buf_putc(out, ' ');
    ob_buf_puts(out, ob_status_text(res->status));
    ob_buf_puts(out, "\r\n");
    if (!empty) {
        ob_buf_puts(out, "Content-Type: ");
        ob_buf_puts(out, res->content_type ? res->content_type : "application/json");
        ob_buf_puts(out, "\r\nContent-Length: ");
        ob_buf_put_int(out, (long long)res->body.len);
        ob_buf_puts(out, res->gzip ? "\r\nContent-Encoding: gzip\r\n" : "\r\n");
    }
    /* No "Accept-Encoding" in Vary, though a gzip body depends on it: the
     * spec fixes this header, and with no-store no cache keeps the answer,
     * so Vary cannot matter. */
    ob_buf_puts(out, "X-Content-Type-Options: nosniff\r\n"
                     "X-Frame-Options: DENY\r\n"
                     "Referrer-Policy: same-origin\r\n"
                     "Vary: Accept, Cookie, Accept-Language\r\n"
                     "Cache-Control: private, no-store\r\n");
    ob_buf_puts(out, "Content-Language: ");
    ob_buf_puts(out, r->language ? r->language : "en");
    ob_buf_puts(out, "\r\n");
    /* On every answer, errors included (their bodies are fixed by the
     * spec): the id under which the front server and the workers logged
     * this request.  Checked by ob_parse_request_id, so no CR/LF. */
    if (r->request_id) {
        ob_buf_puts(out, "X-Request-Id: ");
        ob_buf_puts(out, r->request_id);
        ob_buf_puts(out, "\r\n");
    }
    ob_buf_append(out, res->headers.data ? res->headers.data : "", res->headers.len);
    ob_buf_append(out, "\r\n", 2);
}

void ob_response_serialize(const ob_request *r, bool head_only, ob_buf *out)
{
    ob_response_head(r, out);
    if (ob_response_sends_body(r, head_only))
        ob_buf_append(out, r->res.body.data ? r->res.body.data : "", r->res.body.len);
}
