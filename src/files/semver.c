/* semver.c - semver 2.0.0 versions, precedence, sort keys and dependency
 * expressions (semver.h, libraries.md §1). */
#include <string.h>
#include "openbook/files/semver.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* "0" or a digit run without a leading zero. */
static bool numeric_ok(const char *s, size_t n)
{
    return n > 0 && all_digits(s, n) && (n == 1 || s[0] != '0');
}

/* Dot-separated identifiers, none empty; numeric ones without leading
 * zeros when strict (pre-release), any digits otherwise (build). */
static bool identifiers_ok(const char *s, size_t n, bool strict)
{
    if (n == 0)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!is_ident_char(s[i]))
                return false;
            continue;
        }
        size_t len = i - start;
        if (len == 0)
            return false;
        if (strict && all_digits(s + start, len) && !numeric_ok(s + start, len))
            return false;
        start = i + 1;
    }
    return true;
}

/* Reads a numeric part ending at one of `ends` (or the end of input). */
static bool take_number(const char *buf, size_t len, size_t *pos, const char *ends,
                        const char **out, size_t *out_len)
{
    size_t s = *pos, i = s;
    while (i < len && is_digit(buf[i]))
        i++;
    if (i < len && !strchr(ends, buf[i]))
        return false;
    if (!numeric_ok(buf + s, i - s))
        return false;
    *out = buf + s;
    *out_len = i - s;
    *pos = i;
    return true;
}

bool ob_semver_parse(const char *buf, size_t len, ob_semver *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || len > OB_SEMVER_MAX)
        return false;
    size_t i = 0;
    if (!take_number(buf, len, &i, ".", &out->major, &out->major_len) || i == len)
        return false;
    i++;
    if (!take_number(buf, len, &i, ".", &out->minor, &out->minor_len) || i == len)
        return false;
    i++;
    if (!take_number(buf, len, &i, "-+", &out->patch, &out->patch_len))
        return false;
    if (i < len && buf[i] == '-') {
        size_t s = ++i;
        while (i < len && buf[i] != '+')
            i++;
        if (!identifiers_ok(buf + s, i - s, true))
            return false;
        out->pre = buf + s;
        out->pre_len = i - s;
    }
    if (i < len) { /* buf[i] == '+' */
        size_t s = ++i;
        if (!identifiers_ok(buf + s, len - s, false))
            return false;
        out->build = buf + s;
        out->build_len = len - s;
    }
    out->text = buf;
    out->len = len;
    return true;
}

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

/* Numbers without leading zeros: the longer one is larger. */
static int cmp_number(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return an < bn ? -1 : 1;
    return sign(memcmp(a, b, an));
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return sign(c);
    return an == bn ? 0 : an < bn ? -1 : 1;
}

/* The next identifier of a dot-separated list at *pos (moved past it). */
static void next_ident(const char *s, size_t n, size_t *pos, const char **id, size_t *id_len)
{
    size_t start = *pos, i = start;
    while (i < n && s[i] != '.')
        i++;
    *id = s + start;
    *id_len = i - start;
    *pos = i < n ? i + 1 : n;
}

static int cmp_prerelease(const ob_semver *a, const ob_semver *b)
{
    if (!a->pre || !b->pre)
        return a->pre ? -1 : b->pre ? 1 : 0; /* a release ranks above */
    size_t ia = 0, ib = 0;
    while (ia < a->pre_len && ib < b->pre_len) {
        const char *x, *y;
        size_t xn, yn;
        next_ident(a->pre, a->pre_len, &ia, &x, &xn);
        next_ident(b->pre, b->pre_len, &ib, &y, &yn);
        bool xnum = all_digits(x, xn), ynum = all_digits(y, yn);
        int c;
        if (xnum && ynum)
            c = cmp_number(x, xn, y, yn);
        else if (xnum != ynum)
            c = xnum ? -1 : 1; /* numeric identifiers rank lower */
        else
            c = cmp_bytes(x, xn, y, yn);
        if (c)
            return c;
    }
    /* A longer list of otherwise equal identifiers ranks higher. */
    return ia < a->pre_len ? 1 : ib < b->pre_len ? -1 : 0;
}

int ob_semver_cmp(const ob_semver *a, const ob_semver *b)
{
    int c = cmp_number(a->major, a->major_len, b->major, b->major_len);
    if (!c)
        c = cmp_number(a->minor, a->minor_len, b->minor, b->minor_len);
    if (!c)
        c = cmp_number(a->patch, a->patch_len, b->patch, b->patch_len);
    if (!c)
        c = cmp_prerelease(a, b);
    return c;
}

