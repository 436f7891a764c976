/* parse.c - request parsers over (buf, len).  See parse.h for contracts;
 * each one is fuzzed by a target in test/fuzz/. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "openbook/http/parse.h"

bool ob_utf8_valid(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if ((unsigned char)buf[i] < 0x80) { /* the common case, without a call */
            i++;
            continue;
        }
        unsigned cp;
        size_t n = ob_utf8_decode(buf + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void ob_percent_decode(ob_arena *a, const char *buf, size_t len, bool plus_is_space,
                       char **out, size_t *out_len)
{
    char *d = ob_arena_alloc(a, len + 1);
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '%' && i + 2 < len && hexval((unsigned char)buf[i + 1]) >= 0 && hexval((unsigned char)buf[i + 2]) >= 0) {
            d[j++] = (char)(hexval((unsigned char)buf[i + 1]) * 16 +
                            hexval((unsigned char)buf[i + 2]));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            d[j++] = ' ';
        } else {
            d[j++] = (char)c;
        }
    }
    d[j] = '\0';
    *out = d;
    *out_len = j;
}

const ob_kv *ob_kv_find(const ob_kv *kv, size_t count, const char *key)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(kv[i].key, key) == 0)
            return &kv[i];
    return NULL;
}

ob_parse_result ob_parse_urlencoded(ob_arena *a, const char *buf, size_t len, size_t max,
                                    ob_kv **out, size_t *count)
{
    /* Count items first so the array is allocated once. */
    size_t items = 1;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '&')
            items++;
    size_t cap = items < max ? items : max;
    ob_kv *kv = ob_arena_calloc(a, cap ? cap : 1, sizeof *kv);
    size_t n = 0;
    size_t start = 0;
    while (start <= len) {
        const char *amp = memchr(buf + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - buf) : len;
        if (end > start) {
            const char *item = buf + start;
            size_t ilen = end - start;
            const char *eq = memchr(item, '=', ilen);
            size_t klen = eq ? (size_t)(eq - item) : ilen;
            if (n >= max) {
                *out = kv;
                *count = n;
                return OB_PARSE_TOO_MANY;
            }
            char *k, *v;
            size_t kl, vl;
            ob_percent_decode(a, item, klen, true, &k, &kl);
            if (eq)
                ob_percent_decode(a, eq + 1, ilen - klen - 1, true, &v, &vl);
            else {
                v = ob_arena_strdup(a, "");
                vl = 0;
            }
            if (memchr(k, '\0', kl) || memchr(v, '\0', vl) || !ob_utf8_valid(k, kl) ||
                !ob_utf8_valid(v, vl)) {
                *out = kv;
                *count = n;
                return OB_PARSE_BAD_ENCODING;
            }
            kv[n].key = k;
            kv[n].key_len = kl;
            kv[n].value = v;
            kv[n].value_len = vl;
            n++;
        }
        if (!amp)
            break;
        start = end + 1;
    }
    *out = kv;
    *count = n;
    return OB_PARSE_OK;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

ob_parse_result ob_parse_cookies(ob_arena *a, const char *buf, size_t len, size_t max,
                                 ob_kv **out, size_t *count)
{
    size_t items = 1;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == ';')
            items++;
    size_t cap = items < max ? items : max;
    ob_kv *kv = ob_arena_calloc(a, cap ? cap : 1, sizeof *kv);
    size_t n = 0;
    size_t start = 0;
    ob_parse_result rc = OB_PARSE_OK;
    while (start < len) {
        const char *semi = memchr(buf + start, ';', len - start);
        size_t end = semi ? (size_t)(semi - buf) : len;
        size_t s = start, e = end;
        while (s < e && is_ows(buf[s]))
            s++;
        while (e > s && is_ows(buf[e - 1]))
            e--;
        const char *eq = memchr(buf + s, '=', e - s);
        if (eq && eq > buf + s) {
            size_t ke = (size_t)(eq - buf);
            while (ke > s && is_ows(buf[ke - 1]))
                ke--;
            size_t vs = (size_t)(eq - buf) + 1;
            while (vs < e && is_ows(buf[vs]))
                vs++;
            size_t ve = e;
            if (ve - vs >= 2 && buf[vs] == '"' && buf[ve - 1] == '"') {
                vs++;
                ve--;
            }
            bool ok = ke > s && !memchr(buf + s, '\0', ke - s) && !memchr(buf + vs, '\0', ve - vs);
            if (ok) {
                if (n >= max) {
                    rc = OB_PARSE_TOO_MANY;
                    break;
                }
                kv[n].key = ob_arena_strndup(a, buf + s, ke - s);
                kv[n].key_len = ke - s;
                kv[n].value = ob_arena_strndup(a, buf + vs, ve - vs);
                kv[n].value_len = ve - vs;
                n++;
            }
        }
        if (!semi)
            break;
        start = end + 1;
    }
    *out = kv;
    *count = n;
    return rc;
}

