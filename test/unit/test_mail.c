/* test_mail.c - mail rendering (api-auth.md §9), RFC 5322 formatting of
 * the outbox messages, header safety and the retry back-off. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <strings.h>
#include "openbook/core/alloc.h"
#include "openbook/core/config.h"
#include "openbook/mail/mail.h"
#include "openbook/http/parse.h"
#include "tests.h"

static ob_arena A;
static const ob_mail_site SITE = {"OpenBook", "openbook.studio"};
static const char *BASE = "https://books.example";

static void setup(void)
{
    ob_arena_init(&A, 4096);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

static ob_mail_text render(ob_mail_kind kind, const char *lang, const ob_mail_vars *v)
{
    ob_mail_text t = {NULL, NULL};
    int rc = ob_mail_render(&A, kind, lang, &SITE, BASE, "to@example.org", v, &t);
    ck_assert_int_eq(rc, 0);
    return t;
}

static void assert_frame(const ob_mail_text *t, bool german)
{
    ck_assert_msg(strncmp(t->subject, "[OpenBook] ", 11) == 0, "subject %s", t->subject);
    const char *hello = german ? "Hallo von OpenBook!\n\n" : "Hello from OpenBook!\n\n";
    ck_assert_msg(strncmp(t->body, hello, strlen(hello)) == 0, "greeting in %s", t->body);
    const char *bye = german ? "Vielen Dank, dass Sie OpenBook nutzen!\nopenbook.studio\n"
                             : "Thank you for using OpenBook!\nopenbook.studio\n";
    size_t bl = strlen(t->body), yl = strlen(bye);
    ck_assert_msg(bl > yl && strcmp(t->body + bl - yl, bye) == 0, "sign-off in %s", t->body);
}

START_TEST(test_verify_mail)
{
    ob_mail_vars v = {.username = "ada_l", .key = "k3y-abc_DEF"};
    ob_mail_text t = render(OB_MAIL_VERIFY, "en", &v);
    ck_assert_str_eq(t.subject, "[OpenBook] Please Confirm Your Email Address");
    assert_frame(&t, false);
    ck_assert_ptr_nonnull(strstr(t.body, "user ada_l has given"));
    ck_assert_ptr_nonnull(strstr(t.body, "an account on openbook.studio."));
    ck_assert_ptr_nonnull(strstr(t.body, "https://books.example/app/#/account/verify-email/k3y-abc_DEF\n"));

    t = render(OB_MAIL_VERIFY, "de", &v);
    ck_assert_str_eq(t.subject, "[OpenBook] Bitte bestätigen Sie Ihre E-Mail-Adresse");
    assert_frame(&t, true);
    ck_assert_ptr_nonnull(strstr(t.body, "Benutzer ada_l"));
    ck_assert_ptr_nonnull(strstr(t.body, "openbook.studio"));
    ck_assert_ptr_nonnull(strstr(t.body, "https://books.example/app/#/account/verify-email/k3y-abc_DEF"));
}
END_TEST

START_TEST(test_reset_mail)
{
    ob_mail_vars v = {.username = "grace", .key = "RESETKEY"};
    ob_mail_text t = render(OB_MAIL_RESET, "en", &v);
    ck_assert_str_eq(t.subject, "[OpenBook] Password Reset Email");
    assert_frame(&t, false);
    ck_assert_ptr_nonnull(strstr(t.body, "It can be safely ignored if you did not request"));
    ck_assert_ptr_nonnull(strstr(t.body, "\nhttps://books.example/app/#/account/password/reset/key/RESETKEY\n"));
    ck_assert_ptr_nonnull(strstr(t.body, "your username is grace."));
    t = render(OB_MAIL_RESET, "de", &v);
    ck_assert_str_eq(t.subject, "[OpenBook] E-Mail zum Zurücksetzen des Passworts");
    ck_assert_ptr_nonnull(strstr(t.body, "Ihr Benutzername ist grace."));
    ck_assert_ptr_nonnull(strstr(t.body, "ignorieren"));
}
END_TEST

START_TEST(test_code_mail)
{
    ob_mail_vars v = {.code = "BCDFGHJK"};
    ob_mail_text t = render(OB_MAIL_CODE, "en", &v);
    ck_assert_str_eq(t.subject, "[OpenBook] Sign-In Code");
    assert_frame(&t, false);
    ck_assert_ptr_nonnull(strstr(t.body, "\n\nBCDF-GHJK\n\n"));
    ck_assert_ptr_nonnull(strstr(t.body, "can be safely ignored"));
    /* Already in display form: kept. */
    v.code = "LMNP-QRST";
    t = render(OB_MAIL_CODE, "de", &v);
    ck_assert_str_eq(t.subject, "[OpenBook] Anmeldecode");
    ck_assert_ptr_nonnull(strstr(t.body, "\n\nLMNP-QRST\n\n"));
}
END_TEST

