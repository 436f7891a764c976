/* fuzz_multipart.c - ob_multipart_boundary and the streaming parser.
 *
 * Input: a Content-Type value up to the first '\n' (its boundary, if any,
 * else "b"), then byte k picking the chunk size (1..61) and the limits,
 * then the body.  Invariants: the body gives the same result whether it
 * is fed at once or in chunks (and, when it parses, the same events);
 * every part name and file name is NUL-terminated at its length, valid
 * UTF-8 and NUL-free;
 * no part's data passes its limit and the data never exceeds the body;
 * part_begin/part_end alternate; after an error nothing is called. */
#include <string.h>
#include "openbook/core/buf.h"
#include "openbook/http/multipart.h"
#include "openbook/http/parse.h"
#include "fuzz_common.h"

typedef struct log_t {
    ob_buf out;
    bool open;          /* between part_begin and part_end */
    bool file;
    uint64_t part_bytes, total_data;
    const ob_multipart_limits *lim;
    bool stopped;       /* an error was returned: no more calls */
} log_t;

static int on_begin(void *ctx, const ob_multipart_part *p)
{
    log_t *l = ctx;
    FUZZ_CHECK(!l->stopped, "call after an error");
    FUZZ_CHECK(!l->open, "part_begin inside a part");
    FUZZ_CHECK(p->name && strlen(p->name) == p->name_len, "name length");
    FUZZ_CHECK(ob_utf8_valid(p->name, p->name_len), "name not UTF-8");
    if (p->filename) {
        FUZZ_CHECK(strlen(p->filename) == p->filename_len, "filename length");
        FUZZ_CHECK(ob_utf8_valid(p->filename, p->filename_len), "filename not UTF-8");
    }
    FUZZ_CHECK(p->content_type != NULL, "content type NULL");
    l->open = true;
    l->file = p->filename != NULL;
    l->part_bytes = 0;
    ob_buf_printf(&l->out, "B%zu:%s|%s|%s", p->name_len, p->name, p->filename ? p->filename : "",
                  p->content_type);
    return 0;
}

static int on_data(void *ctx, const char *d, size_t n)
{
    log_t *l = ctx;
    FUZZ_CHECK(!l->stopped, "call after an error");
    FUZZ_CHECK(l->open && n > 0, "data outside a part or empty");
    l->part_bytes += n;
    l->total_data += n;
    FUZZ_CHECK(l->part_bytes <= (l->file ? l->lim->max_file_bytes : l->lim->max_field_bytes),
               "part over its limit");
    ob_buf_append(&l->out, d, n); /* runs are joined: chunking must not show */
    return 0;
}

static int on_end(void *ctx)
{
    log_t *l = ctx;
    FUZZ_CHECK(!l->stopped, "call after an error");
    FUZZ_CHECK(l->open, "part_end outside a part");
    l->open = false;
    ob_buf_puts(&l->out, "E");
    return 0;
}

static ob_multipart_result run(ob_arena *a, const char *b, size_t blen, const char *body,
                               size_t len, size_t chunk, const ob_multipart_limits *lim, log_t *l)
{
    memset(l, 0, sizeof *l);
    ob_buf_init(&l->out, a);
    l->lim = lim;
    ob_multipart p;
    ob_multipart_handler h = {on_begin, on_data, on_end, l};
    ob_multipart_init(&p, a, b, blen, lim, &h);
    ob_multipart_result r = OB_MP_OK;
    for (size_t i = 0; i < len && r == OB_MP_OK; i += chunk)
        r = ob_multipart_feed(&p, body + i, len - i < chunk ? len - i : chunk);
    if (r == OB_MP_OK)
        r = ob_multipart_finish(&p);
    l->stopped = r != OB_MP_OK;
    FUZZ_CHECK(ob_multipart_feed(&p, "\r\n--", 4) == r || r == OB_MP_OK, "error not sticky");
    FUZZ_CHECK(l->total_data <= len, "more data than body");
    if (r == OB_MP_OK)
        FUZZ_CHECK(!l->open, "finished inside a part");
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t ct_len = nl ? (size_t)(nl - in) : 0;
    char b[OB_MULTIPART_BOUNDARY_MAX + 1];
    size_t blen;
    ob_multipart_result br = ob_multipart_boundary(in, ct_len, b, &blen);
    if (br == OB_MP_OK) {
        FUZZ_CHECK(blen >= 1 && blen <= OB_MULTIPART_BOUNDARY_MAX && strlen(b) == blen,
                   "boundary length %zu", blen);
        FUZZ_CHECK(b[blen - 1] != ' ', "boundary ends in a space");
    } else {
        FUZZ_CHECK(br == OB_MP_NOT_MULTIPART || br == OB_MP_BAD_BOUNDARY, "boundary result %d",
                   (int)br);
        strcpy(b, "b");
        blen = 1;
    }
    size_t off = nl ? ct_len + 1 : 0;
    if (off >= size)
        return 0;
    uint8_t k = data[off++];
    const char *body = in + off;
    size_t len = size - off;
    ob_multipart_limits lim = {
        .max_body_bytes = (k & 0x80) ? len / 2 + 1 : 1 << 20,
        .max_file_bytes = (k & 0x40) ? 16 : 1 << 20,
        .max_field_bytes = (k & 0x40) ? 8 : 1 << 20,
        .max_parts = (k & 0x20) ? 2 : 100,
        .max_header_bytes = (k & 0x10) ? 48 : OB_MULTIPART_HEADER_MAX,
    };
    size_t chunk = (size_t)(k & 0x0f) * 4 + 1;
    log_t whole, pieces;
    ob_multipart_result r1 = run(a, b, blen, body, len, len ? len : 1, &lim, &whole);
    ob_multipart_result r2 = run(a, b, blen, body, len, chunk, &lim, &pieces);
    /* The body limit is checked per feed, so it depends on the chunks;
     * after an error, how much of the failing part was passed on does. */
    if (!(k & 0x80)) {
        FUZZ_CHECK(r1 == r2, "result %d at once, %d in chunks of %zu", (int)r1, (int)r2, chunk);
        if (r1 == OB_MP_OK)
            FUZZ_CHECK(whole.out.len == pieces.out.len &&
                           (whole.out.len == 0 ||
                            memcmp(whole.out.data, pieces.out.data, whole.out.len) == 0),
                       "events differ in chunks of %zu", chunk);
    }
    FUZZ_CHECK(ob_multipart_status(r1) >= 200 && ob_multipart_status(r1) <= 500, "status");
    ob_arena_reset(a);
    return 0;
}
