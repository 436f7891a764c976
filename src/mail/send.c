/* send.c - delivery of the outbox: RFC 5322 formatting, the file and SMTP
 * backends, retries with back-off.
 *
 * Delivery guarantee: at-least-once, with the duplicate window made as
 * small as it can be.  Each message is locked, delivered and marked sent
 * in its own short transaction (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1,
 * deliver, UPDATE sent_at, COMMIT), and sent_at is written only after the
 * SMTP server accepted the message.  A message is therefore never lost:
 * if the mail server is down, or we crash before it accepted, the row
 * stays queued.  It is sent twice only if the process or the database
 * connection dies in the instant between the server's "250 OK" and our
 * COMMIT; the Message-ID is the same on every attempt, so a receiving
 * system can even drop that duplicate.  At-most-once (mark first, send
 * after) would instead lose verification and reset mails on every such
 * crash, which is the worse failure for this kind of mail.  One message
 * per transaction (rather than a locked batch committed at the end) keeps
 * that window to one message, and SKIP LOCKED lets several senders run
 * side by side without delivering the same row.
 *
 * The file backend is idempotent on top of that: it writes <id>.eml with
 * an atomic rename, so a repeated delivery replaces the file.
 *
 * A delivered message keeps its row (recipient, subject, times) but loses
 * its body, which carries live keys and codes; rows are purged after
 * mail.retention (ob_mail_purge). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sodium.h>
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/mail/mail.h"

long ob_mail_backoff(int attempts)
{
    long s = 30;
    for (int i = 1; i < attempts && s < 3600; i++)
        s *= 2;
    return s > 3600 ? 3600 : s;
}

/* ---- formatting ---- */

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* RFC 2047 B-encoding in encoded-words of at most 75 characters, folded
 * onto continuation lines; a UTF-8 sequence is never split across two
 * words (RFC 2047 §5 rule 3). */
static void put_encoded_words(ob_buf *out, const char *s, size_t n)
{
    size_t i = 0;
    bool first = true;
    while (i < n) {
        /* 39 bytes -> 52 base64 characters + 12 of framing = 64, so even
         * the first line ("Subject: " + word) stays within 76. */
        size_t take = n - i < 39 ? n - i : 39;
        while (i + take < n && take > 0 && ((unsigned char)s[i + take] & 0xC0) == 0x80)
            take--;
        char b64[sodium_base64_ENCODED_LEN(39, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s + i, take,
                          sodium_base64_VARIANT_ORIGINAL);
        ob_buf_printf(out, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", b64);
        first = false;
        i += take;
    }
}

static void put_header(ob_buf *out, const char *name, const char *value)
{
    ob_buf_printf(out, "%s: ", name);
    if (is_ascii(value))
        ob_buf_puts(out, value);
    else
        put_encoded_words(out, value, strlen(value));
    ob_buf_puts(out, "\r\n");
}

/* An address header: in "Name <addr>" only the display name may be
 * encoded; the address itself must stay as it is. */
static void put_address_header(ob_buf *out, const char *name, const char *value)
{
    const char *lt = strrchr(value, '<');
    if (is_ascii(value) || !lt) {
        put_header(out, name, value);
        return;
    }
    size_t n = (size_t)(lt - value);
    while (n > 0 && value[n - 1] == ' ')
        n--;
    ob_buf_printf(out, "%s: ", name);
    put_encoded_words(out, value, n);
    ob_buf_printf(out, " %s\r\n", lt);
}

/* Quoted-printable (RFC 2045 §6.7): lines of at most 76 characters with
 * soft breaks, trailing white space encoded, CRLF line ends. */
static void put_quoted_printable(ob_buf *out, const char *body)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (const char *s = body; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n') {
            ob_buf_puts(out, "\r\n");
            col = 0;
            continue;
        }
        bool at_eol = s[1] == '\n' || s[1] == '\0';
        bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
        size_t w = literal ? 1 : 3;
        /* Leave room for the '=' of a soft break, unless this is the last
         * character of the line. */
        if (col + w > (at_eol ? 76u : 75u)) {
            ob_buf_puts(out, "=\r\n");
            col = 0;
        }
        if (literal) {
            ob_buf_putc(out, (char)c);
        } else {
            ob_buf_putc(out, '=');
            ob_buf_putc(out, hex[c >> 4]);
            ob_buf_putc(out, hex[c & 15]);
        }
        col += w;
    }
}

