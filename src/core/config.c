/* config.c - configuration: one key table, a YAML loader (libyaml event
 * API, so every error knows its line), environment overrides, validation
 * and a masked printer.  See config.h and conf/openbook.yaml. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "openbook/core/alloc.h"
#include "openbook/core/config.h"
#include "openbook/core/log.h"
#include "openbook/core/net.h"

#define OFF(f) offsetof(ob_config, f)
#define K_STR(s, k, f) {s, k, OB_CT_STRING, OFF(f), false, 0, 0}
#define K_SECRET(s, k, f) {s, k, OB_CT_STRING, OFF(f), true, 0, 0}
#define K_INT(s, k, f, lo, hi) {s, k, OB_CT_INT, OFF(f), false, lo, hi}
#define K_BOOL(s, k, f) {s, k, OB_CT_BOOL, OFF(f), false, 0, 0}
#define K_LIST(s, k, f) {s, k, OB_CT_LIST, OFF(f), false, 0, 0}

const ob_config_key ob_config_keys[] = {
    K_STR("server", "listen", listen),
    K_STR("server", "socket_mode", socket_mode),
    K_INT("server", "backlog", backlog, 1, 65535),
    K_INT("server", "workers", workers, 0, 1024),
    K_INT("server", "max_requests", max_requests, 0, LONG_MAX),
    K_INT("server", "max_requests_jitter", max_requests_jitter, 0, LONG_MAX),
    K_INT("server", "request_timeout", request_timeout, 1, 86400),
    K_INT("server", "graceful_timeout", graceful_timeout, 0, 86400),
    K_BOOL("server", "development", development),
    K_STR("server", "log_level", log_level),
    K_BOOL("server", "access_log", access_log),
    K_STR("server", "log_format", log_format),
    K_STR("metrics", "listen", metrics_listen),
    K_BOOL("cache", "enabled", cache_enabled),
    K_INT("cache", "max_bytes", cache_max_bytes, 0, 1L << 34),
    K_INT("cache", "max_age_ms", cache_max_age_ms, 0, 3600000),
    K_LIST("http", "allowed_hosts", allowed_hosts),
    K_LIST("http", "trusted_proxies", trusted_proxies),
    K_STR("http", "public_base_url", public_base_url),
    K_INT("http", "max_body_bytes", max_body_bytes, 1024, 1L << 40),
    K_INT("http", "max_upload_bytes", max_upload_bytes, 1024, 1L << 40),
    K_INT("http", "library_archive_max_bytes", library_archive_max_bytes, 1024, 1L << 40),
    K_INT("http", "library_max_entries", library_max_entries, 1, 1000000),
    K_INT("http", "library_max_uncompressed_bytes", library_max_uncompressed_bytes, 1024,
          1L << 40),
    K_INT("http", "library_max_manifest_bytes", library_max_manifest_bytes, 1024, 1L << 30),
    K_INT("http", "max_form_fields", max_form_fields, 1, 100000),
    K_INT("http", "max_json_depth", max_json_depth, 2, 512),
    K_INT("http", "max_query_string_bytes", max_query_string_bytes, 256, 1L << 20),
    K_INT("http", "max_headers", max_headers, 8, 10000),
    K_INT("http", "max_cookies", max_cookies, 1, 10000),
    K_INT("http", "page_size_default", page_size_default, 1, 100000),
    K_INT("http", "page_size_max", page_size_max, 1, 100000),
    K_INT("http", "max_expand_depth", max_expand_depth, 0, 10),
    K_INT("http", "gzip_min_bytes", gzip_min_bytes, 0, 1L << 30),
    K_INT("http", "gzip_level", gzip_level, 1, 12),
    K_STR("http", "default_language", default_language),
    K_LIST("http", "csrf_trusted_origins", csrf_trusted_origins),
    K_SECRET("security", "secret_key", secret_key),
    K_STR("security", "cookie_domain", cookie_domain),
    K_BOOL("security", "cookie_secure", cookie_secure),
    K_INT("security", "session_max_age", session_max_age, 60, 1L << 31),
    K_SECRET("database", "url", database_url),
    K_INT("database", "connect_timeout", database_connect_timeout, 1, 3600),
    K_INT("database", "statement_timeout", database_statement_timeout, 0, 86400000),
    K_STR("database", "tools_dir", database_tools_dir),
    K_STR("redis", "address", redis_address),
    K_INT("redis", "db", redis_db, 0, 1024),
    K_SECRET("redis", "password", redis_password),
    K_INT("redis", "timeout", redis_timeout, 1, 600000),
    K_INT("site", "site_id", site_id, 1, INT_MAX),
    K_STR("media", "media_root", media_root),
    K_STR("media", "media_url", media_url),
    K_STR("relay", "listen", relay_listen),
    K_STR("relay", "metrics_listen", relay_metrics_listen),
    K_INT("relay", "ping_interval", relay_ping_interval, 1, 3600),
    K_INT("relay", "max_connections", relay_max_connections, 1, 10000000),
    K_SECRET("relay", "ticket_secret", relay_ticket_secret),
    K_SECRET("relay", "ticket_secret_previous", relay_ticket_secret_previous),
    K_INT("relay", "ticket_ttl", relay_ticket_ttl, 1, 3600),
    K_INT("relay", "idle_timeout", relay_idle_timeout, 1, 86400),
    K_INT("relay", "max_frame_bytes", relay_max_frame_bytes, 128, 16777216),
    K_INT("relay", "send_queue_max_frames", relay_send_queue_max_frames, 1, 1000000),
    K_INT("relay", "send_queue_max_bytes", relay_send_queue_max_bytes, 1024, 1L << 30),
    K_INT("relay", "max_channels", relay_max_channels, 1, 10000),
    K_INT("relay", "max_connections_per_user", relay_max_connections_per_user, 1, 100000),
    K_INT("relay", "max_anonymous_per_address", relay_max_anonymous_per_address, 1, 10000000),
    K_INT("relay", "max_lifetime", relay_max_lifetime, 60, 31536000),
    K_INT("auth", "login_timeout", auth_login_timeout, 30, 86400),
    K_INT("auth", "ip_limit_factor", auth_ip_limit_factor, 1, 1000),
    K_INT("auth", "reauthentication_timeout", auth_reauthentication_timeout, 10, 86400),
    K_INT("auth", "max_email_addresses", auth_max_email_addresses, 1, 1000),
    K_INT("auth", "verification_cooldown", auth_verification_cooldown, 0, 86400),
    K_STR("auth", "common_passwords", auth_common_passwords),
    K_STR("mail", "backend", mail_backend),
    K_STR("mail", "file_dir", mail_file_dir),
    K_STR("mail", "from", mail_from),
    K_STR("mail", "smtp_host", mail_smtp_host),
    K_INT("mail", "smtp_port", mail_smtp_port, 1, 65535),
    K_STR("mail", "smtp_security", mail_smtp_security),
    K_STR("mail", "smtp_username", mail_smtp_username),
    K_SECRET("mail", "smtp_password", mail_smtp_password),
    K_INT("mail", "smtp_timeout", mail_smtp_timeout, 1, 3600),
    K_INT("mail", "max_attempts", mail_max_attempts, 1, 1000),
    K_INT("mail", "retention", mail_retention, 3600, 315360000),
};
const size_t ob_config_nkeys = sizeof ob_config_keys / sizeof ob_config_keys[0];

/* Values the project ships as examples: refused as secret keys. */
static const char *const builtin_secrets[] = {
    "change-me-to-a-long-random-secret-of-at-least-32-bytes",
    "development-secret-key-do-not-use-in-production",
};

