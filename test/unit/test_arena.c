/* test_arena.c - ob_arena: alignment, growth, reset, defers. */
#include <stdint.h>
#include <string.h>
#include "openbook/core/arena.h"
#include "tests.h"

static ob_arena A;

static void setup(void)
{
    ob_arena_init(&A, 4096);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

START_TEST(test_init_minimum_block)
{
    ob_arena a;
    ob_arena_init(&a, 10);
    ck_assert_uint_eq(a.block_size, 1024);
    ck_assert_ptr_nonnull(a.head);
    ck_assert_uint_eq(a.total, 0);
    ob_arena_destroy(&a);
    ck_assert_ptr_null(a.head);

    ob_arena_init(&a, 65536);
    ck_assert_uint_eq(a.block_size, 65536);
    ob_arena_destroy(&a);
}
END_TEST

START_TEST(test_alloc_aligned_and_disjoint)
{
    static const size_t sizes[] = {0, 1, 3, 15, 16, 17, 31, 100, 1000, 5000, 7, 1};
    unsigned char *prev = NULL;
    size_t prev_n = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        unsigned char *p = ob_arena_alloc(&A, sizes[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % 16, 0);
        memset(p, 0xab, sizes[i]); /* ASan catches an undersized block */
        if (prev && prev_n)
            ck_assert_msg(prev[prev_n - 1] == 0xab, "allocation %zu overwrote the previous one", i);
        prev = p;
        prev_n = sizes[i];
    }
}
END_TEST

START_TEST(test_total_counts_rounded_bytes)
{
    ob_arena_alloc(&A, 1);
    ck_assert_uint_eq(A.total, 16);
    ob_arena_alloc(&A, 17);
    ck_assert_uint_eq(A.total, 48);
    ob_arena_alloc(&A, 32);
    ck_assert_uint_eq(A.total, 80);
}
END_TEST

START_TEST(test_large_allocation_gets_own_block)
{
    size_t big = 1u << 20;
    char *p = ob_arena_alloc(&A, big);
    memset(p, 'x', big);
    ck_assert_int_eq(p[0], 'x');
    ck_assert_int_eq(p[big - 1], 'x');
    /* Small allocations keep working after it. */
    char *q = ob_arena_strdup(&A, "after");
    ck_assert_str_eq(q, "after");
    ck_assert_uint_ge(A.total, big);
}
END_TEST

START_TEST(test_many_small_allocations_survive_growth)
{
    enum { N = 5000 };
    int *ptrs[N];
    for (int i = 0; i < N; i++) {
        ptrs[i] = ob_arena_alloc(&A, sizeof(int) * 3);
        ptrs[i][0] = i;
        ptrs[i][2] = -i;
    }
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(ptrs[i][0], i);
        ck_assert_int_eq(ptrs[i][2], -i);
    }
}
END_TEST

START_TEST(test_calloc_zeroes)
{
    /* Dirty the block first so zeroing is observable after a reset. */
    unsigned char *d = ob_arena_alloc(&A, 256);
    memset(d, 0xff, 256);
    ob_arena_reset(&A);
    unsigned char *z = ob_arena_calloc(&A, 16, 16);
    for (size_t i = 0; i < 256; i++)
        ck_assert_uint_eq(z[i], 0);
    unsigned char *e = ob_arena_calloc(&A, 0, 8);
    ck_assert_ptr_nonnull(e);
}
END_TEST