START_TEST(test_account_mails)
{
    ob_mail_text t = render(OB_MAIL_UNKNOWN_ACCOUNT, "en", NULL);
    ck_assert_str_eq(t.subject, "[OpenBook] Unknown Account");
    assert_frame(&t, false);
    ck_assert_ptr_nonnull(strstr(t.body, "account with email to@example.org."));
    ck_assert_ptr_nonnull(strstr(t.body, "can be safely ignored"));
    ck_assert_ptr_nonnull(strstr(t.body, "https://books.example/app/#/account/signup\n"));

    t = render(OB_MAIL_ACCOUNT_EXISTS, "en-GB", NULL);
    ck_assert_str_eq(t.subject, "[OpenBook] Account Already Exists");
    assert_frame(&t, false);
    ck_assert_ptr_nonnull(strstr(t.body, "\n\nto@example.org\n\n"));
    ck_assert_ptr_nonnull(strstr(t.body, "already exists"));
    ck_assert_ptr_nonnull(strstr(t.body, "https://books.example/app/#/account/password/reset\n"));

    t = render(OB_MAIL_ACCOUNT_EXISTS, "de", NULL);
    ck_assert_str_eq(t.subject, "[OpenBook] Konto existiert bereits");
    assert_frame(&t, true);
    t = render(OB_MAIL_UNKNOWN_ACCOUNT, "de", NULL);
    ck_assert_str_eq(t.subject, "[OpenBook] Unbekanntes Konto");
    ck_assert_ptr_nonnull(strstr(t.body, "https://books.example/app/#/account/signup\n"));
}
END_TEST

START_TEST(test_language_fallback_and_site)
{
    ob_mail_text t = render(OB_MAIL_UNKNOWN_ACCOUNT, "fr", NULL);
    assert_frame(&t, false);
    t = render(OB_MAIL_UNKNOWN_ACCOUNT, NULL, NULL);
    assert_frame(&t, false);
    ob_mail_site other = {"Lehrbuch", "lehrbuch.example"};
    ck_assert_int_eq(ob_mail_render(&A, OB_MAIL_ACCOUNT_EXISTS, "de", &other, BASE, "a@b.c",
                                    NULL, &t),
                     0);
    ck_assert(strncmp(t.body, "Hallo von Lehrbuch!\n", 20) == 0);
    ck_assert_ptr_nonnull(strstr(t.body, "Lehrbuch nutzen!\nlehrbuch.example\n"));
    ck_assert(strncmp(t.subject, "[OpenBook] ", 11) == 0);
}
END_TEST

START_TEST(test_missing_variables_and_odd_keys)
{
    ob_mail_text t;
    ob_mail_vars none = {0};
    ck_assert_int_eq(ob_mail_render(&A, OB_MAIL_VERIFY, "en", &SITE, BASE, "a@b.c", &none, &t), -1);
    ck_assert_int_eq(ob_mail_render(&A, OB_MAIL_RESET, "en", &SITE, BASE, "a@b.c", NULL, &t), -1);
    ck_assert_int_eq(ob_mail_render(&A, OB_MAIL_CODE, "en", &SITE, BASE, "a@b.c", &none, &t), -1);
    ck_assert_int_eq(ob_mail_render(&A, (ob_mail_kind)99, "en", &SITE, BASE, "a@b.c", NULL, &t),
                     -1);
    /* A key cannot break out of its link. */
    ob_mail_vars v = {.username = "u", .key = "a/b c#?\n"};
    t = render(OB_MAIL_VERIFY, "en", &v);
    ck_assert_ptr_nonnull(strstr(t.body, "/app/#/account/verify-email/a%2Fb%20c%23%3F%0A\n"));
}
END_TEST

