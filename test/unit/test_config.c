/* test_config.c - YAML loading, environment overrides, validation, host
 * matching and the masked printer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "openbook/core/alloc.h"
#include "openbook/core/config.h"
#include "tests.h"

static ob_config C;
static ob_config_error E;

static void setup(void)
{
    ob_config_defaults(&C);
    memset(&E, 0, sizeof E);
}

static void teardown(void)
{
    ob_config_free(&C);
}

static int parse(const char *yaml)
{
    return ob_config_parse(&C, yaml, strlen(yaml), "t.yaml", &E);
}

static void set_list(ob_strlist *l, const char *const *items)
{
    for (size_t i = 0; i < l->count; i++)
        ob_free(l->items[i]);
    ob_free(l->items);
    l->items = NULL;
    l->count = 0;
    for (size_t n = 0; items[n]; n++) {
        l->items = ob_realloc(l->items, (l->count + 1) * sizeof *l->items);
        l->items[l->count++] = ob_strdup(items[n]);
    }
}

static void set_str(char **f, const char *v)
{
    ob_free(*f);
    *f = ob_strdup(v);
}

#define ASSERT_ERR(expr, want)                                                                    \
    do {                                                                                          \
        ck_assert_int_eq((expr), -1);                                                             \
        ck_assert_msg(strstr(E.msg, (want)) != NULL, "error \"%s\" lacks \"%s\"", E.msg, (want)); \
    } while (0)

/* ---- defaults and the key table --------------------------------------- */

START_TEST(test_key_table_consistent)
{
    for (size_t i = 0; i < ob_config_nkeys; i++) {
        const ob_config_key *k = &ob_config_keys[i];
        ck_assert_ptr_nonnull(strchr("abcdefghijklmnopqrstuvwxyz", k->section[0]));
        ck_assert_msg(strchr(k->section, '_') == NULL, "section %s has '_' (env names)",
                      k->section);
        ck_assert_uint_lt(k->offset, sizeof(ob_config));
        for (size_t j = i + 1; j < ob_config_nkeys; j++)
            ck_assert_msg(strcmp(k->section, ob_config_keys[j].section) != 0 ||
                              strcmp(k->key, ob_config_keys[j].key) != 0,
                          "duplicate key %s.%s", k->section, k->key);
        if (k->type == OB_CT_INT) {
            long v = *(const long *)(const void *)((const char *)&C + k->offset);
            ck_assert_msg(v >= k->min && v <= k->max, "default %s.%s=%ld out of %ld..%ld",
                          k->section, k->key, v, k->min, k->max);
        }
        if (k->type == OB_CT_STRING)
            ck_assert_ptr_nonnull(*(char *const *)(const void *)((const char *)&C + k->offset));
    }
}
END_TEST

START_TEST(test_defaults)
{
    ck_assert_int_eq(C.workers, 0);
    ck_assert_int_eq(C.max_body_bytes, 2621440);
    ck_assert_int_eq(C.max_json_depth, 64);
    ck_assert_int_eq(C.max_query_string_bytes, 8192);
    ck_assert_int_eq(C.page_size_default, 100);
    ck_assert_int_eq(C.page_size_max, 1000);
    ck_assert_int_eq(C.session_max_age, 1209600);
    ck_assert_int_eq(C.site_id, 1);
    ck_assert_str_eq(C.default_language, "en");
    ck_assert_str_eq(C.secret_key, "");
    ck_assert_str_eq(C.media_url, "/media/");
    ck_assert(!C.development);
    ck_assert(C.cookie_secure);
    ck_assert_uint_eq(C.allowed_hosts.count, 0);
    ck_assert_uint_eq(C.trusted_proxies.count, 2);
    ck_assert_str_eq(C.trusted_proxies.items[0], "127.0.0.1");
    ck_assert_str_eq(C.trusted_proxies.items[1], "::1");
}
END_TEST

/* Reads a whole file into a heap string. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = ob_malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Writes the printed configuration to a heap string. */
static char *print_cfg(const ob_config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ob_config_print(c, f);
    fclose(f);
    return text;
}