static bool lines_short(const char *s)
{
    size_t col = 0;
    for (; *s; s++) {
        col = *s == '\n' ? 0 : col + 1;
        if (col > 998) /* RFC 5322 §2.1.1 */
            return false;
    }
    return true;
}

static void put_crlf_body(ob_buf *out, const char *body)
{
    for (const char *s = body; *s; s++) {
        if (*s == '\n')
            ob_buf_puts(out, "\r\n");
        else if (*s != '\r')
            ob_buf_putc(out, *s);
    }
}

int ob_mail_format(ob_buf *out, const ob_mail_msg *m, bool allow_8bit)
{
    if (!ob_mail_header_safe(m->from) || !ob_mail_header_safe(m->to) ||
        !ob_mail_header_safe(m->subject) || !ob_mail_header_safe(m->domain))
        return -1;
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)m->created;
    struct tm tm;
    gmtime_r(&t, &tm);
    /* Names spelled out: strftime's %a/%b would follow the locale. */
    ob_buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
                  tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    put_address_header(out, "From", m->from);
    put_address_header(out, "To", m->to);
    put_header(out, "Subject", m->subject);
    ob_buf_printf(out, "Message-ID: <openbook.%lld.%lld@%s>\r\n", (long long)m->id,
                  (long long)m->created, m->domain);
    ob_buf_puts(out, "MIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n");
    const char *body = m->body ? m->body : "";
    bool ascii = is_ascii(body), short_lines = lines_short(body);
    const char *cte = ascii && short_lines ? "7bit"
                      : allow_8bit && short_lines ? "8bit"
                                                  : "quoted-printable";
    ob_buf_printf(out, "Content-Transfer-Encoding: %s\r\n", cte);
    /* RFC 3834: automatic mail; auto-responders must not answer it. */
    ob_buf_puts(out, "Auto-Submitted: auto-generated\r\n\r\n");
    if (cte[0] == 'q')
        put_quoted_printable(out, body);
    else
        put_crlf_body(out, body);
    if (out->len < 2 || out->data[out->len - 1] != '\n')
        ob_buf_puts(out, "\r\n");
    return 0;
}

/* ---- backends ---- */

typedef struct {
    const ob_config *cfg;
    CURL *curl;          /* SMTP: one handle per pass, so the connection is reused */
    char errbuf[CURL_ERROR_SIZE];
    const char *envelope_from;
    const char *helo;
} sender;

/* Returns 0 delivered; -1 failed with *err set; *unreachable when the
 * server could not be reached at all (the rest of the pass would fail the
 * same way). */