#define MAX_CONFIG_BYTES (1u << 20)
#define MAX_LIST_ITEMS 256

static char **str_field(ob_config *c, const ob_config_key *k)
{
    return (char **)(void *)((char *)c + k->offset);
}
static long *int_field(ob_config *c, const ob_config_key *k)
{
    return (long *)(void *)((char *)c + k->offset);
}
static bool *bool_field(ob_config *c, const ob_config_key *k)
{
    return (bool *)(void *)((char *)c + k->offset);
}
static ob_strlist *list_field(ob_config *c, const ob_config_key *k)
{
    return (ob_strlist *)(void *)((char *)c + k->offset);
}

static void set_str(char **f, const char *v)
{
    ob_free(*f);
    *f = ob_strdup(v);
}

static void list_clear(ob_strlist *l)
{
    for (size_t i = 0; i < l->count; i++)
        ob_free(l->items[i]);
    ob_free(l->items);
    l->items = NULL;
    l->count = 0;
}

static void list_push(ob_strlist *l, const char *v)
{
    l->items = ob_realloc(l->items, (l->count + 1) * sizeof *l->items);
    l->items[l->count++] = ob_strdup(v);
}

void ob_config_defaults(ob_config *c)
{
    memset(c, 0, sizeof *c);
    set_str(&c->listen, "unix:/run/openbook/openbook.sock");
    set_str(&c->socket_mode, "0660");
    c->backlog = 1024;
    c->workers = 0;
    c->max_requests = 10000;
    c->max_requests_jitter = 1000;
    c->request_timeout = 30;
    c->graceful_timeout = 30;
    c->development = false;
    set_str(&c->log_level, "info");
    c->access_log = true;
    set_str(&c->log_format, "text");
    set_str(&c->metrics_listen, "");
    c->cache_enabled = true;
    c->cache_max_bytes = 4L << 20;
    c->cache_max_age_ms = 1000;
    list_push(&c->trusted_proxies, "127.0.0.1");
    list_push(&c->trusted_proxies, "::1");
    set_str(&c->public_base_url, "");
    c->max_body_bytes = 2621440;
    c->max_upload_bytes = 20971520;
    c->library_archive_max_bytes = 52428800;
    c->library_max_entries = 2000;
    c->library_max_uncompressed_bytes = 52428800;
    c->library_max_manifest_bytes = 1048576;
    c->max_form_fields = 1000;
    c->max_json_depth = 64;
    c->max_query_string_bytes = 8192;
    c->max_headers = 100;
    c->max_cookies = 50;
    c->page_size_default = 100;
    c->page_size_max = 1000;
    c->max_expand_depth = 3;
    c->gzip_min_bytes = 1024;
    c->gzip_level = 1;
    set_str(&c->default_language, "en");
    set_str(&c->secret_key, "");
    set_str(&c->cookie_domain, "");
    c->cookie_secure = true;
    c->session_max_age = 1209600;
    set_str(&c->database_url, "dbname=openbook");
    c->database_connect_timeout = 5;
    c->database_statement_timeout = 10000;
    set_str(&c->database_tools_dir, "");
    set_str(&c->redis_address, "127.0.0.1:6379");
    c->redis_db = 0;
    set_str(&c->redis_password, "");
    c->redis_timeout = 1000;
    c->site_id = 1;
    set_str(&c->media_root, "/var/lib/openbook/media");
    set_str(&c->media_url, "/media/");
    set_str(&c->relay_listen, "unix:/run/openbook/relay.sock");
    set_str(&c->relay_metrics_listen, "");
    c->relay_ping_interval = 25;
    c->relay_max_connections = 10000;
    set_str(&c->relay_ticket_secret, "");
    set_str(&c->relay_ticket_secret_previous, "");
    c->relay_ticket_ttl = 60;
    c->relay_idle_timeout = 60;
    c->relay_max_frame_bytes = 16384;
    c->relay_send_queue_max_frames = 256;
    c->relay_send_queue_max_bytes = 1048576;
    c->relay_max_channels = 64;
    c->relay_max_connections_per_user = 16;
    c->relay_max_anonymous_per_address = 32;
    c->relay_max_lifetime = 43200;
    c->auth_login_timeout = 900;
    c->auth_ip_limit_factor = 1;
    c->auth_reauthentication_timeout = 300;
    c->auth_max_email_addresses = 10;
    c->auth_verification_cooldown = 180;
    set_str(&c->auth_common_passwords, "");
    set_str(&c->mail_backend, "smtp");
    set_str(&c->mail_file_dir, "/var/lib/openbook/mail");
    set_str(&c->mail_from, "");
    set_str(&c->mail_smtp_host, "localhost");
    c->mail_smtp_port = 25;
    set_str(&c->mail_smtp_security, "none");
    set_str(&c->mail_smtp_username, "");
    set_str(&c->mail_smtp_password, "");
    c->mail_smtp_timeout = 30;
    c->mail_max_attempts = 20;
    c->mail_retention = 2592000;
}