START_TEST(test_shipped_file_matches_defaults)
{
    /* conf/openbook.yaml documents every default: loading it on top of the
     * built-in defaults changes nothing. */
    size_t len;
    char *yaml = slurp("../../conf/openbook.yaml", &len);
    ck_assert_msg(yaml != NULL, "cannot read conf/openbook.yaml (run from test/unit)");
    int rc = ob_config_parse(&C, yaml, len, "conf/openbook.yaml", &E);
    ob_free(yaml);
    ck_assert_msg(rc == 0, "%s", E.msg);
    ob_config d;
    ob_config_defaults(&d);
    char *a = print_cfg(&C);
    char *b = print_cfg(&d);
    ob_config_free(&d);
    /* Report the first line that differs. */
    const char *pa = a, *pb = b;
    while (*pa && *pa == *pb) {
        pa++;
        pb++;
    }
    while (pa > a && pa[-1] != '\n') {
        pa--;
        pb--;
    }
    char msg[300];
    snprintf(msg, sizeof msg, "file: %.*s / built in: %.*s", (int)strcspn(pa, "\n"), pa,
             (int)strcspn(pb, "\n"), pb);
    int same = strcmp(a, b) == 0;
    free(a);
    free(b);
    ck_assert_msg(same, "conf/openbook.yaml differs from ob_config_defaults(): %s", msg);
}
END_TEST

/* ---- YAML ------------------------------------------------------------- */

START_TEST(test_parse_valid)
{
    int rc = parse("# comment\n"
                   "server:\n"
                   "  workers: 4\n"
                   "  development: yes\n"
                   "  access_log: off\n"
                   "  log_level: debug\n"
                   "  listen: \"127.0.0.1:9000\"\n"
                   "http:\n"
                   "  allowed_hosts:\n"
                   "    - example.org\n"
                   "    - .example.net\n"
                   "  csrf_trusted_origins: [\"https://app.example.org\"]\n"
                   "  max_body_bytes: 4096\n"
                   "security:\n"
                   "  secret_key: 'abc'\n"
                   "  cookie_domain: ~\n"
                   "site:\n"
                   "media:\n"
                   "  media_url: /m/\n");
    ck_assert_msg(rc == 0, "%s", E.msg);
    ck_assert_int_eq(C.workers, 4);
    ck_assert(C.development);
    ck_assert(!C.access_log);
    ck_assert_str_eq(C.log_level, "debug");
    ck_assert_str_eq(C.listen, "127.0.0.1:9000");
    ck_assert_uint_eq(C.allowed_hosts.count, 2);
    ck_assert_str_eq(C.allowed_hosts.items[0], "example.org");
    ck_assert_str_eq(C.allowed_hosts.items[1], ".example.net");
    ck_assert_uint_eq(C.csrf_trusted_origins.count, 1);
    ck_assert_str_eq(C.csrf_trusted_origins.items[0], "https://app.example.org");
    ck_assert_int_eq(C.max_body_bytes, 4096);
    ck_assert_str_eq(C.secret_key, "abc");
    ck_assert_str_eq(C.cookie_domain, "");
    ck_assert_str_eq(C.media_url, "/m/");
    /* Untouched keys keep their defaults. */
    ck_assert_int_eq(C.backlog, 1024);
    ck_assert_int_eq(C.site_id, 1);
}
END_TEST

START_TEST(test_parse_empty_documents)
{
    ck_assert_int_eq(parse(""), 0);
    ck_assert_int_eq(parse("# only a comment\n"), 0);
    ck_assert_int_eq(parse("---\n"), 0);
    ck_assert_int_eq(parse("server:\nhttp: ~\n"), 0);
    ck_assert_int_eq(C.backlog, 1024);
}
END_TEST

