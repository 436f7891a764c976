/* multipart.c - streaming multipart/form-data (multipart.h).
 *
 * The body is a preamble, then parts, each introduced by a delimiter line
 * ("\r\n--" boundary, optional white space, "\r\n") and made of a header
 * block ending in an empty line and data up to the next delimiter; "--"
 * right after a delimiter closes the body, and the epilogue after it is
 * ignored.  The parser treats the body as if a "\r\n" preceded it, so a
 * first delimiter at offset 0 needs no special case.
 *
 * Data is scanned with memchr for '\r'.  A '\r' may start a delimiter,
 * which can straddle chunks: the bytes matched so far are held back (as a
 * count; they are a prefix of the delimiter) and released as data when
 * the match fails.  '\r' occurs in the delimiter only at its start, so a
 * failed match restarts at the failing byte and no other backtracking is
 * needed. */
#include <string.h>
#include <strings.h>
#include "openbook/core/config.h"
#include "openbook/http/multipart.h"
#include "openbook/http/parse.h"

enum {
    ST_PREAMBLE,   /* before the first delimiter: bytes are discarded */
    ST_AFTER_DELIM,
    ST_CLOSE_DASH, /* "-" seen after a delimiter */
    ST_PADDING,    /* transport padding (spaces, tabs) before CRLF */
    ST_LF,         /* "\r" seen, "\n" expected */
    ST_HEADERS,
    ST_DATA,
    ST_DONE,       /* the epilogue: ignored */
};

ob_multipart_limits ob_multipart_limits_for(const ob_config *cfg, bool archive)
{
    ob_multipart_limits l = {
        .max_field_bytes = (uint64_t)cfg->max_body_bytes,
        .max_parts = (size_t)cfg->max_form_fields,
        .max_header_bytes = OB_MULTIPART_HEADER_MAX,
    };
    if (archive) {
        l.max_file_bytes = (uint64_t)cfg->library_archive_max_bytes;
        l.max_body_bytes = l.max_file_bytes + OB_MULTIPART_OVERHEAD;
    } else {
        l.max_file_bytes = (uint64_t)cfg->max_upload_bytes;
        l.max_body_bytes = l.max_file_bytes;
    }
    return l;
}

/* ---- header values: tokens, quoted strings, parameters ----------------- */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* A parameter "; key=value" of a header value, as spans into s.  *quoted
 * says the value was a quoted-string (the span excludes the quotes and
 * still holds its backslash escapes).  Returns 1 for a parameter, 0 at the
 * end, -1 for an unterminated quoted string. */
static int next_param(const char *s, size_t n, size_t *pos, const char **key, size_t *klen,
                      const char **val, size_t *vlen, bool *quoted)
{
    size_t i = *pos;
    for (;;) {
        while (i < n && (is_ows(s[i]) || s[i] == ';'))
            i++;
        if (i >= n) {
            *pos = n;
            return 0;
        }
        size_t ks = i;
        while (i < n && s[i] != '=' && s[i] != ';' && !is_ows(s[i]))
            i++;
        size_t ke = i;
        while (i < n && is_ows(s[i]))
            i++;
        if (i >= n || s[i] != '=') /* a key without a value: ignored */
            continue;
        i++;
        while (i < n && is_ows(s[i]))
            i++;
        *key = s + ks;
        *klen = ke - ks;
        *quoted = i < n && s[i] == '"';
        if (*quoted) {
            size_t vs = ++i;
            while (i < n && s[i] != '"')
                i += (s[i] == '\\' && i + 1 < n) ? 2 : 1;
            if (i >= n)
                return -1;
            *val = s + vs;
            *vlen = i - vs;
            i++;
        } else {
            size_t vs = i;
            while (i < n && s[i] != ';' && !is_ows(s[i]))
                i++;
            *val = s + vs;
            *vlen = i - vs;
        }
        *pos = i;
        return 1;
    }
}

static bool ieq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* RFC 2046 bchars: DIGIT ALPHA ' ( ) + _ , - . / : = ? and space. */
static bool bchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("'()+_,-./:=? ", c));
}

