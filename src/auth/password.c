/* password.c - hashing, verification and the password rules (password.h). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zlib.h>
#include "openbook/core/alloc.h"
#include "openbook/core/log.h"
#include "openbook/auth/password.h"

/* Every hash and verification is logged at debug level: the tests count
 * these lines to check that the paths which must not reveal whether an
 * account exists do the same work (api-auth.md §4.2, §4.3). */
int ob_password_hash(const char *password, size_t len, char out[OB_PASSWORD_HASH_MAX])
{
    _Static_assert(crypto_pwhash_STRBYTES <= OB_PASSWORD_HASH_MAX, "hash buffer too small");
    ob_debug("password: hash (argon2id)");
    return crypto_pwhash_str_alg(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
}

const char *ob_password_unusable(void)
{
    return "!";
}

bool ob_password_usable(const char *stored)
{
    return stored && *stored && *stored != '!';
}

void ob_pbkdf2_sha256(const unsigned char *pw, size_t pwlen, const unsigned char *salt,
                      size_t saltlen, unsigned long iterations, unsigned char *out, size_t outlen)
{
    crypto_auth_hmacsha256_state base, st;
    crypto_auth_hmacsha256_init(&base, pw, pwlen);
    for (uint32_t block = 1; outlen > 0; block++) {
        unsigned char u[32], t[32], be[4] = {(unsigned char)(block >> 24), (unsigned char)(block >> 16),
                                             (unsigned char)(block >> 8), (unsigned char)block};
        st = base;
        crypto_auth_hmacsha256_update(&st, salt, saltlen);
        crypto_auth_hmacsha256_update(&st, be, 4);
        crypto_auth_hmacsha256_final(&st, u);
        memcpy(t, u, 32);
        for (unsigned long i = 1; i < iterations; i++) {
            st = base;
            crypto_auth_hmacsha256_update(&st, u, 32);
            crypto_auth_hmacsha256_final(&st, u);
            for (int k = 0; k < 32; k++)
                t[k] ^= u[k];
        }
        size_t n = outlen < 32 ? outlen : 32;
        memcpy(out, t, n);
        out += n;
        outlen -= n;
    }
    sodium_memzero(&base, sizeof base);
    sodium_memzero(&st, sizeof st);
}

/* pbkdf2_sha256$<iterations>$<salt>$<base64 of 32 bytes> */
static bool verify_pbkdf2(const char *password, size_t len, const char *stored)
{
    const char *p = stored + strlen("pbkdf2_sha256$");
    char *end;
    unsigned long iter = strtoul(p, &end, 10);
    /* Bounded so a crafted hash cannot pin a worker for minutes. */
    if (*end != '$' || iter == 0 || iter > 10000000UL)
        return false;
    const char *salt = end + 1;
    const char *dollar = strchr(salt, '$');
    if (!dollar || dollar == salt)
        return false;
    const char *b64 = dollar + 1;
    unsigned char want[64];
    size_t wlen = 0;
    if (sodium_base642bin(want, sizeof want, b64, strlen(b64), NULL, &wlen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        wlen == 0)
        return false;
    unsigned char got[64];
    ob_pbkdf2_sha256((const unsigned char *)password, len, (const unsigned char *)salt,
                     (size_t)(dollar - salt), iter, got, wlen);
    bool ok = sodium_memcmp(got, want, wlen) == 0;
    sodium_memzero(got, sizeof got);
    return ok;
}

bool ob_password_verify(const char *password, size_t len, const char *stored, bool *needs_rehash)
{
    *needs_rehash = false;
    if (!ob_password_usable(stored) || len > OB_PASSWORD_MAX)
        return false;
    if (strncmp(stored, "$argon2id$", 10) == 0) {
        ob_debug("password: verify (argon2id)");
        if (crypto_pwhash_str_verify(stored, password, len) != 0)
            return false;
        *needs_rehash = crypto_pwhash_str_needs_rehash(stored, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                                       crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
        return true;
    }
    if (strncmp(stored, "pbkdf2_sha256$", 14) != 0)
        return false;
    ob_debug("password: verify (pbkdf2_sha256)");
    if (!verify_pbkdf2(password, len, stored))
        return false;
    *needs_rehash = true;
    return true;
}

/* ---- common passwords: a sorted array searched with bsearch ---- */

static char **common;
static size_t ncommon;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

long ob_password_load_common(const char *path)
{
    gzFile f = gzopen(path, "rb"); /* reads plain files too */
    if (!f)
        return -1;
    char line[512];
    size_t cap = 0;
    while (gzgets(f, line, sizeof line)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (!n)
            continue;
        for (size_t i = 0; i < n; i++)
            line[i] = (char)tolower((unsigned char)line[i]);
        if (ncommon == cap) {
            cap = cap ? cap * 2 : 4096;
            common = ob_realloc(common, cap * sizeof *common);
        }
        common[ncommon++] = ob_strdup(line);
    }
    gzclose(f);
    qsort(common, ncommon, sizeof *common, cmp_str);
    return (long)ncommon;
}

bool ob_password_is_common(const char *password, size_t len)
{
    if (!ncommon || len >= 512)
        return false;
    char low[512];
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)password[i]);
    low[len] = '\0';
    const char *key = low;
    return bsearch(&key, common, ncommon, sizeof *common, cmp_str) != NULL;
}

/* ---- similarity, as the original's UserAttributeSimilarityValidator ---- */

/* difflib.SequenceMatcher.quick_ratio(): twice the size of the multiset
 * intersection of the two strings' characters over their total length. */
static double quick_ratio(const char *a, size_t la, const char *b, size_t lb)
{
    if (la + lb == 0)
        return 1.0;
    unsigned counts[256] = {0};
    for (size_t i = 0; i < lb; i++)
        counts[(unsigned char)b[i]]++;
    size_t matches = 0;
    for (size_t i = 0; i < la; i++) {
        unsigned char c = (unsigned char)a[i];
        if (counts[c]) {
            counts[c]--;
            matches++;
        }
    }
    return 2.0 * (double)matches / (double)(la + lb);
}

static bool too_similar(const char *pw, size_t pl, const char *value)
{
    const double max = 0.7;
    size_t vl = strlen(value);
    char *v = ob_malloc(vl + 1);
    for (size_t i = 0; i <= vl; i++)
        v[i] = (char)tolower((unsigned char)value[i]);
    bool hit = false;
    /* The whole value, then its parts split at non-word characters. */
    size_t start = 0;
    for (size_t i = 0; i <= vl && !hit; i++) {
        bool word = i < vl && (isalnum((unsigned char)v[i]) || v[i] == '_' || (unsigned char)v[i] >= 0x80);
        if (word)
            continue;
        const char *parts[2] = {v + start, v};
        size_t lens[2] = {i - start, vl};
        for (int k = 0; k < (i == vl ? 2 : 1) && !hit; k++) {
            size_t l = lens[k];
            /* Skip parts much shorter than the password (Django's
             * exceeds_maximum_length_ratio). */
            if (pl >= 10 * l && (double)l < max / 2 * (double)pl)
                continue;
            hit = quick_ratio(pw, pl, parts[k], l) >= max;
        }
        start = i + 1;
    }
    ob_free(v);
    return hit;
}

int ob_password_check(const char *password, size_t len, const char *const similar_to[4],
                      ob_password_report report, void *ctx)
{
    static const char *labels[4] = {"username", "first name", "last name", "email address"};
    int n = 0;
    char msg[128];
    if (len > OB_PASSWORD_MAX) {
        snprintf(msg, sizeof msg, "Ensure this value has at most %d characters (it has %zu).",
                 OB_PASSWORD_MAX, len);
        report(ctx, "max_length", msg);
        return 1;
    }
    char *low = ob_malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)password[i]);
    low[len] = '\0';
    for (int i = 0; i < 4; i++) {
        if (similar_to && similar_to[i] && *similar_to[i] && too_similar(low, len, similar_to[i])) {
            snprintf(msg, sizeof msg, "The password is too similar to the %s.", labels[i]);
            report(ctx, "password_too_similar", msg);
            n++;
            break;
        }
    }
    ob_free(low);
    /* Length counts characters, not bytes. */
    size_t chars = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)password[i] & 0xc0) != 0x80)
            chars++;
    if (chars < 8) {
        report(ctx, "password_too_short",
               "This password is too short. It must contain at least 8 characters.");
        n++;
    }
    if (ob_password_is_common(password, len)) {
        report(ctx, "password_too_common", "This password is too common.");
        n++;
    }
    bool numeric = len > 0;
    for (size_t i = 0; i < len && numeric; i++)
        numeric = isdigit((unsigned char)password[i]);
    if (numeric) {
        report(ctx, "password_entirely_numeric", "This password is entirely numeric.");
        n++;
    }
    return n;
}