START_TEST(test_later_parse_overrides)
{
    ck_assert_int_eq(parse("server: {workers: 2}\nhttp: {allowed_hosts: [a, b]}\n"), 0);
    ck_assert_int_eq(parse("server:\n  workers: 3\nhttp:\n  allowed_hosts: [c]\n"), 0);
    ck_assert_int_eq(C.workers, 3);
    /* A list is replaced, not appended to. */
    ck_assert_uint_eq(C.allowed_hosts.count, 1);
    ck_assert_str_eq(C.allowed_hosts.items[0], "c");
    /* An empty list and a null both clear it. */
    ck_assert_int_eq(parse("http:\n  allowed_hosts: []\n"), 0);
    ck_assert_uint_eq(C.allowed_hosts.count, 0);
    ck_assert_int_eq(parse("http:\n  trusted_proxies:\n"), 0);
    ck_assert_uint_eq(C.trusted_proxies.count, 0);
}
END_TEST

START_TEST(test_unknown_key_names_file_line_key)
{
    ASSERT_ERR(parse("server:\n  workers: 2\n  wrokers: 3\n"), "t.yaml:3:");
    ck_assert_ptr_nonnull(strstr(E.msg, "unknown key 'server.wrokers'"));
    ASSERT_ERR(parse("\n\nbogus:\n  x: 1\n"), "t.yaml:3: unknown section 'bogus'");
    /* A key of another section is unknown here. */
    ASSERT_ERR(parse("http:\n  workers: 2\n"), "t.yaml:2: unknown key 'http.workers'");
}
END_TEST

START_TEST(test_wrong_type)
{
    ASSERT_ERR(parse("server:\n  workers: many\n"),
               "t.yaml:2: key 'server.workers': expected an integer, got \"many\"");
    ASSERT_ERR(parse("server:\n  workers: 1.5\n"), "key 'server.workers': expected an integer");
    ASSERT_ERR(parse("server:\n  workers: \"\"\n"), "expected an integer");
    ASSERT_ERR(parse("server:\n  workers: 4 \n  backlog: 0x10\n"), "t.yaml:3: key 'server.backlog'");
    ASSERT_ERR(parse("server:\n  development: maybe\n"),
               "t.yaml:2: key 'server.development': expected true or false");
    ASSERT_ERR(parse("server:\n  workers: [1, 2]\n"), "t.yaml:2: key 'server.workers': wrong type");
    ASSERT_ERR(parse("server:\n  listen:\n    a: b\n"), "key 'server.listen': wrong type");
    ASSERT_ERR(parse("http:\n  allowed_hosts: example.org\n"),
               "t.yaml:2: key 'http.allowed_hosts': expected a list");
    ASSERT_ERR(parse("http:\n  allowed_hosts:\n    - a\n    - [b]\n"),
               "t.yaml:4: key 'http.allowed_hosts': list items must be plain values");
    ASSERT_ERR(parse("server: 3\n"), "t.yaml:1: section 'server' must be a mapping");
    ASSERT_ERR(parse("- a\n- b\n"), "t.yaml:1: the top level must be a mapping");
    ASSERT_ERR(parse("just a string\n"), "the top level must be a mapping");
    ASSERT_ERR(parse("server:\n  [a]: 1\n"), "t.yaml:2: expected a key in section 'server'");
}
END_TEST

START_TEST(test_out_of_range_int)
{
    ASSERT_ERR(parse("server:\n  workers: 1025\n"),
               "t.yaml:2: key 'server.workers': 1025 is out of range 0..1024");
    ASSERT_ERR(parse("server:\n  workers: -1\n"), "-1 is out of range 0..1024");
    ASSERT_ERR(parse("http:\n  max_json_depth: 1\n"), "key 'http.max_json_depth': 1 is out of range");
    ASSERT_ERR(parse("server:\n  max_requests: 99999999999999999999999\n"),
               "key 'server.max_requests': expected an integer");
    /* The bounds themselves are allowed. */
    ck_assert_int_eq(parse("server:\n  workers: 1024\nhttp:\n  max_json_depth: 2\n"), 0);
    ck_assert_int_eq(C.workers, 1024);
    ck_assert_int_eq(C.max_json_depth, 2);
}
END_TEST

