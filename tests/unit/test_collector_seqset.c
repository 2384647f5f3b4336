/* test_collector_seqset - the ack algorithm: in-order delivery, gaps that
 * hold the ack, out-of-order fill, declared losses, merging, a state
 * message moving the ack up, and a randomised check against a bitmap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "collector.h"

static void in_order(void **state)
{
    (void)state;
    struct seqset s = {0};
    int64_t ack = 100;
    for (int64_t q = 101; q <= 110; q++) {
        assert_int_equal(seqset__add(&s, q, q), OT_OK);
        assert_int_equal(seqset__advance(&s, &ack), 1);
        assert_int_equal(ack, q);
        assert_int_equal(s.n, 0);
    }
    seqset__free(&s);
}

static void gap_holds_ack(void **state)
{
    (void)state;
    struct seqset s = {0};
    int64_t ack = 0;
    seqset__add(&s, 1, 1);
    seqset__add(&s, 4, 4);
    seqset__add(&s, 6, 6);
    seqset__advance(&s, &ack);
    assert_int_equal(ack, 1);
    assert_int_equal(s.n, 2);
    seqset__add(&s, 3, 3); /* touches 4: merged */
    assert_int_equal(s.n, 2);
    assert_int_equal(s.r[0].from, 3);
    assert_int_equal(s.r[0].to, 4);
    assert_int_equal(seqset__advance(&s, &ack), 0);
    assert_int_equal(ack, 1);
    seqset__add(&s, 5, 5); /* bridges 3-4 and 6 */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.r[0].to, 6);
    seqset__add(&s, 2, 2);
    assert_int_equal(seqset__advance(&s, &ack), 1);
    assert_int_equal(ack, 6);
    assert_int_equal(s.n, 0);
    seqset__free(&s);
}

static void lost_and_overlap(void **state)
{
    (void)state;
    struct seqset s = {0};
    int64_t ack = 10;
    seqset__add(&s, 20, 30); /* declared lost */
    seqset__add(&s, 25, 40); /* overlapping */
    seqset__add(&s, 12, 12);
    assert_int_equal(s.n, 2);
    seqset__add(&s, 11, 19);
    seqset__advance(&s, &ack);
    assert_int_equal(ack, 40);
    assert_int_equal(s.n, 0);
    assert_int_equal(seqset__add(&s, 5, 4), OT_ERR_INVAL);
    seqset__free(&s);
}

static void drop_upto(void **state)
{
    (void)state;
    struct seqset s = {0};
    int64_t ack = 0;
    seqset__add(&s, 5, 7);
    seqset__add(&s, 10, 20);
    seqset__add(&s, 30, 30);
    ack = 15; /* a state message says the gateway holds nothing <= 15 */
    seqset__drop_upto(&s, ack);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.r[0].from, 16);
    seqset__advance(&s, &ack);
    assert_int_equal(ack, 20);
    assert_int_equal(s.n, 1);
    seqset__free(&s);
}

/* random arrival order against a bitmap: ack is always the highest seq
 * with every seq <= it delivered */
static void randomised(void **state)
{
    (void)state;
    enum { N = 2000 };
    static unsigned char seen[N + 2];
    int64_t order[N];
    for (int round = 0; round < 20; round++) {
        struct seqset s = {0};
        int64_t ack = 0;
        memset(seen, 0, sizeof seen);
        srand((unsigned)round + 1);
        for (int i = 0; i < N; i++)
            order[i] = i + 1;
        for (int i = N - 1; i > 0; i--) { /* partial shuffle: local disorder */
            int j = i - rand() % (round + 2);
            if (j < 0)
                j = 0;
            int64_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < N; i++) {
            int64_t q = order[i];
            int64_t to = q;
            if (rand() % 50 == 0) /* sometimes a lost range */
                to = q + rand() % 5 > N ? N : q + rand() % 5;
            for (int64_t x = q; x <= to; x++)
                seen[x] = 1;
            assert_int_equal(seqset__add(&s, q, to), OT_OK);
            seqset__advance(&s, &ack);
            int64_t want = 0;
            while (want + 1 <= N && seen[want + 1])
                want++;
            assert_int_equal(ack, want);
            for (size_t k = 0; k + 1 < s.n; k++)
                assert_true(s.r[k].to + 1 < s.r[k + 1].from); /* canonical */
        }
        assert_int_equal(ack, N);
        seqset__free(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order),         cmocka_unit_test(gap_holds_ack),
        cmocka_unit_test(lost_and_overlap), cmocka_unit_test(drop_upto),
        cmocka_unit_test(randomised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