START_TEST(test_strdup_strndup_printf)
{
    ck_assert_str_eq(ob_arena_strdup(&A, ""), "");
    ck_assert_str_eq(ob_arena_strdup(&A, "hello"), "hello");
    /* strndup takes n bytes and need not see a NUL. */
    const char raw[4] = {'a', 'b', 'c', 'd'};
    char *s = ob_arena_strndup(&A, raw, 3);
    ck_assert_str_eq(s, "abc");
    /* Embedded NUL is copied, terminator added. */
    char *e = ob_arena_strndup(&A, "x\0y", 3);
    ck_assert_int_eq(e[1], '\0');
    ck_assert_int_eq(e[2], 'y');
    ck_assert_int_eq(e[3], '\0');
    ck_assert_str_eq(ob_arena_printf(&A, "%s-%d-%05.1f", "a", 42, 3.14159), "a-42-003.1");
    ck_assert_str_eq(ob_arena_printf(&A, "%s", ""), "");
    /* A long formatted string spans more than the first block. */
    char *longs = ob_arena_printf(&A, "%8000d|", 7);
    ck_assert_uint_eq(strlen(longs), 8001);
    ck_assert_int_eq(longs[7999], '7');
    ck_assert_int_eq(longs[8000], '|');
}
END_TEST

START_TEST(test_reset_rewinds_and_reuses_first_block)
{
    char *first = ob_arena_alloc(&A, 64);
    ob_arena_alloc(&A, 100000); /* forces a second block */
    ob_arena_reset(&A);
    ck_assert_uint_eq(A.total, 0);
    ck_assert_ptr_nonnull(A.head);
    /* The retained block is the oldest, rewound: the next allocation
     * lands where the first one did. */
    char *again = ob_arena_alloc(&A, 64);
    ck_assert_ptr_eq(again, first);
}
END_TEST

static int order_log[8];
static int order_n;

static void record(void *arg)
{
    if (order_n < 8)
        order_log[order_n++] = *(int *)arg;
}

START_TEST(test_defer_runs_latest_first_on_reset)
{
    static int one = 1, two = 2, three = 3;
    order_n = 0;
    ob_arena_defer(&A, record, &one);
    ob_arena_alloc(&A, 200000); /* next item is allocated in a newer block */
    ob_arena_defer(&A, record, &two);
    ob_arena_defer(&A, record, &three);
    ck_assert_int_eq(order_n, 0);
    ob_arena_reset(&A);
    ck_assert_int_eq(order_n, 3);
    ck_assert_int_eq(order_log[0], 3);
    ck_assert_int_eq(order_log[1], 2);
    ck_assert_int_eq(order_log[2], 1);
    /* A second reset does not run them again. */
    ob_arena_reset(&A);
    ck_assert_int_eq(order_n, 3);
}
END_TEST

START_TEST(test_defer_runs_on_destroy)
{
    static int v = 7;
    ob_arena a;
    ob_arena_init(&a, 0);
    order_n = 0;
    ob_arena_defer(&a, record, &v);
    ob_arena_destroy(&a);
    ck_assert_int_eq(order_n, 1);
    ck_assert_int_eq(order_log[0], 7);
}
END_TEST

START_TEST(test_arena_usable_after_reset_cycles)
{
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 100; i++) {
            char *p = ob_arena_printf(&A, "round %d item %d", round, i);
            ck_assert_ptr_nonnull(p);
        }
        ob_arena_alloc(&A, (size_t)round * 1000);
        ob_arena_reset(&A);
        ck_assert_uint_eq(A.total, 0);
    }
}
END_TEST

Suite *arena_suite(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("arena");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_init_minimum_block);
    tcase_add_test(tc, test_alloc_aligned_and_disjoint);
    tcase_add_test(tc, test_total_counts_rounded_bytes);
    tcase_add_test(tc, test_large_allocation_gets_own_block);
    tcase_add_test(tc, test_many_small_allocations_survive_growth);
    tcase_add_test(tc, test_calloc_zeroes);
    tcase_add_test(tc, test_strdup_strndup_printf);
    tcase_add_test(tc, test_reset_rewinds_and_reuses_first_block);
    tcase_add_test(tc, test_defer_runs_latest_first_on_reset);
    tcase_add_test(tc, test_defer_runs_on_destroy);
    tcase_add_test(tc, test_arena_usable_after_reset_cycles);
    suite_add_tcase(s, tc);
    return s;
}
