/* fuzz_validate.c - the account input checks of validate.h.
 *
 * Input: byte 0 picks the check, the rest is its input.  Invariants: no
 * check reads outside (buf, len) (ASan); an accepted e-mail address has
 * exactly one '@' and only ASCII; accepted usernames hold only the allowed
 * characters; a normalised code is upper-case letters and digits, at most
 * OB_LOGIN_CODE_LEN, NUL-terminated; a member named as bad by the JSON
 * scan is a prefix-bounded copy (<= 64 bytes) of text in the input. */
#include <ctype.h>
#include <string.h>
#include "openbook/http/validate.h"
#include "fuzz_common.h"

static void check_email(const char *buf, size_t len)
{
    if (!ob_valid_email(buf, len))
        return;
    size_t ats = 0;
    for (size_t i = 0; i < len; i++) {
        FUZZ_CHECK((unsigned char)buf[i] < 0x80 && buf[i] > 0x20, "byte %zu", i);
        ats += buf[i] == '@';
    }
    FUZZ_CHECK(ats == 1, "%zu '@'", ats);
    FUZZ_CHECK(len <= OB_EMAIL_MAX, "length %zu", len);
}

static void check_username(const char *buf, size_t len)
{
    if (!ob_valid_username_chars(buf, len))
        return;
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(isalnum((unsigned char)buf[i]) || (buf[i] && strchr("@.+-_", buf[i])),
                   "byte %zu", i);
    FUZZ_CHECK(ob_utf8_count(buf, len) == len, "ASCII counts as bytes");
}

static void check_code(const char *buf, size_t len)
{
    char out[OB_LOGIN_CODE_LEN + 1];
    size_t n = ob_login_code_normalize(buf, len, out);
    FUZZ_CHECK(n <= OB_LOGIN_CODE_LEN + 1, "count %zu", n);
    size_t l = strlen(out);
    FUZZ_CHECK(l <= OB_LOGIN_CODE_LEN, "output length %zu", l);
    if (n <= OB_LOGIN_CODE_LEN)
        FUZZ_CHECK(l == n, "count %zu, output %zu", n, l);
    for (size_t i = 0; i < l; i++)
        FUZZ_CHECK(isupper((unsigned char)out[i]) || isdigit((unsigned char)out[i]), "char %zu", i);
}

static void check_json(ob_arena *a, const char *buf, size_t len)
{
    const char *name = ob_json_bad_string_member(a, buf, len);
    if (!name)
        return;
    size_t n = strlen(name);
    FUZZ_CHECK(n <= 64, "name of %zu bytes", n);
    FUZZ_CHECK(n == 0 || memmem(buf, len, name, n) != NULL, "name not from the input");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    ob_arena *a = fuzz_arena();
    /* A copy of exactly the input's size, so ASan sees any overread. */
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1);
    memcpy(buf, data + 1, len);
    switch (data[0] % 4) {
    case 0: check_email(buf, len); break;
    case 1: check_username(buf, len); break;
    case 2: check_code(buf, len); break;
    default: check_json(a, buf, len); break;
    }
    free(buf);
    ob_arena_reset(a);
    return 0;
}
