/* test_password.c - hashing (argon2id, the original's pbkdf2_sha256 with a
 * known vector) and the password rules of api-auth.md §6. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "openbook/auth/password.h"
#include "tests.h"

static void hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

START_TEST(test_pbkdf2_rfc_vectors)
{
    /* RFC 7914 §11 / widely published PBKDF2-HMAC-SHA256 vectors. */
    unsigned char dk[32];
    char h[65];
    ob_pbkdf2_sha256((const unsigned char *)"password", 8, (const unsigned char *)"salt", 4, 1, dk,
                     32);
    hex(dk, 32, h);
    ck_assert_str_eq(h, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
    ob_pbkdf2_sha256((const unsigned char *)"password", 8, (const unsigned char *)"salt", 4, 4096,
                     dk, 32);
    hex(dk, 32, h);
    ck_assert_str_eq(h, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
}
END_TEST

/* Made with Python's hashlib.pbkdf2_hmac, exactly as Django's
 * PBKDF2PasswordHasher formats it. */
static const char django_hash[] =
    "pbkdf2_sha256$260000$seasalt42$iS3aX68b4rpUosliH7L+VZ8im8DFodku3xXg+c6hBTA=";

START_TEST(test_pbkdf2_django_hash)
{
    bool rehash = false;
    ck_assert(ob_password_verify("correct horse", 13, django_hash, &rehash));
    ck_assert(rehash); /* verified, but to be re-hashed with argon2id */
    ck_assert(!ob_password_verify("correct horsE", 13, django_hash, &rehash));
    ck_assert(!ob_password_verify("correct hors", 12, django_hash, &rehash));
    ck_assert(!ob_password_verify("correct horse", 13, "pbkdf2_sha256$0$x$AAAA", &rehash));
    ck_assert(!ob_password_verify("correct horse", 13, "pbkdf2_sha256$x$y", &rehash));
    ck_assert(!ob_password_verify("x", 1, "pbkdf2_sha256$99999999999$s$AAAA", &rehash));
}
END_TEST

START_TEST(test_argon2_roundtrip)
{
    char h[OB_PASSWORD_HASH_MAX];
    ck_assert_int_ge(sodium_init(), 0);
    /* 64 characters: every accepted length verifies exactly as typed. */
    const char *pw = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?";
    ck_assert_uint_eq(strlen(pw), 64);
    ck_assert_int_eq(ob_password_hash(pw, strlen(pw), h), 0);
    ck_assert(strncmp(h, "$argon2id$", 10) == 0);
    bool rehash = true;
    ck_assert(ob_password_verify(pw, strlen(pw), h, &rehash));
    ck_assert(!rehash);
    ck_assert(!ob_password_verify(pw, strlen(pw) - 1, h, &rehash));
    char other[65];
    memcpy(other, pw, 65);
    other[63] = '.';
    ck_assert(!ob_password_verify(other, 64, h, &rehash));
    /* Passwords are not trimmed. */
    ck_assert_int_eq(ob_password_hash(" pad ", 5, h), 0);
    ck_assert(ob_password_verify(" pad ", 5, h, &rehash));
    ck_assert(!ob_password_verify("pad", 3, h, &rehash));
}
END_TEST

START_TEST(test_unusable)
{
    bool rehash;
    ck_assert(!ob_password_usable(ob_password_unusable()));
    ck_assert(!ob_password_usable(""));
    ck_assert(!ob_password_usable("!abc"));
    ck_assert(!ob_password_verify("", 0, "!", &rehash));
    ck_assert(!ob_password_verify("abc", 3, "!abc", &rehash));
    ck_assert(!ob_password_verify("abc", 3, "md5$x$y", &rehash));
}
END_TEST

typedef struct {
    char codes[8][40];
    char msgs[8][128];
    int n;
} report;

static void collect(void *ctx, const char *code, const char *message)
{
    report *r = ctx;
    if (r->n < 8) {
        snprintf(r->codes[r->n], sizeof r->codes[0], "%s", code);
        snprintf(r->msgs[r->n], sizeof r->msgs[0], "%s", message);
        r->n++;
    }
}

static bool has(const report *r, const char *code)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->codes[i], code) == 0)
            return true;
    return false;
}

static report check(const char *pw, const char *user, const char *email)
{
    report r = {0};
    const char *sim[4] = {user, NULL, NULL, email};
    ob_password_check(pw, strlen(pw), sim, collect, &r);
    return r;
}

START_TEST(test_rules)
{
    report r = check("Vq8#lumen-Orchard-42", "alice", "alice@example.org");
    ck_assert_int_eq(r.n, 0);
    r = check("short", "alice", NULL);
    ck_assert(has(&r, "password_too_short"));
    ck_assert_str_eq(r.msgs[0], "This password is too short. It must contain at least 8 characters.");
    r = check("1234567890123", "alice", NULL);
    ck_assert(has(&r, "password_entirely_numeric"));
    r = check("alice12345", "alice1", NULL);
    ck_assert(has(&r, "password_too_similar"));
    ck_assert_str_eq(r.msgs[0], "The password is too similar to the username.");
    r = check("bobexample", "zzzzz", "bob@example.org");
    ck_assert(has(&r, "password_too_similar"));
    ck_assert_str_eq(r.msgs[0], "The password is too similar to the email address.");
    /* Eight characters, counted as characters, not bytes. */
    r = check("äöüäöüäö", "alice", NULL);
    ck_assert(!has(&r, "password_too_short"));
    char big[OB_PASSWORD_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    r = check(big, "alice", NULL);
    ck_assert(has(&r, "max_length"));
}
END_TEST

START_TEST(test_common_list)
{
    char path[] = "/tmp/ob-common-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char list[] = "password\nQwerty123\n\nletmein1\n";
    ck_assert_int_eq(write(fd, list, sizeof list - 1), (long)(sizeof list - 1));
    close(fd);
    ck_assert_int_ge(ob_password_load_common(path), 3);
    unlink(path);
    ck_assert(ob_password_is_common("qwerty123", 9));
    ck_assert(ob_password_is_common("LetMeIn1", 8));
    ck_assert(!ob_password_is_common("letmein", 7));
    report r = check("Qwerty123", "alice", NULL);
    ck_assert(has(&r, "password_too_common"));
}
END_TEST

Suite *password_suite(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_pbkdf2_rfc_vectors);
    tcase_add_test(tc, test_pbkdf2_django_hash);
    tcase_add_test(tc, test_argon2_roundtrip);
    tcase_add_test(tc, test_unusable);
    tcase_add_test(tc, test_rules);
    tcase_add_test(tc, test_common_list);
    suite_add_tcase(s, tc);
    return s;
}