static int deliver_file(sender *s, ob_arena *a, const ob_mail_msg *m, const ob_buf *eml,
                        char *err, size_t errlen)
{
    const char *dir = s->cfg->mail_file_dir;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    /* The dot keeps the temporary file out of *.eml globs; the final name
     * is the outbox id, so tests and people can find a message. */
    const char *tmp = ob_arena_printf(a, "%s/.%lld.eml.tmp", dir, (long long)m->id);
    const char *path = ob_arena_printf(a, "%s/%lld.eml", dir, (long long)m->id);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t off = 0;
    while (off < eml->len) {
        ssize_t w = write(fd, eml->data + off, eml->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    /* Durable before it becomes visible, and before sent_at is committed. */
    if (fsync(fd) != 0 || close(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename to %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

typedef struct {
    const char *data;
    size_t len, pos;
} upload;

static size_t read_upload(char *buf, size_t size, size_t nitems, void *ud)
{
    upload *u = ud;
    size_t n = size * nitems;
    if (n > u->len - u->pos)
        n = u->len - u->pos;
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

static int deliver_smtp(sender *s, const ob_mail_msg *m, const ob_buf *eml, char *err,
                        size_t errlen, bool *unreachable)
{
    const ob_config *cfg = s->cfg;
    if (!s->curl) {
        s->curl = curl_easy_init();
        if (!s->curl) {
            snprintf(err, errlen, "curl_easy_init failed");
            return -1;
        }
    }
    CURL *c = s->curl;
    curl_easy_reset(c);
    bool tls = strcmp(cfg->mail_smtp_security, "tls") == 0;
    bool v6 = strchr(cfg->mail_smtp_host, ':') != NULL;
    /* The URL path is the name libcurl sends in EHLO. */
    char url[1024];
    snprintf(url, sizeof url, "%s://%s%s%s:%ld/%s", tls ? "smtps" : "smtp", v6 ? "[" : "",
             cfg->mail_smtp_host, v6 ? "]" : "", cfg->mail_smtp_port, s->helo);
    char from[600], to[600];
    snprintf(from, sizeof from, "<%s>", s->envelope_from);
    snprintf(to, sizeof to, "<%s>", m->to);
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    upload u = {eml->data, eml->len, 0};
    s->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, cfg->mail_smtp_timeout);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, cfg->mail_smtp_timeout);
    if (strcmp(cfg->mail_smtp_security, "starttls") == 0)
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (*cfg->mail_smtp_username) {
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->mail_smtp_username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->mail_smtp_password);
    }
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)eml->len);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpt);
    if (rc == CURLE_OK)
        return 0;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    snprintf(err, errlen, "smtp %s:%ld: %s%s%s (%ld)", cfg->mail_smtp_host, cfg->mail_smtp_port,
             curl_easy_strerror(rc), s->errbuf[0] ? ": " : "", s->errbuf, code);
    *unreachable = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                   (rc == CURLE_OPERATION_TIMEDOUT && code == 0);
    return -1;
}

/* ---- the pass ---- */

/* Sender address for the envelope: the part in <> of "Name <addr>". */
static const char *envelope_address(ob_arena *a, const char *from)
{
    const char *lt = strrchr(from, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt)
        return ob_arena_strndup(a, lt + 1, (size_t)(gt - lt - 1));
    return from;
}

