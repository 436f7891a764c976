/* authorize.c - a ticket's single use: its jti is claimed in Redis (SET NX)
 * before the connection opens (handshake.c) or a "subscribe" action takes
 * its channels (proto.c).  An authorizing record waits for the answer; a
 * connection that goes away first only clears its pointer. */
#include <stdio.h>
#include "openbook/core/alloc.h"
#include "relay.h"

authorizing *auth_new(conn *c, const ob_ticket *t)
{
    authorizing *a = ob_calloc(1, sizeof *a);
    a->c = c;
    a->anonymous = t->anonymous;
    a->uid = t->anonymous ? 0 : t->uid;
    a->n = (uint32_t)t->nchannels;
    a->channels = ob_calloc(t->nchannels, sizeof *a->channels);
    for (size_t i = 0; i < t->nchannels; i++)
        a->channels[i] = ob_strdup(t->channels[i]);
    a->next = c->auth;
    c->auth = a;
    return a;
}

void auth_free(authorizing *a)
{
    if (a->c) {
        authorizing **pp = &a->c->auth;
        while (*pp && *pp != a)
            pp = &(*pp)->next;
        if (*pp)
            *pp = a->next;
    }
    for (uint32_t i = 0; i < a->n; i++)
        ob_free(a->channels[i]);
    ob_free(a->channels);
    ob_free(a);
}

int jti_claim(const char *jti, redisCallbackFn *fn, authorizing *a)
{
    char key[sizeof JTI_PREFIX + OB_TICKET_JTI_LEN];
    char ttl[24];
    snprintf(key, sizeof key, "%s%s", JTI_PREFIX, jti);
    snprintf(ttl, sizeof ttl, "%ld", R.cfg.relay_ticket_ttl);
    const char *argv[] = {"SET", key, "1", "NX", "EX", ttl};
    return link_command(fn, a, 6, argv, NULL);
}

/* 1: claimed (first use), 0: used before, -1: Redis did not answer. */
int jti_result(const redisReply *r)
{
    if (!r || r->type == REDIS_REPLY_ERROR)
        return -1;
    if (r->type == REDIS_REPLY_NIL)
        return 0;
    return r->type == REDIS_REPLY_STATUS ? 1 : -1;
}

void auth_cancel_all(conn *c)
{
    for (authorizing *a = c->auth; a; a = a->next)
        a->c = NULL;
    c->auth = NULL;
}