START_TEST(test_yaml_features_refused)
{
    ASSERT_ERR(parse("server:\n  listen: &a x\n  socket_mode: *a\n"),
               "t.yaml:3: aliases are not allowed");
    ASSERT_ERR(parse("server: {}\n---\nserver: {}\n"), "only one YAML document");
    ASSERT_ERR(parse("server:\n  listen: 'x\n"), "t.yaml:3: YAML error: ");
    ASSERT_ERR(parse("server:\n\tworkers: 1\n"), "t.yaml:2: YAML error: ");
    ASSERT_ERR(parse("server:\n  listen: \"a\n\n  b\"\n"), "key 'server.listen': must be a single line");
    /* A secret may span lines (e.g. a PEM-ish blob). */
    ck_assert_int_eq(parse("security:\n  secret_key: |\n    line one\n    line two\n"), 0);
    ck_assert_str_eq(C.secret_key, "line one\nline two\n");
}
END_TEST

START_TEST(test_parse_size_limit)
{
    size_t n = (1u << 20) + 1;
    char *big = ob_malloc(n);
    memset(big, '#', n);
    int rc = ob_config_parse(&C, big, n, "big.yaml", &E);
    ob_free(big);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(strstr(E.msg, "big.yaml: file is larger than"));
}
END_TEST

START_TEST(test_list_item_limit)
{
    char *yaml = ob_malloc(64 + 300 * 8);
    strcpy(yaml, "http:\n  allowed_hosts:\n");
    for (int i = 0; i < 256; i++)
        sprintf(yaml + strlen(yaml), "  - h%d\n", i);
    ck_assert_int_eq(parse(yaml), 0);
    ck_assert_uint_eq(C.allowed_hosts.count, 256);
    strcat(yaml, "  - one-too-many\n");
    ASSERT_ERR(parse(yaml), "more than 256 items");
    ob_free(yaml);
}
END_TEST

/* ---- environment ------------------------------------------------------ */

static int apply_env(const char *const *vars)
{
    ob_arena a;
    ob_arena_init(&a, 0);
    int rc = ob_config_apply_env(&C, test_env(&a, vars), &E);
    ob_arena_destroy(&a);
    return rc;
}

START_TEST(test_env_overrides)
{
    const char *env[] = {
        "PATH=/usr/bin",
        "OPENBOOK_SERVER_WORKERS=8",
        "OPENBOOK_SERVER_DEVELOPMENT=true",
        "OPENBOOK_HTTP_ALLOWED_HOSTS=a.example.org, .example.net,,  c.org ,",
        "OPENBOOK_DATABASE_URL=host=/run/postgresql dbname=openbook",
        "OPENBOOK_SECURITY_SECRET_KEY=0123456789abcdef0123456789abcdef",
        "OPENBOOK_CONFIG=/etc/other.yaml",            /* not a setting */
        "OPENBOOK_SUPERUSER_PASSWORD=x",              /* not a setting */
        "openbook_server_backlog=5",                  /* case matters for the prefix */
        NULL,
    };
    ck_assert_msg(apply_env(env) == 0, "%s", E.msg);
    ck_assert_int_eq(C.workers, 8);
    ck_assert(C.development);
    ck_assert_uint_eq(C.allowed_hosts.count, 3);
    ck_assert_str_eq(C.allowed_hosts.items[0], "a.example.org");
    ck_assert_str_eq(C.allowed_hosts.items[1], ".example.net");
    ck_assert_str_eq(C.allowed_hosts.items[2], "c.org");
    ck_assert_str_eq(C.database_url, "host=/run/postgresql dbname=openbook");
    ck_assert_str_eq(C.secret_key, "0123456789abcdef0123456789abcdef");
    ck_assert_int_eq(C.backlog, 1024);
}
END_TEST

