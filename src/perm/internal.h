/* internal.h - what the files of the permission engine (src/perm/) share:
 * the requester's grants as loaded for the request, and small helpers.
 * Not for use outside src/perm/ (the contract is perm.h). */
#ifndef OPENBOOK_PERM_INTERNAL_H
#define OPENBOOK_PERM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "openbook/http/http.h"

/* What the requester holds (grants.c loads it once per request). */
typedef struct {
    int32_t *anon, *model;  /* permission ids */
    size_t nanon, nmodel;
    struct asg {
        int st;
        const char *uuid;
        int priority;
        int32_t *perms;
        size_t nperms;
    } *asg;
    size_t nasg;
    struct owned {
        int st;
        const char *uuid;
    } *owned;
    size_t nowned;
    struct pubcache {
        int st;
        const char *uuid;
        int32_t *perms;
        size_t n;
    } pub[8];
    size_t npub;
    bool loaded;
    bool catalogue_reloaded;
} perm_ctx;

/* The request's grants (allocated on first use, not loaded). */
perm_ctx *ob_perm_ctx(ob_request *r);
/* A catalogue id (perm: a permission, else a content type) of app (applen
 * bytes) and name; a miss reloads the catalogue once per request.  0: none,
 * -1: database failure (answered). */
int ob_perm_cat_lookup(ob_request *r, bool perm, const char *app, size_t applen,
                       const char *name);
bool ob_perm_has_id(const int32_t *ids, size_t n, int id);
bool ob_perm_same_scope(int st, const char *uuid, int st2, const char *uuid2);
/* "1,2,3" -> ids, in the arena (*n of them). */
int32_t *ob_perm_parse_ids(ob_arena *a, const char *s, size_t *n);
/* The requester's id as text (a logged-in requester). */
const char *ob_perm_uid_text(ob_request *r);

#endif