void ob_config_free(ob_config *c)
{
    for (size_t i = 0; i < ob_config_nkeys; i++) {
        const ob_config_key *k = &ob_config_keys[i];
        if (k->type == OB_CT_STRING) {
            ob_free(*str_field(c, k));
            *str_field(c, k) = NULL;
        } else if (k->type == OB_CT_LIST) {
            list_clear(list_field(c, k));
        }
    }
    ob_free(c->source_file);
    c->source_file = NULL;
}

static int fail(ob_config_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ob_config_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static const ob_config_key *find_key(const char *section, const char *key)
{
    for (size_t i = 0; i < ob_config_nkeys; i++)
        if (strcmp(ob_config_keys[i].section, section) == 0 &&
            strcmp(ob_config_keys[i].key, key) == 0)
            return &ob_config_keys[i];
    return NULL;
}

static bool section_known(const char *section)
{
    for (size_t i = 0; i < ob_config_nkeys; i++)
        if (strcmp(ob_config_keys[i].section, section) == 0)
            return true;
    return false;
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *t[] = {"true", "yes", "on", "1"};
    static const char *f[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, t[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(v, f[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Applies one scalar to key k.  `where` prefixes messages ("file:line"). */
static int apply_scalar(ob_config *c, const ob_config_key *k, const char *v, bool plain_null,
                        const char *where, ob_config_error *err)
{
    switch (k->type) {
    case OB_CT_STRING:
        if (memchr(v, '\n', strlen(v)) && strcmp(k->key, "secret_key") != 0)
            return fail(err, "%s: key '%s.%s': must be a single line", where, k->section, k->key);
        set_str(str_field(c, k), plain_null ? "" : v);
        return 0;
    case OB_CT_INT: {
        errno = 0;
        char *end;
        long n = strtol(v, &end, 10);
        if (!*v || *end || errno)
            return fail(err, "%s: key '%s.%s': expected an integer, got \"%s\"", where,
                        k->section, k->key, v);
        if (n < k->min || n > k->max)
            return fail(err, "%s: key '%s.%s': %ld is out of range %ld..%ld", where, k->section,
                        k->key, n, k->min, k->max);
        *int_field(c, k) = n;
        return 0;
    }
    case OB_CT_BOOL:
        if (!parse_bool(v, bool_field(c, k)))
            return fail(err, "%s: key '%s.%s': expected true or false, got \"%s\"", where,
                        k->section, k->key, v);
        return 0;
    case OB_CT_LIST: {
        /* A scalar for a list: from the environment, comma-separated. */
        ob_strlist *l = list_field(c, k);
        list_clear(l);
        const char *p = v;
        while (*p) {
            while (*p == ' ' || *p == ',')
                p++;
            const char *s = p;
            while (*p && *p != ',')
                p++;
            const char *e = p;
            while (e > s && e[-1] == ' ')
                e--;
            if (e > s) {
                if (l->count >= MAX_LIST_ITEMS)
                    return fail(err, "%s: key '%s.%s': more than %d items", where, k->section,
                                k->key, MAX_LIST_ITEMS);
                char *item = ob_strndup(s, (size_t)(e - s));
                list_push(l, item);
                ob_free(item);
            }
        }
        return 0;
    }
    }
    return fail(err, "%s: internal: bad key type", where);
}

static const char *event_scalar(const yaml_event_t *ev)
{
    return (const char *)ev->data.scalar.value;
}

static bool event_plain_null(const yaml_event_t *ev)
{
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = event_scalar(ev);
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

/* The document's shape is fixed: a mapping of sections, each a mapping of
 * keys to scalars or sequences of scalars.  A small state machine over the
 * event stream checks it; anything else (aliases, nested mappings, tags)
 * is refused with the line it appears on. */
int ob_config_parse(ob_config *c, const char *buf, size_t len, const char *name,
                    ob_config_error *err)
{
    yaml_parser_t p;
    yaml_event_t ev;
    enum { S_TOP, S_ROOT_KEY, S_SECTION_START, S_KEY, S_VALUE, S_LIST, S_DONE } st = S_TOP;
    char section[64] = "", where[300];
    const ob_config_key *key = NULL;
    ob_strlist *list = NULL;
    int rc = 0;

    if (len > MAX_CONFIG_BYTES)
        return fail(err, "%s: file is larger than %u bytes", name, MAX_CONFIG_BYTES);
    if (!yaml_parser_initialize(&p))
        ob_oom(sizeof p);
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            rc = fail(err, "%s:%zu: YAML error: %s", name, p.problem_mark.line + 1,
                      p.problem ? p.problem : "malformed document");
            break;
        }
        snprintf(where, sizeof where, "%s:%zu", name, ev.start_mark.line + 1);
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_ALIAS_EVENT) {
            rc = fail(err, "%s: aliases are not allowed", where);
        } else if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT ||
                   t == YAML_DOCUMENT_END_EVENT) {
            if (t == YAML_DOCUMENT_START_EVENT && st == S_DONE)
                rc = fail(err, "%s: only one YAML document is allowed", where);
        } else {
            switch (st) {
            case S_TOP:
                if (t == YAML_MAPPING_START_EVENT)
                    st = S_ROOT_KEY;
                else if (t == YAML_SCALAR_EVENT && event_plain_null(&ev))
                    st = S_DONE; /* empty file */
                else
                    rc = fail(err, "%s: the top level must be a mapping of sections", where);
                break;
            case S_ROOT_KEY:
                if (t == YAML_MAPPING_END_EVENT) {
                    st = S_DONE;
                } else if (t == YAML_SCALAR_EVENT) {
                    if (!section_known(event_scalar(&ev)))
                        rc = fail(err, "%s: unknown section '%s'", where, event_scalar(&ev));
                    else {
                        snprintf(section, sizeof section, "%s", event_scalar(&ev));
                        st = S_SECTION_START;
                    }
                } else {
                    rc = fail(err, "%s: expected a section name", where);
                }
                break;
            case S_SECTION_START:
                if (t == YAML_MAPPING_START_EVENT)
                    st = S_KEY;
                else if (t == YAML_SCALAR_EVENT && event_plain_null(&ev))
                    st = S_ROOT_KEY; /* "site:" with nothing under it */
                else
                    rc = fail(err, "%s: section '%s' must be a mapping", where, section);
                break;
            case S_KEY:
                if (t == YAML_MAPPING_END_EVENT) {
                    st = S_ROOT_KEY;
                } else if (t == YAML_SCALAR_EVENT) {
                    key = find_key(section, event_scalar(&ev));
                    if (!key)
                        rc = fail(err, "%s: unknown key '%s.%s'", where, section,
                                  event_scalar(&ev));
                    else
                        st = S_VALUE;
                } else {
                    rc = fail(err, "%s: expected a key in section '%s'", where, section);
                }
                break;
            case S_VALUE:
                if (t == YAML_SCALAR_EVENT) {
                    if (key->type == OB_CT_LIST && !event_plain_null(&ev))
                        rc = fail(err, "%s: key '%s.%s': expected a list", where, key->section,
                                  key->key);
                    else if (key->type == OB_CT_LIST)
                        list_clear(list_field(c, key));
                    else
                        rc = apply_scalar(c, key, event_scalar(&ev), event_plain_null(&ev),
                                          where, err);
                    st = S_KEY;
                } else if (t == YAML_SEQUENCE_START_EVENT && key->type == OB_CT_LIST) {
                    list = list_field(c, key);
                    list_clear(list);
                    st = S_LIST;
                } else {
                    rc = fail(err, "%s: key '%s.%s': wrong type of value", where, key->section,
                              key->key);
                }
                break;
            case S_LIST:
                if (t == YAML_SEQUENCE_END_EVENT) {
                    st = S_KEY;
                } else if (t == YAML_SCALAR_EVENT) {
                    if (list->count >= MAX_LIST_ITEMS)
                        rc = fail(err, "%s: key '%s.%s': more than %d items", where,
                                  key->section, key->key, MAX_LIST_ITEMS);
                    else
                        list_push(list, event_scalar(&ev));
                } else {
                    rc = fail(err, "%s: key '%s.%s': list items must be plain values", where,
                              key->section, key->key);
                }
                break;
            case S_DONE:
                rc = fail(err, "%s: unexpected content after the document", where);
                break;
            }
        }
        yaml_event_delete(&ev);
        if (rc)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

int ob_config_apply_env(ob_config *c, char *const *envp, ob_config_error *err)
{
    for (; envp && *envp; envp++) {
        const char *e = *envp;
        if (strncmp(e, "OPENBOOK_", 9) != 0)
            continue;
        const char *eq = strchr(e, '=');
        if (!eq)
            continue;
        char name[128];
        size_t nlen = (size_t)(eq - e) - 9;
        if (nlen >= sizeof name)
            continue;
        for (size_t i = 0; i < nlen; i++)
            name[i] = (char)tolower((unsigned char)e[9 + i]);
        name[nlen] = '\0';
        /* Section names have no underscore; the key is the rest. */
        char *us = strchr(name, '_');
        if (!us)
            continue;
        *us = '\0';
        if (!section_known(name))
            continue; /* OPENBOOK_CONFIG, OPENBOOK_SUPERUSER_PASSWORD, ... */
        const ob_config_key *k = find_key(name, us + 1);
        char where[160];
        snprintf(where, sizeof where, "environment %.*s", (int)(eq - e), e);
        if (!k)
            return fail(err, "%s: unknown key '%s.%s'", where, name, us + 1);
        if (apply_scalar(c, k, eq + 1, false, where, err))
            return -1;
    }
    return 0;
}

/* An optional TCP address (the metrics endpoints): "" (off) or host:port
 * in the syntax of net.h. */
static bool tcp_addr_ok(const char *addr)
{
    ob_net_addr a;
    const char *why;
    return !*addr || (ob_net_parse(addr, 0, &a, &why) == 0 && !a.is_unix);
}

int ob_config_validate(const ob_config *c, ob_config_error *err)
{
    if (ob_log_level_parse(c->log_level) < 0)
        return fail(err, "key 'server.log_level': \"%s\" is not one of debug, info, warning, error",
                    c->log_level);
    if (ob_log_format_parse(c->log_format) < 0)
        return fail(err, "key 'server.log_format': \"%s\" is not text or json", c->log_format);
    if (!tcp_addr_ok(c->metrics_listen))
        return fail(err, "key 'metrics.listen': \"%s\" is not host:port (or \"\" for off)",
                    c->metrics_listen);
    if (!tcp_addr_ok(c->relay_metrics_listen))
        return fail(err, "key 'relay.metrics_listen': \"%s\" is not host:port (or \"\" for off)",
                    c->relay_metrics_listen);
    char *end;
    long mode = strtol(c->socket_mode, &end, 8);
    if (!*c->socket_mode || *end || mode < 0 || mode > 0777)
        return fail(err, "key 'server.socket_mode': \"%s\" is not an octal mode", c->socket_mode);
    if (c->page_size_default > c->page_size_max)
        return fail(err, "key 'http.page_size_default': larger than http.page_size_max");
    if (!*c->listen)
        return fail(err, "key 'server.listen': must not be empty");
    if (c->allowed_hosts.count == 0)
        return fail(err, "key 'http.allowed_hosts': must name at least one host");
    for (size_t i = 0; i < c->allowed_hosts.count; i++)
        if (strcmp(c->allowed_hosts.items[i], "*") == 0 && !c->development)
            return fail(err, "key 'http.allowed_hosts': \"*\" is only allowed in development mode");
    if (strlen(c->default_language) == 0 || strlen(c->default_language) > 3)
        return fail(err, "key 'http.default_language': must be a language code of 1-3 letters");
    if (strcmp(c->mail_backend, "smtp") != 0 && strcmp(c->mail_backend, "file") != 0)
        return fail(err, "key 'mail.backend': \"%s\" is not smtp or file", c->mail_backend);
    if (strcmp(c->mail_smtp_security, "none") != 0 && strcmp(c->mail_smtp_security, "starttls") != 0 &&
        strcmp(c->mail_smtp_security, "tls") != 0)
        return fail(err, "key 'mail.smtp_security': \"%s\" is not none, starttls or tls",
                    c->mail_smtp_security);
    if (*c->public_base_url && strncmp(c->public_base_url, "http://", 7) != 0 &&
        strncmp(c->public_base_url, "https://", 8) != 0)
        return fail(err, "key 'http.public_base_url': must start with http:// or https://");
    if (!c->development) {
        if (strlen(c->secret_key) < 32)
            return fail(err, "key 'security.secret_key': missing or shorter than 32 bytes "
                             "(required outside development mode)");
        for (size_t i = 0; i < sizeof builtin_secrets / sizeof *builtin_secrets; i++)
            if (strcmp(c->secret_key, builtin_secrets[i]) == 0)
                return fail(err, "key 'security.secret_key': is the shipped example value; "
                                 "generate your own");
        if (*c->relay_ticket_secret && strlen(c->relay_ticket_secret) < 32)
            return fail(err, "key 'relay.ticket_secret': shorter than 32 bytes");
        if (!c->cookie_secure)
            return fail(err, "key 'security.cookie_secure': may be false in development mode only");
    }
    return 0;
}

static int read_file(const char *path, char **out, size_t *len, ob_config_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, "%s: cannot open: %s", path, strerror(errno));
    char *buf = ob_malloc(MAX_CONFIG_BYTES + 1);
    size_t n = fread(buf, 1, MAX_CONFIG_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        ob_free(buf);
        return fail(err, "%s: read error", path);
    }
    if (n > MAX_CONFIG_BYTES) {
        ob_free(buf);
        return fail(err, "%s: file is larger than %u bytes", path, MAX_CONFIG_BYTES);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static int load_file(ob_config *c, const char *path, ob_config_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    if (read_file(path, &buf, &len, err))
        return -1;
    int rc = ob_config_parse(c, buf, len, path, err);
    ob_free(buf);
    return rc;
}

const char *ob_config_default_path(void)
{
#ifndef OB_DATADIR
#define OB_DATADIR "/usr/share/openbook"
#endif

#ifdef OB_SYSCONFDIR
    return OB_SYSCONFDIR "/openbook.yaml";
#else
    return "/etc/openbook/openbook.yaml";
#endif
}

int ob_config_load(ob_config *c, const char *path, char *const *envp, ob_config_error *err)
{
    ob_config_defaults(c);
    if (!path)
        path = getenv("OPENBOOK_CONFIG");
    if (!path) {
        /* Running from a source tree: conf/openbook.yaml wins over the
         * installed default so `build/openbook` just works. */
        path = access("conf/openbook.yaml", R_OK) == 0 ? "conf/openbook.yaml"
                                                       : ob_config_default_path();
    }
    c->source_file = ob_strdup(path);
    if (load_file(c, path, err))
        return -1;
    /* local.yaml beside the main file overrides it. */
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    char local[PATH_MAX];
    if (dirlen + sizeof "local.yaml" <= sizeof local) {
        memcpy(local, path, dirlen);
        memcpy(local + dirlen, "local.yaml", sizeof "local.yaml");
        if (strcmp(local, path) != 0 && access(local, F_OK) == 0 && load_file(c, local, err))
            return -1;
    }
    if (ob_config_apply_env(c, envp, err))
        return -1;
    /* Data files: empty means "beside the main file" (the source tree's
     * conf/), else the installed data directory. */
    if (!*c->auth_common_passwords) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%.*scommon-passwords.txt.gz", (int)dirlen, path);
        set_str(&c->auth_common_passwords,
                access(p, R_OK) == 0 ? p : OB_DATADIR "/common-passwords.txt.gz");
    }
    if (ob_config_validate(c, err)) {
        /* Prefix the file name, keeping as much of the message as fits. */
        size_t pl = strlen(path);
        if (pl > 200)
            pl = 200;
        size_t ml = strlen(err->msg);
        if (pl + 2 + ml >= sizeof err->msg)
            ml = sizeof err->msg - pl - 3;
        memmove(err->msg + pl + 2, err->msg, ml);
        memcpy(err->msg, path, pl);
        memcpy(err->msg + pl, ": ", 2);
        err->msg[pl + 2 + ml] = '\0';
        return -1;
    }
    return 0;
}

static void print_yaml_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void ob_config_print(const ob_config *cc, void *file)
{
    FILE *f = file;
    ob_config *c = (ob_config *)cc;
    const char *section = "";
    fprintf(f, "# effective configuration (from %s, local.yaml and environment)\n",
            c->source_file ? c->source_file : "defaults");
    for (size_t i = 0; i < ob_config_nkeys; i++) {
        const ob_config_key *k = &ob_config_keys[i];
        if (strcmp(section, k->section) != 0) {
            section = k->section;
            fprintf(f, "%s:\n", section);
        }
        fprintf(f, "  %s: ", k->key);
        switch (k->type) {
        case OB_CT_STRING: {
            const char *v = *str_field(c, k);
            if (k->secret && *v && strcmp(k->key, "url") != 0)
                v = "********";
            if (k->secret && strcmp(k->key, "url") == 0) {
                /* Keep the URL readable, hide the password in either form:
                 * postgresql://user:PASS@host/db or password=PASS. */
                const char *at = strchr(v, '@');
                const char *scheme = strstr(v, "://");
                const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
                if (strstr(v, "password") || (scheme && at && colon && colon < at))
                    v = "******** (contains a password)";
            }
            print_yaml_string(f, v);
            break;
        }
        case OB_CT_INT:
            fprintf(f, "%ld", *int_field(c, k));
            break;
        case OB_CT_BOOL:
            fputs(*bool_field(c, k) ? "true" : "false", f);
            break;
        case OB_CT_LIST: {
            ob_strlist *l = list_field(c, k);
            fputc('[', f);
            for (size_t j = 0; j < l->count; j++) {
                if (j)
                    fputs(", ", f);
                print_yaml_string(f, l->items[j]);
            }
            fputc(']', f);
            break;
        }
        }
        fputc('\n', f);
    }
}

bool ob_config_host_allowed(const ob_config *c, const char *host, size_t len)
{
    for (size_t i = 0; i < c->allowed_hosts.count; i++) {
        const char *h = c->allowed_hosts.items[i];
        size_t hl = strlen(h);
        if (strcmp(h, "*") == 0 && c->development)
            return true;
        if (h[0] == '.') {
            /* ".example.org" matches example.org and any subdomain. */
            if (len == hl - 1 && strncasecmp(host, h + 1, len) == 0)
                return true;
            if (len > hl && strncasecmp(host + len - hl, h, hl) == 0)
                return true;
        } else if (len == hl && strncasecmp(host, h, len) == 0) {
            return true;
        }
    }
    return false;
}
