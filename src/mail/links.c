/* links.c - the base of the links in mails (api-auth.md §9).
 *
 * A mailed link must point at the site whatever the request that caused
 * the mail looked like: its Host header (and port) is chosen by the
 * client, so a reset link built from it can be made to lead elsewhere.
 * Links use http.public_base_url, else https:// and the domain of the
 * configured site (sites table).  Only in development mode may they fall
 * back to the request's own address, which is what a local stack reached
 * as localhost or 127.0.0.1 needs. */
#include <stdio.h>
#include <string.h>
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/mail/mail.h"

bool ob_mail_domain_valid(const char *d)
{
    size_t host = strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
    if (host == 0 || host > 253 || d[0] == '.' || d[0] == '-')
        return false;
    if (d[host] == '\0')
        return true;
    size_t port = strspn(d + host + 1, "0123456789");
    return d[host] == ':' && port >= 1 && port <= 5 && d[host + 1 + port] == '\0';
}

const char *ob_mail_link_base(ob_arena *a, const ob_config *cfg, const char *site_domain,
                              const char *request_base)
{
    const char *b = cfg->public_base_url;
    if (b && *b) {
        size_t n = strlen(b);
        while (n > 0 && b[n - 1] == '/')
            n--;
        return ob_arena_strndup(a, b, n);
    }
    if (cfg->development && request_base && *request_base)
        return request_base;
    if (site_domain && ob_mail_domain_valid(site_domain))
        return ob_arena_printf(a, "https://%s", site_domain);
    return NULL;
}

int ob_mail_check_link_base(const ob_config *cfg)
{
    if (*cfg->public_base_url || cfg->development)
        return 0;
    ob_db *db = ob_db_new(cfg->database_url, cfg->database_connect_timeout, 0);
    int rc = 0;
    PGresult *res = NULL;
    if (ob_db_ensure(db) != 0) {
        /* The pool starts without its database (it connects lazily); a
         * mail is refused then, not sent with a wrong link. */
        ob_warn("mail: cannot read the domain of site %ld now (%s): mails are refused until "
                "it has one, or set http.public_base_url",
                cfg->site_id, ob_db_last_error(db));
    } else {
        char id[24];
        snprintf(id, sizeof id, "%ld", cfg->site_id);
        const char *p[] = {id};
        res = ob_db_query(db, NULL, "SELECT domain FROM sites WHERE id = $1::integer", 1, p);
        const char *domain = res && PQntuples(res) ? PQgetvalue(res, 0, 0) : NULL;
        if (domain && ob_mail_domain_valid(domain)) {
            ob_info("mail: links start with https://%s (the domain of site %ld)", domain,
                    cfg->site_id);
        } else {
            ob_error("mail: http.public_base_url is empty and site %ld has %s: mailed links "
                     "would have no trusted base.  Set http.public_base_url (required outside "
                     "development mode without a site domain)",
                     cfg->site_id, !res ? "an unreadable domain" : domain ? "an invalid domain"
                                                                   : "no row in the sites table");
            rc = -1;
        }
    }
    if (res)
        PQclear(res);
    ob_db_free(db);
    return rc;
}
