/* tests.h - the unit-test suites (one per module) and small helpers they
 * share.  test_main.c runs every suite listed here. */
#ifndef OPENBOOK_TESTS_H
#define OPENBOOK_TESTS_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "openbook/core/arena.h"

Suite *arena_suite(void);
Suite *buf_suite(void);
Suite *json_suite(void);
Suite *parse_suite(void);
Suite *config_suite(void);
Suite *router_suite(void);
Suite *request_suite(void);
Suite *response_suite(void);
Suite *mail_suite(void);
Suite *resource_suite(void);
Suite *fields_suite(void);
Suite *schema_suite(void);
Suite *password_suite(void);
Suite *auth_input_suite(void);
Suite *ticket_suite(void);
Suite *ws_handshake_suite(void);
Suite *ws_events_suite(void);
Suite *ws_ticket_api_suite(void);
Suite *cache_suite(void);
Suite *query_suite(void);
Suite *perm_suite(void);
Suite *wfield_suite(void);
Suite *multipart_suite(void);
Suite *semver_suite(void);
Suite *manifest_suite(void);
Suite *staging_suite(void);
Suite *archive_suite(void);
Suite *upload_suite(void);
Suite *backup_suite(void);
Suite *net_suite(void);
Suite *promtext_suite(void);
Suite *log_suite(void);

/* NULL-terminated copy of envp[] in arena memory, as FastCGI hands it over
 * (mutable strings).  The list must end with NULL. */
char **test_env(ob_arena *a, const char *const *vars);

/* Files on disk (staging, archives): entries in a folder (without . and
 * ..; -1 when it cannot be read), a file's first MiB NUL-terminated in the
 * arena (NULL when it cannot be opened; *len may be NULL), the permission
 * bits of a path (which must exist). */
int test_count_entries(const char *dir);
char *test_slurp(ob_arena *a, const char *path, size_t *len);
mode_t test_mode(const char *path);

#endif
