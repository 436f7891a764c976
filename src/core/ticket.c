/* ticket.c - WebSocket tickets, channel names and event ids (see ticket.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <sodium.h>
#include "openbook/core/buf.h"
#include "openbook/core/config.h"
#include "openbook/core/json.h"
#include "openbook/core/ticket.h"

#define SIG_B64_LEN 43 /* 32 bytes, base64url without padding */
#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING
/* JSON numbers pass through doubles in cJSON: only integers up to 2^53
 * survive exactly, so that is the largest uid and exp we accept. */
#define MAX_EXACT_INT 9007199254740992.0

static void key_set(ob_ticket_key *k, const unsigned char *bytes, size_t len)
{
    /* HMAC hashes keys longer than its block size (64 bytes) first; doing
     * the same here gives the same MAC and a fixed-size key. */
    if (len > sizeof k->bytes) {
        crypto_hash_sha256(k->bytes, bytes, len);
        k->len = crypto_hash_sha256_BYTES;
    } else {
        memcpy(k->bytes, bytes, len);
        k->len = len;
    }
}

static void hmac(const ob_ticket_key *k, const void *msg, size_t len,
                 unsigned char out[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, k->bytes, k->len);
    crypto_auth_hmacsha256_update(&st, msg, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

int ob_ticket_keys_init(ob_ticket_keys *k, const char *ticket_secret,
                        const char *ticket_secret_previous, const char *secret_key)
{
    memset(k, 0, sizeof *k);
    if (sodium_init() < 0)
        return -1;
    if (ticket_secret && *ticket_secret) {
        key_set(&k->current, (const unsigned char *)ticket_secret, strlen(ticket_secret));
    } else if (secret_key && *secret_key) {
        /* A key of its own, so a ticket MAC can never be replayed as some
         * other signature made with secret_key. */
        ob_ticket_key sk;
        key_set(&sk, (const unsigned char *)secret_key, strlen(secret_key));
        unsigned char derived[crypto_auth_hmacsha256_BYTES];
        static const char label[] = "openbook-ws-ticket";
        hmac(&sk, label, sizeof label - 1, derived);
        key_set(&k->current, derived, sizeof derived);
        sodium_memzero(&sk, sizeof sk);
        sodium_memzero(derived, sizeof derived);
    } else {
        return -1;
    }
    if (ticket_secret_previous && *ticket_secret_previous) {
        key_set(&k->previous, (const unsigned char *)ticket_secret_previous,
                strlen(ticket_secret_previous));
        k->has_previous = true;
    }
    return 0;
}

int ob_ticket_keys_from_config(ob_ticket_keys *k, const ob_config *cfg)
{
    return ob_ticket_keys_init(k, cfg->relay_ticket_secret, cfg->relay_ticket_secret_previous,
                               cfg->secret_key);
}

void ob_ticket_new_jti(char out[OB_TICKET_JTI_LEN + 1])
{
    unsigned char r[OB_TICKET_JTI_LEN / 2];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(out, OB_TICKET_JTI_LEN + 1, r, sizeof r);
}

/* ---- channel names and event ids ----------------------------------- */

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool uuid_valid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_lower_hex(s[i])) {
            return false;
        }
    }
    return true;
}

static bool prefix(const char *s, size_t len, const char *p, size_t *plen)
{
    *plen = strlen(p);
    return len >= *plen && memcmp(s, p, *plen) == 0;
}

bool ob_ws_channel_valid(const char *s, size_t len)
{
    size_t pl;
    if (len == 0 || len > OB_WS_CHANNEL_MAX)
        return false;
    if (prefix(s, len, "user:", &pl)) {
        const char *d = s + pl;
        size_t n = len - pl;
        /* 1 .. 9223372036854775807, canonical decimal. */
        if (n == 0 || n > 19 || d[0] == '0')
            return false;
        for (size_t i = 0; i < n; i++)
            if (d[i] < '0' || d[i] > '9')
                return false;
        return n < 19 || memcmp(d, "9223372036854775807", 19) <= 0;
    }
    if (prefix(s, len, "course:", &pl) || prefix(s, len, "textbook:", &pl))
        return uuid_valid(s + pl, len - pl);
    return len == 15 && memcmp(s, "library:updates", 15) == 0;
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool ob_event_id_parse(const char *s, size_t len, ob_event_id *out)
{
    const char *dash = memchr(s, '-', len);
    if (!dash)
        return false;
    size_t ml = (size_t)(dash - s);
    ob_event_id id;
    if (!parse_u64(s, ml, &id.ms) || !parse_u64(dash + 1, len - ml - 1, &id.seq))
        return false;
    *out = id;
    return true;
}

int ob_event_id_cmp(ob_event_id a, ob_event_id b)
{
    if (a.ms != b.ms)
        return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq)
        return a.seq < b.seq ? -1 : 1;
    return 0;
}

void ob_event_id_format(ob_event_id id, char out[48])
{
    snprintf(out, 48, "%" PRIu64 "-%" PRIu64, id.ms, id.seq);
}

/* ---- sign ------------------------------------------------------------ */

static char *b64(ob_arena *a, const unsigned char *bin, size_t len, size_t *out_len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, B64_VARIANT);
    char *s = ob_arena_alloc(a, cap);
    sodium_bin2base64(s, cap, bin, len, B64_VARIANT);
    *out_len = strlen(s);
    return s;
}

