/* ws_handshake.c - RFC 6455 opening handshake parser (see ws_handshake.h). */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include "openbook/http/ws_handshake.h"

/* ---- SHA-1 ----------------------------------------------------------- */

static uint32_t rol(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999u;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void ob_sha1(const void *data, size_t len, unsigned char out[20])
{
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    const unsigned char *p = data;
    size_t left = len;
    while (left >= 64) {
        sha1_block(h, p);
        p += 64;
        left -= 64;
    }
    unsigned char tail[128];
    memset(tail, 0, sizeof tail);
    if (left)
        memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t tl = left < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tl - 1 - (size_t)i] = (unsigned char)(bits >> (8 * i));
    sha1_block(h, tail);
    if (tl == 128)
        sha1_block(h, tail + 64);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(h[i] >> 8);
        out[4 * i + 3] = (unsigned char)h[i];
    }
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(char c)
{
    const char *p = c ? strchr(b64chars, c) : NULL;
    return p ? (int)(p - b64chars) : -1;
}

void ob_ws_accept_key(const char *key, size_t len, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char tmp[128 + sizeof guid];
    if (len > 128)
        len = 128; /* callers pass a validated 24-byte key */
    memcpy(tmp, key, len);
    memcpy(tmp + len, guid, sizeof guid - 1);
    unsigned char d[20];
    ob_sha1(tmp, len + sizeof guid - 1, d);
    /* 20 bytes -> 28 base64 characters (the last one padding). */
    size_t o = 0;
    for (size_t i = 0; i < 20; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < 20)
            v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < 20)
            v |= d[i + 2];
        out[o++] = b64chars[(v >> 18) & 63];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = i + 1 < 20 ? b64chars[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < 20 ? b64chars[v & 63] : '=';
    }
    out[o] = '\0';
}

/* ---- the request head ------------------------------------------------ */

static bool is_tchar(unsigned char c)
{
    /* RFC 7230 token characters. */
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool name_is(const char *n, size_t nl, const char *want)
{
    return strlen(want) == nl && strncasecmp(n, want, nl) == 0;
}

static void trim(const char **p, size_t *len)
{
    while (*len && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*len)--;
    }
    while (*len && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t'))
        (*len)--;
}

/* True if the comma-separated list holds `token` (case-insensitive). */
static bool list_has(const char *v, size_t len, const char *token, bool case_insensitive)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < len) {
        size_t s = i;
        while (i < len && v[i] != ',')
            i++;
        const char *item = v + s;
        size_t il = i - s;
        trim(&item, &il);
        if (il == tl && (case_insensitive ? strncasecmp(item, token, tl) == 0
                                          : memcmp(item, token, tl) == 0))
            return true;
        i++; /* past the comma */
    }
    return false;
}

/* The key must be base64 of exactly 16 bytes: 22 characters and "==". */
static bool key_valid(const char *k, size_t len)
{
    if (len != 24 || k[22] != '=' || k[23] != '=')
        return false;
    for (size_t i = 0; i < 22; i++)
        if (b64val(k[i]) < 0)
            return false;
    /* The unused low 4 bits of the last character must be zero. */
    return (b64val(k[21]) & 15) == 0;
}

static const char *find_head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return buf + i;
    return NULL;
}

static bool version_ok(const char *v, size_t len)
{
    /* "HTTP/1.1" or a later 1.x (RFC 6455 §4.1 asks for at least 1.1). */
    if (len != 8 || memcmp(v, "HTTP/1.", 7) != 0)
        return false;
    return v[7] >= '1' && v[7] <= '9';
}