ob_parse_result ob_parse_path(ob_arena *a, const char *buf, size_t len, char **out,
                              size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (len == 0 || buf[0] != '/')
        return OB_PARSE_BAD_PATH;
    char *dec;
    size_t dlen;
    ob_percent_decode(a, buf, len, false, &dec, &dlen);
    if (memchr(dec, '\0', dlen) || !ob_utf8_valid(dec, dlen))
        return OB_PARSE_BAD_ENCODING;
    char *norm = ob_arena_alloc(a, dlen + 1);
    size_t j = 0;
    size_t i = 0;
    while (i < dlen) {
        /* dec[i] == '/' here: skip the run of slashes, copy one. */
        while (i < dlen && dec[i] == '/')
            i++;
        norm[j++] = '/';
        size_t s = i;
        while (i < dlen && dec[i] != '/')
            i++;
        size_t seg = i - s;
        if ((seg == 1 && dec[s] == '.') || (seg == 2 && dec[s] == '.' && dec[s + 1] == '.'))
            return OB_PARSE_BAD_PATH;
        for (size_t k = 0; k < seg; k++) {
            unsigned char c = (unsigned char)dec[s + k];
            if (c < 0x20 || c == 0x7f || c == '\\')
                return OB_PARSE_BAD_PATH;
        }
        memcpy(norm + j, dec + s, seg);
        j += seg;
    }
    /* "/a/" leaves a trailing '/' from the loop only when input ended in
     * '/'; "/a" does not.  Drop a doubled final slash produced by "//". */
    norm[j] = '\0';
    *out = norm;
    *out_len = j;
    return OB_PARSE_OK;
}

/* A qvalue ("0.5", "1", "0.125") in thousandths, from p up to end; -1 when
 * it does not start with 0 or 1.  Digits past the third decimal and
 * anything after the number are ignored, and values above 1 count as 1:
 * browsers send nothing stranger, and a lenient reading cannot hurt. */
static int parse_qvalue(const char *p, const char *end)
{
    if (p >= end || (*p != '0' && *p != '1'))
        return -1;
    int whole = *p++ - '0', frac = 0, digits = 0;
    if (p < end && *p == '.') {
        p++;
        while (p < end && isdigit((unsigned char)*p) && digits < 3) {
            frac = frac * 10 + (*p++ - '0');
            digits++;
        }
    }
    for (; digits < 3; digits++)
        frac *= 10;
    int q = whole * 1000 + frac;
    return q > 1000 ? 1000 : q;
}