START_TEST(test_env_list_replaces_and_empty_clears)
{
    const char *env1[] = {"OPENBOOK_HTTP_TRUSTED_PROXIES=10.0.0.1", NULL};
    ck_assert_int_eq(apply_env(env1), 0);
    ck_assert_uint_eq(C.trusted_proxies.count, 1);
    ck_assert_str_eq(C.trusted_proxies.items[0], "10.0.0.1");
    const char *env2[] = {"OPENBOOK_HTTP_TRUSTED_PROXIES=", NULL};
    ck_assert_int_eq(apply_env(env2), 0);
    ck_assert_uint_eq(C.trusted_proxies.count, 0);
}
END_TEST

START_TEST(test_env_errors_name_variable)
{
    const char *e1[] = {"OPENBOOK_SERVER_WROKERS=8", NULL};
    ASSERT_ERR(apply_env(e1), "environment OPENBOOK_SERVER_WROKERS: unknown key 'server.wrokers'");
    const char *e2[] = {"OPENBOOK_SERVER_WORKERS=eight", NULL};
    ASSERT_ERR(apply_env(e2), "environment OPENBOOK_SERVER_WORKERS: key 'server.workers': "
                              "expected an integer, got \"eight\"");
    const char *e3[] = {"OPENBOOK_SERVER_WORKERS=5000", NULL};
    ASSERT_ERR(apply_env(e3), "5000 is out of range 0..1024");
    const char *e4[] = {"OPENBOOK_SERVER_ACCESS_LOG=sometimes", NULL};
    ASSERT_ERR(apply_env(e4), "key 'server.access_log': expected true or false");
    ck_assert_int_eq(ob_config_apply_env(&C, NULL, &E), 0);
}
END_TEST

/* ---- validate --------------------------------------------------------- */

static void make_valid(void)
{
    static const char *const hosts[] = {"example.org", NULL};
    set_list(&C.allowed_hosts, hosts);
    set_str(&C.secret_key, "k8Jq2Lx9Vb4Nm7Pz3Rt6Wy1Ac5Df0Gh2Jk4");
}

START_TEST(test_validate_ok)
{
    make_valid();
    ck_assert_msg(ob_config_validate(&C, &E) == 0, "%s", E.msg);
}
END_TEST

START_TEST(test_validate_secret_key)
{
    make_valid();
    set_str(&C.secret_key, "");
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'security.secret_key'");
    set_str(&C.secret_key, "0123456789012345678901234567890"); /* 31 bytes */
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'security.secret_key'");
    set_str(&C.secret_key, "01234567890123456789012345678901"); /* 32 bytes */
    ck_assert_int_eq(ob_config_validate(&C, &E), 0);
    /* The shipped example values are refused however long they are. */
    set_str(&C.secret_key, "change-me-to-a-long-random-secret-of-at-least-32-bytes");
    ASSERT_ERR(ob_config_validate(&C, &E), "shipped example");
    set_str(&C.secret_key, "development-secret-key-do-not-use-in-production");
    ASSERT_ERR(ob_config_validate(&C, &E), "shipped example");
    /* Development mode allows a missing secret. */
    C.development = true;
    set_str(&C.secret_key, "");
    ck_assert_int_eq(ob_config_validate(&C, &E), 0);
}
END_TEST

START_TEST(test_validate_allowed_hosts)
{
    make_valid();
    static const char *const none[] = {NULL};
    set_list(&C.allowed_hosts, none);
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'http.allowed_hosts': must name at least one");
    static const char *const star[] = {"example.org", "*", NULL};
    set_list(&C.allowed_hosts, star);
    ASSERT_ERR(ob_config_validate(&C, &E), "\"*\" is only allowed in development mode");
    C.development = true;
    ck_assert_int_eq(ob_config_validate(&C, &E), 0);
}
END_TEST