ob_multipart_result ob_multipart_boundary(const char *buf, size_t len,
                                          char out[OB_MULTIPART_BOUNDARY_MAX + 1],
                                          size_t *out_len)
{
    out[0] = '\0';
    *out_len = 0;
    size_t i = 0;
    while (i < len && is_ows(buf[i]))
        i++;
    size_t ts = i;
    while (i < len && buf[i] != ';')
        i++;
    size_t te = i;
    while (te > ts && is_ows(buf[te - 1]))
        te--;
    if (!ieq(buf + ts, te - ts, "multipart/form-data"))
        return OB_MP_NOT_MULTIPART;
    const char *key, *val;
    size_t klen, vlen;
    bool quoted;
    while (next_param(buf, len, &i, &key, &klen, &val, &vlen, &quoted) == 1) {
        if (!ieq(key, klen, "boundary"))
            continue;
        if (vlen == 0 || vlen > OB_MULTIPART_BOUNDARY_MAX || val[vlen - 1] == ' ')
            return OB_MP_BAD_BOUNDARY;
        for (size_t k = 0; k < vlen; k++)
            if (!bchar(val[k]))
                return OB_MP_BAD_BOUNDARY;
        memcpy(out, val, vlen);
        out[vlen] = '\0';
        *out_len = vlen;
        return OB_MP_OK;
    }
    return OB_MP_BAD_BOUNDARY;
}

/* ---- the parser ---------------------------------------------------------- */

void ob_multipart_init(ob_multipart *p, ob_arena *a, const char *boundary, size_t boundary_len,
                       const ob_multipart_limits *limits, const ob_multipart_handler *h)
{
    memset(p, 0, sizeof *p);
    p->limits = *limits;
    if (h)
        p->h = *h;
    if (boundary_len == 0 || boundary_len > OB_MULTIPART_BOUNDARY_MAX) {
        p->result = OB_MP_BAD_BOUNDARY;
        return;
    }
    memcpy(p->delim, "\r\n--", 4);
    memcpy(p->delim + 4, boundary, boundary_len);
    p->delim_len = 4 + boundary_len;
    p->match = 2; /* the "\r\n" the body is treated as starting with */
    p->state = ST_PREAMBLE;
    p->arena = a;
    p->hbuf = ob_arena_alloc(a, p->limits.max_header_bytes + 1);
}

static ob_multipart_result fail(ob_multipart *p, ob_multipart_result r)
{
    if (p->result == OB_MP_OK)
        p->result = r;
    return p->result;
}

/* Part data (or preamble, dropped).  Non-zero on error. */
static int emit(ob_multipart *p, const char *d, size_t n)
{
    if (p->state == ST_PREAMBLE || n == 0)
        return 0;
    p->part_bytes += n;
    uint64_t max = p->is_file ? p->limits.max_file_bytes : p->limits.max_field_bytes;
    if (p->part_bytes > max)
        return fail(p, OB_MP_TOO_LARGE);
    if (p->in_part && p->h.part_data && p->h.part_data(p->h.ctx, d, n))
        return fail(p, OB_MP_ABORTED);
    return 0;
}

static void delimiter_found(ob_multipart *p)
{
    if (p->in_part) {
        p->in_part = false;
        if (p->h.part_end && p->h.part_end(p->h.ctx)) {
            fail(p, OB_MP_ABORTED);
            return;
        }
    }
    p->state = ST_AFTER_DELIM;
}

/* Preamble or part data up to a delimiter; returns the bytes consumed. */
static size_t scan(ob_multipart *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (p->match == 0) {
            const char *cr = memchr(s + i, '\r', n - i);
            size_t run = cr ? (size_t)(cr - (s + i)) : n - i;
            if (emit(p, s + i, run))
                return n;
            i += run;
            if (!cr)
                return n;
        }
        if (s[i] == p->delim[p->match]) {
            i++;
            if (++p->match == p->delim_len) {
                p->match = 0;
                delimiter_found(p);
                return i;
            }
        } else {
            /* The held bytes were data after all; s[i] is tried again. */
            size_t held = p->match;
            p->match = 0;
            if (emit(p, p->delim, held))
                return n;
        }
    }
    return n;
}

/* Undoes the \\ and \" escapes of a quoted string in place (other
 * backslashes stay: old browsers send Windows paths unescaped). */
static size_t unescape(char *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '\\' || s[i + 1] == '"'))
            i++;
        s[j++] = s[i];
    }
    return j;
}

