/* test_buf.c - ob_buf on the heap and on an arena. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "openbook/core/arena.h"
#include "openbook/core/buf.h"
#include "tests.h"

static ob_arena A;

static void setup(void)
{
    ob_arena_init(&A, 1024);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

/* Runs the same checks on a heap and an arena buffer. */
static void check_basic(ob_arena *arena)
{
    ob_buf b;
    ob_buf_init(&b, arena);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(ob_buf_cstr(&b), "");
    ob_buf_puts(&b, "hello");
    ob_buf_putc(&b, ' ');
    ob_buf_append(&b, "world!!", 5);
    ck_assert_uint_eq(b.len, 11);
    ck_assert_str_eq(b.data, "hello world");
    ob_buf_printf(&b, " %d/%s", 42, "x");
    ck_assert_str_eq(ob_buf_cstr(&b), "hello world 42/x");
    ck_assert_uint_eq(b.len, strlen("hello world 42/x"));
    ck_assert_uint_gt(b.cap, b.len);
    ob_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(ob_buf_cstr(&b), "");
    ob_buf_puts(&b, "again");
    ck_assert_str_eq(b.data, "again");
    ob_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
}

START_TEST(test_heap_basic)
{
    check_basic(NULL);
}
END_TEST

START_TEST(test_arena_basic)
{
    check_basic(&A);
}
END_TEST

static void check_growth(ob_arena *arena)
{
    ob_buf b;
    ob_buf_init(&b, arena);
    /* Many appends across several doublings keep every byte. */
    for (int i = 0; i < 10000; i++)
        ob_buf_putc(&b, (char)('a' + i % 26));
    ck_assert_uint_eq(b.len, 10000);
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(b.data[i], 'a' + i % 26);
    ck_assert_int_eq(b.data[b.len], '\0');
    /* One large append. */
    static char big[100000];
    memset(big, 'z', sizeof big);
    ob_buf_append(&b, big, sizeof big);
    ck_assert_uint_eq(b.len, 110000);
    ck_assert_int_eq(b.data[109999], 'z');
    ck_assert_int_eq(b.data[110000], '\0');
    ck_assert_int_eq(b.data[9999], 'a' + 9999 % 26);
    /* A large printf. */
    ob_buf_printf(&b, "%5000s", "end");
    ck_assert_uint_eq(b.len, 115000);
    ck_assert_str_eq(b.data + b.len - 3, "end");
    ob_buf_free(&b);
}

START_TEST(test_heap_growth)
{
    check_growth(NULL);
}
END_TEST

START_TEST(test_arena_growth)
{
    check_growth(&A);
}
END_TEST

START_TEST(test_binary_and_empty_appends)
{
    ob_buf b;
    ob_buf_init(&b, &A);
    ob_buf_append(&b, "a\0b", 3);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_mem_eq(b.data, "a\0b", 3);
    ck_assert_int_eq(b.data[3], '\0');
    ob_buf_append(&b, NULL, 0);
    ck_assert_uint_eq(b.len, 3);
    ob_buf_printf(&b, "%s", ""); /* nothing to add */
    ck_assert_uint_eq(b.len, 3);
    ob_buf_puts(&b, "");
    ck_assert_uint_eq(b.len, 3);
}
END_TEST

START_TEST(test_reserve_gives_room)
{
    ob_buf b;
    ob_buf_init(&b, NULL);
    ob_buf_reserve(&b, 1000);
    ck_assert_ptr_nonnull(b.data);
    /* Room for 1000 bytes plus the terminator. */
    ck_assert_uint_gt(b.cap - b.len, 1000);
    size_t cap = b.cap;
    char *data = b.data;
    memset(b.data, 'q', 1000);
    b.len = 1000;
    b.data[b.len] = '\0';
    ck_assert_uint_eq(b.cap, cap);
    ck_assert_ptr_eq(b.data, data);
    ob_buf_free(&b);
}
END_TEST

START_TEST(test_cstr_on_fresh_buffer)
{
    ob_buf b;
    ob_buf_init(&b, NULL);
    const char *s = ob_buf_cstr(&b);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "");
    ob_buf_free(&b);
    /* Freeing an untouched buffer is fine too. */
    ob_buf_init(&b, NULL);
    ob_buf_free(&b);
}
END_TEST

/* put_int as "%lld"; printf that overflows the spare room is formatted
 * again after growing (it is first tried in place). */
START_TEST(test_put_int_and_printf_in_place)
{
    const long long v[] = {0, 7, -7, 1234567890123LL, LLONG_MAX, LLONG_MIN};
    char want[32];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        ob_buf b;
        ob_buf_init(&b, &A);
        ob_buf_puts(&b, "x");
        ob_buf_put_int(&b, v[i]);
        snprintf(want, sizeof want, "x%lld", v[i]);
        ck_assert_str_eq(b.data, want);
        ck_assert_uint_eq(b.len, strlen(want));
    }
    for (int heap = 0; heap < 2; heap++) {
        ob_buf b;
        ob_buf_init(&b, heap ? NULL : &A);
        ob_buf_puts(&b, "ab");
        char big[600];
        memset(big, 'z', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        ob_buf_printf(&b, "[%s]", big); /* more than the 256 bytes first reserved */
        ck_assert_uint_eq(b.len, 2 + 2 + sizeof big - 1);
        ck_assert_int_eq(b.data[2], '[');
        ck_assert_int_eq(b.data[b.len - 1], ']');
        ck_assert_int_eq(b.data[b.len], '\0');
        ob_buf_printf(&b, "%d", 5); /* fits in place */
        ck_assert_int_eq(b.data[b.len - 1], '5');
        ck_assert_int_eq(b.data[b.len], '\0');
        ck_assert_uint_eq(strlen(b.data), b.len);
        if (heap)
            ob_buf_free(&b);
    }
    char *p = ob_arena_printf(&A, "%s-%d", "short", 1);
    ck_assert_str_eq(p, "short-1");
    char big[300];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    p = ob_arena_printf(&A, "<%s>", big); /* longer than the stack buffer */
    ck_assert_uint_eq(strlen(p), sizeof big + 1);
    ck_assert_int_eq(p[0], '<');
    ck_assert_int_eq(p[sizeof big], '>');
}
END_TEST

Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_heap_basic);
    tcase_add_test(tc, test_arena_basic);
    tcase_add_test(tc, test_heap_growth);
    tcase_add_test(tc, test_arena_growth);
    tcase_add_test(tc, test_binary_and_empty_appends);
    tcase_add_test(tc, test_reserve_gives_room);
    tcase_add_test(tc, test_cstr_on_fresh_buffer);
    tcase_add_test(tc, test_put_int_and_printf_in_place);
    suite_add_tcase(s, tc);
    return s;
}