ob_ws_hs_result ob_ws_handshake_parse(const char *buf, size_t len, size_t max_head,
                                      ob_ws_handshake *hs)
{
    memset(hs, 0, sizeof *hs);
    if (max_head == 0 || max_head > OB_WS_MAX_HEAD)
        max_head = OB_WS_MAX_HEAD;
    size_t scan = len < max_head ? len : max_head;
    const char *end = find_head_end(buf, scan);
    if (!end) {
        if (len >= max_head)
            return OB_WS_HS_TOO_LARGE;
        /* A request that cannot become valid need not be read to the end. */
        if (len >= 4 && memcmp(buf, "GET ", 4) != 0)
            return OB_WS_HS_BAD;
        return OB_WS_HS_INCOMPLETE;
    }
    size_t head_len = (size_t)(end - buf) + 4;

    /* Request line. */
    const char *line = buf;
    const char *eol = memchr(line, '\r', (size_t)(end - line) + 1);
    if (!eol || eol[1] != '\n')
        return OB_WS_HS_BAD;
    size_t ll = (size_t)(eol - line);
    if (ll < 4 || memcmp(line, "GET ", 4) != 0)
        return OB_WS_HS_BAD;
    const char *target = line + 4;
    const char *sp = memchr(target, ' ', ll - 4);
    if (!sp)
        return OB_WS_HS_BAD;
    size_t tlen = (size_t)(sp - target);
    if (!version_ok(sp + 1, ll - 4 - tlen - 1))
        return OB_WS_HS_BAD;
    if (tlen == 0 || target[0] != '/')
        return OB_WS_HS_BAD; /* origin-form only */
    for (size_t i = 0; i < tlen; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c <= 0x20 || c >= 0x7f || c == '#')
            return OB_WS_HS_BAD;
    }
    const char *q = memchr(target, '?', tlen);
    hs->path.p = target;
    hs->path.len = q ? (size_t)(q - target) : tlen;
    hs->query.p = q ? q + 1 : target + tlen;
    hs->query.len = q ? tlen - hs->path.len - 1 : 0;

    bool upgrade = false, connection = false, version_seen = false, version13 = false;
    int nkeys = 0, nhosts = 0, norigins = 0, nheaders = 0;
    const char *p = eol + 2;
    while (p < end + 2) {
        const char *e = memchr(p, '\r', (size_t)(end + 2 - p));
        if (!e || e[1] != '\n')
            return OB_WS_HS_BAD;
        if (e == p)
            break; /* the blank line */
        if (++nheaders > OB_WS_MAX_HEADERS)
            return OB_WS_HS_BAD;
        size_t hl = (size_t)(e - p);
        const char *colon = memchr(p, ':', hl);
        if (!colon || colon == p)
            return OB_WS_HS_BAD; /* also refuses folded lines (leading space) */
        size_t nl = (size_t)(colon - p);
        for (size_t i = 0; i < nl; i++)
            if (!is_tchar((unsigned char)p[i]))
                return OB_WS_HS_BAD;
        const char *v = colon + 1;
        size_t vl = hl - nl - 1;
        for (size_t i = 0; i < vl; i++) {
            unsigned char c = (unsigned char)v[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return OB_WS_HS_BAD;
        }
        trim(&v, &vl);
        if (name_is(p, nl, "Host")) {
            nhosts++;
            hs->host.p = v;
            hs->host.len = vl;
        } else if (name_is(p, nl, "Upgrade")) {
            upgrade = upgrade || list_has(v, vl, "websocket", true);
        } else if (name_is(p, nl, "Connection")) {
            connection = connection || list_has(v, vl, "upgrade", true);
        } else if (name_is(p, nl, "Sec-WebSocket-Key")) {
            nkeys++;
            hs->key.p = v;
            hs->key.len = vl;
        } else if (name_is(p, nl, "Sec-WebSocket-Version")) {
            /* Repeated headers combine into a list; only "13" alone is ours. */
            version13 = !version_seen && vl == 2 && memcmp(v, "13", 2) == 0;
            version_seen = true;
        } else if (name_is(p, nl, "Origin")) {
            norigins++;
            hs->origin.p = v;
            hs->origin.len = vl;
        } else if (name_is(p, nl, "Sec-WebSocket-Protocol")) {
            /* Subprotocol names are case-sensitive tokens. */
            if (list_has(v, vl, OB_WS_SUBPROTOCOL, false))
                hs->subprotocol_offered = true;
        } else if (name_is(p, nl, "X-Forwarded-For")) {
            hs->forwarded_for.p = v;
            hs->forwarded_for.len = vl;
        } else if (name_is(p, nl, "Content-Length")) {
            if (!(vl == 1 && v[0] == '0'))
                return OB_WS_HS_BAD;
        } else if (name_is(p, nl, "Transfer-Encoding")) {
            return OB_WS_HS_BAD;
        }
        p = e + 2;
    }
    if (nhosts != 1 || hs->host.len == 0 || !upgrade || !connection || norigins > 1)
        return OB_WS_HS_BAD;
    if (nkeys != 1 || !key_valid(hs->key.p, hs->key.len))
        return OB_WS_HS_BAD;
    if (!version_seen)
        return OB_WS_HS_BAD;
    if (!version13)
        return OB_WS_HS_BAD_VERSION;
    hs->head_len = head_len;
    return OB_WS_HS_OK;
}

