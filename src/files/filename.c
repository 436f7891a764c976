/* filename.c - stored names of uploads (filename.h). */
#include <stdbool.h>
#include <string.h>
#include <sodium.h>
#include "openbook/files/filename.h"
#include "openbook/http/parse.h"

/* An extension longer than this is not kept when a name is cut. */
#define EXT_KEEP_MAX 32

/* Control characters, line and paragraph separators, bidirectional
 * controls (which can make "gpj.exe" display as "exe.jpg") and the BOM. */
static bool dropped(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Bytes of s[0..len) to keep so that the cut falls on a character
 * boundary and keeps at most max bytes. */
static size_t cut_at(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

/* Writes stem + insert + ext into the arena, cutting the stem so the
 * whole is at most OB_FILENAME_MAX bytes. */
static char *join(ob_arena *a, const char *stem, size_t stem_len, const char *insert,
                  const char *ext, size_t ext_len)
{
    size_t ins = strlen(insert);
    size_t room = OB_FILENAME_MAX - ins - ext_len;
    stem_len = cut_at(stem, stem_len, room);
    char *out = ob_arena_alloc(a, stem_len + ins + ext_len + 1);
    memcpy(out, stem, stem_len);
    memcpy(out + stem_len, insert, ins);
    memcpy(out + stem_len + ins, ext, ext_len);
    out[stem_len + ins + ext_len] = '\0';
    return out;
}

/* The extension of a name without leading dots: from its last '.', or
 * empty.  Names with longer extensions are treated as having none. */
static size_t ext_len_of(const char *s, size_t len)
{
    const char *dot = memrchr(s, '.', len);
    if (!dot || dot == s)
        return 0;
    size_t n = len - (size_t)(dot - s);
    return n <= EXT_KEEP_MAX ? n : 0;
}

char *ob_filename_sanitize(ob_arena *a, const char *buf, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '/' || buf[i] == '\\')
            start = i + 1;
    char *clean = ob_arena_alloc(a, len - start + 1);
    size_t n = 0;
    for (size_t i = start; i < len;) {
        unsigned cp;
        size_t k = ob_utf8_decode(buf + i, len - i, &cp);
        if (k == 0) { /* not UTF-8: the byte goes */
            i++;
            continue;
        }
        if (!dropped(cp)) {
            memcpy(clean + n, buf + i, k);
            n += k;
        }
        i += k;
    }
    size_t b = 0;
    while (b < n && (clean[b] == '.' || is_space(clean[b])))
        b++;
    while (n > b && is_space(clean[n - 1]))
        n--;
    const char *name = clean + b;
    n -= b;
    if (n == 0)
        return ob_arena_strdup(a, "file");
    if (n <= OB_FILENAME_MAX) {
        clean[b + n] = '\0';
        return (char *)name;
    }
    size_t el = ext_len_of(name, n);
    char *out = join(a, name, n - el, "", name + n - el, el);
    /* Without an extension the cut may leave white space at the end. */
    size_t m = strlen(out);
    while (m > 0 && is_space(out[m - 1]))
        out[--m] = '\0';
    return out;
}

char *ob_filename_with_suffix(ob_arena *a, const char *name)
{
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char insert[OB_FILENAME_SUFFIX_LEN + 2];
    insert[0] = '_';
    for (int i = 0; i < OB_FILENAME_SUFFIX_LEN; i++)
        insert[1 + i] = alphabet[randombytes_uniform((uint32_t)(sizeof alphabet - 1))];
    insert[OB_FILENAME_SUFFIX_LEN + 1] = '\0';
    size_t n = strlen(name);
    size_t el = ext_len_of(name, n);
    return join(a, name, n - el, insert, name + n - el, el);
}
