/* fuzz_ticket.c - the ticket verifier (src/core/ticket.c).
 *
 * Each input is tried twice: as a ticket string, and as a payload that
 * the harness signs with the right key, so the JSON payload checks are
 * reached although a fuzzer never forges a MAC.  Invariants on success:
 * expiry after "now", 1..max channels, each a valid channel name, a jti of
 * 32 lower-case hex digits, and re-signing the result verifies to the same
 * content.  On failure the output is zeroed. */
#include <string.h>
#include <sodium.h>
#include "openbook/core/ticket.h"
#include "fuzz_common.h"

#define NOW 1900000000
#define MAX_CH 8

static ob_ticket_keys *keys(void)
{
    static ob_ticket_keys k;
    static bool ready;
    if (!ready) {
        ob_ticket_keys_init(&k, "fuzz-ticket-secret-0123456789-abcdefghij",
                            "fuzz-previous-secret-0123456789-abcdefgh", "");
        ready = true;
    }
    return &k;
}

static const char *sign_raw(ob_arena *a, const uint8_t *payload, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *p64 = ob_arena_alloc(a, cap);
    sodium_bin2base64(p64, cap, payload, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    unsigned char mac[32];
    const ob_ticket_key *k = &keys()->current;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, k->bytes, k->len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)p64, strlen(p64));
    crypto_auth_hmacsha256_final(&st, mac);
    char s64[64];
    sodium_bin2base64(s64, sizeof s64, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return ob_arena_printf(a, "%s.%s", p64, s64);
}

static void check(ob_arena *a, const char *s, size_t len)
{
    ob_ticket t;
    ob_ticket_status st = ob_ticket_verify(keys(), s, len, NOW, MAX_CH, a, &t);
    if (st != OB_TICKET_OK) {
        FUZZ_CHECK(st == OB_TICKET_MALFORMED || st == OB_TICKET_BAD_SIGNATURE ||
                       st == OB_TICKET_EXPIRED,
                   "unknown status %d", (int)st);
        FUZZ_CHECK(t.channels == NULL && t.nchannels == 0 && t.exp == 0 && !t.jti[0],
                   "output not cleared");
        return;
    }
    FUZZ_CHECK(t.exp > NOW, "expired ticket accepted");
    FUZZ_CHECK(t.nchannels >= 1 && t.nchannels <= MAX_CH, "%zu channels", t.nchannels);
    for (size_t i = 0; i < t.nchannels; i++)
        FUZZ_CHECK(ob_ws_channel_valid(t.channels[i], strlen(t.channels[i])), "bad channel");
    FUZZ_CHECK(strlen(t.jti) == OB_TICKET_JTI_LEN, "jti length");
    for (size_t i = 0; i < OB_TICKET_JTI_LEN; i++)
        FUZZ_CHECK((t.jti[i] >= '0' && t.jti[i] <= '9') || (t.jti[i] >= 'a' && t.jti[i] <= 'f'),
                   "jti not lower-case hex");
    FUZZ_CHECK(t.anonymous || t.uid >= 1, "uid %lld", (long long)t.uid);
    /* Round trip through the signer. */
    ob_ticket copy = t;
    char *again = ob_ticket_sign(keys(), a, &copy);
    ob_ticket u;
    FUZZ_CHECK(ob_ticket_verify(keys(), again, strlen(again), NOW, MAX_CH, a, &u) == OB_TICKET_OK,
               "re-signed ticket refused");
    FUZZ_CHECK(u.anonymous == t.anonymous && u.uid == t.uid && u.exp == t.exp &&
                   strcmp(u.jti, t.jti) == 0 && u.nchannels == t.nchannels,
               "round trip changed the ticket");
    for (size_t i = 0; i < t.nchannels; i++)
        FUZZ_CHECK(strcmp(u.channels[i], t.channels[i]) == 0, "round trip changed a channel");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ob_arena *a = fuzz_arena();
    check(a, (const char *)data, size);
    const char *signed_ = sign_raw(a, data, size);
    check(a, signed_, strlen(signed_));
    ob_arena_reset(a);
    return 0;
}
