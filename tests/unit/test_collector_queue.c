/* test_collector_queue - the bounded queue between Paho's thread and the
 * worker: FIFO order, count and byte bounds, oversized payload cut,
 * timeout when full, a producer thread against a consumer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"

static void fifo_and_bounds(void **state)
{
    (void)state;
    struct queue *q = queue__new(3, 1024 * 1024);
    struct queue_msg out[8];
    assert_non_null(q);
    assert_int_equal(queue__push(q, "t/1", "a", 1, 0), OT_OK);
    assert_int_equal(queue__push(q, "t/2", "bb", 2, 0), OT_OK);
    assert_int_equal(queue__push(q, "t/3", "", 0, 0), OT_OK);
    assert_int_equal(queue__push(q, "t/4", "x", 1, 20), OT_ERR_FULL);
    assert_int_equal(queue__length(q), 3);
    size_t n = queue__pop(q, out, 2, 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].topic, "t/1");
    assert_string_equal(out[0].payload, "a");
    assert_string_equal(out[1].topic, "t/2");
    assert_int_equal(out[1].len, 2);
    queue__msg_free(&out[0]);
    queue__msg_free(&out[1]);
    n = queue__pop(q, out, 8, 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].len, 0);
    queue__msg_free(&out[0]);
    assert_int_equal(queue__pop(q, out, 8, 10), 0);
    queue__free(q);
}

static void byte_bound_and_cut(void **state)
{
    (void)state;
    size_t big = OT_BATCH_MAX_BYTES * 2;
    char *p = malloc(big);
    assert_non_null(p);
    memset(p, 'x', big);
    struct queue *q = queue__new(100, OT_BATCH_MAX_BYTES + 16);
    struct queue_msg out[4];
    /* the first message always fits, cut to cap+1 bytes, length kept */
    assert_int_equal(queue__push(q, "t", p, big, 0), OT_OK);
    /* the second would exceed the byte bound */
    assert_int_equal(queue__push(q, "t", p, 100, 10), OT_ERR_FULL);
    assert_int_equal(queue__pop(q, out, 4, 0), 1);
    assert_int_equal(out[0].len, big);
    assert_int_equal(strlen(out[0].payload), OT_BATCH_MAX_BYTES + 1);
    queue__msg_free(&out[0]);
    assert_int_equal(queue__push(q, "t", p, 100, 0), OT_OK);
    queue__free(q); /* frees what is still queued */
    free(p);
}

static void *producer(void *arg)
{
    struct queue *q = arg;
    for (int i = 0; i < 5000; i++) {
        char b[16];
        int n = snprintf(b, sizeof b, "%d", i);
        while (queue__push(q, "t", b, (size_t)n, 100) != OT_OK) {
        }
    }
    return NULL;
}

static void threads(void **state)
{
    (void)state;
    struct queue *q = queue__new(16, 1024 * 1024);
    struct queue_msg out[7];
    pthread_t th;
    int next = 0;
    assert_int_equal(pthread_create(&th, NULL, producer, q), 0);
    while (next < 5000) {
        size_t n = queue__pop(q, out, 7, 1000);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(atoi(out[i].payload), next);
            next++;
            queue__msg_free(&out[i]);
        }
    }
    pthread_join(th, NULL);
    queue__free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifo_and_bounds),
        cmocka_unit_test(byte_bound_and_cut),
        cmocka_unit_test(threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