START_TEST(test_header_safe)
{
    ck_assert(ob_mail_header_safe("a@b.org"));
    ck_assert(ob_mail_header_safe("Bü <a@b.org>"));
    ck_assert(!ob_mail_header_safe(""));
    ck_assert(!ob_mail_header_safe(NULL));
    ck_assert(!ob_mail_header_safe("a@b.org\r\nBcc: x@y"));
    ck_assert(!ob_mail_header_safe("a@b.org\nBcc: x@y"));
    ck_assert(!ob_mail_header_safe("a\tb"));
    ck_assert(!ob_mail_header_safe("a\x7f"));
}
END_TEST

static const char *format(const ob_mail_msg *m, bool eight)
{
    ob_buf b;
    ob_buf_init(&b, &A);
    ck_assert_int_eq(ob_mail_format(&b, m, eight), 0);
    return ob_buf_cstr(&b);
}

static const char *header(const char *msg, const char *name)
{
    size_t n = strlen(name);
    for (const char *s = msg; s && *s;) {
        if (strncmp(s, "\r\n", 2) == 0)
            return NULL; /* end of the header */
        if (strncasecmp(s, name, n) == 0 && s[n] == ':') {
            const char *end = strstr(s, "\r\n");
            return ob_arena_strndup(&A, s + n + 2, (size_t)(end - s - n - 2));
        }
        s = strstr(s, "\r\n");
        s = s ? s + 2 : NULL;
    }
    return NULL;
}

START_TEST(test_format_ascii)
{
    ob_mail_msg m = {.id = 42,
                     .from = "noreply@openbook.studio",
                     .to = "to@example.org",
                     .subject = "[OpenBook] Sign-In Code",
                     .body = "Hello\n\nline\n",
                     .created = 1748781613, /* 2025-06-01T12:40:13Z, a Sunday */
                     .domain = "openbook.studio"};
    const char *s = format(&m, false);
    ck_assert_str_eq(header(s, "Date"), "Sun, 01 Jun 2025 12:40:13 +0000");
    ck_assert_str_eq(header(s, "From"), "noreply@openbook.studio");
    ck_assert_str_eq(header(s, "To"), "to@example.org");
    ck_assert_str_eq(header(s, "Subject"), "[OpenBook] Sign-In Code");
    ck_assert_str_eq(header(s, "Message-ID"), "<openbook.42.1748781613@openbook.studio>");
    ck_assert_str_eq(header(s, "MIME-Version"), "1.0");
    ck_assert_str_eq(header(s, "Content-Type"), "text/plain; charset=utf-8");
    ck_assert_str_eq(header(s, "Content-Transfer-Encoding"), "7bit");
    const char *body = strstr(s, "\r\n\r\n");
    ck_assert_ptr_nonnull(body);
    ck_assert_str_eq(body + 4, "Hello\r\n\r\nline\r\n");
    /* Every line ends in CRLF. */
    for (const char *p = s; *p; p++)
        if (*p == '\n')
            ck_assert(p > s && p[-1] == '\r');
    /* The same message formats the same (same Message-ID on every retry). */
    ck_assert_str_eq(format(&m, false), s);
}
END_TEST

static const char *decode_words(const char *v)
{
    /* Joins and decodes =?UTF-8?B?...?= words separated by folding. */
    ob_buf out;
    ob_buf_init(&out, &A);
    const char *p = v;
    while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
        p += 10;
        const char *end = strstr(p, "?=");
        ck_assert_ptr_nonnull(end);
        ck_assert_int_le((int)(end - p) + 12, 75);
        unsigned char bin[128];
        size_t bl = 0;
        ck_assert_int_eq(sodium_base642bin(bin, sizeof bin, p, (size_t)(end - p), NULL, &bl, NULL,
                                           sodium_base64_VARIANT_ORIGINAL),
                         0);
        ob_buf_append(&out, bin, bl);
        p = end + 2;
    }
    return ob_buf_cstr(&out);
}

