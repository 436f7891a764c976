/* test_log.c - the log formats: text and json lines, the request id on
 * every line of a request, control characters, the access line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "openbook/core/log.h"
#include "tests.h"

static int saved_stderr = -1;
static FILE *capture;

/* Everything written to fd 2 goes into a temporary file until taken. */
static void setup(void)
{
    fflush(stderr);
    capture = tmpfile();
    ck_assert_ptr_nonnull(capture);
    saved_stderr = dup(2);
    dup2(fileno(capture), 2);
    ob_log_configure("info", "text");
}

static void teardown(void)
{
    dup2(saved_stderr, 2);
    close(saved_stderr);
    fclose(capture);
    ob_log_configure("info", "text");
    ob_log_set_request_id(NULL);
}

/* The lines written so far (one string, NUL-terminated, static). */
static const char *taken(void)
{
    static char buf[16384];
    long end = lseek(2, 0, SEEK_CUR);
    size_t n = pread(2, buf, sizeof buf - 1, 0);
    ck_assert_int_eq((long)n, end);
    buf[n] = '\0';
    return buf;
}

static cJSON *json_line(const char *line, size_t len)
{
    cJSON *v = cJSON_ParseWithLength(line, len);
    ck_assert_msg(cJSON_IsObject(v), "not a JSON object: %.*s", (int)len, line);
    return v;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

START_TEST(test_text_lines)
{
    ob_info("plain %d", 1);
    ob_log_set_request_id("abc-123");
    ob_warn("forged\nline\r\x01" "end");
    ob_log_set_request_id(NULL);
    ob_debug("not shown at info");
    const char *t = taken();
    char pid[32];
    snprintf(pid, sizeof pid, " info [%d] plain 1\n", (int)getpid());
    ck_assert_msg(strstr(t, pid) != NULL, "%s", t);
    snprintf(pid, sizeof pid, " warning [%d] req=abc-123 ", (int)getpid());
    ck_assert_msg(strstr(t, pid) != NULL, "%s", t);
    /* Control characters never start a line of their own. */
    ck_assert_msg(strstr(t, "forged line  end\n") != NULL, "%s", t);
    ck_assert_ptr_null(strstr(t, "not shown"));
    size_t lines = 0;
    for (const char *p = t; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 2);
}
END_TEST

START_TEST(test_json_lines)
{
    ob_log_configure("debug", "json");
    ob_info("quote \" backslash \\ newline \n tab \t bell \x07 utf8 \xc3\xa4 bad \xff");
    ob_log_set_request_id("9f86d081884c7d659a2feaa0c55ad015");
    ob_error("in a request");
    ob_log_access(&(ob_access_entry){.method = "GET", .uri = "/api/x/?q=\"1\"",
                                     .route = "/api/x/", .status = 404, .bytes = 23,
                                     .duration_us = 1234567, .cached = true});
    ob_log_set_request_id(NULL);
    ob_log_access(&(ob_access_entry){.status = 400, .duration_us = 5});
    const char *t = taken();
    const char *line = t;
    cJSON *v[4];
    for (int i = 0; i < 4; i++) {
        const char *nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl);
        v[i] = json_line(line, (size_t)(nl - line));
        line = nl + 1;
    }
    ck_assert_str_eq(line, "");
    ck_assert_str_eq(str(v[0], "level"), "info");
    ck_assert_str_eq(str(v[0], "msg"), "quote \" backslash \\ newline \n tab \t bell \x07 utf8 "
                                       "\xc3\xa4 bad \xef\xbf\xbd");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(v[0], "request_id"));
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(v[0], "pid")->valuedouble, getpid());
    ck_assert_int_eq(strlen(str(v[0], "time")), 24);
    ck_assert_str_eq(str(v[1], "level"), "error");
    ck_assert_str_eq(str(v[1], "request_id"), "9f86d081884c7d659a2feaa0c55ad015");
    ck_assert_str_eq(str(v[2], "type"), "access");
    ck_assert_str_eq(str(v[2], "request_id"), "9f86d081884c7d659a2feaa0c55ad015");
    ck_assert_str_eq(str(v[2], "uri"), "/api/x/?q=\"1\"");
    ck_assert_str_eq(str(v[2], "route"), "/api/x/");
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(v[2], "status")->valuedouble, 404);
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(v[2], "bytes")->valuedouble, 23);
    ck_assert_double_eq_tol(cJSON_GetObjectItemCaseSensitive(v[2], "duration_ms")->valuedouble,
                            1234.567, 1e-9);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v[2], "cached")));
    /* Nothing known: "-" for method and URI, null for the route. */
    ck_assert_str_eq(str(v[3], "method"), "-");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(v[3], "route")));
    ck_assert_double_eq_tol(cJSON_GetObjectItemCaseSensitive(v[3], "duration_ms")->valuedouble,
                            0.005, 1e-9);
    for (int i = 0; i < 4; i++)
        cJSON_Delete(v[i]);
}
END_TEST

START_TEST(test_access_text_format)
{
    ob_log_access(&(ob_access_entry){.method = "GET", .uri = "/api/", .status = 200,
                                     .bytes = 17, .duration_us = 1502, .cached = true});
    ob_log_configure("warning", "text");
    ob_log_access(&(ob_access_entry){.method = "GET", .uri = "/hidden/", .status = 200});
    const char *t = taken();
    ck_assert_msg(strstr(t, "] GET /api/ 200 17 1.502ms cached\n") != NULL, "%s", t);
    ck_assert_ptr_null(strstr(t, "hidden"));
}
END_TEST

START_TEST(test_formats_parse)
{
    ck_assert_int_eq(ob_log_format_parse("text"), OB_LOG_TEXT);
    ck_assert_int_eq(ob_log_format_parse("JSON"), OB_LOG_JSON);
    ck_assert_int_eq(ob_log_format_parse("xml"), -1);
    ck_assert_int_eq(ob_log_format_parse(""), -1);
}
END_TEST

Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("formats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_text_lines);
    tcase_add_test(tc, test_json_lines);
    tcase_add_test(tc, test_access_text_format);
    tcase_add_test(tc, test_formats_parse);
    suite_add_tcase(s, tc);
    return s;
}
