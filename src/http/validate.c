/* validate.c - pure checks of account input (validate.h). */
#include <ctype.h>
#include <string.h>
#include "openbook/http/parse.h"
#include "openbook/http/validate.h"

static bool atext(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

/* dot-atom: atoms of atext separated by single dots. */
static bool valid_local(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    bool prev_dot = true; /* no leading dot */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (prev_dot)
                return false;
            prev_dot = true;
        } else if (atext(c)) {
            prev_dot = false;
        } else {
            return false;
        }
    }
    return !prev_dot;
}

/* A label: letters, digits, hyphens, neither first nor last a hyphen. */
static bool valid_label(const char *s, size_t len, bool tld)
{
    if (len == 0 || len > 63 || (tld && len < 2))
        return false;
    if (s[len - 1] == '-' || (!tld && s[0] == '-'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool valid_domain(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t start = 0, labels = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        bool last = i == len;
        if (!valid_label(s + start, i - start, last))
            return false;
        labels++;
        start = i + 1;
    }
    return labels >= 2; /* at least host.tld, as Django requires */
}

bool ob_valid_email(const char *s, size_t len)
{
    if (!s || len == 0 || len > OB_EMAIL_MAX)
        return false;
    const char *at = NULL;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '@')
            at = s + i;
    if (!at)
        return false;
    size_t ll = (size_t)(at - s);
    return valid_local(s, ll) && valid_domain(at + 1, len - ll - 1);
}

bool ob_valid_username_chars(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c < 0x80 && (isalnum(c) || c == '@' || c == '.' || c == '+' || c == '-' || c == '_')))
            return false;
    }
    return true;
}

size_t ob_utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

size_t ob_login_code_normalize(const char *s, size_t len, char out[OB_LOGIN_CODE_LEN + 1])
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || !isalnum(c))
            continue; /* dashes, punctuation, white space */
        if (n == OB_LOGIN_CODE_LEN)
            return OB_LOGIN_CODE_LEN + 1;
        out[n++] = (char)toupper(c);
        out[n] = '\0';
    }
    return n;
}

/* ---- JSON member scan ---- */

static size_t skip_ws(const char *b, size_t len, size_t i)
{
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return i;
}

/* b[i] is the opening quote: returns the index after the closing one, or
 * 0 when the string does not end.  *bad reports escaped NUL and raw
 * control characters; the UTF-8 of the contents is checked by the caller. */
static size_t scan_string(const char *b, size_t len, size_t i, bool *bad)
{
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            *bad = true;
        if (c == '\\') {
            if (i + 5 < len && b[i + 1] == 'u' && memcmp(b + i + 2, "0000", 4) == 0)
                *bad = true;
            i++; /* the escaped character */
        }
    }
    return 0;
}

/* Skips a non-string value (number, literal, array, object) by bracket
 * depth; returns the index after it, or 0 when it does not end. */
static size_t skip_value(const char *b, size_t len, size_t i)
{
    int depth = 0;
    while (i < len) {
        char c = b[i];
        if (c == '"') {
            bool ignored = false;
            i = scan_string(b, len, i, &ignored);
            if (!i)
                return 0;
            continue;
        }
        if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            if (depth == 0)
                return i;
            depth--;
        } else if (c == ',' && depth == 0) {
            return i;
        }
        i++;
    }
    return depth == 0 ? i : 0;
}

const char *ob_json_bad_string_member(ob_arena *a, const char *b, size_t len)
{
    size_t i = skip_ws(b, len, 0);
    if (i >= len || b[i] != '{')
        return NULL;
    i++;
    for (;;) {
        i = skip_ws(b, len, i);
        if (i >= len || b[i] != '"')
            return NULL; /* '}' or malformed */
        bool key_bad = false;
        size_t kend = scan_string(b, len, i, &key_bad);
        if (!kend)
            return NULL;
        size_t kstart = i + 1, klen = kend - 1 - kstart;
        i = skip_ws(b, len, kend);
        if (i >= len || b[i] != ':')
            return NULL;
        i = skip_ws(b, len, i + 1);
        if (i >= len)
            return NULL;
        if (b[i] == '"') {
            bool bad = false;
            size_t vend = scan_string(b, len, i, &bad);
            if (!vend)
                return NULL;
            if (bad || !ob_utf8_valid(b + i + 1, vend - 1 - (i + 1)))
                return ob_arena_strndup(a, b + kstart, klen > 64 ? 64 : klen);
            i = vend;
        } else {
            i = skip_value(b, len, i);
            if (!i)
                return NULL;
        }
        i = skip_ws(b, len, i);
        if (i >= len || b[i] != ',')
            return NULL;
        i++;
    }
}