int ob_semver_order(const ob_semver *a, const ob_semver *b)
{
    int c = ob_semver_cmp(a, b);
    return c ? c : cmp_bytes(a->text, a->len, b->text, b->len);
}

/* Each piece is self-delimiting, so no key is a prefix of another's
 * precedence part and the trailing version string only breaks ties. */
size_t ob_semver_sort_key(const ob_semver *v, unsigned char out[OB_SEMVER_KEY_MAX])
{
    size_t n = 0;
    const char *parts[3] = {v->major, v->minor, v->patch};
    size_t lens[3] = {v->major_len, v->minor_len, v->patch_len};
    for (int p = 0; p < 3; p++) {
        out[n++] = (unsigned char)lens[p];
        memcpy(out + n, parts[p], lens[p]);
        n += lens[p];
    }
    if (!v->pre) {
        out[n++] = 0x02;
    } else {
        out[n++] = 0x01;
        size_t i = 0;
        while (i < v->pre_len) {
            const char *id;
            size_t idn;
            next_ident(v->pre, v->pre_len, &i, &id, &idn);
            if (all_digits(id, idn)) {
                out[n++] = 0x01;
                out[n++] = (unsigned char)idn;
            } else {
                out[n++] = 0x02;
            }
            memcpy(out + n, id, idn);
            n += idn;
            if (!all_digits(id, idn))
                out[n++] = 0x00;
        }
        out[n++] = 0x00;
    }
    /* Precedence part: at most len + 2 per identifier (< len) + 5. */
    memcpy(out + n, v->text, v->len);
    n += v->len;
    return n;
}

char *ob_semver_sort_key_text(ob_arena *a, const ob_semver *v)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char key[OB_SEMVER_KEY_MAX];
    size_t n = ob_semver_sort_key(v, key);
    char *s = ob_arena_alloc(a, 2 + 2 * n + 1);
    s[0] = '\\';
    s[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        s[2 + 2 * i] = hex[key[i] >> 4];
        s[3 + 2 * i] = hex[key[i] & 15];
    }
    s[2 + 2 * n] = '\0';
    return s;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool parse_clause(const char *s, size_t n, ob_version_clause *c)
{
    while (n > 0 && is_space(s[0])) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    static const struct {
        const char *text;
        ob_version_op op;
    } ops[] = {{"<=", OB_VOP_LE}, {">=", OB_VOP_GE}, {"==", OB_VOP_EQ}, {"!=", OB_VOP_NE},
               {"<", OB_VOP_LT},  {">", OB_VOP_GT}};
    c->op = OB_VOP_EQ;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t k = strlen(ops[i].text);
        if (n >= k && memcmp(s, ops[i].text, k) == 0) {
            c->op = ops[i].op;
            s += k;
            n -= k;
            while (n > 0 && is_space(s[0])) {
                s++;
                n--;
            }
            break;
        }
    }
    return ob_semver_parse(s, n, &c->version);
}

bool ob_version_expr_parse(ob_arena *a, const char *buf, size_t len, ob_version_expr *out)
{
    out->clauses = NULL;
    out->count = 0;
    if (len > OB_VERSION_EXPR_MAX)
        return false;
    size_t s = 0, e = len;
    while (s < e && is_space(buf[s]))
        s++;
    while (e > s && is_space(buf[e - 1]))
        e--;
    if (s == e || (e - s == 1 && buf[s] == '*'))
        return true;
    size_t count = 1;
    for (size_t i = s; i < e; i++)
        count += buf[i] == ',';
    if (count > OB_VERSION_EXPR_MAX_CLAUSES)
        return false;
    ob_version_clause *c = ob_arena_calloc(a, count, sizeof *c);
    size_t k = 0, start = s;
    for (size_t i = s; i <= e; i++) {
        if (i < e && buf[i] != ',')
            continue;
        if (!parse_clause(buf + start, i - start, &c[k++]))
            return false;
        start = i + 1;
    }
    out->clauses = c;
    out->count = count;
    return true;
}

bool ob_version_expr_match(const ob_version_expr *e, const ob_semver *v)
{
    for (size_t i = 0; i < e->count; i++) {
        int c = ob_semver_cmp(v, &e->clauses[i].version);
        bool ok = false;
        switch (e->clauses[i].op) {
        case OB_VOP_EQ: ok = c == 0; break;
        case OB_VOP_NE: ok = c != 0; break;
        case OB_VOP_LT: ok = c < 0; break;
        case OB_VOP_LE: ok = c <= 0; break;
        case OB_VOP_GT: ok = c > 0; break;
        case OB_VOP_GE: ok = c >= 0; break;
        }
        if (!ok)
            return false;
    }
    return true;
}
