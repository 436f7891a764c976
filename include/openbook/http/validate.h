/* validate.h - pure checks of account input (api-auth.md §6, §7): e-mail
 * addresses, usernames, login codes, and a scan of a JSON body for string
 * members that hold invalid UTF-8 or NUL.  Like parse.h, each takes
 * (buf, len), never assumes NUL termination, and is driven by a libFuzzer
 * target (test/fuzz/fuzz_validate.c). */
#ifndef OPENBOOK_VALIDATE_H
#define OPENBOOK_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include "openbook/core/arena.h"

#define OB_EMAIL_MAX 254
#define OB_USERNAME_MIN 5
#define OB_USERNAME_MAX 150
#define OB_LOGIN_CODE_LEN 8

/* An address as Django's EmailValidator accepts it (dot-atom local part,
 * host name with a top-level label of 2-63 characters), ASCII only, at
 * most OB_EMAIL_MAX bytes. */
bool ob_valid_email(const char *s, size_t len);

/* Only ASCII letters, digits and @ . + - _ (length is checked apart). */
bool ob_valid_username_chars(const char *s, size_t len);

/* Number of characters (UTF-8 code points) in s[0..len). */
size_t ob_utf8_count(const char *s, size_t len);

/* Login codes are compared case-insensitively, ignoring dashes, other
 * punctuation and white space: writes the upper-cased letters and digits
 * (at most OB_LOGIN_CODE_LEN, NUL-terminated) to out.  Returns their
 * count, or OB_LOGIN_CODE_LEN + 1 when there are more. */
size_t ob_login_code_normalize(const char *s, size_t len, char out[OB_LOGIN_CODE_LEN + 1]);

/* For a JSON text whose top level is an object: the name of the first
 * member whose string value holds invalid UTF-8, a raw control character
 * or an escaped NUL (\u0000), which a C string cannot carry.  NULL when
 * there is none or the text is not such an object (the JSON parser then
 * has the last word).  The name is copied to the arena, at most 64 bytes. */
const char *ob_json_bad_string_member(ob_arena *a, const char *buf, size_t len);

#endif