START_TEST(test_format_non_ascii)
{
    const char *subject =
        "[OpenBook] Bitte bestätigen Sie Ihre E-Mail-Adresse – äöüß ÄÖÜ €€€ ✓✓✓ 𝄞𝄞";
    ob_mail_msg m = {.id = 7,
                     .from = "Büro <office@example.org>",
                     .to = "to@example.org",
                     .subject = subject,
                     .body = "Grüße\nx = y \n",
                     .created = 0,
                     .domain = "example.org"};
    const char *s = format(&m, true);
    /* Header part: 7-bit, lines within 76 characters. */
    const char *end = strstr(s, "\r\n\r\n");
    for (const char *p = s; p < end; p++)
        ck_assert_int_lt((unsigned char)*p, 0x80);
    for (const char *line = s; line < end;) {
        const char *nl = strstr(line, "\r\n");
        ck_assert_int_le((int)(nl - line), 76);
        line = nl + 2;
    }
    ck_assert_str_eq(header(s, "Date"), "Thu, 01 Jan 1970 00:00:00 +0000");
    /* Subject: folded encoded words that decode to the text, and no UTF-8
     * sequence cut in two (each word decodes to valid UTF-8 alone). */
    const char *subj = strstr(s, "Subject: ");
    const char *subj_end = strstr(subj, "\r\nMessage-ID");
    const char *raw = ob_arena_strndup(&A, subj, (size_t)(subj_end - subj));
    ck_assert_str_eq(decode_words(raw), subject);
    for (const char *w = strstr(raw, "=?UTF-8?B?"); w; w = strstr(w + 1, "=?UTF-8?B?")) {
        const char *we = strstr(w, "?=");
        const char *one = decode_words(ob_arena_strndup(&A, w, (size_t)(we + 2 - w)));
        ck_assert_msg(ob_utf8_valid(one, strlen(one)), "word %s splits a character", one);
    }
    /* From: only the display name is encoded. */
    const char *from = header(s, "From");
    ck_assert(strncmp(from, "=?UTF-8?B?", 10) == 0);
    ck_assert_ptr_nonnull(strstr(from, "?= <office@example.org>"));
    ck_assert_str_eq(decode_words(from), "Büro");
    /* Body: 8bit where allowed... */
    ck_assert_str_eq(header(s, "Content-Transfer-Encoding"), "8bit");
    ck_assert_str_eq(end + 4, "Grüße\r\nx = y \r\n");
    /* ...quoted-printable for SMTP. */
    s = format(&m, false);
    ck_assert_str_eq(header(s, "Content-Transfer-Encoding"), "quoted-printable");
    ck_assert_str_eq(strstr(s, "\r\n\r\n") + 4, "Gr=C3=BC=C3=9Fe\r\nx =3D y=20\r\n");
}
END_TEST

START_TEST(test_quoted_printable_long_lines)
{
    char body[400];
    memset(body, 'a', 300);
    body[300] = '\n';
    strcpy(body + 301, "é\n");
    ob_mail_msg m = {.id = 1, .from = "a@b.c", .to = "c@d.e", .subject = "s", .body = body,
                     .created = 0, .domain = "b.c"};
    const char *s = format(&m, false);
    const char *p = strstr(s, "\r\n\r\n") + 4;
    size_t total_a = 0;
    while (*p) {
        const char *nl = strstr(p, "\r\n");
        ck_assert_ptr_nonnull(nl);
        ck_assert_int_le((int)(nl - p), 76);
        for (const char *c = p; c < nl; c++)
            total_a += *c == 'a';
        p = nl + 2;
    }
    ck_assert_uint_eq(total_a, 300);
    /* A line over 998 octets is never sent as 8bit. */
    char *huge = ob_arena_alloc(&A, 1201);
    memset(huge, 'b', 1200);
    huge[1200] = '\0';
    m.body = huge;
    ck_assert_str_eq(header(format(&m, true), "Content-Transfer-Encoding"), "quoted-printable");
}
END_TEST