char *ob_ticket_sign(const ob_ticket_keys *k, ob_arena *a, ob_ticket *t)
{
    if (!t->jti[0])
        ob_ticket_new_jti(t->jti);
    ob_buf payload;
    ob_buf_init(&payload, a);
    ob_json j;
    ob_json_init(&j, &payload);
    ob_json_object_begin(&j);
    ob_json_kv_int(&j, "v", 1);
    ob_json_key(&j, "uid");
    if (t->anonymous)
        ob_json_null(&j);
    else
        ob_json_int(&j, t->uid);
    ob_json_key(&j, "ch");
    ob_json_array_begin(&j);
    for (size_t i = 0; i < t->nchannels; i++)
        ob_json_string(&j, t->channels[i]);
    ob_json_array_end(&j);
    ob_json_kv_int(&j, "exp", t->exp);
    ob_json_kv_string(&j, "jti", t->jti);
    ob_json_object_end(&j);

    size_t pl, sl;
    char *p64 = b64(a, (const unsigned char *)payload.data, payload.len, &pl);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    hmac(&k->current, p64, pl, mac);
    char *s64 = b64(a, mac, sizeof mac, &sl);
    char *out = ob_arena_alloc(a, pl + 1 + sl + 1);
    memcpy(out, p64, pl);
    out[pl] = '.';
    memcpy(out + pl + 1, s64, sl + 1);
    return out;
}

/* ---- verify ---------------------------------------------------------- */

static bool b64url_chars(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static bool mac_matches(const ob_ticket_key *k, const char *p64, size_t pl,
                        const unsigned char *sig)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    hmac(k, p64, pl, mac);
    return sodium_memcmp(mac, sig, sizeof mac) == 0;
}

static bool exact_int(const cJSON *v, double lo, double hi, int64_t *out)
{
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!(d >= lo && d <= hi) || d != (double)(int64_t)d)
        return false;
    *out = (int64_t)d;
    return true;
}

static ob_ticket_status parse_payload(const char *json, size_t len, size_t max_channels,
                                      ob_arena *a, ob_ticket *t)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    ob_ticket_status st = OB_TICKET_MALFORMED;
    if (!root || !cJSON_IsObject(root))
        goto out;
    int64_t v;
    if (!exact_int(cJSON_GetObjectItemCaseSensitive(root, "v"), 1, 1, &v))
        goto out;
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(root, "uid");
    if (cJSON_IsNull(uid)) {
        t->anonymous = true;
    } else if (!exact_int(uid, 1, MAX_EXACT_INT, &t->uid)) {
        goto out;
    }
    if (!exact_int(cJSON_GetObjectItemCaseSensitive(root, "exp"), 0, MAX_EXACT_INT, &t->exp))
        goto out;
    const cJSON *jti = cJSON_GetObjectItemCaseSensitive(root, "jti");
    if (!cJSON_IsString(jti) || strlen(jti->valuestring) != OB_TICKET_JTI_LEN)
        goto out;
    for (size_t i = 0; i < OB_TICKET_JTI_LEN; i++)
        if (!is_lower_hex(jti->valuestring[i]))
            goto out;
    memcpy(t->jti, jti->valuestring, OB_TICKET_JTI_LEN + 1);
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(root, "ch");
    if (!cJSON_IsArray(ch))
        goto out;
    size_t n = (size_t)cJSON_GetArraySize(ch);
    if (n == 0 || n > max_channels)
        goto out;
    const char **names = ob_arena_calloc(a, n, sizeof *names);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ch)
    {
        if (!cJSON_IsString(it))
            goto out;
        size_t l = strlen(it->valuestring);
        if (!ob_ws_channel_valid(it->valuestring, l))
            goto out;
        names[i++] = ob_arena_strndup(a, it->valuestring, l);
    }
    t->channels = names;
    t->nchannels = n;
    st = OB_TICKET_OK;
out:
    cJSON_Delete(root);
    return st;
}

ob_ticket_status ob_ticket_verify(const ob_ticket_keys *k, const char *buf, size_t len,
                                  int64_t now, size_t max_channels, ob_arena *a,
                                  ob_ticket *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || len > OB_TICKET_MAX_LEN)
        return OB_TICKET_MALFORMED;
    const char *dot = memchr(buf, '.', len);
    if (!dot)
        return OB_TICKET_MALFORMED;
    size_t pl = (size_t)(dot - buf);
    const char *s64 = dot + 1;
    size_t sl = len - pl - 1;
    if (pl == 0 || sl != SIG_B64_LEN || !b64url_chars(buf, pl) || !b64url_chars(s64, sl))
        return OB_TICKET_MALFORMED;
    unsigned char sig[crypto_auth_hmacsha256_BYTES];
    size_t got = 0;
    const char *end = NULL;
    if (sodium_base642bin(sig, sizeof sig, s64, sl, NULL, &got, &end, B64_VARIANT) != 0 ||
        got != sizeof sig || end != s64 + sl)
        return OB_TICKET_MALFORMED;
    /* Both keys are always tried when the first fails, so the time taken
     * does not tell which key (if any) almost matched. */
    bool ok = mac_matches(&k->current, buf, pl, sig);
    if (!ok && k->has_previous)
        ok = mac_matches(&k->previous, buf, pl, sig);
    if (!ok)
        return OB_TICKET_BAD_SIGNATURE;

    size_t cap = pl / 4 * 3 + 3;
    unsigned char *json = ob_arena_alloc(a, cap + 1);
    size_t jl = 0;
    end = NULL;
    if (sodium_base642bin(json, cap, buf, pl, NULL, &jl, &end, B64_VARIANT) != 0 ||
        end != buf + pl)
        return OB_TICKET_MALFORMED;
    json[jl] = '\0';
    ob_ticket t;
    memset(&t, 0, sizeof t);
    ob_ticket_status st = parse_payload((const char *)json, jl, max_channels, a, &t);
    if (st != OB_TICKET_OK)
        return st;
    if (t.exp <= now)
        return OB_TICKET_EXPIRED;
    *out = t;
    return OB_TICKET_OK;
}
