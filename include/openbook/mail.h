/* mail.h - outgoing mail through the durable outbox (api-auth.md §9).
 *
 * A request that sends mail only inserts into mail_outbox, inside its own
 * transaction, so a rolled-back change sends nothing and a committed one
 * is never lost.  `openbook send-mail` delivers (SMTP via libcurl, or the
 * file backend that writes RFC 5322 .eml files). */
#ifndef OPENBOOK_MAIL_H
#define OPENBOOK_MAIL_H

#include "openbook/http.h"

typedef enum {
    OB_MAIL_VERIFY,           /* "Please Confirm Your Email Address" */
    OB_MAIL_RESET,            /* "Password Reset Email" */
    OB_MAIL_CODE,             /* "Sign-In Code" */
    OB_MAIL_UNKNOWN_ACCOUNT,  /* "Unknown Account" */
    OB_MAIL_ACCOUNT_EXISTS,   /* "Account Already Exists" */
} ob_mail_kind;

typedef struct ob_mail_vars {
    const char *username; /* verify, reset */
    const char *key;      /* verify, reset: goes into the link */
    const char *code;     /* code: shown as XXXX-XXXX */
} ob_mail_vars;

/* Renders the mail in the request language (r->language; en fallback) and
 * queues it.  Runs on r->db, so call it inside the request's transaction.
 * Returns 0, or -1 on a database error. */
int ob_mail_enqueue(ob_request *r, ob_mail_kind kind, const char *to, const ob_mail_vars *v);

#endif