bool ob_ws_origin_host(const char *o, size_t len, char *out, size_t outcap)
{
    if (outcap == 0)
        return false;
    out[0] = '\0';
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < len; i++) {
        if (o[i] == ':' && o[i + 1] == '/' && o[i + 2] == '/') {
            sep = o + i;
            break;
        }
        char c = o[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))))
            return false;
    }
    if (!sep || sep == o)
        return false;
    const char *h = sep + 3;
    size_t hl = len - (size_t)(h - o);
    const char *hend;
    if (hl && h[0] == '[') {
        const char *rb = memchr(h, ']', hl);
        if (!rb)
            return false;
        hend = rb + 1;
        h++;
        hl = (size_t)(rb - h);
    } else {
        hend = h;
        while (hend < o + len && *hend != ':')
            hend++;
        hl = (size_t)(hend - h);
    }
    /* After the host: nothing, or ":<digits>". */
    const char *rest = hend;
    size_t rl = len - (size_t)(rest - o);
    if (rl) {
        if (rest[0] != ':' || rl == 1 || rl > 6)
            return false;
        for (size_t i = 1; i < rl; i++)
            if (rest[i] < '0' || rest[i] > '9')
                return false;
    }
    if (hl == 0 || hl >= outcap)
        return false;
    for (size_t i = 0; i < hl; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c <= 0x20 || c >= 0x7f || c == '@' || c == '/' || c == '?' || c == '#' || c == '\\')
            return false;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[hl] = '\0';
    return true;
}

bool ob_ws_query_param(const char *q, size_t qlen, const char *name, const char **val,
                       size_t *vlen)
{
    size_t nl = strlen(name);
    size_t i = 0;
    while (i < qlen) {
        size_t s = i;
        while (i < qlen && q[i] != '&')
            i++;
        const char *item = q + s;
        size_t il = i - s;
        if (il > nl && memcmp(item, name, nl) == 0 && item[nl] == '=') {
            *val = item + nl + 1;
            *vlen = il - nl - 1;
            return true;
        }
        i++;
    }
    *val = NULL;
    *vlen = 0;
    return false;
}

/* ---- client addresses ------------------------------------------------ */

/* The first 12 bytes of an IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2). */
static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool ob_ws_parse_addr(const char *s, size_t len, unsigned char out[16])
{
    char text[INET6_ADDRSTRLEN];
    if (len == 0 || len >= sizeof text || memchr(s, '\0', len))
        return false;
    memcpy(text, s, len);
    text[len] = '\0';
    if (memchr(s, ':', len))
        return inet_pton(AF_INET6, text, out) == 1;
    unsigned char v4[4];
    if (inet_pton(AF_INET, text, v4) != 1)
        return false;
    memcpy(out, v4_mapped, 12);
    memcpy(out + 12, v4, 4);
    return true;
}

bool ob_ws_forwarded_addr(const char *v, size_t len, unsigned char out[16])
{
    size_t start = len;
    while (start > 0 && v[start - 1] != ',')
        start--;
    const char *e = v + start;
    size_t el = len - start;
    trim(&e, &el);
    return ob_ws_parse_addr(e, el, out);
}

uint64_t ob_ws_addr_key(const unsigned char a[16])
{
    uint64_t k = 0;
    if (memcmp(a, v4_mapped, 12) == 0) {
        for (int i = 12; i < 16; i++)
            k = k << 8 | a[i];
        return 0xffffffff00000000ull | k;
    }
    for (int i = 0; i < 8; i++)
        k = k << 8 | a[i];
    return k;
}