int ob_mail_send_due(ob_db *db, const ob_config *cfg, ob_mail_stats *st,
                     volatile sig_atomic_t *stop)
{
    ob_mail_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    /* `pass` holds what lives for the whole pass; `a` is reset for each
     * message. */
    ob_arena pass, a;
    ob_arena_init(&pass, 1024);
    ob_arena_init(&a, 16384);
    sender s = {.cfg = cfg};
    int rc = 0;

    char site_id[24], max[24];
    snprintf(site_id, sizeof site_id, "%ld", cfg->site_id);
    snprintf(max, sizeof max, "%ld", cfg->mail_max_attempts);
    const char *sp[] = {site_id};
    PGresult *res = ob_db_query(db, NULL, "SELECT domain FROM sites WHERE id = $1", 1, sp);
    if (!res) {
        ob_error("send-mail: database: %s", ob_db_last_error(db));
        ob_arena_destroy(&a);
        ob_arena_destroy(&pass);
        return -1;
    }
    const char *domain =
        ob_arena_strdup(&pass, PQntuples(res) ? PQgetvalue(res, 0, 0) : "localhost");
    PQclear(res);
    const char *from =
        *cfg->mail_from ? cfg->mail_from : ob_arena_printf(&pass, "noreply@%s", domain);
    s.envelope_from = envelope_address(&pass, from);
    s.helo = domain;
    bool file = strcmp(cfg->mail_backend, "file") == 0;

    /* Rows of delivered or given-up mail are kept mail.retention for
     * reference; one batch here, the rest by `openbook cleanup`. */
    ob_mail_purge(db, cfg, 10000);

    while (!(stop && *stop)) {
        ob_arena_reset(&a);
        if (ob_db_begin(db) != 0) {
            rc = -1;
            break;
        }
        const char *mp[] = {max};
        res = ob_db_query(db, NULL,
                          "SELECT id, recipient, subject, body, attempts, "
                          "extract(epoch FROM created_at)::bigint FROM mail_outbox "
                          "WHERE sent_at IS NULL AND next_try_at <= now() AND attempts < $1 "
                          "ORDER BY next_try_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                          1, mp);
        if (!res) {
            rc = -1;
            break;
        }
        if (PQntuples(res) == 0) {
            PQclear(res);
            if (ob_db_commit(db) != 0)
                rc = -1;
            break;
        }
        ob_mail_msg m = {
            .id = strtoll(PQgetvalue(res, 0, 0), NULL, 10),
            .from = from,
            .to = ob_arena_strdup(&a, PQgetvalue(res, 0, 1)),
            .subject = ob_arena_strdup(&a, PQgetvalue(res, 0, 2)),
            .body = ob_arena_strdup(&a, PQgetvalue(res, 0, 3)),
            .created = strtoll(PQgetvalue(res, 0, 5), NULL, 10),
            .domain = domain,
        };
        int attempts = atoi(PQgetvalue(res, 0, 4)) + 1;
        PQclear(res);

        char err[1024] = "";
        bool unreachable = false;
        ob_buf eml;
        ob_buf_init(&eml, &a);
        int ok;
        if (ob_mail_format(&eml, &m, file) != 0) {
            /* Cannot become valid by waiting: give up at once. */
            snprintf(err, sizeof err, "a header would contain control characters");
            attempts = (int)cfg->mail_max_attempts;
            ok = -1;
        } else if (file) {
            ok = deliver_file(&s, &a, &m, &eml, err, sizeof err);
        } else {
            ok = deliver_smtp(&s, &m, &eml, err, sizeof err, &unreachable);
        }

        char id[24], att[24], delay[24];
        snprintf(id, sizeof id, "%lld", (long long)m.id);
        snprintf(att, sizeof att, "%d", attempts);
        snprintf(delay, sizeof delay, "%ld", ob_mail_backoff(attempts));
        if (ok == 0) {
            const char *up[] = {id, att};
            /* The body goes: it holds live keys and codes, which are
             * otherwise only ever stored hashed (api-auth.md §7). */
            res = ob_db_query(db, NULL,
                              "UPDATE mail_outbox SET sent_at = now(), attempts = $2, "
                              "last_error = NULL, body = '' WHERE id = $1",
                              2, up);
        } else {
            const char *up[] = {id, att, delay, err};
            res = ob_db_query(db, NULL,
                              "UPDATE mail_outbox SET attempts = $2, last_error = $4, "
                              "next_try_at = now() + make_interval(secs => $3::int) WHERE id = $1",
                              4, up);
        }
        if (!res) {
            rc = -1;
            break;
        }
        PQclear(res);
        if (ob_db_commit(db) != 0) {
            rc = -1;
            break;
        }
        if (ok == 0) {
            st->sent++;
            ob_info("send-mail: message %lld delivered (attempt %d)", (long long)m.id, attempts);
        } else if (attempts >= cfg->mail_max_attempts) {
            st->given_up++;
            ob_error("send-mail: giving up message %lld to %s after %d attempts: %s",
                     (long long)m.id, m.to, attempts, err);
        } else {
            st->failed++;
            ob_warn("send-mail: message %lld to %s failed (attempt %d, next in %s s): %s",
                    (long long)m.id, m.to, attempts, delay, err);
        }
        if (unreachable)
            break; /* the rest stays due for the next pass */
    }
    if (rc != 0) {
        ob_error("send-mail: database: %s", ob_db_last_error(db));
        ob_db_rollback(db);
    }
    if (s.curl)
        curl_easy_cleanup(s.curl);
    ob_arena_destroy(&a);
    ob_arena_destroy(&pass);
    return rc != 0 ? -1 : st->sent;
}
