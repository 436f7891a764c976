/* users.c - the open connections grouped by owner: per user id
 * (relay.max_connections_per_user) and, for anonymous ones, per client
 * address (relay.max_anonymous_per_address).  The oldest connection of a
 * group gives way when a new one goes over its limit; users_revoke closes
 * all of a user's (a control message, websocket.md §8). */
#include <string.h>
#include "openbook/core/alloc.h"
#include "openbook/core/log.h"
#include "relay.h"

/* Connections grouped by owner, each group with its limit: U holds users'
 * connections by user id (relay.max_connections_per_user), A anonymous
 * connections by client address (relay.max_anonymous_per_address, key
 * from ob_ws_addr_key).  A connection is in at most one group, c->user. */
struct user {
    user *hnext;
    int64_t uid;            /* the user id; in A the address key */
    uint32_t count;
    bool anonymous;         /* a group of A */
    conn *head, *tail;
};

struct user_table {
    user **b;
    size_t cap, n;
};

static struct user_table U, A;

static size_t user_bucket(const struct user_table *t, int64_t uid)
{
    uint64_t h = (uint64_t)uid * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (t->cap - 1);
}

static user *user_find(const struct user_table *t, int64_t uid)
{
    if (!t->cap)
        return NULL;
    for (user *u = t->b[user_bucket(t, uid)]; u; u = u->hnext)
        if (u->uid == uid)
            return u;
    return NULL;
}

static void users_grow(struct user_table *t)
{
    size_t old = t->cap;
    user **ob = t->b;
    t->cap = old ? old * 2 : 64;
    t->b = ob_calloc(t->cap, sizeof *t->b);
    for (size_t i = 0; i < old; i++)
        for (user *u = ob[i], *next; u; u = next) {
            next = u->hnext;
            size_t k = user_bucket(t, u->uid);
            u->hnext = t->b[k];
            t->b[k] = u;
        }
    ob_free(ob);
}

void user_detach(conn *c)
{
    user *u = c->user;
    if (!u)
        return;
    if (c->uprev)
        c->uprev->unext = c->unext;
    else
        u->head = c->unext;
    if (c->unext)
        c->unext->uprev = c->uprev;
    else
        u->tail = c->uprev;
    c->uprev = c->unext = NULL;
    c->user = NULL;
    if (--u->count == 0) {
        struct user_table *t = u->anonymous ? &A : &U;
        user **pp = &t->b[user_bucket(t, u->uid)];
        while (*pp != u)
            pp = &(*pp)->hnext;
        *pp = u->hnext;
        t->n--;
        ob_free(u);
    }
}

/* Adds an open connection to its user's group (anonymous: its address's). */
void user_attach(conn *c, bool anonymous, int64_t uid)
{
    struct user_table *t = anonymous ? &A : &U;
    user *u = user_find(t, uid);
    if (!u) {
        if (t->n + 1 > t->cap)
            users_grow(t);
        u = ob_calloc(1, sizeof *u);
        u->uid = uid;
        u->anonymous = anonymous;
        size_t k = user_bucket(t, uid);
        u->hnext = t->b[k];
        t->b[k] = u;
        t->n++;
    }
    c->user = u;
    c->uprev = u->tail;
    if (u->tail)
        u->tail->unext = c;
    else
        u->head = c;
    u->tail = c;
    u->count++;
    /* ws_max_connections_per_user: the oldest gives way (4429).  The same
     * for the anonymous connections of one address, so that one client
     * cannot take every place of relay.max_connections. */
    long limit = anonymous ? R.cfg.relay_max_anonymous_per_address
                           : R.cfg.relay_max_connections_per_user;
    while (u->count > (uint32_t)limit && u->head != c) {
        if (anonymous)
            R.refused_address++;
        else
            R.refused_user++;
        conn_close(u->head, WS_TOO_MANY);
    }
}

void users_revoke(int64_t uid, uint16_t code)
{
    user *u;
    unsigned n = 0;
    while ((u = user_find(&U, uid)) != NULL && u->head) {
        conn_close(u->head, code);
        n++;
    }
    if (n)
        ob_info("relay: closed %u connection(s) of user %lld (%u)", n, (long long)uid, code);
}

int64_t conn_uid(const conn *c)
{
    return c->user && !c->user->anonymous ? c->user->uid : 0;
}

void users_finish(void)
{
    ob_free(U.b);
    memset(&U, 0, sizeof U);
    ob_free(A.b);
    memset(&A, 0, sizeof A);
}