START_TEST(test_validate_other_rules)
{
    make_valid();
    C.cookie_secure = false;
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'security.cookie_secure'");
    C.development = true;
    ck_assert_int_eq(ob_config_validate(&C, &E), 0);
    C.development = false;
    C.cookie_secure = true;

    set_str(&C.log_level, "verbose");
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'server.log_level'");
    set_str(&C.log_level, "warning");

    set_str(&C.socket_mode, "0999");
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'server.socket_mode'");
    set_str(&C.socket_mode, "1777");
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'server.socket_mode'");
    set_str(&C.socket_mode, "0600");

    C.page_size_default = C.page_size_max + 1;
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'http.page_size_default'");
    C.page_size_default = 100;

    set_str(&C.listen, "");
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'server.listen'");
    set_str(&C.listen, "unix:/tmp/x.sock");

    set_str(&C.default_language, "english");
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'http.default_language'");
    set_str(&C.default_language, "de");

    set_str(&C.mail_backend, "sendmail");
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'mail.backend'");
    set_str(&C.mail_backend, "file");
    set_str(&C.mail_smtp_security, "ssl");
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'mail.smtp_security'");
    set_str(&C.mail_smtp_security, "starttls");
    set_str(&C.relay_ticket_secret, "short");
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'relay.ticket_secret'");
    set_str(&C.relay_ticket_secret, "");
    ck_assert_msg(ob_config_validate(&C, &E) == 0, "%s", E.msg);

    set_str(&C.public_base_url, "books.example.org");
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'http.public_base_url'");
    set_str(&C.public_base_url, "https://books.example.org");
    ck_assert_msg(ob_config_validate(&C, &E) == 0, "%s", E.msg);
}
END_TEST

/* The metrics endpoints: off, or a TCP address in net.h's syntax (the
 * scrapers speak HTTP over TCP; a unix socket would open with no mode). */
START_TEST(test_validate_metrics_addresses)
{
    make_valid();
    static const char *const good[] = {"", "127.0.0.1:9187", "[::1]:9187", ":9187",
                                       "localhost:9187"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        set_str(&C.metrics_listen, good[i]);
        set_str(&C.relay_metrics_listen, good[i]);
        ck_assert_msg(ob_config_validate(&C, &E) == 0, "%s: %s", good[i], E.msg);
    }
    static const char *const bad[] = {"9187", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
                                      "127.0.0.1:91x", "unix:/run/openbook/metrics.sock"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        set_str(&C.metrics_listen, bad[i]);
        set_str(&C.relay_metrics_listen, "");
        ASSERT_ERR(ob_config_validate(&C, &E), "key 'metrics.listen'");
        set_str(&C.metrics_listen, "");
        set_str(&C.relay_metrics_listen, bad[i]);
        ASSERT_ERR(ob_config_validate(&C, &E), "key 'relay.metrics_listen'");
    }
    set_str(&C.relay_metrics_listen, "");
    set_str(&C.log_format, "xml");
    ASSERT_ERR(ob_config_validate(&C, &E), "key 'server.log_format'");
    set_str(&C.log_format, "JSON");
    ck_assert_msg(ob_config_validate(&C, &E) == 0, "%s", E.msg);
}
END_TEST

/* ---- host matching ---------------------------------------------------- */

static bool allowed(const char *host)
{
    return ob_config_host_allowed(&C, host, strlen(host));
}

START_TEST(test_host_matching)
{
    static const char *const hosts[] = {"books.example.org", ".example.net", "10.0.0.5", NULL};
    set_list(&C.allowed_hosts, hosts);
    ck_assert(allowed("books.example.org"));
    ck_assert(allowed("BOOKS.Example.ORG"));
    ck_assert(!allowed("www.books.example.org"));
    ck_assert(!allowed("example.org"));
    ck_assert(!allowed("books.example.org.evil.com"));
    ck_assert(!allowed("xbooks.example.org"));
    /* Leading dot: the domain itself and any subdomain. */
    ck_assert(allowed("example.net"));
    ck_assert(allowed("www.example.net"));
    ck_assert(allowed("a.b.example.net"));
    ck_assert(!allowed("badexample.net"));
    ck_assert(!allowed("example.net.evil.com"));
    ck_assert(!allowed("xample.net"));
    ck_assert(allowed("10.0.0.5"));
    ck_assert(!allowed("10.0.0.50"));
    ck_assert(!allowed(""));
    /* Only the first len bytes are the host. */
    ck_assert(ob_config_host_allowed(&C, "example.netXYZ", 11));
}
END_TEST