/* RFC 8187 ext-value "UTF-8'lang'%xx...", decoded into the arena; NULL
 * for another charset or a value without the two quotes. */
static char *ext_value(ob_arena *a, const char *s, size_t n, size_t *out_len)
{
    const char *q1 = memchr(s, '\'', n);
    if (!q1 || !ieq(s, (size_t)(q1 - s), "utf-8"))
        return NULL;
    const char *q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - s));
    if (!q2)
        return NULL;
    char *out;
    ob_percent_decode(a, q2 + 1, n - (size_t)(q2 + 1 - s), false, &out, out_len);
    return out;
}

static bool text_ok(const char *s, size_t n)
{
    return !memchr(s, '\0', n) && ob_utf8_valid(s, n);
}

/* The header block is complete (hbuf[0..hlen) ends with an empty line):
 * reads Content-Disposition and Content-Type and starts the part. */
static void begin_part(ob_multipart *p)
{
    char *h = p->hbuf;
    size_t n = p->hlen - 2; /* without the final empty line */
    char *cd = NULL, *ct = NULL;
    size_t cd_len = 0, ct_len = 0;
    size_t i = 0;
    while (i < n) {
        char *eol = memmem(h + i, n - i, "\r\n", 2); /* every line ends in CRLF */
        size_t e = (size_t)(eol - h);
        char *line = h + i;
        size_t ll = e - i;
        if (memchr(line, '\r', ll) || memchr(line, '\n', ll) || memchr(line, '\0', ll)) {
            fail(p, OB_MP_MALFORMED);
            return;
        }
        char *colon = memchr(line, ':', ll);
        if (!colon || colon == line) {
            fail(p, OB_MP_MALFORMED);
            return;
        }
        size_t nl = (size_t)(colon - line);
        char *v = colon + 1;
        size_t vl = ll - nl - 1;
        while (vl && is_ows(*v)) {
            v++;
            vl--;
        }
        while (vl && is_ows(v[vl - 1]))
            vl--;
        if (ieq(line, nl, "content-disposition") && !cd) {
            cd = v;
            cd_len = vl;
        } else if (ieq(line, nl, "content-type") && !ct) {
            ct = v;
            ct_len = vl;
        }
        i = e + 2;
    }
    p->is_file = false;
    p->in_part = false;
    p->part_bytes = 0;
    p->state = ST_DATA;
    p->match = 0;
    if (!cd)
        return; /* not a form field: skipped */
    size_t k = 0;
    while (k < cd_len && cd[k] != ';' && !is_ows(cd[k]))
        k++;
    if (!ieq(cd, k, "form-data"))
        return;
    char *name = NULL, *fname = NULL, *fname_ext = NULL;
    size_t name_len = 0, fname_len = 0, fname_ext_len = 0;
    const char *key, *val;
    size_t klen, vlen;
    bool quoted;
    int r;
    while ((r = next_param(cd, cd_len, &k, &key, &klen, &val, &vlen, &quoted)) == 1) {
        char *v = (char *)val; /* hbuf is ours: values are decoded in place */
        if (quoted)
            vlen = unescape(v, vlen);
        if (ieq(key, klen, "name") && !name) {
            name = v;
            name_len = vlen;
        } else if (ieq(key, klen, "filename") && !fname) {
            fname = v;
            fname_len = vlen;
        } else if (ieq(key, klen, "filename*") && !fname_ext) {
            fname_ext = ext_value(p->arena, v, vlen, &fname_ext_len);
        }
    }
    if (r < 0) {
        fail(p, OB_MP_MALFORMED);
        return;
    }
    if (fname_ext) {
        fname = fname_ext;
        fname_len = fname_ext_len;
    }
    if (!name)
        return;
    if (!text_ok(name, name_len) || (fname && !text_ok(fname, fname_len))) {
        fail(p, OB_MP_BAD_ENCODING);
        return;
    }
    /* Every span in hbuf ends at or before a byte no longer needed (a
     * closing quote, a separator, the CR of its line), so terminate them
     * now (a decoded filename* is terminated already). */
    name[name_len] = '\0';
    if (fname && fname != fname_ext)
        fname[fname_len] = '\0';
    if (ct)
        ct[ct_len] = '\0';
    ob_multipart_part part = {
        .name = name,
        .name_len = name_len,
        .filename = fname,
        .filename_len = fname_len,
        .content_type = ct ? ct : "",
    };
    p->is_file = fname != NULL;
    p->in_part = true;
    if (p->h.part_begin && p->h.part_begin(p->h.ctx, &part))
        fail(p, OB_MP_ABORTED);
}

