/* test_main.c - runs every unit-test suite (see tests.h).
 *
 * `make unit` runs this with CK_FORK=no under ASan+UBSan, so a failing
 * test, a sanitizer report or a leak all make the run fail. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "openbook/core/alloc.h"
#include "openbook/core/arena.h"
#include "tests.h"

char **test_env(ob_arena *a, const char *const *vars)
{
    size_t n = 0;
    while (vars[n])
        n++;
    char **env = ob_arena_calloc(a, n + 1, sizeof *env);
    for (size_t i = 0; i < n; i++)
        env[i] = ob_arena_strdup(a, vars[i]);
    env[n] = NULL;
    return env;
}

int test_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

char *test_slurp(ob_arena *a, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20;
    char *buf = ob_arena_alloc(a, cap + 1);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

mode_t test_mode(const char *path)
{
    struct stat st;
    ck_assert_msg(lstat(path, &st) == 0, "%s is missing", path);
    return st.st_mode & 07777;
}

int main(void)
{
    ob_alloc_init();
    SRunner *sr = srunner_create(arena_suite());
    srunner_add_suite(sr, buf_suite());
    srunner_add_suite(sr, json_suite());
    srunner_add_suite(sr, parse_suite());
    srunner_add_suite(sr, config_suite());
    srunner_add_suite(sr, router_suite());
    srunner_add_suite(sr, request_suite());
    srunner_add_suite(sr, response_suite());
    srunner_add_suite(sr, mail_suite());
    srunner_add_suite(sr, resource_suite());
    srunner_add_suite(sr, fields_suite());
    srunner_add_suite(sr, schema_suite());
    srunner_add_suite(sr, password_suite());
    srunner_add_suite(sr, auth_input_suite());
    srunner_add_suite(sr, ticket_suite());
    srunner_add_suite(sr, ws_handshake_suite());
    srunner_add_suite(sr, ws_events_suite());
    srunner_add_suite(sr, ws_ticket_api_suite());
    srunner_add_suite(sr, cache_suite());
    srunner_add_suite(sr, query_suite());
    srunner_add_suite(sr, perm_suite());
    srunner_add_suite(sr, wfield_suite());
    srunner_add_suite(sr, multipart_suite());
    srunner_add_suite(sr, semver_suite());
    srunner_add_suite(sr, manifest_suite());
    srunner_add_suite(sr, staging_suite());
    srunner_add_suite(sr, archive_suite());
    srunner_add_suite(sr, upload_suite());
    srunner_add_suite(sr, backup_suite());
    srunner_add_suite(sr, net_suite());
    srunner_add_suite(sr, promtext_suite());
    srunner_add_suite(sr, log_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
