/* password.h - password hashing and the password rules.
 *
 * New hashes are argon2id (libsodium crypto_pwhash_str, interactive
 * limits).  Hashes in the original server's format
 * pbkdf2_sha256$<iterations>$<salt>$<base64> verify too, and report that
 * they need re-hashing.  Hashes starting with '!' never verify. */
#ifndef OPENBOOK_PASSWORD_H
#define OPENBOOK_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define OB_PASSWORD_MAX 1024
#define OB_PASSWORD_HASH_MAX 256

/* Writes a new argon2id hash of password[0..len) into out (NUL-terminated,
 * at most OB_PASSWORD_HASH_MAX bytes).  Returns 0, -1 on failure. */
int ob_password_hash(const char *password, size_t len, char out[OB_PASSWORD_HASH_MAX]);

/* True if the password matches the stored hash.  *needs_rehash is set when
 * it matched a hash that is not argon2id with the current limits. */
bool ob_password_verify(const char *password, size_t len, const char *stored, bool *needs_rehash);

/* A hash no password matches (for app users and "no password"). */
const char *ob_password_unusable(void);
bool ob_password_usable(const char *stored);

/* PBKDF2-HMAC-SHA256 (RFC 8018), exposed for the known-vector test. */
void ob_pbkdf2_sha256(const unsigned char *pw, size_t pwlen, const unsigned char *salt,
                      size_t saltlen, unsigned long iterations, unsigned char *out, size_t outlen);

/* Password rules of api-auth.md §6.  Each violation is reported through
 * `report(ctx, code, message)`; returns the number of violations.
 * `similar_to` holds username, first name, last name, e-mail (any may be
 * NULL), with their labels. */
typedef void (*ob_password_report)(void *ctx, const char *code, const char *message);
int ob_password_check(const char *password, size_t len, const char *const similar_to[4],
                      ob_password_report report, void *ctx);

/* Loads the common-password list (gzip or plain, one per line).  Called
 * once at start-up; returns the number of entries or -1. */
long ob_password_load_common(const char *path);
bool ob_password_is_common(const char *password, size_t len);

#endif