START_TEST(test_host_star_only_in_development)
{
    static const char *const star[] = {"*", NULL};
    set_list(&C.allowed_hosts, star);
    ck_assert(!allowed("anything.example"));
    C.development = true;
    ck_assert(allowed("anything.example"));
    static const char *const none[] = {NULL};
    set_list(&C.allowed_hosts, none);
    ck_assert(!allowed("anything.example"));
}
END_TEST

/* ---- print ------------------------------------------------------------ */

START_TEST(test_print_masks_secrets)
{
    set_str(&C.secret_key, "TOPSECRET-0123456789abcdef0123456789");
    set_str(&C.redis_password, "REDISPW-s3cr3t");
    set_str(&C.database_url, "host=db dbname=openbook password=PGPASS-hunter2");
    set_str(&C.listen, "127.0.0.1:9000");
    char *out = print_cfg(&C);
    ck_assert_ptr_null(strstr(out, "TOPSECRET"));
    ck_assert_ptr_null(strstr(out, "REDISPW"));
    ck_assert_ptr_null(strstr(out, "PGPASS"));
    ck_assert_ptr_nonnull(strstr(out, "  secret_key: \"********\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "  password: \"********\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "server:\n"));
    ck_assert_ptr_nonnull(strstr(out, "  listen: \"127.0.0.1:9000\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "  workers: 0\n"));
    ck_assert_ptr_nonnull(strstr(out, "  trusted_proxies: [\"127.0.0.1\", \"::1\"]\n"));
    free(out);
    /* An unset secret shows as empty, so a missing one is visible. */
    set_str(&C.secret_key, "");
    out = print_cfg(&C);
    ck_assert_ptr_nonnull(strstr(out, "  secret_key: \"\"\n"));
    free(out);
}
END_TEST

START_TEST(test_print_masks_password_in_database_uri)
{
    /* conf/openbook.yaml allows a postgresql:// URI for database.url; its
     * password has no "password" keyword in front of it. */
    set_str(&C.database_url, "postgresql://openbook:PGPASS-hunter2@db.internal/openbook");
    char *out = print_cfg(&C);
    bool leaked = strstr(out, "PGPASS") != NULL;
    free(out);
    ck_assert_msg(!leaked, "check-config prints the password of a postgresql:// URI");
    /* URLs without a password stay readable. */
    static const char *const plain[] = {"postgresql://openbook@db.internal/openbook",
                                        "postgresql://db.internal:5432/openbook",
                                        "postgresql://ob@db.internal:5432/openbook",
                                        "host=/run/postgresql dbname=openbook"};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        set_str(&C.database_url, plain[i]);
        out = print_cfg(&C);
        char want[128];
        snprintf(want, sizeof want, "  url: \"%s\"\n", plain[i]);
        bool shown = strstr(out, want) != NULL;
        free(out);
        ck_assert_msg(shown, "%s was masked", plain[i]);
    }
}
END_TEST

START_TEST(test_print_round_trips)
{
    /* The printed YAML loads back to the same (non-secret) settings. */
    ck_assert_int_eq(parse("server:\n  workers: 7\n  development: true\n"
                           "http:\n  allowed_hosts: [\"a.org\", 'q\"uote', 'back\\slash']\n"
                           "media:\n  media_url: \"/m e/\"\n"),
                     0);
    char *out = print_cfg(&C);
    ob_config d;
    ob_config_defaults(&d);
    int rc = ob_config_parse(&d, out, strlen(out), "printed", &E);
    free(out);
    bool same = rc == 0 && d.workers == 7 && d.development && d.allowed_hosts.count == 3 &&
                strcmp(d.allowed_hosts.items[1], "q\"uote") == 0 &&
                strcmp(d.allowed_hosts.items[2], "back\\slash") == 0 &&
                strcmp(d.media_url, "/m e/") == 0 && d.trusted_proxies.count == 2;
    ob_config_free(&d);
    ck_assert_msg(rc == 0, "%s", E.msg);
    ck_assert(same);
}
END_TEST

/* ---- load ------------------------------------------------------------- */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void remove_files(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/openbook.yaml", tmpdir);
    unlink(path);
    snprintf(path, sizeof path, "%s/local.yaml", tmpdir);
    unlink(path);
    rmdir(tmpdir);
}

START_TEST(test_load_file_local_env)
{
    strcpy(tmpdir, "/tmp/ob-config-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    write_file("openbook.yaml", "server:\n  workers: 2\n  backlog: 10\n"
                                "http:\n  allowed_hosts: [example.org]\n"
                                "security:\n  secret_key: \"0123456789abcdef0123456789abcdef\"\n");
    write_file("local.yaml", "server:\n  workers: 3\n");
    char path[128];
    snprintf(path, sizeof path, "%s/openbook.yaml", tmpdir);
    ob_arena a;
    ob_arena_init(&a, 0);
    const char *vars[] = {"OPENBOOK_SERVER_BACKLOG=20", NULL};
    ob_config_free(&C);
    int rc = ob_config_load(&C, path, test_env(&a, vars), &E);
    ob_arena_destroy(&a);
    ck_assert_msg(rc == 0, "%s", E.msg);
    ck_assert_int_eq(C.workers, 3);  /* local.yaml over the main file */
    ck_assert_int_eq(C.backlog, 20); /* environment over both */
    ck_assert_str_eq(C.source_file, path);

    /* Errors in local.yaml name local.yaml and its line. */
    write_file("local.yaml", "server:\n  workers: 3\n  nope: 1\n");
    ob_config_free(&C);
    rc = ob_config_load(&C, path, NULL, &E);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(E.msg, "local.yaml:3: unknown key 'server.nope'") != NULL, "%s", E.msg);

    /* Validation errors are prefixed with the main file. */
    write_file("local.yaml", "security:\n  secret_key: short\n");
    ob_config_free(&C);
    rc = ob_config_load(&C, path, NULL, &E);
    ck_assert_int_eq(rc, -1);
    char want[160];
    snprintf(want, sizeof want, "%s: key 'security.secret_key'", path);
    ck_assert_msg(strncmp(E.msg, want, strlen(want)) == 0, "%s", E.msg);
    remove_files();

    /* A missing file is an error naming it. */
    ob_config_free(&C);
    rc = ob_config_load(&C, path, NULL, &E);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(E.msg, "cannot open") != NULL, "%s", E.msg);
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_key_table_consistent);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_shipped_file_matches_defaults);
    tcase_add_test(tc, test_parse_valid);
    tcase_add_test(tc, test_parse_empty_documents);
    tcase_add_test(tc, test_later_parse_overrides);
    tcase_add_test(tc, test_unknown_key_names_file_line_key);
    tcase_add_test(tc, test_wrong_type);
    tcase_add_test(tc, test_out_of_range_int);
    tcase_add_test(tc, test_yaml_features_refused);
    tcase_add_test(tc, test_parse_size_limit);
    tcase_add_test(tc, test_list_item_limit);
    tcase_add_test(tc, test_env_overrides);
    tcase_add_test(tc, test_env_list_replaces_and_empty_clears);
    tcase_add_test(tc, test_env_errors_name_variable);
    tcase_add_test(tc, test_validate_ok);
    tcase_add_test(tc, test_validate_secret_key);
    tcase_add_test(tc, test_validate_allowed_hosts);
    tcase_add_test(tc, test_validate_other_rules);
    tcase_add_test(tc, test_validate_metrics_addresses);
    tcase_add_test(tc, test_host_matching);
    tcase_add_test(tc, test_host_star_only_in_development);
    tcase_add_test(tc, test_print_masks_secrets);
    tcase_add_test(tc, test_print_masks_password_in_database_uri);
    tcase_add_test(tc, test_print_round_trips);
    tcase_add_test(tc, test_load_file_local_env);
    suite_add_tcase(s, tc);
    return s;
}