START_TEST(test_format_refuses_injection)
{
    ob_buf b;
    ob_buf_init(&b, &A);
    ob_mail_msg m = {.id = 1, .from = "a@b.c", .to = "x@y.z\r\nBcc: all@y.z", .subject = "s",
                     .body = "b", .created = 0, .domain = "b.c"};
    ck_assert_int_eq(ob_mail_format(&b, &m, true), -1);
    m.to = "x@y.z";
    m.subject = "s\nBcc: all@y.z";
    ck_assert_int_eq(ob_mail_format(&b, &m, true), -1);
    m.subject = "s";
    m.from = "a@b.c\r";
    ck_assert_int_eq(ob_mail_format(&b, &m, true), -1);
    m.from = "a@b.c";
    m.domain = "b.c>\r\nX: y";
    ck_assert_int_eq(ob_mail_format(&b, &m, true), -1);
}
END_TEST

START_TEST(test_backoff)
{
    ck_assert_int_eq(ob_mail_backoff(0), 30);
    ck_assert_int_eq(ob_mail_backoff(1), 30);
    ck_assert_int_eq(ob_mail_backoff(2), 60);
    ck_assert_int_eq(ob_mail_backoff(3), 120);
    ck_assert_int_eq(ob_mail_backoff(7), 1920);
    ck_assert_int_eq(ob_mail_backoff(8), 3600);
    ck_assert_int_eq(ob_mail_backoff(1000), 3600);
}
END_TEST

START_TEST(test_link_base)
{
    ob_config cfg;
    ob_config_defaults(&cfg);
    const char *req = "http://evil.example:4444";
    /* Outside development: never the request's address. */
    ck_assert_str_eq(ob_mail_link_base(&A, &cfg, "openbook.studio", req), "https://openbook.studio");
    ck_assert_str_eq(ob_mail_link_base(&A, &cfg, "books.example:8443", req),
                     "https://books.example:8443");
    ck_assert_ptr_null(ob_mail_link_base(&A, &cfg, NULL, req));
    ck_assert_ptr_null(ob_mail_link_base(&A, &cfg, "", req));
    ck_assert_ptr_null(ob_mail_link_base(&A, &cfg, "evil.example/x?", req));
    ck_assert_ptr_null(ob_mail_link_base(&A, &cfg, "a@evil.example", req));
    /* public_base_url wins, without its final slashes. */
    ob_free(cfg.public_base_url);
    cfg.public_base_url = ob_strdup("https://books.example.org//");
    ck_assert_str_eq(ob_mail_link_base(&A, &cfg, "openbook.studio", req), "https://books.example.org");
    /* Development without public_base_url: the request's address. */
    cfg.public_base_url[0] = '\0';
    cfg.development = true;
    ck_assert_str_eq(ob_mail_link_base(&A, &cfg, "openbook.studio", req), req);
    ck_assert_str_eq(ob_mail_link_base(&A, &cfg, "openbook.studio", NULL), "https://openbook.studio");
    ob_config_free(&cfg);
}
END_TEST

START_TEST(test_domain_valid)
{
    const char *good[] = {"openbook.studio", "localhost", "a-b.example:8080", "127.0.0.1:1"};
    const char *bad[] = {"", ".example", "-x.example", "x.example:", "x.example:123456",
                         "x.example:80x", "x.example/", "user@x.example", "x example", "x\r\n"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(ob_mail_domain_valid(good[i]), "%s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ob_mail_domain_valid(bad[i]), "%s", bad[i]);
}
END_TEST

Suite *mail_suite(void)
{
    Suite *s = suite_create("mail");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_verify_mail);
    tcase_add_test(tc, test_reset_mail);
    tcase_add_test(tc, test_code_mail);
    tcase_add_test(tc, test_account_mails);
    tcase_add_test(tc, test_language_fallback_and_site);
    tcase_add_test(tc, test_missing_variables_and_odd_keys);
    tcase_add_test(tc, test_header_safe);
    tcase_add_test(tc, test_format_ascii);
    tcase_add_test(tc, test_format_non_ascii);
    tcase_add_test(tc, test_quoted_printable_long_lines);
    tcase_add_test(tc, test_format_refuses_injection);
    tcase_add_test(tc, test_backoff);
    tcase_add_test(tc, test_link_base);
    tcase_add_test(tc, test_domain_valid);
    suite_add_tcase(s, tc);
    return s;
}
