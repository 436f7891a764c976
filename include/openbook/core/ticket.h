/* ticket.h - WebSocket tickets and the names shared by the app and the
 * relay (websocket.md §2, §3, §5).
 *
 * The app signs a ticket for the channels a caller may view; the relay,
 * which has no database, verifies it.  Both link this module, so the
 * format lives in one place:
 *
 *     base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))
 *
 * without padding; payload {"v":1,"uid":<int|null>,"ch":[...],"exp":<s>,
 * "jti":"<32 hex>"}.  The key is relay.ticket_secret, or, when that is
 * empty, HMAC-SHA256(security.secret_key, "openbook-ws-ticket"), so that a
 * site with only a secret_key still gets a key that is used for nothing
 * else.  relay.ticket_secret_previous is accepted too (key rotation).
 *
 * Single use is not checked here: the relay does it with SET NX on the jti. */
#ifndef OPENBOOK_TICKET_H
#define OPENBOOK_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openbook/core/arena.h"

struct ob_config;

/* Channel names are at most 64 bytes (websocket.md §2). */
#define OB_WS_CHANNEL_MAX 64
/* Longest ticket string either side handles (64 channels of 64 bytes fit
 * several times over). */
#define OB_TICKET_MAX_LEN 65536
#define OB_TICKET_JTI_LEN 32

/* An HMAC key.  Keys longer than the SHA-256 block are replaced by their
 * hash, exactly as HMAC itself does, so 64 bytes always suffice. */
typedef struct ob_ticket_key {
    unsigned char bytes[64];
    size_t len;
} ob_ticket_key;

typedef struct ob_ticket_keys {
    ob_ticket_key current;
    ob_ticket_key previous;
    bool has_previous;
} ob_ticket_keys;

/* Derives the keys from the three settings (relay.ticket_secret,
 * relay.ticket_secret_previous, security.secret_key).  Returns -1 when
 * neither ticket_secret nor secret_key is set: signing with a key anybody
 * can compute would make tickets forgeable. */
int ob_ticket_keys_init(ob_ticket_keys *k, const char *ticket_secret,
                        const char *ticket_secret_previous, const char *secret_key);
int ob_ticket_keys_from_config(ob_ticket_keys *k, const struct ob_config *cfg);

typedef struct ob_ticket {
    bool anonymous;          /* "uid": null */
    int64_t uid;             /* valid when !anonymous */
    int64_t exp;             /* epoch seconds */
    char jti[OB_TICKET_JTI_LEN + 1];
    const char **channels;   /* NUL-terminated names (arena) */
    size_t nchannels;
} ob_ticket;

typedef enum {
    OB_TICKET_OK = 0,
    OB_TICKET_MALFORMED = -1,     /* not a ticket, or a payload we do not accept */
    OB_TICKET_BAD_SIGNATURE = -2, /* signed with neither key */
    OB_TICKET_EXPIRED = -3,       /* exp <= now */
} ob_ticket_status;

/* Verifies buf[0..len): shape, signature (constant time, current key then
 * previous), payload and expiry.  At most max_channels channels, each a
 * valid channel name.  On OB_TICKET_OK *out points into arena memory; on
 * any failure *out is zeroed.  The signature is checked before the payload
 * is parsed, so unauthenticated input never reaches the JSON parser. */
ob_ticket_status ob_ticket_verify(const ob_ticket_keys *k, const char *buf, size_t len,
                                  int64_t now, size_t max_channels, ob_arena *a,
                                  ob_ticket *out);

/* Signs t with the current key; returns the ticket (arena).  An empty
 * t->jti gets a fresh random one (written back into t). */
char *ob_ticket_sign(const ob_ticket_keys *k, ob_arena *a, ob_ticket *t);

/* 128 random bits as 32 lower-case hex digits. */
void ob_ticket_new_jti(char out[OB_TICKET_JTI_LEN + 1]);

/* A well-formed channel name: "user:<id>" (decimal, no leading zero, 1 to
 * 2^63-1), "course:<uuid>", "textbook:<uuid>" (lower-case, hyphenated) or
 * "library:updates".  Says nothing about who may subscribe. */
bool ob_ws_channel_valid(const char *s, size_t len);

/* Redis stream ids "<ms>-<seq>", the event ids of websocket.md §5.2. */
typedef struct ob_event_id {
    uint64_t ms, seq;
} ob_event_id;

bool ob_event_id_parse(const char *s, size_t len, ob_event_id *out);
int ob_event_id_cmp(ob_event_id a, ob_event_id b);
/* Writes "<ms>-<seq>" (at most 41 bytes with the NUL). */
void ob_event_id_format(ob_event_id id, char out[48]);

#endif
