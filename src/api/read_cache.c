/* read_cache.c - keys and entries of the response cache for the generic
 * reads (see read_cache.h). */
#include <string.h>
#include "openbook/auth/auth.h"
#include "openbook/core/cache.h"
#include "openbook/http/compress.h"
#include "openbook/api/read_cache.h"

bool ob_read_cache_answer(ob_request *r)
{
    r->cache_key = NULL;
    if (!r->cache || (r->method != OB_GET && r->method != OB_HEAD))
        return false;
    bool lookup = ob_request_cache_allowed(r);
    ob_buf k;
    ob_buf_init(&k, r->arena);
    /* Every part is free of newlines (the URL parts are validated, the
     * language is one of the known codes), so the parts cannot run into
     * each other. */
    if (r->user)
        ob_buf_put_int(&k, r->user->id);
    else
        ob_buf_putc(&k, '-');
    ob_buf_putc(&k, '\n');
    ob_buf_puts(&k, r->language ? r->language : "");
    ob_buf_putc(&k, '\n');
    ob_buf_puts(&k, ob_request_base_url(r));
    ob_buf_putc(&k, '\n');
    /* gzip and identity answers apart: the body differs. */
    ob_buf_putc(&k, ob_response_may_compress(r) ? 'z' : '-');
    ob_buf_append(&k, r->path, r->path_len);
    ob_buf_putc(&k, '?');
    ob_buf_append(&k, r->query, r->query_len);
    ob_cached hit;
    if (lookup && ob_cache_get(r->cache, k.data, k.len, r->start_ns, &hit)) {
        r->res.status = hit.status;
        /* Copied like the rest: the entry may go at the next put. */
        r->res.content_type =
            hit.content_type ? ob_arena_strdup(r->arena, hit.content_type) : NULL;
        ob_buf_reset(&r->res.headers);
        ob_buf_append(&r->res.headers, hit.headers, hit.headers_len);
        ob_buf_reset(&r->res.body);
        ob_buf_append(&r->res.body, hit.body, hit.body_len);
        r->res.gzip = hit.gzip;
        r->cache_hit = true;
        return true;
    }
    r->cache_key = k.data;
    r->cache_klen = k.len;
    r->cache_gen = ob_cache_generation(r->cache);
    return false;
}

void ob_read_cache_keep(ob_request *r)
{
    if (!r->cache || !r->cache_key || r->res.status != 200)
        return;
    /* Compressed before it is kept, so that a repeat is not compressed
     * again (the worker's ob_response_compress then leaves it alone). */
    ob_response_compress(r);
    ob_cached v = {.status = r->res.status,
                   .content_type = r->res.content_type,
                   .headers = r->res.headers.data,
                   .headers_len = r->res.headers.len,
                   .body = r->res.body.data,
                   .body_len = r->res.body.len,
                   .gzip = r->res.gzip};
    ob_cache_put(r->cache, r->cache_key, r->cache_klen, r->cache_gen, r->start_ns, &v);
    r->cache_key = NULL;
}
