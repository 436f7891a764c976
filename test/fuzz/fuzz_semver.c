/* fuzz_semver.c - versions and dependency expressions (semver.h).
 *
 * Input: up to three '\n'-separated texts a, b, e.  Invariants: a parsed
 * version has its parts inside the input, digits without leading zeros,
 * and at most OB_SEMVER_MAX bytes; ob_semver_order is antisymmetric and 0
 * only for equal strings; the sort keys of a and b compare (bytewise,
 * then shorter first) exactly as ob_semver_order does, and fit
 * OB_SEMVER_KEY_MAX; the key's text form is "\x" and two hex digits per
 * byte; an expression that parses matches a version the same way as its
 * clauses one by one. */
#include <string.h>
#include "openbook/files/semver.h"
#include "fuzz_common.h"

static int sgn(int v)
{
    return (v > 0) - (v < 0);
}

static void check_version(const char *s, size_t n, const ob_semver *v)
{
    FUZZ_CHECK(v->text == s && v->len == n && n <= OB_SEMVER_MAX, "span");
    FUZZ_CHECK(v->major >= s && v->patch + v->patch_len <= s + n, "parts outside the input");
    FUZZ_CHECK(v->major_len && (v->major_len == 1 || v->major[0] != '0'), "leading zero");
    FUZZ_CHECK(ob_semver_order(v, v) == 0 && ob_semver_cmp(v, v) == 0, "not equal to itself");
}

static int key_cmp(const ob_semver *a, const ob_semver *b)
{
    unsigned char ka[OB_SEMVER_KEY_MAX], kb[OB_SEMVER_KEY_MAX];
    size_t an = ob_semver_sort_key(a, ka), bn = ob_semver_sort_key(b, kb);
    FUZZ_CHECK(an <= OB_SEMVER_KEY_MAX && bn <= OB_SEMVER_KEY_MAX, "key too long");
    int c = memcmp(ka, kb, an < bn ? an : bn);
    return c ? sgn(c) : (an > bn) - (an < bn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    const char *in = (const char *)data;
    const char *part[3] = {in, in, in};
    size_t len[3] = {size, 0, 0};
    for (int i = 0; i < 2; i++) {
        const char *nl = memchr(part[i], '\n', len[i]);
        if (!nl)
            break;
        part[i + 1] = nl + 1;
        len[i + 1] = len[i] - (size_t)(nl + 1 - part[i]);
        len[i] = (size_t)(nl - part[i]);
    }
    ob_semver va, vb;
    bool oka = ob_semver_parse(part[0], len[0], &va);
    bool okb = ob_semver_parse(part[1], len[1], &vb);
    if (oka) {
        check_version(part[0], len[0], &va);
        char *t = ob_semver_sort_key_text(a, &va);
        FUZZ_CHECK(t[0] == '\\' && t[1] == 'x' && strlen(t) % 2 == 0, "key text");
        FUZZ_CHECK(strspn(t + 2, "0123456789abcdef") == strlen(t + 2), "key text digits");
    }
    if (okb)
        check_version(part[1], len[1], &vb);
    if (oka && okb) {
        int o = ob_semver_order(&va, &vb);
        FUZZ_CHECK(sgn(o) == -sgn(ob_semver_order(&vb, &va)), "order not antisymmetric");
        FUZZ_CHECK((o == 0) == (len[0] == len[1] && memcmp(part[0], part[1], len[0]) == 0),
                   "order 0 for different strings");
        FUZZ_CHECK(key_cmp(&va, &vb) == sgn(o), "sort key disagrees with the order");
        if (ob_semver_cmp(&va, &vb) != 0)
            FUZZ_CHECK(sgn(ob_semver_cmp(&va, &vb)) == sgn(o), "precedence and order disagree");
    }
    ob_version_expr e;
    if (ob_version_expr_parse(a, part[2], len[2], &e)) {
        FUZZ_CHECK(e.count <= OB_VERSION_EXPR_MAX_CLAUSES, "clauses");
        if (oka) {
            bool all = true;
            for (size_t i = 0; i < e.count; i++) {
                ob_version_expr one = {&e.clauses[i], 1};
                all = all && ob_version_expr_match(&one, &va);
            }
            FUZZ_CHECK(all == ob_version_expr_match(&e, &va), "match is not the clauses' AND");
        }
    }
    ob_arena_reset(a);
    return 0;
}
