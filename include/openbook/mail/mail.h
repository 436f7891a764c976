/* mail.h - outgoing mail through the durable outbox (api-auth.md §9).
 *
 * A request that sends mail only inserts into mail_outbox, inside its own
 * transaction, so a rolled-back change sends nothing and a committed one
 * is never lost.  `openbook send-mail` delivers (SMTP via libcurl, or the
 * file backend that writes RFC 5322 .eml files). */
#ifndef OPENBOOK_MAIL_H
#define OPENBOOK_MAIL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include "openbook/http/http.h"

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
 * Returns 0, or -1 on a database error (or an address that could not be a
 * header: the caller validated it, so that is a bug, logged). */
int ob_mail_enqueue(ob_request *r, ob_mail_kind kind, const char *to, const ob_mail_vars *v);

/* ---- The pieces below serve `openbook send-mail` and the unit tests. ---- */

struct ob_config;
struct ob_db;

/* The base of mailed links (links.c), without the final slash:
 * http.public_base_url; in development mode only, else request_base (the
 * request's scheme and Host); else "https://" + site_domain when that is a
 * valid domain.  NULL when there is none: the mail is not sent. */
const char *ob_mail_link_base(ob_arena *a, const struct ob_config *cfg, const char *site_domain,
                              const char *request_base);
/* A host name (letters, digits, dots, hyphens) with an optional :port. */
bool ob_mail_domain_valid(const char *domain);
/* For `serve` at start: outside development mode with an empty
 * http.public_base_url, the configured site must have a valid domain.
 * Returns -1 (logged) when it has none; 0 otherwise, also when the
 * database cannot be reached yet (logged). */
int ob_mail_check_link_base(const struct ob_config *cfg);

/* Rendering (templates.c).  `lang` picks the texts ("de..." German, else
 * English); `base_url` is the absolute base for links, without the final
 * slash.  Subject (with the "[OpenBook] " prefix) and body (UTF-8, LF line
 * ends) come from arena a.  Returns 0, or -1 when a variable the kind
 * needs is missing. */
typedef struct ob_mail_text {
    const char *subject;
    const char *body;
} ob_mail_text;

typedef struct ob_mail_site {
    const char *name;    /* "OpenBook" */
    const char *domain;  /* "openbook.studio" */
} ob_mail_site;

int ob_mail_render(ob_arena *a, ob_mail_kind kind, const char *lang, const ob_mail_site *site,
                   const char *base_url, const char *to, const ob_mail_vars *v,
                   ob_mail_text *out);

/* True when s may appear in a header: non-empty, no CR, LF or other
 * control characters (header injection is impossible by construction). */
bool ob_mail_header_safe(const char *s);

/* One queued message as the sender formats it (send.c). */
typedef struct ob_mail_msg {
    int64_t id;
    const char *from;      /* header From: an address or "Name <address>" */
    const char *to;        /* one address */
    const char *subject;   /* UTF-8; RFC 2047-encoded when not ASCII */
    const char *body;      /* UTF-8, LF line ends */
    int64_t created;       /* epoch seconds, for the Date header */
    const char *domain;    /* right-hand side of the Message-ID */
} ob_mail_msg;

/* Formats m as an RFC 5322 message with CRLF line ends into out.  The body
 * goes out as 7bit when it is ASCII, else as 8bit when allow_8bit (file
 * backend: readable) or quoted-printable (SMTP: safe through any relay).
 * The Message-ID depends only on id, created and domain, so every retry of
 * a message carries the same one.  Returns 0, or -1 when a header value is
 * not header-safe. */
int ob_mail_format(ob_buf *out, const ob_mail_msg *m, bool allow_8bit);

/* Seconds before the next attempt after `attempts` failed ones: 30 s,
 * doubling, at most one hour. */
long ob_mail_backoff(int attempts);

/* One delivery pass over the due messages (send.c): each message is locked
 * (FOR UPDATE SKIP LOCKED, so several senders can run), delivered and
 * marked in one short transaction.  Stops early when *stop becomes true.
 * Returns the number of messages delivered, or -1 when the database
 * failed. */
typedef struct ob_mail_stats {
    int sent, failed, given_up;
} ob_mail_stats;

int ob_mail_send_due(struct ob_db *db, const struct ob_config *cfg, ob_mail_stats *st,
                     volatile sig_atomic_t *stop);

/* Deletes at most `limit` rows of delivered or given-up mail older than
 * mail.retention (outbox.c).  Returns the number deleted, or -1 when the
 * database failed.  `openbook cleanup` calls it in batches, `send-mail`
 * once when it starts. */
long ob_mail_purge(struct ob_db *db, const struct ob_config *cfg, long limit);

/* The channel ob_mail_enqueue notifies, so a waiting sender wakes at once. */
#define OB_MAIL_CHANNEL "openbook_mail"

#endif
