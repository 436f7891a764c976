/* outbox.c - ob_mail_enqueue: render a mail and queue it in mail_outbox.
 *
 * Links in the mail start with ob_mail_link_base() (links.c).  The insert
 * runs on the request's connection, inside the caller's
 * transaction: the mail exists exactly when the change that caused it was
 * committed.  The NOTIFY is transactional too, so a waiting `openbook
 * send-mail` wakes at the commit, never for a rolled-back mail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/mail/mail.h"

int ob_mail_enqueue(ob_request *r, ob_mail_kind kind, const char *to, const ob_mail_vars *v)
{
    /* The address ends up in the To header and the SMTP envelope. */
    if (!ob_mail_header_safe(to) || strlen(to) > 254 || !strchr(to, '@')) {
        ob_error("mail: refusing to queue a mail to an invalid address");
        return -1;
    }
    char site_id[24];
    snprintf(site_id, sizeof site_id, "%ld", r->cfg->site_id);
    const char *sp[] = {site_id};
    PGresult *res =
        ob_db_query(r->db, r->arena, "SELECT name, domain FROM sites WHERE id = $1", 1, sp);
    if (!res)
        return -1;
    ob_mail_site site = {"OpenBook", NULL};
    if (PQntuples(res) == 1) {
        site.name = PQgetvalue(res, 0, 0);
        site.domain = PQgetvalue(res, 0, 1);
    }
    /* Never from the request's Host outside development (links.c). */
    const char *base = ob_mail_link_base(r->arena, r->cfg, site.domain, ob_request_base_url(r));
    if (!base) {
        ob_error("mail: not queued: http.public_base_url is empty and site %ld has no valid "
                 "domain for the links",
                 r->cfg->site_id);
        return -1;
    }
    if (!site.domain) /* no site row: the host of the links names it */
        site.domain = base + strcspn(base, ":") + 3;
    ob_mail_text text;
    if (ob_mail_render(r->arena, kind, r->language, &site, base, to, v, &text)) {
        ob_error("mail: cannot render mail kind %d: a variable is missing", (int)kind);
        return -1;
    }
    const char *p[] = {to, text.subject, text.body};
    res = ob_db_query(r->db, r->arena,
                      "WITH m AS (INSERT INTO mail_outbox (recipient, subject, body) "
                      "VALUES ($1, $2, $3) RETURNING id) "
                      "SELECT pg_notify('" OB_MAIL_CHANNEL "', id::text) FROM m",
                      3, p);
    return res ? 0 : -1;
}

long ob_mail_purge(ob_db *db, const ob_config *cfg, long limit)
{
    char retention[24], max[24], lim[24];
    snprintf(retention, sizeof retention, "%ld", cfg->mail_retention);
    snprintf(max, sizeof max, "%ld", cfg->mail_max_attempts);
    snprintf(lim, sizeof lim, "%ld", limit);
    const char *p[] = {retention, max, lim};
    /* ctid IN (... LIMIT n): a bounded batch, so that a large backlog is
     * removed in short transactions. */
    PGresult *res = ob_db_query(
        db, NULL,
        "DELETE FROM mail_outbox WHERE ctid IN (SELECT ctid FROM mail_outbox "
        "WHERE created_at < now() - make_interval(secs => $1::bigint) "
        "AND (sent_at IS NOT NULL OR attempts >= $2::integer) LIMIT $3::bigint)",
        3, p);
    if (!res)
        return -1;
    long n = strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}
