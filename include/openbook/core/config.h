/* config.h - the effective configuration.
 *
 * One table (config.c: ob_config_keys) describes every setting: section,
 * key, type and where it lives in struct ob_config.  The YAML loader, the
 * environment overrides, `openbook check-config` and the README check all
 * walk that table, so a setting is declared once. */
#ifndef OPENBOOK_CONFIG_H
#define OPENBOOK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ob_strlist {
    char **items;
    size_t count;
} ob_strlist;

typedef struct ob_config {
    /* server */
    char *listen;
    char *socket_mode;
    long backlog;
    long workers;
    long max_requests;
    long max_requests_jitter;
    long request_timeout;
    long graceful_timeout;
    bool development;
    char *log_level;
    bool access_log;
    char *log_format;          /* "text" or "json" (log.h) */
    /* metrics (the pool's Prometheus endpoint, metrics.h) */
    char *metrics_listen;      /* host:port, "" = off */
    /* cache (the workers' response cache, cache.h) */
    bool cache_enabled;
    long cache_max_bytes;
    long cache_max_age_ms;
    /* http */
    ob_strlist allowed_hosts;
    ob_strlist trusted_proxies;
    char *public_base_url;
    long max_body_bytes;
    long max_upload_bytes;
    long library_archive_max_bytes;
    long library_max_entries;
    long library_max_uncompressed_bytes;
    long library_max_manifest_bytes;
    long max_form_fields;
    long max_json_depth;
    long max_query_string_bytes;
    long max_headers;
    long max_cookies;
    long page_size_default;
    long page_size_max;
    long max_expand_depth;
    long gzip_min_bytes;
    long gzip_level;
    char *default_language;
    ob_strlist csrf_trusted_origins;
    /* security */
    char *secret_key;
    char *cookie_domain;
    bool cookie_secure;
    long session_max_age;
    /* database */
    char *database_url;
    long database_connect_timeout;
    long database_statement_timeout;
    char *database_tools_dir;
    /* redis */
    char *redis_address;
    long redis_db;
    char *redis_password;
    long redis_timeout;
    /* site */
    long site_id;
    /* media */
    char *media_root;
    char *media_url;
    /* relay */
    char *relay_listen;
    char *relay_metrics_listen; /* host:port of the relay's metrics, "" = off */
    long relay_ping_interval;
    long relay_max_connections;
    char *relay_ticket_secret;
    char *relay_ticket_secret_previous;
    long relay_ticket_ttl;
    long relay_idle_timeout;
    long relay_max_frame_bytes;
    long relay_send_queue_max_frames;
    long relay_send_queue_max_bytes;
    long relay_max_channels;
    long relay_max_connections_per_user;
    long relay_max_anonymous_per_address;
    long relay_max_lifetime;

    /* auth */
    long auth_login_timeout;
    long auth_ip_limit_factor;
    long auth_reauthentication_timeout;
    long auth_max_email_addresses;
    long auth_verification_cooldown;
    char *auth_common_passwords;
    /* mail */
    char *mail_backend;
    char *mail_file_dir;
    char *mail_from;
    char *mail_smtp_host;
    long mail_smtp_port;
    char *mail_smtp_security;
    char *mail_smtp_username;
    char *mail_smtp_password;
    long mail_smtp_timeout;
    long mail_max_attempts;
    long mail_retention;

    /* Not settings: where the configuration came from (for messages). */
    char *source_file;
} ob_config;

typedef enum { OB_CT_STRING, OB_CT_INT, OB_CT_BOOL, OB_CT_LIST } ob_config_type;

typedef struct ob_config_key {
    const char *section;
    const char *key;
    ob_config_type type;
    size_t offset;      /* into struct ob_config */
    bool secret;        /* masked by check-config */
    long min, max;      /* bounds for OB_CT_INT */
} ob_config_key;

extern const ob_config_key ob_config_keys[];
extern const size_t ob_config_nkeys;

/* Error text, filled on failure: "FILE:LINE: key 'section.key': message". */
typedef struct ob_config_error {
    char msg[512];
} ob_config_error;

/* Built-in defaults (the values documented in conf/openbook.yaml). */
void ob_config_defaults(ob_config *cfg);
void ob_config_free(ob_config *cfg);

/* Applies a YAML document held in buf[0..len) on top of cfg.  `name` is
 * used in error messages.  Returns 0, or -1 with err filled.  This is the
 * parser the fuzz target drives. */
int ob_config_parse(ob_config *cfg, const char *buf, size_t len, const char *name,
                    ob_config_error *err);

/* Applies OPENBOOK_<SECTION>_<KEY> variables from envp (NULL-terminated). */
int ob_config_apply_env(ob_config *cfg, char *const *envp, ob_config_error *err);

/* Checks cross-field rules (secret key, allowed hosts...). */
int ob_config_validate(const ob_config *cfg, ob_config_error *err);

/* The whole load: defaults, main file (path, or OPENBOOK_CONFIG, or the
 * built-in default path), local.yaml beside it, environment, validation. */
int ob_config_load(ob_config *cfg, const char *path, char *const *envp, ob_config_error *err);

/* Prints the effective configuration as YAML with secrets masked. */
void ob_config_print(const ob_config *cfg, void *file /* FILE* */);

/* Default configuration path (compiled in; see Makefile SYSCONFDIR). */
const char *ob_config_default_path(void);

/* True if host (no port, lower case) matches allowed_hosts. */
bool ob_config_host_allowed(const ob_config *cfg, const char *host, size_t len);

#endif
