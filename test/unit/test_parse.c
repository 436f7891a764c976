/* test_parse.c - request parsers: UTF-8, percent decoding, urlencoded,
 * cookies, paths, Accept-Language, JSON depth. */
#include <string.h>
#include "openbook/http/parse.h"
#include "tests.h"

static ob_arena A;

static void setup(void)
{
    ob_arena_init(&A, 4096);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

#define UTF8(s) ob_utf8_valid((s), sizeof(s) - 1)

/* ---- ob_utf8_valid ---------------------------------------------------- */

START_TEST(test_utf8_valid_sequences)
{
    ck_assert(UTF8(""));
    ck_assert(UTF8("plain ascii ~\x7f"));
    ck_assert(UTF8("\x00")); /* NUL is valid UTF-8; callers refuse it */
    ck_assert(UTF8("\xc2\x80"));          /* U+0080, smallest 2-byte */
    ck_assert(UTF8("\xdf\xbf"));          /* U+07FF */
    ck_assert(UTF8("\xe0\xa0\x80"));      /* U+0800, smallest 3-byte */
    ck_assert(UTF8("\xed\x9f\xbf"));      /* U+D7FF, just below surrogates */
    ck_assert(UTF8("\xee\x80\x80"));      /* U+E000, just above */
    ck_assert(UTF8("\xef\xbf\xbf"));      /* U+FFFF */
    ck_assert(UTF8("\xf0\x90\x80\x80"));  /* U+10000 */
    ck_assert(UTF8("\xf4\x8f\xbf\xbf"));  /* U+10FFFF, the last one */
    ck_assert(UTF8("gr\xc3\xbc\xc3\x9f Gott \xe2\x82\xac \xf0\x9f\x98\x80"));
}
END_TEST

START_TEST(test_utf8_decode)
{
    unsigned cp;
    ck_assert_uint_eq(ob_utf8_decode("A", 1, &cp), 1);
    ck_assert_uint_eq(cp, 'A');
    ck_assert_uint_eq(ob_utf8_decode("\xc3\xa4x", 3, &cp), 2);
    ck_assert_uint_eq(cp, 0xe4);
    ck_assert_uint_eq(ob_utf8_decode("\xe2\x80\xae", 3, &cp), 3);
    ck_assert_uint_eq(cp, 0x202e);
    ck_assert_uint_eq(ob_utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
    ck_assert_uint_eq(cp, 0x1f600);
    ck_assert_uint_eq(ob_utf8_decode("\xf0\x9f\x98\x80", 3, &cp), 0); /* cut short */
    ck_assert_uint_eq(ob_utf8_decode("\xc0\x80", 2, &cp), 0);         /* overlong */
    ck_assert_uint_eq(ob_utf8_decode("\xed\xa0\x80", 3, &cp), 0);     /* surrogate */
    ck_assert_uint_eq(ob_utf8_decode("\x80", 1, &cp), 0);
}
END_TEST

START_TEST(test_utf8_invalid_sequences)
{
    ck_assert(!UTF8("\x80"));              /* lone continuation */
    ck_assert(!UTF8("a\xbf"));
    ck_assert(!UTF8("\xc0\x80"));          /* overlong NUL */
    ck_assert(!UTF8("\xc1\xbf"));          /* overlong */
    ck_assert(!UTF8("\xe0\x80\x80"));      /* overlong 3-byte */
    ck_assert(!UTF8("\xe0\x9f\xbf"));      /* overlong U+07FF */
    ck_assert(!UTF8("\xf0\x80\x80\x80"));  /* overlong 4-byte */
    ck_assert(!UTF8("\xf0\x8f\xbf\xbf"));  /* overlong U+FFFF */
    ck_assert(!UTF8("\xed\xa0\x80"));      /* U+D800 surrogate */
    ck_assert(!UTF8("\xed\xbf\xbf"));      /* U+DFFF surrogate */
    ck_assert(!UTF8("\xf4\x90\x80\x80"));  /* U+110000 */
    ck_assert(!UTF8("\xf5\x80\x80\x80"));
    ck_assert(!UTF8("\xff"));
    ck_assert(!UTF8("\xfe"));
    ck_assert(!UTF8("\xc3"));              /* truncated */
    ck_assert(!UTF8("\xe2\x82"));
    ck_assert(!UTF8("\xf0\x9f\x98"));
    ck_assert(!UTF8("\xc3\x28"));          /* bad continuation */
    ck_assert(!UTF8("\xe2\x28\xa1"));
    ck_assert(!UTF8("\xf0\x9f\x98\x28"));
}
END_TEST

START_TEST(test_utf8_respects_length)
{
    /* A valid sequence cut by len is invalid; bytes past len are unseen. */
    ck_assert(!ob_utf8_valid("\xc3\xa9", 1));
    ck_assert(ob_utf8_valid("ab\xff", 2));
    ck_assert(ob_utf8_valid("\xff", 0));
}
END_TEST

/* ---- ob_percent_decode ------------------------------------------------ */

static const char *pdec(const char *s, bool plus, size_t *n)
{
    char *out;
    size_t len;
    ob_percent_decode(&A, s, strlen(s), plus, &out, &len);
    if (n)
        *n = len;
    ck_assert_int_eq(out[len], '\0');
    return out;
}

START_TEST(test_percent_decode)
{
    size_t n;
    ck_assert_str_eq(pdec("", false, &n), "");
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(pdec("abc", false, NULL), "abc");
    ck_assert_str_eq(pdec("a%20b", false, NULL), "a b");
    ck_assert_str_eq(pdec("%41%62%7e%7E", false, NULL), "Ab~~");
    ck_assert_str_eq(pdec("%c3%A9", false, &n), "\xc3\xa9");
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(pdec("a+b", false, NULL), "a+b");
    ck_assert_str_eq(pdec("a+b", true, NULL), "a b");
    ck_assert_str_eq(pdec("%2B", true, NULL), "+");
    ck_assert_str_eq(pdec("%25", false, NULL), "%");
    ck_assert_str_eq(pdec("%2525", false, NULL), "%25"); /* decoded once */
}
END_TEST

START_TEST(test_percent_decode_malformed_kept)
{
    ck_assert_str_eq(pdec("%", false, NULL), "%");
    ck_assert_str_eq(pdec("%4", false, NULL), "%4");
    ck_assert_str_eq(pdec("a%", false, NULL), "a%");
    ck_assert_str_eq(pdec("%zz", false, NULL), "%zz");
    ck_assert_str_eq(pdec("%4g", false, NULL), "%4g");
    ck_assert_str_eq(pdec("%g4", false, NULL), "%g4");
    ck_assert_str_eq(pdec("100%", false, NULL), "100%");
    ck_assert_str_eq(pdec("%%41", false, NULL), "%A");
    ck_assert_str_eq(pdec("%41%", false, NULL), "A%");
}
END_TEST

START_TEST(test_percent_decode_nul_and_length)
{
    size_t n;
    const char *o = pdec("a%00b", false, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(o, "a\0b", 3);
    /* The input is (buf, len): an escape cut by len is literal. */
    char *out;
    ob_percent_decode(&A, "%41%42", 5, false, &out, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(out, "A%4");
}
END_TEST

/* ---- ob_parse_urlencoded ---------------------------------------------- */

static ob_parse_result urlenc(const char *s, size_t max, ob_kv **kv, size_t *n)
{
    return ob_parse_urlencoded(&A, s, strlen(s), max, kv, n);
}

START_TEST(test_urlencoded_basic)
{
    ob_kv *kv;
    size_t n;
    ck_assert_int_eq(urlenc("a=1&b=two+words&c=%C3%A9t%C3%A9", 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(kv[0].key, "a");
    ck_assert_str_eq(kv[0].value, "1");
    ck_assert_uint_eq(kv[0].key_len, 1);
    ck_assert_uint_eq(kv[0].value_len, 1);
    ck_assert_str_eq(kv[1].key, "b");
    ck_assert_str_eq(kv[1].value, "two words");
    ck_assert_uint_eq(kv[1].value_len, 9);
    ck_assert_str_eq(kv[2].value, "\xc3\xa9t\xc3\xa9");
    ck_assert_uint_eq(kv[2].value_len, 5);
    ck_assert_ptr_eq(ob_kv_find(kv, n, "b"), &kv[1]);
    ck_assert_ptr_null(ob_kv_find(kv, n, "B"));
    ck_assert_ptr_null(ob_kv_find(kv, n, "d"));
}
END_TEST

START_TEST(test_urlencoded_empty_items_and_values)
{
    ob_kv *kv;
    size_t n;
    ck_assert_int_eq(urlenc("", 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(urlenc("&&&", 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(urlenc("&flag&&x=&=v&", 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(kv[0].key, "flag");
    ck_assert_str_eq(kv[0].value, "");
    ck_assert_uint_eq(kv[0].value_len, 0);
    ck_assert_str_eq(kv[1].key, "x");
    ck_assert_str_eq(kv[1].value, "");
    ck_assert_str_eq(kv[2].key, "");
    ck_assert_str_eq(kv[2].value, "v");
}
END_TEST

START_TEST(test_urlencoded_semicolon_and_equals)
{
    ob_kv *kv;
    size_t n;
    /* ';' is not a separator; only the first '=' splits. */
    ck_assert_int_eq(urlenc("a=1;b=2&c=x=y&d=%3D", 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(kv[0].key, "a");
    ck_assert_str_eq(kv[0].value, "1;b=2");
    ck_assert_str_eq(kv[1].value, "x=y");
    ck_assert_str_eq(kv[2].value, "=");
    /* Encoded '&' and '=' do not split. */
    ck_assert_int_eq(urlenc("k%26%3D=v%26w", 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(kv[0].key, "k&=");
    ck_assert_str_eq(kv[0].value, "v&w");
}
END_TEST

START_TEST(test_urlencoded_duplicates_first_found)
{
    ob_kv *kv;
    size_t n;
    ck_assert_int_eq(urlenc("a=1&a=2", 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ob_kv_find(kv, n, "a")->value, "1");
    ck_assert_str_eq(kv[1].value, "2");
}
END_TEST

START_TEST(test_urlencoded_too_many)
{
    ob_kv *kv;
    size_t n;
    ck_assert_int_eq(urlenc("a=1&b=2&c=3", 3, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(urlenc("a=1&b=2&c=3&d=4", 3, &kv, &n), OB_PARSE_TOO_MANY);
    ck_assert_uint_le(n, 3);
    /* Empty items do not count against the limit. */
    ck_assert_int_eq(urlenc("a=1&&&&b=2&&&", 2, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(urlenc("a", 0, &kv, &n), OB_PARSE_TOO_MANY);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(urlenc("", 0, &kv, &n), OB_PARSE_OK);
}
END_TEST

START_TEST(test_urlencoded_bad_encoding)
{
    ob_kv *kv;
    size_t n;
    ck_assert_int_eq(urlenc("a=%00", 10, &kv, &n), OB_PARSE_BAD_ENCODING);
    ck_assert_int_eq(urlenc("a%00b=1", 10, &kv, &n), OB_PARSE_BAD_ENCODING);
    ck_assert_int_eq(urlenc("ok=1&a=%FF", 10, &kv, &n), OB_PARSE_BAD_ENCODING);
    ck_assert_int_eq(urlenc("a=%C0%AF", 10, &kv, &n), OB_PARSE_BAD_ENCODING);
    ck_assert_int_eq(urlenc("a=%ED%A0%80", 10, &kv, &n), OB_PARSE_BAD_ENCODING);
    ck_assert_int_eq(urlenc("a=\xff", 10, &kv, &n), OB_PARSE_BAD_ENCODING);
    ck_assert_int_eq(urlenc("%e2%82=x", 10, &kv, &n), OB_PARSE_BAD_ENCODING);
    /* Malformed escapes are not an encoding error. */
    ck_assert_int_eq(urlenc("a=%zz&b=%", 10, &kv, &n), OB_PARSE_OK);
    ck_assert_str_eq(kv[0].value, "%zz");
    ck_assert_str_eq(kv[1].value, "%");
}
END_TEST

START_TEST(test_urlencoded_not_nul_terminated)
{
    ob_kv *kv;
    size_t n;
    const char buf[] = {'a', '=', '1', '&', 'b', '=', '2', 'X', 'X'};
    ck_assert_int_eq(ob_parse_urlencoded(&A, buf, 7, 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(kv[1].value, "2");
    /* A raw NUL inside the buffer is refused like an encoded one. */
    ck_assert_int_eq(ob_parse_urlencoded(&A, "a=1\0b", 5, 10, &kv, &n), OB_PARSE_BAD_ENCODING);
}
END_TEST

/* ---- ob_parse_cookies ------------------------------------------------- */

static ob_parse_result cookies(const char *s, size_t max, ob_kv **kv, size_t *n)
{
    return ob_parse_cookies(&A, s, strlen(s), max, kv, n);
}

START_TEST(test_cookies_basic)
{
    ob_kv *kv;
    size_t n;
    ck_assert_int_eq(cookies("sessionid=abc123; csrftoken=XYZ;lang=de", 10, &kv, &n),
                     OB_PARSE_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(kv[0].key, "sessionid");
    ck_assert_str_eq(kv[0].value, "abc123");
    ck_assert_uint_eq(kv[0].key_len, 9);
    ck_assert_uint_eq(kv[0].value_len, 6);
    ck_assert_str_eq(kv[1].key, "csrftoken");
    ck_assert_str_eq(kv[1].value, "XYZ");
    ck_assert_str_eq(kv[2].key, "lang");
    ck_assert_str_eq(kv[2].value, "de");
}
END_TEST

START_TEST(test_cookies_whitespace_quotes_no_decoding)
{
    ob_kv *kv;
    size_t n;
    ck_assert_int_eq(cookies("  a = 1 ;\tb=\"quoted value\"; c=%41+x; d=\"; e=\"\"", 10, &kv, &n),
                     OB_PARSE_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(kv[0].key, "a");
    ck_assert_str_eq(kv[0].value, "1");
    ck_assert_str_eq(kv[1].key, "b");
    ck_assert_str_eq(kv[1].value, "quoted value");
    ck_assert_uint_eq(kv[1].value_len, 12);
    ck_assert_str_eq(kv[2].value, "%41+x"); /* no percent-decoding */
    ck_assert_str_eq(kv[3].value, "\"");    /* a lone quote is kept */
    ck_assert_str_eq(kv[4].value, "");
    ck_assert_uint_eq(kv[4].value_len, 0);
}
END_TEST

START_TEST(test_cookies_malformed_skipped)
{
    ob_kv *kv;
    size_t n;
    ck_assert_int_eq(cookies("novalue; =nokey; ;; a=1;  = ; b=", 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(kv[0].key, "a");
    ck_assert_str_eq(kv[0].value, "1");
    ck_assert_str_eq(kv[1].key, "b");
    ck_assert_str_eq(kv[1].value, "");
    ck_assert_int_eq(cookies("", 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 0);
    /* An embedded NUL in a name or value drops that item only. */
    ck_assert_int_eq(ob_parse_cookies(&A, "a=x\0y; b=2", 10, 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(kv[0].key, "b");
}
END_TEST

START_TEST(test_cookies_first_occurrence_wins)
{
    ob_kv *kv;
    size_t n;
    ck_assert_int_eq(cookies("sessionid=first; sessionid=second", 10, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ob_kv_find(kv, n, "sessionid")->value, "first");
}
END_TEST

START_TEST(test_cookies_too_many)
{
    ob_kv *kv;
    size_t n;
    ck_assert_int_eq(cookies("a=1; b=2; c=3", 3, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(cookies("a=1; b=2; c=3; d=4", 3, &kv, &n), OB_PARSE_TOO_MANY);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(kv[2].key, "c");
    /* Skipped items do not count. */
    ck_assert_int_eq(cookies("x; y; a=1; z; b=2", 2, &kv, &n), OB_PARSE_OK);
    ck_assert_uint_eq(n, 2);
}
END_TEST

/* ---- ob_parse_path ---------------------------------------------------- */

static ob_parse_result path(const char *in, const char **out)
{
    char *o = (char *)"(unset)";
    size_t olen = 0;
    ob_parse_result r = ob_parse_path(&A, in, strlen(in), &o, &olen);
    if (r == OB_PARSE_OK) {
        ck_assert_ptr_nonnull(o);
        ck_assert_uint_eq(olen, strlen(o));
    } else {
        ck_assert_ptr_null(o);
        ck_assert_uint_eq(olen, 0);
    }
    *out = o;
    return r;
}

#define PATH_OK(in, want)                                                                         \
    do {                                                                                          \
        const char *o_;                                                                           \
        ck_assert_int_eq(path(in, &o_), OB_PARSE_OK);                                             \
        ck_assert_str_eq(o_, want);                                                               \
    } while (0)

#define PATH_ERR(in, err)                                                                         \
    do {                                                                                          \
        const char *o_;                                                                           \
        ck_assert_int_eq(path(in, &o_), err);                                                     \
    } while (0)

START_TEST(test_path_normalisation)
{
    PATH_OK("/", "/");
    PATH_OK("//", "/");
    PATH_OK("///", "/");
    PATH_OK("/api/core/sites/", "/api/core/sites/");
    PATH_OK("/api/core/sites", "/api/core/sites");
    PATH_OK("//api///core//sites//", "/api/core/sites/");
    PATH_OK("/a%20b/%C3%A9/", "/a b/\xc3\xa9/");
    PATH_OK("/a+b", "/a+b"); /* '+' is not a space in a path */
    PATH_OK("/%7Euser", "/~user");
    PATH_OK("/a%2Fb", "/a/b");       /* encoded slash decodes to a separator */
    PATH_OK("/a%2F%2Fb/", "/a/b/");  /* and collapses too */
    PATH_OK("/.hidden/...", "/.hidden/...");
    PATH_OK("/a./..b/.c.", "/a./..b/.c.");
    PATH_OK("/100%", "/100%");       /* malformed escape kept */
}
END_TEST

START_TEST(test_path_dot_segments_refused)
{
    PATH_ERR("/.", OB_PARSE_BAD_PATH);
    PATH_ERR("/..", OB_PARSE_BAD_PATH);
    PATH_ERR("/./", OB_PARSE_BAD_PATH);
    PATH_ERR("/a/./b", OB_PARSE_BAD_PATH);
    PATH_ERR("/a/../b", OB_PARSE_BAD_PATH);
    PATH_ERR("/a/..", OB_PARSE_BAD_PATH);
    PATH_ERR("/a//../b", OB_PARSE_BAD_PATH);
    PATH_ERR("/a/%2e/b", OB_PARSE_BAD_PATH);
    PATH_ERR("/a/%2E%2E/b", OB_PARSE_BAD_PATH);
    PATH_ERR("/a/.%2e/b", OB_PARSE_BAD_PATH);
    PATH_ERR("/a/%2e./", OB_PARSE_BAD_PATH);
    PATH_ERR("/a%2F..%2Fb", OB_PARSE_BAD_PATH); /* encoded slashes around .. */
}
END_TEST

START_TEST(test_path_bad_input)
{
    PATH_ERR("", OB_PARSE_BAD_PATH);
    PATH_ERR("api/", OB_PARSE_BAD_PATH);
    PATH_ERR("%2Fapi/", OB_PARSE_BAD_PATH);
    PATH_ERR("http://example.org/", OB_PARSE_BAD_PATH);
    PATH_ERR("/a%00b", OB_PARSE_BAD_ENCODING);
    PATH_ERR("/a%FFb", OB_PARSE_BAD_ENCODING);
    PATH_ERR("/a%C0%AE%C0%AE/", OB_PARSE_BAD_ENCODING); /* overlong "." */
    PATH_ERR("/\xff", OB_PARSE_BAD_ENCODING);
    PATH_ERR("/a%0Ab", OB_PARSE_BAD_PATH);  /* control characters */
    PATH_ERR("/a%0db", OB_PARSE_BAD_PATH);
    PATH_ERR("/a\tb", OB_PARSE_BAD_PATH);
    PATH_ERR("/a%7Fb", OB_PARSE_BAD_PATH);
    PATH_ERR("/a\\b", OB_PARSE_BAD_PATH);   /* backslash */
    PATH_ERR("/a%5C..%5Cb", OB_PARSE_BAD_PATH);
    /* Raw NUL (the buffer is not a C string). */
    char *o;
    size_t olen;
    ck_assert_int_eq(ob_parse_path(&A, "/a\0b", 4, &o, &olen), OB_PARSE_BAD_ENCODING);
    ck_assert_int_eq(ob_parse_path(&A, "/ok/XX", 4, &o, &olen), OB_PARSE_OK);
    ck_assert_str_eq(o, "/ok/");
}
END_TEST

/* ---- ob_parse_accept_language ----------------------------------------- */

static size_t langs(const char *s, const char **out, size_t max)
{
    return ob_parse_accept_language(&A, s, strlen(s), out, max);
}

START_TEST(test_accept_language_order)
{
    const char *out[8];
    size_t n = langs("de-CH, fr;q=0.8, en-US;q=0.9, *;q=0.5", out, 8);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(out[0], "de");
    ck_assert_str_eq(out[1], "en");
    ck_assert_str_eq(out[2], "fr");
}
END_TEST

START_TEST(test_accept_language_stable_and_case)
{
    const char *out[8];
    size_t n = langs("FR;q=0.5,De,EN;Q=0.5,it;q=1.0", out, 8);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(out[0], "de");
    ck_assert_str_eq(out[1], "it");
    ck_assert_str_eq(out[2], "fr"); /* ties keep header order */
    ck_assert_str_eq(out[3], "en");
}
END_TEST

START_TEST(test_accept_language_q_values)
{
    const char *out[8];
    /* q=0 (in any spelling) drops an entry; bad q values drop it too. */
    size_t n = langs("en;q=0, de;q=0.000, fr;q=0.001, it;q=abc, es;q=, nl ; q=0.3", out, 8);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(out[0], "nl");
    ck_assert_str_eq(out[1], "fr");
    /* q above 1 is clamped, so order of appearance decides. */
    n = langs("da;q=1, sv;q=1.5", out, 8);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(out[0], "da");
    ck_assert_str_eq(out[1], "sv");
    /* Three decimals are significant, more are not. */
    n = langs("a;q=0.1239, b;q=0.124", out, 8);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(out[0], "b");
    ck_assert_str_eq(out[1], "a");
}
END_TEST

START_TEST(test_accept_language_max_and_junk)
{
    const char *out[2];
    ck_assert_uint_eq(langs("de, en, fr", out, 2), 2);
    ck_assert_str_eq(out[0], "de");
    ck_assert_str_eq(out[1], "en");
    ck_assert_uint_eq(langs("", out, 2), 0);
    ck_assert_uint_eq(langs(",,, ;q=1, *, 123", out, 2), 0);
    ck_assert_uint_eq(langs("de", out, 0), 0);
    /* A long subtag is cut to 8 letters. */
    ck_assert_uint_eq(langs("abcdefghijkl", out, 2), 1);
    ck_assert_uint_le(strlen(out[0]), 8);
    /* (buf, len): bytes after len are not read. */
    ck_assert_uint_eq(ob_parse_accept_language(&A, "de,en", 2, out, 2), 1);
    ck_assert_str_eq(out[0], "de");
}
END_TEST

/* ---- ob_parse_accept_gzip --------------------------------------------- */

#define GZ(s) ob_parse_accept_gzip((s), strlen(s))

START_TEST(test_accept_gzip_browsers)
{
    /* What browsers and HTTP libraries send. */
    ck_assert_int_eq(GZ("gzip, deflate, br"), 1000);
    ck_assert_int_eq(GZ("gzip, deflate, br, zstd"), 1000);
    ck_assert_int_eq(GZ("gzip,deflate"), 1000);
    ck_assert_int_eq(GZ("deflate, gzip;q=1.0, *;q=0.5"), 1000);
    ck_assert_int_eq(GZ("GZIP"), 1000);
    ck_assert_int_eq(GZ("x-gzip"), 1000);
    ck_assert_int_eq(GZ("br;q=1.0, gzip;q=0.8, *;q=0.1"), 800);
    /* Not asked for: identity only, nothing, or other codings. */
    ck_assert_int_eq(GZ(""), 0);
    ck_assert_int_eq(GZ("identity"), 0);
    ck_assert_int_eq(GZ("deflate, br"), 0);
    ck_assert_int_eq(GZ("gzipx, xgzip, gzi"), 0);
}
END_TEST

START_TEST(test_accept_gzip_weights_and_wildcard)
{
    /* q=0 in any spelling refuses gzip, also when * allows the rest. */
    ck_assert_int_eq(GZ("gzip;q=0"), 0);
    ck_assert_int_eq(GZ("gzip; q=0.000, *"), 0);
    ck_assert_int_eq(GZ("*, gzip;q=0"), 0);
    ck_assert_int_eq(GZ("gzip ; Q=0.5"), 500);
    /* * stands for gzip when gzip is not named. */
    ck_assert_int_eq(GZ("*"), 1000);
    ck_assert_int_eq(GZ("br, *;q=0.2"), 200);
    ck_assert_int_eq(GZ("*;q=0"), 0);
    /* The first well-formed mention wins. */
    ck_assert_int_eq(GZ("gzip;q=0.3, gzip"), 300);
    ck_assert_int_eq(GZ("gzip;q=abc, gzip;q=0.7"), 700);
    /* Other parameters are ignored; q above 1 counts as 1. */
    ck_assert_int_eq(GZ("gzip;level=9;q=0.4"), 400);
    ck_assert_int_eq(GZ("gzip;q=1.5"), 1000);
}
END_TEST

START_TEST(test_accept_gzip_junk)
{
    /* Not one element: ignored, not half-read. */
    ck_assert_int_eq(GZ("gzip deflate"), 0);
    ck_assert_int_eq(GZ("gzip;q=0 x, gzip"), 0); /* the first one is fine */
    ck_assert_int_eq(GZ("\"gzip\""), 0);
    ck_assert_int_eq(GZ(",,, ;q=1, ;"), 0);
    ck_assert_int_eq(GZ("gzip;q="), 0); /* malformed q: the element is ignored */
    ck_assert_int_eq(GZ("gzip;q=, *"), 1000);
    /* (buf, len): bytes after len are not read. */
    ck_assert_int_eq(ob_parse_accept_gzip("br, gzip", 4), 0);
    ck_assert_int_eq(ob_parse_accept_gzip("gzip;q=0", 4), 1000);
    ck_assert_int_eq(ob_parse_accept_gzip("gz\0ip", 6), 0);
}
END_TEST

/* ---- ob_json_depth ---------------------------------------------------- */

#define DEPTH(s) ob_json_depth((s), sizeof(s) - 1)

START_TEST(test_json_depth)
{
    ck_assert_uint_eq(DEPTH(""), 0);
    ck_assert_uint_eq(DEPTH("1"), 0);
    ck_assert_uint_eq(DEPTH("\"[[[\""), 0);
    ck_assert_uint_eq(DEPTH("{}"), 1);
    ck_assert_uint_eq(DEPTH("{\"a\":[1,{\"b\":[]}]}"), 4);
    ck_assert_uint_eq(DEPTH("[[],[],[]]"), 2);
    ck_assert_uint_eq(DEPTH("{\"a\":\"]]}}[[{{\"}"), 1);
    ck_assert_uint_eq(DEPTH("{\"a\\\"[[\":[\"\\\\\",[1]]}"), 3); /* escapes in strings */
    ck_assert_uint_eq(DEPTH("[\"\\\"[[[[\"]"), 1);           /* escaped quote */
    ck_assert_uint_eq(DEPTH("[\"\\\\\",[[]]]"), 3);          /* escaped backslash */
    ck_assert_uint_eq(DEPTH("]]]][["), 2);  /* unbalanced closers are ignored */
    ck_assert_uint_eq(DEPTH("[[[[["), 5);
    char deep[2000];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    ck_assert_uint_eq(ob_json_depth(deep, sizeof deep), 1000);
    ck_assert_uint_eq(ob_json_depth(deep, 10), 10);
}
END_TEST

/* ---- request id, request line ----------------------------------------- */

START_TEST(test_request_id)
{
    static const char *const good[] = {
        "9f86d081884c7d659a2feaa0c55ad015", /* nginx */
        "YzQ1NmE@x-Aa",                     /* Apache UNIQUE_ID style */
        "lb-7f3a.2025:req/1=+", "a",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(ob_parse_request_id(good[i], strlen(good[i])), "%s refused", good[i]);
    char max[OB_REQUEST_ID_MAX + 1];
    memset(max, 'x', sizeof max);
    ck_assert(ob_parse_request_id(max, OB_REQUEST_ID_MAX));
    ck_assert(!ob_parse_request_id(max, OB_REQUEST_ID_MAX + 1));
    static const char *const bad[] = {"", "two words", "semi;colon", "<x>", "quote\"",
                                      "tab\t", "new\r\nline", "caf\xc3\xa9", "back\\slash"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ob_parse_request_id(bad[i], strlen(bad[i])), "%s accepted", bad[i]);
    /* An embedded NUL is refused; the length, not a NUL, ends the input. */
    ck_assert(!ob_parse_request_id("ab\0cd", 5));
    ck_assert(ob_parse_request_id("abcd;", 4));
}
END_TEST

START_TEST(test_request_line)
{
    ob_request_line rl;
    const char *t = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n";
    ck_assert(ob_parse_request_line(t, strlen(t), &rl));
    ck_assert_int_eq(rl.method_len, 3);
    ck_assert(memcmp(rl.method, "GET", 3) == 0);
    ck_assert_int_eq(rl.path_len, 8);
    ck_assert(memcmp(rl.path, "/metrics", 8) == 0);
    t = "HEAD / HTTP/1.0\n";
    ck_assert(ob_parse_request_line(t, strlen(t), &rl));
    ck_assert_int_eq(rl.path_len, 1);
    static const char *const bad[] = {
        "",
        "GET /metrics HTTP/1.1",          /* no end of line */
        "GET  /metrics HTTP/1.1\r\n",     /* two spaces */
        "GET metrics HTTP/1.1\r\n",       /* not origin-form */
        "GET /met rics HTTP/1.1\r\n",
        "GET /metrics HTTP/2.0\r\n",
        "GET /metrics HTTP/1.1x\r\n",
        "G(T /metrics HTTP/1.1\r\n",      /* not a token */
        " GET /metrics HTTP/1.1\r\n",
        "GET /a\x01b HTTP/1.1\r\n",
        "GET /metrics\r\n",               /* HTTP/0.9 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ob_parse_request_line(bad[i], strlen(bad[i]), &rl), "accepted: %s", bad[i]);
    /* The length bounds it: the same line cut short is refused. */
    t = "GET /metrics HTTP/1.1\r\n";
    for (size_t n = 0; n + 1 < strlen(t); n++)
        ck_assert_msg(!ob_parse_request_line(t, n, &rl), "accepted %zu bytes", n);
}
END_TEST

Suite *parse_suite(void)
{
    Suite *s = suite_create("parse");
    TCase *tc;

    tc = tcase_create("utf8");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_utf8_valid_sequences);
    tcase_add_test(tc, test_utf8_invalid_sequences);
    tcase_add_test(tc, test_utf8_decode);
    tcase_add_test(tc, test_utf8_respects_length);
    suite_add_tcase(s, tc);

    tc = tcase_create("percent");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_percent_decode);
    tcase_add_test(tc, test_percent_decode_malformed_kept);
    tcase_add_test(tc, test_percent_decode_nul_and_length);
    suite_add_tcase(s, tc);

    tc = tcase_create("urlencoded");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_urlencoded_basic);
    tcase_add_test(tc, test_urlencoded_empty_items_and_values);
    tcase_add_test(tc, test_urlencoded_semicolon_and_equals);
    tcase_add_test(tc, test_urlencoded_duplicates_first_found);
    tcase_add_test(tc, test_urlencoded_too_many);
    tcase_add_test(tc, test_urlencoded_bad_encoding);
    tcase_add_test(tc, test_urlencoded_not_nul_terminated);
    suite_add_tcase(s, tc);

    tc = tcase_create("cookies");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cookies_basic);
    tcase_add_test(tc, test_cookies_whitespace_quotes_no_decoding);
    tcase_add_test(tc, test_cookies_malformed_skipped);
    tcase_add_test(tc, test_cookies_first_occurrence_wins);
    tcase_add_test(tc, test_cookies_too_many);
    suite_add_tcase(s, tc);

    tc = tcase_create("path");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_path_normalisation);
    tcase_add_test(tc, test_path_dot_segments_refused);
    tcase_add_test(tc, test_path_bad_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("accept_language");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_accept_language_order);
    tcase_add_test(tc, test_accept_language_stable_and_case);
    tcase_add_test(tc, test_accept_language_q_values);
    tcase_add_test(tc, test_accept_language_max_and_junk);
    tcase_add_test(tc, test_accept_gzip_browsers);
    tcase_add_test(tc, test_accept_gzip_weights_and_wildcard);
    tcase_add_test(tc, test_accept_gzip_junk);
    suite_add_tcase(s, tc);

    tc = tcase_create("request_id");
    tcase_add_test(tc, test_request_id);
    tcase_add_test(tc, test_request_line);
    suite_add_tcase(s, tc);

    tc = tcase_create("json_depth");
    tcase_add_test(tc, test_json_depth);
    suite_add_tcase(s, tc);
    return s;
}