/* Collects a header block; returns the bytes consumed. */
static size_t headers(ob_multipart *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (p->hlen == p->limits.max_header_bytes) {
            fail(p, OB_MP_HEADER_TOO_LONG);
            return n;
        }
        char c = s[i++];
        p->hbuf[p->hlen++] = c;
        if (c == '\n' && p->hlen >= 2 && p->hbuf[p->hlen - 2] == '\r' &&
            (p->hlen == 2 || (p->hlen >= 4 && memcmp(p->hbuf + p->hlen - 4, "\r\n\r\n", 4) == 0))) {
            begin_part(p);
            return i;
        }
    }
    return n;
}

ob_multipart_result ob_multipart_feed(ob_multipart *p, const char *buf, size_t len)
{
    if (p->result != OB_MP_OK)
        return p->result;
    if (len > p->limits.max_body_bytes - p->body_bytes)
        return fail(p, OB_MP_TOO_LARGE);
    p->body_bytes += len;
    size_t i = 0;
    while (i < len && p->result == OB_MP_OK) {
        char c;
        switch (p->state) {
        case ST_PREAMBLE:
        case ST_DATA:
            i += scan(p, buf + i, len - i);
            break;
        case ST_AFTER_DELIM:
            c = buf[i++];
            if (c == '-')
                p->state = ST_CLOSE_DASH;
            else if (is_ows(c))
                p->state = ST_PADDING;
            else if (c == '\r')
                p->state = ST_LF;
            else
                fail(p, OB_MP_MALFORMED);
            break;
        case ST_CLOSE_DASH:
            if (buf[i++] == '-')
                p->state = ST_DONE;
            else
                fail(p, OB_MP_MALFORMED);
            break;
        case ST_PADDING:
            c = buf[i++];
            if (c == '\r')
                p->state = ST_LF;
            else if (!is_ows(c))
                fail(p, OB_MP_MALFORMED);
            break;
        case ST_LF:
            if (buf[i++] != '\n') {
                fail(p, OB_MP_MALFORMED);
            } else if (p->parts == p->limits.max_parts) {
                fail(p, OB_MP_TOO_MANY_FIELDS);
            } else {
                p->parts++;
                p->hlen = 0;
                p->state = ST_HEADERS;
            }
            break;
        case ST_HEADERS:
            i += headers(p, buf + i, len - i);
            break;
        default: /* ST_DONE */
            i = len;
            break;
        }
    }
    return p->result;
}

ob_multipart_result ob_multipart_finish(ob_multipart *p)
{
    if (p->result != OB_MP_OK)
        return p->result;
    if (p->state != ST_DONE)
        return fail(p, OB_MP_TRUNCATED);
    return OB_MP_OK;
}

int ob_multipart_status(ob_multipart_result r)
{
    switch (r) {
    case OB_MP_OK: return 200;
    case OB_MP_NOT_MULTIPART: return 415;
    case OB_MP_TOO_LARGE: return 413;
    case OB_MP_ABORTED: return 500;
    default: return 400;
    }
}

const char *ob_multipart_message(ob_multipart_result r)
{
    switch (r) {
    case OB_MP_OK: return "";
    case OB_MP_NOT_MULTIPART: return NULL;
    case OB_MP_BAD_BOUNDARY: return "Multipart form parse error - Invalid boundary in multipart: None";
    case OB_MP_MALFORMED: return "Multipart form parse error - Malformed multipart body.";
    case OB_MP_TRUNCATED: return "Multipart form parse error - Incomplete multipart body.";
    case OB_MP_HEADER_TOO_LONG: return "Multipart form parse error - Part headers too long.";
    case OB_MP_BAD_ENCODING: return "Multipart form parse error - Invalid characters in a part name.";
    case OB_MP_TOO_MANY_FIELDS: return "Too many fields.";
    case OB_MP_TOO_LARGE: return "Request body too large.";
    case OB_MP_ABORTED: return NULL;
    }
    return "Internal server error.";
}