size_t ob_parse_accept_language(ob_arena *a, const char *buf, size_t len, const char **out,
                                size_t max)
{
    typedef struct {
        char tag[9];
        int q; /* quality in thousandths */
        size_t order;
    } ent;
    enum { MAXE = 16 };
    ent e[MAXE];
    size_t n = 0;
    size_t start = 0;
    size_t order = 0;
    while (start < len && n < MAXE) {
        const char *comma = memchr(buf + start, ',', len - start);
        size_t end = comma ? (size_t)(comma - buf) : len;
        size_t s = start;
        while (s < end && is_ows(buf[s]))
            s++;
        size_t t = 0;
        char tag[9];
        while (s < end && t < 8 && isalpha((unsigned char)buf[s]))
            tag[t++] = (char)tolower((unsigned char)buf[s++]);
        tag[t] = '\0';
        int q = 1000;
        const char *semi = memchr(buf + s, ';', end - s);
        if (semi) {
            const char *p = semi + 1;
            while (p < buf + end && is_ows(*p))
                p++;
            if (buf + end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
                q = parse_qvalue(p + 2, buf + end);
        }
        if (t > 0 && q > 0) {
            memcpy(e[n].tag, tag, t + 1);
            e[n].q = q;
            e[n].order = order++;
            n++;
        }
        if (!comma)
            break;
        start = end + 1;
    }
    /* Stable insertion sort by quality, descending. */
    for (size_t i = 1; i < n; i++) {
        ent x = e[i];
        size_t j = i;
        while (j > 0 && e[j - 1].q < x.q) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = x;
    }
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++)
        out[k++] = ob_arena_strdup(a, e[i].tag);
    return k;
}

size_t ob_json_depth(const char *buf, size_t len)
{
    size_t depth = 0, maxd = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > maxd)
                maxd = depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return maxd;
}

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int ob_parse_accept_gzip(const char *buf, size_t len)
{
    int gzip = -1, any = -1;
    size_t start = 0;
    while (start < len) {
        const char *comma = memchr(buf + start, ',', len - start);
        size_t end = comma ? (size_t)(comma - buf) : len;
        size_t s = start;
        while (s < end && is_ows(buf[s]))
            s++;
        size_t tok = s;
        while (s < end && is_tchar((unsigned char)buf[s]))
            s++;
        size_t tlen = s - tok;
        int q = 1000;
        bool ok = tlen > 0;
        /* Parameters: only q means anything for a content coding. */
        while (ok && s < end) {
            while (s < end && is_ows(buf[s]))
                s++;
            if (s == end)
                break;
            if (buf[s] != ';') {
                ok = false; /* "gzip deflate": not one element */
                break;
            }
            s++;
            while (s < end && is_ows(buf[s]))
                s++;
            if (end - s >= 2 && (buf[s] == 'q' || buf[s] == 'Q') && buf[s + 1] == '=') {
                q = parse_qvalue(buf + s + 2, buf + end);
                ok = q >= 0;
            }
            while (s < end && buf[s] != ';')
                s++;
        }
        /* The first well-formed mention wins; x-gzip is gzip's old name. */
        if (ok && ((tlen == 4 && strncasecmp(buf + tok, "gzip", 4) == 0) ||
                   (tlen == 6 && strncasecmp(buf + tok, "x-gzip", 6) == 0))) {
            if (gzip < 0)
                gzip = q;
        } else if (ok && tlen == 1 && buf[tok] == '*') {
            if (any < 0)
                any = q;
        }
        start = end + 1;
    }
    if (gzip >= 0)
        return gzip;
    return any > 0 ? any : 0;
}

bool ob_parse_request_id(const char *buf, size_t len)
{
    if (len == 0 || len > OB_REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (!isalnum(c) && (c == 0 || !strchr("-._:@+=/", c)))
            return false;
    }
    return true;
}

bool ob_parse_request_line(const char *buf, size_t len, ob_request_line *out)
{
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == 0 || i >= len || buf[i] != ' ')
        return false;
    out->method = buf;
    out->method_len = i;
    size_t t = ++i;
    if (t >= len || buf[t] != '/')
        return false;
    size_t path_end = 0;
    while (i < len && buf[i] != ' ') {
        unsigned char c = (unsigned char)buf[i];
        if (c <= 0x20 || c == 0x7f)
            return false;
        if (c == '?' && !path_end)
            path_end = i;
        i++;
    }
    if (i >= len)
        return false;
    out->path = buf + t;
    out->path_len = (path_end ? path_end : i) - t;
    i++;
    if (len - i < 8 || memcmp(buf + i, "HTTP/1.", 7) != 0 ||
        (buf[i + 7] != '0' && buf[i + 7] != '1'))
        return false;
    i += 8;
    if (i < len && buf[i] == '\r')
        i++;
    return i < len && buf[i] == '\n';
}
